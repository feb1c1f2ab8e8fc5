package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/agree"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// builtinJudges are the judges the Quality page can run in the browser: Prefer's
// built-in judges (core/ask.Builtins, the same prefer serve answers as models), with
// what each is, said plainly.
var builtinJudges = []struct{ name, what string }{
	{"judge-longer", "prefers longer answers (+0.25 per word)"},
	{"judge-first", "prefers the answer shown first unless the other is clearly better"},
	{"judge-rubric", "the checklist alone, no built-in bias"},
}

// aiAuditPanel is the Quality page's audit of AI raters: run a built-in judge on the
// pairs people compared (both orders), then see how it agrees with the people —
// Cohen's κ against their consensus, its position and length bias, and where it
// disagrees most. AI raters from `prefer judge` show here too.
type aiAuditPanel struct {
	judge string
	msg   string
	bad   bool
}

func (a *aiAuditPanel) render(p *qualityPage, r *agree.Report, s *snapshot.Snapshot, busy bool) app.UI {
	if a.judge == "" {
		a.judge = builtinJudges[0].name
	}
	var audits []app.UI
	if r != nil {
		for _, au := range r.AI {
			audits = append(audits, aiAuditCard(au, s))
		}
	}
	what := ""
	for _, j := range builtinJudges {
		if j.name == a.judge {
			what = j.what
		}
	}
	return app.Section().Class("panel stack").ID("ai-audit").Aria("label", "AI judges and their audit").Body(
		app.H2().Text("AI judges, audited by people"),
		app.P().Class("muted").Text("An AI judge labels pairs so people label fewer; before trusting it, check it against people on the pairs both judged. "+
			"The built-in judges are not language models — the workbench's model is far too small to judge by reading: each scores an answer to a demo prompt with a written checklist "+
			"(right +2, wrong −2, unsafe −3, refusals ±, filler −0.5, hedges −0.25) and adds a known bias. It sees every pair in both orders, as prefer judge asks any model."),
		app.Div().Class("row").Body(
			app.Label().For("ai-judge").Text("Built-in judge"),
			app.Select().ID("ai-judge").OnChange(func(ctx app.Context, e app.Event) {
				a.judge = ctx.JSSrc().Get("value").String()
			}).Body(app.Range(builtinJudges).Slice(func(i int) app.UI {
				j := builtinJudges[i]
				return app.Option().Value(j.name).Selected(j.name == a.judge).Text(j.name + " — " + j.what)
			})),
			app.Button().Class("primary").ID("ai-judge-run").Disabled(busy).Text("Let it judge").OnClick(func(ctx app.Context, e app.Event) {
				a.run(p, a.judge)
			}),
		),
		app.If(what != "", app.P().Class("muted").Text("This judge "+what+".")),
		app.If(a.msg != "", app.Div().Class(noticeClass(a.bad)).Role("status").ID("ai-judge-msg").Text(a.msg)),
		either(len(audits) == 0, func() app.UI {
			return app.P().Class("muted").ID("ai-audit-empty").Text("No AI rater yet: let a judge label the pairs people compared.")
		}, func() app.UI { return app.Div().Class("stack").ID("ai-audits").Body(audits...) }),
	)
}

// run has a built-in judge label the pairs people compared (a worker job); the
// report, recomputed for the new state, then holds its audit.
func (a *aiAuditPanel) run(p *qualityPage, name string) {
	a.msg, a.bad = "", false
	p.ctx.Async(func() {
		res, err := wb.Run("The "+name+" judge", jobs.Request{Kind: jobs.KindJudge, Judge: &jobs.JudgeParams{Judge: name}}, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				if err != ErrCanceled {
					a.msg, a.bad = err.Error(), true
				}
				return
			}
			a.msg = fmt.Sprintf("%s judged %d pairs in both orders (%d verdicts). Its audit is below.", name, int(res.Summary["pairs"]), int(res.Summary["judgments"]))
		})
	})
}

// aiAuditCard shows one AI rater's audit.
func aiAuditCard(au agree.AIAudit, s *snapshot.Snapshot) app.UI {
	items := map[string]*feedback.Item{}
	for i := range s.Items {
		items[s.Items[i].ID] = &s.Items[i]
	}
	// chosen says which answer a label prefers, in its own words.
	chosen := func(d agree.AIDisagreement, label string) string {
		id := d.First
		switch label {
		case "tie":
			return "a tie"
		case "second":
			id = d.Second
		}
		if it := items[d.Item]; it != nil {
			if r := it.Response(id); r != nil {
				return "“" + shorten(r.Text, 70) + "”"
			}
		}
		return id
	}
	var rows []app.UI
	for _, d := range au.Disagreements {
		prompt := d.Item
		if it := items[d.Item]; it != nil {
			prompt = shorten(it.Prompt, 50)
		}
		rows = append(rows, app.Tr().Body(
			app.Td().Text(prompt), app.Td().Text(chosen(d, d.AI)),
			app.Td().Text(fmt.Sprintf("%s (%d of %d)", chosen(d, d.Humans), d.HumanAgree, d.HumanVotes)),
			app.Td().Class("muted").Text(shorten(d.Note, 140)),
		))
	}
	lengthNote := "—"
	if au.LengthUnits > 0 {
		lengthNote = fmt.Sprintf("people %s, on %d pairs", fp(au.HumanLongerShare), au.LengthUnits)
	}
	return app.Div().Class("stack ai-audit-card").ID("ai-audit-"+au.Rater).Body(
		app.H3().Text(au.Rater+" — "+au.Name),
		app.Div().Class("grid grid-4").Body(
			stat("Cohen's κ with people", f(au.Kappa, 2), fmt.Sprintf("agreement %s on %d pairs", fp(au.Agreement), au.Shared)),
			stat("Chose the answer shown first", fp(au.FirstShown), fmt.Sprintf("of %d verdicts; p = %s", au.Decided, f(au.FirstShownP, 3))),
			stat("Same verdict in both orders", fp(au.Consistency), fmt.Sprintf("%d pairs seen both ways", au.BothOrders)),
			stat("Chose the longer answer", fp(au.LongerShare), lengthNote),
		),
		app.If(len(rows) > 0, app.H4().Text("Where it disagrees with people most")),
		app.If(len(rows) > 0, app.Table().Body(
			app.THead().Body(app.Tr().Body(app.Th().Text("prompt"), app.Th().Text("the AI prefers"), app.Th().Text("people prefer"), app.Th().Text("the AI's reasoning"))),
			app.TBody().Body(rows...),
		)),
	)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
