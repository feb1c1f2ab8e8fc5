package formats

import (
	"bytes"
	"os"
	"testing"
)

// fuzzImport runs one importer on arbitrary bytes, strictly and leniently. Nothing may
// panic; whatever imports must be a valid dataset that every exporter accepts, and
// Prefer's JSON lines must give it back exactly.
func fuzzImport(t *testing.T, format string, data []byte) {
	opt := Options{MaxRecord: 1 << 20}
	for _, lenient := range []bool{false, true} {
		opt.Lenient = lenient
		d, rep, err := Import(format, bytes.NewReader(data), opt)
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
	addFixtures(f, "trl-standard.jsonl", "trl-implicit.json", "trl-conversational.jsonl", "trl-kto.jsonl")
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
	addFixtures(f, "labelstudio.json")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "labelstudio", data) })
}

func FuzzSummarize(f *testing.F) {
	addFixtures(f, "summarize-comparisons.jsonl", "summarize-axis.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, "summarize", data) })
}
