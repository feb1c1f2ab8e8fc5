package app

import (
	"fmt"
	"math"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/snapshot"
)

var policyAlgos = []struct{ id, title string }{
	{"ppo", "PPO (clipped, value head, GAE)"},
	{"rloo", "REINFORCE, leave-one-out baseline (RLOO)"},
	{"exact", "Exact optimum π_ref·exp(r/β)"},
	{"bon", "Best-of-N sampling"},
	{"dpo", "DPO (from preferences, no reward model)"},
	{"ipo", "IPO (from preferences)"},
}

// policyPage optimizes the candidate policy against the reward model with a KL
// penalty: algorithm and β (or a target KL) controls, live curves of reward, KL,
// gold and entropy, reference and trained samples side by side, and hacking alerts.
type policyPage struct {
	pageBase

	algo     string
	beta     string
	targetKL string
	steps    string
	n        string
	errMsg   string
	shown    string // the run shown
}

func (p *policyPage) OnMount(ctx app.Context) {
	p.algo, p.beta, p.steps, p.n = "ppo", "0.1", "200", "4"
	p.mount(ctx)
}

func (p *policyPage) OnDismount() { p.dismount() }

func (p *policyPage) run(ctx app.Context) {
	params := jobs.Params{Seed: 1, Algo: p.algo, Betas: []float64{parseFloat(p.beta, 0.1)}, TargetKL: parseFloat(p.targetKL, 0),
		Steps: int(parseUint(p.steps, 200)), N: int(parseUint(p.n, 4)), Prefix: "policy-" + p.algo}
	p.errMsg = ""
	ctx.Async(func() {
		_, err := wb.Run("Optimizing the policy", jobs.Request{Kind: jobs.KindOptimize, Params: &params}, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil && err != ErrCanceled {
				p.errMsg = err.Error()
			}
			p.shown = params.Prefix + "-1"
		})
	})
}

func (p *policyPage) sweep(ctx app.Context) {
	p.errMsg = ""
	ctx.Async(func() {
		_, err := wb.Run("Sweeping β", jobs.Request{Kind: jobs.KindSweep, Params: &jobs.Params{Seed: 1}}, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil && err != ErrCanceled {
				p.errMsg = err.Error()
			}
		})
	})
}

// optimizeRuns returns the optimization runs of the state, newest last.
func optimizeRuns(s *snapshot.Snapshot) []*snapshot.Run {
	var out []*snapshot.Run
	for i := range s.Runs {
		if s.Runs[i].Kind == "optimize" {
			out = append(out, &s.Runs[i])
		}
	}
	return out
}

func (p *policyPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathPolicy, app.H1().Text("Policy"), loading(v))
	}
	busy := v.Job != nil && !v.Job.Done
	running := busy && v.Job.Kind == jobs.KindOptimize
	runs := optimizeRuns(v.Snap)
	var shown *snapshot.Run
	for _, r := range runs {
		if r.Name == p.shown || shown == nil || p.shown == "" {
			shown = r
		}
	}
	hasRM := v.Snap.Model(jobs.ModelRM) != nil
	preference := p.algo == "dpo" || p.algo == "ipo"
	return frame(PathPolicy,
		app.Div().Class("page-head").Body(app.Div().Body(
			app.H1().Text("Policy"),
			app.P().Text("Optimize the candidate policy — a distribution over each prompt's answers, starting from the reference model's — to maximize E[r] − β·KL(π ‖ π_ref). Its KL is exact and its optimum known, so every optimizer can be checked against the truth."),
		)),
		app.If(p.errMsg != "", app.Div().Class("notice bad").Role("alert").ID("policy-error").Text(p.errMsg)),
		app.Section().Class("panel").Body(
			app.Div().Class("row").Body(
				app.Div().Class("field").Body(
					app.Label().For("po-algo").Text("Algorithm"),
					app.Select().ID("po-algo").OnChange(func(ctx app.Context, e app.Event) { p.algo = ctx.JSSrc().Get("value").String() }).
						Body(app.Range(policyAlgos).Slice(func(i int) app.UI {
							a := policyAlgos[i]
							return app.Option().Value(a.id).Selected(a.id == p.algo).Text(a.title)
						})),
				),
				app.If(p.algo != "bon", app.Div().Class("field").Body(
					app.Label().For("po-beta").Text("β (KL price)"),
					app.Input().Type("number").ID("po-beta").Step(0.01).Min(0).Value(p.beta).Style("width", "6rem").
						OnInput(func(ctx app.Context, e app.Event) { p.beta = ctx.JSSrc().Get("value").String() }),
				)),
				app.If(p.algo == "ppo" || p.algo == "rloo" || p.algo == "exact", app.Div().Class("field").Body(
					app.Label().For("po-target").Text("or target KL (nats)"),
					app.Input().Type("number").ID("po-target").Step(0.1).Min(0).Value(p.targetKL).Placeholder("off").Style("width", "6rem").
						OnInput(func(ctx app.Context, e app.Event) { p.targetKL = ctx.JSSrc().Get("value").String() }),
				)),
				app.If(p.algo == "bon", app.Div().Class("field").Body(
					app.Label().For("po-n").Text("N"),
					app.Input().Type("number").ID("po-n").Min(1).Value(p.n).Style("width", "5rem").
						OnInput(func(ctx app.Context, e app.Event) { p.n = ctx.JSSrc().Get("value").String() }),
				)),
				app.If(p.algo != "bon" && p.algo != "exact", app.Div().Class("field").Body(
					app.Label().For("po-steps").Text("Steps"),
					app.Input().Type("number").ID("po-steps").Min(1).Value(p.steps).Style("width", "6rem").
						OnInput(func(ctx app.Context, e app.Event) { p.steps = ctx.JSSrc().Get("value").String() }),
				)),
				app.Button().Class("primary").ID("po-run").Disabled(busy || len(v.Snap.Items) == 0 || (!hasRM && !preference)).Style("align-self", "flex-end").
					Text("Optimize").OnClick(func(ctx app.Context, e app.Event) { p.run(ctx) }),
				app.If(running, app.Button().ID("po-cancel").Style("align-self", "flex-end").Text("Cancel").
					OnClick(func(ctx app.Context, e app.Event) { wb.Cancel() })),
				app.Button().ID("po-sweep").Disabled(busy || !hasRM).Style("align-self", "flex-end").Text("β sweep").
					OnClick(func(ctx app.Context, e app.Event) { p.sweep(ctx) }),
			),
			app.If(!hasRM && !preference, app.P().Class("muted").Text("Train a reward model first (Reward page): the policy is optimized against it. DPO and IPO learn from the preferences directly.")),
		),
		when(running, func() app.UI { return app.Div().Class("panel").Body(&liveChart{ID: "po-live", Job: jobs.KindOptimize}) }),
		when(len(runs) > 1, func() app.UI {
			return app.Div().Class("row").Role("tablist").Aria("label", "Runs").Body(app.Range(runs).Slice(func(i int) app.UI {
				r := runs[i]
				return app.Button().Role("tab").Class(selectedClass(shown != nil && r.Name == shown.Name)).Aria("selected", shown != nil && r.Name == shown.Name).
					Text(runTitle(r)).OnClick(func(ctx app.Context, e app.Event) { p.shown = r.Name }, r.Name)
			}))
		}),
		when(shown != nil && !running, func() app.UI { return policyResults(shown) }),
		when(v.Snap.Run(jobs.RunSweep) != nil, func() app.UI { return sweepPanel(v.Snap.Run(jobs.RunSweep)) }),
	)
}

func runTitle(r *snapshot.Run) string {
	return fmt.Sprintf("%s β=%s", strings.ToUpper(str(r.Config["algo"])), fmtNum(r.Summary["beta"], 3))
}

// policyResults shows one optimization run.
func policyResults(r *snapshot.Run) app.UI {
	s := r.Series
	kl := newChart("po-kl", "KL from the reference and entropy", "step", "nats")
	kl.Series = []series{
		{Name: "KL(π ‖ π_ref)", X: seq(len(s["kl"])), Y: s["kl"], Class: "s3"},
		{Name: "entropy", X: seq(len(s["entropy"])), Y: s["entropy"], Class: "s4", Dashed: true},
	}
	sum := r.Summary
	var alerts []app.UI
	for _, n := range r.Notes {
		alerts = append(alerts, app.Div().Class("notice").Role("alert").Text("⚠ "+n))
	}
	return app.Div().Class("stack").ID("po-results").Body(
		app.Div().Class("grid grid-4").Body(
			stat("Proxy reward", fmtNum(sum["reward"], 3), "what the reward model says"),
			stat("Gold reward", fmtNum(sum["gold"], 3), "the true quality"),
			stat("KL", fmtNum(sum["kl"], 3)+" nats", "β = "+fmtNum(sum["beta"], 3)),
			stat("Entropy", fmtNum(sum["entropy"], 3)+" nats", fmt.Sprintf("distinct-2 %s", fmtNum(sum["distinct_2"], 3))),
		),
		app.Div().Body(alerts...),
		app.Div().Class("grid grid-2").Body(
			app.Div().Class("panel").Body(policyChart("po-reward", "Proxy and gold reward", s)),
			app.Div().Class("panel").Body(kl.render()),
		),
		app.Section().Class("panel stack").Body(
			app.H2().Text("Reference and trained policy, side by side"),
			singleSamples(r),
		),
	)
}

// singleSamples lists the before/after samples of one run.
func singleSamples(r *snapshot.Run) app.UI {
	ss, _ := r.Config["samples"].([]any)
	var rows []app.UI
	for i, x := range ss {
		if i >= 6 {
			break
		}
		m, _ := x.(map[string]any)
		rows = append(rows, app.Div().Body(
			app.P().Body(app.Strong().Text(str(m["prompt"]))),
			app.Div().Class("samples").Body(
				sampleBox("Reference policy", str(m["ref_text"]), num(m["ref_prob"]), num(m["ref_gold"]), num(m["ref_proxy"]), m["ref_parts"]),
				sampleBox("Trained policy", str(m["text"]), num(m["prob"]), num(m["gold"]), num(m["proxy"]), m["parts"]),
			),
		))
	}
	return app.Div().Class("stack").ID("po-samples").Body(rows...)
}

// sweepPanel shows the β sweep: proxy and gold reward against √KL.
func sweepPanel(sw *snapshot.Run) app.UI {
	x := sw.Series["sqrt_kl"]
	ch := newChart("po-sweep-chart", "Proxy and gold reward against distance from the reference", "√KL(π ‖ π_ref)  (√nats)", "expected reward (gold units)")
	ch.Series = []series{
		{Name: "proxy (reward model)", X: x, Y: sw.Series["proxy"], Class: "s1"},
		{Name: "gold (true quality)", X: x, Y: sw.Series["gold"], Class: "s2"},
	}
	gold := sw.Series["gold"]
	best, at := math.Inf(-1), 0
	for i, g := range gold {
		if g > best {
			best, at = g, i
		}
	}
	if len(gold) > 0 {
		ch.Caption = fmt.Sprintf("The gold reward peaks at %s at β = %g (√KL %s); past it, optimization exploits the reward model.", fmtNum(best, 2), sw.Series["beta"][at], fmtNum(x[at], 2))
	}
	var alerts []app.UI
	for _, n := range sw.Notes {
		alerts = append(alerts, app.Div().Class("notice").Role("alert").Text("⚠ "+n))
	}
	return app.Section().Class("panel stack").ID("po-sweep").Body(
		app.H2().Text("β sweep"),
		ch.render(),
		app.Div().Body(alerts...),
	)
}
