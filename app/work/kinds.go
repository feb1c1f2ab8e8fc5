package work

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"prefer/app/jobs"
	"prefer/core/agree"
	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/formats"
	"prefer/core/lesson/pipeline"
	"prefer/core/policy"
	"prefer/core/reward"
	"prefer/core/snapshot"
)

func agreeReport(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	report(jobs.Progress{Phase: "measuring agreement", Step: 0, Total: 1})
	rep := agree.Analyze(s.Items, s.Raters, s.Judgments, agree.Options{Seed: params(req.Agree).Seed})
	data, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("encode the quality report: %w", err)
	}
	return &jobs.Result{File: data, Summary: map[string]float64{"judgments": float64(rep.Judgments)}}, nil
}

func simulate(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	p := params(req.Simulate)
	report(jobs.Progress{Phase: "simulating raters", Step: 0, Total: 1})
	cfg := demo.Config{Seed: p.Seed, Items: p.Items, Overlap: p.Overlap}
	if p.Panel != "" {
		panel, err := demo.ParseProfiles(p.Panel)
		if err != nil {
			return nil, err
		}
		cfg.Raters = panel
		if cfg.Overlap > len(panel) {
			cfg.Overlap = len(panel)
		}
	}
	d, err := demo.Generate(cfg)
	if err != nil {
		return nil, err
	}
	s := d.Snapshot()
	s.Provenance = snapshot.Provenance{Tool: "prefer web", Seed: p.Seed,
		Command: fmt.Sprintf("simulate --seed %d --items %d --raters %s", p.Seed, len(d.Items), cmp.Or(p.Panel, demo.DefaultPanel))}
	report(jobs.Progress{Phase: "simulating raters", Step: 1, Total: 1})
	res, err := finish(s, &snapshot.Snapshot{})
	if err != nil {
		return nil, err
	}
	res.Replace = true
	res.Summary = map[string]float64{"items": float64(len(d.Items)), "raters": float64(len(d.Raters)), "judgments": float64(len(d.Judgments))}
	return res, nil
}

// rewardConfig is the reward-model configuration of a request.
func rewardConfig(p jobs.TrainRMParams) reward.Config {
	cfg := reward.Config{Family: p.Family, Seed: p.Seed, SplitBy: p.SplitBy}
	if p.Holdout != nil {
		cfg.Holdout = *p.Holdout
		if cfg.Holdout == 0 {
			cfg.Holdout = -1 // none: reward.Config's convention
		}
	}
	return cfg
}

// trainReward trains the request's reward model, reporting each epoch.
func trainReward(s *snapshot.Snapshot, p jobs.TrainRMParams, report Reporter, phase string, of func(epoch int) (int, int)) (*reward.Result, error) {
	cfg := rewardConfig(p)
	cfg.Progress = func(epoch int, trainLoss, heldLoss float64) bool {
		step, total := of(epoch)
		m := map[string]float64{"train_loss": trainLoss}
		if !math.IsNaN(heldLoss) {
			m["held_loss"] = heldLoss
		}
		report(jobs.Progress{Phase: phase, Step: step, Total: total, Metrics: m})
		return true
	}
	res, err := reward.Train(s.Items, s.Judgments, cfg)
	if errors.Is(err, reward.ErrNoComparisons) {
		return nil, errors.New("there are no comparisons to learn from yet: label some pairs (Label page) or simulate raters")
	}
	return res, err
}

func trainRM(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	p := params(req.TrainRM)
	res, err := trainReward(s, p, report, "training the reward model", func(e int) (int, int) { return e, rewardConfig(p).Epochs + 40 })
	if err != nil {
		return nil, err
	}
	delta := reward.Record(s, res, jobs.ModelRM, jobs.RunRM)
	run := &delta.Runs[0]
	run.Config["proposals"] = proposals(s, res.Model, p.Seed) // the map s holds too
	out, err := finish(s, delta)
	if err != nil {
		return nil, err
	}
	out.Summary = run.Summary
	out.Notes = run.Notes
	return out, nil
}

// stateWithItems returns the request's state, or an error saying what is missing
// (need) and how to get it when the state has no items.
func stateWithItems(req *jobs.Request, need string) (*snapshot.Snapshot, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	if len(s.Items) == 0 {
		return nil, fmt.Errorf("there are no %s: simulate raters, import a dataset or open a snapshot first", need)
	}
	return s, nil
}

// optimizeConfig is the core run of an optimize request at one β: the job's
// parameters as they are, so that zeros take the core's defaults.
func optimizeConfig(s *snapshot.Snapshot, p jobs.OptimizeParams, beta float64) policy.OptimizeConfig {
	return policy.OptimizeConfig{Algo: p.Algo, Reward: p.Reward, KL: policy.KLConfig{Beta: beta, TargetKL: p.TargetKL},
		Steps: p.Steps, Samples: p.Samples, LR: p.LR, N: p.N, Diversity: p.Diversity, Gamma: p.Gamma, Lambda: p.Lambda,
		Tol: p.Tol, LabelSmoothing: p.LabelSmoothing, Seed: p.Seed, Features: demo.FeaturesOf(s.Items)}
}

// optimize runs policy.Optimize once per β of the request (the same call as
// `prefer optimize`), naming the runs and policies Prefix-1, Prefix-2, …
func optimize(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := stateWithItems(req, "items to optimize a policy on")
	if err != nil {
		return nil, err
	}
	p := params(req.Optimize)
	nRuns := max(len(p.Betas), 1)
	return perBeta(s, p.Betas, cmp.Or(p.Prefix, "policy"), func(bi int, beta float64, name string) (*snapshot.Snapshot, *snapshot.Run, error) {
		cfg := optimizeConfig(s, p, beta)
		steps := cfg.Steps
		if steps == 0 {
			steps = policy.DefaultSteps
			if cfg.Algo == "dpo" || cfg.Algo == "ipo" {
				steps = policy.DefaultDPOSteps
			}
		}
		ph, total := phase(cfg.Algo, beta, p.TargetKL), steps*nRuns
		cfg.Progress = func(step int, m policy.Metrics) bool {
			report(jobs.Progress{Phase: ph, Step: bi*steps + step, Total: total, Metrics: knownOnly(map[string]float64{
				"run": float64(bi), "beta": m.Beta, "reward": m.Reward, "gold": m.Gold,
				"kl": m.KL, "entropy": m.Entropy,
			})})
			return true
		}
		res, err := policy.Optimize(s, cfg)
		if err != nil {
			return nil, nil, err
		}
		return res.Record(s, name, name), &res.Run, nil
	}, nil)
}

// sweep runs policy.SweepSnapshot (the same call as `prefer sweep`) and records
// it as the run jobs.RunSweep.
func sweep(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := stateWithItems(req, "items to sweep a policy on")
	if err != nil {
		return nil, err
	}
	p := params(req.Sweep)
	res, err := policy.SweepSnapshot(s, p.Reward, demo.FeaturesOf(s.Items), policy.SweepConfig{Algo: p.Algo, Betas: p.Betas, Ns: p.Ns,
		Diversity: p.Diversity, Seed: p.Seed, PPO: policy.PPOConfig{Steps: p.Steps}, RLOO: policy.RLOOConfig{Steps: p.Steps},
		Progress: func(done, total int) bool {
			report(jobs.Progress{Phase: "β sweep", Step: done, Total: total})
			return true
		}})
	if err != nil {
		return nil, err
	}
	out, err := finish(s, res.Record(s, jobs.RunSweep))
	if err != nil {
		return nil, err
	}
	out.Notes = res.Run.Notes
	return out, nil
}

// importFile reads a dataset file and returns the state it makes (in File, as an
// encoded snapshot) with what was read (Import), for the Data page to preview: the
// working state is replaced only when the user confirms. Bad records are skipped and
// counted; the first three are shown with their lines. When nothing could be read,
// or the file looks like another format, Import says which.
func importFile(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	p := params(req.Import)
	format := p.Format
	if format == "" {
		format = jobs.FormatAuto
	}
	report(jobs.Progress{Phase: "reading " + p.Name, Step: 0, Total: 1})
	d, rep, err := formats.Import(format, bytes.NewReader(p.Data), formats.Options{Lenient: true, InputSize: int64(len(p.Data))})
	if err != nil && !errors.Is(err, formats.ErrUnknownFormat) {
		return nil, fmt.Errorf("import %s as %s: %w", p.Name, format, err)
	}
	info := &jobs.ImportInfo{Format: format}
	res := &jobs.Result{Import: info}
	if det, derr := formats.Detect(bytes.NewReader(p.Data), formats.Options{}); derr == nil && (err != nil || det.Format != rep.Format) {
		info.Looks, info.LooksWhy = det.Format, det.Why
	}
	if err != nil { // auto, and no format fits
		info.Errors = err.Error()
		return res, nil
	}
	info.Format, info.Detected = rep.Format, rep.Detected
	info.Records, info.Items, info.Judgments, info.Skipped, info.Duplicates = rep.Records, len(d.Items), rep.Judgments, rep.Skipped, rep.Duplicates
	if rep.Skipped > 0 {
		info.Errors = formats.ProblemSummary(rep, 3)
	}
	info.Rows = previewRows(d, 5)
	if len(d.Items) == 0 && rep.Judgments == 0 {
		return res, nil // nothing to replace the state with
	}
	s := &snapshot.Snapshot{Items: d.Items, Raters: d.Raters, Judgments: feedback.NewLog(d.Judgments...).All(),
		Provenance: snapshot.Provenance{Tool: "prefer web", Command: "import --format " + rep.Format + " " + p.Name}}
	if res.File, err = snapshot.Marshal(s); err != nil {
		return nil, fmt.Errorf("encode the imported state: %w", err)
	}
	return res, nil
}

// previewRows describes the first n judgments of d in words.
func previewRows(d *formats.Dataset, n int) []jobs.PreviewRow {
	items := make(map[string]*feedback.Item, len(d.Items))
	for i := range d.Items {
		items[d.Items[i].ID] = &d.Items[i]
	}
	text := func(it *feedback.Item, id string) string {
		if r := it.Response(id); r != nil {
			return r.Text
		}
		return id
	}
	var rows []jobs.PreviewRow
	for _, j := range d.Judgments {
		if len(rows) == n {
			break
		}
		it := items[j.Item]
		if it == nil {
			continue
		}
		r := jobs.PreviewRow{Kind: string(j.Kind), Prompt: it.Prompt}
		switch j.Kind {
		case feedback.KindCompare:
			r.A, r.B, r.Label = text(it, j.A), text(it, j.B), string(j.Choice)
		case feedback.KindRank:
			if len(j.Order) > 0 {
				r.A, r.Label = text(it, j.Shown[j.Order[0]]), fmt.Sprintf("best of %d", len(j.Shown))
			}
		case feedback.KindRate:
			r.A, r.Label = text(it, j.Response), fmt.Sprintf("%s %d", j.Axis, j.Score)
		case feedback.KindThumb:
			r.A, r.Label = text(it, j.Response), map[bool]string{true: "up", false: "down"}[j.Score > 0]
		default:
			r.A = text(it, j.Response)
		}
		rows = append(rows, r)
	}
	return rows
}

func exportFile(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	p := params(req.Export)
	var buf bytes.Buffer
	rep, err := formats.Export(p.Format, &buf, &formats.Dataset{Items: s.Items, Raters: s.Raters, Judgments: s.Judgments})
	if err != nil {
		return nil, err
	}
	res := &jobs.Result{File: buf.Bytes(), Summary: map[string]float64{"records": float64(rep.Records), "skipped": float64(rep.SkippedTotal())}}
	for reason, n := range rep.Skipped {
		res.Notes = append(res.Notes, fmt.Sprintf("%d %s judgments left out (the format has no place for them)", n, reason))
	}
	sort.Strings(res.Notes)
	return res, nil
}

// proposals are the pairs most worth labeling next (active learning): by the
// ensemble's disagreement (BALD) for an ensemble, else by the model's uncertainty,
// leaving out pairs that have been compared already.
func proposals(s *snapshot.Snapshot, m reward.Model, seed uint64) []any {
	seen := map[string]bool{}
	for _, j := range s.Judgments {
		if j.Kind == feedback.KindCompare {
			seen[j.Item+"\x00"+j.A+"\x00"+j.B] = true
			seen[j.Item+"\x00"+j.B+"\x00"+j.A] = true
		}
	}
	rule := reward.RuleUncertainty
	if m.Family() == reward.FamilyEnsemble {
		rule = reward.RuleBALD
	}
	cands, err := reward.Propose(m, s.Items, reward.ProposeConfig{K: 10, Rule: rule, Seed: seed,
		Skip: func(item, a, b string) bool { return seen[item+"\x00"+a+"\x00"+b] }})
	if err != nil {
		return nil
	}
	byID := map[string]*feedback.Item{}
	for i := range s.Items {
		byID[s.Items[i].ID] = &s.Items[i]
	}
	var out []any
	for _, c := range cands {
		it := byID[c.Item]
		if it == nil {
			continue
		}
		ra, rb := it.Response(c.A), it.Response(c.B)
		if ra == nil || rb == nil {
			continue
		}
		out = append(out, map[string]any{"item": c.Item, "prompt": it.Prompt, "a": c.A, "b": c.B,
			"a_text": ra.Text, "b_text": rb.Text, "value": c.Value, "rule": rule})
	}
	return out
}

// landscape builds the playground's landscape of a panel (core/lesson): the lesson's
// simulated judgments and reward model, every candidate scored.
func landscape(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	p := params(req.Landscape)
	report(jobs.Progress{Phase: "simulating raters and training the reward model", Step: 0, Total: 1})
	l, err := pipeline.NewLandscape(p.Panel)
	if err != nil {
		return nil, err
	}
	data, err := l.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode the playground's data: %w", err)
	}
	report(jobs.Progress{Phase: "simulating raters and training the reward model", Step: 1, Total: 1})
	return &jobs.Result{File: data, Summary: map[string]float64{"prompts": float64(len(l.Prompts)), "held_acc": l.HeldAcc}}, nil
}
