package work

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"prefer/app/jobs"
	"prefer/core/agree"
	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/formats"
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
	rep := agree.Analyze(s.Items, s.Raters, s.Judgments, agree.Options{Seed: req.Param().Seed})
	data, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("encode the quality report: %w", err)
	}
	return &jobs.Result{File: data, Summary: map[string]float64{"judgments": float64(rep.Judgments)}}, nil
}

func simulate(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	p := req.Param()
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
		Command: fmt.Sprintf("simulate --seed %d --items %d --raters %s", p.Seed, len(d.Items), orDefault(p.Panel, demo.DefaultPanel))}
	report(jobs.Progress{Phase: "simulating raters", Step: 1, Total: 1})
	res, err := finish(s, &snapshot.Snapshot{})
	if err != nil {
		return nil, err
	}
	res.Replace = true
	res.Summary = map[string]float64{"items": float64(len(d.Items)), "raters": float64(len(d.Raters)), "judgments": float64(len(d.Judgments))}
	return res, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// rewardConfig is the reward-model configuration of a request.
func rewardConfig(p jobs.Params) reward.Config {
	return reward.Config{Family: orDefault(p.Family, reward.FamilyLinear), Seed: p.Seed, Holdout: p.Holdout, SplitBy: p.SplitBy}
}

// trainReward trains the request's reward model, reporting each epoch.
func trainReward(s *snapshot.Snapshot, p jobs.Params, report Reporter, phase string, of func(epoch int) (int, int)) (*reward.Result, error) {
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
	p := req.Param()
	res, err := trainReward(s, p, report, "training the reward model", func(e int) (int, int) { return e, rewardConfig(p).Epochs + 40 })
	if err != nil {
		return nil, err
	}
	run := rewardRun(s, res, p)
	run.Config["proposals"] = proposals(s, res.Model, p.Seed)
	model := reward.ToSnapshot(res.Model, jobs.ModelRM, run.Summary)
	model.Run = run.Name
	s.PutRun(run)
	s.PutModel(model)
	delta := &snapshot.Snapshot{Runs: []snapshot.Run{run}, Models: []snapshot.Model{model}}
	out, err := finish(s, delta)
	if err != nil {
		return nil, err
	}
	out.Summary = run.Summary
	out.Notes = run.Notes
	return out, nil
}

// rewardRun records a reward-model training as a run: its configuration and seed,
// the learning curves, the held-out metrics, and the diagnostics the Reward page
// draws (reliability bins, reward against length, confident disagreements). The
// model itself is a pure function of the run's data, configuration and seed.
func rewardRun(s *snapshot.Snapshot, res *reward.Result, p jobs.Params) snapshot.Run {
	c := res.Curves
	run := snapshot.Run{
		Name: jobs.RunRM,
		Kind: "train-rm",
		Seed: p.Seed,
		Config: map[string]any{
			"family": res.Config.Family, "holdout": res.Config.Holdout, "split_by": res.Split.By,
			"epochs": int64(res.Config.Epochs), "batch": int64(res.Config.Batch), "lr": res.Config.LR,
			"best_epoch": int64(c.BestEpoch),
		},
		Series: map[string][]float64{
			"train_loss": finite(c.TrainLoss), "valid_loss": finite(c.ValidLoss),
			"held_loss": finite(c.HeldLoss), "held_acc": finite(c.HeldAcc),
		},
		Summary: res.Metrics.Map(),
		Notes:   append([]string(nil), res.Diag.Notes...),
	}
	var lo, conf, acc, count []float64
	for _, b := range res.Diag.Reliability {
		lo = append(lo, b.Lo)
		conf = append(conf, nan0(b.Conf))
		acc = append(acc, nan0(b.Acc))
		count = append(count, float64(b.Count))
	}
	run.Series["rel_lo"], run.Series["rel_conf"], run.Series["rel_acc"], run.Series["rel_count"] = lo, conf, acc, count
	// Reward against length (words) and gold, for every response of the held-out
	// items (all items when nothing was held out by item).
	held := map[string]bool{}
	for _, id := range res.Split.HeldItems {
		held[id] = true
	}
	var words, rew, gold []float64
	for i := range s.Items {
		it := &s.Items[i]
		if len(held) > 0 && !held[it.ID] {
			continue
		}
		for _, r := range it.Responses {
			words = append(words, float64(reward.Words(r.Text)))
			rew = append(rew, res.Model.Score(it, r.Text))
			if r.Gold != nil {
				gold = append(gold, *r.Gold)
			} else {
				gold = append(gold, math.NaN())
			}
		}
		if len(words) >= 600 {
			break
		}
	}
	run.Series["scatter_words"], run.Series["scatter_reward"] = words, rew
	if len(gold) > 0 && !math.IsNaN(gold[0]) {
		run.Series["scatter_gold"] = finite(gold)
	}
	var dis []any
	for _, d := range res.Diag.Disagreements {
		dis = append(dis, map[string]any{
			"item": d.Item, "prompt": d.Prompt, "winner": d.WinnerText, "loser": d.LoserText,
			"rater": d.Rater, "p_winner": d.PWinner, "source": d.Source,
		})
	}
	run.Config["disagreements"] = dis
	var top []any
	for _, f := range append(append([]reward.Feature(nil), res.Diag.TopPositive...), res.Diag.TopNegative...) {
		top = append(top, map[string]any{"name": f.Name, "weight": f.Weight, "count": int64(f.Count)})
	}
	run.Config["features"] = top
	return run
}

// finite replaces NaN and ±Inf (not storable) by 0 and returns a copy.
func finite(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = nan0(x)
	}
	return out
}

func nan0(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// env is the optimization environment of a state: the proxy reward (the stored
// reward model, or one trained now) and the gold utility when known.
func env(s *snapshot.Snapshot, p jobs.Params, report Reporter) (policy.Env, string, error) {
	if sm := s.Model(jobs.ModelRM); sm != nil {
		m, err := reward.FromSnapshot(*sm)
		if err != nil {
			return policy.Env{}, "", fmt.Errorf("load the stored reward model: %w", err)
		}
		e := policy.Env{Proxy: m.Score}
		if policy.HasGold(s.Items) {
			e.Gold = policy.ItemGold
		}
		return e, fmt.Sprintf("stored %s reward model", sm.Family), nil
	}
	q := p
	if run := s.Run(jobs.RunRM); run != nil {
		// Retrain exactly the model of the last training run (same data, family and
		// seed give the same model bit for bit).
		q.Seed = run.Seed
		if f, ok := run.Config["family"].(string); ok {
			q.Family = f
		}
		if h, ok := run.Config["holdout"].(float64); ok {
			q.Holdout = h
		}
	}
	res, err := trainReward(s, q, report, "loading the reward model", func(e int) (int, int) { return e, 0 })
	if err != nil {
		return policy.Env{}, "", err
	}
	e := policy.Env{Proxy: res.Model.Score}
	if policy.HasGold(s.Items) {
		e.Gold = policy.ItemGold
	}
	return e, fmt.Sprintf("%s reward model (seed %d)", res.Config.Family, q.Seed), nil
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

func optimize(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := stateWithItems(req, "items to optimize a policy on")
	if err != nil {
		return nil, err
	}
	p := req.Param()
	algo := orDefault(p.Algo, "ppo")
	betas := p.Betas
	if len(betas) == 0 {
		betas = []float64{0.1}
	}
	steps := p.Steps
	if steps == 0 {
		steps = 200
	}
	prefix := orDefault(p.Prefix, "policy")
	var e policy.Env
	rewardName := "none (DPO/IPO learn from the pairs)"
	if algo != "dpo" && algo != "ipo" {
		if e, rewardName, err = env(s, p, report); err != nil {
			return nil, err
		}
	} else if policy.HasGold(s.Items) {
		e.Gold = policy.ItemGold
	}
	delta := &snapshot.Snapshot{}
	summary := map[string]float64{}
	var notes []string
	for bi, beta := range betas {
		c, err := policy.NewCandidate(s.Items, policy.CandidateConfig{})
		if err != nil {
			return nil, err
		}
		phase := fmt.Sprintf("%s at β = %g", strings.ToUpper(algo), beta)
		if p.TargetKL > 0 {
			phase = fmt.Sprintf("%s toward KL %g", strings.ToUpper(algo), p.TargetKL)
		}
		total := steps * len(betas)
		progress := func(step int, m policy.Metrics) bool {
			report(jobs.Progress{Phase: phase, Step: bi*steps + step, Total: total, Metrics: map[string]float64{
				"run": float64(bi), "beta": m.Beta, "reward": nan0(m.Reward), "gold": nan0(m.Gold),
				"kl": nan0(m.KL), "entropy": nan0(m.Entropy),
			}})
			return true
		}
		kl := policy.KLConfig{Beta: beta, TargetKL: p.TargetKL}
		var res *policy.Result
		switch algo {
		case "ppo":
			res, err = policy.PPO(c, e, policy.PPOConfig{KL: kl, Steps: steps, Seed: p.Seed, Progress: progress})
		case "rloo":
			res, err = policy.RLOO(c, e, policy.RLOOConfig{KL: kl, Steps: steps, Seed: p.Seed, Progress: progress})
		case "exact":
			res, err = policy.SolveExact(c, e, policy.ExactConfig{Beta: beta, TargetKL: p.TargetKL, Seed: p.Seed})
		case "bon":
			res, err = policy.SolveBestOfN(c, e, policy.BoNConfig{N: max(p.N, 1), Seed: p.Seed})
		case "dpo", "ipo":
			loss := policy.LossSigmoid
			if algo == "ipo" {
				loss = policy.LossIPO
			}
			prefs, _ := policy.Prefs(s.Items, feedback.Pairs(s.Items, s.Judgments, feedback.PairOptions{}))
			if len(prefs) == 0 {
				return nil, errors.New("there are no decided comparisons for DPO to learn from: label or simulate some first")
			}
			res, err = policy.DPO(c, prefs, e, policy.DPOConfig{Beta: beta, Loss: loss, Steps: steps, Seed: p.Seed, Progress: progress})
		default:
			return nil, fmt.Errorf("unknown algorithm %q: use ppo, rloo, exact, bon, dpo or ipo", algo)
		}
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%s-%d", prefix, bi+1)
		res.Run.Name = name
		res.Run.Config["policy"] = "candidates"
		res.Run.Config["algo"] = algo
		res.Run.Config["reward"] = rewardName
		res.Run.Config["beta"] = beta
		res.Run.Config["samples"] = samplesOf(s.Items, c, e, 6)
		m := c.Model(name, name)
		for k, v := range res.Run.Summary {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				m.Metrics[k] = v
			}
		}
		s.PutRun(res.Run)
		s.PutModel(m)
		delta.Runs = append(delta.Runs, res.Run)
		delta.Models = append(delta.Models, m)
		for k, v := range res.Run.Summary {
			summary[fmt.Sprintf("%s.%s", name, k)] = v
		}
		notes = append(notes, res.Run.Notes...)
	}
	out, err := finish(s, delta)
	if err != nil {
		return nil, err
	}
	out.Summary, out.Notes = summary, notes
	return out, nil
}

// samplesOf picks up to n prompts where the optimized policy's favourite response
// differs most from the reference policy's, and describes both: the before/after
// samples. Prompts are taken in item order among those that changed.
func samplesOf(items []feedback.Item, c *policy.Candidate, e policy.Env, n int) []any {
	type sample struct {
		score float64
		v     map[string]any
	}
	var list []sample
	for pi := range items {
		it := &items[pi]
		k := len(it.Responses)
		if k < 2 {
			continue
		}
		probs := c.Probs(make([]float64, k), pi)
		ref := c.RefProbs(make([]float64, k), pi)
		best, refBest := argmax(probs), argmax(ref)
		rb, rr := it.Responses[best], it.Responses[refBest]
		score := probs[best] - ref[best]
		if best == refBest {
			score -= 1
		}
		v := map[string]any{
			"item": it.ID, "prompt": it.Prompt,
			"ref_text": rr.Text, "ref_prob": ref[refBest], "ref_parts": strs(rr.Parts),
			"text": rb.Text, "prob": probs[best], "parts": strs(rb.Parts),
		}
		if e.Proxy != nil {
			v["ref_proxy"], v["proxy"] = e.Proxy(it, rr.Text), e.Proxy(it, rb.Text)
		}
		if e.Gold != nil {
			v["ref_gold"], v["gold"] = nan0(e.Gold(it, rr.Text)), nan0(e.Gold(it, rb.Text))
		}
		list = append(list, sample{score, v})
	}
	sort.SliceStable(list, func(a, b int) bool { return list[a].score > list[b].score })
	var out []any
	for i := 0; i < len(list) && i < n; i++ {
		out = append(out, list[i].v)
	}
	return out
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

func sweep(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	p := req.Param()
	e, rewardName, err := env(s, p, report)
	if err != nil {
		return nil, err
	}
	res, err := policy.Sweep(s.Items, e, policy.SweepConfig{Algo: "exact", Seed: p.Seed, Progress: func(done, total int) bool {
		report(jobs.Progress{Phase: "β sweep", Step: done, Total: total})
		return true
	}})
	if err != nil {
		return nil, err
	}
	res.Run.Name = jobs.RunSweep
	res.Run.Config["reward"] = rewardName
	s.PutRun(res.Run)
	out, err := finish(s, &snapshot.Snapshot{Runs: []snapshot.Run{res.Run}})
	if err != nil {
		return nil, err
	}
	out.Notes = res.Run.Notes
	return out, nil
}

func importFile(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	p := req.Param()
	report(jobs.Progress{Phase: "reading " + p.Name, Step: 0, Total: 1})
	d, rep, err := formats.Import(p.Format, bytes.NewReader(p.Data), formats.Options{Lenient: true})
	if err != nil {
		return nil, fmt.Errorf("import %s as %s: %w", p.Name, p.Format, err)
	}
	s := &snapshot.Snapshot{Items: d.Items, Raters: d.Raters, Judgments: feedback.NewLog(d.Judgments...).All(),
		Provenance: snapshot.Provenance{Tool: "prefer web", Command: "import --format " + p.Format + " " + p.Name}}
	res, err := finish(s, &snapshot.Snapshot{})
	if err != nil {
		return nil, err
	}
	res.Replace = true
	res.Summary = map[string]float64{"records": float64(rep.Records), "judgments": float64(rep.Judgments),
		"items": float64(len(d.Items)), "skipped": float64(rep.Skipped), "duplicates": float64(rep.Duplicates)}
	res.Notes = rep.Problems
	return res, nil
}

func exportFile(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	p := req.Param()
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
