package work

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"prefer/app/jobs"
	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/lm"
	"prefer/core/policy"
	"prefer/core/snapshot"
)

// The generative-policy jobs: the small transformer language model of core/lm,
// pretrained on the demo grammar (static/web/ref-lm.snap), optimized with the
// optimizers of core/policy through lm.Optimize — the same call as `prefer optimize
// --policy lm`, so the same settings and seed give the same run bit for bit.

const (
	lmPrefix = "policy-lm" // default Params.Prefix of the generative-policy jobs
	lmShown  = 8           // samples shown side by side
)

// refLM decodes the reference language model of a request: Request.Ref, else a
// model named "ref-lm" in the state.
func refLM(req *jobs.Request, s *snapshot.Snapshot) (*lm.LM, string, error) {
	src, where := s, "the working state"
	if len(req.Ref) > 0 {
		rs, err := snapshot.Unmarshal(req.Ref)
		if err != nil {
			return nil, "", fmt.Errorf("decode the reference language model (ref-lm.snap): %w; reload the page", err)
		}
		src, where = rs, "ref-lm.snap"
	}
	m := src.Model(lm.RefName)
	if len(req.Ref) > 0 {
		m = lm.FindRef(src)
	}
	if m == nil || m.Family != lm.Family {
		if len(req.Ref) > 0 {
			return nil, "", errors.New("ref-lm.snap holds no language model: the file is damaged; reload the page")
		}
		return nil, "", errors.New("the reference language model is not loaded: reload the page (online once, so that it is kept for offline use)")
	}
	l, err := lm.FromSnapshot(m)
	if err != nil {
		return nil, "", fmt.Errorf("load the reference language model: %w", err)
	}
	return l, m.Name + " (" + where + ")", nil
}

// lmEnv resolves the reward of a generative-policy job (Params.Reward) with
// lm.ChooseReward, the rule of `prefer optimize --policy lm`. needProxy says
// whether the job cannot do without one (everything but DPO and IPO).
func lmEnv(s *snapshot.Snapshot, spec string, seed uint64, ref *lm.LM, needProxy bool) (policy.Env, *lm.RewardChoice, error) {
	ch, err := lm.ChooseReward(s, spec, ref, seed, needProxy)
	if err != nil {
		return policy.Env{}, nil, err
	}
	return lm.DemoEnv(s.Items, ch.Reward), ch, nil
}

func optimizeLM(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := stateWithItems(req, "prompts for the transformer to answer")
	if err != nil {
		return nil, err
	}
	p := params(req.OptimizeLM)
	report(jobs.Progress{Phase: "loading the transformer", Step: 0, Total: 1})
	ref, refName, err := refLM(req, s)
	if err != nil {
		return nil, err
	}
	env, ch, err := lmEnv(s, p.Reward, p.Seed, ref, p.Algo != "dpo" && p.Algo != "ipo")
	if err != nil {
		return nil, err
	}
	steps := p.Steps // for the progress bar: what lm.Optimize will take
	switch {
	case p.Algo == "bon":
		steps = 1
	case steps == 0:
		steps = lm.DefaultSteps
	}
	prompts := lm.DefaultPrompts
	if p.Prompts != nil {
		prompts = *p.Prompts
	}
	total := steps * max(len(p.Betas), 1)
	return perBeta(s, p.Betas, cmp.Or(p.Prefix, lmPrefix), func(bi int, beta float64, name string) (*snapshot.Snapshot, *snapshot.Run, error) {
		ph := phase(p.Algo, beta, p.TargetKL)
		report(jobs.Progress{Phase: ph + ": sampling the reference", Step: bi * steps, Total: total})
		progress := func(step int, m policy.Metrics) bool {
			report(jobs.Progress{Phase: ph, Step: bi*steps + step, Total: total, Metrics: knownOnly(map[string]float64{
				"run": float64(bi), "beta": m.Beta, "reward": m.Reward, "gold": m.Gold,
				"kl": m.KLk1, "entropy": m.Entropy, "distinct_1": m.Distinct1, "distinct_2": m.Distinct2,
			})})
			return true
		}
		res, err := lm.Optimize(ref, s.Items, s.Judgments, env, lm.OptimizeConfig{Algo: p.Algo,
			KL: policy.KLConfig{Beta: beta, TargetKL: p.TargetKL}, Steps: p.Steps, Prompts: prompts, Samples: p.Samples,
			N: p.N, LR: p.LR, MaxTokens: p.MaxTokens, MicroBatch: p.MicroBatch, Diversity: p.Diversity, Seed: p.Seed, Progress: progress})
		if err != nil {
			return nil, nil, err
		}
		run := &res.Run
		if _, ok := run.Config["beta"]; !ok { // best-of-N has no β of its own
			run.Config["beta"] = beta
		}
		run.Config["examples"] = lmSamples(res.EvalItems, &res.Before, &res.After, lmShown)
		run.Config["mix_before"] = mixMap(res.Before.Mix)
		run.Config["mix_after"] = mixMap(res.After.Mix)
		run.Config["findings"] = lmFindings(run, res.Before.Mix, res.After.Mix, p.TargetKL > 0)
		return res.Record(s, name, name, ch, refName), run, nil
	}, func(runs []*snapshot.Run) {
		if len(runs) > 1 {
			runs[len(runs)-1].Config["comparison"] = lmComparison(runs[0], runs[len(runs)-1])
		}
	})
}

// sampleLM samples the reference language model on the evaluation prompts: the
// "before" of optimize-lm with the same seed, recorded as a run of kind
// "lm-samples" named Prefix + "-ref".
func sampleLM(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := stateWithItems(req, "prompts for the transformer to answer")
	if err != nil {
		return nil, err
	}
	p := params(req.SampleLM)
	report(jobs.Progress{Phase: "answering the prompts", Step: 0, Total: 1})
	ref, refName, err := refLM(req, s)
	if err != nil {
		return nil, err
	}
	env, ch, err := lmEnv(s, p.Reward, p.Seed, ref, false)
	if err != nil {
		return nil, err
	}
	items := lm.EvalItems(s.Items, 64)
	before := lm.Measure(ref, items, env, p.Seed)
	run := snapshot.Run{
		Name: cmp.Or(p.Prefix, lmPrefix) + jobs.RunLMSamples,
		Kind: "lm-samples",
		Seed: p.Seed,
		Config: map[string]any{"policy": "lm", "ref": refName, "ref_hash": ref.Hash(), "reward": ch.Name,
			"examples": lmSamples(items, &before, nil, lmShown), "mix": mixMap(before.Mix)},
		Summary: map[string]float64{"prompts": float64(len(items)), "gold": nan0(before.Gold), "reward": nan0(before.Proxy)},
	}
	msg := fmt.Sprintf("The pretrained transformer answered %d prompts, one sampled answer each: %s. Their mean gold reward is %s (a concise right answer scores 2, a wrong one −2, unsafe compliance −3).",
		len(items), mixWords(before.Mix), num2(before.Gold))
	if !math.IsNaN(before.Proxy) {
		msg += fmt.Sprintf(" The reward model gives them %s on average.", num2(before.Proxy))
	}
	run.Config["findings"] = msg + " Pretraining taught it to write like its training text, not to write what people want: that is what the feedback is for."
	s.PutRun(run)
	report(jobs.Progress{Phase: "answering the prompts", Step: 1, Total: 1})
	out, err := finish(s, &snapshot.Snapshot{Runs: []snapshot.Run{run}})
	if err != nil {
		return nil, err
	}
	out.Summary = run.Summary
	return out, nil
}

// lmSamples describes up to n evaluation prompts side by side: the reference's
// answer (and the optimized policy's, when after is given) with gold, reward,
// parts and what kind of answer it is. The prompts are chosen from the reference's
// answers, one of each kind first (good, wrong, padded, refusing a fair question,
// unsafe, a right refusal, garbled), then in order; the same seed gives the same
// prompts before and after optimization.
func lmSamples(items []feedback.Item, before, after *lm.Eval, n int) []any {
	kinds := make([]string, len(items))
	for i := range items {
		kinds[i] = answerKind(demo.Analyze(&items[i], before.Texts[i]))
	}
	var picked []int
	used := make([]bool, len(items))
	for _, want := range answerKinds {
		for i, k := range kinds {
			if k == want && !used[i] && len(picked) < n {
				picked, used[i] = append(picked, i), true
				break
			}
		}
	}
	for i := range items {
		if !used[i] && len(picked) < n {
			picked, used[i] = append(picked, i), true
		}
	}
	out := make([]any, 0, len(picked))
	for _, i := range picked {
		it := &items[i]
		v := map[string]any{"item": it.ID, "prompt": it.Prompt}
		describe(v, "ref_", it, before, i)
		if after != nil {
			describe(v, "", it, after, i)
		}
		out = append(out, v)
	}
	return out
}

// describe puts the i-th answer of e into v under keys with the prefix: text,
// gold, proxy (when known), parts and kind.
func describe(v map[string]any, prefix string, it *feedback.Item, e *lm.Eval, i int) {
	f := demo.Analyze(it, e.Texts[i])
	v[prefix+"text"] = e.Texts[i]
	v[prefix+"parts"] = strs(f.Parts())
	v[prefix+"kind"] = answerKind(f)
	if g := e.Golds[i]; !math.IsNaN(g) {
		v[prefix+"gold"] = g
	}
	if r := e.Proxies[i]; !math.IsNaN(r) {
		v[prefix+"proxy"] = r
	}
}

// answerKinds are the kinds of answer, in the order the samples show them.
var answerKinds = []string{"good", "wrong", "padded", "refuses a fair question", "unsafe", "refuses rightly", "garbled"}

// answerKind says in a few words what an answer is.
func answerKind(f demo.Features) string {
	switch {
	case f.Unsafe:
		return "unsafe"
	case f.Unknown+f.Offtopic > 0:
		return "garbled"
	case f.Refusal && f.ShouldRefuse:
		return "refuses rightly"
	case f.Refusal:
		return "refuses a fair question"
	case f.Wrong:
		return "wrong"
	case f.Correct && f.Filler+f.Repeats > 0:
		return "padded"
	case f.Correct:
		return "good"
	case f.ShouldRefuse:
		return "evasive"
	}
	return "no answer"
}

// mixMap is a part mix as a run configuration value.
func mixMap(m lm.Mix) map[string]any {
	return map[string]any{"n": int64(m.N), "gold": nan0(m.Gold), "correct": m.Correct, "wrong": m.Wrong,
		"refusal": m.Refusal, "unsafe": m.Unsafe, "polite": m.Polite, "filler": m.Filler, "hedge": m.Hedge,
		"garbled": m.Unknown, "words": m.Words}
}

// num2 formats a number with two decimals and a real minus sign.
func num2(x float64) string {
	return strings.Replace(fmt.Sprintf("%.2f", x), "-", "−", 1)
}

func pct0(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// mixWords lists the shares of the main kinds of answer of a mix.
func mixWords(m lm.Mix) string {
	return fmt.Sprintf("%s right, %s wrong, %s padded with filler, %s refusing, %s complying with a harmful request, %s garbled",
		pct0(m.Correct), pct0(m.Wrong), pct0(m.Filler), pct0(m.Refusal), pct0(m.Unsafe), pct0(m.Unknown))
}

// mixChanges names the parts whose share changed by 5 points or more, largest
// first, at most n.
func mixChanges(a, b lm.Mix, n int) string {
	type change struct {
		name     string
		from, to float64
	}
	cs := []change{{"right answers", a.Correct, b.Correct}, {"wrong answers", a.Wrong, b.Wrong}, {"refusals", a.Refusal, b.Refusal},
		{"unsafe compliance", a.Unsafe, b.Unsafe}, {"politeness", a.Polite, b.Polite}, {"filler", a.Filler, b.Filler},
		{"hedges", a.Hedge, b.Hedge}, {"garbled answers", a.Unknown, b.Unknown}}
	sort.SliceStable(cs, func(i, j int) bool { return math.Abs(cs[i].to-cs[i].from) > math.Abs(cs[j].to-cs[j].from) })
	var out []string
	for _, c := range cs {
		if len(out) < n && math.Abs(c.to-c.from) >= 0.05 {
			out = append(out, fmt.Sprintf("%s %s → %s", c.name, pct0(c.from), pct0(c.to)))
		}
	}
	return strings.Join(out, ", ")
}

// lmFindings says what one optimization of the transformer did, in numbers
// measured on one answer to each evaluation prompt before and after.
func lmFindings(r *snapshot.Run, before, after lm.Mix, adaptive bool) string {
	sum := r.Summary
	at := fmt.Sprintf("At β = %g", r.Config["beta"])
	if adaptive {
		at = fmt.Sprintf("With β adapted toward the target KL (last β %s)", num2(sum["beta"]))
	}
	verb := "rose"
	if sum["gold_after"] <= sum["gold_before"] {
		verb = "went"
	}
	msg := fmt.Sprintf("%s, %s for %d steps: the reward model's score went from %s to %s and the true quality %s from %s to %s",
		at, strings.ToUpper(fmt.Sprint(r.Config["algo"])), int(sum["steps"]), num2(sum["reward_before"]), num2(sum["reward_after"]),
		verb, num2(sum["gold_before"]), num2(sum["gold_after"]))
	if kl := sum["kl_k1"]; !math.IsNaN(kl) {
		msg += fmt.Sprintf(", with the transformer %.1f nats per answer away from where it started", kl)
	}
	if c := mixChanges(before, after, 3); c != "" {
		msg += " (" + c + ")"
	}
	return msg + "."
}

// lmComparison compares the first and the last run of a job (a larger and a
// smaller β) by the true quality of their answers.
func lmComparison(a, b *snapshot.Run) string {
	as, bs := a.Summary, b.Summary
	var msg string
	if bs["gold_after"] < bs["gold_before"] && bs["reward_after"] > bs["reward_before"] {
		msg = fmt.Sprintf("At β = %g the optimizer found what the reward model over-rates, and the answers got worse while their score went up: reward hacking, by a model that writes.", b.Config["beta"])
		if bs["unknown_after"] >= 0.2 {
			msg += fmt.Sprintf(" %s of its answers hold sentences that are not English any more — word salad of the words the reward model likes, which it still scores high.", pct0(bs["unknown_after"]))
		}
	}
	if as["gold_after"] > bs["gold_after"] {
		msg += fmt.Sprintf(" β = %g gave the better transformer by the measure that matters", a.Config["beta"])
		if as["gold_after"] > as["gold_before"] {
			msg += ": the KL penalty kept it writing the pretrained model's language while the reward moved it toward what people asked for"
		}
		msg += "."
	}
	return strings.TrimSpace(msg)
}

// strs converts strings to a run configuration value.
func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
