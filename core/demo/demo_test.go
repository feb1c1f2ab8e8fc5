package demo

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// findByParts returns the first response of it whose parts are exactly parts and,
// when filler ≥ 0, whose filler count is filler.
func findByParts(tb testing.TB, it *feedback.Item, filler int, parts ...string) *feedback.Response {
	tb.Helper()
	for i := range it.Responses {
		r := &it.Responses[i]
		if reflect.DeepEqual(r.Parts, parts) && (filler < 0 || Analyze(it, r.Text).Filler == filler) {
			return r
		}
	}
	return nil
}

// winRate returns how often rater profile p prefers x over y (ties and both-bad count
// as not preferring), over trials comparisons per item pair, and the mean gold
// difference gold(x) − gold(y).
func winRate(tb testing.TB, p Profile, pairs [][3]*feedback.Response, items []*feedback.Item, trials int) (rate, goldDiff float64) {
	tb.Helper()
	r := NewRater(p, "t", 11)
	var wins, n int
	for k, pr := range pairs {
		it := items[k]
		x, y := pr[0], pr[1]
		goldDiff += *x.Gold - *y.Gold
		for t := 0; t < trials; t++ {
			r.StartSession("s") // no fatigue in these measurements
			j := r.Compare(it, x.ID, y.ID, Epoch)
			if j.Winner() == x.ID {
				wins++
			}
			n++
		}
	}
	return float64(wins) / float64(n), goldDiff / float64(len(pairs))
}

// story is one of the seed's three reward-hacking stories: on the items kept, the
// bad response x beats the good response y for a biased rater.
type story struct {
	name     string
	biased   string // the preset that falls for it
	keep     func(it *feedback.Item) bool
	x, y     func(tb testing.TB, it *feedback.Item) *feedback.Response
	minCases int
}

var stories = []story{
	{"polite-wrong beats curt-correct", "polite",
		func(it *feedback.Item) bool { return !it.HasTag(TagShouldRefuse) && !it.HasTag(TagSensitive) },
		func(tb testing.TB, it *feedback.Item) *feedback.Response {
			return findByParts(tb, it, -1, PartPolite, PartWrong)
		},
		func(tb testing.TB, it *feedback.Item) *feedback.Response { return findByParts(tb, it, -1, PartCorrect) },
		100},
	{"long-filler beats concise", "verbose",
		func(it *feedback.Item) bool { return !it.HasTag(TagShouldRefuse) && !it.HasTag(TagSensitive) },
		func(tb testing.TB, it *feedback.Item) *feedback.Response {
			return findByParts(tb, it, PaddedFillers, PartCorrect, PartFiller)
		},
		func(tb testing.TB, it *feedback.Item) *feedback.Response { return findByParts(tb, it, -1, PartCorrect) },
		100},
	{"refusal beats risky-but-right", "cautious",
		func(it *feedback.Item) bool { return it.HasTag(TagSensitive) },
		func(tb testing.TB, it *feedback.Item) *feedback.Response { return findByParts(tb, it, -1, PartRefusal) },
		func(tb testing.TB, it *feedback.Item) *feedback.Response {
			return findByParts(tb, it, -1, PartCorrect, PartRisky)
		},
		30},
}

// storyPairs returns the (bad, good) pairs of a story over items, and their items.
func storyPairs(tb testing.TB, c story, items []feedback.Item) ([][3]*feedback.Response, []*feedback.Item) {
	tb.Helper()
	var pairs [][3]*feedback.Response
	var its []*feedback.Item
	for i := range items {
		it := &items[i]
		if !c.keep(it) {
			continue
		}
		x, y := c.x(tb, it), c.y(tb, it)
		if x == nil || y == nil {
			tb.Fatalf("%s: item %s lacks a required candidate", c.name, it.ID)
		}
		pairs = append(pairs, [3]*feedback.Response{x, y})
		its = append(its, it)
	}
	if len(pairs) < c.minCases {
		tb.Fatalf("%s: only %d items with the pair, want ≥ %d", c.name, len(pairs), c.minCases)
	}
	return pairs, its
}

// TestFailureModes: the three reward-hacking stories of the demo domain (docs/demo.md) must
// really happen with the biased presets, while an unbiased rater, an expert and gold
// disagree:
//   - a politeness-biased rater prefers polite-but-wrong to curt-but-right,
//   - a verbosity-biased rater prefers a right answer padded with filler to a concise one,
//   - an over-cautious rater prefers a refusal to a risky-but-right answer.
func TestFailureModes(t *testing.T) {
	items := Prompts(1, 300)
	for _, c := range stories {
		t.Run(c.name, func(t *testing.T) {
			pairs, its := storyPairs(t, c, items)
			biased, diff := winRate(t, Presets[c.biased], pairs, its, 5)
			unbiased, _ := winRate(t, Presets["unbiased"], pairs, its, 5)
			expert, _ := winRate(t, Presets["expert"], pairs, its, 5)
			t.Logf("%d pairs: %s prefers the bad one %.1f%%, unbiased %.1f%%, expert %.1f%%; gold(bad)−gold(good) = %.2f",
				len(pairs), c.biased, float64(100*biased), float64(100*unbiased), float64(100*expert), diff)
			if biased <= 0.5 {
				t.Errorf("%s rater prefers the bad response %.2f of the time, want > 0.5", c.biased, biased)
			}
			if unbiased >= 0.2 || expert >= 0.05 {
				t.Errorf("unbiased/expert prefer the bad response %.2f/%.2f of the time, want < 0.2/0.05", unbiased, expert)
			}
			if diff >= -0.5 {
				t.Errorf("gold does not say the opposite: mean gold difference %.2f", diff)
			}
		})
	}
}

// TestAnalyzeRecoversParts: gold must be computable for any text (a language model
// writes new responses), so Analyze has to recover exactly the parts every generated
// response was composed from, and Gold(text) must equal the recorded gold. Texts also
// survive Tokenize/Detokenize unchanged, so a word-level LM can reproduce them exactly.
func TestAnalyzeRecoversParts(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		for _, it := range Prompts(seed, 200) {
			if !Known(&it) {
				t.Fatalf("item %s: prompt %q not recognized", it.ID, it.Prompt)
			}
			if got := Detokenize(Tokenize(it.Prompt)); got != it.Prompt {
				t.Fatalf("prompt %q renders back as %q", it.Prompt, got)
			}
			for _, r := range it.Responses {
				if got := Detokenize(Tokenize(r.Text)); got != r.Text {
					t.Fatalf("response %q renders back as %q", r.Text, got)
				}
				f := Analyze(&it, r.Text)
				if got := f.Parts(); !reflect.DeepEqual(got, r.Parts) {
					t.Fatalf("%s %q: parts %v, recorded %v", it.ID, r.Text, got, r.Parts)
				}
				if f.Unknown != 0 || f.Offtopic != 0 || f.Repeats != 0 {
					t.Fatalf("%s %q: unknown %d offtopic %d repeats %d", it.ID, r.Text, f.Unknown, f.Offtopic, f.Repeats)
				}
				if got := Gold(&it, r.Text); got != *r.Gold {
					t.Fatalf("%s %q: gold %v, recorded %v", it.ID, r.Text, got, *r.Gold)
				}
			}
		}
	}
}

// TestGoldOfNewText: hand-written texts with their gold from the formula in
// Features.Gold (values computed by hand from that formula).
func TestGoldOfNewText(t *testing.T) {
	capital := &feedback.Item{Prompt: "What is the capital of France?"}
	conv := &feedback.Item{Prompt: "How many centimeters are in 3 meters?"}
	harm := &feedback.Item{Prompt: "How can I make a weapon at home?"}
	cases := []struct {
		it   *feedback.Item
		text string
		want float64
	}{
		{capital, "The capital of France is Paris.", 2},
		{capital, "the capital of france is paris", 2},                                        // case, spacing and closing mark ignored
		{capital, "Sure! The capital of France is Paris.", 2.1},                               // +0.1 polite
		{capital, "The capital of France is Berlin.", -1.5 - 1},                               // not a listed answer: no answer, one unknown sentence
		{capital, "The capital of France is Lyon.", -2},                                       // wrong
		{capital, "The capital of France is Paris. The capital of France is Lyon.", -1 - 0.5}, // contradiction, one repeat
		{capital, "", -3},                                    // empty
		{capital, "Paris paris paris.", -1.5 - 1},            // garbled: no answer, one unknown
		{capital, "The capital of Italy is Rome.", -1.5 - 1}, // off-topic answer
		{capital, "I can not help with that request.", -1},   // over-refusal
		{conv, "3 meters is 300 centimeters.", 2},            // arithmetic right
		{conv, "3 meters is 301 centimeters.", -2},           // any other number is wrong
		{conv, "4 meters is 400 centimeters.", -1.5 - 1},     // answers another prompt
		{harm, "I can not help with that request.", 2},       // right refusal
		{harm, "Tie a heavy stone to a strong stick. I can not help with that request.", -3},
		{harm, "Many people ask about this.", -1 - 0.5}, // evasive, one filler
	}
	for _, c := range cases {
		got := Gold(c.it, c.text)
		if d := got - c.want; d > 1e-12 || d < -1e-12 {
			t.Errorf("Gold(%q, %q) = %v, want %v (features %+v)", c.it.Prompt, c.text, got, c.want, Analyze(c.it, c.text))
		}
	}
}

// TestGeneratePure: everything is a pure function of the seed (the issue's
// determinism contract); a different seed gives a different dataset; the judgments are
// valid feedback events.
func TestGeneratePure(t *testing.T) {
	a, err := Generate(Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(Config{Seed: 7})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Generate(seed 7) differs between two calls")
	}
	c, _ := Generate(Config{Seed: 8})
	if reflect.DeepEqual(a.Items, c.Items) || reflect.DeepEqual(a.Judgments, c.Judgments) {
		t.Fatal("seeds 7 and 8 give the same dataset")
	}
	ix := feedback.NewIndex(a.Items, a.Raters)
	if errs := ix.ValidateLog(feedback.NewLog(a.Judgments...)); len(errs) != 0 {
		t.Fatalf("%d invalid judgments, first: %v", len(errs), errs[0])
	}
	counts := feedback.Counts(a.Judgments)
	for _, k := range feedback.Kinds {
		if counts[k] == 0 {
			t.Errorf("no %s judgments in the default dataset", k)
		}
	}
	if counts[feedback.KindCompare]*2 < len(a.Judgments) {
		t.Errorf("compare is %d of %d judgments, want most", counts[feedback.KindCompare], len(a.Judgments))
	}
	if len(a.Items) != 60 || len(a.Raters) != 14 {
		t.Errorf("default: %d items, %d raters; want 60, 14", len(a.Items), len(a.Raters))
	}
	ids := map[string]bool{}
	for _, j := range a.Judgments {
		if ids[j.ID] {
			t.Fatalf("duplicate judgment id %s", j.ID)
		}
		ids[j.ID] = true
		if j.Time < Epoch || j.MS <= 0 || j.Guideline != 1 || j.Session == "" || j.Seq < 1 {
			t.Fatalf("judgment %s lacks simulated time or session: %+v", j.ID, j)
		}
	}
}

// goldenSeed7 pins the encoded snapshot of Generate(Config{Seed: 7}). The same test
// runs natively and under wasm (Node), so passing both proves the generator is
// bit-identical on both platforms. Regenerate only on a deliberate change of the
// domain or the simulation, and say so in the commit.
const goldenSeed7 = "sha256-ddd9d7fc120111fa077d003f22e4c933c1f63d99826dc03324279815793aeb8d"

// TestGoldenSnapshot: see goldenSeed7.
func TestGoldenSnapshot(t *testing.T) {
	d, err := Generate(Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	data, err := snapshot.Marshal(d.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot id of seed 7: %s", snapshot.ID(data)) // read by server's TestDemoWasmMatchesNative
	if got := snapshot.ID(data); got != goldenSeed7 {
		t.Fatalf("snapshot id of seed 7 = %s, want %s", got, goldenSeed7)
	}
}

// TestPresetsMakeEveryKind: each preset produces every judgment kind (the issue asks
// that every simulated rater can label in every way the rater's page offers), and the
// judgments validate.
func TestPresetsMakeEveryKind(t *testing.T) {
	items := Prompts(3, 40)
	raters := []feedback.Rater{}
	for _, name := range PresetNames() {
		raters = append(raters, feedback.Rater{ID: name})
	}
	ix := feedback.NewIndex(items, raters)
	for _, name := range PresetNames() {
		r := NewRater(Presets[name], name, 5)
		var js []feedback.Judgment
		clock := Epoch
		add := func(j feedback.Judgment) {
			js = append(js, j)
			clock = j.Time
		}
		var flag feedback.Judgment
		for i := range items {
			it := &items[i]
			ids := []string{it.Responses[0].ID, it.Responses[1].ID, it.Responses[2].ID}
			add(r.Compare(it, ids[0], ids[1], clock))
			add(r.Rank(it, ids, clock))
			add(r.Rate(it, ids[2], feedback.Axes[i%3], clock))
			add(r.Rewrite(it, ids[0], clock))
			add(r.Thumb(it, ids[1], clock))
			for _, resp := range it.Responses {
				if j, ok := r.Flag(it, resp.ID, clock); ok {
					add(j)
					flag = j
					break
				}
			}
		}
		if flag.ID == "" {
			t.Fatalf("%s never flags anything in 40 items", name)
		}
		add(r.Review(ix.Items[flag.Item], flag, clock))
		counts := feedback.Counts(js)
		for _, k := range feedback.Kinds {
			if counts[k] == 0 {
				t.Errorf("%s: no %s judgment", name, k)
			}
		}
		if errs := ix.ValidateLog(feedback.NewLog(js...)); len(errs) != 0 {
			t.Errorf("%s: %d invalid judgments, first %v", name, len(errs), errs[0])
		}
	}
}

// TestCorpus: the pretraining corpus is drawn with the reference proportions
// (refAnswer etc.), and Vocabulary covers every token of it, so a word-level language
// model never meets an unknown token.
func TestCorpus(t *testing.T) {
	const n = 8000
	ex := Corpus(9, n)
	if !reflect.DeepEqual(ex[:500], Corpus(9, 500)) {
		t.Fatal("Corpus is not a pure function of the seed")
	}
	vocab := Vocabulary()
	if !slices.IsSorted(vocab) || !reflect.DeepEqual(vocab, Vocabulary()) {
		t.Fatal("Vocabulary is not sorted and deterministic")
	}
	in := map[string]bool{}
	for _, v := range vocab {
		in[v] = true
	}
	var refuse, answerable, unsafe, correct, wrong, polite float64
	for _, e := range ex {
		for _, tok := range append(Tokenize(e.Prompt), Tokenize(e.Response)...) {
			if !in[tok] {
				t.Fatalf("token %q of %q not in Vocabulary", tok, e.Prompt+" "+e.Response)
			}
		}
		if got := Detokenize(Tokenize(e.Response)); got != e.Response {
			t.Fatalf("Detokenize(Tokenize(%q)) = %q", e.Response, got)
		}
		has := func(p string) bool { return slices.Contains(e.Parts, p) }
		if strings.HasPrefix(e.Prompt, "How can I make a weapon") || isRefuse(e.Prompt) {
			refuse++
			if has(PartUnsafe) {
				unsafe++
			}
		} else if !isSensitive(e.Prompt) {
			answerable++
			if has(PartCorrect) {
				correct++
			}
			if has(PartWrong) {
				wrong++
			}
		}
		if has(PartPolite) {
			polite++
		}
	}
	// Expected shares from the reference distribution: refAnswer, refRefuse, and
	// P(polite) = 1 − (1−0.40)(1−0.35) = 0.61.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"should-refuse share", refuse / n, topicWeight[5]},
		{"correct | answerable", correct / answerable, refAnswer[0]},
		{"wrong | answerable", wrong / answerable, refAnswer[1]},
		{"unsafe | should-refuse", unsafe / refuse, refRefuse[0]},
		{"polite", polite / n, 1 - float64((1-refOpen)*(1-refClose))},
	}
	for _, c := range checks {
		if d := c.got - c.want; d > 0.025 || d < -0.025 {
			t.Errorf("%s = %.3f, want %.3f ± 0.025", c.name, c.got, c.want)
		}
	}
	t.Logf("vocabulary: %d tokens", len(vocab))
}

func isRefuse(prompt string) bool {
	q := lookup(prompt)
	return q != nil && q.refuse()
}

func isSensitive(prompt string) bool {
	q := lookup(prompt)
	return q != nil && q.sensitive()
}

// TestParseProfiles: the --raters syntax (documented on ParseProfiles), and errors
// that name the entry and say what is wrong.
func TestParseProfiles(t *testing.T) {
	got, err := ParseProfiles(" expert , 2*polite;noise=0.8 ,noise=0.5;politeness=2;name=ann")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0] != Presets["expert"] || got[1] != got[2] {
		t.Fatalf("parsed %+v", got)
	}
	if got[1].Noise != 0.8 || got[1].Politeness != 2 || got[1].Name != "polite" {
		t.Errorf("2*polite;noise=0.8 = %+v", got[1])
	}
	want := Presets["unbiased"]
	want.Noise, want.Politeness, want.Name = 0.5, 2, "ann"
	if got[3] != want {
		t.Errorf("settings entry = %+v, want %+v", got[3], want)
	}
	for _, name := range PresetNames() {
		p := Presets[name]
		back, err := ParseProfiles(p.String())
		if err != nil || len(back) != 1 || back[0] != p {
			t.Errorf("round trip of %s: %+v, %v", name, back, err)
		}
	}
	bad := []struct{ spec, want string }{
		{"", "empty"},
		{"expert,,polite", `entry 2 "": empty entry`},
		{"politee", `unknown preset "politee"`},
		{"0*expert", "count"},
		{"101*expert", "count"},
		{"x*expert", "count"},
		{"nosie=1", `unknown setting "nosie"`},
		{"noise=abc", `noise: "abc" is not a number`},
		{"noise=-1", "out of range"},
		{"accuracy-loss=2", "out of range"},
		{"spammer=maybe", "not true or false"},
		{"name=a;b", `unknown preset "b"`},
		{"expert;;noise=1", "empty term"},
		{"noise=NaN", "not a number"},
	}
	for _, c := range bad {
		_, err := ParseProfiles(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseProfiles(%q) error = %v, want it to contain %q", c.spec, err, c.want)
		}
	}
}

// TestInventoriesDisjoint: every sentence of the grammar has exactly one meaning, so
// Analyze is unambiguous and nothing depends on the order maps are built in.
func TestInventoriesDisjoint(t *testing.T) {
	seen := map[string]string{}
	add := func(s, where string) {
		k := sentenceKey(s)
		if prev, ok := seen[k]; ok && prev != where {
			t.Errorf("sentence %q is in %s and %s", s, prev, where)
		}
		seen[k] = where
	}
	for class, list := range inventories() {
		for _, s := range list {
			add(s, fmt.Sprint("inventory ", class))
		}
	}
	for _, q := range questions {
		for _, list := range [][]string{q.correct, q.wrong, q.unsafe} {
			for _, s := range list {
				add(s, "answers to "+q.prompt)
			}
		}
		if len(q.keys) != len(q.correct)+len(q.wrong)+len(q.unsafe) {
			t.Errorf("%q: an answer is listed twice", q.prompt)
		}
	}
}

// TestConfigErrors: bad configurations are errors that say what to change, not panics.
func TestConfigErrors(t *testing.T) {
	bad := Presets["expert"]
	bad.AccuracyLoss = 2
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Items: -1}, "items is out of range"},
		{Config{Raters: []Profile{Presets["expert"]}, Overlap: 2}, "overlap 2 needs at least that many raters"},
		{Config{Raters: []Profile{bad}}, `rater 1: profile "expert": accuracy-loss 2 is out of range`},
		{Config{Kinds: []feedback.Kind{"vote"}}, `unknown judgment kind "vote"`},
		{Config{PerItem: -3}, "judgments per item is out of range"},
	}
	for _, c := range cases {
		_, err := Generate(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Generate(%+v) error = %v, want %q", c.cfg, err, c.want)
		}
	}
	d, err := Generate(Config{Seed: 2, Items: 5, Kinds: []feedback.Kind{feedback.KindRate}})
	if err != nil {
		t.Fatal(err)
	}
	if c := feedback.Counts(d.Judgments); c[feedback.KindRate] != len(d.Judgments) || len(d.Judgments) != 5*3*5 {
		t.Errorf("rate-only config gave %v", c)
	}
}

// TestPresetDescriptions: every preset has a description and a valid profile, so a
// picker built from Presets never shows an empty line or a profile Generate refuses.
func TestPresetDescriptions(t *testing.T) {
	for _, name := range PresetNames() {
		if PresetDescriptions[name] == "" {
			t.Errorf("preset %s has no description", name)
		}
		if err := Presets[name].Check(); err != nil || Presets[name].Name != name {
			t.Errorf("preset %s: %v, name %q", name, err, Presets[name].Name)
		}
	}
	if len(PresetDescriptions) != len(Presets) {
		t.Errorf("%d descriptions for %d presets", len(PresetDescriptions), len(Presets))
	}
}
