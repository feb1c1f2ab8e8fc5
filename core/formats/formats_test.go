package formats

import (
	"bytes"
	"compress/gzip"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"prefer/core/feedback"
)

// checkValid fails if d breaks a rule of the data model (feedback.Index.ValidateLog)
// or has duplicate item, response or judgment ids. A review whose target is not in d
// at all is allowed: the flag may come from another file (the merge checks it).
func checkValid(tb testing.TB, d *Dataset) {
	tb.Helper()
	items := map[string]bool{}
	for _, it := range d.Items {
		if items[it.ID] {
			tb.Fatalf("duplicate item id %q", it.ID)
		}
		items[it.ID] = true
		resp := map[string]bool{}
		for _, r := range it.Responses {
			if resp[r.ID] || r.ID != feedback.ResponseID(r.Text) {
				tb.Fatalf("item %q: response id %q duplicate or not ResponseID(text)", it.ID, r.ID)
			}
			resp[r.ID] = true
		}
	}
	log := &feedback.Log{}
	for _, j := range d.Judgments {
		if _, err := log.Append(j); err != nil {
			tb.Fatalf("judgment %q: %v", j.ID, err)
		}
	}
	for _, err := range feedback.NewIndex(d.Items, d.Raters).ValidateLog(log) {
		var je *feedback.JudgmentError
		if errors.As(err, &je) && errors.Is(err, feedback.ErrBadTarget) {
			if j, _ := log.Get(je.ID); !log.Has(j.Target) {
				continue
			}
		}
		tb.Fatalf("invalid dataset: %v", err)
	}
}

func indexItems(d *Dataset) map[string]*feedback.Item {
	m := make(map[string]*feedback.Item, len(d.Items))
	for i := range d.Items {
		m[d.Items[i].ID] = &d.Items[i]
	}
	return m
}

// mustRead imports src in the given format or fails.
func mustRead(tb testing.TB, format, src string) (*Dataset, *Report) {
	tb.Helper()
	d, rep, err := Import(format, strings.NewReader(src), Options{})
	if err != nil {
		tb.Fatalf("import %s: %v", format, err)
	}
	checkValid(tb, d)
	sameAsCompact(tb, format, []byte(src), Options{}, d, rep)
	return d, rep
}

// sameAsCompact fails unless importing data with Options.Compact gives d and rep:
// the same items, raters and report, and judgments that expand to d's.
func sameAsCompact(tb testing.TB, format string, data []byte, opt Options, d *Dataset, rep *Report) {
	tb.Helper()
	opt.Compact = true
	c, crep, err := Import(format, bytes.NewReader(data), opt)
	if err != nil {
		tb.Fatalf("import %s with Compact: %v", format, err)
	}
	if c.Compact == nil || c.Judgments != nil {
		tb.Fatalf("import %s with Compact: Judgments %d, Compact %v", format, len(c.Judgments), c.Compact)
	}
	if st, cst := d.Stats(), c.Stats(); !reflect.DeepEqual(st, cst) {
		tb.Fatalf("import %s with Compact: stats %+v, want %+v", format, cst, st)
	}
	c.Expand()
	if !reflect.DeepEqual(c, d) || !reflect.DeepEqual(crep, rep) {
		tb.Fatalf("import %s with Compact gave another dataset or report:\n got %+v\nwant %+v", format, c.Judgments, d.Judgments)
	}
}

// readErr imports src and returns the error, failing if there is none.
func readErr(tb testing.TB, format, src string) error {
	tb.Helper()
	_, _, err := Import(format, strings.NewReader(src), Options{})
	if err == nil {
		tb.Fatalf("import %s of %q: no error", format, src)
	}
	return err
}

// sameDataset fails unless a and b hold the same items and raters (in order) and the
// same judgments (as sets).
func sameDataset(tb testing.TB, a, b *Dataset) {
	tb.Helper()
	if len(a.Items) != len(b.Items) {
		tb.Fatalf("items: %d vs %d", len(a.Items), len(b.Items))
	}
	for i := range a.Items {
		if !sameItem(a.Items[i], b.Items[i]) {
			tb.Fatalf("item %d differs:\n%+v\n%+v", i, a.Items[i], b.Items[i])
		}
	}
	if !reflect.DeepEqual(a.Raters, b.Raters) {
		tb.Fatalf("raters differ:\n%+v\n%+v", a.Raters, b.Raters)
	}
	ja, jb := sortedJudgments(a), sortedJudgments(b)
	if !reflect.DeepEqual(ja, jb) {
		for k := range ja {
			if k < len(jb) && !reflect.DeepEqual(ja[k], jb[k]) {
				tb.Fatalf("judgment %d differs:\n%+v\n%+v", k, ja[k], jb[k])
			}
		}
		tb.Fatalf("judgments differ: %d vs %d", len(ja), len(jb))
	}
}

func sortedJudgments(d *Dataset) []feedback.Judgment {
	js := append([]feedback.Judgment(nil), d.Judgments...)
	sort.Slice(js, func(i, k int) bool { return js[i].ID < js[k].ID })
	for k := range js {
		js[k].Pos = 0 // where an import found it, not content: TestExportOrder* check it
	}
	return js
}

// roundTrip exports d in format and imports the result with the matching importer.
func roundTrip(tb testing.TB, d *Dataset, out, in string) (*Dataset, *ExportReport) {
	tb.Helper()
	var buf bytes.Buffer
	er, err := Export(out, &buf, d)
	if err != nil {
		tb.Fatalf("export %s: %v", out, err)
	}
	back, _, err := Import(in, bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		tb.Fatalf("re-import %s: %v\n%s", in, err, buf.String())
	}
	return back, er
}

func TestImportUnknownFormat(t *testing.T) {
	if _, _, err := Import("csv", strings.NewReader(""), Options{}); err == nil || !strings.Contains(err.Error(), "jsonl") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Export("csv", &bytes.Buffer{}, &Dataset{}); err == nil || !strings.Contains(err.Error(), "trl") {
		t.Fatalf("err = %v", err)
	}
}

func TestEmptyInputs(t *testing.T) {
	for _, f := range Importers {
		for _, src := range []string{"", "\n\n  \n", "[]", " [ ] \n"} {
			d, rep, err := Import(f, strings.NewReader(src), Options{})
			if err != nil || len(d.Items) != 0 || len(d.Judgments) != 0 || rep.Records != 0 {
				t.Errorf("%s of %q: %v %+v", f, src, err, rep)
			}
		}
	}
}

func TestLineErrors(t *testing.T) {
	// A bad line fails the import with its 1-based line number, counting blank lines.
	src := `{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"a"}

{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"left"}
`
	err := readErr(t, "jsonl", src)
	var le *LineError
	if !errors.As(err, &le) || le.Line != 3 {
		t.Fatalf("err = %v, want a *LineError on line 3", err)
	}
	if want := `line 3: "choice" must be a, b, tie or both-bad, not "left"`; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
	// Lenient: bad lines are skipped and counted, good ones kept.
	d, rep, err := ReadJSONL(strings.NewReader(src+"not json\n"+`{"kind":"thumb","prompt":"p","response":"x","score":1}`+"\n"), Options{Lenient: true})
	if err != nil || rep.Skipped != 2 || len(d.Judgments) != 2 || rep.Records != 4 || len(rep.Problems) != 2 ||
		!strings.HasPrefix(rep.Problems[1], "line 4: not valid JSON") {
		t.Fatalf("lenient: %v %+v", err, rep)
	}
}

func TestTypeErrorsNameTheField(t *testing.T) {
	cases := []struct{ format, src, want string }{
		{"jsonl", `{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"a","ms":"fast"}`, `line 1: "ms" must be a whole number, not a string`},
		{"jsonl", `{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"a","ms":1.5}`, `line 1: "ms" must be a whole number, not the number 1.5`},
		{"jsonl", `[1]`, `line 1: expected a JSON object, found a number`},
		{"summarize", `{"info":{"id":"t","post":7}}`, `line 1: "info.post" must be a string, not a number`},
		{"trl", `{"prompt":"p","chosen":3,"rejected":"r"}`, `line 1: "chosen" must be a text or a list of {"role", "content"} messages`},
		{"trl", `{"prompt":"p","completion":"c","label":"yes"}`, `line 1: "label" must be true or 1 (desirable), false or 0 (undesirable), not "yes"`},
	}
	for _, c := range cases {
		err := readErr(t, c.format, c.src)
		if err.Error() != c.want {
			t.Errorf("%s %s:\n got %q\nwant %q", c.format, c.src, err, c.want)
		}
	}
}

func TestRecordLimit(t *testing.T) {
	long := `{"kind":"thumb","prompt":"` + strings.Repeat("x", 200) + `","response":"r","score":1}`
	ok := `{"kind":"thumb","prompt":"p","response":"r","score":1}`
	src := ok + "\n" + long + "\n" + ok + "\n"
	_, _, err := ReadJSONL(strings.NewReader(src), Options{MaxRecord: 100})
	if err == nil || !strings.Contains(err.Error(), "line 2: the line is longer than 100 bytes") {
		t.Fatalf("err = %v", err)
	}
	d, rep, err := ReadJSONL(strings.NewReader(src), Options{MaxRecord: 100, Lenient: true})
	// The two equal short lines are two judgments (equal records stay distinct).
	if err != nil || rep.Skipped != 1 || len(d.Judgments) != 2 || rep.Duplicates != 0 || d.Judgments[0].ID == d.Judgments[1].ID {
		t.Fatalf("lenient: %v %+v", err, rep)
	}
	// In a JSON array an oversized element is fatal even when lenient.
	arr := "[" + ok + ",\n" + long + "]"
	_, _, err = ReadTRL(strings.NewReader(arr), Options{MaxRecord: 100, Lenient: true})
	if err == nil || !strings.Contains(err.Error(), "element 2 is longer than 100 bytes") {
		t.Fatalf("array: err = %v", err)
	}
}

func TestGzipAndBOM(t *testing.T) {
	src := "\xef\xbb\xbf" + `{"prompt":"p","chosen":"a","rejected":"b"}` + "\r\n"
	var gz bytes.Buffer
	zw := newGzip(&gz)
	zw.Write([]byte(src))
	zw.Close()
	for name, in := range map[string][]byte{"plain": []byte(src), "gzip": gz.Bytes()} {
		d, _, err := ReadTRL(bytes.NewReader(in), Options{})
		if err != nil || len(d.Judgments) != 1 || d.Items[0].Prompt != "p" || d.Items[0].Responses[1].Text != "b" {
			t.Errorf("%s: %v %+v", name, err, d)
		}
	}
	if _, _, err := ReadTRL(bytes.NewReader([]byte{0x1f, 0x8b, 1, 2, 3}), Options{Lenient: true}); err == nil {
		t.Error("corrupt gzip: no error")
	}
}

func TestArrayStructureErrors(t *testing.T) {
	row := `{"prompt":"p","chosen":"a","rejected":"b"}`
	cases := []struct{ src, want string }{
		{"[" + row, "line 1: the JSON array is not closed"},
		{"[" + row + ",\n]", "line 2: a ',' before ']' ends the array"},
		{"[" + row + " " + row + "]", "expected ',' or ']' after element 1"},
		{"[" + row + "] x", "after the closing ']'"},
		{"[{\"prompt\": \"p\n", "line 2: a string in element 1 is not closed"},
		{"[" + strings.Repeat("[", 100), "nests deeper than"},
	}
	for _, c := range cases {
		_, _, err := ReadTRL(strings.NewReader(c.src), Options{Lenient: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.src, err, c.want)
		}
	}
	// Elements report the line they start on.
	_, _, err := ReadTRL(strings.NewReader("[\n"+row+",\n\n  {\"prompt\":\"p\"}\n]"), Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "line 4: ") {
		t.Errorf("err = %v, want line 4", err)
	}
}

func TestMerge(t *testing.T) {
	a, _ := mustRead(t, "jsonl", `{"kind":"compare","id":"e1","prompt":"p","a":"x","b":"y","choice":"a","rater":"r1"}
{"kind":"rater","rater":"r1","group":"g"}`)
	b, _ := mustRead(t, "jsonl", `{"kind":"compare","id":"e2","prompt":"p","a":"y","b":"z","choice":"b","rater":"r2"}
{"kind":"compare","id":"e1","prompt":"p","a":"x","b":"y","choice":"a","rater":"r1"}
{"kind":"rater","rater":"r1","name":"Ann"}`)
	added, conflicts, err := a.Merge(b)
	if err != nil || added != 1 || conflicts != 0 {
		t.Fatalf("merge: %d %d %v", added, conflicts, err)
	}
	checkValid(t, a)
	if len(a.Items) != 1 || len(a.Items[0].Responses) != 3 || len(a.Judgments) != 2 {
		t.Fatalf("merged: %+v", a)
	}
	if want := []feedback.Rater{{ID: "r1", Name: "Ann", Group: "g"}, {ID: "r2"}}; !reflect.DeepEqual(a.Raters, want) {
		t.Fatalf("raters %+v", a.Raters)
	}
	// Merging again changes nothing.
	before := sortedJudgments(a)
	if added, _, _ := a.Merge(b); added != 0 || !reflect.DeepEqual(before, sortedJudgments(a)) {
		t.Fatal("merge is not idempotent")
	}
	// A conflict keeps one of the two, whatever the order.
	c, _ := mustRead(t, "jsonl", `{"kind":"compare","id":"e1","prompt":"p","a":"x","b":"y","choice":"b"}`)
	if _, conflicts, _ := a.Merge(c); conflicts != 1 {
		t.Fatalf("conflicts = %d", conflicts)
	}
	// Different prompts under one item id are refused.
	d1, _ := mustRead(t, "jsonl", `{"kind":"thumb","item":"q","prompt":"one","response":"x","score":1}`)
	d2, _ := mustRead(t, "jsonl", `{"kind":"thumb","item":"q","prompt":"two","response":"x","score":1}`)
	if _, _, err := d1.Merge(d2); err == nil || !strings.Contains(err.Error(), "two different prompts") {
		t.Fatalf("err = %v", err)
	}
}

func newGzip(w *bytes.Buffer) *gzip.Writer { return gzip.NewWriter(w) }
