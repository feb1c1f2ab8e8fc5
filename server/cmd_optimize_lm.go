package main

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/lm"
	"prefer/core/policy"
	"prefer/core/reward"
	"prefer/core/rng"
	"prefer/core/snapshot"
	"prefer/static"
)

// wantsLMPolicy reports whether an optimize command line asks for the generative
// policy (--policy lm or --policy=lm); runOptimize hands such command lines to
// optimizeLM.
func wantsLMPolicy(args []string) bool {
	for i, a := range args {
		switch a {
		case "--policy=lm", "-policy=lm":
			return true
		case "--policy", "-policy":
			if i+1 < len(args) && args[i+1] == "lm" {
				return true
			}
		}
	}
	return false
}

// lmSampleJSON is a prompt answered by the reference and by the optimized policy.
type lmSampleJSON struct {
	Prompt    string `json:"prompt"`
	Reference string `json:"reference"`
	RefGold   jnum   `json:"reference_gold"`
	RefProxy  jnum   `json:"reference_reward"`
	Policy    string `json:"policy"`
	Gold      jnum   `json:"gold"`
	Proxy     jnum   `json:"reward"`
}

type optimizeLMReport struct {
	optimizeReport
	Ref       string            `json:"ref"`
	RefHash   string            `json:"ref_hash"`
	Params    string            `json:"params_hash"`
	Series    map[string][]jnum `json:"series"`
	Before    map[string]jnum   `json:"before"`
	After     map[string]jnum   `json:"after"`
	Samples   []lmSampleJSON    `json:"samples"`
	RewardAcc jnum              `json:"reward_heldout_accuracy,omitempty"`
}

// optimizeLM runs "prefer optimize --policy lm": KL-penalized optimization of the
// generative policy (the pretrained language model of the demo domain) with the
// optimizers of package policy, against a reward trained on the snapshot's
// judgments (or the gold utility).
func optimizeLM(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("optimize", stderr)
	out := fs.String("o", "", "output snapshot file (required)")
	_ = fs.String("policy", "lm", "policy kind: lm (the generative policy)")
	algo := fs.String("algo", "", "algorithm: ppo, rloo, dpo, ipo or bon (required)")
	refPath := fs.String("ref", "", "snapshot holding the reference language model (default: an \"lm\" model in SNAP, else the shipped static/web/ref-lm.snap)")
	beta := fs.Float64("beta", 0, "KL coefficient β (default 0.1; DPO/IPO's β)")
	targetKL := fs.Float64("target-kl", 0, "target KL in nats per response: adaptive β (ppo, rloo)")
	horizon := fs.Float64("horizon", 0, "adaptive controller horizon in episodes (default 10000)")
	steps := fs.Int("steps", 0, "optimization steps (default 60)")
	seed := fs.Uint64("seed", 1, "random seed")
	rspec := fs.String("reward", "", "reward to optimize: gold, linear, mlp, head (trained now on the judgments) or a stored reward model's name (default: the last stored reward model, else linear)")
	prompts := fs.Int("prompts", 16, "prompts per step (0: all)")
	samples := fs.Int("samples", 4, "responses sampled per prompt per step")
	n := fs.Int("n", 4, "N of best-of-N")
	lr := fs.Float64("lr", 0, "learning rate (default 5e-4 ppo/rloo, 3e-4 dpo/ipo)")
	diversity := fs.Float64("diversity", 0, "entropy bonus α: maximize E[r] − β·KL + α·H")
	estimator := fs.String("kl-estimator", "k1", "per-token KL term in the reward: k1, k2 or k3")
	maxTokens := fs.Int("max-tokens", 48, "longest response in tokens")
	name := fs.String("name", "", "name of the run and the policy model (default optimize-lm-ALGO, policy-lm-ALGO)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one input snapshot")
	}
	if *out == "" {
		return usagef("give the output file with -o FILE")
	}
	if *beta != 0 && *targetKL != 0 {
		return usagef("give either --beta or --target-kl, not both")
	}
	if *beta < 0 || *targetKL < 0 || *steps < 0 || *samples < 1 || *lr < 0 || *diversity < 0 || *horizon < 0 || *prompts < 0 || *n < 1 {
		return usagef("--beta, --target-kl, --horizon, --steps, --prompts, --lr and --diversity must not be negative; --samples and --n at least 1")
	}
	if *maxTokens < 1 || *maxTokens > 1000 {
		return usagef("--max-tokens must be between 1 and 1000")
	}
	switch *algo {
	case "ppo", "rloo", "dpo", "ipo", "bon":
	case "":
		return usagef("give the algorithm with --algo ppo|rloo|dpo|ipo|bon")
	case "exact":
		return usagef("--algo exact needs the candidate policy; the generative policy has no closed form: use ppo, rloo, dpo, ipo or bon")
	default:
		return usagef("unknown --algo %q: use ppo, rloo, dpo, ipo or bon", *algo)
	}
	if (*algo == "dpo" || *algo == "ipo" || *algo == "bon") && *targetKL != 0 {
		return usagef("--target-kl applies to ppo and rloo; give --beta for %s", *algo)
	}
	if *algo == "rloo" && *samples < 2 {
		return usagef("rloo needs --samples 2 or more (the leave-one-out baseline)")
	}
	switch policy.Estimator(*estimator) {
	case policy.K1, policy.K2, policy.K3:
	default:
		return usagef("unknown --kl-estimator %q: use k1, k2 or k3", *estimator)
	}
	s, data, err := readSnapshot(pos[0])
	if err != nil {
		return err
	}
	if len(s.Items) == 0 {
		return fmt.Errorf("the snapshot has no items: the policy needs prompts to answer (make some with 'prefer demo')")
	}
	ref, refName, err := loadRefLM(s, *refPath)
	if err != nil {
		return err
	}
	demoItems := true
	for i := range s.Items {
		demoItems = demoItems && demo.Known(&s.Items[i])
	}

	// The reward: DPO and IPO learn from the pairs and only measure a reward.
	var src *lmRewardSource
	if *algo != "dpo" && *algo != "ipo" || *rspec != "" {
		if src, err = resolveLMReward(s, *rspec, ref, *seed, demoItems); err != nil {
			return err
		}
	}
	env := policy.Env{}
	rewardName := "none (DPO/IPO learn from the pairs)"
	if src != nil {
		env.Proxy = src.Reward
		rewardName = src.Name
	}
	if demoItems {
		env.Gold = demo.Gold
	}

	pol, err := lm.NewPolicy(ref, s.Items, lm.PolicyConfig{MaxTokens: *maxTokens})
	if err != nil {
		return err
	}
	kl := policy.KLConfig{Beta: *beta, TargetKL: *targetKL, Horizon: *horizon, Estimator: policy.Estimator(*estimator)}
	if *steps == 0 {
		*steps = 60
	}
	if *lr == 0 {
		*lr = 5e-4
		if *algo == "dpo" || *algo == "ipo" {
			*lr = 3e-4
		}
	}
	evalItems := lmEvalItems(s.Items, 64)
	before := lmMeasure(pol.Ref, evalItems, env, *seed)

	var res *policy.Result
	progress := func(step int, m policy.Metrics) bool {
		if !*asJSON {
			fmt.Fprintf(stderr, "step %d reward %.3f gold %.3f kl %.3f\n", step, m.Reward, m.Gold, m.KLk1)
		}
		return true
	}
	var pairs int
	switch *algo {
	case "ppo":
		res, err = policy.PPO(pol, env, policy.PPOConfig{KL: kl, Steps: *steps, Prompts: *prompts, Samples: *samples,
			LR: *lr, Diversity: *diversity, Seed: *seed, Progress: progress})
	case "rloo":
		res, err = policy.RLOO(pol, env, policy.RLOOConfig{KL: kl, Steps: *steps, Prompts: *prompts, Samples: *samples,
			LR: *lr, Diversity: *diversity, Seed: *seed, Progress: progress})
	case "dpo", "ipo":
		loss := policy.LossSigmoid
		if *algo == "ipo" {
			loss = policy.LossIPO
		}
		prefs, _ := policy.Prefs(s.Items, feedback.Pairs(s.Items, s.Judgments, feedback.PairOptions{}))
		pairs = len(prefs)
		if len(prefs) == 0 {
			return fmt.Errorf("the snapshot has no decided comparisons for %s to learn from; label some pairs or make a demo with raters", strings.ToUpper(*algo))
		}
		res, err = policy.DPO(pol, prefs, env, policy.DPOConfig{Beta: *beta, Loss: loss, Steps: *steps, Batch: 32, LR: *lr, Seed: *seed, Progress: progress})
	case "bon":
		res, err = lmBestOfN(pol, env, *n, *samples, *seed)
	}
	if err != nil {
		return err
	}
	after := lmMeasure(pol.LM, evalItems, env, *seed)
	if *algo == "bon" {
		after = lmMeasureBoN(pol, evalItems, env, *n, *seed)
	}

	runName, modelName := *name, *name
	if runName == "" {
		runName, modelName = "optimize-lm-"+*algo, "policy-lm-"+*algo
	}
	res.Run.Name = runName
	res.Run.Config["policy"] = "lm"
	res.Run.Config["reward"] = rewardName
	res.Run.Config["seed"] = int64(*seed)
	res.Run.Config["ref"] = refName
	res.Run.Config["ref_hash"] = ref.Hash()
	res.Run.Config["prompts"] = int64(*prompts)
	res.Run.Config["max_tokens"] = int64(*maxTokens)
	for k, v := range map[string]float64{"gold_before": before.Gold, "reward_before": before.Proxy,
		"gold_after": after.Gold, "reward_after": after.Proxy, "unknown_after": after.Mix.Unknown} {
		res.Run.Summary[k] = v
	}
	if pairs > 0 {
		res.Run.Summary["pairs"] = float64(pairs)
	}
	metrics := map[string]float64{}
	for k, v := range res.Run.Summary {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			metrics[k] = v
		}
	}
	if *algo != "bon" {
		pm := pol.LM.ToSnapshot(modelName, metrics)
		pm.Run = runName
		s.PutModel(pm)
	}
	if src != nil && src.Model != nil {
		src.Model.Name = runName + "-reward"
		s.PutModel(*src.Model)
		res.Run.Config["reward_model"] = src.Model.Name
	}
	s.PutRun(res.Run)
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: snapshot.ID(data), Seed: *seed,
		Command: "prefer optimize " + canonicalArgs(fs, "o", "json")}
	id, err := writeSnapshot(*out, s)
	if err != nil {
		return err
	}

	rep := optimizeLMReport{
		optimizeReport: optimizeReport{Out: *out, ID: id, Run: runName, Model: modelName, Policy: "lm", Algo: *algo,
			Reward: rewardName, Seed: *seed, Steps: res.Steps, RunHash: policy.RunHash(&res.Run),
			Summary: jmap(res.Run.Summary), Alerts: alertsJSON(res.Alerts), Notes: res.Run.Notes},
		Ref: refName, RefHash: ref.Hash(), Params: pol.LM.Hash(),
		Before: before.json(), After: after.json(), Series: map[string][]jnum{},
	}
	if *algo == "bon" {
		rep.Model = ""
	}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	for _, k := range []string{"reward", "gold", "kl_k1", "kl_k3", "beta", "entropy", "distinct_1", "distinct_2"} {
		if v, ok := res.Run.Series[k]; ok {
			rep.Series[k] = jnums(v)
		}
	}
	if src != nil && !math.IsNaN(src.HeldAcc) {
		rep.RewardAcc = jnum(src.HeldAcc)
	}
	for i := 0; i < min(8, len(evalItems)); i++ {
		rep.Samples = append(rep.Samples, lmSampleJSON{Prompt: evalItems[i].Prompt,
			Reference: before.Texts[i], RefGold: jnum(before.Golds[i]), RefProxy: jnum(before.Proxies[i]),
			Policy: after.Texts[i], Gold: jnum(after.Golds[i]), Proxy: jnum(after.Proxies[i])})
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	sum := res.Run.Summary
	fmt.Fprintf(stdout, "%s: %s on the language model against %s, %d steps (%s)\n", rep.Out, *algo, rewardName, res.Steps, id)
	fmt.Fprintf(stdout, "  before: reward %.3f gold %.3f   after: reward %.3f gold %.3f   KL(k1) %.3f β %.3g entropy %.3f\n",
		before.Proxy, before.Gold, after.Proxy, after.Gold, sum["kl_k1"], sum["beta"], sum["entropy"])
	for _, smp := range rep.Samples[:min(4, len(rep.Samples))] {
		fmt.Fprintf(stdout, "  %s\n    ref:    %s\n    policy: %s\n", smp.Prompt, smp.Reference, smp.Policy)
	}
	for _, note := range res.Run.Notes {
		fmt.Fprintln(stdout, "  "+note)
	}
	return nil
}

// loadRefLM finds the reference language model: --ref FILE, else a model of family
// "lm" in the snapshot (the pretrained "ref-lm" first), else the shipped one.
func loadRefLM(s *snapshot.Snapshot, path string) (*lm.LM, string, error) {
	var src *snapshot.Snapshot
	where := ""
	switch {
	case path != "":
		rs, _, err := readSnapshot(path)
		if err != nil {
			return nil, "", err
		}
		src, where = rs, path
	case findLM(s) != nil:
		src, where = s, "the input snapshot"
	default:
		data, err := fs.ReadFile(static.Web(), "ref-lm.snap")
		if err != nil {
			return nil, "", fmt.Errorf("no reference language model: the snapshot has none and the shipped ref-lm.snap is missing; make one with 'prefer pretrain -o ref.snap' and pass --ref ref.snap")
		}
		rs, err := snapshot.Unmarshal(data)
		if err != nil {
			return nil, "", fmt.Errorf("shipped ref-lm.snap: %w", err)
		}
		src, where = rs, "static/web/ref-lm.snap"
	}
	m := findLM(src)
	if m == nil {
		return nil, "", fmt.Errorf("%s holds no language model (family %q); make one with 'prefer pretrain'", where, lm.Family)
	}
	l, err := lm.FromSnapshot(m)
	if err != nil {
		return nil, "", err
	}
	return l, m.Name + " (" + where + ")", nil
}

// findLM returns the model named ref-lm, else the first of family "lm", or nil.
func findLM(s *snapshot.Snapshot) *snapshot.Model {
	if m := s.Model(refModelName); m != nil && m.Family == lm.Family {
		return m
	}
	for i := range s.Models {
		if s.Models[i].Family == lm.Family {
			return &s.Models[i]
		}
	}
	return nil
}

type lmRewardSource struct {
	Name    string
	Reward  policy.Reward
	Model   *snapshot.Model
	HeldAcc float64
}

// resolveLMReward resolves --reward for the generative policy. Unlike the
// candidate policy, it must score text the policy writes, so "gold" is the demo
// domain's analyzer and a tabular model (which only knows the responses it saw) is
// refused.
func resolveLMReward(s *snapshot.Snapshot, spec string, ref *lm.LM, seed uint64, demoItems bool) (*lmRewardSource, error) {
	switch spec {
	case "gold":
		if !demoItems {
			return nil, usagef("--reward gold needs demo-domain prompts (the gold utility of generated text is known only there)")
		}
		return &lmRewardSource{Name: "gold", Reward: demo.Gold, HeldAcc: math.NaN()}, nil
	case reward.FamilyTabular:
		return nil, usagef("--reward tabular only scores responses it has seen; a language model writes new ones: use linear, mlp or head")
	case lm.FamilyHead:
		res, err := lm.TrainHead(ref, s.Items, s.Judgments, lm.HeadConfig{Seed: seed})
		if err != nil {
			return nil, fmt.Errorf("--reward head: %w", err)
		}
		sm := res.Head.ToSnapshot("", res.Run.Summary)
		return &lmRewardSource{Name: "head (trained now, seed " + strconv.FormatUint(seed, 10) + ")",
			Reward: res.Head.Score, Model: &sm, HeldAcc: res.HeldAcc}, nil
	case "":
		for i := len(s.Models) - 1; i >= 0; i-- {
			if m := &s.Models[i]; isRewardFamily(m) && m.Family != reward.FamilyTabular || m.Family == lm.FamilyHead {
				return storedLMReward(m)
			}
		}
		spec = reward.FamilyLinear
	}
	if spec == reward.FamilyLinear || spec == reward.FamilyMLP {
		src, err := resolveReward(s, spec, seed)
		if err != nil {
			return nil, err
		}
		acc := math.NaN()
		if src.Model != nil {
			if v, ok := src.Model.Metrics["heldout_accuracy"]; ok {
				acc = v
			}
		}
		return &lmRewardSource{Name: src.Name, Reward: src.Reward, Model: src.Model, HeldAcc: acc}, nil
	}
	m := s.Model(spec)
	if m == nil {
		return nil, usagef("--reward %q: no such model in the snapshot; give gold, linear, mlp, head or the name of a stored reward model", spec)
	}
	return storedLMReward(m)
}

func storedLMReward(m *snapshot.Model) (*lmRewardSource, error) {
	if m.Family == lm.FamilyHead {
		h, err := lm.HeadFromSnapshot(m)
		if err != nil {
			return nil, err
		}
		return &lmRewardSource{Name: m.Name, Reward: h.Score, HeldAcc: math.NaN()}, nil
	}
	if m.Family == reward.FamilyTabular {
		return nil, usagef("reward model %q is tabular and only scores responses it has seen; train a linear, mlp or head model for the language model", m.Name)
	}
	r, err := loadReward(m)
	if err != nil {
		return nil, err
	}
	return &lmRewardSource{Name: m.Name, Reward: r, HeldAcc: math.NaN()}, nil
}

// lmEvalItems returns up to n items, evenly spread, for before/after samples.
func lmEvalItems(items []feedback.Item, n int) []feedback.Item {
	if len(items) <= n {
		return items
	}
	out := make([]feedback.Item, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, items[i*len(items)/n])
	}
	return out
}

// lmEval is one response per evaluation item with its scores.
type lmEval struct {
	Texts          []string
	Golds, Proxies []float64
	Gold, Proxy    float64
	Mix            lm.Mix
}

func (e lmEval) json() map[string]jnum {
	m := mixJSON(e.Mix)
	m["gold"] = jnum(e.Gold)
	m["reward"] = jnum(e.Proxy)
	return m
}

func lmScore(items []feedback.Item, texts []string, env policy.Env) lmEval {
	e := lmEval{Texts: texts}
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
		e.Mix = lm.MixOf(items, texts)
	}
	return e
}

// lmMeasure samples one response per item from l (seeded) and scores it.
func lmMeasure(l *lm.LM, items []feedback.Item, env policy.Env, seed uint64) lmEval {
	texts := l.SampleTexts(items, lm.SampleConfig{MaxTokens: 48}, rng.New(seed).Split("eval"))
	return lmScore(items, texts, env)
}

// lmMeasureBoN samples the best of n reference responses per item by the proxy.
func lmMeasureBoN(p *lm.Policy, items []feedback.Item, env policy.Env, n int, seed uint64) lmEval {
	r := rng.New(seed).Split("eval")
	texts := make([]string, len(items))
	for i := range items {
		best := math.Inf(-1)
		cands := p.LM.SampleTexts(repeatItem(items[i], n), lm.SampleConfig{MaxTokens: 48}, r)
		for _, t := range cands {
			if v := env.Proxy(&items[i], t); v > best {
				best, texts[i] = v, t
			}
		}
	}
	return lmScore(items, texts, env)
}

func repeatItem(it feedback.Item, n int) []feedback.Item {
	out := make([]feedback.Item, n)
	for i := range out {
		out[i] = it
	}
	return out
}

// lmBestOfN records best-of-N sampling from the reference policy as a one-step run:
// the proxy and gold reward of the chosen responses (samples per prompt, every
// prompt), distinct-n, and the analytic KL bound log N − (N−1)/N (Beirami et al.
// 2024: exact for continuous rewards, an upper bound otherwise).
func lmBestOfN(p *lm.Policy, env policy.Env, n, samples int, seed uint64) (*policy.Result, error) {
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
