package app

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Our own small chart components: SVG drawn from numbers, with readable axes (ticks,
// labels with units), a legend, and a text alternative (the SVG's aria-label states
// each series' range and last value; the page's caption states the findings).
// Charts are one raw SVG node each: a redraw replaces one node instead of diffing
// hundreds, which keeps the page responsive while curves update live. Colours come from the CSS theme (classes s1…s4), so
// charts follow light and dark mode.

// series is one line or set of points of a chart.
type series struct {
	Name   string
	X, Y   []float64
	Class  string // s1…s4: the theme colour
	Dashed bool
	Points bool // draw markers (scatter) instead of a line
}

// mark is a labeled point on a chart (a peak, the current setting).
type mark struct {
	X, Y  float64
	Label string
	Class string // s1…s4
	Line  bool   // also draw a vertical line through it
}

// chartSpec describes a chart.
type chartSpec struct {
	ID     string
	Title  string
	XLabel string // with unit, e.g. "√KL (nats^½)"
	YLabel string
	Series []series
	// Optional fixed ranges (NaN = from the data).
	XMin, XMax, YMin, YMax float64
	Diagonal               bool   // draw y = x (reliability diagrams)
	Caption                string // what the chart shows, in words
	Height                 int    // viewBox height; default 260
	Width                  int    // viewBox width; default 560 (a chart spanning a wide card: 960)
	Marks                  []mark
}

func newChart(id, title, xlabel, ylabel string) chartSpec {
	return chartSpec{ID: id, Title: title, XLabel: xlabel, YLabel: ylabel,
		XMin: math.NaN(), XMax: math.NaN(), YMin: math.NaN(), YMax: math.NaN()}
}

const (
	defaultChartW = 560
	wideChartW    = 960
	padL          = 56
	padR          = 16
	padT          = 28
	padB          = 44
	maxDraw       = 400 // points per line drawn; longer series are thinned
)

// render draws the chart as a figure: SVG, legend, caption and data table. A series
// without one finite value (a gold curve on data that has no gold) is left out
// entirely: no legend entry, no line, no words in the text alternative.
func (c chartSpec) render() app.UI {
	c.Series = knownSeries(c.Series)
	h := c.Height
	if h == 0 {
		h = 260
	}
	svg := c.svg(h)
	var legend []app.UI
	for _, s := range c.Series {
		if s.Name == "" {
			continue
		}
		legend = append(legend, app.Span().Body(app.I().Style("background", "var(--chart-"+strings.TrimPrefix(s.Class, "s")+")").Aria("hidden", true), app.Text(s.Name)))
	}
	return app.Figure().ID(c.ID).Class("chart-figure").Body(
		app.Raw(svg),
		app.If(len(legend) > 1, app.Div().Class("legend").Body(legend...)),
		app.If(c.Caption != "", app.FigCaption().Text(c.Caption)),
	)
}

// knownSeries returns the series that hold at least one finite value.
func knownSeries(ss []series) []series {
	var out []series
	for _, s := range ss {
		for _, y := range s.Y {
			if finiteF(y) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// summary is the text alternative: what the chart holds, in one sentence.
func (c chartSpec) summary() string {
	var parts []string
	for _, s := range c.Series {
		n := len(s.Y)
		if n == 0 {
			continue
		}
		lo, hi := minMax(s.Y)
		last := s.Y[n-1]
		for k := n - 1; k >= 0 && !finiteF(last); k-- {
			last = s.Y[k]
		}
		parts = append(parts, fmt.Sprintf("%s: %d points from %s to %s, last %s", s.Name, n, fmtNum(lo, 3), fmtNum(hi, 3), fmtNum(last, 3)))
	}
	return fmt.Sprintf("%s. %s against %s. %s.", c.Title, c.YLabel, c.XLabel, strings.Join(parts, "; "))
}

func (c chartSpec) svg(h int) string {
	var b strings.Builder
	chartW := c.Width
	if chartW == 0 {
		chartW = defaultChartW
	}
	xmin, xmax, ymin, ymax := c.ranges()
	xt := ticks(xmin, xmax, 6)
	yt := ticks(ymin, ymax, 5)
	if len(xt) > 1 {
		xmin, xmax = math.Min(xmin, xt[0]), math.Max(xmax, xt[len(xt)-1])
	}
	if len(yt) > 1 {
		ymin, ymax = math.Min(ymin, yt[0]), math.Max(ymax, yt[len(yt)-1])
	}
	pw, ph := float64(chartW-padL-padR), float64(h-padT-padB)
	sx := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*pw }
	sy := func(y float64) float64 { return float64(padT) + (1-(y-ymin)/(ymax-ymin))*ph }
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" data-ymin="%s" data-ymax="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, h, html.EscapeString(c.summary()), strconv.FormatFloat(ymin, 'g', 6, 64), strconv.FormatFloat(ymax, 'g', 6, 64))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="16">%s</text>`, padL, html.EscapeString(c.Title))
	b.WriteString(`<g class="grid">`)
	for _, y := range yt {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, sy(y), sy(y))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, sy(ymin), sy(ymin))
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%.1f"/>`, padL, padL, padT, sy(ymin))
	for _, x := range xt {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, sx(x), sy(ymin)+15, tickLabel(x, xt))
	}
	for _, y := range yt {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, padL-6, sy(y), tickLabel(y, yt))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, padL+pw/2, h-6, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(12 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, float64(padT)+ph/2, html.EscapeString(c.YLabel))
	if c.Diagonal {
		lo, hi := math.Max(xmin, ymin), math.Min(xmax, ymax)
		fmt.Fprintf(&b, `<line class="axis dash" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, sx(lo), sy(lo), sx(hi), sy(hi))
	}
	for _, s := range c.Series {
		cls := s.Class
		if cls == "" {
			cls = "s1"
		}
		if s.Points {
			fmt.Fprintf(&b, `<g class="%s" fill-opacity=".55" stroke="none">`, cls)
			for i := range s.Y {
				if i >= len(s.X) || !finiteF(s.X[i]) || !finiteF(s.Y[i]) {
					continue
				}
				b.WriteString(`<circle cx="`)
				writeF1(&b, sx(s.X[i]))
				b.WriteString(`" cy="`)
				writeF1(&b, sy(s.Y[i]))
				b.WriteString(`" r="3"/>`)
			}
			b.WriteString(`</g>`)
			continue
		}
		step := 1
		if len(s.Y) > maxDraw {
			step = (len(s.Y) + maxDraw - 1) / maxDraw
		}
		var d strings.Builder
		pen := false
		for i := 0; i < len(s.Y); i += step {
			if i >= len(s.X) || !finiteF(s.X[i]) || !finiteF(s.Y[i]) {
				pen = false
				continue
			}
			op := "L"
			if !pen {
				op = "M"
				pen = true
			}
			d.WriteString(op)
			writeF1(&d, sx(s.X[i]))
			d.WriteByte(' ')
			writeF1(&d, sy(s.Y[i]))
		}
		dash := ""
		if s.Dashed {
			dash = " dash"
		}
		fmt.Fprintf(&b, `<path class="line %s%s" d="%s"/>`, cls, dash, d.String())
		if n := len(s.Y); n > 0 && n <= len(s.X) && finiteF(s.Y[n-1]) && n < 30 {
			for i := range s.Y {
				if finiteF(s.X[i]) && finiteF(s.Y[i]) {
					b.WriteString(`<circle class="` + cls + `" cx="`)
					writeF1(&b, sx(s.X[i]))
					b.WriteString(`" cy="`)
					writeF1(&b, sy(s.Y[i]))
					b.WriteString(`" r="3"/>`)
				}
			}
		}
	}
	for _, m := range c.Marks {
		if !finiteF(m.X) || !finiteF(m.Y) {
			continue
		}
		cls := m.Class
		if cls == "" {
			cls = "s2"
		}
		x, y := sx(m.X), sy(m.Y)
		if m.Line {
			fmt.Fprintf(&b, `<line class="axis dash" x1="%.1f" x2="%.1f" y1="%d" y2="%.1f"/>`, x, x, padT, sy(ymin))
		}
		fmt.Fprintf(&b, `<g class="mark %s"><circle cx="%.1f" cy="%.1f" r="5.5" fill-opacity=".25" stroke-width="2"/>`, cls, x, y)
		anchor := "middle"
		switch {
		case x > float64(chartW)-120:
			anchor = "end"
		case x < padL+60:
			anchor = "start"
		}
		ly := y - 10
		if ly < float64(padT)+4 {
			ly = y + 18
		}
		fmt.Fprintf(&b, `<text class="mark-label" x="%.1f" y="%.1f" text-anchor="%s">%s</text></g>`, x, ly, anchor, html.EscapeString(m.Label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// shareY gives charts one y scale: the range of all their series and marks.
func shareY(cs ...*chartSpec) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cs {
		_, _, a, b := c.ranges()
		lo, hi = math.Min(lo, a), math.Max(hi, b)
	}
	for _, c := range cs {
		c.YMin, c.YMax = lo, hi
	}
}

// writeF1 writes x with one decimal, as %.1f does (ties may round the other way):
// a chart's coordinates. fmt's %.1f goes through strconv's multiprecision path for
// fixed decimals, which made drawing a chart of a few hundred points take 15–20 ms
// in the browser; this takes well under 1 ms.
func writeF1(b *strings.Builder, x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 1e15 {
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		return
	}
	v := int64(math.Round(x * 10))
	if v < 0 {
		b.WriteByte('-')
		v = -v
	}
	var buf [24]byte
	out := strconv.AppendInt(buf[:0], v/10, 10)
	out = append(out, '.', byte('0'+v%10))
	b.Write(out)
}

func (c chartSpec) ranges() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for i := range s.Y {
			if i >= len(s.X) || !finiteF(s.X[i]) || !finiteF(s.Y[i]) {
				continue
			}
			xmin, xmax = math.Min(xmin, s.X[i]), math.Max(xmax, s.X[i])
			ymin, ymax = math.Min(ymin, s.Y[i]), math.Max(ymax, s.Y[i])
		}
	}
	if !math.IsNaN(c.XMin) {
		xmin = c.XMin
	}
	if !math.IsNaN(c.XMax) {
		xmax = c.XMax
	}
	if !math.IsNaN(c.YMin) {
		ymin = c.YMin
	}
	if !math.IsNaN(c.YMax) {
		ymax = c.YMax
	}
	if math.IsInf(xmin, 0) || math.IsInf(xmax, 0) {
		xmin, xmax = 0, 1
	}
	if math.IsInf(ymin, 0) || math.IsInf(ymax, 0) {
		ymin, ymax = 0, 1
	}
	if xmax-xmin < 1e-12 {
		xmin, xmax = xmin-0.5, xmax+0.5
	}
	if ymax-ymin < 1e-12 {
		ymin, ymax = ymin-0.5, ymax+0.5
	}
	return xmin, xmax, ymin, ymax
}

// ticks returns about n round tick values covering [lo, hi] (Heckbert's nice
// numbers, Graphics Gems 1990).
func ticks(lo, hi float64, n int) []float64 {
	span := nice(hi-lo, false)
	step := nice(span/float64(n-1), true)
	start := math.Floor(lo/step) * step
	end := math.Ceil(hi/step) * step
	// Round to the step's decimals so that 3×0.2 is 0.6, not 0.6000000000000001.
	scale := math.Pow(10, math.Max(0, -math.Floor(math.Log10(step))))
	var out []float64
	for k := 0; start+float64(k)*step <= end+step/2; k++ {
		out = append(out, math.Round((start+float64(k)*step)*scale)/scale)
	}
	return out
}

func nice(x float64, round bool) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	e := math.Floor(math.Log10(x))
	f := x / math.Pow(10, e)
	var nf float64
	switch {
	case round && f < 1.5:
		nf = 1
	case round && f < 3:
		nf = 2
	case round && f < 7:
		nf = 5
	case round:
		nf = 10
	case f <= 1:
		nf = 1
	case f <= 2:
		nf = 2
	case f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, e)
}

// tickLabel formats a tick with the digits its spacing needs.
func tickLabel(v float64, ts []float64) string {
	digits := 0
	if len(ts) > 1 {
		step := math.Abs(ts[1] - ts[0])
		if step > 0 && step < 1 {
			digits = int(math.Ceil(-math.Log10(step) - 1e-9))
		}
	}
	if math.Abs(v) >= 10000 {
		return fmt.Sprintf("%.0fk", v/1000)
	}
	return fmtNum(v, digits)
}

func finiteF(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if finiteF(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi
}

// seq returns 1…n as floats (an x axis of steps or epochs).
func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

// sqrtAll returns √x of each value.
func sqrtAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Sqrt(math.Max(x, 0))
	}
	return out
}
