package app

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	lessonlib "prefer/core/lesson"
)

// playgroundPage is the lesson's playground, in the spirit of TensorFlow Playground:
// one screen whose controls are the panel of simulated raters and β. The worker
// builds the panel's landscape once (simulated judgments, the lesson's reward model,
// every candidate scored: core/lesson.Landscape); moving the β slider then computes
// the exact optimum π* ∝ π_ref·exp(r/β) on the page (a softmax per prompt, well
// under a millisecond), so the curve's marked point, the policy's answers and their
// part mix follow the slider with no button and no wait. The state is in the URL
// (?panel=crowd&beta=0.02): a link reproduces the screen.
type playgroundPage struct {
	pageBase

	panel  int     // index into lesson.Panels
	b      float64 // β: from the link, a preset button or the slider (3 significant digits)
	errMsg string  // the last landscape job's error
	asked  string  // the panel spec whose landscape was last asked for
	land   *pgLand // the current panel's landscape, nil while it is built
	urlDue bool    // the address is to be updated (the slider moved)
}

// pgLand is a landscape and what the page derives from it once.
type pgLand struct {
	l        *lessonlib.Landscape
	curve    []lessonlib.Point
	ref      lessonlib.Point // the reference policy (β → ∞)
	peak     int             // index of the curve's gold peak
	showcase []int           // the prompts whose answers are shown
}

// pgCache keeps the landscapes built in this tab, by panel spec: going back to a
// panel is instant.
var pgCache = map[string]*pgLand{}

const sliderMax = 1000

func (p *playgroundPage) OnMount(ctx app.Context) {
	q := app.Window().URL().Query()
	p.panel = 0
	for i, lp := range lessonlib.Panels {
		if lp.ID == q.Get("panel") {
			p.panel = i
		}
	}
	p.b = lessonlib.BetaSmall
	if b, err := strconv.ParseFloat(q.Get("beta"), 64); err == nil && b > 0 && !math.IsInf(b, 0) {
		p.b = round3(min(max(b, lessonlib.MinBeta), lessonlib.MaxBeta))
	}
	p.mount(ctx)
	p.load(ctx)
}

func (p *playgroundPage) OnDismount() { p.dismount() }

// posToBeta maps the slider to β, evenly in log β from MaxBeta (left) to MinBeta.
func posToBeta(pos int) float64 {
	lo, hi := math.Log(lessonlib.MinBeta), math.Log(lessonlib.MaxBeta)
	return math.Exp(hi + (lo-hi)*float64(pos)/sliderMax)
}

func betaToPos(beta float64) int {
	lo, hi := math.Log(lessonlib.MinBeta), math.Log(lessonlib.MaxBeta)
	pos := int(math.Round((math.Log(beta) - hi) / (lo - hi) * sliderMax))
	return min(max(pos, 0), sliderMax)
}

// round3 rounds β to 3 significant digits: what the page and the link show, so a
// link gives exactly the screen it was copied from.
func round3(b float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(b, 'g', 3, 64), 64)
	return r
}

func (p *playgroundPage) beta() float64 { return p.b }

// load shows the current panel's landscape, asking the worker for it when this
// tab has not built it yet.
func (p *playgroundPage) load(ctx app.Context) {
	spec := lessonlib.Panels[p.panel].Spec
	if l := pgCache[spec]; l != nil {
		p.land, p.errMsg = l, ""
		return
	}
	p.land, p.errMsg, p.asked = nil, "", spec
	ctx.Async(func() {
		res, err := wb.Run("Playground: "+lessonlib.Panels[p.panel].Title, jobs.Request{Kind: jobs.KindLandscape, Landscape: &jobs.LandscapeParams{Panel: spec}}, nil)
		var land *pgLand
		if err == nil {
			var l *lessonlib.Landscape
			if l, err = lessonlib.UnmarshalLandscape(res.File); err == nil {
				land = newPGLand(l)
			}
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				if err != ErrCanceled {
					p.errMsg = err.Error()
				}
				return
			}
			pgCache[spec] = land
			if p.asked == spec {
				p.land = land
			}
		})
	})
}

func newPGLand(l *lessonlib.Landscape) *pgLand {
	g := &pgLand{l: l, curve: l.Curve(lessonlib.CurveBetas()), ref: l.At(math.Inf(1)), showcase: l.Showcase(4)}
	for i, pt := range g.curve {
		if pt.Gold > g.curve[g.peak].Gold {
			g.peak = i
		}
	}
	return g
}

// syncURL writes the panel and β into the address, so the link reproduces the screen.
func (p *playgroundPage) syncURL() {
	u := app.Window().URL()
	q := url.Values{}
	q.Set("panel", lessonlib.Panels[p.panel].ID)
	q.Set("beta", strconv.FormatFloat(p.beta(), 'g', 3, 64))
	u.RawQuery = q.Encode()
	app.Window().Get("history").Call("replaceState", nil, "", u.String())
}

func (p *playgroundPage) setPanel(ctx app.Context, i int) {
	if i == p.panel && p.land != nil {
		return
	}
	p.panel = i
	p.syncURL()
	p.load(ctx)
}

// slide follows the slider: β at once (one render per input event), the address
// 300 ms after the last move (browsers throttle history updates).
func (p *playgroundPage) slide(ctx app.Context, pos int) {
	p.setBeta(posToBeta(min(max(pos, 0), sliderMax)), false)
	if !p.urlDue {
		p.urlDue = true
		ctx.After(300*time.Millisecond, func(app.Context) {
			p.urlDue = false
			p.syncURL()
		})
	}
}

func (p *playgroundPage) setBeta(b float64, final bool) {
	p.b = round3(b)
	if final {
		p.syncURL()
	}
}

func (p *playgroundPage) Render() app.UI {
	busy := wb.view().Job
	key := fmt.Sprintf("%d|%p|%s|%v", p.panel, p.land, p.errMsg, busy != nil && !busy.Done)
	return frame(PathPlayground,
		app.Div().Class("page-head").Body(
			app.Div().Body(
				app.H1().Text("Playground: the price of drifting"),
				app.P().Text("Choose who gave the feedback, then move β. The policy shown is the best one for the reward model at that β — π* ∝ π_ref·exp(r/β), exact and instant — so you see where optimizing a learned reward leads: the proxy (what the reward model says) keeps rising as β falls, the gold reward (the true quality) does not."),
			),
			app.A().Class("btn").Href(appPath(PathLesson)).Text("← Back to the lesson"),
		),
		&pgView{Key: key, page: p},
	)
}

// pgView is the playground's screen below its title: the controls and what follows
// them. It is a component of its own so that a move of the slider re-renders it
// alone (go-app updates the component whose element fired), not the page's frame.
type pgView struct {
	app.Compo
	Key  string // what the page changed (panel, landscape, error, a job running)
	page *playgroundPage
}

func (v *pgView) Render() app.UI {
	p := v.page
	if p == nil {
		return app.Div()
	}
	lp := lessonlib.Panels[p.panel]
	busy := strings.HasSuffix(v.Key, "true")
	beta := p.beta()
	return app.Div().Class("pg-layout").Body(
		app.Section().Class("panel stack pg-controls").Aria("label", "Controls").Body(
			app.H2().Text("Raters"),
			app.Div().Class("stack").Role("radiogroup").Aria("label", "Panel of simulated raters").Body(
				app.Range(lessonlib.Panels).Slice(func(i int) app.UI {
					return app.Button().Class(selectedClass(p.panel == i)+" pg-panel").ID("pg-panel-"+lessonlib.Panels[i].ID).Role("radio").Aria("checked", p.panel == i).
						Disabled(busy).Text(lessonlib.Panels[i].Title).
						OnClick(func(ctx app.Context, e app.Event) { p.setPanel(ctx, i) }, i)
				}),
			),
			app.P().Class("muted").Text(lp.About),
			app.H2().Body(app.Label().For("pg-beta").Text("KL penalty β")),
			app.Div().Class("pg-beta-value").ID("pg-beta-value").DataSet("beta", beta).Text("β = "+strconv.FormatFloat(beta, 'g', 3, 64)),
			app.Input().Type("range").ID("pg-beta").Min(0).Max(sliderMax).Step(1).Value(betaToPos(p.b)).
				Aria("valuetext", "β = "+strconv.FormatFloat(beta, 'g', 3, 64)).
				OnInput(func(ctx app.Context, e app.Event) { p.slide(ctx, ctx.JSSrc().Get("valueAsNumber").Int()) }),
			app.Div().Class("row between muted pg-scale").Body(app.Span().Text("large β: tight leash"), app.Span().Text("small β: no leash")),
			app.Div().Class("row").Body(
				app.Button().ID("pg-small").Text(fmt.Sprintf("β = %g", lessonlib.BetaSmall)).OnClick(func(ctx app.Context, e app.Event) { p.setBeta(lessonlib.BetaSmall, true) }),
				app.Button().ID("pg-large").Text(fmt.Sprintf("β = %g", lessonlib.BetaLarge)).OnClick(func(ctx app.Context, e app.Event) { p.setBeta(lessonlib.BetaLarge, true) }),
			),
			app.P().Class("muted").Text(lp.Story),
		),
		p.renderResults(beta),
	)
}

// renderResults is everything that follows the slider: figures, the curve with the
// current point, the part mix and the answers.
func (p *playgroundPage) renderResults(beta float64) app.UI {
	g := p.land
	if g == nil {
		msg := "Simulating the raters’ judgments and training the reward model in the background (about a second)…"
		if p.errMsg != "" {
			return app.Div().Class("notice bad").Role("alert").ID("pg-error").Text("The playground could not be built: " + p.errMsg)
		}
		return app.Div().Class("panel").ID("pg-loading").Body(app.P().Class("muted").Text(msg))
	}
	pt := g.l.At(beta)
	peak := g.curve[g.peak]
	ch := newChart("pg-chart", "Proxy and gold reward of the best policy, against its distance from the reference", "√KL(π* ‖ π_ref)  (√nats)", "expected reward")
	x := make([]float64, len(g.curve))
	proxy, gold := make([]float64, len(g.curve)), make([]float64, len(g.curve))
	for i, c := range g.curve {
		x[i], proxy[i], gold[i] = c.SqrtKL, c.Proxy, c.Gold
	}
	ch.Series = []series{{Name: "proxy (reward model)", X: x, Y: proxy, Class: "s1"}, {Name: "gold (true quality)", X: x, Y: gold, Class: "s2"}}
	ch.Marks = []mark{
		{X: peak.SqrtKL, Y: peak.Gold, Class: "s3", Label: fmt.Sprintf("gold peak %s (β ≈ %s)", dec2(peak.Gold), strconv.FormatFloat(peak.Beta, 'g', 2, 64))},
		{X: pt.SqrtKL, Y: pt.Proxy, Class: "s1", Label: "proxy " + dec2(pt.Proxy), Line: true},
		{X: pt.SqrtKL, Y: pt.Gold, Class: "s2", Label: "gold " + dec2(pt.Gold)},
	}
	ch.Width, ch.Height = wideChartW, 320
	verdict := "Gold is near its best here."
	switch {
	case pt.Gold < g.ref.Gold:
		verdict = "Gold is below the pretrained model's: optimizing this reward made the answers worse than no optimization at all."
	case peak.Gold-pt.Gold > 0.5*(peak.Gold-g.ref.Gold) && pt.SqrtKL > peak.SqrtKL:
		verdict = "Past the peak: the policy has given back most of what optimization gained. The proxy still says it improved."
	case pt.SqrtKL > peak.SqrtKL && peak.Gold-pt.Gold > 0.05:
		verdict = "Past the peak: gold is falling while the proxy rises — reward hacking."
	case pt.SqrtKL < peak.SqrtKL && peak.Gold-pt.Gold > 0.05:
		verdict = "Before the peak: a smaller β would still help."
	}
	return app.Div().Class("stack pg-results").ID("pg-results").DataSet("beta", beta).DataSet("sqrtkl", strconv.FormatFloat(pt.SqrtKL, 'f', 3, 64)).DataSet("gold", strconv.FormatFloat(pt.Gold, 'f', 3, 64)).Body(
		app.Raw(pgStats(pt, g.ref)),
		app.Div().Class("panel").Body(ch.render(), app.P().Class("muted").ID("pg-verdict").Text(verdict)),
		app.Div().Class("grid grid-2 pg-lower").Body(
			app.Section().Class("panel stack").Aria("label", "What the answers are made of").Body(
				app.H2().Text("What the policy's answers are made of"),
				app.Raw(pgMix(pt.Mix, g.ref.Mix)),
			),
			app.Section().Class("panel stack").Aria("label", "The policy's answers").Body(
				app.H2().Text("Its most likely answers"),
				app.Raw(pgAnswers(g, beta)),
			),
		),
	)
}

// pgStats writes the headline figures at the current β against the reference.
func pgStats(pt, ref lessonlib.Point) string {
	var b htm
	b.raw(`<div class="grid grid-4" id="pg-stats">`)
	for _, s := range [][3]string{
		{"Proxy reward", dec2(pt.Proxy), "reference " + dec2(ref.Proxy)},
		{"Gold reward", dec2(pt.Gold), "reference " + dec2(ref.Gold)},
		{"√KL from the reference", dec2(pt.SqrtKL), "KL " + dec2(pt.KL) + " nats"},
		{"Right answers", pct0(pt.Mix.Correct), "reference " + pct0(ref.Mix.Correct)},
	} {
		b.raw(`<div class="stat"><div class="label">`, s[0], `</div><div class="value">`, s[1], `</div><div class="note">`, s[2], `</div></div>`)
	}
	b.raw(`</div>`)
	return b.String()
}

// pgMix draws the part mix as bars, with the reference's share as a tick.
func pgMix(m, ref lessonlib.Mix) string {
	var b htm
	b.raw(`<div class="pg-mix" id="pg-mix">`)
	for _, r := range []struct {
		name, cls string
		v, ref    float64
	}{
		{"polite phrasing", "warn", m.Polite, ref.Polite},
		{"padded with filler", "bad", m.Filler, ref.Filler},
		{"refusals", "bad", m.Refusal, ref.Refusal},
		{"wrong answers", "bad", m.Wrong, ref.Wrong},
		{"right answers", "good", m.Correct, ref.Correct},
	} {
		w := strconv.FormatFloat(100*r.v, 'f', 1, 64)
		rw := strconv.FormatFloat(100*r.ref, 'f', 1, 64)
		b.raw(`<div class="pg-bar"><span>`, r.name, `</span><div class="pg-track"><div class="pg-fill `, r.cls, `" style="width:`, w, `%"></div><div class="pg-ref" style="left:`, rw, `%" title="reference `, pct0(r.ref), `"></div></div><span class="num">`, pct0(r.v), `</span></div>`)
	}
	b.raw(`<p class="muted">Share of the policy's answers (probability, mean over 60 prompts); the tick is the pretrained model's share.</p></div>`)
	return b.String()
}

// pgAnswers writes the showcased prompts with the policy's most likely answer at β.
func pgAnswers(g *pgLand, beta float64) string {
	var b htm
	b.raw(`<div class="stack" id="pg-answers">`)
	var buf []float64
	for _, i := range g.showcase {
		pr := &g.l.Prompts[i]
		buf = g.l.Policy(make([]float64, len(pr.Answers)), i, beta)
		best := 0
		for k := range buf {
			if buf[k] > buf[best] {
				best = k
			}
		}
		a := pr.Answers[best]
		b.raw(`<div class="sample pg-answer" data-item="`).esc(pr.ID).raw(`"><p style="margin: 0 0 .3rem"><strong>`).esc(pr.Text).raw(`</strong></p><p>`).esc(a.Text).raw(`</p><div class="row" style="gap: .3rem">`)
		for _, t := range a.Parts {
			b.raw(`<span class="`, tagClass(t), `">`).esc(t).raw(`</span>`)
		}
		b.raw(`</div><div class="meta">p = `, dec2(buf[best]), ` · gold `, dec2(a.Gold), ` · proxy `, dec2(a.Proxy), `</div></div>`)
	}
	b.raw(`</div>`)
	return b.String()
}
