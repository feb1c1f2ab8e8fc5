package app

import (
	"fmt"
	"math"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/policy"
	"prefer/core/snapshot"
)

type choice struct{ id, title string }

var policyAlgos = []choice{
	{"ppo", "PPO (clipped, value head, GAE)"},
	{"rloo", "REINFORCE, leave-one-out baseline (RLOO)"},
	{"exact", "Exact optimum π_ref·exp(r/β)"},
	{"bon", "Best-of-N sampling"},
	{"dpo", "DPO (from preferences, no reward model)"},
	{"ipo", "IPO (from preferences)"},
}

// lmAlgos are the algorithms of the generative policy (no closed-form optimum).
var lmAlgos = []choice{policyAlgos[0], policyAlgos[1], policyAlgos[3], policyAlgos[4], policyAlgos[5]}

// Policy kinds of the Policy page.
const (
	kindCandidates = "candidates" // a distribution over each prompt's given answers
	kindLM         = "lm"         // the small transformer, writing its own answers
)

// policySettings are the Policy page's settings of one policy kind, as typed.
type policySettings struct {
	algo, beta, target, n, steps, prompts, samples, lr, reward string
}

// policyPage optimizes a policy against the reward model with a KL penalty: the
// candidate policy (a distribution over each prompt's answers) or the generative
// one (a small transformer language model that writes its answers, ?kind=lm).
// Algorithm and β (or a target KL) controls, live curves of reward, KL, gold and
// entropy, reference and trained samples side by side, and hacking alerts.
type policyPage struct {
	pageBase

	kind   string
	cand   policySettings
	lm     policySettings
	errMsg string
	shown  string // the run shown
}

func (p *policyPage) OnMount(ctx app.Context) {
	p.kind = kindCandidates
	if app.Window().URL().Query().Get("kind") == kindLM {
		p.kind = kindLM
	}
	p.cand = policySettings{algo: "ppo", beta: "0.1", n: "4"} // steps: the core's default (placeholder)
	p.lm = policySettings{algo: "ppo", beta: fmt.Sprint(lmBetaModerate), steps: fmt.Sprint(lmLessonSteps),
		prompts: fmt.Sprint(lmLessonPrompts), samples: fmt.Sprint(lmLessonSamples), lr: fmt.Sprint(lmLessonLR), n: "4"}
	p.mount(ctx)
}

func (p *policyPage) OnDismount() { p.dismount() }

// settings returns the settings of the kind shown.
func (p *policyPage) settings() *policySettings {
	if p.kind == kindLM {
		return &p.lm
	}
	return &p.cand
}

func (p *policyPage) run(ctx app.Context) {
	c := p.settings()
	betas := []float64{parseFloat(c.beta, 0.1)}
	prefix := "policy-" + c.algo
	req, title := jobs.Request{Kind: jobs.KindOptimize, Optimize: &jobs.OptimizeParams{Seed: 1, Algo: c.algo, Betas: betas,
		TargetKL: parseFloat(c.target, 0), Steps: int(parseUint(c.steps, 0)), N: int(parseUint(c.n, 4)), Prefix: prefix}}, "Optimizing the policy"
	if p.kind == kindLM {
		prefix = "policy-lm-" + c.algo
		req, title = jobs.Request{Kind: jobs.KindOptimizeLM, OptimizeLM: &jobs.OptimizeLMParams{Seed: 1, Algo: c.algo, Betas: betas,
			TargetKL: parseFloat(c.target, 0), Steps: int(parseUint(c.steps, lmLessonSteps)), N: int(parseUint(c.n, 4)),
			Prompts: new(int(parseUint(c.prompts, lmLessonPrompts))), Samples: int(parseUint(c.samples, lmLessonSamples)),
			LR: parseFloat(c.lr, lmLessonLR), Reward: c.reward, Prefix: prefix}}, "Optimizing the transformer"
	}
	p.errMsg = ""
	ctx.Async(func() {
		_, err := wb.Run(title, req, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil && err != ErrCanceled {
				p.errMsg = err.Error()
			}
			p.shown = prefix + "-1"
		})
	})
}

func (p *policyPage) sweep(ctx app.Context) {
	p.errMsg = ""
	ctx.Async(func() {
		_, err := wb.Run("Sweeping β", jobs.Request{Kind: jobs.KindSweep, Sweep: &jobs.SweepParams{Seed: 1}}, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil && err != ErrCanceled {
				p.errMsg = err.Error()
			}
		})
	})
}

// optimizeRuns returns the optimization runs of the state of one policy kind,
// newest last.
func optimizeRuns(s *snapshot.Snapshot, kind string) []*snapshot.Run {
	var out []*snapshot.Run
	for i := range s.Runs {
		if r := &s.Runs[i]; r.Kind == "optimize" && isLMRun(r) == (kind == kindLM) {
			out = append(out, r)
		}
	}
	return out
}

// textRewardModel returns the stored model the generative policy is optimized
// against by default (as lm.DefaultReward: the last model that scores any text),
// or nil.
func textRewardModel(s *snapshot.Snapshot) *snapshot.Model {
	for i := len(s.Models) - 1; i >= 0; i-- {
		switch s.Models[i].Family {
		case "linear", "mlp", "ensemble", "head":
			return &s.Models[i]
		}
	}
	return nil
}

const (
	introCandidates = "Optimize the candidate policy — a distribution over each prompt's answers, starting from the reference model's — to maximize E[r] − β·KL(π ‖ π_ref). Its KL is exact and its optimum known, so every optimizer can be checked against the truth."
	introLM         = "Optimize the generative policy — a small transformer language model (82,705 parameters, pretrained on the demo domain) that writes its own answers word by word — to maximize E[r] − β·KL(π ‖ π_ref), with the KL penalty paid per token. It runs in this tab's background worker, on the same code as prefer optimize --policy lm."
	hintCandidates  = "Train a reward model first (Reward page): the policy is optimized against it. DPO and IPO learn from the preferences directly."
	hintLM          = "Train a linear or MLP reward model first (Reward page): the transformer is optimized against it; a tabular model only scores answers it has seen. Or choose the gold reward, or DPO/IPO, which learn from the preferences directly."
)

func (p *policyPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathPolicy, app.H1().Text("Policy"), loading(v))
	}
	lmKind := p.kind == kindLM
	c := p.settings()
	jobKind, idp, intro, hint, algos := jobs.KindOptimize, "po-", introCandidates, hintCandidates, policyAlgos
	if lmKind {
		jobKind, idp, intro, hint, algos = jobs.KindOptimizeLM, "po-lm-", introLM, hintLM, lmAlgos
	}
	busy := v.Job != nil && !v.Job.Done
	running := busy && v.Job.Kind == jobKind
	runs := optimizeRuns(v.Snap, p.kind)
	var shown *snapshot.Run
	for _, r := range runs {
		if r.Name == p.shown || shown == nil || p.shown == "" {
			shown = r
		}
	}
	rm := v.Snap.Model(jobs.ModelRM)
	if lmKind {
		rm = textRewardModel(v.Snap)
	}
	preference := c.algo == "dpo" || c.algo == "ipo"
	canRun := len(v.Snap.Items) > 0 && (rm != nil || preference || lmKind && c.reward == "gold")
	var results app.UI
	switch {
	case shown == nil || running:
	case lmKind:
		took := 0.0
		if shown.Name == p.shown {
			took = lmLessonMillis()
		}
		results = lmResults(shown, took)
	default:
		results = policyResults(shown)
	}
	controls := append([]app.UI{app.Div().Class("field").Body(
		app.Label().For(idp+"algo").Text("Algorithm"),
		app.Select().ID(idp+"algo").OnChange(func(ctx app.Context, e app.Event) { p.settings().algo = ctx.JSSrc().Get("value").String() }, idp).
			Body(app.Range(algos).Slice(func(i int) app.UI {
				return app.Option().Value(algos[i].id).Selected(algos[i].id == c.algo).Text(algos[i].title)
			})),
	)}, p.fields(idp, c)...)
	if lmKind {
		note := "the reward model"
		if rm != nil {
			note += " (" + rm.Name + ", " + rm.Family + ")"
		}
		controls = append(controls, app.Div().Class("field").Body(
			app.Label().For("po-lm-reward").Text("Reward"),
			app.Select().ID("po-lm-reward").OnChange(func(ctx app.Context, e app.Event) { p.lm.reward = ctx.JSSrc().Get("value").String() }).Body(
				app.Option().Value("").Selected(c.reward == "").Text(note),
				app.Option().Value("gold").Selected(c.reward == "gold").Text("gold (the true quality, for comparison)"),
			)))
	}
	// Why Optimize is disabled, said next to it (and as its description).
	why := ""
	switch {
	case len(v.Snap.Items) == 0:
		why = "Nothing to optimize yet: run the lesson's first steps, load the demo data (Home or Label page) or import a dataset (Data page)."
	case !canRun:
		why = hint
	case busy:
		why = "Another job is running (" + v.Job.Title + "): wait for it, or cancel it in the top bar."
	}
	controls = append(controls,
		app.Button().Class("primary").ID(idp+"run").Disabled(busy || !canRun).Style("align-self", "flex-end").
			Title(why).
			Text("Optimize").OnClick(func(ctx app.Context, e app.Event) { p.run(ctx) }),
		app.If(running, app.Button().ID(idp+"cancel").Style("align-self", "flex-end").Text("Cancel").
			OnClick(func(ctx app.Context, e app.Event) { wb.Cancel() })),
		app.If(!lmKind, app.Button().ID("po-sweep").Disabled(busy || rm == nil).Style("align-self", "flex-end").Text("β sweep").
			OnClick(func(ctx app.Context, e app.Event) { p.sweep(ctx) })),
	)
	note := ""
	if lmKind && (c.algo == "ppo" || c.algo == "rloo") {
		n := parseUint(c.steps, 0) * parseUint(c.prompts, 0) * parseUint(c.samples, 0)
		note = "About " + fmtDuration(lmAnswerMS*float64(n)) + " in this browser. Every run starts from the pretrained transformer (static/web/ref-lm.snap), with seed 1: a run repeats exactly."
	}

	return frame(PathPolicy,
		app.Div().Class("page-head").Body(app.Div().Body(app.H1().Text("Policy"), app.P().Text(intro))),
		app.Div().Class("row").Role("radiogroup").Aria("label", "Policy kind").Body(
			app.Span().Class("muted").Text("Policy kind:"),
			p.kindButton(kindCandidates, "Candidate responses"),
			p.kindButton(kindLM, "Generative (transformer LM)"),
		),
		app.If(p.errMsg != "", app.Div().Class("notice bad").Role("alert").ID("policy-error").Text(p.errMsg)),
		app.Section().Class("panel").Body(
			app.Div().Class("row").Body(controls...),
			app.If(why != "", app.P().Class("notice info").ID(idp+"why").Role("status").Text(why)),
			app.If(why == "" && note != "", app.P().Class("muted").Text(note)),
		),
		when(running, func() app.UI { return app.Div().Class("panel").Body(&liveChart{ID: idp + "live", Job: jobKind}) }),
		when(len(runs) > 1, func() app.UI {
			return app.Div().Class("row").Role("tablist").Aria("label", "Runs").Body(app.Range(runs).Slice(func(i int) app.UI {
				r := runs[i]
				return app.Button().Role("tab").Class(selectedClass(shown != nil && r.Name == shown.Name)).Aria("selected", shown != nil && r.Name == shown.Name).
					Text(runTitle(r)).OnClick(func(ctx app.Context, e app.Event) { p.shown = r.Name }, r.Name)
			}))
		}),
		results,
		when(!lmKind && v.Snap.Run(jobs.RunSweep) != nil, func() app.UI { return sweepPanel(v.Snap.Run(jobs.RunSweep)) }),
	)
}

// kindButton chooses the policy kind.
func (p *policyPage) kindButton(kind, title string) app.UI {
	on := p.kind == kind
	return app.Button().ID("po-kind-"+kind).Role("radio").Aria("checked", on).Class(selectedClass(on)).Text(title).
		OnClick(func(ctx app.Context, e app.Event) { p.kind, p.shown = kind, "" }, kind)
}

// fields are the number fields that apply to the algorithm of c, ids prefixed by
// idp. Each input's handler has the field's id as its scope, so that a field shown
// in another's place after a change of algorithm or kind gets its own handler.
func (p *policyPage) fields(idp string, c *policySettings) []app.UI {
	a, lm := c.algo, p.kind == kindLM
	sampled := lm && a != "dpo" && a != "ipo"
	// An empty steps field of the candidate policy runs the core's default.
	steps := "off"
	if !lm {
		steps = fmt.Sprint(policy.DefaultSteps)
		if a == "dpo" || a == "ipo" {
			steps = fmt.Sprint(policy.DefaultDPOSteps)
		}
	}
	specs := []struct {
		id, label string
		v         *string
		step      float64
		show      bool
		empty     string // the placeholder
	}{
		{"beta", "β (KL price)", &c.beta, 0.01, a != "bon", "off"},
		{"target", "or target KL (nats)", &c.target, 0.1, a == "ppo" || a == "rloo" || a == "exact" && !lm, "off"},
		{"n", "N", &c.n, 1, a == "bon", "off"},
		{"steps", "Steps", &c.steps, 1, a != "bon" && a != "exact", steps},
		{"prompts", "Prompts per step", &c.prompts, 1, sampled, "off"},
		{"samples", "Answers per prompt", &c.samples, 1, sampled, "off"},
		{"lr", "Learning rate", &c.lr, 0.0001, lm && a != "bon", "off"},
	}
	var out []app.UI
	for _, f := range specs {
		if !f.show {
			continue
		}
		v, id := f.v, idp+f.id
		out = append(out, app.Div().Class("field").Body(
			app.Label().For(id).Text(f.label),
			app.Input().Type("number").ID(id).Step(f.step).Min(0).Value(*v).Placeholder(f.empty).Style("width", "6rem").
				OnInput(func(ctx app.Context, e app.Event) { *v = ctx.JSSrc().Get("value").String() }, id),
		))
	}
	return out
}

func runTitle(r *snapshot.Run) string {
	return fmt.Sprintf("%s β=%s", strings.ToUpper(str(r.Config["algo"])), fmtNum(r.Summary["beta"], 3))
}

// noGold is said once where a run's data has no known true quality.
const noGold = "This data has no known true quality (gold): only what the reward model says, the distance from the reference and the diversity are shown. Reward hacking can only be suspected here (the reward rising with length or politeness), not measured."

// policyResults shows one optimization run: its headline figures (gold only when the
// data has gold), whether it converged, its notes (hacking alerts, separated
// preferences), its curves and the samples before and after.
func policyResults(r *snapshot.Run) app.UI {
	s := r.Series
	sum := r.Summary
	kl := newChart("po-kl", "KL from the reference and entropy", "step", "nats")
	kl.Series = []series{
		{Name: "KL(π ‖ π_ref)", X: seq(len(s["kl"])), Y: s["kl"], Class: "s3"},
		{Name: "entropy", X: seq(len(s["entropy"])), Y: s["entropy"], Class: "s4", Dashed: true},
	}
	_, hasGold := known(sum, "gold")
	var alerts []app.UI
	for _, n := range r.Notes {
		alerts = append(alerts, app.Div().Class("notice").Role("alert").Text("⚠ "+n))
	}
	stats := []app.UI{}
	if v, ok := known(sum, "reward"); ok {
		stats = append(stats, stat("Proxy reward", fmtNum(v, 3), "what the reward model says"))
	} else {
		stats = append(stats, stat("Proxy reward", "none", "DPO and IPO learn from the pairs; no reward model was there to measure"))
	}
	if hasGold {
		stats = append(stats, stat("Gold reward", fmtNum(sum["gold"], 3), "the true quality"))
	}
	stats = append(stats,
		stat("KL", fmtNum(sum["kl"], 3)+" nats", "β = "+fmtNum(sum["beta"], 3)),
		stat("Entropy", fmtNum(sum["entropy"], 3)+" nats", fmt.Sprintf("distinct-2 %s", fmtNum(sum["distinct_2"], 3))),
		convergenceStat(r),
	)
	rewardChart := policyChart("po-reward", "Proxy and gold reward", s)
	if !hasGold {
		if _, ok := known(sum, "reward"); ok {
			ch := newChart("po-reward", "Proxy reward", "step", "expected reward (reward-model units)")
			ch.Series = []series{{Name: "proxy (reward model)", X: seq(len(s["reward"])), Y: s["reward"], Class: "s1"}}
			ch.Height = 230
			rewardChart = ch.render()
		} else {
			ch := newChart("po-reward", "DPO loss and implicit-reward accuracy", "step", "nats · share")
			ch.Series = []series{
				{Name: "loss", X: seq(len(s["loss"])), Y: s["loss"], Class: "s1"},
				{Name: "accuracy on the pairs", X: seq(len(s["accuracy"])), Y: s["accuracy"], Class: "s2", Dashed: true},
			}
			ch.Height = 230
			rewardChart = ch.render()
		}
	}
	return app.Div().Class("stack").ID("po-results").DataSet("algo", str(r.Config["algo"])).DataSet("run", r.Name).
		DataSet("converged", sum["converged"] == 1).Body(
		app.Div().Class("grid grid-4").Body(stats...),
		app.If(!hasGold, app.P().Class("muted").ID("po-no-gold").Text(noGold)),
		app.Div().Body(alerts...),
		app.Div().Class("grid grid-2").Body(
			app.Div().Class("panel").Body(rewardChart),
			app.Div().Class("panel").Body(kl.render()),
		),
		app.Section().Class("panel stack").Body(
			app.H2().Text("Reference and trained policy, side by side"),
			singleSamples(r),
		),
	)
}

// convergenceStat says whether the run stopped on its convergence criterion.
func convergenceStat(r *snapshot.Run) app.UI {
	sum := r.Summary
	steps := int(sum["steps"])
	what := "largest total variation from the optimum"
	if a := str(r.Config["algo"]); a == "dpo" || a == "ipo" {
		what = "largest change of a pair's implied probability from the loss's minimum"
	}
	crit, hasCrit := known(sum, "criterion")
	tol, _ := known(sum, "tolerance")
	switch {
	case str(r.Config["algo"]) == "exact" || str(r.Config["algo"]) == "bon":
		return stat("Convergence", "exact", "solved in closed form")
	case sum["converged"] == 1:
		return stat("Convergence", fmt.Sprintf("after %d steps", steps), fmt.Sprintf("%s %s ≤ %s", what, fmtNum(crit, 3), fmtNum(tol, 3)))
	case hasCrit:
		return stat("Convergence", "not reached", fmt.Sprintf("stopped at the cap of %d steps: %s %s > %s; raise the steps", steps, what, fmtNum(crit, 3), fmtNum(tol, 3)))
	}
	return stat("Convergence", "unknown", fmt.Sprintf("%d steps; this run has no convergence criterion (see the notes)", steps))
}

// singleSamples lists the before/after samples of one run.
func singleSamples(r *snapshot.Run) app.UI {
	ss := runExamples(r)
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
	ch, best, at := sweepChart("po-sweep-chart", sw)
	if at < 0 {
		ch.Caption = "The proxy reward against the distance from the reference. This data has no gold, so where optimization starts to exploit the reward model cannot be measured here."
	} else {
		ch.Caption = fmt.Sprintf("The gold reward peaks at %s at β = %g (√KL %s); past it, optimization exploits the reward model.", fmtNum(best, 2), sw.Series["beta"][at], fmtNum(sw.Series["sqrt_kl"][at], 2))
	}
	return app.Section().Class("panel stack").ID("po-sweep").Body(
		app.H2().Text("β sweep"),
		ch.render(),
		app.Div().Body(sweepAlerts(sw)...),
	)
}

// sweepChart is the chart of a β sweep: proxy and gold reward against √KL. It
// returns the gold reward's peak and the index of the point where it is (-1 when
// the sweep has no gold).
func sweepChart(id string, sw *snapshot.Run) (ch chartSpec, best float64, at int) {
	x := sw.Series["sqrt_kl"]
	ch = newChart(id, "Proxy and gold reward against distance from the reference", "√KL(π ‖ π_ref)  (√nats)", "expected reward (gold units)")
	ch.Series = []series{
		{Name: "proxy (reward model)", X: x, Y: sw.Series["proxy"], Class: "s1"},
		{Name: "gold (true quality)", X: x, Y: sw.Series["gold"], Class: "s2"},
	}
	best, at = math.Inf(-1), -1
	for i, g := range sw.Series["gold"] {
		if g > best { // NaN (no gold) is never greater
			best, at = g, i
		}
	}
	if at < 0 {
		ch.Title, ch.YLabel = "Proxy reward against distance from the reference", "expected reward (reward-model units)"
	}
	return ch, best, at
}

// sweepAlerts are the hacking detector's findings on a sweep.
func sweepAlerts(sw *snapshot.Run) []app.UI {
	var alerts []app.UI
	for _, n := range sw.Notes {
		alerts = append(alerts, app.Div().Class("notice").Role("alert").Text("⚠ "+n))
	}
	return alerts
}
