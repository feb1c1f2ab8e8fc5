package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"prefer/core/snapshot"
)

func TestExportFormats(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "p.snap")
	importJSON(t, "--format", "jsonl", fixtures+"prefer.jsonl", "-o", snap)
	cases := []struct {
		format  string
		records int
		skipped map[string]int
		first   string
	}{
		// prefer.jsonl holds one decided comparison (strength 2), a tie, a both-bad, two
		// thumbs and one each of rank (3 responses: 3 pairs), rate, rewrite (1 pair),
		// flag and review: 5 pairs. Rows follow the file (the import's positions, not
		// the snapshot's canonical order), so the first is the file's first line, the
		// comparison Canberra ≻ Sydney with strength 2 (margin 2/3). Plain prompts carry
		// TRL's separator; a strength gives every row a margin.
		{"trl", 5, map[string]int{"tie": 1, "both-bad": 1, "rate": 1, "flag": 1, "thumb": 2, "review": 1},
			`{"prompt":"What is the capital of Australia?","chosen":" Canberra.","rejected":" Sydney, of course!","margin":0.6666666666666666}`},
		{"kto", 12, map[string]int{"tie": 1, "both-bad": 1, "rate": 1, "flag": 1, "review": 1},
			`{"prompt":"What is the capital of Australia?","completion":" Canberra.","label":true}`},
		{"hh-rlhf", 5, map[string]int{"tie": 1, "both-bad": 1, "rate": 1, "flag": 1, "thumb": 2, "review": 1},
			`{"chosen":"\n\nHuman: What is the capital of Australia?\n\nAssistant: Canberra.","rejected":"\n\nHuman: What is the capital of Australia?\n\nAssistant: Sydney, of course!"}`},
		{"trl-conversational", 5, map[string]int{"tie": 1, "both-bad": 1, "rate": 1, "flag": 1, "thumb": 2, "review": 1},
			`{"prompt":[{"role":"user","content":"What is the capital of Australia?"}],"chosen":[{"role":"assistant","content":"Canberra."}],"rejected":[{"role":"assistant","content":"Sydney, of course!"}],"margin":0.6666666666666666}`},
		// 10 judgment lines in the file's order, which implies both items' response
		// order and the raters' order: only r3 (a name and group) needs a rater line.
		// (In the snapshot's canonical order, before positions, they implied neither:
		// all 5 raters and both items got lines, 17 in all.)
		{"jsonl", 11, map[string]int{}, `{"kind":"rater","rater":"r3","name":"Ana","group":"night shift","rater_kind":"human"}`},
	}
	for _, c := range cases {
		file := filepath.Join(dir, c.format+".out")
		code, out, errs := runCLI(t, "export", "--format", c.format, snap, "-o", file, "--json")
		var rep exportReport
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("%s: exit %d, %s %s", c.format, code, out, errs)
		}
		if rep.Records != c.records || !reflect.DeepEqual(rep.Skipped, c.skipped) || !snapshot.ValidID(rep.InputID) {
			t.Errorf("%s: report %+v", c.format, rep)
		}
		if len(c.skipped) > 0 && !strings.Contains(errs, "left out") {
			t.Errorf("%s: no note of what was left out: %q", c.format, errs)
		}
		data, _ := os.ReadFile(file)
		if first, _, _ := strings.Cut(string(data), "\n"); first != c.first || rep.Bytes != len(data) {
			t.Errorf("%s: first line %s", c.format, first)
		}
	}
	// -o - writes the export to standard output.
	code, out, _ := runCLI(t, "export", "--format", "trl", snap, "-o", "-")
	if code != 0 || !strings.HasPrefix(out, `{"prompt":"What is the capital`) {
		t.Fatalf("-o -: %d %q", code, out)
	}
}

func TestExportSafetensors(t *testing.T) {
	dir := t.TempDir()
	snap := writeTestSnapshot(t, dir, smallSnapshot()) // one model "m", tensor w = [1, 2]
	file := filepath.Join(dir, "m.safetensors")
	code, out, errs := runCLI(t, "export", "--format", "safetensors", snap, "-o", file, "--json")
	var rep exportReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Records != 1 {
		t.Fatalf("exit %d %s %s", code, out, errs)
	}
	data, _ := os.ReadFile(file)
	n := binary.LittleEndian.Uint64(data[:8])
	var header map[string]json.RawMessage
	if n%8 != 0 || json.Unmarshal(data[8:8+n], &header) != nil {
		t.Fatalf("header of %d bytes: %q", n, data[8:])
	}
	var meta map[string]string
	json.Unmarshal(header["__metadata__"], &meta)
	// The model has no bias, so it is not a loadable linear reward model: its tensors
	// keep their snapshot names.
	if !strings.Contains(meta["prefer.model.m"], `"family":"linear"`) || meta["prefer.models"] != `["m"]` || meta["snapshot"] != rep.InputID || meta["format"] != "pt" {
		t.Fatalf("metadata %v", meta)
	}
	if string(header["m.w"]) != `{"dtype":"F32","shape":[2],"data_offsets":[0,8]}` {
		t.Fatalf("entry %s", header["m.w"])
	}
	// 1.0 and 2.0 as float32 little-endian (IEEE 754: 0x3f800000, 0x40000000).
	if got := data[8+n:]; !bytes.Equal(got, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40}) {
		t.Fatalf("data % x", got)
	}
	// A snapshot without models has nothing to export.
	empty := filepath.Join(dir, "e.snap")
	importJSON(t, "--format", "jsonl", fixtures+"prefer.jsonl", "-o", empty)
	if code, _, errs := runCLI(t, "export", "--format", "safetensors", empty, "-o", file); code != 1 || !strings.Contains(errs, "has no models") {
		t.Fatalf("exit %d, %q", code, errs)
	}
}

func TestExportUsageErrors(t *testing.T) {
	dir := t.TempDir()
	snap := writeTestSnapshot(t, dir, smallSnapshot())
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", snap, "-o", "x"}, 2, "give --format"},
		{[]string{"export", "--format", "parquet", snap, "-o", "x"}, 2, `unknown --format "parquet"`},
		{[]string{"export", "--format", "trl", "-o", "x"}, 2, "exactly one snapshot"},
		{[]string{"export", "--format", "trl", snap}, 2, "-o FILE"},
		{[]string{"export", "--format", "trl", snap, "-o", "-", "--json"}, 2, "-o - writes the result to standard output"},
		{[]string{"export", "--format", "trl", filepath.Join(dir, "none.snap"), "-o", "x"}, 1, "read snapshot"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// TestExportDemoPairs: on the default demo (docs/formats.md's figures, counted again on
// today's demo), the TRL export holds every preference the raters stated: the
// decided comparisons, the 86 rankings of 4 as their 86 × C(4,2) = 516 pairs, the
// 23 rewrites as rewrite ≻ original, and the strength of the 589 comparisons that
// have one as a nonzero margin.
func TestExportDemoPairs(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "d.snap")
	if code, _, errs := runCLI(t, "demo", "-o", snap); code != 0 {
		t.Fatal(errs)
	}
	s, _, _ := readSnapshot(snap)
	decided, ranks, rewrites, strong := 0, 0, 0, 0
	for _, j := range s.Judgments {
		switch {
		case j.Kind == "compare" && (j.Choice == "a" || j.Choice == "b"):
			decided++
			if j.Strength > 0 {
				strong++
			}
		case j.Kind == "rank":
			ranks++
		case j.Kind == "rewrite":
			rewrites++
		}
	}
	// The issue counted 88, 23, 577 on the demo before its crowd raters and padded
	// answers changed (issue 14); the counts of today's demo:
	if ranks != 86 || rewrites != 23 || strong != 589 {
		t.Fatalf("the demo has %d rankings, %d rewrites, %d comparisons with strength; want 86, 23, 589", ranks, rewrites, strong)
	}
	file := filepath.Join(dir, "d.jsonl")
	code, out, errs := runCLI(t, "export", "--format", "trl", snap, "-o", file, "--json")
	var rep exportReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatal(errs)
	}
	if want := decided + 86*6 + 23; rep.Records != want || rep.Skipped["rank"] != 0 || rep.Skipped["rewrite"] != 0 {
		t.Errorf("%d rows (skipped %v), want %d decided + 516 + 23 = %d", rep.Records, rep.Skipped, decided, want)
	}
	data, _ := os.ReadFile(file)
	if n := strings.Count(string(data), `"margin":0}`); rep.Records-n != 589 {
		t.Errorf("%d rows with a nonzero margin, want 589", rep.Records-n)
	}
}
