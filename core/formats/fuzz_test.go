package formats

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"runtime/metrics"
	"testing"
)

// fuzzImport runs one importer on arbitrary bytes, strictly and leniently. Nothing may
// panic; whatever imports must be a valid dataset that every exporter accepts, and
// Prefer's JSON lines must give it back exactly.
func fuzzImport(t *testing.T, format string, data []byte) {
	opt := Options{MaxRecord: 1 << 20}
	plain := plainSize(data)
	for _, lenient := range []bool{false, true} {
		opt.Lenient = lenient
		var d *Dataset
		var rep *Report
		var err error
		// The import's memory bound: at most ImportBudgetFactor × the
		// decompressed input plus ImportBudgetSlack (its read buffers) is allocated,
		// a bound on the peak heap. The count is process-wide, so an excess is
		// measured again (the fuzzing engine allocates now and then).
		run := func() { d, rep, err = Import(format, bytes.NewReader(data), opt) }
		got := allocatedBytes(run)
		limit := uint64(importBudgetFactor*plain + importBudgetSlack)
		for try := 0; try < 2 && got > limit; try++ {
			got = min(got, allocatedBytes(run))
		}
		if got > limit {
			t.Fatalf("importing %d bytes (%d decompressed) allocated %d (%.1f×), more than %d×+%d",
				len(data), plain, got, float64(got)/float64(max(plain, 1)), importBudgetFactor, importBudgetSlack)
		}
		if err != nil {
			if d != nil || rep != nil {
				t.Fatalf("error %v with a result", err)
			}
			continue
		}
		if rep.Judgments != len(d.Judgments) || rep.Skipped > rep.Records {
			t.Fatalf("report %+v does not match %d judgments", rep, len(d.Judgments))
		}
		checkValid(t, d)
		sameAsCompact(t, format, data, opt, d, rep)
		for _, f := range Exporters {
			if f == "safetensors" {
				continue
			}
			if _, err := Export(f, &bytes.Buffer{}, d); err != nil {
				t.Fatalf("export %s of an imported dataset: %v", f, err)
			}
		}
		var buf bytes.Buffer
		if _, err := WriteJSONL(&buf, d); err != nil {
			t.Fatal(err)
		}
		back, _, err := ReadJSONL(&buf, Options{})
		if err != nil {
			t.Fatalf("re-import of the jsonl export: %v\n%s", err, buf.String())
		}
		sameDataset(t, d, back)
	}
}

// The importers' memory bound checked by the fuzz targets and
// TestImportCostOfShortRecords: k = 128 allocated bytes (an upper bound of the
// peak heap) per decompressed input byte, plus 1 MiB of fixed buffers. The real
// HH-RLHF test split takes 5× (3.3 MB of JSON lines); short distinct records take
// the most: ~3.6–4.1 KB allocated per judgment, 78× a 46-byte TRL line (measured
// before the per-record memory work, which should let k come down).
const (
	importBudgetFactor = 128
	importBudgetSlack  = 1 << 20
)

// plainSize is the size of data once gunzipped (data's own size if it is not gzip,
// or if it is corrupt: what was decompressed before the error).
func plainSize(data []byte) int {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return len(data)
	}
	zr.Multistream(true)
	n, _ := io.Copy(io.Discard, zr)
	return max(int(n), len(data))
}

// allocatedBytes is the heap bytes allocated while fn runs (runtime/metrics).
func allocatedBytes(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	fn()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

// addFixtures seeds f with the named fixture files.
func addFixtures(f *testing.F, names ...string) {
	for _, n := range names {
		data, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzJSONL(f *testing.F) {
	addFixtures(f, "prefer.jsonl")
	f.Add([]byte(`{"kind":"item","item":"q","prompt":"p","responses":["a",{"text":"b","source":"reference","gold":1.5,"parts":["x"],"ref_prob":0.5}],"tags":["t"],"gold_best":"b"}` + "\n" +
		`{"kind":"rewrite","item":"q","response":"a","text":"c"}`))
	f.Add([]byte(`{"kind":"flag","id":"f","prompt":"p","response":"a","category":"private"}` + "\n" + `{"kind":"review","target":"f","verdict":"reject"}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "jsonl", data) })
}

func FuzzTRL(f *testing.F) {
	addFixtures(f, "trl-standard.jsonl", "trl-implicit.json", "trl-conversational.jsonl", "trl-kto.jsonl",
		"ultrafeedback-binarized.jsonl", "trl-parts.jsonl")
	f.Add([]byte(`[{"chosen":"a b","rejected":"a c"}, {"prompt":"p","completion":"x","label":false}]`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "trl", data) })
}

func FuzzHH(f *testing.F) {
	f.Add([]byte(`{"chosen": "\n\nHuman: hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: hi\n\nAssistant: Go away."}`))
	f.Add([]byte(`{"chosen": "\n\nHuman: q\n\nAssistant: ", "rejected": "\n\nHuman: q\n\nAssistant: no"}` + "\n" +
		`{"chosen": "\n\nHuman: q\n\nAssistant: x\n\nAssistant: y", "rejected": "\n\nHuman: q\n\nAssistant: z"}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "hh-rlhf", data) })
}

func FuzzLabelStudio(f *testing.F) {
	addFixtures(f, "labelstudio.json", "labelstudio-pairwise.json", "labelstudio-min.json")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "labelstudio", data) })
}

func FuzzSummarize(f *testing.F) {
	addFixtures(f, "summarize-comparisons.jsonl", "summarize-axis.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "summarize", data) })
}

func FuzzSHP(f *testing.F) {
	addFixtures(f, "shp.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "shp", data) })
}

// FuzzAuto: format detection on arbitrary bytes, then the importer it picks.
func FuzzAuto(f *testing.F) {
	addFixtures(f, "prefer.jsonl", "trl-standard.jsonl", "labelstudio-min.json", "shp.jsonl", "summarize-axis.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "auto", data) })
}
