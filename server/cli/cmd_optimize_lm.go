package cli

import (
	"flag"
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

// optimizeLMFlags are the flags of `prefer optimize --policy lm`.
type optimizeLMFlags struct {
	out, algo, refPath, rspec, estimator, name   *string
	beta, targetKL, horizon, lr, diversity       *float64
	steps, prompts, samples, n, maxTokens, micro *int
	seed                                         *uint64
	asJSON                                       *bool
}

func newOptimizeLMFlags(fs *flag.FlagSet) *optimizeLMFlags {
	def := lm.OptimizeConfig{}.WithDefaults() // one set of defaults: the core's
	_ = fs.String("policy", "lm", "policy kind: lm (the generative policy)")
	return &optimizeLMFlags{
		out:       fs.String("o", "", "output snapshot file (required; - for standard output)"),
		algo:      fs.String("algo", "", "algorithm: ppo, rloo, dpo, ipo or bon (required)"),
		refPath:   fs.String("ref", "", "snapshot holding the reference language model (default: an \"lm\" model in SNAP, else the shipped static/web/ref-lm.snap)"),
		beta:      positiveFloat(fs, "beta", "KL coefficient β > 0 (default 0.1; DPO/IPO's β)"),
		targetKL:  fs.Float64("target-kl", 0, "target KL in nats per response: adaptive β (ppo, rloo)"),
		horizon:   fs.Float64("horizon", 0, "adaptive controller horizon in episodes (default 10000)"),
		steps:     fs.Int("steps", 0, fmt.Sprintf("optimization steps (default %d)", lm.DefaultSteps)),
		seed:      fs.Uint64("seed", 1, "random seed"),
		rspec:     fs.String("reward", "", "reward to optimize: gold, linear, mlp, head (trained now on the judgments) or a stored reward model's name (default: the last stored model that scores any text)"),
		prompts:   fs.Int("prompts", lm.DefaultPrompts, "prompts per step (0: all)"),
		samples:   fs.Int("samples", def.Samples, "responses sampled per prompt per step"),
		n:         fs.Int("n", def.N, "N of best-of-N"),
		lr:        fs.Float64("lr", 0, "learning rate (default 5e-4 ppo/rloo, 3e-4 dpo/ipo)"),
		diversity: fs.Float64("diversity", 0, "entropy bonus α: maximize E[r] − β·KL + α·H"),
		estimator: fs.String("kl-estimator", "k1", "per-token KL term in the reward: k1, k2 or k3"),
		maxTokens: fs.Int("max-tokens", def.MaxTokens, "longest response in tokens"),
		micro:     fs.Int("micro-batch", 64, "most sequences run through the network at once (smaller: less memory, one more forward pass per step; results differ in the last bits)"),
		name:      fs.String("name", "", "name of the run and the policy model (default optimize-lm-ALGO, policy-lm-ALGO)"),
		asJSON:    fs.Bool("json", false, "print one JSON object"),
	}
}

// check reports the usage errors of the flags.
func (f *optimizeLMFlags) check() error {
	if *f.beta != 0 && *f.targetKL != 0 {
		return usagef("give either --beta or --target-kl, not both")
	}
	if *f.beta < 0 || *f.targetKL < 0 || *f.steps < 0 || *f.samples < 1 || *f.lr < 0 || *f.diversity < 0 || *f.horizon < 0 || *f.prompts < 0 || *f.n < 1 {
		return usagef("--beta, --target-kl, --horizon, --steps, --prompts, --lr and --diversity must not be negative; --samples and --n at least 1")
	}
	if *f.micro < 1 {
		return usagef("--micro-batch must be at least 1")
	}
	if *f.maxTokens < 1 || *f.maxTokens > 1000 {
		return usagef("--max-tokens must be between 1 and 1000")
	}
	switch *f.algo {
	case "ppo", "rloo", "dpo", "ipo", "bon":
	case "":
		return usagef("give the algorithm with --algo ppo|rloo|dpo|ipo|bon")
	case "exact":
		return usagef("--algo exact needs the candidate policy; the generative policy has no closed form: use ppo, rloo, dpo, ipo or bon")
	default:
		return usagef("unknown --algo %q: use ppo, rloo, dpo, ipo or bon", *f.algo)
	}
	if (*f.algo == "dpo" || *f.algo == "ipo" || *f.algo == "bon") && *f.targetKL != 0 {
		return usagef("--target-kl applies to ppo and rloo; give --beta for %s", *f.algo)
	}
	if *f.algo == "rloo" && *f.samples < 2 {
		return usagef("rloo needs --samples 2 or more (the leave-one-out baseline)")
	}
	switch policy.Estimator(*f.estimator) {
	case policy.K1, policy.K2, policy.K3:
	default:
		return usagef("unknown --kl-estimator %q: use k1, k2 or k3", *f.estimator)
	}
	return nil
}

// optimizeLM runs "prefer optimize --policy lm": KL-penalized optimization of the
// generative policy (the pretrained language model of the demo domain) with the
// optimizers of package policy through lm.Optimize, against the reward
// lm.ChooseReward picks (the rule of the browser's optimize-lm job too).
func optimizeLM(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("optimize", stderr)
	f := newOptimizeLMFlags(fs)
	s, data, err := parseCheckRead(fs, args, f.out, f.check)
	if err != nil {
		return err
	}
	if len(s.Items) == 0 {
		return fmt.Errorf("the snapshot has no items: the policy needs prompts to answer (make some with 'prefer demo')")
	}
	ref, refName, err := loadRefLM(s, *f.refPath)
	if err != nil {
		return err
	}
	src, err := lm.ChooseReward(s, *f.rspec, ref, *f.seed, *f.algo != "dpo" && *f.algo != "ipo")
	if err != nil {
		return runUsage(err)
	}
	total := *f.steps
	if total == 0 { // the default, for the progress line
		total = lm.DefaultSteps
	}
	line := newProgress(stderr, *f.asJSON, "optimize "+*f.algo, "steps", total)
	progress := func(step int, m policy.Metrics) bool {
		line.update(step, policyProgress(m))
		return true
	}
	kl := policy.KLConfig{Beta: *f.beta, TargetKL: *f.targetKL, Horizon: *f.horizon, Estimator: policy.Estimator(*f.estimator)}
	opt, err := lm.Optimize(ref, s.Items, s.Judgments, lm.DemoEnv(s.Items, src.Reward), lm.OptimizeConfig{Algo: *f.algo, KL: kl,
		Steps: *f.steps, Prompts: *f.prompts, Samples: *f.samples, N: *f.n, LR: *f.lr, Diversity: *f.diversity,
		MaxTokens: *f.maxTokens, MicroBatch: *f.micro, Seed: *f.seed, Progress: progress})
	line.done()
	if err != nil {
		return err
	}
	runName, modelName := *f.name, *f.name
	if runName == "" {
		runName, modelName = "optimize-lm-"+*f.algo, "policy-lm-"+*f.algo
	}
	opt.Record(s, runName, modelName, src, refName)
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: snapshot.ID(data), Seed: *f.seed,
		Command: "prefer optimize " + canonicalArgs(fs, "o", "json")}
	id, err := writeSnapshot(*f.out, s, stdout)
	if err != nil {
		return err
	}
	return f.report(opt, src, ref, refName, runName, modelName, id, stdout, stderr)
}

// report prints what the run did: its JSON (--json) or the before/after means, a
// few samples side by side and the notes.
func (f *optimizeLMFlags) report(opt *lm.OptimizeResult, src *lm.RewardChoice, ref *lm.LM, refName, runName, modelName, id string, stdout, stderr io.Writer) error {
	res, before, after, evalItems := opt.Result, lmEval(opt.Before), lmEval(opt.After), opt.EvalItems
	rep := optimizeLMReport{
		optimizeReport: optimizeReport{Output: *f.out, OutputID: id, Run: runName, Model: modelName, Policy: "lm", Algo: *f.algo,
			Reward: src.Name, Seed: *f.seed, Steps: res.Steps, RunHash: policy.RunHash(&res.Run),
			Summary: num.FloatMap(res.Run.Summary), Alerts: alertsJSON(res.Alerts), Notes: res.Run.Notes,
			// The generative optimizers run their step count: no convergence criterion.
			Criterion: num.Float(math.NaN()), Tolerance: num.Float(math.NaN())},
		// Known only when the reward model was trained for this run.
		RewardAcc: num.Float(math.NaN()),
		Ref:       refName, RefHash: ref.Hash(), Params: opt.Policy.LM.Hash(),
		Before: before.json(), After: after.json(), Series: map[string][]num.Float{},
	}
	if *f.algo == "bon" {
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
	if *f.asJSON {
		return printJSON(stdout, rep)
	}
	msg := messages(*f.out, stdout, stderr)
	sum := res.Run.Summary
	fmt.Fprintf(msg, "%s: %s on the language model against %s, %d steps (%s)\n", outputName(rep.Output), *f.algo, src.Name, res.Steps, id)
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
