package formats

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"prefer/core/feedback"
)

// TestSlimRoundTrip: every judgment comes back from its compact form as it went in,
// the common imported ones held without their feedback.Judgment (full == nil) and
// the others with it.
func TestSlimRoundTrip(t *testing.T) {
	ha, hb, hc := feedback.ResponseID("a"), feedback.ResponseID("b"), feedback.ResponseID("c")
	base := feedback.Judgment{ID: "trl-0123", Kind: feedback.KindCompare, Item: "p1", A: ha, B: hb, Choice: feedback.ChoiceA, Pos: 3}
	with := func(f func(j *feedback.Judgment)) feedback.Judgment {
		j := base
		f(&j)
		return j
	}
	for _, tc := range []struct {
		name string
		j    feedback.Judgment
		slim bool
	}{
		{"compare", base, true},
		{"compare with strength, rater, time", with(func(j *feedback.Judgment) { j.Strength, j.Rater, j.Time = -3, "r1", 1700000000123 }), true},
		{"tie", with(func(j *feedback.Judgment) { j.Choice = feedback.ChoiceTie }), true},
		{"both bad", with(func(j *feedback.Judgment) { j.Choice = feedback.ChoiceBothBad }), true},
		{"undecided", with(func(j *feedback.Judgment) { j.Choice = "" }), true},
		{"thumb", feedback.Judgment{ID: "t", Kind: feedback.KindThumb, Item: "p", Response: ha, Score: -1, Pos: 1}, true},
		{"no kind", feedback.Judgment{ID: "x"}, true},
		{"rate", feedback.Judgment{ID: "r", Kind: feedback.KindRate, Item: "p", Response: ha, Axis: "helpful", Score: 6}, false},
		{"rank", feedback.Judgment{ID: "k", Kind: feedback.KindRank, Item: "p", Shown: []string{hb, ha}, Order: []int{1, 0}}, false},
		{"rewrite", feedback.Judgment{ID: "w", Kind: feedback.KindRewrite, Item: "p", Response: ha, Text: "better"}, false},
		{"flag", feedback.Judgment{ID: "f", Kind: feedback.KindFlag, Item: "p", Response: ha, Category: "harmful", Note: "n"}, false},
		{"review", feedback.Judgment{ID: "v", Kind: feedback.KindReview, Target: "f", Verdict: "reject"}, false},
		{"revision", with(func(j *feedback.Judgment) { j.Revises = "trl-0000" }), false},
		{"session fields", with(func(j *feedback.Judgment) {
			j.Session, j.Seq, j.MS, j.Guideline, j.Left, j.Reasons = "s", 2, 5400, 1, "b", []string{"long"}
		}), false},
		{"unknown kind", with(func(j *feedback.Judgment) { j.Kind = "vote" }), false},
		{"unknown choice", with(func(j *feedback.Judgment) { j.Choice = "c" }), false},
		{"response and a", with(func(j *feedback.Judgment) { j.Response = hc }), false},
		{"large strength", with(func(j *feedback.Judgment) { j.Strength = math.MaxInt32 + 1 }), false},
		{"large score", with(func(j *feedback.Judgment) { j.Score = math.MinInt32 - 1 }), false},
		{"item not imported", with(func(j *feedback.Judgment) { j.Item = "p9" }), false},
		{"response not in the item", with(func(j *feedback.Judgment) { j.B = "hz" }), false},
		{"responses without an item", feedback.Judgment{ID: "n", Kind: feedback.KindThumb, Response: ha, Score: 1}, false},
	} {
		items := []slimItem{{id: "p", prompt: "q"}, {id: "p1", prompt: "q1"}}
		for _, text := range []string{"a", "b", "c"} {
			items[1].resp = append(items[1].resp, slimResp(&feedback.Response{ID: feedback.ResponseID(text), Text: text, Source: feedback.SourceImported}))
		}
		items[0].resp = items[1].resp[:1]
		item := slices.IndexFunc(items, func(it slimItem) bool { return it.id == tc.j.Item })
		s := slim(&tc.j, items, item)
		if (s.full == nil) != tc.slim {
			t.Errorf("%s: held slim %v, want %v", tc.name, s.full == nil, tc.slim)
		}
		got := feedback.Judgment{ID: "dirty", Reasons: []string{"left over"}, Order: []int{9}}
		s.judgment(items, &got)
		if !reflect.DeepEqual(got, tc.j) {
			t.Errorf("%s: came back as %+v, want %+v", tc.name, got, tc.j)
		}
		if s.kindOf() != tc.j.Kind {
			t.Errorf("%s: kind %q, want %q", tc.name, s.kindOf(), tc.j.Kind)
		}
	}
	// The sizes the memory figures assume (Compact's comment): 80 bytes on 64-bit
	// platforms, against feedback.Judgment's 400.
	if unsafe.Sizeof(uintptr(0)) == 8 {
		if n, full := unsafe.Sizeof(slimJudgment{}), unsafe.Sizeof(feedback.Judgment{}); n != 80 || full != 400 {
			t.Errorf("slimJudgment is %d bytes and feedback.Judgment %d, want 80 and 400", n, full)
		}
	}
}

// TestCompactSortCanonical: Compact sorts as feedback.SortCanonical sorts the
// expanded judgments (time, then id).
func TestCompactSortCanonical(t *testing.T) {
	var c Compact
	for i, id := range []string{"c", "a", "e", "b", "d", "f"} {
		j := feedback.Judgment{ID: id, Kind: feedback.KindCompare, Time: int64(i % 2), Pos: i + 1}
		if id == "e" {
			j.Note = "held in full"
		}
		c.js = append(c.js, slim(&j, nil, -1))
	}
	want := c.All()
	feedback.SortCanonical(want)
	c.SortCanonical()
	if got := c.All(); !reflect.DeepEqual(got, want) {
		t.Fatalf("sorted %v, want %v", got, want)
	}
}

// TestCompactImportMemory: the live heap of a Compact import of 20,000 generated TRL
// pairs (unique prompts, two responses each, like the benchmark's writeScaleTRL),
// per input byte. Measured: 1.01× with Compact (items, responses and judgments
// compact, ids held as the hashes they spell), 1.52× with the first compact items,
// 2.44× with only the judgments compact, 5.0× expanded (Import without it, what the
// builder held before). The bound, 1.3×, leaves 30% headroom and fails on all the
// earlier forms.
func TestCompactImportMemory(t *testing.T) {
	data := scaleTRL(20000)
	live := func(compact bool) float64 {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d, _, err := ReadTRL(strings.NewReader(data), Options{Compact: compact, InputSize: int64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(d)
		return float64(after.HeapAlloc-before.HeapAlloc) / float64(len(data))
	}
	live(true) // the first import allocates what the package keeps (encoding/json's caches)
	expanded, compact := live(false), live(true)
	t.Logf("live heap per input byte: %.2f× compact, %.2f× expanded", compact, expanded)
	if compact > 1.3 {
		t.Errorf("a Compact import holds %.2f× its input, more than 1.3×", compact)
	}
}

// scaleTRL returns n TRL pairs like the benchmark's writeScaleTRL (server/cli): a
// distinct prompt each, a chosen and a rejected response from a few texts.
func scaleTRL(n int) string {
	chosen := []string{
		"Use dry wood in a ring of stones and light it with a match; keep water near.",
		"9 meters is 900 centimeters.",
		"Great question! Many people ask about this. Every situation is a little different.",
	}
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"prompt":"How do I light a campfire safely? (request %d)","chosen":%q,"rejected":"I can not help with that request, sorry (%d)."}`+"\n",
			i+1, chosen[i%len(chosen)], i%5)
	}
	return in.String()
}

// TestSlimItemRoundTrip: items and responses come back from their compact forms as
// they went in, imported responses without their feedback.Response and the others
// with it; an item given into a used one loses nothing of the old one.
func TestSlimItemRoundTrip(t *testing.T) {
	g := 1.5
	plain := feedback.Response{ID: feedback.ResponseID("one"), Text: "one", Source: feedback.SourceImported}
	for _, tc := range []struct {
		r    feedback.Response
		slim bool
	}{
		{plain, true},
		{feedback.Response{ID: "h1", Text: "an id not of ResponseID's form", Source: feedback.SourceImported}, false},
		{feedback.Response{ID: strings.ToUpper(plain.ID), Text: "one", Source: feedback.SourceImported}, false},
		{feedback.Response{ID: "h2", Text: "two", Source: feedback.SourceRewrite}, false},
		{feedback.Response{ID: "h3", Text: "three"}, false},
		{feedback.Response{ID: "h4", Text: "four", Source: feedback.SourceImported, Gold: &g}, false},
		{feedback.Response{ID: "h5", Text: "five", Source: feedback.SourceImported, Parts: []string{"x"}}, false},
		{feedback.Response{ID: "h6", Text: "six", Source: feedback.SourceImported, RefProb: 0.5}, false},
		{feedback.Response{ID: "h7", Text: "seven", Source: feedback.SourceImported, Origins: []feedback.Origin{{Model: "m"}}}, false},
	} {
		s := slimResp(&tc.r)
		if (s.full == nil) != tc.slim {
			t.Errorf("%s: held slim %v, want %v", tc.r.ID, s.full == nil, tc.slim)
		}
		got := feedback.Response{Parts: []string{"left over"}}
		s.response(&got)
		if !reflect.DeepEqual(got, tc.r) {
			t.Errorf("%s: came back as %+v", tc.r.ID, got)
		}
	}
	two := slimItem{id: "p1", prompt: "q", resp: []slimResponse{slimResp(&plain), slimResp(&feedback.Response{ID: "h2", Text: "two", Source: feedback.SourceRewrite})}}
	if two.find(plain.ID) != 0 || two.find("h2") != 1 || two.find(strings.ToUpper(plain.ID)) != -1 || two.find("h") != -1 {
		t.Errorf("find: %d %d %d %d, want 0 1 -1 -1", two.find(plain.ID), two.find("h2"), two.find(strings.ToUpper(plain.ID)), two.find("h"))
	}
	two.ext().tags = []string{"a"}
	two.ext().goldBest = "h1"
	bare := slimItem{id: "p2", prompt: "r"}
	var it feedback.Item
	two.item(&it)
	want := feedback.Item{ID: "p1", Prompt: "q", Tags: []string{"a"}, GoldBest: "h1",
		Responses: []feedback.Response{plain, {ID: "h2", Text: "two", Source: feedback.SourceRewrite}}}
	if !reflect.DeepEqual(it, want) {
		t.Errorf("item came back as %+v", it)
	}
	bare.item(&it) // into the used one
	if !reflect.DeepEqual(it, feedback.Item{ID: "p2", Prompt: "r"}) {
		t.Errorf("bare item came back as %+v", it)
	}
	if n, full := unsafe.Sizeof(slimItem{}), unsafe.Sizeof(slimResponse{}); unsafe.Sizeof(uintptr(0)) == 8 && (n != 64 || full != 32) {
		t.Errorf("slimItem is %d bytes and slimResponse %d, want 64 and 32", n, full)
	}
}

// TestSlimItemIDs: an item whose id is ItemID(prompt) holds no id string and gives
// it back; any other id, the empty one included, is kept as given.
func TestSlimItemIDs(t *testing.T) {
	b := newBuilder("trl", "trl", Options{})
	derived := ItemID("a prompt")
	for _, tc := range []struct{ id, prompt string }{
		{derived, "a prompt"},
		{ItemID("another prompt"), "not that prompt"}, // ItemID's form, not its value
		{"", "empty id"},
		{"q1", "an explicit id"},
		{strings.ToUpper(derived), "upper case"},
	} {
		st := b.item(tc.id, tc.prompt)
		it := &b.c.items[st.idx]
		if got := it.itemID(); got != tc.id {
			t.Errorf("item %q: id came back as %q", tc.id, got)
		}
		if held := it.id != ""; held != (tc.id != derived && tc.id != "") {
			t.Errorf("item %q: id string held %v", tc.id, held)
		}
		if k, ok := b.lookup(tc.id); !ok || k != st.idx {
			t.Errorf("item %q: lookup gave %d, %v; want %d", tc.id, k, ok, st.idx)
		}
		if again := b.item(tc.id, tc.prompt); again != st {
			t.Errorf("item %q: made twice", tc.id)
		}
	}
	if _, ok := b.lookup(ItemID("never given")); ok {
		t.Error("lookup found an item never given")
	}
}

// TestExpandSharesIDs: the judgments Import expands name their items and responses
// with the items' own strings (one copy of each id in memory, as the worker keeps
// the dataset).
func TestExpandSharesIDs(t *testing.T) {
	d, _, err := ReadTRL(strings.NewReader(scaleTRL(50)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	items := indexItems(d)
	for _, j := range d.Judgments {
		it := items[j.Item]
		if unsafe.StringData(j.Item) != unsafe.StringData(it.ID) {
			t.Fatalf("judgment %s: its item id is a copy", j.ID)
		}
		for _, id := range []string{j.A, j.B} {
			r := it.Response(id)
			if r == nil || unsafe.StringData(id) != unsafe.StringData(r.ID) {
				t.Fatalf("judgment %s: response id %s is a copy or missing", j.ID, id)
			}
		}
	}
}

// nonZero returns a value of type t that is not its zero value (for the field-by-field
// guards below): "x", 7, 0.5, true, a slice of one, a pointer to one, a struct with its
// first field set.
func nonZero(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.Append(v, nonZero(t.Elem())))
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
		v.Elem().Set(nonZero(t.Elem()))
	case reflect.Struct:
		v.Field(0).Set(nonZero(t.Field(0).Type))
	default:
		panic("nonZero: no value for " + t.String())
	}
	return v
}

// TestSlimKeepsEveryField: each field of feedback.Judgment and feedback.Response,
// set on its own on a judgment (response) the compact form would hold slim, comes
// back from it — so a field added to either type later is not dropped by every
// import without a word: slim and slimResp list the fields they can leave out, and
// this fails until the new one is among them or held in full.
func TestSlimKeepsEveryField(t *testing.T) {
	ha, hb := feedback.ResponseID("a"), feedback.ResponseID("b")
	items := []slimItem{{id: "p1", prompt: "q1"}}
	for _, text := range []string{"a", "b"} {
		items[0].resp = append(items[0].resp, slimResp(&feedback.Response{ID: feedback.ResponseID(text), Text: text, Source: feedback.SourceImported}))
	}
	base := feedback.Judgment{ID: "trl-1", Kind: feedback.KindCompare, Item: "p1", A: ha, B: hb, Choice: feedback.ChoiceA}
	jt := reflect.TypeOf(base)
	for i := range jt.NumField() {
		j := base
		reflect.ValueOf(&j).Elem().Field(i).Set(nonZero(jt.Field(i).Type))
		s := slim(&j, items, slices.IndexFunc(items, func(it slimItem) bool { return it.id == j.Item }))
		var got feedback.Judgment
		s.judgment(items, &got)
		if !reflect.DeepEqual(got, j) {
			t.Errorf("Judgment.%s set: came back as %+v, want %+v", jt.Field(i).Name, got, j)
		}
	}
	plain := feedback.Response{ID: ha, Text: "a", Source: feedback.SourceImported}
	rt := reflect.TypeOf(plain)
	for i := range rt.NumField() {
		r := plain
		reflect.ValueOf(&r).Elem().Field(i).Set(nonZero(rt.Field(i).Type))
		s := slimResp(&r)
		var got feedback.Response
		s.response(&got)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("Response.%s set: came back as %+v, want %+v", rt.Field(i).Name, got, r)
		}
	}
}
