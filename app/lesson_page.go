package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/feedback"
	lessonlib "prefer/core/lesson"
	"prefer/core/snapshot"
)

// The lesson's settings (seed, panels, the two β, steps) are core/lesson's, whose
// tests pin the figures its steps 2–5 produce with them.

// The transformer step's settings: PPO on the pretrained language model at a
// moderate β and at β ≈ 0, sized to take about a minute in a laptop's browser
// (both runs together: 50 s in headless Chromium here, see docs/ui.md). With
// these settings (seed 1) every panel of lesson.Panels shows gold rising at the
// moderate β, and at β ≈ 0 the proxy rising while gold falls below it.
const (
	lmBetaModerate  = 0.5   // the KL penalty holds the transformer near its pretraining
	lmBetaZero      = 0.001 // almost no penalty: the transformer drifts and hacks the reward
	lmLessonSteps   = 24    // PPO steps per run
	lmLessonPrompts = 16    // prompts per step
	lmLessonSamples = 4     // answers per prompt
	lmLessonLR      = 1e-3  // AdamW learning rate
	// lmLessonMicro is the most answers run through the network at once: an eighth
	// of a step's 64, so that the worker holds an eighth of the activations (at β ≈ 0
	// the answers pad to 40 words and one pass over all 64 held about 60 MB) for one
	// more inference pass per step (issue 17: a school Chromebook's tab; 32 gave a
	// worker of 125 MB, 16 of 91 MB, 8 of 70 MB).
	lmLessonMicro  = 8
	lmLessonPrefix = "lesson-lm"
	// lmAnswerMS is the measured cost of one sampled answer in one PPO step in the
	// browser's worker (sampling, 4 epochs of both passes), for the time
	// estimates: 1,536 answers took 25.1 s in headless Chromium here.
	lmAnswerMS = 16.0
)

// lessonPage is the educators' page: a guided sequence through RLHF with a "what just
// happened" caption holding the actual numbers after every step. In presenter mode
// (the Present button, p, or ?present=1) it shows one step per screen in large type;
// ← → and PageUp/PageDown (a presentation clicker) move between steps, Esc leaves.
type lessonPage struct {
	pageBase

	panel  int
	errMsg string
	runAll bool
	// lmSteps is the transformer step's PPO steps: lmLessonSteps, or the URL's
	// ?lmsteps=N (the e2e tests use a few).
	lmSteps int

	present bool   // presenter mode
	slide   int    // the step shown in presenter mode (index into the steps)
	unKey   func() // releases the keyboard listener
}

func (p *lessonPage) OnMount(ctx app.Context) {
	p.lmSteps = lmLessonSteps
	q := app.Window().URL().Query()
	if n := parseUint(q.Get("lmsteps"), 0); n > 0 && n <= 1000 {
		p.lmSteps = int(n)
	}
	if _, ok := lessonlib.PanelByID(q.Get("panel")); ok {
		for i, lp := range lessonlib.Panels {
			if lp.ID == q.Get("panel") {
				p.panel = i
			}
		}
	}
	if q.Get("present") != "" {
		p.present = true
		if n := parseUint(q.Get("step"), 0); n >= 1 {
			p.slide = int(n) - 1
		}
		setPresenting(true)
	}
	p.unKey = app.Window().AddEventListener("keydown", p.onKey)
	p.mount(ctx)
}

func (p *lessonPage) OnDismount() {
	if p.unKey != nil {
		p.unKey()
	}
	setPresenting(false)
	p.dismount()
}

// setPresenting marks the document as presenting (CSS: large type, no navigation).
func setPresenting(on bool) {
	cl := app.Window().Get("document").Get("documentElement").Get("classList")
	if on {
		cl.Call("add", "presenting")
	} else {
		cl.Call("remove", "presenting")
	}
}

// onKey moves between steps in presenter mode, and p enters or leaves it. Keys typed
// into a field are left alone.
func (p *lessonPage) onKey(ctx app.Context, e app.Event) {
	if e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool() || e.Get("altKey").Bool() {
		return
	}
	switch strings.ToLower(e.Get("target").Get("tagName").String()) {
	case "input", "textarea", "select":
		return
	}
	n := len(lessonSteps)
	switch key := e.Get("key").String(); {
	case key == "p" || key == "P":
		p.setPresent(ctx, !p.present)
	case !p.present:
		return
	case key == "ArrowRight" || key == "PageDown":
		p.goTo(ctx, min(p.slide+1, n-1))
	case key == "ArrowLeft" || key == "PageUp":
		p.goTo(ctx, max(p.slide-1, 0))
	case key == "Home":
		p.goTo(ctx, 0)
	case key == "End":
		p.goTo(ctx, n-1)
	case key == "Escape":
		p.setPresent(ctx, false)
	default:
		return
	}
	e.PreventDefault()
}

// setPresent enters or leaves presenter mode, keeping the URL in step so a reload
// (or a shared link) comes back to the same screen.
func (p *lessonPage) setPresent(ctx app.Context, on bool) {
	p.present = on
	setPresenting(on)
	p.syncURL()
	if !on {
		scrollAfterRender(ctx, lessonSteps[p.slide].id)
	}
}

// goTo shows step i in presenter mode.
func (p *lessonPage) goTo(ctx app.Context, i int) {
	p.slide = i
	p.syncURL()
	app.Window().Call("scrollTo", 0, 0)
}

func (p *lessonPage) syncURL() {
	u := app.Window().URL()
	q := u.Query()
	q.Del("present")
	q.Del("step")
	if p.present {
		q.Set("present", "1")
		q.Set("step", fmt.Sprint(p.slide+1))
	}
	u.RawQuery = q.Encode()
	app.Window().Get("history").Call("replaceState", nil, "", u.String())
}

// follow brings step id into view while "Run all steps" works through them: the
// slide in presenter mode, a scroll otherwise.
func (p *lessonPage) follow(ctx app.Context, id string) {
	if !p.runAll {
		return
	}
	for i, s := range lessonSteps {
		if s.id != id {
			continue
		}
		if p.present {
			p.goTo(ctx, i)
		} else {
			scrollAfterRender(ctx, id)
		}
	}
}

// scrollAfterRender brings the element with this id into view once the browser has
// drawn what the page just changed: from a timer that the next animation frame
// starts, when the layout is clean and the scroll costs next to nothing. go-app's
// ctx.ScrollTo scrolls right after the update instead, which makes the browser lay
// out the changed page inside the same task: when "Run all steps" reached a step
// that was 40–80 ms of a task of up to 107 ms on a busy machine (a CPU profile of
// TestJ1Lesson put 57% of the lesson's longest task in that scrollIntoView).
func scrollAfterRender(ctx app.Context, id string) {
	ctx.Defer(func(app.Context) {
		var frame, timer app.Func
		timer = app.FuncOf(func(app.Value, []app.Value) any {
			timer.Release()
			if el := app.Window().GetElementByID(id); el.Truthy() {
				el.Call("scrollIntoView")
			}
			return nil
		})
		frame = app.FuncOf(func(app.Value, []app.Value) any {
			frame.Release()
			app.Window().Call("setTimeout", timer, 0)
			return nil
		})
		app.Window().Call("requestAnimationFrame", frame)
	})
}

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

// run starts a job for the step with id step (brought into view while running all).
func (p *lessonPage) run(ctx app.Context, step, title string, req jobs.Request, then func(ctx app.Context)) {
	p.errMsg = ""
	p.follow(ctx, step)
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
	p.run(ctx, "step-feedback", "Simulating raters", jobs.Request{Kind: jobs.KindSimulate,
		Simulate: &jobs.SimulateParams{Seed: lessonlib.Seed, Panel: lessonlib.Panels[p.panel].Spec}}, then)
}

func (p *lessonPage) train(ctx app.Context, then func(app.Context)) {
	// Held out by pair: the policy is optimized on these same prompts, so the
	// question is how well the model ranks their answers.
	p.run(ctx, "step-reward", "Training the reward model", jobs.Request{Kind: jobs.KindTrainRM,
		TrainRM: &jobs.TrainRMParams{Seed: lessonlib.RewardSeed, SplitBy: lessonlib.SplitBy}}, then)
}

func (p *lessonPage) optimize(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "step-policy", "Optimizing the policy", jobs.Request{Kind: jobs.KindOptimize,
		Optimize: &jobs.OptimizeParams{Seed: lessonlib.PolicySeed, Algo: "ppo", Betas: []float64{lessonlib.BetaSmall, lessonlib.BetaLarge}, Steps: lessonlib.Steps, Prefix: "lesson"}}, then)
}

func (p *lessonPage) sweep(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "step-sweep", "Sweeping β", jobs.Request{Kind: jobs.KindSweep, Sweep: &jobs.SweepParams{Seed: lessonlib.PolicySeed}}, then)
}

// lmSample lets the pretrained transformer answer the evaluation prompts.
func (p *lessonPage) lmSample(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "step-transformer", "The pretrained transformer", jobs.Request{Kind: jobs.KindSampleLM, SampleLM: &jobs.SampleLMParams{Seed: 1, Prefix: lmLessonPrefix}}, then)
}

// lmOptimize runs PPO on the transformer at the moderate β and at β ≈ 0.
func (p *lessonPage) lmOptimize(ctx app.Context, then func(app.Context)) {
	p.run(ctx, "step-transformer", "PPO on the transformer", jobs.Request{Kind: jobs.KindOptimizeLM, OptimizeLM: &jobs.OptimizeLMParams{Seed: 1, Algo: "ppo",
		Betas: []float64{lmBetaModerate, lmBetaZero}, Steps: p.lmSteps, Prompts: new(lmLessonPrompts), Samples: lmLessonSamples,
		LR: lmLessonLR, MicroBatch: lmLessonMicro, Prefix: lmLessonPrefix}}, then)
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

// stepView is what a step is drawn from.
type stepView struct {
	st   lessonState
	busy bool
	job  *jobStatus
}

// lessonStep is one step of the lesson: a panel of the page, a screen in presenter
// mode. A new step is one entry here (its number follows from its place).
type lessonStep struct {
	id    string
	title string
	view  func(p *lessonPage, v stepView, n int) app.UI
}

// lessonSteps is set in init: the steps' views refer back to it (presenter mode).
var lessonSteps []lessonStep

func init() { lessonSteps = allLessonSteps() }

func allLessonSteps() []lessonStep {
	return []lessonStep{
		{"step-why", "Why a pretrained model needs feedback", (*lessonPage).stepWhy},
		{"step-feedback", "Collect feedback", (*lessonPage).stepFeedback},
		{"step-reward", "Train the reward model", (*lessonPage).stepReward},
		{"step-policy", "Optimize the policy", (*lessonPage).stepPolicy},
		{"step-sweep", "Reward hacking, seen whole", (*lessonPage).stepSweep},
		{"step-samples", "Before and after", (*lessonPage).stepSamples},
		{"step-transformer", "The transformer writes", (*lessonPage).stepTransformer},
		{"step-judge", "An AI judge, audited", (*lessonPage).stepJudge},
	}
}

func (p *lessonPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathLesson, app.H1().Text("The RLHF lesson"), loading(v))
	}
	sv := stepView{st: readLesson(v), job: v.Job}
	sv.busy = v.Job != nil && !v.Job.Done
	p.slide = min(max(p.slide, 0), len(lessonSteps)-1)
	var body []app.UI
	if p.present {
		i := p.slide
		body = append(body, p.slideBar(), lessonSteps[i].view(p, sv, i+1))
	} else {
		for i, s := range lessonSteps {
			body = append(body, s.view(p, sv, i+1))
		}
	}
	return frame(PathLesson,
		app.Div().Class("page-head lesson-head").Body(
			app.Div().Body(
				app.H1().Text("The RLHF lesson"),
				app.If(!p.present, app.P().Text(fmt.Sprintf("Eight steps, about ten minutes with a class. Each step runs for real in this tab (in a background worker) and explains what just happened with the actual numbers. “Run all steps” takes about %s: a few seconds for steps 2–6, the rest for the transformer of step 7. Step 8, an AI judge audited by people, has its own button.", fmtDuration(1000+2*lmAnswerMS*float64(p.lmSteps*lmLessonPrompts*lmLessonSamples))))),
			),
			app.Div().Class("row").Body(
				app.A().Class("btn").ID("lesson-playground").Href(appPath(PathPlayground)+"?panel="+lessonlib.Panels[p.panel].ID).Text("Playground: move β yourself"),
				app.Button().ID("lesson-present").Aria("pressed", p.present).Title("Presenter mode: one step per screen, large type (key p; ← → or PageUp/PageDown move, Esc leaves)").
					Text(presentLabel(p.present)).
					OnClick(func(ctx app.Context, e app.Event) { p.setPresent(ctx, !p.present) }),
				app.Button().Class("primary").ID("lesson-all").Disabled(sv.busy).Text("▶ Run all steps").OnClick(func(ctx app.Context, e app.Event) { p.all(ctx) }),
			),
		),
		app.If(p.errMsg != "", app.Div().Class("notice bad").Role("alert").ID("lesson-error").Text(p.errMsg)),
		app.Div().Class("stack lesson-steps").Body(body...),
	)
}

func presentLabel(on bool) string {
	if on {
		return "Leave presenter mode"
	}
	return "▣ Present"
}

// slideBar is presenter mode's navigation: the step, previous and next, a dot per step.
func (p *lessonPage) slideBar() app.UI {
	n := len(lessonSteps)
	return app.Nav().Class("slidebar").ID("slidebar").Aria("label", "Lesson steps").DataSet("step", p.slide+1).Body(
		app.Button().ID("slide-prev").Aria("label", "Previous step").Disabled(p.slide == 0).Text("←").
			OnClick(func(ctx app.Context, e app.Event) { p.goTo(ctx, max(p.slide-1, 0)) }),
		app.Range(lessonSteps).Slice(func(i int) app.UI {
			b := app.Button().Class("dot").Aria("label", fmt.Sprintf("Step %d: %s", i+1, lessonSteps[i].title)).Title(lessonSteps[i].title).
				Text(fmt.Sprint(i+1)).OnClick(func(ctx app.Context, e app.Event) { p.goTo(ctx, i) }, i)
			if i == p.slide {
				b = b.Aria("current", "step")
			}
			return b
		}),
		app.Button().ID("slide-next").Aria("label", "Next step").Disabled(p.slide == n-1).Text("→").
			OnClick(func(ctx app.Context, e app.Event) { p.goTo(ctx, min(p.slide+1, n-1)) }),
		app.Span().Class("muted").Text(fmt.Sprintf("Step %d of %d · ← → or PageUp/PageDown · Esc leaves", p.slide+1, n)),
	)
}

// stepPanel is one lesson step: number, title, explanation, controls, results.
func stepPanel(id string, n int, title string, done bool, body ...app.UI) app.UI {
	mark := ""
	if done {
		mark = " ✓"
	}
	return app.Section().Class("panel stack step").ID(id).DataSet("done", done).Aria("labelledby", id+"-title").Body(
		append([]app.UI{app.H2().ID(id + "-title").Text(fmt.Sprintf("%d. %s%s", n, title, mark))}, body...)...,
	)
}

func caption(parts ...app.UI) app.UI {
	return app.Div().Class("caption").Role("status").Body(
		append([]app.UI{app.Strong().Text("What just happened: ")}, parts...)...,
	)
}

func (p *lessonPage) stepWhy(v stepView, n int) app.UI {
	return stepPanel("step-why", n, "Why a pretrained model needs human feedback", true,
		app.P().Text("A pretrained language model has learned to continue text the way text on the internet continues. Asked a question, it produces a mix of answers: some correct and to the point, some wrong but confident, some padded with filler, some refusing for no reason. Nothing in its training says which of these people want."),
		app.P().Text("RLHF adds that missing signal. People compare answers; a reward model learns to predict their preferences as one number; the model is then optimized to score high on that number — while a KL penalty keeps it close to the pretrained model it started from."),
		app.P().Class("muted").Text("This lesson uses Prefer's demo domain: 60 short requests (facts, conversions, how-to, advice, safety questions and harmful requests), each with 7 candidate answers built from known parts, so every answer has a known true quality — the gold reward — that real RLHF never gets to see."),
	)
}

func (p *lessonPage) stepFeedback(v stepView, n int) app.UI {
	st, busy := v.st, v.busy
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
	return stepPanel("step-feedback", n, "Collect feedback", st.simulated,
		app.P().Text("Good feedback is specific (it says what is wrong), consistent (the same answer gets the same judgment), context-aware (a refusal is right for a harmful request and wrong for a safety question) and diverse (many raters, many kinds of prompts). Real feedback is noisy and biased: raters prefer polite, long, cautious answers, and whichever answer is on the left."),
		app.Div().Class("row").Role("radiogroup").Aria("label", "Panel of simulated raters").Body(
			app.Range(lessonlib.Panels).Slice(func(i int) app.UI {
				lp := lessonlib.Panels[i]
				return app.Button().Class(selectedClass(p.panel == i)).ID("panel-"+lp.ID).Role("radio").Aria("checked", p.panel == i).
					Title(lp.About).Text(lp.Title).OnClick(func(ctx app.Context, e app.Event) { p.panel = i }, i)
			}),
		),
		app.P().Class("muted").Text(lessonlib.Panels[p.panel].About),
		app.Div().Class("row").Body(
			app.Button().Class("primary").ID("lesson-simulate").Disabled(busy).Text("Let simulated raters label 60 prompts").
				OnClick(func(ctx app.Context, e app.Event) { p.simulate(ctx, nil) }),
			app.A().Class("btn").ID("lesson-label").Href(appPath(PathLabel)+"?from=lesson").Text("…or label a few pairs yourself"),
		),
		app.P().Class("muted").Text("Simulating replaces the working state; the previous one is kept on the Data page."),
		result,
	)
}

func (p *lessonPage) stepReward(v stepView, n int) app.UI {
	st, busy, job := v.st, v.busy, v.job
	var result []app.UI
	if rm := st.rm; rm != nil {
		ch := newChart("lesson-rm-loss", "Reward model: loss per epoch", "epoch", "loss (nats per comparison)")
		ch.Series = []series{
			{Name: "training", X: seq(len(rm.Series["train_loss"])), Y: rm.Series["train_loss"], Class: "s1"},
			{Name: "held out", X: seq(len(rm.Series["held_loss"])), Y: rm.Series["held_loss"], Class: "s3", Dashed: true},
		}
		ch.Height = 240
		ch.Width = wideChartW
		result = append(result, ch.render(), caption(app.Text(rewardCaption(rm))))
	} else if job != nil && !job.Done && job.Kind == jobs.KindTrainRM {
		result = append(result, &liveChart{ID: "lesson-rm-live", Job: jobs.KindTrainRM})
	}
	return stepPanel("step-reward", n, "Train the reward model", st.rm != nil,
		app.P().Text("The reward model turns comparisons into one number per answer. It is trained so that the answer people preferred gets the higher reward (Bradley–Terry: P(A beats B) = σ(r(A) − r(B))). It only ever sees the raters' choices — their biases included."),
		app.Button().Class("primary").ID("lesson-train").Disabled(busy || !st.simulated).Text("Train the reward model").
			OnClick(func(ctx app.Context, e app.Event) { p.train(ctx, nil) }),
		app.Div().Body(result...),
	)
}

func (p *lessonPage) stepPolicy(v stepView, n int) app.UI {
	st, busy, job := v.st, v.busy, v.job
	var result []app.UI
	if st.weak != nil && st.strong != nil {
		w, s := st.weak, st.strong
		wc := runChart("lesson-weak", fmt.Sprintf("β = %g (small penalty)", num(w.Config["beta"])), w)
		sc := runChart("lesson-strong", fmt.Sprintf("β = %g (large penalty)", num(s.Config["beta"])), s)
		shareY(&wc, &sc)
		result = append(result,
			app.Div().Class("grid grid-2").Body(wc.render(), sc.render()),
			app.Div().Class("caption").Role("status").ID("lesson-policy-caption").Body(
				app.Strong().Text("What just happened: "), app.Text(policyCaption(w, s))),
		)
	} else if job != nil && !job.Done && job.Kind == jobs.KindOptimize {
		result = append(result, &liveChart{ID: "lesson-live", Job: jobs.KindOptimize})
	}
	return stepPanel("step-policy", n, "Optimize the policy — with a KL penalty", st.weak != nil,
		app.P().Text(fmt.Sprintf("Now the policy is trained (PPO) to maximize reward − β·KL(policy ‖ reference). The KL term measures how far the policy has moved from the pretrained model; β sets its price. We run it twice, side by side on one scale: β = %g, a cheap leash, and β = %g, an expensive one. The curves show the proxy reward (what the reward model says) and the gold reward (the true quality, which the optimizer never sees), from step 0 — the pretrained model.", lessonlib.BetaSmall, lessonlib.BetaLarge)),
		app.Button().Class("primary").ID("lesson-optimize").Disabled(busy || st.rm == nil).Text(fmt.Sprintf("Optimize at β = %g and β = %g", lessonlib.BetaSmall, lessonlib.BetaLarge)).
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

// runChart is an optimization run's proxy and gold reward per step, from step 0 (the
// reference policy, when the run recorded it: Summary proxy_ref and gold_ref) to the
// end, with the gold peak marked.
func runChart(id, title string, r *snapshot.Run) chartSpec {
	proxy, gold := r.Series["reward"], r.Series["gold"]
	x := seq(len(proxy))
	pr, okp := r.Summary["proxy_ref"]
	gr, okg := r.Summary["gold_ref"]
	if okp && okg {
		x = append([]float64{0}, x...)
		proxy = append([]float64{pr}, proxy...)
		gold = append([]float64{gr}, gold...)
	}
	ch := newChart(id, title, "PPO step", "expected reward (gold units)")
	ch.Series = []series{
		{Name: "proxy (reward model)", X: x, Y: proxy, Class: "s1"},
		{Name: "gold (true quality)", X: x[:min(len(x), len(gold))], Y: gold, Class: "s2"},
	}
	if peak, ok := r.Summary["gold_peak"]; ok {
		step := r.Summary["gold_peak_step"]
		ch.Marks = []mark{{X: step, Y: peak, Class: "s2", Label: fmt.Sprintf("gold peak %s (step %d)", dec2(peak), int(step))}}
	}
	ch.Height = 260
	return ch
}

// dec2 formats x with two decimals and a real minus sign: the lesson's figures, the
// same digits in captions, tables and chart labels.
func dec2(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	s := strconv.FormatFloat(x, 'f', 2, 64)
	if s == "-0.00" {
		s = "0.00"
	}
	return strings.Replace(s, "-", "−", 1)
}

// pct0 formats a fraction as a whole percentage.
func pct0(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + "%" }

// grewOf names what the policy pushed after the gold peak: the demo's failure-mode
// features whose mean rose most from the peak to the end, with their values.
func grewOf(r *snapshot.Run) string {
	at := int(r.Summary["gold_peak_step"]) - 1 // series index of the peak step
	var parts []string
	for _, f := range []struct {
		key, name string
		share     bool
		min       float64
	}{
		{"filler", "filler sentences per answer", false, 0.2},
		{"polite", "polite answers", true, 0.05},
		{"refusal", "refusals", true, 0.05},
		{"wrong", "wrong answers", true, 0.05},
		{"hedge", "hedges per answer", false, 0.1},
	} {
		xs := r.Series["feature_"+f.key]
		if len(xs) == 0 {
			continue
		}
		from, to := xs[0], xs[len(xs)-1]
		if at >= 0 && at < len(xs) {
			from = xs[at]
		}
		if to-from < f.min {
			continue
		}
		if f.share {
			parts = append(parts, fmt.Sprintf("%s %s → %s", f.name, pct0(from), pct0(to)))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s → %s", f.name, dec2(from), dec2(to)))
		}
	}
	if len(parts) > 2 {
		parts = parts[:2]
	}
	return strings.Join(parts, ", ")
}

// policyCaption compares the two runs in words, with the numbers their charts show
// (the runs' summaries: policy.RunArc).
func policyCaption(w, s *snapshot.Run) string {
	ws, ss := w.Summary, s.Summary
	if _, ok := ws["gold_peak"]; !ok {
		return fmt.Sprintf("With β = %g the proxy reward climbed to %s; with β = %g to %s. (These items carry no gold utility, so the true quality cannot be shown.)",
			num(w.Config["beta"]), dec2(ws["reward"]), num(s.Config["beta"]), dec2(ss["reward"]))
	}
	start, startP := ws["gold_start"], ws["proxy_ref"]
	if _, ok := ws["proxy_ref"]; !ok && len(w.Series["reward"]) > 0 {
		startP = w.Series["reward"][0]
	}
	fell := fmt.Sprintf("then fell back to %s: the policy gave back %s of what it had gained while its score went on climbing. ", dec2(ws["gold"]), pct0(ws["gold_gave_back"]))
	if ws["gold_gave_back"] >= 1 {
		fell = fmt.Sprintf("then fell to %s, below where it started: the policy lost everything it had gained while its score went on climbing. ", dec2(ws["gold"]))
	}
	msg := fmt.Sprintf("With β = %g the proxy reward — the reward model's score — kept rising, from %s to %s. The true quality rose from %s to %s by step %d, ",
		num(w.Config["beta"]), dec2(startP), dec2(ws["reward"]), dec2(start), dec2(ws["gold_peak"]), int(ws["gold_peak_step"])) + fell
	if ws["gold_gave_back"] > 0.1 {
		msg += "That is reward hacking: the optimizer found what the reward model over-rates and pushed it"
		if g := grewOf(w); g != "" {
			msg += " (" + g + ")"
		}
		msg += ". "
	}
	msg += fmt.Sprintf("With β = %g the policy stayed closer (KL %s nats against %s): gold rose to %s by step %d and ended at %s (gave back %s). ",
		num(s.Config["beta"]), dec2(ss["kl"]), dec2(ws["kl"]), dec2(ss["gold_peak"]), int(ss["gold_peak_step"]), dec2(ss["gold"]), pct0(ss["gold_gave_back"]))
	if ss["gold"] > ws["gold"] {
		msg += "The larger penalty gave the better policy by the measure that matters. "
	}
	msg += fmt.Sprintf("Diversity: the entropy of the answers fell to %s nats at β = %g and %s nats at β = %g.",
		dec2(ws["entropy"]), num(w.Config["beta"]), dec2(ss["entropy"]), num(s.Config["beta"]))
	return msg
}

func (p *lessonPage) stepSweep(v stepView, n int) app.UI {
	st, busy := v.st, v.busy
	var result []app.UI
	if sw := st.sweep; sw != nil {
		ch, best, at := sweepChart("lesson-sweep-chart", sw)
		ch.Width, ch.Height = wideChartW, 300
		if at >= 0 {
			ch.Marks = []mark{{X: sw.Series["sqrt_kl"][at], Y: best, Class: "s2", Label: fmt.Sprintf("gold peak %s (β = %g)", dec2(best), sw.Series["beta"][at])}}
		}
		result = append(result, ch.render())
		if at >= 0 {
			gold, proxy, beta, x := sw.Series["gold"], sw.Series["proxy"], sw.Series["beta"], sw.Series["sqrt_kl"]
			last := len(gold) - 1
			msg := fmt.Sprintf("Each point is the exact optimum π* ∝ π_ref·exp(r/β) for one β from %g down to %g. The proxy reward rises all the way, from %s to %s. The gold reward rises at first — optimization helps — peaks at %s when √KL = %s (β = %g), then falls to %s: past that point the policy is exploiting the reward model's mistakes. This is the shape Gao, Schulman & Hilton (2022) measured at scale.",
				beta[0], beta[last], dec2(proxy[0]), dec2(proxy[last]),
				dec2(best), dec2(x[at]), beta[at], dec2(gold[last]))
			result = append(result, caption(app.Text(msg)))
		}
		result = append(result, sweepAlerts(sw)...)
	}
	return stepPanel("step-sweep", n, "Reward hacking, seen whole", st.sweep != nil,
		app.P().Text("One more experiment: solve for the best policy at twelve values of β, from a tight leash to none, and plot both rewards against how far each policy moved (√KL). The playground lets you move β yourself."),
		app.Button().Class("primary").ID("lesson-sweep").Disabled(busy || st.rm == nil).Text("Run the β sweep").
			OnClick(func(ctx app.Context, e app.Event) { p.sweep(ctx, nil) }),
		app.Div().Body(result...),
	)
}

func (p *lessonPage) stepSamples(v stepView, n int) app.UI {
	st := v.st
	if st.weak == nil || st.strong == nil {
		return stepPanel("step-samples", n, "Before and after", false,
			app.P().Class("muted").Text("After step 4, this shows answers of the reference model and of the two optimized policies side by side."))
	}
	return stepPanel("step-samples", n, "Before and after", true,
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
