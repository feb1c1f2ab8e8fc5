package lm

import (
	"fmt"
	"math"
	"strconv"
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

// Defaults of a run of the generative policy, shared by `prefer optimize --policy
// lm` and the browser's optimize-lm job.
const (
	DefaultSteps   = 60 // OptimizeConfig.Steps
	DefaultPrompts = 16 // prompts per step the CLI and the worker pass (OptimizeConfig.Prompts 0 means all)
)

// OptimizeConfig is one KL-penalized optimization of the generative policy: what
// `prefer optimize --policy lm` and the browser worker both run. Zero fields take
// the defaults.
type OptimizeConfig struct {
	Algo string          // ppo, rloo, dpo, ipo or bon (required)
	KL   policy.KLConfig // β (default 0.1; DPO/IPO's β), or a target KL for ppo and rloo; estimator k1

	Steps     int      // optimization steps. Default DefaultSteps (60).
	Prompts   int      // prompts per step; 0 means all (the CLI and the worker pass DefaultPrompts).
	Samples   int      // responses sampled per prompt per step. Default 4.
	N         int      // N of best-of-N. Default 4.
	LR        float64  // AdamW learning rate. Default 5e-4 (ppo, rloo), 3e-4 (dpo, ipo).
	Diversity float64  // entropy bonus α: maximize E[r] − β·KL + α·H. Default 0.
	Gamma     *float64 // PPO's discount γ over the tokens (policy.PPOConfig; nil: 1)
	Lambda    *float64 // PPO's GAE λ (policy.PPOConfig; nil: 0.95)
	MaxTokens int      // longest response in tokens, EOS included. Default 48.
	// MicroBatch is the most sequences of a policy-gradient step run through the
	// network at once (PolicyConfig.MicroBatch; default 64): a smaller one bounds the
	// memory of a step's activations — about 1 MB per answer of 60 tokens in the
	// lesson's transformer — for one more inference pass per step. It changes the order of the gradient's sums,
	// so results differ in the last bits from a run with another micro-batch.
	MicroBatch int
	Batch      int // DPO/IPO pairs per step. Default 32.
	Eval       int // prompts of the before/after measurement (one sample each). Default 64.

	Seed     uint64
	Progress policy.Progress // called after each step; false cancels
}

// WithDefaults returns c with every zero field at its default: what Optimize
// runs, and what `prefer optimize --policy lm` shows as its flags' defaults.
func (c OptimizeConfig) WithDefaults() OptimizeConfig { return c.withDefaults() }

func (c OptimizeConfig) withDefaults() OptimizeConfig {
	if c.Steps == 0 {
		c.Steps = DefaultSteps
	}
	if c.Samples == 0 {
		c.Samples = 4
	}
	if c.N == 0 {
		c.N = policy.DefaultN
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
// reward, and, when every item is a demo prompt, the demo domain's gold utility of
// any text (demo.Gold) and its features for the hacking detector
// (demo.HackingFeatures).
func DemoEnv(items []feedback.Item, proxy policy.Reward) policy.Env {
	e := policy.Env{Proxy: proxy}
	if demo.AllKnown(items) {
		e.Gold, e.Features = demo.Gold, demo.HackingFeatures
	}
	return e
}

// DemoItems reports whether every item is a prompt of the demo domain, whose gold
// utility of generated text is known (demo.AllKnown).
func DemoItems(items []feedback.Item) bool { return demo.AllKnown(items) }

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
	case "":
		return nil, policy.SettingsErrorf("give the algorithm: ppo, rloo, dpo, ipo or bon")
	case "exact":
		return nil, policy.SettingsErrorf("the generative policy has no closed-form optimum: use ppo, rloo, dpo, ipo or bon")
	default:
		return nil, policy.SettingsErrorf("unknown algorithm %q for the generative policy: use ppo, rloo, dpo, ipo or bon", cfg.Algo)
	}
	if cfg.Steps < 0 || cfg.Prompts < 0 || cfg.Samples < 1 || cfg.N < 1 || cfg.LR < 0 || cfg.Diversity < 0 || cfg.MaxTokens < 1 || cfg.Eval < 1 || cfg.MicroBatch < 0 {
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
	pol, err := NewPolicy(ref, items, PolicyConfig{MaxTokens: cfg.MaxTokens, MicroBatch: cfg.MicroBatch})
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
			LR: cfg.LR, Diversity: cfg.Diversity, Gamma: cfg.Gamma, Lambda: cfg.Lambda, Seed: cfg.Seed, Progress: cfg.Progress})
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

// Record stores the run in s under the name run with its reward (ch: the name in
// Config "reward", and a reward model trained for the run as run+"-reward", named
// in Config "reward_model") and the reference's name (Config "ref"), and the
// optimized policy as the model named model (family "lm"; best-of-N, which leaves
// the policy at the reference, stores none). It returns what it added, as a
// snapshot (a delta to merge).
func (o *OptimizeResult) Record(s *snapshot.Snapshot, run, model string, ch *RewardChoice, refName string) *snapshot.Snapshot {
	delta := &snapshot.Snapshot{}
	r := &o.Run
	r.Name = run
	r.Config["reward"] = ch.Name
	r.Config["ref"] = refName
	if m := ch.Model; m != nil {
		m.Name = run + "-reward"
		s.PutModel(*m)
		delta.Models = append(delta.Models, *m)
		r.Config["reward_model"] = m.Name
	}
	if r.Config["algo"] != "bon" {
		metrics := map[string]float64{}
		for k, v := range r.Summary {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				metrics[k] = v
			}
		}
		pm := o.Policy.LM.ToSnapshot(model, metrics)
		pm.Run = run
		s.PutModel(pm)
		delta.Models = append(delta.Models, pm)
	}
	s.PutRun(*r)
	delta.Runs = append(delta.Runs, *r)
	return delta
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
// 2024: exact for continuous rewards, an upper bound otherwise). The bound is stored
// as "kl_bound" (and "sqrt_kl_bound"), never as "kl": for the candidate policy "kl" is
// the exact KL, which the generative policy's best-of-N distribution does not give.
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
		Series: map[string][]float64{"reward": one(rew), "gold": one(gold), "kl_bound": one(kl), "distinct_1": one(d1), "distinct_2": one(d2)},
		Summary: map[string]float64{"steps": 1, "reward": rew, "gold": gold, "kl_bound": kl,
			"sqrt_kl_bound": math.Sqrt(kl), "n": float64(n), "distinct_1": d1, "distinct_2": d2},
	}
	res.Final = policy.Metrics{Step: 1, Reward: rew, Gold: gold, KL: math.NaN(), Distinct1: d1, Distinct2: d2}
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

// RewardChoice is the reward of a run of the generative policy, as ChooseReward
// resolved it: the candidate policy's choice plus the held-out accuracy of a
// reward model trained for the run (NaN otherwise).
type RewardChoice struct {
	policy.RewardChoice
	HeldAcc float64
}

// NoReward is the reward name of a DPO or IPO run that has no reward to measure.
const NoReward = "none (DPO/IPO learn from the pairs)"

// ChooseReward resolves spec, the reward the generative policy on the items of s
// is optimized against. Unlike the candidate policy's (policy.ChooseReward) it
// must score text the policy writes:
//
//	gold        the demo domain's gold utility of any text (demo prompts only)
//	linear|mlp  a reward model of that family trained now on s's judgments
//	head        a reward head on ref trained now (TrainHead)
//	MODEL       a stored model that scores any text (TextReward)
//	""          DefaultReward(s); without one, policy.ErrNoRewardModel when
//	            needed (everything but DPO and IPO), else no reward (NoReward)
//
// A tabular model only knows the responses it saw and is refused. The same rule
// holds for `prefer optimize --policy lm`, `prefer sample` and the browser's
// generative-policy jobs.
func ChooseReward(s *snapshot.Snapshot, spec string, ref *LM, seed uint64, needed bool) (*RewardChoice, error) {
	out := &RewardChoice{HeldAcc: math.NaN()}
	switch spec {
	case "gold":
		if !DemoItems(s.Items) {
			return nil, policy.SettingsErrorf("the gold reward of generated text is known only for the demo domain's prompts: optimize against a reward model instead")
		}
		out.Name, out.Reward = "gold", demo.Gold
		return out, nil
	case reward.FamilyTabular:
		return nil, policy.SettingsErrorf("a tabular reward model only scores responses it has seen; a language model writes new ones: use linear, mlp or head")
	case reward.FamilyLinear, reward.FamilyMLP:
		ch, err := policy.ChooseReward(s, spec, seed)
		if err != nil {
			return nil, err
		}
		out.RewardChoice = *ch
		if v, ok := ch.Model.Metrics["heldout_accuracy"]; ok {
			out.HeldAcc = v
		}
		return out, nil
	case FamilyHead:
		res, err := TrainHead(ref, s.Items, s.Judgments, HeadConfig{Seed: seed})
		if err != nil {
			return nil, fmt.Errorf("train a reward head: %w", err)
		}
		sm := res.Head.ToSnapshot("", res.Run.Summary)
		out.Name, out.Reward, out.Model, out.HeldAcc = "head (trained now, seed "+strconv.FormatUint(seed, 10)+")", res.Head.Score, &sm, res.HeldAcc
		return out, nil
	}
	var m *snapshot.Model
	if spec == "" {
		if m = DefaultReward(s); m == nil {
			if !needed {
				out.Name = NoReward
				return out, nil
			}
			if last := policy.LastRewardModel(s); last != nil {
				return nil, policy.SettingsErrorf("the reward model %q is %s: it only scores answers it has seen, and the transformer writes new ones; train a linear, mlp or head reward model", last.Name, last.Family)
			}
			return nil, policy.ErrNoRewardModel
		}
	} else if m = s.Model(spec); m == nil {
		return nil, policy.SettingsErrorf("no such model %q in the snapshot: give gold, linear, mlp, head or the name of a stored reward model", spec)
	}
	r, err := TextReward(m)
	if err != nil {
		return nil, err
	}
	out.Name, out.Reward = m.Name, r
	return out, nil
}
