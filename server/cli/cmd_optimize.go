package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/policy"
	"prefer/core/reward"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name: "optimize",
		usage: "optimize SNAP -o OUT [--policy candidates|lm] --algo exact|ppo|rloo|dpo|ipo|bon\n" +
			"                [--beta B | --target-kl K] [--steps N] [--seed N] [--reward gold|tabular|linear|mlp|MODEL]\n" +
			"                [--n N] [--samples G] [--lr LR] [--diversity A] [--name NAME] [--dump FILE] [--json]",
		summary: "KL-penalized policy optimization of the candidate policy or the generative LM (PPO, RLOO, DPO, IPO, best-of-N, exact)",
		run:     runOptimize,
	})
}

type alertJSON struct {
	Peak      int           `json:"peak"`
	End       int           `json:"end"`
	ProxyRise num.Float     `json:"proxy_rise"`
	GoldDrop  num.Float     `json:"gold_drop"`
	Grew      []featureJSON `json:"grew"`
	Message   string        `json:"message"`
}

type featureJSON struct {
	Name   string    `json:"name"`
	Start  num.Float `json:"start"`
	Peak   num.Float `json:"peak"`
	End    num.Float `json:"end"`
	Change num.Float `json:"change"`
}

func alertsJSON(as []policy.Alert) []alertJSON {
	out := []alertJSON{}
	for _, a := range as {
		j := alertJSON{Peak: a.Peak + 1, End: a.End + 1, ProxyRise: num.Float(a.ProxyRise), GoldDrop: num.Float(a.GoldDrop), Message: a.Message, Grew: []featureJSON{}}
		for _, g := range a.Grew {
			j.Grew = append(j.Grew, featureJSON{g.Name, num.Float(g.Start), num.Float(g.Peak), num.Float(g.End), num.Float(g.Change)})
		}
		out = append(out, j)
	}
	return out
}

type optimizeReport struct {
	Output   string               `json:"output"`
	OutputID string               `json:"output_id"`
	Run      string               `json:"run"`
	Model    string               `json:"model"`
	Policy   string               `json:"policy"`
	Algo     string               `json:"algo"`
	Reward   string               `json:"reward"`
	Seed     uint64               `json:"seed"`
	Steps    int                  `json:"steps"`
	RunHash  string               `json:"run_hash"`
	Summary  map[string]num.Float `json:"summary"`
	Alerts   []alertJSON          `json:"alerts"`
	Dump     string               `json:"dump,omitempty"`
	DumpRows int                  `json:"dump_rows,omitempty"`
	Notes    []string             `json:"notes"`

	Synthetic *syntheticJSON `json:"synthetic,omitempty"`
}

type syntheticJSON struct {
	Rounds            int         `json:"rounds"`
	Judge             string      `json:"judge"`
	AILabels          int         `json:"ai_labels"`
	Audits            int         `json:"audits"`
	Agreement         num.Float   `json:"agreement"`
	GoldPerRound      []num.Float `json:"gold_per_round"`
	AgreementPerRound []num.Float `json:"agreement_per_round"`
}

// runSynthetic runs the synthetic-feedback loop of package policy on the snapshot
// and adds its judgments and raters to it. The AI rater is the demo rubric or the
// starting reward model; the auditor a simulated demo rater (only on demo items).
func runSynthetic(s *snapshot.Snapshot, env policy.Env, family, judge, auditor string, audit float64, rounds int, seed uint64) (*policy.SyntheticResult, *snapshot.Model, error) {
	ai := policy.RewardLabeler(env.Proxy, 0.05)
	if judge == "rubric" {
		ai = policy.RewardLabeler(policy.DemoRubric, 0.05)
	}
	var human policy.Labeler
	demoItems := len(s.Items) > 0
	for i := range s.Items {
		demoItems = demoItems && demo.Known(&s.Items[i])
	}
	if judge == "rubric" && !demoItems {
		return nil, nil, usagef("--judge rubric needs demo-domain items; use --judge reward on other data")
	}
	if demoItems && audit > 0 {
		h := demo.NewRater(demo.Presets[auditor], "audit", seed)
		human = func(it *feedback.Item, a, b string) feedback.Judgment { return h.Compare(it, a, b, 0) }
	}
	var last *reward.Result // the last retrained model, stored next to the policy
	retrain := func(items []feedback.Item, js []feedback.Judgment) (policy.Reward, error) {
		res, err := reward.Train(items, js, reward.Config{Family: family, Seed: seed})
		if err != nil {
			return nil, err
		}
		last = res
		return res.Model.Score, nil
	}
	res, err := policy.Synthetic(s.Items, s.Judgments, env, ai, human, retrain, policy.SyntheticConfig{Rounds: rounds, Audit: audit, Seed: seed})
	if err != nil {
		return nil, nil, err
	}
	log := s.Log()
	for _, j := range res.Judgments {
		if _, err := log.Append(j); err != nil {
			return nil, nil, fmt.Errorf("add synthetic judgment: %w (the snapshot already holds synthetic feedback with this --seed; use another seed)", err)
		}
	}
	s.SetLog(log)
	addRater := func(r feedback.Rater) {
		for _, x := range s.Raters {
			if x.ID == r.ID {
				return
			}
		}
		s.Raters = append(s.Raters, r)
	}
	name := "AI rater (demo rubric)"
	if judge == "reward" {
		name = "AI rater (reward model)"
	}
	addRater(feedback.Rater{ID: "ai", Name: name, Group: "ai", Kind: feedback.RaterAI})
	if human != nil {
		p := demo.Presets[auditor]
		addRater(feedback.Rater{ID: "audit", Name: "audit (" + auditor + ")", Group: p.Group, Kind: feedback.RaterSimulated, Profile: p.String()})
	}
	sm := reward.ToSnapshot(last.Model, "", last.Metrics.Map())
	return res, &sm, nil
}

// rewardSource resolves --reward: the proxy reward the policy is optimized against.
//
//	gold               the recorded gold utilities (demo domain)
//	tabular|linear|mlp a reward model of that family trained now on the snapshot's
//	                   judgments (core/reward, seeded by --seed)
//	MODEL              the name of a reward model stored in the snapshot
//	""                 the last stored reward model, else an error saying what to do
type rewardSource struct {
	Name   string
	Reward policy.Reward
	Model  *snapshot.Model // a model trained now, to store next to the policy; nil otherwise
}

func resolveReward(s *snapshot.Snapshot, spec string, seed uint64) (*rewardSource, error) {
	switch spec {
	case "gold":
		if !policy.HasGold(s.Items) {
			return nil, usagef("--reward gold needs a gold utility on every response (the demo domain has them); use a reward model instead")
		}
		return &rewardSource{Name: "gold", Reward: policy.ItemGold}, nil
	case reward.FamilyTabular, reward.FamilyLinear, reward.FamilyMLP:
		res, err := reward.Train(s.Items, s.Judgments, reward.Config{Family: spec, Seed: seed})
		if err != nil {
			if errors.Is(err, reward.ErrNoComparisons) {
				return nil, fmt.Errorf("--reward %s: the snapshot has no comparisons to train on; label pairs first or use --reward gold", spec)
			}
			return nil, fmt.Errorf("--reward %s: train reward model: %w", spec, err)
		}
		sm := reward.ToSnapshot(res.Model, "", res.Metrics.Map())
		return &rewardSource{Name: spec + " (trained now, seed " + strconv.FormatUint(seed, 10) + ")", Reward: res.Model.Score, Model: &sm}, nil
	}
	var m *snapshot.Model
	if spec == "" {
		for i := len(s.Models) - 1; i >= 0; i-- {
			if isRewardFamily(&s.Models[i]) {
				m = &s.Models[i]
				break
			}
		}
		if m == nil {
			return nil, usagef("the snapshot holds no reward model: run 'prefer train-rm' first, or pass --reward gold|tabular|linear|mlp")
		}
	} else if m = s.Model(spec); m == nil {
		return nil, usagef("--reward %q: no such model in the snapshot; give gold, tabular, linear, mlp or the name of a stored reward model", spec)
	}
	r, err := loadReward(m)
	if err != nil {
		return nil, err
	}
	return &rewardSource{Name: m.Name, Reward: r}, nil
}

func isRewardFamily(m *snapshot.Model) bool { return reward.IsReward(*m) }

// env builds the optimization environment: the proxy, and the gold utility when
// every response has one.
func optimizeEnv(s *snapshot.Snapshot, proxy policy.Reward) policy.Env {
	env := policy.Env{Proxy: proxy}
	if policy.HasGold(s.Items) {
		env.Gold = policy.ItemGold
	}
	return env
}

func runOptimize(args []string, stdout, stderr io.Writer) error {
	if wantsLMPolicy(args) {
		return optimizeLM(args, stdout, stderr) // the generative policy: cmd_optimize_lm.go
	}
	fs := newFlags("optimize", stderr)
	out := fs.String("o", "", "output snapshot file (required; - for standard output)")
	kind := fs.String("policy", "candidates", "policy kind: candidates (a softmax over each prompt's given responses) or lm (the generative transformer; see 'prefer optimize --policy lm -h')")
	algo := fs.String("algo", "", "algorithm: exact, ppo, rloo, dpo, ipo or bon (required)")
	beta := fs.Float64("beta", 0, "KL coefficient β (default 0.1; DPO/IPO's β)")
	targetKL := fs.Float64("target-kl", 0, "target KL in nats per prompt: adaptive β (ppo, rloo; Ziegler et al.) or the β that reaches it (exact)")
	horizon := fs.Float64("horizon", 0, "adaptive controller horizon in episodes (default 10000)")
	steps := fs.Int("steps", 0, "optimization steps (default 500 ppo/rloo, 300 dpo/ipo)")
	seed := fs.Uint64("seed", 1, "random seed")
	rspec := fs.String("reward", "", "reward to optimize: gold, tabular, linear, mlp (trained now on the judgments) or a stored model's name (default: the last stored reward model)")
	n := fs.Int("n", 4, "N of best-of-N")
	samples := fs.Int("samples", 0, "responses sampled per prompt per step (default 4)")
	lr := fs.Float64("lr", 0, "learning rate (default 0.1 ppo/dpo/ipo, 0.2 rloo)")
	diversity := fs.Float64("diversity", 0, "entropy bonus α: maximize E[r] − β·KL + α·H (controlled diversity)")
	estimator := fs.String("kl-estimator", "k1", "per-action KL term in the reward: k1, k2 or k3")
	name := fs.String("name", "", "name of the run and the policy model (default optimize-ALGO, policy-ALGO)")
	dump := fs.String("dump", "", "write the final policy as JSON lines {item, response, ref_prob, reward, prob} (- for standard output)")
	synth := fs.Int("synthetic", 0, "rounds of synthetic feedback before optimizing: an AI rater labels fresh pairs of policy samples and the reward model is retrained on them (needs --reward tabular|linear|mlp)")
	judge := fs.String("judge", "rubric", "the AI rater of --synthetic: rubric (the demo domain's written rubric) or reward (the reward model itself)")
	audit := fs.Float64("audit", 0.1, "fraction of --synthetic pairs also labeled by a simulated human, whose agreement with the AI rater is reported")
	auditor := fs.String("auditor", "expert", "demo rater preset of the simulated human auditor")
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseInOut(fs, args, out)
	if err != nil {
		return err
	}
	if *dump == "-" && (*out == "-" || *asJSON) {
		return usagef("--dump - writes to standard output, which -o - or --json already use; give --dump a file")
	}
	if *kind != "candidates" {
		return usagef("--policy %q is not a policy kind: use candidates or lm", *kind)
	}
	if *beta != 0 && *targetKL != 0 {
		return usagef("give either --beta or --target-kl, not both")
	}
	if *beta < 0 || *targetKL < 0 || *steps < 0 || *samples < 0 || *lr < 0 || *diversity < 0 || *horizon < 0 {
		return usagef("--beta, --target-kl, --horizon, --steps, --samples, --lr and --diversity must not be negative")
	}
	switch *algo {
	case "exact", "ppo", "rloo", "dpo", "ipo", "bon":
	case "":
		return usagef("give the algorithm with --algo exact|ppo|rloo|dpo|ipo|bon")
	default:
		return usagef("unknown --algo %q: use exact, ppo, rloo, dpo, ipo or bon", *algo)
	}
	if (*algo == "dpo" || *algo == "ipo" || *algo == "bon") && *targetKL != 0 {
		return usagef("--target-kl applies to exact, ppo and rloo; give --beta for %s", *algo)
	}
	if *n < 1 {
		return usagef("--n must be at least 1")
	}
	switch policy.Estimator(*estimator) {
	case policy.K1, policy.K2, policy.K3:
	default:
		return usagef("unknown --kl-estimator %q: use k1, k2 or k3", *estimator)
	}
	if *synth < 0 || *audit < 0 || *audit > 1 {
		return usagef("--synthetic must be ≥ 0 and --audit in [0, 1]")
	}
	if *synth > 0 {
		switch {
		case *rspec != reward.FamilyTabular && *rspec != reward.FamilyLinear && *rspec != reward.FamilyMLP:
			return usagef("--synthetic retrains the reward model: give --reward tabular, linear or mlp")
		case *judge != "rubric" && *judge != "reward":
			return usagef("unknown --judge %q: use rubric or reward", *judge)
		case *algo == "dpo" || *algo == "ipo":
			return usagef("--synthetic feeds a reward model; DPO and IPO use the pairs directly")
		}
		if _, ok := demo.Presets[*auditor]; !ok {
			return usagef("unknown --auditor %q: use one of %s", *auditor, strings.Join(demo.PresetNames(), ", "))
		}
	}
	s, data, err := readSnapshot(in)
	if err != nil {
		return err
	}
	c, err := policy.NewCandidate(s.Items, policy.CandidateConfig{})
	if err != nil {
		return err
	}

	// DPO and IPO learn from the preference pairs; a reward, when one is given or
	// stored, is only measured.
	var src *rewardSource
	if *algo == "dpo" || *algo == "ipo" {
		if *rspec != "" || hasRewardModel(s) {
			if src, err = resolveReward(s, *rspec, *seed); err != nil {
				return err
			}
		}
	} else if src, err = resolveReward(s, *rspec, *seed); err != nil {
		return err
	}
	var env policy.Env
	rewardName := "none (DPO/IPO learn from the pairs)"
	if src != nil {
		env = optimizeEnv(s, src.Reward)
		rewardName = src.Name
	} else {
		env = optimizeEnv(s, nil)
	}
	var syn *policy.SyntheticResult
	var synModel *snapshot.Model
	if *synth > 0 {
		if syn, synModel, err = runSynthetic(s, env, *rspec, *judge, *auditor, *audit, *synth, *seed); err != nil {
			return err
		}
		env.Proxy = syn.Reward
		rewardName += fmt.Sprintf(", retrained after %d rounds of synthetic feedback (%s judge)", *synth, *judge)
	}
	kl := policy.KLConfig{Beta: *beta, TargetKL: *targetKL, Horizon: *horizon, Estimator: policy.Estimator(*estimator)}

	var res *policy.Result
	var pairs int
	total := *steps
	if total == 0 {
		total = 500 // the default steps of PPO and RLOO (shown, not set)
		if *algo == "dpo" || *algo == "ipo" {
			total = 300
		}
	}
	line := newProgress(stderr, *asJSON, "optimize "+*algo, "steps", total)
	progress := func(step int, m policy.Metrics) bool {
		line.update(step, policyProgress(m))
		return true
	}
	switch *algo {
	case "exact":
		res, err = policy.SolveExact(c, env, policy.ExactConfig{Beta: *beta, TargetKL: *targetKL, Diversity: *diversity, Seed: *seed, Samples: *samples})
	case "ppo":
		res, err = policy.PPO(c, env, policy.PPOConfig{KL: kl, Steps: *steps, Samples: *samples, LR: *lr, Diversity: *diversity, Seed: *seed, Progress: progress})
	case "rloo":
		res, err = policy.RLOO(c, env, policy.RLOOConfig{KL: kl, Steps: *steps, Samples: *samples, LR: *lr, Diversity: *diversity, Seed: *seed, Progress: progress})
	case "bon":
		res, err = policy.SolveBestOfN(c, env, policy.BoNConfig{N: *n, Seed: *seed, Samples: *samples})
	case "dpo", "ipo":
		loss := policy.LossSigmoid
		if *algo == "ipo" {
			loss = policy.LossIPO
		}
		prefs, _ := policy.Prefs(s.Items, feedback.Pairs(s.Items, s.Judgments, feedback.PairOptions{}))
		pairs = len(prefs)
		if len(prefs) == 0 {
			return fmt.Errorf("the snapshot has no decided comparisons for %s to learn from; label some pairs or import a preference dataset", strings.ToUpper(*algo))
		}
		res, err = policy.DPO(c, prefs, env, policy.DPOConfig{Beta: *beta, Loss: loss, Steps: *steps, LR: *lr, Seed: *seed, Progress: progress})
	}
	line.done()
	if err != nil {
		return err
	}

	runName, modelName := *name, *name
	if runName == "" {
		runName, modelName = "optimize-"+*algo, "policy-"+*algo
	}
	res.Run.Name = runName
	res.Run.Config["policy"] = "candidates"
	res.Run.Config["reward"] = rewardName
	res.Run.Config["seed"] = int64(*seed)
	m := c.Model(modelName, runName)
	for k, v := range res.Run.Summary {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m.Metrics[k] = v
		}
	}
	if *algo == "dpo" || *algo == "ipo" {
		res.Run.Summary["pairs"] = float64(pairs)
	}
	s.PutModel(m)
	if src != nil && src.Model != nil {
		src.Model.Name = runName + "-reward"
		s.PutModel(*src.Model)
		res.Run.Config["reward_model"] = src.Model.Name
	}
	if synModel != nil {
		synModel.Name = runName + "-reward-synthetic"
		s.PutModel(*synModel)
		res.Run.Config["reward_model"] = synModel.Name
	}
	if syn != nil {
		syn.Run.Name = runName + "-synthetic"
		s.PutRun(syn.Run)
		res.Run.Notes = append(res.Run.Notes, syn.Run.Notes...)
	}
	s.PutRun(res.Run)
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: snapshot.ID(data), Seed: *seed,
		Command: "prefer optimize " + canonicalArgs(fs, "o", "dump", "json")}
	id, err := writeSnapshot(*out, s, stdout)
	if err != nil {
		return err
	}

	rep := optimizeReport{Output: *out, OutputID: id, Run: runName, Model: modelName, Policy: "candidates", Algo: *algo,
		Reward: rewardName, Seed: *seed, Steps: res.Steps, RunHash: policy.RunHash(&res.Run),
		Summary: num.FloatMap(res.Run.Summary), Alerts: alertsJSON(res.Alerts), Notes: res.Run.Notes}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	if *dump != "" {
		tbl := policy.NewTable(s.Items, env.Proxy)
		if *algo == "dpo" || *algo == "ipo" {
			b := *beta
			if b == 0 {
				b = 0.1
			}
			tbl = policy.ImplicitRewards(c, b)
		}
		rows := policy.Dump(c, tbl)
		if err := writeDump(*dump, rows, stdout); err != nil {
			return err
		}
		rep.Dump, rep.DumpRows = *dump, len(rows)
	}
	if syn != nil {
		rep.Synthetic = &syntheticJSON{Rounds: *synth, Judge: *judge, AILabels: len(syn.Judgments) - syn.Audits,
			Audits: syn.Audits, Agreement: num.Float(syn.Agreement), GoldPerRound: num.Floats(syn.Run.Series["gold"]),
			AgreementPerRound: num.Floats(syn.Run.Series["agreement"])}
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	sum := res.Run.Summary
	msg := messages(*out, stdout, stderr)
	if *dump == "-" {
		msg = stderr
	}
	fmt.Fprintf(msg, "%s: %s on %s, %d steps: reward %.4g, gold %.4g, KL %.4g, β %.4g, entropy %.4g (%s)\n",
		outputName(rep.Output), *algo, rewardName, res.Steps, sum["reward"], sum["gold"], sum["kl"], sum["beta"], sum["entropy"], id)
	for _, note := range res.Run.Notes {
		fmt.Fprintln(msg, "  "+note)
	}
	return nil
}

func hasRewardModel(s *snapshot.Snapshot) bool {
	for _, m := range s.Models {
		if isRewardFamily(&m) {
			return true
		}
	}
	return false
}

// writeDump writes dump rows as JSON lines (PRODUCT.md §4.1), atomically. A NaN
// reward (unknown) is written as null.
func writeDump(path string, rows []policy.DumpRow, stdout io.Writer) error {
	var b strings.Builder
	w := bufio.NewWriter(&b)
	for _, r := range rows {
		line := struct {
			Item    string    `json:"item"`
			Resp    string    `json:"response"`
			RefProb num.Float `json:"ref_prob"`
			Reward  num.Float `json:"reward"`
			Prob    num.Float `json:"prob"`
		}{r.Item, r.Resp, num.Float(r.RefProb), num.Float(r.Reward), num.Float(r.Prob)}
		data, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("write dump: %w", err)
		}
		w.Write(data)
		w.WriteByte('\n')
	}
	w.Flush()
	return writeOutput(path, []byte(b.String()), stdout)
}

// canonicalArgs renders the flags that were set, in lexical order, leaving out the
// named ones (output paths, --json), so the provenance of equal work is equal
// wherever its files are written.
func canonicalArgs(fs *flag.FlagSet, skip ...string) string {
	var parts []string
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains(skip, f.Name) {
			parts = append(parts, "--"+f.Name+" "+f.Value.String())
		}
	})
	return strings.Join(parts, " ")
}

// loadReward turns a stored reward model into a Reward.
func loadReward(m *snapshot.Model) (policy.Reward, error) {
	rm, err := reward.FromSnapshot(*m)
	if err != nil {
		return nil, fmt.Errorf("%w; retrain it with 'prefer train-rm' or pass --reward tabular|linear|mlp", err)
	}
	return rm.Score, nil
}
