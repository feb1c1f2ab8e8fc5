package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
)

// The lesson's eighth step: an AI judge with a known bias labels the pairs the
// simulated raters compared, and the audit against the raters catches the bias.
// The judge is Prefer's built-in judge-longer (core/ask): not a language model — the
// lesson's transformer is far too small to judge by reading — but a written
// checklist plus 0.25 points per word, served by prefer serve under the same name
// and run here in the worker. Its run ("judge-ai-judge-longer") holds the audit's
// figures at the time it judged.

const lessonJudge = "judge-longer"

// judgeIntro is the step's explanation (static).
const judgeIntro = `<div class="stack"><p>Labeling is slow and costly, so teams let a model judge pairs instead of people (RLAIF: reinforcement learning from AI feedback). Whether to trust it is a measurement: let it judge pairs people judged too, and compare.</p><p>The judge here is built in and <strong>not a language model</strong> — the transformer of step 7 is far too small to judge by reading. It scores each answer with a written checklist (a right answer +2, a wrong one −2, complying with a harmful request −3, refusals ±, filler −0.5, hedges −0.25) and, <strong>by design, adds 0.25 points per word: it prefers longer answers</strong>. It sees every pair twice, each answer shown first once, through the same prompt <code>prefer judge</code> sends any model.</p></div>`

func (p *lessonPage) stepJudge(v stepView, n int) app.UI {
	st, busy := v.st, v.busy
	run := st.s.Run("judge-ai-" + lessonJudge)
	done := run != nil
	var result []app.UI
	if done {
		sm := run.Summary
		result = append(result,
			app.Div().Class("grid grid-4").Body(
				stat("Pairs judged", fmt.Sprint(int(sm["pairs"])), "each in both orders"),
				stat("Agreement with the raters", pct(sm["agreement"]), fmt.Sprintf("Cohen's κ %s", fmtNum(sm["kappa"], 2))),
				stat("Chose the longer answer", pct(sm["longer_share"]), "the raters: "+pct(sm["human_longer_share"])),
				stat("Same verdict in both orders", pct(sm["order_consistency"]), "1 = no position bias"),
			),
			caption(app.Text(judgeCaption(sm))),
		)
	}
	return stepPanel("step-judge", n, "An AI judge, audited by people", done,
		app.Raw(judgeIntro),
		app.Div().Class("row").Body(
			app.Button().Class("primary").ID("lesson-judge").Disabled(busy || !st.simulated).Text("Let the AI judge label the raters' pairs").
				OnClick(func(ctx app.Context, e app.Event) {
					p.run(ctx, "step-judge", "The AI judge", jobs.Request{Kind: jobs.KindJudge, Judge: &jobs.JudgeParams{Judge: lessonJudge}}, nil)
				}),
			app.A().Href(appPath(PathQuality)+"#ai-audit").Text("The whole audit on the Quality page"),
		),
		app.Div().Class("stack").ID("lesson-judge-results").Body(result...),
	)
}

// judgeCaption says what the audit found, with its numbers.
func judgeCaption(sm map[string]float64) string {
	s := fmt.Sprintf("The judge labeled the %d pairs the raters had compared; on the %d where the raters have a consensus it agrees with them on %s (Cohen's κ = %s). ",
		int(sm["pairs"]), int(sm["shared_with_humans"]), pct(sm["agreement"]), fmtNum(sm["kappa"], 2))
	if p, ok := sm["longer_p"]; ok && p < 0.01 && sm["longer_share"] > sm["human_longer_share"] {
		s += fmt.Sprintf("It chose the longer answer in %s of the pairs where the raters chose it in %s (McNemar p %s): the audit caught its length bias. ",
			pct(sm["longer_share"]), pct(sm["human_longer_share"]), fmtP(p))
		s += "A reward model trained on its labels would learn that longer is better — the verbosity hacking of step 4, now coming from the judge."
	} else {
		s += fmt.Sprintf("It chose the longer answer in %s of the pairs, the raters in %s: on this data the audit cannot tell its bias from theirs; judge more pairs.",
			pct(sm["longer_share"]), pct(sm["human_longer_share"]))
	}
	return s
}

// fmtP is a p-value as "= 0.0123" or "< 0.0001".
func fmtP(p float64) string {
	if p < 1e-4 {
		return "< 0.0001"
	}
	return "= " + fmtNum(p, 4)
}
