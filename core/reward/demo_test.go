package reward

import (
	"math"
	"strings"
	"sync"
	"testing"

	"prefer/core/demo"
	"prefer/core/feedback"
)

// demoComparisons simulates 3,000 comparisons by six raters of one preset: 1,500
// prompts, one rater per prompt, two comparisons each (many prompts with few
// comparisons each, as in real preference data).
func demoComparisons(tb testing.TB, preset string, seed uint64) *demo.Dataset {
	tb.Helper()
	var raters []demo.Profile
	for i := 0; i < 6; i++ {
		raters = append(raters, demo.Presets[preset])
	}
	ds, err := demo.Generate(demo.Config{Seed: seed, Items: 1500, Raters: raters, Overlap: 1, PerItem: 2, Kinds: []feedback.Kind{feedback.KindCompare}})
	if err != nil {
		tb.Fatal(err)
	}
	if n := len(ds.Judgments); n != 3000 {
		tb.Fatalf("%d comparisons, want 3000", n)
	}
	return ds
}

// demoConfig is the configuration of the demo acceptance tests: the defaults, with
// "both bad" comparisons kept as ties (they say the two are close, and low), and
// the features suited to a templated domain of a few hundred words: word unigrams
// and whole sentences, no character n-grams (which only add collisions there).
// Over 4 data seeds × 2 training seeds the gold Spearman of this configuration is
// 0.844–0.864 (mean 0.855) with the L-BFGS fit and the padded right answer's four
// fillers (AdamW and three fillers before: 0.849–0.868, mean 0.859).
func demoConfig(seed uint64) Config {
	return Config{Family: FamilyLinear, Seed: seed, BothBadTie: true, Features: FeatureConfig{WordN: 1, CharMax: -1}}
}

var unbiased struct {
	once sync.Once
	res  *Result
	err  error
}

// unbiasedModel trains (once per test binary) the linear model on the unbiased
// raters' 3,000 comparisons.
func unbiasedModel(tb testing.TB) *Result {
	tb.Helper()
	unbiased.once.Do(func() {
		ds := demoComparisons(tb, "unbiased", 1)
		unbiased.res, unbiased.err = Train(ds.Items, ds.Judgments, demoConfig(1))
	})
	if unbiased.err != nil {
		tb.Fatal(unbiased.err)
	}
	return unbiased.res
}

// TestDemoLinearTracksGold is the acceptance test: on 3,000 comparisons from
// unbiased noisy raters (demo.Presets["unbiased"], noise 0.5), the linear reward's
// Spearman correlation with the gold utility over the responses of held-out prompts
// is at least 0.85 — on average over 4 data seeds × 2 training seeds, as one seed
// swings by ±0.01 (measured 0.844–0.864, mean 0.855); no single run below 0.83.
func TestDemoLinearTracksGold(t *testing.T) {
	var sum float64
	n := 0
	for data := uint64(1); data <= 4; data++ {
		ds := demoComparisons(t, "unbiased", data)
		for seed := uint64(1); seed <= 2; seed++ {
			var res *Result
			if data == 1 && seed == 1 {
				res = unbiasedModel(t)
			} else {
				var err error
				if res, err = Train(ds.Items, ds.Judgments, demoConfig(seed)); err != nil {
					t.Fatal(err)
				}
			}
			m := res.Metrics
			t.Logf("data seed %d, training seed %d: held-out accuracy %.3f, gold Spearman %.3f (within items %.3f), length Spearman %.3f, %d held-out items, epochs %d",
				data, seed, m.HeldAcc, m.GoldSpearman, m.GoldSpearmanWithin, m.LengthSpearman, len(res.Split.HeldItems), m.Epochs)
			if m.GoldSpearman < 0.83 {
				t.Errorf("data seed %d, training seed %d: gold Spearman %.3f, want ≥ 0.83", data, seed, m.GoldSpearman)
			}
			if m.HeldAcc < 0.85 {
				t.Errorf("data seed %d, training seed %d: held-out accuracy %.3f, want ≥ 0.85 with unbiased raters", data, seed, m.HeldAcc)
			}
			sum += m.GoldSpearman
			n++
		}
	}
	if mean := sum / float64(n); mean < 0.85 {
		t.Errorf("mean gold Spearman %.3f over %d runs, want ≥ 0.85", mean, n)
	}
}

// TestDemoPolitenessBias shows the seed's failure mode is real: raters who value
// politeness over accuracy (demo.Presets["polite"]: +2 for politeness, 75% of the
// right/wrong difference missed) produce a reward model that prefers polite-but-wrong
// answers to curt right ones, and the diagnostics flag it.
func TestDemoPolitenessBias(t *testing.T) {
	fair := unbiasedModel(t)
	ds := demoComparisons(t, "polite", 1)
	biased, err := Train(ds.Items, ds.Judgments, demoConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	// Probe: in every prompt, each polite wrong answer against each curt right one.
	prefers := func(m Model) (float64, int) {
		wins, n := 0, 0
		for i := range ds.Items {
			it := &ds.Items[i]
			for _, a := range it.Responses {
				if !hasParts(a.Parts, "polite", "wrong") || hasParts(a.Parts, "correct") {
					continue
				}
				for _, b := range it.Responses {
					if !hasParts(b.Parts, "correct") || hasParts(b.Parts, "polite") || hasParts(b.Parts, "wrong") {
						continue
					}
					n++
					if m.Score(it, a.Text) > m.Score(it, b.Text) {
						wins++
					}
				}
			}
		}
		return float64(wins) / float64(n), n
	}
	pb, n := prefers(biased.Model)
	pf, _ := prefers(fair.Model)
	t.Logf("polite-wrong preferred over curt-right in %.0f%% of %d pairs (unbiased raters' model: %.0f%%)", float64(100*pb), n, float64(100*pf))
	t.Logf("gold Spearman: unbiased %.3f, polite %.3f", fair.Metrics.GoldSpearman, biased.Metrics.GoldSpearman)
	if n < 50 || pb < 0.5 || pf > 0.2 {
		t.Errorf("polite-wrong preferred in %.2f (biased) and %.2f (fair) of %d pairs; want > 0.5 and < 0.2", pb, pf, n)
	}
	if biased.Metrics.GoldSpearman > fair.Metrics.GoldSpearman-0.3 {
		t.Errorf("gold Spearman %.3f (polite) vs %.3f (unbiased): want a drop of at least 0.3", biased.Metrics.GoldSpearman, fair.Metrics.GoldSpearman)
	}
	// The diagnostics say so: reward overvalues "polite" (and "wrong") against gold.
	var flagged bool
	for _, n := range biased.Diag.Notes {
		t.Log("note:", n)
		flagged = flagged || strings.Contains(n, `part "polite"`)
	}
	if !flagged {
		t.Error("no note flags the politeness part")
	}
	for _, n := range fair.Diag.Notes {
		if strings.Contains(n, `part "polite"`) {
			t.Errorf("the unbiased model is flagged too: %s", n)
		}
	}
	for _, p := range biased.Diag.Parts {
		if p.Part == "polite" && !(p.Reward > p.Gold+0.5 && !math.IsNaN(p.Gold)) {
			t.Errorf("polite part effect %+v", p)
		}
	}
}

func hasParts(parts []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, p := range parts {
			found = found || p == w
		}
		if !found {
			return false
		}
	}
	return true
}
