package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

const (
	fixtures = "../../core/formats/testdata/"
	hhFile   = "../../testdata/hh-rlhf/harmless-base-test.jsonl.gz"
)

// importJSON runs prefer import --json and decodes its report.
func importJSON(tb testing.TB, args ...string) importReport {
	tb.Helper()
	code, out, errs := runCLI(tb, append([]string{"import", "--json"}, args...)...)
	if code != 0 {
		tb.Fatalf("prefer import %v: exit %d\n%s", args, code, errs)
	}
	var rep importReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		tb.Fatalf("import --json printed %q: %v", out, err)
	}
	return rep
}

func loadSnapshot(tb testing.TB, path string) *snapshot.Snapshot {
	tb.Helper()
	s, _, err := readSnapshot(path)
	if err != nil {
		tb.Fatal(err)
	}
	if ps := snapshot.Check(s); len(ps) > 0 {
		tb.Fatalf("%s is not sound: %v", path, ps)
	}
	return s
}

// sameContent fails unless two snapshots hold the same items, raters and judgments.
func sameContent(tb testing.TB, a, b *snapshot.Snapshot) {
	tb.Helper()
	if !reflect.DeepEqual(a.Items, b.Items) {
		tb.Fatalf("items differ:\n%+v\n%+v", a.Items, b.Items)
	}
	if !reflect.DeepEqual(a.Raters, b.Raters) {
		tb.Fatalf("raters differ:\n%+v\n%+v", a.Raters, b.Raters)
	}
	// Import positions are compared as the order they give (an export's rows), not as
	// numbers: a merged import can leave gaps that a re-import of its export closes.
	ids := func(js []feedback.Judgment) []string {
		var out []string
		for _, k := range feedback.ExportOrder(js) {
			out = append(out, js[k].ID)
		}
		return out
	}
	if oa, ob := ids(a.Judgments), ids(b.Judgments); !reflect.DeepEqual(oa, ob) {
		tb.Fatalf("export order differs:\n%v\n%v", oa, ob)
	}
	content := func(js []feedback.Judgment) []feedback.Judgment {
		out := append([]feedback.Judgment(nil), js...)
		for k := range out {
			out[k].Pos = 0
		}
		return out
	}
	if ja, jb := content(a.Judgments), content(b.Judgments); !reflect.DeepEqual(ja, jb) {
		tb.Fatalf("judgments differ:\n%+v\n%+v", ja, jb)
	}
}

func TestImportHHRealFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "hh.snap")
	rep := importJSON(t, "--format", "hh-rlhf", hhFile, "-o", out)
	// 2,312 pairs over 2,310 prompts (testdata/hh-rlhf/README.md; core/formats tests).
	if rep.Judgments != 2312 || rep.ByKind["compare"] != 2312 || rep.Items != 2310 || rep.Responses != 4624 ||
		rep.Records != 2312 || rep.Skipped != 0 || len(rep.Inputs) != 1 || rep.Inputs[0].SHA256 != "ebfaaed21162a4de120ae85366075b34425e2a6303fac59b99555002f7016f03" {
		t.Fatalf("report %+v", rep)
	}
	s := loadSnapshot(t, out)
	if rep.OutputID == "" || !snapshot.ValidID(rep.OutputID) || len(s.Judgments) != 2312 {
		t.Fatalf("id %q, %d judgments", rep.OutputID, len(s.Judgments))
	}
	if p := s.Provenance; p.Command != "prefer import --format hh-rlhf harmless-base-test.jsonl.gz" || p.Created != "" || p.Parent != "" ||
		!strings.Contains(p.Note, "sha256:ebfaaed2") {
		t.Fatalf("provenance %+v", p)
	}
	if code, _, errs := runCLI(t, "verify", out); code != 0 {
		t.Fatalf("verify: %s", errs)
	}
	// Importing the same file again, or twice in one command, gives the same snapshot.
	out2 := filepath.Join(dir, "hh2.snap")
	rep2 := importJSON(t, "--format", "hh-rlhf", hhFile, "-o", out2)
	if rep2.OutputID != rep.OutputID {
		t.Fatalf("re-import gives %s, want %s", rep2.OutputID, rep.OutputID)
	}
	rep3 := importJSON(t, "--format", "hh-rlhf", hhFile, hhFile, "-o", filepath.Join(dir, "hh3.snap"))
	if rep3.Judgments != 2312 || rep3.Conflicts != 0 {
		t.Fatalf("importing the file twice: %+v", rep3)
	}
}

func TestImportExportRoundTripJSONL(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.snap")
	rep := importJSON(t, "--format", "jsonl", fixtures+"prefer.jsonl", "-o", a)
	if rep.Judgments != 10 || rep.Items != 2 || rep.Raters != 5 || rep.ByKind["compare"] != 3 || rep.ByKind["review"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	file := filepath.Join(dir, "a.jsonl")
	if code, _, errs := runCLI(t, "export", "--format", "jsonl", a, "-o", file); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	b := filepath.Join(dir, "b.snap")
	importJSON(t, "--format", "jsonl", file, "-o", b)
	sa, sb := loadSnapshot(t, a), loadSnapshot(t, b)
	sameContent(t, sa, sb)
	// A snapshot written by other commands (explicit ids, metadata, canonical order)
	// survives export and import as well.
	orig := &snapshot.Snapshot{
		Items: []feedback.Item{{ID: "q1", Prompt: "2+2?", Tags: []string{"math"}, GoldBest: feedback.ResponseID("4"), Responses: []feedback.Response{
			{ID: feedback.ResponseID("4"), Text: "4", Source: feedback.SourceReference, Gold: ptrFloat(1), Parts: []string{"correct"}, RefProb: 0.5},
			{ID: feedback.ResponseID("5"), Text: "5", Source: feedback.SourceReference, Gold: ptrFloat(-1), RefProb: 0.5},
			{ID: feedback.ResponseID("four"), Text: "four", Source: feedback.SourcePolicy}}}},
		Raters: []feedback.Rater{{ID: "sim-1", Kind: feedback.RaterSimulated, Profile: "noise=0.2"}},
		Judgments: []feedback.Judgment{
			{ID: "e2", Kind: feedback.KindCompare, Item: "q1", Rater: "sim-1", Time: 2, A: feedback.ResponseID("5"), B: feedback.ResponseID("4"), Choice: feedback.ChoiceB, Left: "a"},
			{ID: "e1", Kind: feedback.KindThumb, Item: "q1", Rater: "sim-1", Time: 5, Response: feedback.ResponseID("4"), Score: 1},
		},
	}
	c := writeTestSnapshot(t, dir, orig)
	if code, _, errs := runCLI(t, "export", "--format", "jsonl", c, "-o", file); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	d := filepath.Join(dir, "d.snap")
	importJSON(t, "--format", "jsonl", file, "-o", d)
	sameContent(t, loadSnapshot(t, c), loadSnapshot(t, d))
}

func ptrFloat(v float64) *float64 { return &v }

func TestImportExportRoundTripTRL(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.snap")
	rep := importJSON(t, "--format", "trl", fixtures+"trl-standard.jsonl", fixtures+"trl-implicit.json", fixtures+"trl-conversational.jsonl", "-o", a)
	// 4 + 3 + 3 pairs; the sky pair is in the first two files with the same content,
	// so it is one judgment: 9.
	if rep.Judgments != 9 || rep.Records != 10 || len(rep.Inputs) != 3 {
		t.Fatalf("report %+v", rep)
	}
	// Standard TRL round-trips all of it; the conversational form round-trips
	// conversational data (a plain-text prompt would come back as a one-turn dialogue).
	conv := filepath.Join(dir, "conv.snap")
	importJSON(t, "--format", "trl", fixtures+"trl-conversational.jsonl", "-o", conv)
	for _, c := range []struct{ format, snap string }{{"trl", a}, {"trl-conversational", conv}} {
		file := filepath.Join(dir, c.format+".jsonl")
		code, out, errs := runCLI(t, "export", "--format", c.format, c.snap, "-o", file, "--json")
		var er exportReport
		if code != 0 || json.Unmarshal([]byte(out), &er) != nil || len(er.Skipped) != 0 {
			t.Fatalf("export %s: %d %s %s", c.format, code, out, errs)
		}
		b := filepath.Join(dir, c.format+".snap")
		importJSON(t, "--format", "trl", file, "-o", b)
		sameContent(t, loadSnapshot(t, c.snap), loadSnapshot(t, b))
	}
}

func TestImportSkipBad(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"prompt":"p","chosen":"a","rejected":"b"}
{"prompt":"p","chosen":"a"}
{"prompt":"q","chosen":"a","rejected":"b"}
`), 0o644)
	out := filepath.Join(dir, "o.snap")
	code, _, errs := runCLI(t, "import", "--format", "trl", bad, "-o", out)
	if code != 1 || !strings.Contains(errs, "bad.jsonl: 1 of 3 records could not be read as trl:\n  line 2: a row needs \"chosen\" and \"rejected\"") || !strings.Contains(errs, "--skip-bad") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a failed import wrote a snapshot")
	}
	code, stdout, errs := runCLI(t, "import", "--format", "trl", bad, "-o", out, "--skip-bad", "--json")
	var rep importReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Skipped != 1 || rep.Judgments != 2 ||
		!strings.Contains(errs, "skipped 1 bad line(s)") || !strings.Contains(errs, "line 2:") {
		t.Fatalf("--skip-bad: exit %d, out %s, stderr %q", code, stdout, errs)
	}
}

func TestImportUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "o.snap")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "--format", "csv", fixtures + "prefer.jsonl", "-o", out}, 2, `unknown --format "csv"`},
		{[]string{"import", "--format", "jsonl", "-o", out}, 2, "give at least one dataset file"},
		{[]string{"import", "--format", "jsonl", fixtures + "prefer.jsonl"}, 2, "-o SNAP"},
		{[]string{"import", "--format", "jsonl", filepath.Join(dir, "missing.jsonl"), "-o", out}, 1, "open dataset"},
		{[]string{"import", "--format", "hh-rlhf", fixtures + "labelstudio.json", "-o", out}, 1, "line 2: a row needs"},
		{[]string{"import", "--format", "jsonl", writeFile(t, dir, "r.jsonl", `{"kind":"review","target":"nope","verdict":"accept"}`), "-o", out}, 1, `review target is not a judgment in the log: "nope"; import the file with the judgment it names too`},
		{[]string{"import", "--map", "prompt", fixtures + "labelstudio.json", "-o", out}, 2, `--map "prompt": write FIELD=PATH`},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestImportOtherFormats(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		format string
		files  []string
		want   map[string]int
	}{
		{"labelstudio", []string{"labelstudio.json"}, map[string]int{"compare": 2}},
		{"summarize", []string{"summarize-comparisons.jsonl", "summarize-axis.jsonl"}, map[string]int{"compare": 3, "rate": 4}},
		{"trl", []string{"trl-kto.jsonl"}, map[string]int{"thumb": 3}},
	}
	for _, c := range cases {
		args := []string{"--format", c.format}
		for _, f := range c.files {
			args = append(args, fixtures+f)
		}
		out := filepath.Join(dir, c.format+".snap")
		rep := importJSON(t, append(args, "-o", out)...)
		if !reflect.DeepEqual(rep.ByKind, c.want) {
			t.Errorf("%s: by kind %v, want %v", c.format, rep.ByKind, c.want)
		}
		loadSnapshot(t, out)
	}
}

// repeatedHH writes a gzipped HH-RLHF file of n copies of one short valid row (n
// judgments: HH ids count lines), and returns its path and size.
func repeatedHH(t *testing.T, n int) (string, int) {
	t.Helper()
	row := []byte(`{"chosen": "\n\nHuman: Is it safe?\n\nAssistant: Yes.", "rejected": "\n\nHuman: Is it safe?\n\nAssistant: No."}` + "\n")
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(bytes.Repeat(row, n))
	zw.Close()
	path := filepath.Join(t.TempDir(), "repeated.jsonl.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Len()
}

// TestImportMaxRecordsAndExpansionWarning: a 645 KB
// .jsonl.gz of repeated HH-RLHF rows became 2,000,000 judgments (5.0 GB, 91 s) with
// no word. --max-records stops such a file at the bound, before decoding more, and
// an input that decompresses to over 100× its size is named on stderr while it is
// read (the import goes on: large real data must still import).
func TestImportMaxRecordsAndExpansionWarning(t *testing.T) {
	path, size := repeatedHH(t, 2_000_000)
	out := filepath.Join(t.TempDir(), "o.snap")
	var code int
	var stderr string
	got := allocated(func() {
		code, _, stderr = runCLI(t, "import", "--format", "hh-rlhf", "--max-records", "1000", path, "-o", out)
	})
	if code == 0 || !strings.Contains(stderr, "--max-records 1000") {
		t.Fatalf("import of 2,000,000 rows with --max-records 1000: exit %d, stderr %s", code, stderr)
	}
	if got > 64<<20 {
		t.Errorf("stopping at 1000 records allocated %d bytes", got)
	}
	t.Logf("%d-byte file of 2,000,000 rows: stopped at 1000 records, %d bytes allocated", size, got)
	// A file under the bound imports, and its expansion is named while it is read.
	small, size := repeatedHH(t, 20000)
	code, _, stderr = runCLI(t, "import", "--format", "hh-rlhf", "--max-records", "20000", small, "-o", out)
	if code != 0 || !strings.Contains(stderr, "warning: the input has decompressed to") {
		t.Fatalf("20,000 rows (%d bytes) under --max-records 20000: exit %d, stderr %s", size, code, stderr)
	}
}

// TestImportWrongFormat (the CLI side): an HH-RLHF file read as jsonl
// fails without writing anything, shows the first three bad lines and how many more,
// and says what the file looks like; with --skip-bad too, since nothing could be read.
// Without --format, each file is recognised and the choice is said.
func TestImportWrongFormat(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "o.snap")
	hh := "../../testdata/hh-rlhf/harmless-base-test.jsonl.gz"
	for _, extra := range [][]string{nil, {"--skip-bad"}} {
		code, _, errs := runCLI(t, append([]string{"import", "--format", "jsonl", hh, "-o", out}, extra...)...)
		want := []string{
			"2312 of 2312 records could not be read as jsonl:",
			"\n  line 1: \"kind\" is missing", "\n  line 3: \"kind\" is missing", "\n  … and 2,309 more\n",
			"this looks like hh-rlhf", "use --format hh-rlhf",
		}
		for _, w := range want {
			if code != 1 || !strings.Contains(errs, w) {
				t.Errorf("%v: exit %d, stderr %q; want %q", extra, code, errs, w)
			}
		}
		if strings.Contains(errs, "line 4:") || len(errs) > 1000 {
			t.Errorf("more than the first three errors: %q", errs)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("a failed import wrote a snapshot")
		}
	}
	code, stdout, errs := runCLI(t, "import", hh, fixtures+"shp.jsonl", fixtures+"labelstudio-min.json", "-o", out)
	if code != 0 || !strings.Contains(errs, "harmless-base-test.jsonl.gz: read as hh-rlhf") || !strings.Contains(errs, "shp.jsonl: read as shp") ||
		!strings.Contains(errs, "labelstudio-min.json: read as labelstudio") || !strings.Contains(stdout, "imported 2318 judgments") {
		t.Fatalf("auto: exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	var rep importReport
	code, stdout, _ = runCLI(t, "import", fixtures+"shp.jsonl", "--map", "human_ref_A=human_ref_B", "--map", "human_ref_B=human_ref_A", "-o", out, "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Inputs[0].Format != "shp" || !strings.Contains(rep.Inputs[0].Detected, "Stanford") || rep.Judgments != 3 {
		t.Fatalf("--map: exit %d %s", code, stdout)
	}
	s := loadSnapshot(t, out)
	if !strings.Contains(s.Provenance.Command, "--map human_ref_A=human_ref_B") {
		t.Errorf("provenance %q", s.Provenance.Command)
	}
}

// TestParquetCLI: prefer import reads .parquet (the Hub's refs/convert/parquet) for
// the tabular formats, recognising them; prefer export writes Parquet for -o
// FILE.parquet; a Parquet file given as JSON is not "not valid JSON" but named.
func TestParquetCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "o.snap")
	pqDir := "../parquet/testdata/"
	code, stdout, errs := runCLI(t, "import", pqDir+"ultrafeedback-binarized.parquet", pqDir+"shp.parquet", pqDir+"hh-rlhf.parquet", "-o", out, "--json")
	var rep importReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	if f := rep.Inputs; f[0].Format != "trl" || !f[0].Parquet || f[1].Format != "shp" || f[2].Format != "hh-rlhf" || rep.Judgments != 2+3+50 {
		t.Fatalf("inputs %+v, %d judgments", f, rep.Judgments)
	}
	file := filepath.Join(dir, "e.parquet")
	if code, _, errs := runCLI(t, "export", "--format", "trl", out, "-o", file); code != 0 {
		t.Fatal(errs)
	}
	data, _ := os.ReadFile(file)
	if !bytes.HasPrefix(data, []byte("PAR1")) {
		t.Fatal("-o FILE.parquet did not write Parquet")
	}
	back := filepath.Join(dir, "b.snap")
	if code, _, errs := runCLI(t, "import", file, "-o", back); code != 0 {
		t.Fatal(errs)
	}
	if a, b := loadSnapshot(t, out), loadSnapshot(t, back); len(b.Judgments) != len(a.Judgments) || len(b.Items) != len(a.Items) {
		t.Errorf("Parquet round trip: %d judgments, %d items; want %d, %d", len(b.Judgments), len(b.Items), len(a.Judgments), len(a.Items))
	}
	if code, _, errs := runCLI(t, "export", "--format", "jsonl", out, "-o", filepath.Join(dir, "x.parquet")); code != 2 || !strings.Contains(errs, "Parquet holds the trainer formats") {
		t.Errorf("jsonl as Parquet: exit %d, %s", code, errs)
	}
	// Before: `line 1: not valid JSON (invalid character 'P' …)`. Now its rows are read,
	// and an SHP file read as trl says what it looks like.
	code, _, errs = runCLI(t, "import", "--format", "trl", pqDir+"shp.parquet", "-o", out)
	if code != 1 || strings.Contains(errs, "not valid JSON") || !strings.Contains(errs, "this looks like shp") {
		t.Errorf("an SHP Parquet file read as trl: exit %d: %s", code, errs)
	}
}

// TestImportMemoryLimit: the import's soft memory limit is 2.75× the plain inputs' size
// (at least 64 MiB), and none where the size does not bound what is decoded (gzip,
// standard input) or where GOMEMLIMIT is set; the limit in force before is put back.
func TestImportMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.jsonl")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 30<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small.jsonl")
	if err := os.WriteFile(small, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(dir, "a.jsonl.gz")
	if err := os.WriteFile(gz, []byte{0x1f, 0x8b, 8, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOMEMLIMIT", "")
	for _, tc := range []struct {
		files []string
		want  int64
	}{
		{[]string{big}, 11 * (30 << 20) / 4},
		{[]string{big, small}, 86507528}, // 2.75 × (30 MiB + 3 bytes), rounded down
		{[]string{small}, 64 << 20},
		{[]string{big, gz}, 0},
		{[]string{"-"}, 0},
		{[]string{filepath.Join(dir, "missing")}, 0},
	} {
		if got := importMemoryLimit(tc.files); got != tc.want {
			t.Errorf("%v: limit %d, want %d", tc.files, got, tc.want)
		}
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := importMemoryLimit([]string{big}); got != 0 {
		t.Errorf("with GOMEMLIMIT set: limit %d, want 0", got)
	}
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	in := fixtures + "trl-standard.jsonl"
	if code, _, stderr := runCLI(t, "import", "--format", "trl", in, "-o", filepath.Join(dir, "out.snap")); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("the memory limit is %d after the import, %d before", after, before)
	}
}

// TestImportSkipBadKeepsItemsOnly: a lenient import whose good lines give items but
// no judgment writes them (it is not "nothing read"), items held compact included.
func TestImportSkipBadKeepsItemsOnly(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "items.jsonl")
	if err := os.WriteFile(in, []byte(`{"kind":"item","prompt":"p","responses":["a","b"]}`+"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.snap")
	code, _, stderr := runCLI(t, "import", "--format", "jsonl", "--skip-bad", in, "-o", out)
	if code != 0 {
		t.Fatalf("import failed: %s", stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Items) != 1 || len(s.Items[0].Responses) != 2 || len(s.Judgments) != 0 {
		t.Fatalf("snapshot holds %d items, %d judgments; want the item with its 2 responses", len(s.Items), len(s.Judgments))
	}
}
