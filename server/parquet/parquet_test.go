package parquet

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"prefer/core/formats"
)

var update = flag.Bool("update", false, "rewrite the Parquet fixtures in testdata from their JSON-lines twins")

// The Hub's column layouts of the fixtures (the dataset cards' "dataset_info":
// HuggingFaceH4/ultrafeedback_binarized, stanfordnlp/SHP, Anthropic/hh-rlhf; TRL's
// standard and KTO layouts), as parquet-go row types.
type ufRow struct {
	Prompt        string    `parquet:"prompt" json:"prompt"`
	PromptID      string    `parquet:"prompt_id" json:"prompt_id"`
	Chosen        []Message `parquet:"chosen,list" json:"chosen"`
	Rejected      []Message `parquet:"rejected,list" json:"rejected"`
	Messages      []Message `parquet:"messages,list" json:"messages"`
	ScoreChosen   float64   `parquet:"score_chosen" json:"score_chosen"`
	ScoreRejected float64   `parquet:"score_rejected" json:"score_rejected"`
}

type shpRow struct {
	PostID            string  `parquet:"post_id" json:"post_id"`
	Domain            string  `parquet:"domain" json:"domain"`
	UpvoteRatio       float64 `parquet:"upvote_ratio" json:"upvote_ratio"`
	History           string  `parquet:"history" json:"history"`
	CRootIDA          string  `parquet:"c_root_id_A" json:"c_root_id_A"`
	CRootIDB          string  `parquet:"c_root_id_B" json:"c_root_id_B"`
	CreatedAtUTCA     int64   `parquet:"created_at_utc_A" json:"created_at_utc_A"`
	CreatedAtUTCB     int64   `parquet:"created_at_utc_B" json:"created_at_utc_B"`
	ScoreA            int64   `parquet:"score_A" json:"score_A"`
	ScoreB            int64   `parquet:"score_B" json:"score_B"`
	HumanRefA         string  `parquet:"human_ref_A" json:"human_ref_A"`
	HumanRefB         string  `parquet:"human_ref_B" json:"human_ref_B"`
	Labels            int64   `parquet:"labels" json:"labels"`
	SecondsDifference float64 `parquet:"seconds_difference" json:"seconds_difference"`
	ScoreRatio        float64 `parquet:"score_ratio" json:"score_ratio"`
}

const formatsData = "../../core/formats/testdata/"

// fixtures: each Parquet fixture, the JSON-lines file it is made from, and the
// format both import as.
var fixtures = []struct{ parquet, source, format string }{
	{"ultrafeedback-binarized.parquet", formatsData + "ultrafeedback-binarized.jsonl", "trl"},
	{"shp.parquet", formatsData + "shp.jsonl", "shp"},
	{"trl-standard.parquet", formatsData + "trl-standard.jsonl", "trl"},
	{"trl-kto.parquet", "", "trl"},
	{"hh-rlhf.parquet", "", "hh-rlhf"},
}

// source returns the JSON lines a fixture is made from: its file, the first 50 rows
// of the real HH-RLHF file, or TRL's KTO example rows.
func source(t *testing.T, i int) []byte {
	t.Helper()
	f := fixtures[i]
	switch f.parquet {
	case "hh-rlhf.parquet":
		gz, err := os.Open("../../testdata/hh-rlhf/harmless-base-test.jsonl.gz")
		if err != nil {
			t.Fatal(err)
		}
		defer gz.Close()
		zr, err := gzip.NewReader(gz)
		if err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitAfter(all, []byte("\n"))
		return bytes.Join(lines[:50], nil)
	case "trl-kto.parquet":
		return []byte(`{"prompt": "The sky is", "completion": " blue.", "label": true}
{"prompt": "The sky is", "completion": " green.", "label": false}
`)
	}
	data, err := os.ReadFile(f.source)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFixture[T any](t *testing.T, path string, src []byte) {
	t.Helper()
	var rows []T
	for _, line := range bytes.Split(bytes.TrimSpace(src), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r T
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	var buf bytes.Buffer
	w := pq.NewGenericWriter[T](&buf, pq.Compression(&pq.Snappy))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestParquetImport: each Parquet fixture, read as records, imports to exactly what
// its JSON-lines twin imports to, and format detection recognises it.
func TestParquetImport(t *testing.T) {
	for i, f := range fixtures {
		path := filepath.Join("testdata", f.parquet)
		src := source(t, i)
		if *update {
			switch f.parquet {
			case "ultrafeedback-binarized.parquet":
				writeFixture[ufRow](t, path, src)
			case "shp.parquet":
				writeFixture[shpRow](t, path, src)
			case "trl-standard.parquet":
				writeFixture[trlRow](t, path, src)
			case "trl-kto.parquet":
				writeFixture[ktoRow](t, path, src)
			case "hh-rlhf.parquet":
				writeFixture[hhRow](t, path, src)
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./server/parquet -update)", err)
		}
		if !IsParquet(data) {
			t.Fatalf("%s is not Parquet", path)
		}
		rows, n, err := Records(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		got, rep, err := formats.ImportAuto(rows, formats.Options{})
		rows.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.parquet, err)
		}
		want, wrep, err := formats.Import(f.format, bytes.NewReader(src), formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Format != f.format || int64(rep.Records) != n || rep.Records != wrep.Records {
			t.Errorf("%s: read as %s, %d records (%d rows); the JSON lines have %d", f.parquet, rep.Format, rep.Records, n, wrep.Records)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s imports differently from its JSON-lines twin", f.parquet)
		}
	}
}

// TestParquetExportRoundTrip: every trainer export written as Parquet reads back to
// the same rows as its JSON lines, with the Hub's column types.
func TestParquetExportRoundTrip(t *testing.T) {
	d, _, err := formats.ReadJSONL(strings.NewReader(`{"kind":"compare","prompt":"2+2?","a":"4","b":"5","choice":"a","strength":2}
{"kind":"rank","prompt":"Name a colour.","responses":["red","blue","dog"],"order":[1,0,2]}
{"kind":"thumb","prompt":"2+2?","response":"four","score":1}
`), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range Formats {
		var jl bytes.Buffer
		if _, err := formats.Export(format, &jl, d); err != nil {
			t.Fatal(err)
		}
		var pb bytes.Buffer
		n, err := Write(&pb, format, jl.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		rows, m, err := Records(bytes.NewReader(pb.Bytes()), int64(pb.Len()))
		if err != nil {
			t.Fatal(err)
		}
		back, _ := io.ReadAll(rows)
		if int64(n) != m || n != strings.Count(jl.String(), "\n") {
			t.Errorf("%s: %d rows written, %d read, %d lines", format, n, m, strings.Count(jl.String(), "\n"))
		}
		if a, b := normalize(t, jl.Bytes()), normalize(t, back); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: Parquet rows differ:\n%v\n%v", format, a, b)
		}
		f, _ := pq.OpenFile(bytes.NewReader(pb.Bytes()), int64(pb.Len()))
		schema := f.Schema().String()
		if format == "trl-conversational" && !strings.Contains(schema, "group chosen (LIST)") {
			t.Errorf("conversational columns are not lists:\n%s", schema)
		}
		if format == "trl" && !strings.Contains(schema, "double margin") {
			t.Errorf("no margin column:\n%s", schema)
		}
	}
	if _, err := Write(io.Discard, "jsonl", nil); err == nil {
		t.Error("jsonl written as Parquet")
	}
}

// normalize decodes JSON lines as generic values, for comparison.
func normalize(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		c, _ := json.Marshal(v)
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}

// TestParquetDamaged: a truncated or corrupted file is an error, never a crash.
func TestParquetDamaged(t *testing.T) {
	data, err := os.ReadFile("testdata/shp.parquet")
	if err != nil {
		t.Skip("no fixture")
	}
	for _, bad := range [][]byte{data[:len(data)/2], append([]byte(Magic), bytes.Repeat([]byte{0xff}, 64)...)} {
		rows, _, err := Records(bytes.NewReader(bad), int64(len(bad)))
		if err == nil {
			_, err = io.ReadAll(rows)
		}
		if err == nil {
			t.Errorf("a damaged file of %d bytes read without error", len(bad))
		}
	}
	for i := 4; i < len(data)-8; i += 37 {
		c := append([]byte(nil), data...)
		c[i] ^= 0x5a
		if rows, _, err := Records(bytes.NewReader(c), int64(len(c))); err == nil {
			io.ReadAll(rows) // an error or not, but no panic
		}
	}
}

// FuzzRecords: arbitrary bytes after the magic never crash the reader.
func FuzzRecords(f *testing.F) {
	for _, fx := range fixtures {
		if data, err := os.ReadFile(filepath.Join("testdata", fx.parquet)); err == nil && len(data) < 8000 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _, err := Records(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		io.ReadAll(io.LimitReader(rows, 1<<24))
		rows.Close()
	})
}
