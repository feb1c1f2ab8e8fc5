package pipeline

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"prefer/core/demo"
	"prefer/core/lesson"
	"prefer/core/policy"
)

var lessonRun struct {
	once sync.Once
	out  *Outcome
	err  error
}

// defaultOutcome runs the default lesson once per test binary.
func defaultOutcome(tb testing.TB) *Outcome {
	tb.Helper()
	lessonRun.once.Do(func() { lessonRun.out, lessonRun.err = Run(Config{}) })
	if lessonRun.err != nil {
		tb.Fatal(lessonRun.err)
	}
	return lessonRun.out
}

// arcString formats an arc the way the tests pin it (4 decimals).
func arcString(a policy.GoldArc) string {
	return fmt.Sprintf("proxy %.4f→%.4f, gold %.4f→%.4f (step %d)→%.4f", a.ProxyStart, a.ProxyEnd, a.GoldStart, a.GoldPeak, a.Peak, a.GoldEnd)
}

// TestAha is the lesson's central moment (issue 14): with the default panel, at the
// small β the proxy keeps rising while the gold reward rises, peaks and gives back at
// least half of its gain (here almost all of it, to about where it started); at the
// large β gold holds its gain. The figures are pinned: the same test passes natively
// and under wasm (GOOS=js GOARCH=wasm), so the lesson shows these numbers in every
// browser; app/work's TestLessonPipeline checks the worker's jobs give these very
// runs, and the e2e lesson test reads them off the page.
//
// Expected values: recorded from a native run (amd64) of this test after the demo's
// crowd raters got verbosity 1.5 and the padded answer four fillers, and the linear
// reward model came to be fitted by L-BFGS (issue 17).
func TestAha(t *testing.T) {
	out := defaultOutcome(t)
	s, l := out.SmallArc, out.LargeArc
	t.Logf("β = %g: %s, gave back %.4f", lesson.BetaSmall, arcString(s), s.GaveBack())
	t.Logf("β = %g: %s, gave back %.4f", lesson.BetaLarge, arcString(l), l.GaveBack())

	// The shape, which is what the lesson teaches.
	if !policy.ProxyRose(out.Small.Run.Series[policy.SeriesReward], 0.01) || s.ProxyEnd <= s.ProxyStart+0.5 {
		t.Errorf("β = %g: the proxy does not keep rising: %s", lesson.BetaSmall, arcString(s))
	}
	if s.Gained() < 0.2 || s.Peak == 0 || s.Peak >= s.N/2 {
		t.Errorf("β = %g: gold does not first rise clearly to an early peak: %s", lesson.BetaSmall, arcString(s))
	}
	if s.GaveBack() < 0.5 && s.GoldEnd >= s.GoldStart {
		t.Errorf("β = %g: gold gave back %.2f of its gain, want ≥ 0.5 (or to end below its start): %s", lesson.BetaSmall, s.GaveBack(), arcString(s))
	}
	if l.Gained() < 0.2 || l.GaveBack() > 0.2 {
		t.Errorf("β = %g: gold does not hold its gain (gave back %.2f): %s", lesson.BetaLarge, l.GaveBack(), arcString(l))
	}
	if l.GoldEnd <= s.GoldEnd+0.2 {
		t.Errorf("the large β ends with gold %.3f, the small one %.3f: want the large clearly better", l.GoldEnd, s.GoldEnd)
	}
	// What the small β pushed: filler (the crowd's verbosity bias).
	f := out.Small.Run.Series[policy.FeaturePrefix+"filler"]
	if f[len(f)-1] < float64(2*f[0]) {
		t.Errorf("β = %g: filler per answer %.2f → %.2f, want it at least doubled", lesson.BetaSmall, f[0], f[len(f)-1])
	}
	if len(out.Small.Alerts) == 0 {
		t.Errorf("β = %g: the detector raised no alert", lesson.BetaSmall)
	}

	// The pinned figures: the run hashes (every series bit for bit) and the
	// captions' numbers.
	for _, c := range []struct {
		name      string
		got, want string
	}{
		{"small β run", policy.RunHash(&out.Small.Run), "b5d6b248806ef59a"},
		{"large β run", policy.RunHash(&out.Large.Run), "ddc587186c2b2563"},
		{"sweep", policy.RunHash(&out.Sweep.Run), "4d85d41a127880b2"},
		{"small β arc", arcString(s), "proxy 0.5102→1.3577, gold 0.2591→0.6733 (step 6)→0.2394"},
		{"large β arc", arcString(l), "proxy 0.5102→0.9657, gold 0.2591→0.6983 (step 60)→0.6486"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s, pinned %s", c.name, c.got, c.want)
		}
	}
	// The runs record the arc in their summaries, which the page's captions read.
	if g := out.Small.Run.Summary; g["gold_peak"] != s.GoldPeak || g["gold_peak_step"] != float64(s.Peak) || g["gold_start"] != s.GoldStart || g["gold_gave_back"] != s.GaveBack() {
		t.Errorf("summary %v does not hold the arc %+v", g, s)
	}
}

// TestLandscapeMatchesSweep: the playground's closed-form optimum is the exact
// solver's: at every β of the lesson's sweep, Landscape.At gives the sweep's KL,
// proxy and gold (to 1e-9: the candidate policy renormalizes π_ref).
func TestLandscapeMatchesSweep(t *testing.T) {
	out := defaultOutcome(t)
	l := out.Landscape("")
	for _, p := range out.Sweep.Points {
		got := l.At(p.Beta)
		if math.Abs(got.KL-p.KL) > 1e-9 || math.Abs(got.Proxy-p.Proxy) > 1e-9 || math.Abs(got.Gold-p.Gold) > 1e-9 {
			t.Errorf("β = %g: landscape KL %.6f proxy %.6f gold %.6f, sweep %.6f %.6f %.6f", p.Beta, got.KL, got.Proxy, got.Gold, p.KL, p.Proxy, p.Gold)
		}
	}
}

// TestPanelStories: the other panels tell the stories their descriptions promise,
// measured on the playground's landscape (the exact optimum). Careful experts: gold
// never falls as β shrinks. Raters who love politeness: the polite and the wrong
// shares grow, gold has given back at least a third of its gain by the large β and
// two thirds of it at the small one.
func TestPanelStories(t *testing.T) {
	for _, id := range []string{"experts", "polite"} {
		p, _ := lesson.PanelByID(id)
		l, err := NewLandscape(p.Spec)
		if err != nil {
			t.Fatal(err)
		}
		curve := l.Curve(lesson.CurveBetas())
		ref := l.At(math.Inf(1))
		small, large := l.At(lesson.BetaSmall), l.At(lesson.BetaLarge)
		peak := ref.Gold
		for _, pt := range curve {
			peak = math.Max(peak, pt.Gold)
		}
		t.Logf("%s: gold %.3f (π_ref), peak %.3f, %.3f at β = %g, %.3f at β = %g; mix at β = %g: %+v", id, ref.Gold, peak, large.Gold, lesson.BetaLarge, small.Gold, lesson.BetaSmall, lesson.BetaSmall, small.Mix)
		switch id {
		case "experts":
			for i := 1; i < len(curve); i++ {
				if curve[i].Gold < curve[i-1].Gold-0.01 {
					t.Errorf("experts: gold falls from %.3f to %.3f at β = %g", curve[i-1].Gold, curve[i].Gold, curve[i].Beta)
				}
			}
			if small.Gold < 1.5 {
				t.Errorf("experts: gold %.3f at β = %g, want ≥ 1.5", small.Gold, lesson.BetaSmall)
			}
		case "polite":
			if (peak-large.Gold)/(peak-ref.Gold) < 1.0/3 || (peak-small.Gold)/(peak-ref.Gold) < 2.0/3 {
				t.Errorf("polite: gold %.3f (π_ref) → peak %.3f → %.3f at β = %g → %.3f at β = %g: want a third of the gain gone at the large β and two thirds at the small one",
					ref.Gold, peak, large.Gold, lesson.BetaLarge, small.Gold, lesson.BetaSmall)
			}
			if small.Mix.Wrong < float64(2*ref.Mix.Wrong) || small.Mix.Polite < float64(2*ref.Mix.Polite) {
				t.Errorf("polite: wrong %.2f → %.2f, polite %.2f → %.2f; want both at least doubled", ref.Mix.Wrong, small.Mix.Wrong, ref.Mix.Polite, small.Mix.Polite)
			}
		}
	}
}

// TestPanels: every panel parses, the default one is the demo's default panel, ids
// are unique.
func TestPanels(t *testing.T) {
	if lesson.Panels[0].Spec != demo.DefaultPanel {
		t.Errorf("the default panel is %q, the demo's %q", lesson.Panels[0].Spec, demo.DefaultPanel)
	}
	seen := map[string]bool{}
	for _, p := range lesson.Panels {
		if _, err := demo.ParseProfiles(p.Spec); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
		if seen[p.ID] {
			t.Errorf("panel id %s twice", p.ID)
		}
		seen[p.ID] = true
		if got, ok := lesson.PanelByID(p.ID); !ok || got.Spec != p.Spec {
			t.Errorf("lesson.PanelByID(%s) = %v, %v", p.ID, got, ok)
		}
	}
	// The landscape's part names are the demo's (written out in package lesson).
	for _, part := range []string{demo.PartPolite, demo.PartFiller, demo.PartRefusal, demo.PartWrong, demo.PartCorrect, demo.PartUnsafe} {
		if !strings.Contains(" polite filler refusal wrong correct unsafe ", " "+part+" ") {
			t.Errorf("demo part %q is not one the landscape counts", part)
		}
	}
	if _, ok := lesson.PanelByID("nope"); ok {
		t.Error("lesson.PanelByID found an unknown id")
	}
}

// TestShowcase: on the lesson's default landscape the showcased prompts are distinct,
// in order, and each shows a change between the large β and the smallest.
func TestShowcase(t *testing.T) {
	l := defaultOutcome(t).Landscape("")
	got := l.Showcase(4)
	t.Logf("showcase %v", got)
	if len(got) != 4 {
		t.Fatalf("showcase %v, want 4 prompts", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Errorf("showcase %v not in order", got)
		}
	}
}
