package policy

import (
	"math"
	"strings"
	"testing"

	"prefer/core/feedback"
)

func TestPPOSkipsExplodingBatches(t *testing.T) {
	items := synthItems(t, 31, 10, 5, true)
	env := Env{Proxy: ItemGold, Gold: ItemGold}
	// A threshold below 1 makes every mini-batch "explode": nothing moves.
	c := newCand(t, items)
	res, err := PPO(c, env, PPOConfig{Steps: 5, RatioThreshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Final.Skipped != 1 || !math.IsNaN(res.Final.Loss) || res.Final.KL > 1e-15 {
		t.Errorf("all batches skipped: skipped %v, loss %v, KL %v", res.Final.Skipped, res.Final.Loss, res.Final.KL)
	}
	// With the default threshold (10) an ordinary run skips nothing.
	res, err = PPO(newCand(t, items), env, PPOConfig{Steps: 50})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range res.Run.Series[SeriesSkipped] {
		if v != 0 {
			t.Fatalf("step %d skipped %v of its mini-batches", i+1, v)
		}
	}
	if cf := res.Run.Series[SeriesClipFrac]; cf[len(cf)-1] < 0 || cf[len(cf)-1] > 1 {
		t.Errorf("clip fraction %v", cf[len(cf)-1])
	}
}

// TestAdaptiveKLRun: with a target KL the controller moves β until the policy's
// KL settles near the target.
func TestAdaptiveKLRun(t *testing.T) {
	items := synthItems(t, 32, 20, 6, true)
	env := Env{Proxy: ItemGold, Gold: ItemGold}
	for _, run := range []func(*Candidate) (*Result, error){
		func(c *Candidate) (*Result, error) {
			return PPO(c, env, PPOConfig{KL: KLConfig{TargetKL: 0.3, Horizon: 500}, Steps: 400, ConstantLR: true, LR: 0.05})
		},
		func(c *Candidate) (*Result, error) {
			return RLOO(c, env, RLOOConfig{KL: KLConfig{TargetKL: 0.3, Horizon: 500}, Steps: 400, ConstantLR: true, LR: 0.05})
		},
	} {
		res, err := run(newCand(t, items))
		if err != nil {
			t.Fatal(err)
		}
		betas := res.Run.Series[SeriesBeta]
		if betas[0] != 0.2 || betas[len(betas)-1] == 0.2 {
			t.Errorf("%s: β went %v → %v; want it to start at 0.2 (Ziegler et al.) and adapt", res.Run.Name, betas[0], betas[len(betas)-1])
		}
		if kl := res.Final.KL; math.Abs(kl-0.3) > 0.1 {
			t.Errorf("%s: final KL %v, target 0.3", res.Run.Name, kl)
		}
	}
}

func TestProgressCancels(t *testing.T) {
	items := synthItems(t, 33, 4, 3, false)
	env := Env{Proxy: ItemGold}
	var seen []int
	stop := func(step int, m Metrics) bool {
		seen = append(seen, step)
		return step < 3
	}
	for _, run := range []func() (*Result, error){
		func() (*Result, error) { return PPO(newCand(t, items), env, PPOConfig{Progress: stop}) },
		func() (*Result, error) { return RLOO(newCand(t, items), env, RLOOConfig{Progress: stop}) },
		func() (*Result, error) {
			return DPO(newCand(t, items), []Pref{{0, 0, 1}}, env, DPOConfig{Progress: stop})
		},
	} {
		seen = nil
		res, err := run()
		if err != nil {
			t.Fatal(err)
		}
		if !res.Canceled || res.Steps != 3 || len(seen) != 3 || len(res.Run.Series[SeriesKL]) != 3 {
			t.Errorf("%s: canceled %v after %d steps (progress saw %v)", res.Run.Name, res.Canceled, res.Steps, seen)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	items := synthItems(t, 34, 2, 3, false)
	env := Env{Proxy: ItemGold}
	tests := []struct {
		name string
		run  func() error
		msg  string
	}{
		{"no reward", func() error { _, err := PPO(newCand(t, items), Env{}, PPOConfig{}); return err }, "no reward"},
		{"negative beta", func() error {
			_, err := PPO(newCand(t, items), env, PPOConfig{KL: KLConfig{Beta: -1}})
			return err
		}, "beta"},
		{"bad estimator", func() error {
			_, err := RLOO(newCand(t, items), env, RLOOConfig{KL: KLConfig{Estimator: "k7"}})
			return err
		}, "estimator"},
		{"one RLOO sample", func() error { _, err := RLOO(newCand(t, items), env, RLOOConfig{Samples: 1}); return err }, "at least 2"},
		{"bad loss", func() error {
			_, err := DPO(newCand(t, items), []Pref{{0, 0, 1}}, env, DPOConfig{Loss: "hinge"})
			return err
		}, "unknown loss"},
		{"NaN reward", func() error {
			_, err := PPO(newCand(t, items), Env{Proxy: func(_ *feedback.Item, _ string) float64 { return math.NaN() }}, PPOConfig{})
			return err
		}, "finite"},
		{"sweep algo", func() error { _, err := Sweep(items, env, SweepConfig{Algo: "sac"}); return err }, "unknown algorithm"},
		{"sweep beta", func() error { _, err := Sweep(items, env, SweepConfig{Betas: []float64{0}}); return err }, "positive"},
	}
	for _, tc := range tests {
		err := tc.run()
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.msg)
		}
	}
}
