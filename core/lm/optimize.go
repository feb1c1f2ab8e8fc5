package lm

import (
	"fmt"
	"math"
	"strings"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/policy"
	"prefer/core/reward"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

// Algorithms that Optimize runs on the generative policy.
var Algos = []string{"ppo", "rloo", "dpo", "ipo", "bon"}

// OptimizeConfig is one KL-penalized optimization of the generative policy: what
// `prefer optimize --policy lm` and the browser worker both run. Zero fields take
// the defaults.
type OptimizeConfig struct {
	Algo string          // ppo, rloo, dpo, ipo or bon (required)
	KL   policy.KLConfig // β (default 0.1; DPO/IPO's β), or a target KL for ppo and rloo; estimator k1

	Steps     int     // optimization steps. Default 60.
	Prompts   int     // prompts per step; 0 means all (the CLI passes 16).
	Samples   int     // responses sampled per prompt per step. Default 4.
	N         int     // N of best-of-N. Default 4.
	LR        float64 // AdamW learning rate. Default 5e-4 (ppo, rloo), 3e-4 (dpo, ipo).
	Diversity float64 // entropy bonus α: maximize E[r] − β·KL + α·H. Default 0.
	MaxTokens int     // longest response in tokens, EOS included. Default 48.
	Batch     int     // DPO/IPO pairs per step. Default 32.
	Eval      int     // prompts of the before/after measurement (one sample each). Default 64.

	Seed     uint64
	Progress policy.Progress // called after each step; false cancels
}

func (c OptimizeConfig) withDefaults() OptimizeConfig {
	if c.Steps == 0 {
		c.Steps = 60
	}
	if c.Samples == 0 {
		c.Samples = 4
	}
	if c.N == 0 {
		c.N = 4
	}
	if c.LR == 0 {
		c.LR = 5e-4
		if c.Algo == "dpo" || c.Algo == "ipo" {
			c.LR = 3e-4
		}
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = 48
	}
	if c.Batch == 0 {
		c.Batch = 32
	}
	if c.Eval == 0 {
		c.Eval = 64
	}
	return c
}

// Eval is one response per evaluation prompt with its scores: what the before/after
// comparison of an optimization shows.
type Eval struct {
	Texts          []string
	Golds, Proxies []float64 // per response; NaN when the env has no gold or no proxy
	Gold, Proxy    float64   // means
	Mix            Mix       // the part mix (demo prompts; zero otherwise)
}

// OptimizeResult is what Optimize returns.
type OptimizeResult struct {
	*policy.Result                 // the run (kind "optimize"), the final metrics and the hacking alerts
	Policy         *Policy         // the optimized policy (best-of-N leaves it at the reference)
	EvalItems      []feedback.Item // the prompts of Before and After
	Before, After  Eval            // one sample per evaluation prompt from π_ref and from the result
	Pairs          int             // DPO/IPO: the preference pairs learned from
}

// DemoEnv is the environment of the generative policy on items: proxy as the
// reward, and the demo domain's gold utility of any text (demo.Gold) when every
// item is a demo prompt.
func DemoEnv(items []feedback.Item, proxy policy.Reward) policy.Env {
	e := policy.Env{Proxy: proxy}
	if DemoItems(items) {
		e.Gold = demo.Gold
	}
	return e
}

// DemoItems reports whether every item is a prompt of the demo domain, whose gold
// utility of generated text is known.
func DemoItems(items []feedback.Item) bool {
	for i := range items {
		if !demo.Known(&items[i]) {
			return false
		}
	}
	return len(items) > 0
}

// Optimize fine-tunes the generative policy that starts at ref on the prompts of
// items with the optimizers of package policy (PPO, RLOO, DPO, IPO; best-of-N
// samples the reference), measures one sample per evaluation prompt before and
// after, and records the run: the policy's per-step series and summary, with
// gold_before, reward_before, gold_after, reward_after and unknown_after added, and
// the settings in its Config (policy "lm", seed, ref_hash, prompts, max_tokens).
// DPO and IPO learn from the decided comparisons of js; env.Proxy may then be nil.
// Deterministic given cfg.Seed: natively and in wasm alike.
func Optimize(ref *LM, items []feedback.Item, js []feedback.Judgment, env policy.Env, cfg OptimizeConfig) (*OptimizeResult, error) {
	cfg = cfg.withDefaults()
	switch cfg.Algo {
	case "ppo", "rloo", "dpo", "ipo", "bon":
	case "exact":
		return nil, fmt.Errorf("the generative policy has no closed-form optimum: use ppo, rloo, dpo, ipo or bon")
	default:
		return nil, fmt.Errorf("unknown algorithm %q for the generative policy: use ppo, rloo, dpo, ipo or bon", cfg.Algo)
	}
	if cfg.Steps < 0 || cfg.Prompts < 0 || cfg.Samples < 1 || cfg.N < 1 || cfg.LR < 0 || cfg.Diversity < 0 || cfg.MaxTokens < 1 || cfg.Eval < 1 {
		return nil, fmt.Errorf("optimize the language model: steps, prompts, learning rate and diversity must not be negative; samples, N, max tokens and eval at least 1")
	}
	if cfg.Algo == "rloo" && cfg.Samples < 2 {
		return nil, fmt.Errorf("rloo needs 2 or more samples per prompt (the leave-one-out baseline)")
	}
	if cfg.KL.TargetKL != 0 && cfg.Algo != "ppo" && cfg.Algo != "rloo" {
		return nil, fmt.Errorf("a target KL applies to ppo and rloo; give β for %s", cfg.Algo)
	}
	if env.Proxy == nil && cfg.Algo != "dpo" && cfg.Algo != "ipo" {
		return nil, fmt.Errorf("%s needs a reward to optimize", strings.ToUpper(cfg.Algo))
	}
	pol, err := NewPolicy(ref, items, PolicyConfig{MaxTokens: cfg.MaxTokens})
	if err != nil {
		return nil, err
	}
	out := &OptimizeResult{Policy: pol, EvalItems: EvalItems(items, cfg.Eval)}
	out.Before = Measure(pol.Ref, out.EvalItems, env, cfg.Seed)
	pol.Ref.Model.Release() // the sampling cache of 64 answers is not needed again

	var res *policy.Result
	switch cfg.Algo {
	case "ppo":
		res, err = policy.PPO(pol, env, policy.PPOConfig{KL: cfg.KL, Steps: cfg.Steps, Prompts: cfg.Prompts, Samples: cfg.Samples,
			LR: cfg.LR, Diversity: cfg.Diversity, Seed: cfg.Seed, Progress: cfg.Progress})
	case "rloo":
		res, err = policy.RLOO(pol, env, policy.RLOOConfig{KL: cfg.KL, Steps: cfg.Steps, Prompts: cfg.Prompts, Samples: cfg.Samples,
			LR: cfg.LR, Diversity: cfg.Diversity, Seed: cfg.Seed, Progress: cfg.Progress})
	case "dpo", "ipo":
		loss := policy.LossSigmoid
		if cfg.Algo == "ipo" {
			loss = policy.LossIPO
		}
		prefs, _ := policy.Prefs(items, feedback.Pairs(items, js, feedback.PairOptions{}))
		out.Pairs = len(prefs)
		if len(prefs) == 0 {
			return nil, fmt.Errorf("there are no decided comparisons for %s to learn from: label some pairs or simulate raters", strings.ToUpper(cfg.Algo))
		}
		res, err = policy.DPO(pol, prefs, env, policy.DPOConfig{Beta: cfg.KL.Beta, Loss: loss, Steps: cfg.Steps, Batch: cfg.Batch,
			LR: cfg.LR, Seed: cfg.Seed, Progress: cfg.Progress})
	case "bon":
		res, err = BestOfN(pol, env, cfg.N, cfg.Samples, cfg.Seed)
	}
	if err != nil {
		return nil, err
	}
	out.Result = res
	pol.Release() // the trainers' buffers, before the evaluation makes its own
	if cfg.Algo == "bon" {
		out.After = MeasureBestOfN(pol, out.EvalItems, env, cfg.N, cfg.Seed)
	} else {
		out.After = Measure(pol.LM, out.EvalItems, env, cfg.Seed)
	}
	pol.Release()
	run := &res.Run
	run.Config["policy"] = "lm"
	run.Config["seed"] = int64(cfg.Seed)
	run.Config["ref_hash"] = ref.Hash()
	run.Config["prompts"] = int64(cfg.Prompts)
	run.Config["max_tokens"] = int64(cfg.MaxTokens)
	for k, v := range map[string]float64{"gold_before": out.Before.Gold, "reward_before": out.Before.Proxy,
		"gold_after": out.After.Gold, "reward_after": out.After.Proxy, "unknown_after": out.After.Mix.Unknown} {
		run.Summary[k] = v
	}
	if out.Pairs > 0 {
		run.Summary["pairs"] = float64(out.Pairs)
	}
	return out, nil
}

// EvalItems returns up to n items, evenly spread, for before/after samples.
func EvalItems(items []feedback.Item, n int) []feedback.Item {
	if len(items) <= n {
		return items
	}
	out := make([]feedback.Item, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, items[i*len(items)/n])
	}
	return out
}

// Score scores texts[i] as the response to items[i] with env's gold and proxy.
func Score(items []feedback.Item, texts []string, env policy.Env) Eval {
	e := Eval{Texts: texts}
	for i, t := range texts {
		g, p := math.NaN(), math.NaN()
		if env.Gold != nil {
			g = env.Gold(&items[i], t)
		}
		if env.Proxy != nil {
			p = env.Proxy(&items[i], t)
		}
		e.Golds = append(e.Golds, g)
		e.Proxies = append(e.Proxies, p)
		e.Gold += g / float64(len(texts))
		e.Proxy += p / float64(len(texts))
	}
	if env.Gold != nil {
		e.Mix = MixOf(items, texts)
	}
	return e
}

// Measure samples one response per item from l (temperature 1, 48 tokens, the
// stream "eval" of seed) and scores it.
func Measure(l *LM, items []feedback.Item, env policy.Env, seed uint64) Eval {
	texts := l.SampleTexts(items, SampleConfig{MaxTokens: 48}, rng.New(seed).Split("eval"))
	return Score(items, texts, env)
}

// MeasureBestOfN samples the best of n reference responses per item by the proxy.
func MeasureBestOfN(p *Policy, items []feedback.Item, env policy.Env, n int, seed uint64) Eval {
	r := rng.New(seed).Split("eval")
	texts := make([]string, len(items))
	for i := range items {
		best := math.Inf(-1)
		cands := p.LM.SampleTexts(repeatItem(items[i], n), SampleConfig{MaxTokens: 48}, r)
		for _, t := range cands {
			if v := env.Proxy(&items[i], t); v > best {
				best, texts[i] = v, t
			}
		}
	}
	return Score(items, texts, env)
}

func repeatItem(it feedback.Item, n int) []feedback.Item {
	out := make([]feedback.Item, n)
	for i := range out {
		out[i] = it
	}
	return out
}

// BestOfN records best-of-N sampling from the reference policy as a one-step run:
// the proxy and gold reward of the chosen responses (samples per prompt, every
// prompt), distinct-n, and the analytic KL bound log N − (N−1)/N (Beirami et al.
// 2024: exact for continuous rewards, an upper bound otherwise).
func BestOfN(p *Policy, env policy.Env, n, samples int, seed uint64) (*policy.Result, error) {
	if env.Proxy == nil {
		return nil, fmt.Errorf("bon: no reward to choose with")
	}
	r := rng.New(seed).Split("sample")
	items := p.Items()
	prompts := make([]int, 0, len(items)*samples)
	for q := range items {
		for k := 0; k < samples; k++ {
			prompts = append(prompts, q)
		}
	}
	chosen := policy.BestOfN(nil, p, env.Proxy, r, prompts, n)
	var rew, gold float64
	texts := make([]string, len(chosen))
	for i, s := range chosen {
		texts[i] = s.Text
		rew += env.Proxy(&items[s.Prompt], s.Text) / float64(len(chosen))
		if env.Gold != nil {
			gold += env.Gold(&items[s.Prompt], s.Text) / float64(len(chosen))
		} else {
			gold = math.NaN()
		}
	}
	d1, d2 := policy.Distinct(texts)
	kl := policy.BoNKL(n)
	one := func(v float64) []float64 { return []float64{v} }
	res := &policy.Result{Steps: 1}
	res.Run = snapshot.Run{Kind: "optimize", Seed: seed,
		Config: map[string]any{"algo": "bon", "n": int64(n), "samples": int64(samples)},
		Series: map[string][]float64{"reward": one(rew), "gold": one(gold), "kl": one(kl), "distinct_1": one(d1), "distinct_2": one(d2)},
		Summary: map[string]float64{"steps": 1, "reward": rew, "gold": gold, "kl_formula": kl, "kl": kl,
			"sqrt_kl": math.Sqrt(kl), "n": float64(n), "distinct_1": d1, "distinct_2": d2},
	}
	res.Final = policy.Metrics{Step: 1, Reward: rew, Gold: gold, KL: kl, Distinct1: d1, Distinct2: d2}
	return res, nil
}

// FindRef returns the reference language model of a snapshot: the model named
// "ref-lm" of family "lm", else the first model of family "lm" that is not the
// output of an optimization run (a fine-tuned policy is no reference), or nil.
func FindRef(s *snapshot.Snapshot) *snapshot.Model {
	if m := s.Model(RefName); m != nil && m.Family == Family {
		return m
	}
	for i := range s.Models {
		m := &s.Models[i]
		if m.Family != Family {
			continue
		}
		if r := s.Run(m.Run); r != nil && r.Kind == "optimize" {
			continue
		}
		return m
	}
	return nil
}

// RefName is the name of the pretrained reference model (prefer pretrain).
const RefName = "ref-lm"

// TextReward returns the reward a stored model gives any text: a reward head
// (family "head") or a core/reward model that scores unseen text (linear, mlp,
// ensemble). A tabular model only knows the responses it saw and is refused.
func TextReward(m *snapshot.Model) (policy.Reward, error) {
	switch m.Family {
	case FamilyHead:
		h, err := HeadFromSnapshot(m)
		if err != nil {
			return nil, err
		}
		return h.Score, nil
	case reward.FamilyTabular:
		return nil, fmt.Errorf("reward model %q is tabular and only scores responses it has seen; train a linear, mlp or head model for the language model", m.Name)
	}
	rm, err := reward.FromSnapshot(*m)
	if err != nil {
		return nil, fmt.Errorf("load reward model %q: %w", m.Name, err)
	}
	return rm.Score, nil
}

// DefaultReward returns the reward model the generative policy is optimized
// against when none is named: the last stored model that scores any text (a
// reward head, or a linear, mlp or ensemble reward model), or nil.
func DefaultReward(s *snapshot.Snapshot) *snapshot.Model {
	for i := len(s.Models) - 1; i >= 0; i-- {
		m := &s.Models[i]
		if m.Family == FamilyHead || reward.IsReward(*m) && m.Family != reward.FamilyTabular {
			return m
		}
	}
	return nil
}
