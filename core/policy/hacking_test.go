package policy

import (
	"math"
	"slices"
	"testing"

	"prefer/core/demo"
	"prefer/core/reward"
)

func TestDetect(t *testing.T) {
	// A Gao et al. shaped curve: gold d(1 − d/2) peaks at d = 1; the proxy rises.
	var proxy, gold, polite, length []float64
	for i := 0; i <= 40; i++ {
		d := float64(i) / 20
		proxy = append(proxy, d)
		gold = append(gold, float64(d*(1-float64(d/2))))
		polite = append(polite, 0.2+float64(0.3*d))
		length = append(length, 12-d) // shrinks: not named
	}
	feats := map[string][]float64{"polite": polite, "length": length}
	alerts := Detect(proxy, gold, feats, map[string]float64{"polite": 0.4, "length": 3}, DetectConfig{})
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	if a.Peak < 15 || a.Peak > 25 || a.End != 40 || a.GoldDrop < 0.4 || a.ProxyRise < 0.9 {
		t.Errorf("alert %+v: want a peak near point 20, drop ≈ 0.5, rise ≈ 1", a)
	}
	if len(a.Grew) != 1 || a.Grew[0].Name != "polite" {
		t.Errorf("grew %+v, want polite only", a.Grew)
	}
	// Gold that keeps rising, or unknown gold, raises nothing.
	if got := Detect(proxy, proxy, feats, nil, DetectConfig{}); got != nil {
		t.Errorf("rising gold: alerts %v", got)
	}
	nan := make([]float64, len(proxy))
	for i := range nan {
		nan[i] = math.NaN()
	}
	if got := Detect(proxy, nan, feats, nil, DetectConfig{}); got != nil {
		t.Errorf("unknown gold: alerts %v", got)
	}
}

// biasedReward trains core/reward's linear model on the judgments of a panel of
// three simulated raters of one biased preset on the default demo domain.
func biasedReward(tb testing.TB, preset string) (*demo.Dataset, reward.Model) {
	p := demo.Presets[preset]
	return trainedOn(tb, []demo.Profile{p, p, p})
}

// panelReward is biasedReward for a whole panel (a demo.ParseProfiles spec).
func panelReward(tb testing.TB, spec string) (*demo.Dataset, reward.Model) {
	ps, err := demo.ParseProfiles(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return trainedOn(tb, ps)
}

// trainedOn simulates the raters on the default demo domain (seed 1) and trains the
// linear reward model on their judgments (seed 1).
func trainedOn(tb testing.TB, raters []demo.Profile) (*demo.Dataset, reward.Model) {
	tb.Helper()
	ds, err := demo.Generate(demo.Config{Seed: 1, Raters: raters})
	if err != nil {
		tb.Fatal(err)
	}
	res, err := reward.Train(ds.Items, ds.Judgments, reward.Config{Family: reward.FamilyLinear, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return ds, res.Model
}

// TestHackingSweep is the reward-hacking acceptance test: with a linear reward
// model trained on politeness-biased simulated raters, or on the default panel (a
// realistic crowd whose strongest bias is verbosity), the exact β sweep shows the
// shape of Gao et al. (2022) — the proxy rises monotonically with √KL while the gold
// reward rises, peaks at an intermediate β and falls — and the detector names the
// seed's failure mode. (Three verbosity-biased raters alone hack from the first β:
// they prefer a right answer padded with four fillers, gold 0, to a concise one,
// gold 2, so gold barely rises before it falls.)
func TestHackingSweep(t *testing.T) {
	tests := []struct {
		preset string   // three raters of this preset, or a whole panel
		named  []string // the alert must name at least one of these
	}{
		{"polite", []string{"polite", "wrong"}},
		{demo.DefaultPanel, []string{"filler", "length"}},
	}
	for _, tc := range tests {
		var ds *demo.Dataset
		var rm reward.Model
		if _, ok := demo.Presets[tc.preset]; ok {
			ds, rm = biasedReward(t, tc.preset)
		} else {
			ds, rm = panelReward(t, tc.preset)
		}
		sw, err := Sweep(ds.Items, Env{Proxy: rm.Score, Gold: ItemGold, Features: demo.HackingFeatures}, SweepConfig{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		pts := sw.Points
		peak := 0
		for i := range pts {
			if i > 0 && pts[i].Proxy < pts[i-1].Proxy-1e-9 {
				t.Errorf("%s: proxy fell from %v to %v at β %v", tc.preset, pts[i-1].Proxy, pts[i].Proxy, pts[i].Beta)
			}
			if pts[i].Gold > pts[peak].Gold {
				peak = i
			}
			t.Logf("%s β %5.2f √KL %.3f proxy %6.3f gold %6.3f", tc.preset, pts[i].Beta, pts[i].SqrtKL, pts[i].Proxy, pts[i].Gold)
		}
		last := pts[len(pts)-1]
		if peak == 0 || peak == len(pts)-1 || pts[peak].Gold-last.Gold < 0.2 || pts[peak].Gold-pts[0].Gold < 0.05 {
			t.Errorf("%s: gold peaks at point %d (%.3f), starts %.3f, ends %.3f: want a rise, a peak and a fall of > 0.2",
				tc.preset, peak, pts[peak].Gold, pts[0].Gold, last.Gold)
		}
		if len(sw.Alerts) != 1 {
			t.Fatalf("%s: %d alerts, want 1", tc.preset, len(sw.Alerts))
		}
		var names []string
		for _, g := range sw.Alerts[0].Grew {
			names = append(names, g.Name)
		}
		if !slices.ContainsFunc(tc.named, func(n string) bool { return slices.Contains(names, n) }) || slices.Contains(names, "correct") {
			t.Errorf("%s: alert names %v, want one of %v and not correct", tc.preset, names, tc.named)
		}
		t.Log(sw.Alerts[0].Message)
		if len(sw.Run.Notes) != 1 || sw.Run.Kind != "sweep" || len(sw.Run.Series[SeriesSqrtKL]) != len(DefaultBetas) {
			t.Errorf("%s: run %+v", tc.preset, sw.Run)
		}
	}
}

// TestBoNSweep: best-of-N against the politeness-biased reward model, N = 1…512:
// the exact KL stays below log N − (N−1)/N (Beirami et al. 2024) and the gold
// reward peaks and falls while the proxy rises.
func TestBoNSweep(t *testing.T) {
	ds, rm := biasedReward(t, "polite")
	sw, err := Sweep(ds.Items, Env{Proxy: rm.Score, Gold: ItemGold, Features: demo.HackingFeatures}, SweepConfig{Algo: "bon", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	peak := 0
	for i, p := range sw.Points {
		if p.KL > BoNKL(p.N)+1e-12 {
			t.Errorf("N %d: exact KL %v above the bound %v", p.N, p.KL, BoNKL(p.N))
		}
		if i > 0 && p.Proxy < sw.Points[i-1].Proxy-1e-9 {
			t.Errorf("N %d: proxy fell", p.N)
		}
		if p.Gold > sw.Points[peak].Gold {
			peak = i
		}
		t.Logf("N %3d KL %.3f (formula %.3f) proxy %6.3f gold %6.3f", p.N, p.KL, BoNKL(p.N), p.Proxy, p.Gold)
	}
	if sw.Points[0].N != 1 || sw.Points[0].KL > 1e-12 {
		t.Errorf("N = 1 point: %+v, want KL 0", sw.Points[0])
	}
	last := sw.Points[len(sw.Points)-1]
	if peak == 0 || sw.Points[peak].Gold-last.Gold < 0.2 || len(sw.Alerts) != 1 {
		t.Errorf("gold peak at %d (%.3f), end %.3f, alerts %d: want an interior peak, a fall and an alert", peak, sw.Points[peak].Gold, last.Gold, len(sw.Alerts))
	}
}
