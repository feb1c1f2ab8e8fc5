package lm

import (
	"math"
	"strings"
	"testing"

	"prefer/core/demo"
	"prefer/core/policy"
	"prefer/core/snapshot"
)

// TestOptimize runs a few PPO steps on a tiny model against the gold utility and
// checks the run's record: series per step, the before/after measurement on the
// evaluation prompts, the settings, and determinism.
func TestOptimize(t *testing.T) {
	items := demo.Prompts(1, 6)
	env := DemoEnv(items, demo.Gold)
	if env.Gold == nil {
		t.Fatal("demo prompts have no gold in DemoEnv")
	}
	cfg := OptimizeConfig{Algo: "ppo", KL: policy.KLConfig{Beta: 0.2}, Steps: 3, Prompts: 2, Samples: 2, MaxTokens: 8, Eval: 4, Seed: 5}
	var steps int
	cfg.Progress = func(int, policy.Metrics) bool { steps++; return true }
	res, err := Optimize(tinyLM(t, 2), items, nil, env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if steps != 3 || len(res.Run.Series["reward"]) != 3 || res.Steps != 3 {
		t.Fatalf("%d progress calls, %d reward points, %d steps; want 3", steps, len(res.Run.Series["reward"]), res.Steps)
	}
	if len(res.EvalItems) != 4 || len(res.Before.Texts) != 4 || len(res.After.Texts) != 4 {
		t.Fatalf("eval on %d prompts (%d, %d texts), want 4", len(res.EvalItems), len(res.Before.Texts), len(res.After.Texts))
	}
	// With the gold utility as the reward, proxy and gold coincide.
	if res.Before.Gold != res.Before.Proxy || res.Run.Summary["gold_before"] != res.Before.Gold {
		t.Errorf("before: gold %v proxy %v summary %v", res.Before.Gold, res.Before.Proxy, res.Run.Summary["gold_before"])
	}
	for _, k := range []string{"policy", "seed", "ref_hash", "prompts", "max_tokens"} {
		if _, ok := res.Run.Config[k]; !ok {
			t.Errorf("run config lacks %s", k)
		}
	}
	again, err := Optimize(tinyLM(t, 2), items, nil, env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := policy.RunHash(&res.Run), policy.RunHash(&again.Run); a != b || res.Policy.LM.Hash() != again.Policy.LM.Hash() {
		t.Errorf("not deterministic: %s vs %s", a, b)
	}
}

func TestOptimizeBadConfig(t *testing.T) {
	items := demo.Prompts(1, 2)
	env := DemoEnv(items, demo.Gold)
	cases := []struct {
		cfg  OptimizeConfig
		env  policy.Env
		want string
	}{
		{OptimizeConfig{Algo: "exact"}, env, "closed-form"},
		{OptimizeConfig{Algo: "nope"}, env, "unknown algorithm"},
		{OptimizeConfig{Algo: "rloo", Samples: 1}, env, "2 or more samples"},
		{OptimizeConfig{Algo: "dpo", KL: policy.KLConfig{TargetKL: 3}}, env, "target KL applies to ppo and rloo"},
		{OptimizeConfig{Algo: "ppo"}, policy.Env{}, "needs a reward"},
		{OptimizeConfig{Algo: "dpo"}, env, "no decided comparisons"},
		{OptimizeConfig{Algo: "ppo", Steps: -1}, env, "must not be negative"},
	}
	for _, c := range cases {
		_, err := Optimize(tinyLM(t, 1), items, nil, c.env, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

// TestFindRef checks that a fine-tuned policy (the model of an optimize run) is
// never taken for the reference, and that DefaultReward skips tabular models.
func TestFindRef(t *testing.T) {
	l := tinyLM(t, 1)
	s := &snapshot.Snapshot{}
	pol := l.ToSnapshot("policy-lm-ppo", nil)
	pol.Run = "optimize-lm-ppo"
	s.PutRun(snapshot.Run{Name: "optimize-lm-ppo", Kind: "optimize"})
	s.PutModel(pol)
	if m := FindRef(s); m != nil {
		t.Fatalf("FindRef took the optimized policy %q for the reference", m.Name)
	}
	s.PutModel(l.ToSnapshot("my-lm", nil))
	if m := FindRef(s); m == nil || m.Name != "my-lm" {
		t.Fatalf("FindRef = %v, want my-lm", m)
	}
	s.PutModel(l.ToSnapshot(RefName, nil))
	if m := FindRef(s); m == nil || m.Name != RefName {
		t.Fatalf("FindRef = %v, want %s", m, RefName)
	}
	if m := DefaultReward(s); m != nil {
		t.Fatalf("DefaultReward = %q without reward models", m.Name)
	}
	s.PutModel(snapshot.Model{Name: "tab", Family: "tabular"})
	if m := DefaultReward(s); m != nil {
		t.Fatalf("DefaultReward took the tabular model")
	}
	if _, err := TextReward(&snapshot.Model{Name: "tab", Family: "tabular"}); err == nil {
		t.Fatal("TextReward accepted a tabular model")
	}
	if !math.IsNaN(Score(demo.Prompts(1, 1), []string{"x"}, policy.Env{}).Golds[0]) {
		t.Error("Score without gold should give NaN")
	}
}
