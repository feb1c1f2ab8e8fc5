package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/snapshot"
)

// The lesson's seventh step: the transformer writes its own answers. The pretrained
// language model answers the prompts (what it writes, with gold), then PPO
// optimizes it against the lesson's reward model twice, at a moderate β and at β ≈
// 0, and the step shows both runs' curves, what the answers are made of before and
// after, the answers side by side and a caption with the actual numbers (written
// by the worker's job from its measurements: Config "findings" and "comparison").

// lmIntro is the step's explanation (static).
const lmIntro = `<div class="stack"><p>So far the policy only chose among each prompt's given answers. Real RLHF fine-tunes a language model that writes its own. This one is small — a GPT-2-shaped transformer with 82,705 parameters — and was pretrained on the demo domain's text, so it writes the way that text is written: often right, sometimes wrong, padded, needlessly refusing, or complying with a harmful request. It runs here, in this tab's background worker.</p></div>`

// lmTakeaway ends the lesson (static).
const lmTakeaway = `<p>What to take away: human feedback is the only source of what people want, so its quality bounds everything downstream. The reward model compresses it into a number that is wrong in systematic ways, and an optimizer — of a table of answers or of a language model — will find those ways. The KL penalty, careful feedback, diverse raters and gold-style audits are how practitioners keep the policy honest.</p>`

func (p *lessonPage) stepTransformer(v stepView, n int) app.UI {
	st, busy, job := v.st, v.busy, v.job
	est := fmtDuration(2 * lmAnswerMS * float64(lmLessonSamples*lmLessonPrompts*p.lmSteps))
	running := job != nil && !job.Done && job.Kind == jobs.KindOptimizeLM
	done := st.lmMod != nil && st.lmZero != nil
	var result []app.UI
	if r := st.lmRef; r != nil {
		result = append(result, app.H3().Text("What the pretrained transformer writes"),
			lmAnswers("lm-ref-samples", samplesOfRun(r), 6, lmCol("Pretrained transformer", r, "ref_")),
			caption(app.Text(str(r.Config["findings"]))))
	}
	if running {
		result = append(result, app.Div().Class("panel").Body(&liveChart{ID: "lesson-lm-live", Job: jobs.KindOptimizeLM}))
	}
	if done && !running {
		result = append(result, lmLessonResults(st.lmMod, st.lmZero)...)
	}
	return stepPanel("step-transformer", n, "The transformer writes its own answers", done,
		app.Raw(lmIntro),
		app.P().Text(fmt.Sprintf("PPO then optimizes it against the reward model of step 3, paying β per token for every step away from the pretrained model: %s of %d prompts × %d sampled answers, once at β = %g and once at β = %g (about %s in a laptop's browser; the job bar shows the progress and can cancel it).",
			plural(p.lmSteps, "step"), lmLessonPrompts, lmLessonSamples, lmBetaModerate, lmBetaZero, est)),
		app.Div().Class("row").Body(
			app.Button().Class("primary").ID("lesson-lm-sample").Disabled(busy || !st.simulated).Text("Let the pretrained transformer answer").
				OnClick(func(ctx app.Context, e app.Event) { p.lmSample(ctx, nil) }),
			app.Button().Class("primary").ID("lesson-lm-run").Disabled(busy || st.rm == nil).
				Text(fmt.Sprintf("Run PPO at β = %g and β = %g (≈ %s)", lmBetaModerate, lmBetaZero, est)).
				OnClick(func(ctx app.Context, e app.Event) { p.lmOptimize(ctx, nil) }),
		),
		app.Div().Class("stack").Body(result...),
	)
}

// lmLessonResults shows the two PPO runs on the transformer side by side.
func lmLessonResults(m, z *snapshot.Run) []app.UI {
	bm, bz := fmt.Sprintf("β = %g", num(m.Config["beta"])), fmt.Sprintf("β = %g", num(z.Config["beta"]))
	msg := str(m.Config["findings"]) + " " + str(z.Config["findings"]) + " " + str(z.Config["comparison"])
	if ms := lmLessonMillis(); ms > 0 {
		msg += " Both runs took " + fmtDuration(ms) + " in this browser's background worker."
	}
	mc, zc := runChart("lesson-lm-moderate", bm+" (moderate penalty)", m), runChart("lesson-lm-zero", bz+" (almost none)", z)
	mc.XLabel, zc.XLabel = "PPO step (sampled answers)", "PPO step (sampled answers)"
	shareY(&mc, &zc)
	return []app.UI{
		app.H3().Text("PPO on the transformer, side by side"),
		app.Div().Class("grid grid-2").Body(mc.render(), zc.render()),
		alertList(append(append([]string(nil), m.Notes...), z.Notes...)),
		// The table's mean gold is the runs' own figure, which the caption quotes
		// (the same digits in both).
		lmMixTable("lesson-lm-mix", []string{"pretrained", bm, bz}, []map[string]any{
			withGold(mixOf(m, "mix_before"), m.Summary["gold_before"]), withGold(mixOf(m, "mix_after"), m.Summary["gold_after"]), withGold(mixOf(z, "mix_after"), z.Summary["gold_after"])}),
		app.H3().Text("Before and after"),
		lmAnswers("lm-samples", samplesOfRun(m), 4, lmCol("Pretrained", m, "ref_"), lmCol("After PPO, "+bm, m, ""), lmCol("After PPO, "+bz, z, "")),
		caption(app.Text(msg)),
		app.Raw(lmTakeaway),
	}
}

// lmLessonMillis is how long the last transformer job of this page took, or 0.
func lmLessonMillis() float64 {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	return wb.jobTimes[jobs.KindOptimizeLM].Millis
}

// withGold returns a copy of a part mix with its mean gold replaced by the run's
// figure (Summary gold_before or gold_after), which the captions quote.
func withGold(mix map[string]any, gold float64) map[string]any {
	out := make(map[string]any, len(mix)+1)
	for k, v := range mix {
		out[k] = v
	}
	out["gold"] = gold
	return out
}

// plural is "1 step", "24 steps".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
