package formats

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"prefer/core/feedback"
)

func readFixture(tb testing.TB, name string) string {
	tb.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func TestJSONLFixture(t *testing.T) {
	d, rep := mustRead(t, "jsonl", readFixture(t, "prefer.jsonl"))
	if rep.Records != 11 || len(d.Judgments) != 10 || len(d.Items) != 2 {
		t.Fatalf("records %d, judgments %d, items %d; want 11, 10, 2", rep.Records, len(d.Judgments), len(d.Items))
	}
	q := d.Items[0]
	if q.ID != "q17" || q.Prompt != "What is the capital of Australia?" {
		t.Fatalf("item 0 = %+v", q)
	}
	var texts []string
	for _, r := range q.Responses {
		texts = append(texts, r.Text+"|"+string(r.Source))
	}
	want := []string{"Canberra.|imported", "Sydney, of course!|imported", "I can't help with that.|imported", "Canberra, not Sydney.|rewrite"}
	if !reflect.DeepEqual(texts, want) {
		t.Fatalf("responses %q, want %q", texts, want)
	}
	egg := d.Items[1]
	if egg.ID != ItemID("How do I boil an egg?") || len(egg.Responses) != 2 {
		t.Fatalf("item 1 = %+v", egg)
	}
	id := feedback.ResponseID
	c := d.Judgments[0]
	wantC := feedback.Judgment{ID: c.ID, Kind: feedback.KindCompare, Item: "q17", Rater: "r3", Time: 1714550400000, Session: "s1", Seq: 1,
		MS: 5400, Guideline: 2, Reasons: []string{"factually wrong"}, A: id("Canberra."), B: id("Sydney, of course!"),
		Choice: feedback.ChoiceA, Strength: 2, Left: "b", Pos: 1}
	if !reflect.DeepEqual(c, wantC) || !strings.HasPrefix(c.ID, "jsonl-") || len(c.ID) != len("jsonl-")+20 {
		t.Fatalf("compare:\n got %+v\nwant %+v", c, wantC)
	}
	k := d.Judgments[1]
	if !reflect.DeepEqual(k.Shown, []string{id("Sydney, of course!"), id("Canberra."), id("I can't help with that.")}) ||
		!reflect.DeepEqual(k.Ranked(), []string{id("Canberra."), id("Sydney, of course!"), id("I can't help with that.")}) {
		t.Fatalf("rank: %+v", k)
	}
	if j := d.Judgments[2]; j.Kind != feedback.KindRate || j.Axis != "helpful" || j.Score != 6 || j.Response != id("Canberra.") {
		t.Fatalf("rate: %+v", j)
	}
	if j := d.Judgments[4]; j.ID != "f1" || j.Category != "misleading" || j.Note != "Refuses a harmless question." {
		t.Fatalf("flag: %+v", j)
	}
	if j := d.Judgments[9]; j.Kind != feedback.KindReview || j.Target != "f1" || j.Verdict != "accept" || j.Rater != "lead" {
		t.Fatalf("review: %+v", j)
	}
	if j := d.Judgments[6]; j.Kind != feedback.KindThumb || j.Score != -1 || !reflect.DeepEqual(j.Reasons, []string{"off-topic"}) {
		t.Fatalf("thumb: %+v", j)
	}
	wantR := []feedback.Rater{{ID: "r3", Name: "Ana", Group: "night shift", Kind: feedback.RaterHuman}, {ID: "r4"}, {ID: "r5"}, {ID: "r6"}, {ID: "lead"}}
	if !reflect.DeepEqual(d.Raters, wantR) {
		t.Fatalf("raters %+v", d.Raters)
	}
	// The rewrite is a response, so it yields the pair rewrite ≻ rewritten (feedback.Pairs).
	pairs := feedback.Pairs(d.Items, d.Judgments, feedback.PairOptions{Flags: feedback.FlagIgnore})
	found := false
	for _, p := range pairs {
		if p.Winner == id("Canberra, not Sydney.") && p.Loser == id("Sydney, of course!") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no rewrite pair in %+v", pairs)
	}
	// Re-importing gives the same ids.
	again, _ := mustRead(t, "jsonl", readFixture(t, "prefer.jsonl"))
	if !reflect.DeepEqual(again, d) {
		t.Fatal("a second import differs")
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	d, _ := mustRead(t, "jsonl", readFixture(t, "prefer.jsonl"))
	var buf bytes.Buffer
	rep, err := WriteJSONL(&buf, d)
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// Only r3 needs a rater line; the items are reproduced by their judgments alone.
	if n := strings.Count(out, `"kind":"rater"`); n != 1 || strings.Contains(out, `"kind":"item"`) || rep.Records != 11 {
		t.Fatalf("rater lines %d, records %d:\n%s", n, rep.Records, out)
	}
	back, _ := mustRead(t, "jsonl", out)
	sameDataset(t, d, back)
	// Exporting the re-import gives the same bytes.
	var buf2 bytes.Buffer
	if _, err := WriteJSONL(&buf2, back); err != nil || buf2.String() != out {
		t.Fatalf("second export differs: %v\n%s\n---\n%s", err, out, buf2.String())
	}
}

func gold(v float64) *float64 { return &v }

// snapshotLike is a dataset as the app or the demo writes it: explicit item ids,
// response metadata, unjudged responses, a rewrite whose text is not a response,
// simulated raters, an unreferenced rater, judgments in canonical (time) order.
func snapshotLike() *Dataset {
	id := feedback.ResponseID
	resp := func(text string, src feedback.Source, g float64, parts ...string) feedback.Response {
		return feedback.Response{ID: id(text), Text: text, Source: src, Gold: gold(g), Parts: parts, RefProb: 0.25}
	}
	return &Dataset{
		Items: []feedback.Item{
			{ID: "q1", Prompt: "What is 12 * 12?", Tags: []string{"facts", "math"}, GoldBest: id("144."),
				Responses: []feedback.Response{
					resp("Great question! It is 124.", feedback.SourceReference, -1, "polite", "wrong"),
					resp("144.", feedback.SourceReference, 2, "correct"),
					resp("I cannot answer that.", feedback.SourceReference, -0.5, "refusal"),
					resp("It is 144, and multiplication is fun.", feedback.SourcePolicy, 1.5, "correct", "filler"),
				}},
			{ID: "q2", Prompt: "", Responses: []feedback.Response{{ID: id(""), Text: "", Source: feedback.SourceImported}, {ID: id("x"), Text: "x", Source: feedback.SourceImported}}},
			{ID: "q3", Prompt: "Never judged.", Responses: []feedback.Response{resp("Alone.", feedback.SourceReference, 0)}},
		},
		Raters: []feedback.Rater{
			{ID: "sim-2", Kind: feedback.RaterSimulated, Profile: "noise=0.5 verbosity=1"},
			{ID: "sim-1", Kind: feedback.RaterSimulated, Profile: "noise=0.1"},
			{ID: "idle"},
		},
		Judgments: []feedback.Judgment{
			{ID: "e1", Kind: feedback.KindCompare, Item: "q1", Rater: "sim-1", Time: 10, Seq: 1, Session: "s", A: id("144."), B: id("Great question! It is 124."), Choice: feedback.ChoiceB, Left: "a", MS: 900},
			{ID: "e2", Kind: feedback.KindRewrite, Item: "q1", Rater: "sim-2", Time: 11, Response: id("Great question! It is 124."), Text: "It is 144."},
			{ID: "e3", Kind: feedback.KindCompare, Item: "q2", Rater: "sim-2", Time: 12, A: id(""), B: id("x"), Choice: feedback.ChoiceTie},
			{ID: "e4", Kind: feedback.KindFlag, Item: "q1", Rater: "sim-1", Time: 13, Response: id("I cannot answer that."), Category: "harmful"},
			{ID: "e5", Kind: feedback.KindReview, Rater: "lead", Time: 14, Target: "e4", Verdict: feedback.VerdictEdit, Text: "not harmful", Item: "q1"},
			// Revisions: a rater's revision, a lead's edit of a
			// comparison, a rater withdrawing a rewrite.
			{ID: "e6", Kind: feedback.KindCompare, Item: "q1", Rater: "sim-1", Time: 15, Seq: 2, Session: "s", A: id("144."), B: id("Great question! It is 124."), Choice: feedback.ChoiceA, Strength: 2, Left: "a", MS: 300, Revises: "e1"},
			{ID: "e7", Kind: feedback.KindReview, Rater: "lead", Time: 16, Target: "e3", Verdict: feedback.VerdictEdit, Choice: feedback.ChoiceB, Strength: 1, Item: "q2"},
			{ID: "e8", Kind: feedback.KindReview, Rater: "sim-2", Time: 17, Target: "e2", Verdict: feedback.VerdictWithdraw, Item: "q1"},
		},
	}
}

func TestJSONLRoundTripSnapshotData(t *testing.T) {
	d := snapshotLike()
	d.Raters = append(d.Raters, feedback.Rater{ID: "lead"})
	checkValid(t, d)
	var buf bytes.Buffer
	if _, err := WriteJSONL(&buf, d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// q1 (metadata) and q3 (never judged) need an item line; q2 is reproduced by its
	// one comparison. The three raters with a profile or no judgment need rater lines;
	// "lead" is reproduced by its review.
	if n := strings.Count(out, `"kind":"item"`); n != 2 {
		t.Fatalf("item lines = %d, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, `"kind":"rater"`); n != 3 {
		t.Fatalf("rater lines = %d, want 3:\n%s", n, out)
	}
	back, _ := mustRead(t, "jsonl", out)
	sameDataset(t, d, back)
}

func TestJSONLErrors(t *testing.T) {
	cmp := func(extra string) string {
		return `{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"a"` + extra + `}`
	}
	cases := []struct{ src, want string }{
		{`{"prompt":"p"}`, `"kind" is missing`},
		{`{"kind":"vote","prompt":"p"}`, `"kind" "vote" is unknown`},
		{`{"kind":"compare","a":"x","b":"y","choice":"a"}`, `"prompt" is missing`},
		{`{"kind":"compare","prompt":"p","b":"y","choice":"a"}`, `a comparison needs "a" and "b"`},
		{`{"kind":"compare","prompt":"p","a":"y","b":"y","choice":"a"}`, `"a" and "b" are the same text`},
		{cmp(`,"strength":4`), `"strength" must be 1, 2 or 3`},
		{cmp(`,"left":"right"`), `"left" must be "a" or "b"`},
		{cmp(`,"ms":-1`), `must not be negative`},
		{`{"kind":"rank","prompt":"p","responses":["x"],"order":[0]}`, `at least two texts`},
		{`{"kind":"rank","prompt":"p","responses":["x","x"],"order":[0,1]}`, `the same text twice`},
		{`{"kind":"rank","prompt":"p","responses":["x","y"],"order":[0,0]}`, `"order" must list the indices 0..1`},
		{`{"kind":"rate","prompt":"p","response":"x","axis":"helpful","score":8}`, `"score" must be 1..7, not 8`},
		{`{"kind":"rate","prompt":"p","response":"x","score":3}`, `needs "axis"`},
		{`{"kind":"rate","prompt":"p","axis":"helpful","score":3}`, `"response" is missing`},
		{`{"kind":"rewrite","prompt":"p","response":"x","text":" "}`, `needs "text"`},
		{`{"kind":"flag","prompt":"p","response":"x","category":"rude"}`, `"category" must be one of harmful, biased, misleading, private`},
		{`{"kind":"thumb","prompt":"p","response":"x","score":2}`, `must be 1 (up) or -1 (down)`},
		{`{"kind":"review","verdict":"accept"}`, `needs "target"`},
		{`{"kind":"review","target":"f","verdict":"maybe"}`, `"verdict" must be accept, reject, edit or withdraw`},
		{`{"kind":"rater"}`, `needs "rater"`},
		{`{"kind":"thumb","item":"q","response":"x","score":1}`, `item "q" appears for the first time without a "prompt"`},
		{`{"kind":"thumb","item":"q","prompt":"a","response":"x","score":1}` + "\n" + `{"kind":"thumb","item":"q","prompt":"b","response":"x","score":1}`, `line 2: item "q" already has a different prompt`},
		{cmp(`,"id":"e1"`) + "\n" + `{"kind":"compare","id":"e1","prompt":"p","a":"x","b":"y","choice":"b"}`, `line 2: judgment id "e1" was already used`},
		// Any judgment may be reviewed, but an edit must fit its kind,
		// only its rater withdraws it, and a revision is of the same rater's.
		{`{"kind":"thumb","id":"t","prompt":"p","response":"x","score":1}` + "\n" + `{"kind":"review","target":"t","verdict":"edit","score":3}`, `line 2: review of "t": an edit of a thumb gives its score`},
		{`{"kind":"thumb","id":"t","prompt":"p","response":"x","score":1,"rater":"u1"}` + "\n" + `{"kind":"review","target":"t","verdict":"withdraw","rater":"u2"}`, `line 2: review of "t": only its rater "u1" withdraws "t"`},
		{`{"kind":"thumb","id":"t","prompt":"p","response":"x","score":1,"rater":"u1","time":1}` + "\n" + `{"kind":"thumb","id":"t2","prompt":"p","response":"x","score":-1,"rater":"u2","time":2,"revises":"t"}`, `line 2: revision of "t": "t" is rater "u1"'s judgment: a rater revises only their own`},
		{`{"kind":"item","prompt":"p","responses":["x","x"]}`, `repeats an earlier text`},
		{`{"kind":"item","prompt":"p","responses":[3]}`, `"responses"[0] must be a text or an object with "text"`},
		{`{"kind":"item","prompt":"p","responses":["x"],"gold_best":"y"}`, `"gold_best" must be the text of one of the listed responses`},
	}
	for _, c := range cases {
		err := readErr(t, "jsonl", c.src)
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant …%s…", c.src, err, c.want)
		}
	}
	// Equal lines with the same id are one judgment, counted as a duplicate.
	d, rep := mustRead(t, "jsonl", cmp(`,"id":"e1"`)+"\n"+cmp(`,"id":"e1"`))
	if len(d.Judgments) != 1 || rep.Duplicates != 1 {
		t.Fatalf("duplicates: %d judgments, %+v", len(d.Judgments), rep)
	}
	// An item given once may be referred to by id alone afterwards.
	d, _ = mustRead(t, "jsonl", `{"kind":"thumb","item":"q","prompt":"p","response":"x","score":1}`+"\n"+`{"kind":"thumb","item":"q","response":"y","score":-1}`)
	if len(d.Items) != 1 || len(d.Items[0].Responses) != 2 {
		t.Fatalf("item by id: %+v", d.Items)
	}
}

func TestJSONLDerivedIDs(t *testing.T) {
	a := `{"kind":"thumb","prompt":"p","response":"x","score":1}`
	b := `{"kind":"thumb","prompt":"p","response":"y","score":1}`
	d1, _ := mustRead(t, "jsonl", a+"\n"+a+"\n"+b)
	d2, _ := mustRead(t, "jsonl", b+"\n\n"+a+"\n"+a+"\n")
	// Identical records stay distinct; ids do not depend on position or blank lines.
	if len(d1.Judgments) != 3 || d1.Judgments[0].ID == d1.Judgments[1].ID {
		t.Fatalf("ids %+v", d1.Judgments)
	}
	ids := func(d *Dataset) map[string]bool {
		m := map[string]bool{}
		for _, j := range d.Judgments {
			m[j.ID] = true
		}
		return m
	}
	if !reflect.DeepEqual(ids(d1), ids(d2)) {
		t.Fatalf("ids depend on order: %v vs %v", ids(d1), ids(d2))
	}
	// Pinned: the id of the first thumb. It is a SHA-256 of the record's content, so
	// the same value natively and in wasm.
	if got, want := d1.Judgments[0].ID, pinnedThumbID; got != want {
		t.Fatalf("derived id %s, want %s", got, want)
	}
}

// pinnedThumbID is the derived id of {"kind":"thumb","prompt":"p","response":"x","score":1}
// (recorded from the first native run; the wasm run must agree).
const pinnedThumbID = "jsonl-3ce8267638c66be9e7a9"

// TestExportOrderJSONL: the judgments of one item come out in the order of the file
// they were imported from, not in a snapshot's canonical order (time, then id: here
// "a1" before "z1"), so the export of an imported file gives its bytes back.
func TestExportOrderJSONL(t *testing.T) {
	in := `{"kind":"compare","id":"z1","prompt":"p","a":"x","b":"y","choice":"a"}` + "\n" +
		`{"kind":"compare","id":"a1","prompt":"p","a":"y","b":"x","choice":"b"}` + "\n"
	d, _ := mustRead(t, "jsonl", in)
	feedback.SortCanonical(d.Judgments)
	if d.Judgments[0].ID != "a1" {
		t.Fatalf("canonical order starts with %q, want a1", d.Judgments[0].ID)
	}
	var buf bytes.Buffer
	if _, err := WriteJSONL(&buf, d); err != nil {
		t.Fatal(err)
	}
	if buf.String() != in {
		t.Fatalf("export:\n%s\nwant\n%s", buf.String(), in)
	}
}
