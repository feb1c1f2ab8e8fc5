package cli

import (
	"fmt"
	"io"
	"io/fs"
	"math"

	"prefer/core/lm"
	"prefer/core/num"
	"prefer/core/policy"
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
	Prompt    string    `json:"prompt"`
	Reference string    `json:"reference"`
	RefGold   num.Float `json:"reference_gold"`
	RefProxy  num.Float `json:"reference_reward"`
	Policy    string    `json:"policy"`
	Gold      num.Float `json:"gold"`
	Proxy     num.Float `json:"reward"`
}

type optimizeLMReport struct {
	optimizeReport
	Ref       string                 `json:"ref"`
	RefHash   string                 `json:"ref_hash"`
	Params    string                 `json:"params_hash"`
	Series    map[string][]num.Float `json:"series"`
	Before    map[string]num.Float   `json:"before"`
	After     map[string]num.Float   `json:"after"`
	Samples   []lmSampleJSON         `json:"samples"`
	RewardAcc num.Float              `json:"reward_heldout_accuracy"`
}

// optimizeLM runs "prefer optimize --policy lm": KL-penalized optimization of the
// generative policy (the pretrained language model of the demo domain) with the
// optimizers of package policy, against a reward trained on the snapshot's
// judgments (or the gold utility).
func optimizeLM(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("optimize", stderr)
	out := fs.String("o", "", "output snapshot file (required; - for standard output)")
	_ = fs.String("policy", "lm", "policy kind: lm (the generative policy)")
	algo := fs.String("algo", "", "algorithm: ppo, rloo, dpo, ipo or bon (required)")
	refPath := fs.String("ref", "", "snapshot holding the reference language model (default: an \"lm\" model in SNAP, else the shipped static/web/ref-lm.snap)")
	beta := fs.Float64("beta", 0, "KL coefficient β (default 0.1; DPO/IPO's β)")
	targetKL := fs.Float64("target-kl", 0, "target KL in nats per response: adaptive β (ppo, rloo)")
	horizon := fs.Float64("horizon", 0, "adaptive controller horizon in episodes (default 10000)")
	steps := fs.Int("steps", 0, fmt.Sprintf("optimization steps (default %d)", lm.DefaultSteps))
	seed := fs.Uint64("seed", 1, "random seed")
	rspec := fs.String("reward", "", "reward to optimize: gold, linear, mlp, head (trained now on the judgments) or a stored reward model's name (default: the last stored model that scores any text)")
	prompts := fs.Int("prompts", lm.DefaultPrompts, "prompts per step (0: all)")
	samples := fs.Int("samples", 4, "responses sampled per prompt per step")
	n := fs.Int("n", 4, "N of best-of-N")
	lr := fs.Float64("lr", 0, "learning rate (default 5e-4 ppo/rloo, 3e-4 dpo/ipo)")
	diversity := fs.Float64("diversity", 0, "entropy bonus α: maximize E[r] − β·KL + α·H")
	estimator := fs.String("kl-estimator", "k1", "per-token KL term in the reward: k1, k2 or k3")
	maxTokens := fs.Int("max-tokens", 48, "longest response in tokens")
	name := fs.String("name", "", "name of the run and the policy model (default optimize-lm-ALGO, policy-lm-ALGO)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseInOut(fs, args, out)
	if err != nil {
		return err
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
	s, data, err := readSnapshot(in)
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
	src, err := lm.ChooseReward(s, *rspec, ref, *seed, *algo != "dpo" && *algo != "ipo")
	if err != nil {
		return runUsage(err)
	}
	rewardName := src.Name
	env := lm.DemoEnv(s.Items, src.Reward)
	total := *steps
	if total == 0 { // the default, for the progress line
		total = lm.DefaultSteps
	}
	line := newProgress(stderr, *asJSON, "optimize "+*algo, "steps", total)
	progress := func(step int, m policy.Metrics) bool {
		line.update(step, policyProgress(m))
		return true
	}
	kl := policy.KLConfig{Beta: *beta, TargetKL: *targetKL, Horizon: *horizon, Estimator: policy.Estimator(*estimator)}
	opt, err := lm.Optimize(ref, s.Items, s.Judgments, env, lm.OptimizeConfig{Algo: *algo, KL: kl, Steps: *steps,
		Prompts: *prompts, Samples: *samples, N: *n, LR: *lr, Diversity: *diversity, MaxTokens: *maxTokens,
		Seed: *seed, Progress: progress})
	line.done()
	if err != nil {
		return err
	}
	res, pol, before, after, evalItems := opt.Result, opt.Policy, lmEval(opt.Before), lmEval(opt.After), opt.EvalItems

	runName, modelName := *name, *name
	if runName == "" {
		runName, modelName = "optimize-lm-"+*algo, "policy-lm-"+*algo
	}
	opt.Record(s, runName, modelName, src, refName)
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: snapshot.ID(data), Seed: *seed,
		Command: "prefer optimize " + canonicalArgs(fs, "o", "json")}
	id, err := writeSnapshot(*out, s, stdout)
	if err != nil {
		return err
	}

	rep := optimizeLMReport{
		optimizeReport: optimizeReport{Output: *out, OutputID: id, Run: runName, Model: modelName, Policy: "lm", Algo: *algo,
			Reward: rewardName, Seed: *seed, Steps: res.Steps, RunHash: policy.RunHash(&res.Run),
			Summary: num.FloatMap(res.Run.Summary), Alerts: alertsJSON(res.Alerts), Notes: res.Run.Notes},
		Ref: refName, RefHash: ref.Hash(), Params: pol.LM.Hash(),
		Before: before.json(), After: after.json(), Series: map[string][]num.Float{},
	}
	if *algo == "bon" {
		rep.Model = ""
	}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	for _, k := range []string{"reward", "gold", "kl_k1", "kl_k3", "beta", "entropy", "distinct_1", "distinct_2"} {
		if v, ok := res.Run.Series[k]; ok {
			rep.Series[k] = num.Floats(v)
		}
	}
	if !math.IsNaN(src.HeldAcc) {
		rep.RewardAcc = num.Float(src.HeldAcc)
	}
	for i := 0; i < min(8, len(evalItems)); i++ {
		rep.Samples = append(rep.Samples, lmSampleJSON{Prompt: evalItems[i].Prompt,
			Reference: before.Texts[i], RefGold: num.Float(before.Golds[i]), RefProxy: num.Float(before.Proxies[i]),
			Policy: after.Texts[i], Gold: num.Float(after.Golds[i]), Proxy: num.Float(after.Proxies[i])})
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	msg := messages(*out, stdout, stderr)
	sum := res.Run.Summary
	fmt.Fprintf(msg, "%s: %s on the language model against %s, %d steps (%s)\n", outputName(rep.Output), *algo, rewardName, res.Steps, id)
	fmt.Fprintf(msg, "  before: reward %.3f gold %.3f   after: reward %.3f gold %.3f   KL(k1) %.3f β %.3g entropy %.3f\n",
		before.Proxy, before.Gold, after.Proxy, after.Gold, sum["kl_k1"], sum["beta"], sum["entropy"])
	for _, smp := range rep.Samples[:min(4, len(rep.Samples))] {
		fmt.Fprintf(msg, "  %s\n    ref:    %s\n    policy: %s\n", smp.Prompt, smp.Reference, smp.Policy)
	}
	for _, note := range res.Run.Notes {
		fmt.Fprintln(msg, "  "+note)
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
	case lm.FindRef(s) != nil:
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
	m := lm.FindRef(src)
	if m == nil {
		return nil, "", fmt.Errorf("%s holds no language model (family %q); make one with 'prefer pretrain'", where, lm.Family)
	}
	l, err := lm.FromSnapshot(m)
	if err != nil {
		return nil, "", err
	}
	return l, m.Name + " (" + where + ")", nil
}

// lmEval is one response per evaluation prompt with its scores (lm.Eval).
type lmEval lm.Eval

func (e lmEval) json() map[string]num.Float {
	m := mixJSON(e.Mix)
	m["gold"] = num.Float(e.Gold)
	m["reward"] = num.Float(e.Proxy)
	return m
}
