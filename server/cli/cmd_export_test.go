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
		// prefer.jsonl holds one decided comparison, a tie, a both-bad, two thumbs and
		// one each of rank, rate, rewrite, flag and review.
		{"trl", 1, map[string]int{"tie": 1, "both-bad": 1, "rank": 1, "rate": 1, "rewrite": 1, "flag": 1, "thumb": 2, "review": 1},
			`{"prompt":"What is the capital of Australia?","chosen":"Canberra.","rejected":"Sydney, of course!"}`},
		{"kto", 4, map[string]int{"tie": 1, "both-bad": 1, "rank": 1, "rate": 1, "rewrite": 1, "flag": 1, "review": 1},
			`{"prompt":"What is the capital of Australia?","completion":"Canberra.","label":true}`},
		{"hh-rlhf", 1, map[string]int{"tie": 1, "both-bad": 1, "rank": 1, "rate": 1, "rewrite": 1, "flag": 1, "thumb": 2, "review": 1},
			`{"chosen":"\n\nHuman: What is the capital of Australia?\n\nAssistant: Canberra.","rejected":"\n\nHuman: What is the capital of Australia?\n\nAssistant: Sydney, of course!"}`},
		{"trl-conversational", 1, map[string]int{"tie": 1, "both-bad": 1, "rank": 1, "rate": 1, "rewrite": 1, "flag": 1, "thumb": 2, "review": 1},
			`{"prompt":[{"role":"user","content":"What is the capital of Australia?"}],"chosen":[{"role":"assistant","content":"Canberra."}],"rejected":[{"role":"assistant","content":"Sydney, of course!"}]}`},
		// 10 judgments; in the snapshot's canonical order they no longer imply the raters'
		// order or the items' response order, so all 5 raters and both items get lines.
		{"jsonl", 17, map[string]int{}, `{"kind":"rater","rater":"r3","name":"Ana","group":"night shift","rater_kind":"human"}`},
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
	if meta["model/m"] != "linear" || meta["models"] != `["m"]` || meta["snapshot"] != rep.InputID {
		t.Fatalf("metadata %v", meta)
	}
	if string(header["m/w"]) != `{"dtype":"F32","shape":[2],"data_offsets":[0,8]}` {
		t.Fatalf("entry %s", header["m/w"])
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
