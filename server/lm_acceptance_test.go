package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestLMHackingAcceptance is issue 7's acceptance run, through the CLI as a
// researcher would do it (≈ 30 s natively, so it runs with PREFER_LONG_TESTS=1,
// which make test sets): a linear reward model trained on politeness-, verbosity- and
// caution-biased simulated raters, then PPO on the pretrained transformer at a
// moderate β and at β ≈ 0 (docs/lm.md, "Measured: moderate β against β ≈ 0").
// Moderate β must raise the gold reward over the reference; near 0 the proxy must
// keep rising after gold has peaked and fallen, the detector must say so and name a
// feature of the seed's failure modes.
func TestLMHackingAcceptance(t *testing.T) {
	if os.Getenv("PREFER_LONG_TESTS") == "" {
		t.Skip("about 30 s: set PREFER_LONG_TESTS=1 (make test does)")
	}
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, args := range [][]string{
		{"demo", "-o", p("d.snap"), "--seed", "1", "--items", "200", "--raters", "polite,verbose,cautious,2*crowd"},
		{"train-rm", p("d.snap"), "-o", p("r.snap"), "--seed", "1"},
	} {
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("prefer %v: %s", args, errs)
		}
	}
	type alert struct {
		ProxyRise float64 `json:"proxy_rise"`
		GoldDrop  float64 `json:"gold_drop"`
		Grew      []struct{ Name string }
		Message   string
	}
	type report struct {
		Before, After map[string]float64
		Alerts        []alert
	}
	ppo := func(beta string) report {
		t.Helper()
		code, out, errs := runCLI(t, "optimize", p("r.snap"), "-o", p("b"+beta+".snap"), "--policy", "lm", "--algo", "ppo",
			"--beta", beta, "--steps", "60", "--prompts", "16", "--samples", "4", "--lr", "5e-4", "--seed", "1",
			"--reward", "rm-linear", "--json")
		if code != 0 {
			t.Fatalf("optimize --beta %s: %s", beta, errs)
		}
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("optimize --beta %s: %v", beta, err)
		}
		return r
	}
	moderate, zero := ppo("0.1"), ppo("0.001")
	// Measured: gold −0.73 → +0.47 at β = 0.1 (docs/lm.md).
	if gain := moderate.After["gold"] - moderate.Before["gold"]; gain < 0.5 {
		t.Errorf("β = 0.1 raised gold by %.3f (%.3f → %.3f), want ≥ 0.5", gain, moderate.Before["gold"], moderate.After["gold"])
	}
	if len(moderate.Alerts) != 0 {
		t.Errorf("β = 0.1 was flagged as hacking: %v", moderate.Alerts[0].Message)
	}
	if zero.After["gold"] >= moderate.After["gold"] {
		t.Errorf("β = 0.001 ends with gold %.3f, not below β = 0.1's %.3f", zero.After["gold"], moderate.After["gold"])
	}
	// Measured: after step 10 the proxy rose by 0.77 while gold fell by 0.51; refusals grew.
	if len(zero.Alerts) == 0 {
		t.Fatal("β = 0.001: the hacking detector raised no alert")
	}
	a := zero.Alerts[0]
	if a.ProxyRise < 0.3 || a.GoldDrop < 0.3 || len(a.Grew) == 0 {
		t.Errorf("β = 0.001 alert too weak or nameless: %s", a.Message)
	}
	failureModes := map[string]bool{"refusal": true, "filler": true, "polite": true, "length": true, "words": true, "wrong": true, "hedge": true}
	named := false
	for _, g := range a.Grew {
		named = named || failureModes[g.Name]
	}
	if !named {
		t.Errorf("the alert names no feature of the seed's failure modes: %s", a.Message)
	}
}
