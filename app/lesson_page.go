package app

import (
	"fmt"
	"math"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// The lesson's settings: the demo seed, the two β values shown side by side, and
// the panels of simulated raters a class can choose from.
const (
	lessonSeed  = 7
	betaWeak    = 0.02 // a small KL penalty: the policy drifts far and hacks the reward
	betaStrong  = 0.5  // a large one: the policy stays near the reference
	lessonSteps = 150
)

// The transformer step's settings: PPO on the pretrained language model at a
// moderate β and at β ≈ 0, sized to take about a minute in a laptop's browser
// (both runs together: 50 s in headless Chromium here, see docs/ui.md). With
// these settings (seed 1) every panel of lessonPanels shows gold rising at the
// moderate β, and at β ≈ 0 the proxy rising while gold falls below it.
const (
	lmBetaModerate  = 0.5   // the KL penalty holds the transformer near its pretraining
	lmBetaZero      = 0.001 // almost no penalty: the transformer drifts and hacks the reward
	lmLessonSteps   = 24    // PPO steps per run
	lmLessonPrompts = 16    // prompts per step
	lmLessonSamples = 4     // answers per prompt
	lmLessonLR      = 1e-3  // AdamW learning rate
	lmLessonPrefix  = "lesson-lm"
	// lmAnswerMS is the measured cost of one sampled answer in one PPO step in the
	// browser's worker (sampling, 4 epochs of both passes), for the time
	// estimates: 1,536 answers took 25.1 s in headless Chromium here.
	lmAnswerMS = 16.0
)

var lessonPanels = []struct{ id, title, spec, about string }{
	{"mixed", "A realistic crowd", "expert,unbiased,noisy,2*polite,2*verbose,2*cautious,position,tired,spammer",
		"12 raters: one expert, a careful and a noisy one, two who reward politeness over accuracy, two who like long answers, two over-cautious, one who prefers the left answer, a tired one and a spammer."},
	{"careful", "Careful experts", "6*expert,6*unbiased",
		"12 raters without biases: six experts and six careful crowd workers."},
	{"biased", "A polite, verbose crowd", "4*polite,4*verbose,2*cautious,2*unbiased",
		"12 raters, most of them biased toward polite or long answers."},
}

// lessonPage is the educators' page: a guided sequence through RLHF with a "what just
// happened" caption holding the actual numbers after every step.
type lessonPage struct {
	pageBase

	panel  int
	errMsg string
	runAll bool
	// lmSteps is the transformer step's PPO steps: lmLessonSteps, or the URL's
	// ?lmsteps=N (the e2e tests use a few).
	lmSteps int
}

func (p *lessonPage) OnMount(ctx app.Context) {
	p.lmSteps = lmLessonSteps
	if n := parseUint(app.Window().URL().Query().Get("lmsteps"), 0); n > 0 && n <= 1000 {
		p.lmSteps = int(n)
	}
	p.mount(ctx)
}
func (p *lessonPage) OnDismount() { p.dismount() }

// lessonState is what the lesson has done so far, read from the working state.
type lessonState struct {
	simulated bool
	s         *snapshot.Snapshot
	js        []feedback.Judgment
	rm        *snapshot.Run
	weak      *snapshot.Run
	strong    *snapshot.Run
	sweep     *snapshot.Run
	lmRef     *snapshot.Run // the pretrained transformer's answers
	lmMod     *snapshot.Run // PPO on the transformer at lmBetaModerate
	lmZero    *snapshot.Run // … at lmBetaZero
}

func readLesson(v view) lessonState {
	st := lessonState{s: v.Snap, js: v.Judgments}
	st.simulated = strings.HasPrefix(v.Snap.Provenance.Command, "simulate") && len(v.Snap.Items) > 0
	st.rm = v.Snap.Run(jobs.RunRM)
	st.weak = v.Snap.Run("lesson-1")
	st.strong = v.Snap.Run("lesson-2")
	st.sweep = v.Snap.Run(jobs.RunSweep)
	st.lmRef = v.Snap.Run(lmLessonPrefix + jobs.RunLMSamples)
	st.lmMod = v.Snap.Run(lmLessonPrefix + "-1")
	st.lmZero = v.Snap.Run(lmLessonPrefix + "-2")
	return st
}

func (p *lessonPage) run(ctx app.Context, title string, req jobs.Request, then func(ctx app.Context)) {
	p.errMsg = ""
	ctx.Async(func() {
		_, err := wb.Run(title, req, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				if err != ErrCanceled {
					p.errMsg = err.Error()
				}
				p.runAll = false
				return
			}
			if then != nil {
				then(ctx)
			}
		})
	})
}

func (p *lessonPage) simulate(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "Simulating raters", jobs.Request{Kind: jobs.KindSimulate,
		Simulate: &jobs.SimulateParams{Seed: lessonSeed, Panel: lessonPanels[p.panel].spec}}, then)
}

func (p *lessonPage) train(ctx app.Context, then func(app.Context)) {
	// Held out by pair: the policy is optimized on these same prompts, so the
	// question is how well the model ranks their answers.
	p.run(ctx, "Training the reward model", jobs.Request{Kind: jobs.KindTrainRM, TrainRM: &jobs.TrainRMParams{Seed: 1, SplitBy: "pair"}}, then)
}

func (p *lessonPage) optimize(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "Optimizing the policy", jobs.Request{Kind: jobs.KindOptimize,
		Optimize: &jobs.OptimizeParams{Seed: 1, Algo: "ppo", Betas: []float64{betaWeak, betaStrong}, Steps: lessonSteps, Prefix: "lesson"}}, then)
}

func (p *lessonPage) sweep(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "Sweeping β", jobs.Request{Kind: jobs.KindSweep, Sweep: &jobs.SweepParams{Seed: 1}}, then)
}

// lmSample lets the pretrained transformer answer the evaluation prompts.
func (p *lessonPage) lmSample(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "The pretrained transformer", jobs.Request{Kind: jobs.KindSampleLM, SampleLM: &jobs.SampleLMParams{Seed: 1, Prefix: lmLessonPrefix}}, then)
}

// lmOptimize runs PPO on the transformer at the moderate β and at β ≈ 0.
func (p *lessonPage) lmOptimize(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "PPO on the transformer", jobs.Request{Kind: jobs.KindOptimizeLM, OptimizeLM: &jobs.OptimizeLMParams{Seed: 1, Algo: "ppo",
		Betas: []float64{lmBetaModerate, lmBetaZero}, Steps: p.lmSteps, Prompts: new(lmLessonPrompts), Samples: lmLessonSamples,
		LR: lmLessonLR, Prefix: lmLessonPrefix}}, then)
}

// all runs every step in order.
func (p *lessonPage) all(ctx app.Context) {
	p.runAll = true
	p.simulate(ctx, func(ctx app.Context) {
		p.train(ctx, func(ctx app.Context) {
			p.optimize(ctx, func(ctx app.Context) {
				p.sweep(ctx, func(ctx app.Context) {
					p.lmSample(ctx, func(ctx app.Context) {
						p.lmOptimize(ctx, func(ctx app.Context) { p.runAll = false })
					})
				})
			})
		})
	})
}

func (p *lessonPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathLesson, app.H1().Text("The RLHF lesson"), loading(v))
	}
	st := readLesson(v)
	busy := v.Job != nil && !v.Job.Done
	return frame(PathLesson,
		app.Div().Class("page-head").Body(
			app.Div().Body(
				app.H1().Text("The RLHF lesson"),
				app.P().Text(fmt.Sprintf("Seven steps, under five minutes. Each step runs for real in this tab (in a background worker) and explains what just happened with the actual numbers. “Run all steps” takes about %s: a few seconds for steps 2–6, the rest for the transformer of step 7. Step 8, an AI judge audited by people, has its own button.", fmtDuration(1000+2*lmAnswerMS*float64(p.lmSteps*lmLessonPrompts*lmLessonSamples)))),
			),
			app.Button().Class("primary").ID("lesson-all").Disabled(busy).Text("▶ Run all steps").OnClick(func(ctx app.Context, e app.Event) { p.all(ctx) }),
		),
		app.If(p.errMsg != "", app.Div().Class("notice bad").Role("alert").ID("lesson-error").Text(p.errMsg)),
		app.Div().Class("stack").Body(
			p.stepWhy(st),
			p.stepFeedback(st, busy),
			p.stepReward(st, busy, v.Job),
			p.stepPolicy(st, busy, v.Job),
			p.stepSweep(st, busy),
			p.stepSamples(st),
			p.stepTransformer(st, busy, v.Job),
			p.stepJudge(st, busy),
		),
	)
}

// stepPanel is one lesson step: number, title, explanation, controls, results.
func stepPanel(id string, n int, title string, done bool, body ...app.UI) app.UI {
	mark := ""
	if done {
		mark = " ✓"
	}
	return app.Section().Class("panel stack").ID(id).DataSet("done", done).Aria("labelledby", id+"-title").Body(
		append([]app.UI{app.H2().ID(id + "-title").Text(fmt.Sprintf("%d. %s%s", n, title, mark))}, body...)...,
	)
}

func caption(parts ...app.UI) app.UI {
	return app.Div().Class("caption").Role("status").Body(
		append([]app.UI{app.Strong().Text("What just happened: ")}, parts...)...,
	)
}

func (p *lessonPage) stepWhy(st lessonState) app.UI {
	return stepPanel("step-why", 1, "Why a pretrained model needs human feedback", true,
		app.P().Text("A pretrained language model has learned to continue text the way text on the internet continues. Asked a question, it produces a mix of answers: some correct and to the point, some wrong but confident, some padded with filler, some refusing for no reason. Nothing in its training says which of these people want."),
		app.P().Text("RLHF adds that missing signal. People compare answers; a reward model learns to predict their preferences as one number; the model is then optimized to score high on that number — while a KL penalty keeps it close to the pretrained model it started from."),
		app.P().Class("muted").Text("This lesson uses Prefer's demo domain: 60 short requests (facts, conversions, how-to, advice, safety questions and harmful requests), each with 7 candidate answers built from known parts, so every answer has a known true quality — the gold reward — that real RLHF never gets to see."),
	)
}

func (p *lessonPage) stepFeedback(st lessonState, busy bool) app.UI {
	var result app.UI
	if st.simulated {
		s := st.s
		kinds := map[string]int{}
		for _, j := range st.js {
			kinds[string(j.Kind)]++
		}
		result = caption(app.Text(fmt.Sprintf("%d simulated raters made %d judgments on %d prompts: %d comparisons, %d rankings, %d ratings, %d flags and %d rewrites. Each rater sees the gold quality only through noise and their own biases, so they disagree — just as people do (InstructGPT's labelers agreed on about 73%% of comparisons). ",
			len(s.Raters), len(st.js), len(s.Items), kinds["compare"], kinds["rank"], kinds["rate"], kinds["flag"], kinds["rewrite"])),
			app.Text("Open the Quality page to see their agreement, the raters who favour the left answer or the longer one, and the spammer."))
	}
	return stepPanel("step-feedback", 2, "Collect feedback", st.simulated,
		app.P().Text("Good feedback is specific (it says what is wrong), consistent (the same answer gets the same judgment), context-aware (a refusal is right for a harmful request and wrong for a safety question) and diverse (many raters, many kinds of prompts). Real feedback is noisy and biased: raters prefer polite, long, cautious answers, and whichever answer is on the left."),
		app.Div().Class("row").Role("radiogroup").Aria("label", "Panel of simulated raters").Body(
			app.Range(lessonPanels).Slice(func(i int) app.UI {
				lp := lessonPanels[i]
				return app.Button().Class(selectedClass(p.panel == i)).ID("panel-"+lp.id).Role("radio").Aria("checked", p.panel == i).
					Title(lp.about).Text(lp.title).OnClick(func(ctx app.Context, e app.Event) { p.panel = i }, i)
			}),
		),
		app.P().Class("muted").Text(lessonPanels[p.panel].about),
		app.Div().Class("row").Body(
			app.Button().Class("primary").ID("lesson-simulate").Disabled(busy).Text("Let simulated raters label 60 prompts").
				OnClick(func(ctx app.Context, e app.Event) { p.simulate(ctx, nil) }),
			app.A().Class("btn").Href(appPath(PathLabel)).Text("…or label a few pairs yourself"),
		),
		app.P().Class("muted").Text("Simulating replaces the working state; the previous one is kept on the Data page."),
		result,
	)
}

func (p *lessonPage) stepReward(st lessonState, busy bool, job *jobStatus) app.UI {
	var result []app.UI
	if rm := st.rm; rm != nil {
		ch := newChart("lesson-rm-loss", "Reward model: loss per epoch", "epoch", "loss (nats per comparison)")
		ch.Series = []series{
			{Name: "training", X: seq(len(rm.Series["train_loss"])), Y: rm.Series["train_loss"], Class: "s1"},
			{Name: "held out", X: seq(len(rm.Series["held_loss"])), Y: rm.Series["held_loss"], Class: "s3", Dashed: true},
		}
		ch.Height = 220
		result = append(result, ch.render(), caption(app.Text(rewardCaption(rm))))
	} else if job != nil && !job.Done && job.Kind == jobs.KindTrainRM {
		result = append(result, &liveChart{ID: "lesson-rm-live", Job: jobs.KindTrainRM})
	}
	return stepPanel("step-reward", 3, "Train the reward model", st.rm != nil,
		app.P().Text("The reward model turns comparisons into one number per answer. It is trained so that the answer people preferred gets the higher reward (Bradley–Terry: P(A beats B) = σ(r(A) − r(B))). It only ever sees the raters' choices — their biases included."),
		app.Button().Class("primary").ID("lesson-train").Disabled(busy || !st.simulated).Text("Train the reward model").
			OnClick(func(ctx app.Context, e app.Event) { p.train(ctx, nil) }),
		app.Div().Body(result...),
	)
}

func (p *lessonPage) stepPolicy(st lessonState, busy bool, job *jobStatus) app.UI {
	var result []app.UI
	if st.weak != nil && st.strong != nil {
		w, s := st.weak, st.strong
		result = append(result,
			app.Div().Class("grid grid-2").Body(
				policyChart("lesson-weak", fmt.Sprintf("β = %g (small penalty)", betaWeak), w.Series),
				policyChart("lesson-strong", fmt.Sprintf("β = %g (large penalty)", betaStrong), s.Series),
			),
			caption(app.Text(policyCaption(w, s))),
		)
	} else if job != nil && !job.Done && job.Kind == jobs.KindOptimize {
		result = append(result, &liveChart{ID: "lesson-live", Job: jobs.KindOptimize})
	}
	return stepPanel("step-policy", 4, "Optimize the policy — with a KL penalty", st.weak != nil,
		app.P().Text(fmt.Sprintf("Now the policy is trained (PPO) to maximize reward − β·KL(policy ‖ reference). The KL term measures how far the policy has moved from the pretrained model; β sets its price. We run it twice, side by side: β = %g, a cheap leash, and β = %g, an expensive one. The curves show the proxy reward (what the reward model says) and the gold reward (the true quality, which the optimizer never sees).", betaWeak, betaStrong)),
		app.Button().Class("primary").ID("lesson-optimize").Disabled(busy || st.rm == nil).Text(fmt.Sprintf("Optimize at β = %g and β = %g", betaWeak, betaStrong)).
			OnClick(func(ctx app.Context, e app.Event) { p.optimize(ctx, nil) }),
		app.Div().Body(result...),
	)
}

// policyChart draws proxy and gold reward per step of one optimization run.
func policyChart(id, title string, s map[string][]float64) app.UI {
	unit := "expected reward (gold units)"
	if len(knownSeries([]series{{Y: s["gold"]}})) == 0 {
		unit = "expected reward (reward-model units)" // no gold on this data
	}
	ch := newChart(id, title, "PPO step", unit)
	n := len(s["reward"])
	ch.Series = []series{
		{Name: "proxy (reward model)", X: seq(n), Y: s["reward"], Class: "s1"},
		{Name: "gold (true quality)", X: seq(len(s["gold"])), Y: s["gold"], Class: "s2"},
	}
	ch.Height = 230
	return ch.render()
}

// policyCaption compares the two runs in words, with their numbers.
func policyCaption(w, s *snapshot.Run) string {
	first := func(r *snapshot.Run, k string) float64 {
		if xs := r.Series[k]; len(xs) > 0 {
			return xs[0]
		}
		return math.NaN()
	}
	peak := func(r *snapshot.Run) (float64, int) {
		best, at := math.Inf(-1), 0
		for i, g := range r.Series["gold"] {
			if g > best {
				best, at = g, i+1
			}
		}
		return best, at
	}
	wg, wat := peak(w)
	msg := fmt.Sprintf("With β = %g the proxy reward climbed from %s to %s, but the true quality peaked at %s (step %d) and ended at %s, with the policy %s nats of KL away from where it started. ",
		w.Summary["beta"], fmtNum(first(w, "reward"), 2), fmtNum(w.Summary["reward"], 2), fmtNum(wg, 2), wat, fmtNum(w.Summary["gold"], 2), fmtNum(w.Summary["kl"], 2))
	if wg-w.Summary["gold"] > 0.05 {
		msg += "That gap is reward hacking: the policy found what the reward model over-rates — filler that makes answers long, polite phrasing, hedges — and pushed it. "
	}
	msg += fmt.Sprintf("With β = %g the policy stayed close (KL %s): proxy %s, gold %s. ", s.Summary["beta"], fmtNum(s.Summary["kl"], 2), fmtNum(s.Summary["reward"], 2), fmtNum(s.Summary["gold"], 2))
	if s.Summary["gold"] > w.Summary["gold"] {
		msg += "The larger penalty gave the better policy by the measure that matters. "
	}
	msg += fmt.Sprintf("Diversity: the entropy of the answers fell to %s nats at β = %g and %s nats at β = %g.",
		fmtNum(w.Summary["entropy"], 2), w.Summary["beta"], fmtNum(s.Summary["entropy"], 2), s.Summary["beta"])
	return msg
}

func (p *lessonPage) stepSweep(st lessonState, busy bool) app.UI {
	var result []app.UI
	if sw := st.sweep; sw != nil {
		ch, best, at := sweepChart("lesson-sweep-chart", sw)
		result = append(result, ch.render())
		if at >= 0 {
			gold, proxy, beta, x := sw.Series["gold"], sw.Series["proxy"], sw.Series["beta"], sw.Series["sqrt_kl"]
			last := len(gold) - 1
			msg := fmt.Sprintf("Each point is the exact optimum π* ∝ π_ref·exp(r/β) for one β from %g down to %g. The proxy reward rises all the way, from %s to %s. The gold reward rises at first — optimization helps — peaks at %s when √KL = %s (β = %g), then falls to %s: past that point the policy is exploiting the reward model's mistakes. This is the shape Gao, Schulman & Hilton (2022) measured at scale.",
				beta[0], beta[last], fmtNum(proxy[0], 2), fmtNum(proxy[last], 2),
				fmtNum(best, 2), fmtNum(x[at], 2), beta[at], fmtNum(gold[last], 2))
			result = append(result, caption(app.Text(msg)))
		}
		result = append(result, sweepAlerts(sw)...)
	}
	return stepPanel("step-sweep", 5, "Reward hacking, seen whole", st.sweep != nil,
		app.P().Text("One more experiment: solve for the best policy at twelve values of β, from a tight leash to none, and plot both rewards against how far each policy moved (√KL)."),
		app.Button().Class("primary").ID("lesson-sweep").Disabled(busy || st.rm == nil).Text("Run the β sweep").
			OnClick(func(ctx app.Context, e app.Event) { p.sweep(ctx, nil) }),
		app.Div().Body(result...),
	)
}

func (p *lessonPage) stepSamples(st lessonState) app.UI {
	if st.weak == nil || st.strong == nil {
		return stepPanel("step-samples", 6, "Before and after", false,
			app.P().Class("muted").Text("After step 4, this shows answers of the reference model and of the two optimized policies side by side."))
	}
	return stepPanel("step-samples", 6, "Before and after", true,
		app.P().Text("The most likely answer of the reference model and of each optimized policy, for the prompts where the policies changed most. Tags name the parts each answer is made of; gold is its true quality."),
		samplesView(st.weak, st.strong),
	)
}

// samplesView lists before/after samples of two runs (same prompts).
func samplesView(weak, strong *snapshot.Run) app.UI {
	ws := runExamples(weak)
	byItem := map[string]map[string]any{}
	if ss := runExamples(strong); ss != nil {
		for _, x := range ss {
			if m, ok := x.(map[string]any); ok {
				byItem[str(m["item"])] = m
			}
		}
	}
	var rows []app.UI
	for i, x := range ws {
		if i >= 4 {
			break
		}
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		sm := byItem[str(m["item"])]
		rows = append(rows, app.Div().Class("panel").Style("background", "var(--panel-2)").Body(
			app.P().Body(app.Strong().Text(str(m["prompt"]))),
			app.Div().Class("grid grid-3").Body(
				sampleBox("Reference model", str(m["ref_text"]), num(m["ref_prob"]), num(m["ref_gold"]), num(m["ref_proxy"]), m["ref_parts"]),
				sampleBox(fmt.Sprintf("After PPO, β = %g", weak.Summary["beta"]), str(m["text"]), num(m["prob"]), num(m["gold"]), num(m["proxy"]), m["parts"]),
				either(sm != nil, func() app.UI {
					return sampleBox(fmt.Sprintf("After PPO, β = %g", strong.Summary["beta"]), str(sm["text"]), num(sm["prob"]), num(sm["gold"]), num(sm["proxy"]), sm["parts"])
				}, func() app.UI {
					return sampleBox(fmt.Sprintf("After PPO, β = %g", strong.Summary["beta"]), str(m["ref_text"]), math.NaN(), num(m["ref_gold"]), num(m["ref_proxy"]), m["ref_parts"])
				}),
			),
		))
	}
	return app.Div().Class("stack").ID("samples").Body(rows...)
}

func sampleBox(title, text string, prob, gold, proxy float64, parts any) app.UI {
	var tags []app.UI
	if ps, ok := parts.([]any); ok {
		for _, t := range ps {
			cls := "tag"
			switch str(t) {
			case "correct":
				cls += " good"
			case "wrong", "unsafe", "filler", "refusal":
				cls += " bad"
			case "polite", "hedge":
				cls += " warn"
			}
			tags = append(tags, app.Span().Class(cls).Text(str(t)))
		}
	}
	// Only what is known: the probability, gold where the data has it, the proxy
	// where a reward model scored it.
	var facts []string
	if !math.IsNaN(prob) {
		facts = append(facts, "p = "+fmtNum(prob, 2))
	}
	if !math.IsNaN(gold) {
		facts = append(facts, "gold "+fmtNum(gold, 2))
	}
	if !math.IsNaN(proxy) {
		facts = append(facts, "proxy "+fmtNum(proxy, 2))
	}
	meta := strings.Join(facts, " · ")
	return app.Div().Class("sample").Body(
		app.Div().Class("meta").Text(title),
		app.P().Text(text),
		app.Div().Class("row").Style("gap", ".3rem").Body(tags...),
		app.Div().Class("meta").Text(meta),
	)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return math.NaN()
}

// rewardCaption says what the reward-model step did, from the run's numbers and the
// engine's own findings.
func rewardCaption(rm *snapshot.Run) string {
	sum := rm.Summary
	msg := fmt.Sprintf("A %s reward model learned from %d comparisons in %d epochs. On %d comparisons it never saw, it agrees with the raters %s of the time — about as often as the raters agree with each other (see the Quality page). ",
		rm.Config["family"], int(sum["n_train"]), int(sum["epochs"]), int(sum["n_held"]), pct(sum["held_acc"]))
	msg += fmt.Sprintf("Its reward follows the true quality only loosely (Spearman ρ = %s with gold). ", fmtNum(sum["gold_spearman"], 2))
	if l := sum["length_spearman"]; l > 0.3 {
		msg += fmt.Sprintf("It also pays for length (ρ = %s with the number of words): it learned the raters' taste for long answers. ", fmtNum(l, 2))
	}
	var found []string
	for _, n := range rm.Notes {
		if strings.Contains(n, "overvalues") || strings.Contains(n, "undervalues") {
			found = append(found, n)
		}
	}
	if len(found) > 0 {
		msg += "What it got wrong: " + strings.Join(found[:min(2, len(found))], "; ") + ". "
	}
	return msg + "The reward model is the bottleneck of RLHF: the policy can only be as good as this number, and it will find every mistake in it."
}
