package app

import (
	"fmt"
	"math"
	"slices"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/reward"
	"prefer/core/snapshot"
)

// rewardPage trains a reward model in the worker (progress bar, cancel) and shows
// what it learned: loss curves, held-out accuracy, the reliability diagram, reward
// against length, the held-out comparisons it most confidently gets wrong, the words
// that drive it, and the pairs to label next (active learning).
type rewardPage struct {
	pageBase

	family  string
	holdout string
	seed    string
	errMsg  string
}

func (p *rewardPage) OnMount(ctx app.Context) {
	p.family, p.holdout, p.seed = reward.FamilyLinear, "0.2", "1"
	p.mount(ctx)
}

func (p *rewardPage) OnDismount() { p.dismount() }

func (p *rewardPage) train(ctx app.Context) {
	// A hold-out of 0 trains on everything (nil would be the default 0.2).
	params := jobs.TrainRMParams{Family: p.family, Seed: parseUint(p.seed, 1), Holdout: new(parseFloat(p.holdout, 0.2))}
	p.errMsg = ""
	ctx.Async(func() {
		_, err := wb.Run("Training the reward model", jobs.Request{Kind: jobs.KindTrainRM, TrainRM: &params}, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil && err != ErrCanceled {
				p.errMsg = err.Error()
			}
		})
	})
}

func (p *rewardPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathReward, app.H1().Text("Reward model"), loading(v))
	}
	run := v.Snap.Run(jobs.RunRM)
	busy := v.Job != nil && !v.Job.Done
	training := busy && v.Job.Kind == jobs.KindTrainRM
	return frame(PathReward,
		app.Div().Class("page-head").Body(
			app.Div().Body(
				app.H1().Text("Reward model"),
				app.P().Text("A reward model turns comparisons into one number per answer (Bradley–Terry: P(A ≻ B) = σ(r(A) − r(B)), ties by Rao–Kupper, rankings InstructGPT-style). It is trained in the background worker on this state's judgments, with a held-out part it never sees."),
			),
		),
		app.If(p.errMsg != "", app.Div().Class("notice bad").Role("alert").ID("reward-error").Text(p.errMsg)),
		app.Section().Class("panel").Body(
			app.Div().Class("row").Body(
				app.Div().Class("field").Body(
					app.Label().For("rm-family").Text("Model"),
					app.Select().ID("rm-family").OnChange(func(ctx app.Context, e app.Event) { p.family = ctx.JSSrc().Get("value").String() }).
						Body(app.Range(reward.Families).Slice(func(i int) app.UI {
							f := reward.Families[i]
							return app.Option().Value(f).Selected(f == p.family).Text(familyTitle(f))
						})),
				),
				app.Div().Class("field").Body(
					app.Label().For("rm-holdout").Text("Held out"),
					app.Select().ID("rm-holdout").OnChange(func(ctx app.Context, e app.Event) { p.holdout = ctx.JSSrc().Get("value").String() }).
						Body(app.Range([]string{"0.1", "0.2", "0.3"}).Slice(func(i int) app.UI {
							h := []string{"0.1", "0.2", "0.3"}[i]
							return app.Option().Value(h).Selected(h == p.holdout).Text(pct(parseFloat(h, 0)))
						})),
				),
				app.Div().Class("field").Body(
					app.Label().For("rm-seed").Text("Seed"),
					app.Input().Type("number").ID("rm-seed").Value(p.seed).Style("width", "6rem").
						OnInput(func(ctx app.Context, e app.Event) { p.seed = ctx.JSSrc().Get("value").String() }),
				),
				app.Button().Class("primary").ID("rm-train").Disabled(busy || len(v.Judgments) == 0).Style("align-self", "flex-end").
					Text("Train").OnClick(func(ctx app.Context, e app.Event) { p.train(ctx) }),
				app.If(training, app.Button().ID("rm-cancel").Style("align-self", "flex-end").Text("Cancel").
					OnClick(func(ctx app.Context, e app.Event) { wb.Cancel() })),
			),
			app.If(len(v.Judgments) == 0, app.P().Class("muted").Text("There are no judgments yet: label some pairs, simulate raters in the lesson, or import a dataset on the Data page.")),
		),
		when(training, func() app.UI { return app.Div().Class("panel").Body(&liveChart{ID: "rm-live", Job: jobs.KindTrainRM}) }),
		when(run != nil && !training, func() app.UI { return rewardResults(run) }),
	)
}

func familyTitle(f string) string {
	switch f {
	case reward.FamilyTabular:
		return "tabular (one score per answer)"
	case reward.FamilyLinear:
		return "linear on text features"
	case reward.FamilyMLP:
		return "small MLP on text features"
	case reward.FamilyEnsemble:
		return "ensemble of 5 linear models"
	}
	return f
}

// rewardResults shows a training run: figures, curves, diagnostics.
func rewardResults(run *snapshot.Run) app.UI {
	sum := run.Summary
	loss := newChart("rm-loss", "Loss per epoch", "epoch", "loss (nats per comparison)")
	loss.Series = []series{
		{Name: "training", X: seq(len(run.Series["train_loss"])), Y: run.Series["train_loss"], Class: "s1"},
		{Name: "early-stopping split", X: seq(len(run.Series["valid_loss"])), Y: run.Series["valid_loss"], Class: "s4", Dashed: true},
		{Name: "held out", X: seq(len(run.Series["held_loss"])), Y: run.Series["held_loss"], Class: "s3"},
	}
	acc := newChart("rm-acc", "Held-out accuracy per epoch", "epoch", "accuracy (fraction of pairs)")
	acc.Series = []series{{Name: "held out", X: seq(len(run.Series["held_acc"])), Y: run.Series["held_acc"], Class: "s2"}}
	rel := newChart("rm-reliability", "Reliability diagram", "predicted probability of the likelier outcome", "observed frequency")
	var conf, obs []float64
	for i, c := range run.Series["rel_count"] {
		if c > 0 {
			conf = append(conf, run.Series["rel_conf"][i])
			obs = append(obs, run.Series["rel_acc"][i])
		}
	}
	rel.Series = []series{{Name: "model", X: conf, Y: obs, Class: "s1"}}
	rel.XMin, rel.XMax, rel.YMin, rel.YMax = 0.5, 1, 0, 1
	rel.Diagonal = true
	rel.Caption = fmt.Sprintf("Points on the dashed line are perfectly calibrated. Expected calibration error: %s.", fmtNum(sum["ece"], 3))
	scat := newChart("rm-length", "Reward against answer length", "length (words)", "reward (model units)")
	scat.Series = []series{{Name: "answers of held-out prompts", X: run.Series["scatter_words"], Y: run.Series["scatter_reward"], Class: "s3", Points: true}}
	scat.Caption = fmt.Sprintf("Spearman ρ of reward with length: %s. A reward model that pays for length invites verbose answers.", fmtNum(sum["length_spearman"], 2))
	var gold app.UI
	if g := run.Series["scatter_gold"]; len(g) > 0 {
		gs := newChart("rm-gold", "Reward against true quality (gold)", "gold utility", "reward (model units)")
		gs.Series = []series{{Name: "answers", X: g, Y: run.Series["scatter_reward"], Class: "s2", Points: true}}
		gs.Caption = fmt.Sprintf("Spearman ρ with gold: %s overall, %s within prompts.", fmtNum(sum["gold_spearman"], 2), fmtNum(sum["gold_spearman_within"], 2))
		gold = gs.render()
	}
	return app.Div().Class("stack").ID("rm-results").Body(
		app.Div().Class("grid grid-4").Body(
			stat("Held-out accuracy", pct(sum["held_acc"]), fmt.Sprintf("on %d comparisons never seen", int(sum["n_held"]))),
			logLossStat(sum),
			stat("Calibration (ECE)", fmtNum(sum["ece"], 3), "0 is perfect"),
			lengthStat(sum),
		),
		when(!hasGoldRun(sum), func() app.UI {
			return app.P().Class("muted").ID("rm-no-gold").Text("This data has no known true quality (gold): the model is judged by how well it predicts held-out human choices, not against the truth.")
		}),
		app.Div().Class("row").Body(app.Range(run.Notes).Slice(func(i int) app.UI {
			return app.Div().Class("notice info").Text(run.Notes[i])
		})),
		app.Div().Class("grid grid-2").Body(
			app.Div().Class("panel").Body(loss.render()),
			app.Div().Class("panel").Body(acc.render()),
			app.Div().Class("panel").Body(rel.render()),
			app.Div().Class("panel").Body(scat.render()),
			when(gold != nil, func() app.UI { return app.Div().Class("panel").Body(gold) }),
			app.Div().Class("panel").Body(featureTable(run)),
		),
		disagreementsTable(run),
		proposalsTable(run),
	)
}

// logLossStat shows the held-out log-loss of decided comparisons, the one to read
// against ln 2 (a model that knows nothing), with the tie-aware one beside it.
func logLossStat(sum map[string]float64) app.UI {
	decided, ok := known(sum, "held_decided_logloss")
	all, okAll := known(sum, "held_logloss")
	switch {
	case ok && okAll && math.Abs(decided-all) > 1e-9:
		return stat("Held-out log-loss", fmtNum(decided, 3), fmt.Sprintf("decided pairs (chance: ln 2 = 0.693); %s with ties counted", fmtNum(all, 3)))
	case ok:
		return stat("Held-out log-loss", fmtNum(decided, 3), fmt.Sprintf("chance: ln 2 = 0.693; training %s", fmtNum(sum["train_logloss"], 3)))
	}
	return stat("Held-out log-loss", fmtNum(all, 3), fmt.Sprintf("training %s", fmtNum(sum["train_logloss"], 3)))
}

// lengthStat shows the reward's correlation with length, and with gold when the
// data has it.
func lengthStat(sum map[string]float64) app.UI {
	note := "with length in words; above 0 the model pays for length"
	if g, ok := known(sum, "gold_spearman"); ok {
		note = "vs gold ρ = " + fmtNum(g, 2)
	}
	return stat("Reward vs length", "ρ = "+fmtNum(sum["length_spearman"], 2), note)
}

// hasGoldRun reports whether a training run measured the reward against gold.
func hasGoldRun(sum map[string]float64) bool {
	_, ok := known(sum, "gold_spearman")
	return ok
}

// diagnostics returns the list key of a training run's diagnostics (the layout of
// reward.TrainingRun).
func diagnostics(run *snapshot.Run, key string) []any {
	d, _ := run.Config["diagnostics"].(map[string]any)
	list, _ := d[key].([]any)
	return list
}

func featureTable(run *snapshot.Run) app.UI {
	fs := slices.Concat(diagnostics(run, "top_positive"), diagnostics(run, "top_negative"))
	if len(fs) == 0 {
		return app.P().Class("muted").Text("Feature weights are shown for linear models.")
	}
	var rows []app.UI
	for _, x := range fs {
		m, _ := x.(map[string]any)
		w := num(m["weight"])
		cls := "tag good"
		if w < 0 {
			cls = "tag bad"
		}
		rows = append(rows, app.Tr().Body(app.Td().Title(str(m["ngram"])).Text(reward.DescribeFeature(str(m["ngram"]))), app.Td().Class("num").Body(app.Span().Class(cls).Text(fmtNum(w, 3))), app.Td().Class("num").Text(fmtNum(num(m["count"]), 0))))
	}
	return app.Div().Body(
		app.H3().Text("What drives the reward"),
		app.Table().Body(app.THead().Body(app.Tr().Body(app.Th().Text("feature"), app.Th().Text("weight"), app.Th().Text("occurrences"))), app.TBody().Body(rows...)),
	)
}

func disagreementsTable(run *snapshot.Run) app.UI {
	var rows []app.UI
	for _, x := range diagnostics(run, "disagreements") {
		m, _ := x.(map[string]any)
		rows = append(rows, app.Tr().Body(
			app.Td().Text(str(m["prompt"])),
			app.Td().Text(str(m["chosen_text"])),
			app.Td().Text(str(m["rejected_text"])),
			app.Td().Class("mono").Text(str(m["rater"])),
			app.Td().Class("num").Text(pct(num(m["p_chosen"]))),
		))
	}
	return app.Section().Class("panel").ID("rm-disagreements").Body(
		app.H2().Text("Most confident disagreements"),
		app.P().Class("muted").Text("Held-out comparisons where the model is surest the rater was wrong: either the model learned a bias, or the rater made a mistake worth reviewing."),
		either(len(rows) == 0, func() app.UI {
			return app.P().Class("muted").Text("None: no held-out comparison is confidently contradicted.")
		}, func() app.UI {
			return app.Table().Body(
				app.THead().Body(app.Tr().Body(app.Th().Text("prompt"), app.Th().Text("people preferred"), app.Th().Text("over"), app.Th().Text("rater"), app.Th().Text("model's P(preferred)"))),
				app.TBody().Body(rows...),
			)
		}),
	)
}

func proposalsTable(run *snapshot.Run) app.UI {
	ps, _ := run.Config["proposals"].([]any)
	var rows []app.UI
	rule := ""
	for _, x := range ps {
		m, _ := x.(map[string]any)
		rule = str(m["rule"])
		rows = append(rows, app.Tr().Body(
			app.Td().Text(str(m["prompt"])),
			app.Td().Text(str(m["a_text"])),
			app.Td().Text(str(m["b_text"])),
			app.Td().Class("num").Text(fmtNum(num(m["value"]), 3)),
		))
	}
	why := "by the model's uncertainty (train an ensemble to rank by its members' disagreement, BALD)"
	if rule == reward.RuleBALD {
		why = "by the ensemble's disagreement (BALD: the members are each confident but disagree)"
	}
	return app.Section().Class("panel").ID("rm-active").Body(
		app.Div().Class("row between").Body(
			app.H2().Text("Label these next"),
			app.If(len(rows) > 0, app.A().Class("btn primary").Href(appPath(PathLabel+"?next=active")).Text("Label these pairs →")),
		),
		app.P().Class("muted").Text("Active learning: the unlabeled pairs whose label would teach the model most, ranked "+why+"."),
		either(len(rows) == 0, func() app.UI { return app.P().Class("muted").Text("No unlabeled pairs left.") }, func() app.UI {
			return app.Table().Body(
				app.THead().Body(app.Tr().Body(app.Th().Text("prompt"), app.Th().Text("answer A"), app.Th().Text("answer B"), app.Th().Text("value"))),
				app.TBody().Body(rows...),
			)
		}),
	)
}

func parseFloat(s string, def float64) float64 {
	var x float64
	if _, err := fmt.Sscan(s, &x); err != nil || math.IsNaN(x) {
		return def
	}
	return x
}

func parseUint(s string, def uint64) uint64 {
	var x uint64
	if _, err := fmt.Sscan(s, &x); err != nil {
		return def
	}
	return x
}
