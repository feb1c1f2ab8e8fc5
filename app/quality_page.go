package app

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/agree"
	"prefer/core/feedback"
)

// qualityPage is the lead's page: agreement figures per judgment kind, a rater table
// (reliability, gold accuracy, Dawid–Skene accuracy, speed, fatigue), fatigue and
// drift charts, position and length bias, findings in words, and the review queue
// for flagged answers (accept / reject / edit). The report is computed by
// core/agree in the worker and cached for the state version it describes.
type qualityPage struct {
	pageBase

	report  *agree.Report
	version int // state version the report describes
	unsub   func()
	errMsg  string
	editing string // flag id being edited
	edit    string
	ai      aiAuditPanel // AI judges and their audit (ai_audit.go)
}

// qualityCache keeps the last report across navigations.
var qualityCache struct {
	report  *agree.Report
	version int
}

func (p *qualityPage) OnMount(ctx app.Context) {
	p.report, p.version = qualityCache.report, qualityCache.version
	p.mount(ctx)
	// Recompute when the judgments change (and once loaded).
	p.unsub = wb.subscribe(func() { ctx.Dispatch(func(ctx app.Context) { p.refresh(ctx, wb.view()) }) })
	ctx.Async(func() {
		waitReady()
		p.ctx.Dispatch(func(ctx app.Context) { p.refresh(ctx, wb.view()) })
	})
}

func (p *qualityPage) OnDismount() {
	if p.unsub != nil {
		p.unsub()
	}
	p.dismount()
}

// refresh computes the report in the worker when the state changed.
func (p *qualityPage) refresh(ctx app.Context, v view) {
	if !v.Ready || len(v.Judgments) == 0 || (p.report != nil && p.version == v.Version) || (v.Job != nil && !v.Job.Done) {
		return
	}
	p.version = v.Version
	ver := v.Version
	ctx.Async(func() {
		res, err := wb.Run("Measuring agreement", jobs.Request{Kind: jobs.KindAgree, Agree: &jobs.AgreeParams{Seed: 1}}, nil)
		var rep agree.Report
		if err == nil {
			err = json.Unmarshal(res.File, &rep)
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				if err != ErrCanceled {
					p.errMsg = err.Error()
				}
				return
			}
			p.report = &rep
			qualityCache.report, qualityCache.version = &rep, ver
		})
	})
}

func (p *qualityPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathQuality, app.H1().Text("Feedback quality"), loading(v))
	}
	return frame(PathQuality,
		app.Div().Class("page-head").Body(app.Div().Body(
			app.H1().Text("Feedback quality"),
			app.P().Text("How far the raters agree, who is reliable, who tires or drifts, and which biases the labels carry — before a reward model learns them."),
		)),
		app.If(p.errMsg != "", app.Div().Class("notice bad").Role("alert").Text(p.errMsg)),
		either(len(v.Judgments) == 0, func() app.UI {
			return app.P().Class("muted").Text("No judgments yet: label, simulate raters in the lesson, or import a dataset.")
		}, func() app.UI {
			return either(p.report == nil, func() app.UI {
				return app.P().Class("muted").ID("quality-loading").Text("Measuring agreement in the background…")
			}, func() app.UI { return qualityReport(p.report) })
		}),
		app.If(len(v.Judgments) > 0, p.ai.render(p, p.report, v.Snap, v.Job != nil && !v.Job.Done)),
		reviewQueue(p, v),
	)
}

func f(x agree.Float, digits int) string {
	if !x.Valid() {
		return "—"
	}
	return fmtNum(float64(x), digits)
}

func fp(x agree.Float) string {
	if !x.Valid() {
		return "—"
	}
	return pct(float64(x))
}

func qualityReport(r *agree.Report) app.UI {
	var cmp *agree.KindReport
	for i := range r.Kinds {
		if r.Kinds[i].Kind == feedback.KindCompare {
			cmp = &r.Kinds[i]
		}
	}
	who := fmt.Sprintf("%d raters, %d items", r.Raters, r.Items)
	if r.Raters == 0 {
		who = fmt.Sprintf("no rater ids, %d items", r.Items)
	}
	out := []app.UI{
		app.Div().Class("grid grid-4").Body(
			stat("Judgments", fmt.Sprint(r.Judgments), who),
			when(cmp != nil, func() app.UI {
				return stat("Pairwise agreement", fp(cmp.Agreement.Percent), "InstructGPT's labelers: about 73%")
			}),
			when(cmp != nil, func() app.UI {
				return stat("Krippendorff's α", f(cmp.Agreement.Alpha, 2), "compare, nominal; 1 = perfect, 0 = chance")
			}),
			when(cmp != nil, func() app.UI { return stat("Fleiss' κ", f(cmp.Agreement.FleissKappa, 2), "compare") }),
		),
	}
	var findings []app.UI
	for _, s := range r.Findings {
		findings = append(findings, app.Li().Text(s))
	}
	if len(findings) > 0 {
		out = append(out, app.Section().Class("panel").ID("findings").Body(app.H2().Text("Findings"), app.Ul().Body(findings...)))
	}
	// What the data cannot say, per kind (one rater per item, no gold, no times).
	var limits []app.UI
	for _, k := range r.Kinds {
		for _, n := range k.Notes {
			limits = append(limits, app.Li().Body(app.Strong().Text(kindName(&k)+": "), app.Text(n)))
		}
	}
	if len(limits) > 0 {
		out = append(out, app.Section().Class("panel").ID("limits").Body(app.H2().Text("What this data cannot say"), app.Ul().Body(limits...)))
	}
	// Agreement per kind.
	var krows []app.UI
	for _, k := range r.Kinds {
		name := string(k.Kind)
		if k.Axis != "" {
			name += " (" + k.Axis + ")"
		}
		krows = append(krows, app.Tr().Body(
			app.Td().Text(name), app.Td().Class("num").Text(fmt.Sprint(k.Units)), app.Td().Class("num").Text(fmt.Sprint(k.PairableUnits)),
			app.Td().Class("num").Text(fp(k.Agreement.Percent)), app.Td().Class("num").Text(f(k.Agreement.FleissKappa, 3)),
			app.Td().Class("num").Text(f(k.Agreement.Alpha, 3)), app.Td().Class("num").Text(f(k.Agreement.CohenMean, 3)),
		))
	}
	out = append(out, app.Section().Class("panel").ID("agreement").Body(
		app.H2().Text("Agreement by kind"),
		app.Table().Body(
			app.THead().Body(app.Tr().Body(app.Th().Text("kind"), app.Th().Text("units"), app.Th().Text("seen by ≥ 2"), app.Th().Text("% agreement"), app.Th().Text("Fleiss κ"), app.Th().Text("Krippendorff α"), app.Th().Text("mean Cohen κ"))),
			app.TBody().Body(krows...),
		),
	))
	if cmp != nil {
		out = append(out, raterTable(cmp), fatigueDrift(cmp))
	}
	out = append(out, biasPanel(r))
	return app.Div().Class("stack").ID("quality-report").Body(out...)
}

func kindName(k *agree.KindReport) string {
	if k.Axis != "" {
		return string(k.Kind) + " (" + k.Axis + ")"
	}
	return string(k.Kind)
}

// raterTable lists each rater's reliability on comparisons, with only the columns
// the data can fill: gold accuracy where there is gold, Dawid–Skene where it was
// fitted, time where judgments were timed.
func raterTable(k *agree.KindReport) app.UI {
	var gold, ds, secs bool
	for _, rs := range k.Raters {
		gold = gold || rs.GoldN > 0
		ds = ds || rs.DSAccuracy.Valid()
		secs = secs || rs.SecondsMedian.Valid()
	}
	var rows []app.UI
	for _, rs := range k.Raters {
		var tags []app.UI
		tag := func(on bool, cls, text string) {
			if on {
				tags = append(tags, app.Span().Class("tag "+cls).Text(text), app.Text(" "))
			}
		}
		tag(rs.TooFast, "bad", "too fast")
		tag(rs.AtChance, "bad", "at chance")
		tag(rs.StraightLines, "bad", "same answer")
		tag(rs.Fatigued, "warn", "tires")
		cells := []app.UI{
			app.Td().Class("mono").Text(rs.Rater), app.Td().Text(rs.Group),
			app.Td().Class("num").Text(fmt.Sprint(rs.Labels)),
			app.Td().Class("num").Text(fp(rs.Consensus)),
			app.Td().Class("num").Text(fp(rs.ConsensusChance)),
		}
		if gold {
			cells = append(cells, app.Td().Class("num").Text(fp(rs.GoldAccuracy)))
		}
		if ds {
			cells = append(cells, app.Td().Class("num").Text(fp(rs.DSAccuracy)))
		}
		if secs {
			cells = append(cells, app.Td().Class("num").Text(f(rs.SecondsMedian, 1)))
		}
		cells = append(cells, app.Td().Body(tags...))
		rows = append(rows, app.Tr().Body(cells...))
	}
	head := []app.UI{app.Th().Text("rater"), app.Th().Text("group"), app.Th().Text("labels"), app.Th().Text("agrees with consensus"), app.Th().Text("by chance")}
	about := "Agreement with the consensus: how often the rater gives the other raters' most common label on the same pair; by chance: what a rater with the same label mix would get at random."
	if gold {
		head = append(head, app.Th().Text("gold accuracy"))
		about += " Gold accuracy: comparisons decided in the order of the two answers' known quality."
	}
	if ds {
		head = append(head, app.Th().Text("Dawid–Skene"))
		about += " Dawid–Skene estimates each rater's accuracy from all labels at once (EM)."
	}
	if secs {
		head = append(head, app.Th().Text("s / judgment"))
	}
	head = append(head, app.Th().Text("signs"))
	if len(k.Raters) == 0 {
		return app.Section().Class("panel").ID("raters").Body(
			app.H2().Text("Raters (comparisons)"),
			app.P().Class("muted").Text("These judgments carry no rater ids, so no per-rater figure can be computed; the panel's figures (position and length bias) still hold."),
		)
	}
	return app.Section().Class("panel").ID("raters").Body(
		app.H2().Text("Raters (comparisons)"),
		app.P().Class("muted").Text(about),
		app.Div().Class("table-scroll").Body(app.Table().Body(
			app.THead().Body(app.Tr().Body(head...)),
			app.TBody().Body(rows...),
		)),
	)
}

func fatigueDrift(k *agree.KindReport) app.UI {
	var charts []app.UI
	if fa := k.Fatigue; fa != nil && len(fa.Buckets) > 0 {
		var x, q, sec []float64
		for _, b := range fa.Buckets {
			x = append(x, float64(b.From+b.To)/2)
			q = append(q, nanOf(b.Quality))
			sec = append(sec, nanOf(b.Seconds))
		}
		ch := newChart("fatigue-quality", "Fatigue: quality by position in the session", "position in session (judgments)", "agreement with consensus")
		ch.Series = []series{{Name: "quality", X: x, Y: q, Class: "s1"}}
		ch.Caption = fmt.Sprintf("Slope %s per 100 judgments (p = %s).", f(fa.QualitySlope, 3), f(fa.QualityP, 3))
		ch2 := newChart("fatigue-time", "Fatigue: time per judgment", "position in session (judgments)", "seconds per judgment")
		ch2.Series = []series{{Name: "seconds", X: x, Y: sec, Class: "s3"}}
		charts = append(charts, app.Div().Class("panel").Body(ch.render()), app.Div().Class("panel").Body(ch2.render()))
	}
	if d := k.Drift; d != nil && len(d.Windows) > 0 {
		var x, a, q []float64
		for i, w := range d.Windows {
			x = append(x, float64(i+1))
			a = append(a, nanOf(w.Agreement))
			q = append(q, nanOf(w.Quality))
		}
		ch := newChart("drift", "Drift: agreement over time", "time window (equal numbers of judgments)", "agreement")
		ch.Series = []series{{Name: "agreement", X: x, Y: a, Class: "s2"}, {Name: "quality", X: x, Y: q, Class: "s1", Dashed: true}}
		when := time.UnixMilli(d.Windows[0].From).UTC().Format("2006-01-02")
		ch.Caption = fmt.Sprintf("From %s; label mix χ² = %s on %d df (p = %s)%s.", when, f(d.MixChi2, 1), d.MixDF, f(d.MixP, 3), map[bool]string{true: ": the labels drift", false: ""}[d.Drifting])
		charts = append(charts, app.Div().Class("panel").Body(ch.render()))
	}
	return app.Div().Class("grid grid-2").ID("fatigue-drift").Body(charts...)
}

func nanOf(x agree.Float) float64 {
	if !x.Valid() {
		return math.NaN()
	}
	return float64(x)
}

func biasPanel(r *agree.Report) app.UI {
	var parts []app.UI
	if pb := r.Position; pb != nil {
		var rows []app.UI
		for _, s := range pb.Raters {
			rows = append(rows, biasRow(s.Rater, s.Decided, fp(s.LeftShare), pv(s.P), s.Biased, s.Possible))
		}
		parts = append(parts, app.Div().Class("panel").ID("position-bias").Body(
			app.H2().Text("Position bias"),
			app.P().Text(fmt.Sprintf("The left answer won %s of %d decided comparisons (p = %s; 50%% means no bias).", fp(pb.LeftShare), pb.Decided, pv(pb.P))),
			when(len(rows) > 0, func() app.UI { return biasTable("left wins", rows) }),
		))
	}
	if lb := r.Length; lb != nil {
		var rows []app.UI
		for _, s := range lb.Raters {
			rows = append(rows, biasRow(s.Rater, s.Decided, fp(s.LongerShare), pv(s.P), s.Biased, false))
		}
		text := fmt.Sprintf("The longer answer won %s of %d decided comparisons (p = %s; 50%% means no preference for length).", fp(lb.LongerShare), lb.Decided, pv(lb.P))
		if lb.GoldN > 0 {
			text = fmt.Sprintf("The longer answer won %s of %d decided comparisons, where gold prefers the longer one %s of the time (p = %s).", fp(lb.LongerShare), lb.Decided, fp(lb.GoldLongerShare), pv(lb.P))
		} else if lb.Biased {
			text += " Without gold this cannot tell a taste for length from length that goes with quality."
		}
		parts = append(parts, app.Div().Class("panel").ID("length-bias").Body(
			app.H2().Text("Length bias"),
			app.P().Text(text),
			when(len(rows) > 0, func() app.UI { return biasTable("longer wins", rows) }),
		))
	}
	return app.Div().Class("grid grid-2").Body(parts...)
}

func biasRow(rater string, n int, share, p string, biased, possible bool) app.UI {
	return app.Tr().Body(app.Td().Class("mono").Text(rater), app.Td().Class("num").Text(fmt.Sprint(n)), app.Td().Class("num").Text(share),
		app.Td().Class("num").Text(p), app.Td().Body(app.If(biased, app.Span().Class("tag bad").Text("biased")),
			app.If(possible, app.Span().Class("tag warn").Text("maybe"))))
}

// pv formats a p-value with two significant digits (6.5e-09, not 0).
func pv(x agree.Float) string {
	if !x.Valid() {
		return "—"
	}
	return fmt.Sprintf("%.2g", float64(x))
}

func biasTable(what string, rows []app.UI) app.UI {
	return app.Table().Body(
		app.THead().Body(app.Tr().Body(app.Th().Text("rater"), app.Th().Text("decided"), app.Th().Text(what), app.Th().Text("p"), app.Th())),
		app.TBody().Body(rows...),
	)
}

// reviewQueue lists flags without a review, with accept / reject / edit.
func reviewQueue(p *qualityPage, v view) app.UI {
	reviewed := map[string]bool{}
	for _, j := range v.Judgments {
		if j.Kind == feedback.KindReview {
			reviewed[j.Target] = true
		}
	}
	var open []feedback.Judgment
	for _, j := range v.Judgments {
		if j.Kind == feedback.KindFlag && !reviewed[j.ID] {
			open = append(open, j)
		}
	}
	var rows []app.UI
	for i, j := range open {
		if i >= 25 {
			break
		}
		it := findItem(v, j.Item)
		prompt, text := j.Item, j.Response
		if it != nil {
			prompt, text = it.Prompt, responseText(it, j.Response)
		}
		id := j.ID
		rows = append(rows, app.Tr().Body(
			app.Td().Text(prompt),
			app.Td().Text(text),
			app.Td().Body(app.Span().Class("tag bad").Text(j.Category), app.Text(" "+j.Note)),
			app.Td().Class("mono").Text(j.Rater),
			app.Td().Body(either(p.editing == id, func() app.UI {
				return app.Div().Class("stack").Body(
					app.Textarea().Aria("label", "Corrected answer").Text(p.edit).OnInput(func(ctx app.Context, e app.Event) { p.edit = ctx.JSSrc().Get("value").String() }),
					app.Button().Class("primary").Text("Save edit").OnClick(func(ctx app.Context, e app.Event) { p.review(ctx, id, feedback.VerdictEdit, p.edit) }, id),
				)
			}, func() app.UI {
				return app.Div().Class("row").Body(
					app.Button().Text("Accept").Aria("label", "Accept the flag").OnClick(func(ctx app.Context, e app.Event) { p.review(ctx, id, feedback.VerdictAccept, "") }, id),
					app.Button().Text("Reject").Aria("label", "Reject the flag").OnClick(func(ctx app.Context, e app.Event) { p.review(ctx, id, feedback.VerdictReject, "") }, id),
					app.Button().Text("Edit").Aria("label", "Correct the answer").OnClick(func(ctx app.Context, e app.Event) { p.editing, p.edit = id, text }, id),
				)
			})),
		))
	}
	return app.Section().Class("panel").ID("review-queue").Style("margin-top", "1rem").Body(
		app.H2().Text(fmt.Sprintf("Review queue (%d flags)", len(open))),
		app.P().Class("muted").Text("Flagged answers waiting for a lead's verdict. An accepted flag makes the answer lose every comparison it is in; a rejected one restores the raters' choices; an edit records a corrected answer."),
		either(len(rows) == 0, func() app.UI { return app.P().Class("muted").Text("Nothing to review.") }, func() app.UI {
			return app.Table().Body(
				app.THead().Body(app.Tr().Body(app.Th().Text("prompt"), app.Th().Text("answer"), app.Th().Text("flag"), app.Th().Text("rater"), app.Th().Text("verdict"))),
				app.TBody().Body(rows...),
			)
		}),
	)
}

func (p *qualityPage) review(ctx app.Context, target, verdict, text string) {
	j := feedback.Judgment{ID: "w-" + randomID(), Kind: feedback.KindReview, Target: target, Verdict: verdict,
		Text: strings.TrimSpace(text), Time: time.Now().UnixMilli()}
	rater := wb.localRater()
	j.Rater = rater.ID
	p.editing = ""
	ctx.Async(func() {
		err := wb.Record(j, rater)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.errMsg = err.Error()
			}
		})
	})
}
