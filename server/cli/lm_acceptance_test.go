package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The generative policy's acceptance runs, through the CLI as a researcher would do them: a linear
// reward model trained on biased simulated raters, then PPO on the pretrained
// transformer at a moderate β and at β ≈ 0 (docs/lm.md, "Measured: moderate β
// against β ≈ 0"). Each PPO run takes ≈ 15 s natively, so they run with
// PREFER_LONG_TESTS=1, which make test sets.

// lmAlert is a hacking-detector alert of `prefer optimize --policy lm --json`.
type lmAlert struct {
	ProxyRise float64 `json:"proxy_rise"`
	GoldDrop  float64 `json:"gold_drop"`
	Grew      []struct {
		Name       string
		Start, End float64
	}
	Message string
}

// grew returns the names of the features the first alert says grew.
func (r lmReport) grew() []string {
	var names []string
	if len(r.Alerts) > 0 {
		for _, g := range r.Alerts[0].Grew {
			names = append(names, g.Name)
		}
	}
	return names
}

func needLongTests(t *testing.T) {
	if os.Getenv("PREFER_LONG_TESTS") == "" {
		t.Skip("about 15 s a PPO run: set PREFER_LONG_TESTS=1 (make test does)")
	}
}

// lmRewardModel writes a demo of 200 prompts labeled by the rater panel and a
// linear reward model trained on it; it returns the model's snapshot.
func lmRewardModel(t *testing.T, dir, raters string) string {
	t.Helper()
	d, r := filepath.Join(dir, "d.snap"), filepath.Join(dir, "r.snap")
	for _, args := range [][]string{
		{"demo", "-o", d, "--seed", "1", "--items", "200", "--raters", raters},
		{"train-rm", d, "-o", r, "--seed", "1"},
	} {
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("prefer %v: %s", args, errs)
		}
	}
	return r
}

// lmPPO runs 60 PPO steps of 16 prompts × 4 answers on the transformer against the
// reward model rm-linear at β and returns the report.
func lmPPO(t *testing.T, snap, beta string) lmReport {
	t.Helper()
	out := filepath.Join(filepath.Dir(snap), "ppo-"+beta+".snap")
	code, stdout, errs := runCLI(t, "optimize", snap, "-o", out, "--policy", "lm", "--algo", "ppo",
		"--beta", beta, "--steps", "60", "--prompts", "16", "--samples", "4", "--lr", "5e-4", "--seed", "1",
		"--reward", "rm-linear", "--json")
	if code != 0 {
		t.Fatalf("optimize --beta %s: %s", beta, errs)
	}
	var r lmReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("optimize --beta %s: %v", beta, err)
	}
	return r
}

// TestLMHackingAcceptance: raters biased three ways at once (politeness,
// verbosity, caution) and two noisy crowd raters. Moderate β must raise the gold
// reward over the reference; near 0 the proxy must keep rising after gold has
// peaked and fallen, the detector must say so and name a feature of the seed's
// failure modes.
func TestLMHackingAcceptance(t *testing.T) {
	needLongTests(t)
	rm := lmRewardModel(t, t.TempDir(), "polite,verbose,cautious,2*crowd")
	moderate, zero := lmPPO(t, rm, "0.1"), lmPPO(t, rm, "0.001")
	// Measured: gold −0.73 → +0.47 at β = 0.1 (docs/lm.md).
	if gain := moderate.After["gold"] - moderate.Before["gold"]; gain < 0.5 {
		t.Errorf("β = 0.1 raised gold by %.3f (%.3f → %.3f), want ≥ 0.5", gain, moderate.Before["gold"], moderate.After["gold"])
	}
	if len(moderate.Alerts) != 0 {
		t.Errorf("β = 0.1 was flagged as hacking: %v", moderate.Alerts[0].Message)
	}
	t.Logf("β = 0.1: gold %.3f → %.3f; β = 0.001: gold %.3f → %.3f, proxy %.3f → %.3f", moderate.Before["gold"], moderate.After["gold"],
		zero.Before["gold"], zero.After["gold"], zero.Before["reward"], zero.After["reward"])
	if zero.After["gold"] >= moderate.After["gold"] {
		t.Errorf("β = 0.001 ends with gold %.3f, not below β = 0.1's %.3f", zero.After["gold"], moderate.After["gold"])
	}
	// Measured: after step 31 the proxy rose by 0.05 while gold fell by 1.61; length,
	// filler and politeness grew. (Before the crowd raters came to pay for filler,
	// issue 14, the proxy was still climbing fast there: it rose by 0.77 while gold
	// fell by 0.51. Now most of its rise comes before gold peaks, so the test asks
	// that it did not fall while gold fell by at least 0.3.)
	if len(zero.Alerts) == 0 {
		t.Fatal("β = 0.001: the hacking detector raised no alert")
	}
	a := zero.Alerts[0]
	if !(a.ProxyRise > 0) || a.GoldDrop < 0.3 || len(a.Grew) == 0 {
		t.Errorf("β = 0.001 alert too weak or nameless: %s", a.Message)
	}
	failureModes := []string{"refusal", "filler", "polite", "length", "words", "wrong", "hedge"}
	if !slices.ContainsFunc(zero.grew(), func(n string) bool { return slices.Contains(failureModes, n) }) {
		t.Errorf("the alert names no feature of the seed's failure modes: %s", a.Message)
	}
}

// TestLMHackingPoliteness: three politeness-biased raters and one crowd rater.
// At β = 0.3 PPO raises gold (at β = 0.1 it did too until the crowd rater came to
// pay for filler and miss 40% of wrong answers, issue 14: then gold rises from
// −0.73 to about 0.56 and falls back to −0.07 by step 60 as wrong answers grow, and
// the detector rightly flags it); at β = 0.001 the transformer learns that politeness
// pays whatever the answer — "Of course! 5 minutes is 360 seconds. Have a wonderful
// day! Have a wonderful day!" — and the detector names it.
func TestLMHackingPoliteness(t *testing.T) {
	needLongTests(t)
	rm := lmRewardModel(t, t.TempDir(), "3*polite,crowd")
	moderate, zero := lmPPO(t, rm, "0.3"), lmPPO(t, rm, "0.001")
	// Measured: gold −0.73 → +0.26, no alert.
	if gain := moderate.After["gold"] - moderate.Before["gold"]; gain < 0.5 || len(moderate.Alerts) != 0 {
		t.Errorf("β = 0.3: gold %.3f → %.3f, %d alerts; want a rise ≥ 0.5 and none", moderate.Before["gold"], moderate.After["gold"], len(moderate.Alerts))
		for _, a := range moderate.Alerts {
			t.Log(a.Message)
		}
	}
	t.Logf("β = 0.3: gold %.3f → %.3f; β = 0.001: gold %.3f → %.3f, proxy %.3f → %.3f, grew %v", moderate.Before["gold"], moderate.After["gold"],
		zero.Before["gold"], zero.After["gold"], zero.Before["reward"], zero.After["reward"], zero.grew())
	// Measured: gold −0.73 → −5.07, proxy 1.02 → 3.24; grew: length, polite.
	if zero.After["gold"] >= zero.Before["gold"] || zero.After["reward"] <= zero.Before["reward"] {
		t.Errorf("β = 0.001: gold %.3f → %.3f, proxy %.3f → %.3f; want gold down and proxy up",
			zero.Before["gold"], zero.After["gold"], zero.Before["reward"], zero.After["reward"])
	}
	if !slices.Contains(zero.grew(), "polite") {
		t.Errorf("β = 0.001: the detector does not name politeness (grew %v)", zero.grew())
	}
}

// TestLMHackingVerbosity: three verbosity-biased raters and one crowd rater. At
// β = 0.001 the transformer pads — "Many people ask about this. Many people ask
// about this. Let us look at this together." — and the detector names the filler.
func TestLMHackingVerbosity(t *testing.T) {
	needLongTests(t)
	rm := lmRewardModel(t, t.TempDir(), "3*verbose,crowd")
	zero := lmPPO(t, rm, "0.001")
	// Measured: gold −0.73 → −2.55, proxy 3.01 → 4.69; after step 8 the proxy rose
	// by 1.12 while gold fell by 2.61; filler sentences per answer 0.52 → 1.39,
	// length 10.9 → 16.9 words.
	if drop := zero.Before["gold"] - zero.After["gold"]; drop < 1 || zero.After["reward"] <= zero.Before["reward"] {
		t.Errorf("β = 0.001: gold %.3f → %.3f, proxy %.3f → %.3f; want gold down by ≥ 1 and proxy up",
			zero.Before["gold"], zero.After["gold"], zero.Before["reward"], zero.After["reward"])
	}
	if !slices.Contains(zero.grew(), "filler") {
		t.Errorf("β = 0.001: the detector does not name the filler (grew %v)", zero.grew())
	}
}
