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
			"                [--tol T] [--label-smoothing E] [--n N] [--samples G] [--lr LR] [--diversity A] [--gamma G] [--lambda L]\n" +
			"                [--name NAME] [--dump FILE] [--json]",
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
	Output   string `json:"output"`
	OutputID string `json:"output_id"`
	Run      string `json:"run"`
	Model    string `json:"model"`
	Policy   string `json:"policy"`
	Algo     string `json:"algo"`
	Reward   string `json:"reward"`
	Seed     uint64 `json:"seed"`
	Steps    int    `json:"steps"`
	RunHash  string `json:"run_hash"`
	// Converged says whether the run stopped on its convergence criterion
	// (policy.Result); Criterion is the criterion's last value and Tolerance the
	// bound it had to reach (null for the generative policy, which has none).
	Converged *bool                `json:"converged"`
	Criterion num.Float            `json:"criterion"`
	Tolerance num.Float            `json:"tolerance"`
	Summary   map[string]num.Float `json:"summary"`
	Alerts    []alertJSON          `json:"alerts"`
	Dump      string               `json:"dump,omitempty"`
	DumpRows  int                  `json:"dump_rows,omitempty"`
	Notes     []string             `json:"notes"`

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

// optimizeFlags are the flags of `prefer optimize` for the candidate policy.
type optimizeFlags struct {
	out, kind, algo, rspec, estimator, name, dump, judge, auditor *string
	beta, targetKL, horizon, lr, diversity, audit, tol            *float64
	gamma, lambda, smoothing                                      **float64
	steps, n, samples, synth                                      *int
	seed                                                          *uint64
	asJSON                                                        *bool
}

func newOptimizeFlags(fs *flag.FlagSet) *optimizeFlags {
	return &optimizeFlags{
		out:       fs.String("o", "", "output snapshot file (required; - for standard output)"),
		kind:      fs.String("policy", "candidates", "policy kind: candidates (a softmax over each prompt's given responses) or lm (the generative transformer; see 'prefer optimize --policy lm -h')"),
		algo:      fs.String("algo", "", "algorithm: exact, ppo, rloo, dpo, ipo or bon (required)"),
		beta:      positiveFloat(fs, "beta", "KL coefficient β > 0 (default 0.1; DPO/IPO's β)"),
		targetKL:  fs.Float64("target-kl", 0, "target KL in nats per prompt: adaptive β (ppo, rloo; Ziegler et al.) or the β that reaches it (exact)"),
		horizon:   fs.Float64("horizon", 0, "adaptive controller horizon in episodes (default 10000)"),
		steps:     fs.Int("steps", 0, fmt.Sprintf("the cap on optimization steps: a run stops once converged (--tol) (default %d ppo/rloo, %d dpo/ipo)", policy.DefaultSteps, policy.DefaultDPOSteps)),
		tol:       fs.Float64("tol", 0, fmt.Sprintf("convergence tolerance of ppo, rloo, dpo, ipo: the largest total variation from the optimum (ppo, rloo) or the largest change of a pair's implied probability (dpo, ipo) at which a run stops; negative runs every step (default %g)", policy.DefaultTol)),
		smoothing: optFloat(fs, "label-smoothing", fmt.Sprintf("dpo: the ε of conservative DPO, in [0, 0.5) (default: %g when some prompt's preferences are separated, else 0; 0 forces plain DPO)", policy.DefaultLabelSmoothing)),
		seed:      fs.Uint64("seed", 1, "random seed"),
		rspec:     fs.String("reward", "", "reward to optimize: gold, tabular, linear, mlp (trained now on the judgments) or a stored model's name (default: the last stored reward model)"),
		n:         fs.Int("n", policy.DefaultN, "N of best-of-N"),
		samples:   fs.Int("samples", 0, "responses sampled per prompt per step (default 4)"),
		lr:        fs.Float64("lr", 0, "learning rate (default 0.1 ppo/dpo/ipo, 0.2 rloo)"),
		diversity: fs.Float64("diversity", 0, "entropy bonus α: maximize E[r] − β·KL + α·H (controlled diversity)"),
		gamma:     optFloat(fs, "gamma", "ppo: the discount γ of the advantage estimate, in [0, 1] (default 1; 0 counts only the next reward)"),
		lambda:    optFloat(fs, "lambda", "ppo: GAE's λ, in [0, 1] (default 0.95; 0 is the one-step TD advantage)"),
		estimator: fs.String("kl-estimator", "k1", "per-action KL term in the reward: k1, k2 or k3"),
		name:      fs.String("name", "", "name of the run and the policy model (default optimize-ALGO, policy-ALGO)"),
		dump:      fs.String("dump", "", "write the final policy as JSON lines {item, response, ref_prob, reward, prob} (- for standard output)"),
		synth:     fs.Int("synthetic", 0, "rounds of synthetic feedback before optimizing: an AI rater labels fresh pairs of policy samples and the reward model is retrained on them (needs --reward tabular|linear|mlp)"),
		judge:     fs.String("judge", "rubric", "the AI rater of --synthetic: rubric (the demo domain's written rubric) or reward (the reward model itself)"),
		audit:     fs.Float64("audit", 0.1, "fraction of --synthetic pairs also labeled by a simulated human, whose agreement with the AI rater is reported"),
		auditor:   fs.String("auditor", "expert", "demo rater preset of the simulated human auditor"),
		asJSON:    fs.Bool("json", false, "print one JSON object"),
	}
}

// check reports the usage errors the flags can have before the snapshot is read;
// the settings' own rules are policy.Optimize's (runUsage words them).
func (f *optimizeFlags) check() error {
	if *f.dump == "-" && (*f.out == "-" || *f.asJSON) {
		return usagef("--dump - writes to standard output, which -o - or --json already use; give --dump a file")
	}
	if *f.kind != "candidates" {
		return usagef("--policy %q is not a policy kind: use candidates or lm", *f.kind)
	}
	switch *f.algo {
	case "exact", "ppo", "rloo", "dpo", "ipo", "bon":
	case "":
		return usagef("give the algorithm with --algo exact|ppo|rloo|dpo|ipo|bon")
	default:
		return usagef("unknown --algo %q: use exact, ppo, rloo, dpo, ipo or bon", *f.algo)
	}
	if *f.n < 1 {
		return usagef("--n must be at least 1")
	}
	if *f.synth > 0 {
		switch {
		case *f.rspec != reward.FamilyTabular && *f.rspec != reward.FamilyLinear && *f.rspec != reward.FamilyMLP:
			return usagef("--synthetic retrains the reward model: give --reward tabular, linear or mlp")
		case *f.judge != "rubric" && *f.judge != "reward":
			return usagef("unknown --judge %q: use rubric or reward", *f.judge)
		}
		if _, ok := demo.Presets[*f.auditor]; !ok {
			return usagef("unknown --auditor %q: use one of %s", *f.auditor, strings.Join(demo.PresetNames(), ", "))
		}
	}
	return nil
}

// config is the run the flags ask for on s, with a progress line on stderr.
func (f *optimizeFlags) config(s *snapshot.Snapshot, stderr io.Writer) (policy.OptimizeConfig, *progressLine, error) {
	cfg := policy.OptimizeConfig{Algo: *f.algo, Reward: *f.rspec,
		KL:    policy.KLConfig{Beta: *f.beta, TargetKL: *f.targetKL, Horizon: *f.horizon, Estimator: policy.Estimator(*f.estimator)},
		Steps: *f.steps, Samples: *f.samples, LR: *f.lr, N: *f.n, Diversity: *f.diversity, Gamma: *f.gamma, Lambda: *f.lambda, Seed: *f.seed,
		Tol: *f.tol, LabelSmoothing: *f.smoothing, Features: demo.FeaturesOf(s.Items)}
	if *f.synth > 0 {
		var err error
		if cfg.Synthetic, err = syntheticSpec(s, *f.synth, *f.judge, *f.auditor, *f.audit, *f.seed); err != nil {
			return cfg, nil, err
		}
	}
	total := *f.steps
	if total == 0 { // the default, for the progress line
		total = policy.DefaultSteps
		if *f.algo == "dpo" || *f.algo == "ipo" {
			total = policy.DefaultDPOSteps
		}
	}
	line := newProgress(stderr, *f.asJSON, "optimize "+*f.algo, "steps", total)
	cfg.Progress = func(step int, m policy.Metrics) bool {
		line.update(step, policyProgress(m))
		return true
	}
	return cfg, line, nil
}

func runOptimize(args []string, stdout, stderr io.Writer) error {
	if wantsLMPolicy(args) {
		return optimizeLM(args, stdout, stderr) // the generative policy: cmd_optimize_lm.go
	}
	fs := newFlags("optimize", stderr)
	f := newOptimizeFlags(fs)
	s, data, err := parseCheckRead(fs, args, f.out, f.check)
	if err != nil {
		return err
	}
	cfg, line, err := f.config(s, stderr)
	if err != nil {
		return err
	}
	res, err := policy.Optimize(s, cfg)
	line.done()
	if err != nil {
		return runUsage(err)
	}
	runName, modelName := *f.name, *f.name
	if runName == "" {
		runName, modelName = "optimize-"+*f.algo, "policy-"+*f.algo
	}
	res.Record(s, runName, modelName)
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: snapshot.ID(data), Seed: *f.seed,
		Command: "prefer optimize " + canonicalArgs(fs, "o", "dump", "json")}
	id, err := writeSnapshot(*f.out, s, stdout)
	if err != nil {
		return err
	}
	return f.report(res, runName, modelName, id, stdout, stderr)
}

// report prints what the run did: its JSON (--json) or a line and its notes, and
// writes the dump.
func (f *optimizeFlags) report(res *policy.Optimized, runName, modelName, id string, stdout, stderr io.Writer) error {
	rewardName, _ := res.Run.Config["reward"].(string)
	rep := optimizeReport{Output: *f.out, OutputID: id, Run: runName, Model: modelName, Policy: "candidates", Algo: *f.algo,
		Reward: rewardName, Seed: *f.seed, Steps: res.Steps, RunHash: policy.RunHash(&res.Run),
		Converged: &res.Converged, Criterion: num.Float(res.Criterion), Tolerance: num.Float(res.Tol),
		Summary: num.FloatMap(res.Run.Summary), Alerts: alertsJSON(res.Alerts), Notes: res.Run.Notes}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	if *f.dump != "" {
		rows := res.Dump()
		if err := writeDump(*f.dump, rows, stdout); err != nil {
			return err
		}
		rep.Dump, rep.DumpRows = *f.dump, len(rows)
	}
	if syn := res.Synthetic; syn != nil {
		rep.Synthetic = &syntheticJSON{Rounds: *f.synth, Judge: *f.judge, AILabels: len(syn.Judgments) - syn.Audits,
			Audits: syn.Audits, Agreement: num.Float(syn.Agreement), GoldPerRound: num.Floats(syn.Run.Series["gold"]),
			AgreementPerRound: num.Floats(syn.Run.Series["agreement"])}
	}
	if *f.asJSON {
		return printJSON(stdout, rep)
	}
	sum := res.Run.Summary
	msg := messages(*f.out, stdout, stderr)
	if *f.dump == "-" {
		msg = stderr
	}
	gold := ""
	if g := sum["gold"]; !math.IsNaN(g) {
		gold = fmt.Sprintf(", gold %.4g", g)
	}
	fmt.Fprintf(msg, "%s: %s on %s, %d steps: reward %.4g%s, KL %.4g, β %.4g, entropy %.4g (%s)\n",
		outputName(rep.Output), *f.algo, rewardName, res.Steps, sum["reward"], gold, sum["kl"], sum["beta"], sum["entropy"], id)
	fmt.Fprintln(msg, "  "+convergenceLine(res.Result, *f.algo))
	for _, note := range res.Run.Notes {
		fmt.Fprintln(msg, "  "+note)
	}
	return nil
}

// convergenceLine says whether a run converged, in words.
func convergenceLine(r *policy.Result, algo string) string {
	what := "largest total variation from the optimum"
	if algo == "dpo" || algo == "ipo" {
		what = "largest change of a pair's implied probability from the minimizer"
	}
	switch {
	case algo == "exact" || algo == "bon":
		return "solved in closed form"
	case r.Converged:
		return fmt.Sprintf("converged after %d steps: %s %.4f ≤ %g", r.Steps, what, r.Criterion, r.Tol)
	case math.IsNaN(r.Criterion):
		return fmt.Sprintf("no convergence criterion: the loss has no minimizer (see the note); stopped at the cap of %d steps", r.Steps)
	}
	return fmt.Sprintf("did not converge in %d steps: %s %.4f > %g; raise --steps", r.Steps, what, r.Criterion, r.Tol)
}

// syntheticSpec is the synthetic feedback of --synthetic: the AI rater is the demo
// rubric (--judge rubric, demo-domain items only) or the starting reward model
// (--judge reward); the auditor a simulated demo rater (demo items only).
func syntheticSpec(s *snapshot.Snapshot, rounds int, judge, auditor string, audit float64, seed uint64) (policy.SyntheticSpec, error) {
	sp := policy.SyntheticSpec{Rounds: rounds, Audit: audit, JudgeName: judge}
	demoItems := demo.AllKnown(s.Items)
	if judge == "rubric" {
		if !demoItems {
			return sp, usagef("--judge rubric needs demo-domain items; use --judge reward on other data")
		}
		sp.Judge, sp.JudgeRater = policy.RewardLabeler(demo.Rubric, 0.05), "AI rater (demo rubric)"
	}
	if demoItems && audit > 0 {
		p := demo.Presets[auditor]
		h := demo.NewRater(p, "audit", seed)
		sp.Auditor = func(it *feedback.Item, a, b string) feedback.Judgment { return h.Compare(it, a, b, 0) }
		sp.AuditorRater = feedback.Rater{Name: "audit (" + auditor + ")", Group: p.Group, Kind: feedback.RaterSimulated, Profile: p.String()}
	}
	return sp, nil
}

// runUsage turns the errors of a run's settings (policy.ErrSettings) and the "no
// reward model" error of policy.ChooseReward into usage errors (exit 2).
func runUsage(err error) error {
	switch {
	case errors.Is(err, policy.ErrNoRewardModel):
		return usagef("the snapshot holds no reward model: run 'prefer train-rm' first, or pass --reward gold|tabular|linear|mlp")
	case errors.Is(err, policy.ErrSettings):
		return usagef("%v", err)
	}
	return err
}

// writeDump writes dump rows as JSON lines (docs/policy.md), atomically. A NaN
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
