package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// jsonRows parses JSON lines into generic values, one per line, in order.
func jsonRows(tb testing.TB, data []byte) []any {
	tb.Helper()
	var rows []any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("row %d: %v", len(rows), err)
		}
		rows = append(rows, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

// TestImportExportHHKeepsInputOrder imports the real HH-RLHF file and exports it as
// hh-rlhf: the rows come back in the input's order. They are compared as parsed
// JSON, not as bytes: the file was written by Python's json.dumps (`{"chosen": "…",
// "rejected": "…"}`, a space after ':' and ','), the export writes Go's compact JSON;
// the strings themselves come back byte for byte. Before the import recorded each
// judgment's place (Judgment.Pos), the export went item by item in a snapshot's
// canonical order, so the 2 rows whose prompt repeats an earlier row's moved up next
// to it (rows 1452 and 1483, 0-based, came out as rows 1264 and 250: 1,234 rows off
// their line in all, found by diffing the two exports).
func TestImportExportHHKeepsInputOrder(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "hh.snap")
	importJSON(t, "--format", "hh-rlhf", hhFile, "-o", snap)
	out := filepath.Join(dir, "hh.jsonl")
	if code, _, errs := runCLI(t, "export", "--format", "hh-rlhf", snap, "-o", out); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	f, err := os.Open(hhFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, got := jsonRows(t, raw), jsonRows(t, exported)
	if len(want) != 2312 || len(got) != len(want) {
		t.Fatalf("%d rows exported, %d in the input; want 2312 each", len(got), len(want))
	}
	var off []int
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			off = append(off, i)
		}
	}
	if len(off) > 0 {
		t.Fatalf("%d of %d rows are not where the input has them; first at rows %v", len(off), len(want), off[:min(5, len(off))])
	}
}

// TestImportExportOrderAcrossFiles: the rows of a multi-file import come out file
// by file, each in its own order, whatever the judgment ids; a row in both files
// keeps its first place. Formats checked: trl (one row per comparison) and kto
// (two rows per comparison, chosen first).
func TestImportExportOrderAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	row := func(p, c, r string) string {
		return `{"prompt":"` + p + `","chosen":"` + c + `","rejected":"` + r + `"}` + "\n"
	}
	// p1 repeats in both files, and the second file repeats the first's row 0.
	a := row("p1", "a", "b") + row("p2", "c", "d") + row("p1", "e", "f")
	b := row("p3", "g", "h") + row("p1", "a", "b") + row("p1", "i", "j")
	fa, fb := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	if err := os.WriteFile(fa, []byte(a), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fb, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "ab.snap")
	if rep := importJSON(t, "--format", "trl", fa, fb, "-o", snap); rep.Judgments != 5 || rep.Conflicts != 0 {
		t.Fatalf("import: %+v", rep)
	}
	code, out, errs := runCLI(t, "export", "--format", "trl", snap, "-o", "-")
	if code != 0 {
		t.Fatalf("export trl: %s", errs)
	}
	// The prompts end in a letter, so the export puts JoinSeparator before each answer.
	want := ""
	for _, r := range [][3]string{{"p1", "a", "b"}, {"p2", "c", "d"}, {"p1", "e", "f"}, {"p3", "g", "h"}, {"p1", "i", "j"}} {
		want += row(r[0], " "+r[1], " "+r[2])
	}
	if out != want {
		t.Fatalf("trl export:\n%s\nwant\n%s", out, want)
	}
	code, out, errs = runCLI(t, "export", "--format", "kto", snap, "-o", "-")
	if code != 0 {
		t.Fatalf("export kto: %s", errs)
	}
	var got []string
	for _, r := range jsonRows(t, []byte(out)) {
		m := r.(map[string]any)
		got = append(got, m["prompt"].(string)+m["completion"].(string))
	}
	wantKTO := []string{"p1 a", "p1 b", "p2 c", "p2 d", "p1 e", "p1 f", "p3 g", "p3 h", "p1 i", "p1 j"}
	if !reflect.DeepEqual(got, wantKTO) {
		t.Fatalf("kto export %q, want %q", got, wantKTO)
	}
}
