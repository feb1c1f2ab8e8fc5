package agree

import (
	"math"
)

// fatigue tabulates quality and time against session position (Judgment.Seq).
func (c *context) fatigue(t *table, rf refs) *Fatigue {
	B := c.opt.Bucket
	type bucket struct {
		qN, qOK, jN, sN int
		sSum            float64
	}
	var bs []bucket
	grow := func(b int) *bucket {
		for len(bs) <= b {
			bs = append(bs, bucket{})
		}
		return &bs[b]
	}
	var xq, yq, xs, ys []float64
	lastJ, nj := -1, 0
	for i, o := range t.obs {
		seq := c.js[o.j].Seq
		if seq < 1 {
			continue
		}
		b := grow((seq - 1) / B)
		if q := rf.quality[i]; q >= 0 {
			b.qN++
			b.qOK += int(q)
			xq = append(xq, float64(seq))
			yq = append(yq, float64(q))
		}
		// The labels of one judgment (the pairs of a ranking) are adjacent.
		if lastJ == o.j {
			continue
		}
		lastJ = o.j
		nj++
		b.jN++
		if s := c.seconds(o.j); !math.IsNaN(s) {
			b.sN++
			b.sSum += s
			xs = append(xs, float64(seq))
			ys = append(ys, s)
		}
	}
	if nj == 0 {
		return nil
	}
	f := &Fatigue{Bucket: B, Buckets: []FatigueBucket{}}
	for k, b := range bs {
		if b.jN == 0 {
			continue
		}
		fb := FatigueBucket{From: k*B + 1, To: (k + 1) * B, Quality: share(b.qOK, b.qN), QualityN: b.qN, Judgments: b.jN, Seconds: NaN}
		if b.sN > 0 {
			fb.Seconds = Float(b.sSum / float64(b.sN))
		}
		f.Buckets = append(f.Buckets, fb)
	}
	b, _, p := slope(xq, yq)
	f.QualitySlope, f.QualityP = Float(100*b), Float(p)
	b, _, p = slope(xs, ys)
	f.SecondsSlope, f.SecondsP = Float(100*b), Float(p)
	return f
}

// drift splits the table's judgments (in time order) into equal-count windows and
// reports agreement, quality and label mix in each.
func (c *context) drift(t *table, rf refs) *Drift {
	// The distinct judgments of the table, in canonical (time) order.
	var js []int
	for _, o := range t.obs {
		if len(js) == 0 || js[len(js)-1] != o.j {
			js = append(js, o.j)
		}
	}
	// obs are appended in judgment order and judgments are sorted, so js is sorted.
	if len(js) < 2 || c.js[js[0]].Time == c.js[js[len(js)-1]].Time {
		return nil
	}
	W := c.opt.Windows
	if W > len(js) {
		W = len(js)
	}
	win := make([]int, len(c.js)) // judgment → window
	for k, j := range js {
		win[j] = k * W / len(js)
	}
	K := len(t.labels)
	d := &Drift{Windows: make([]DriftWindow, W)}
	mix := make([][]float64, W)
	qN := make([]int, W)
	qOK := make([]int, W)
	latest := make([]map[[2]int]int, W) // (unit, rater) → label, within the window
	for w := range d.Windows {
		mix[w] = make([]float64, K)
		latest[w] = map[[2]int]int{}
		d.Windows[w].From = math.MaxInt64
	}
	for _, j := range js {
		w := win[j]
		dw := &d.Windows[w]
		dw.Judgments++
		tm := c.js[j].Time
		if tm < dw.From {
			dw.From = tm
		}
		if tm > dw.To {
			dw.To = tm
		}
	}
	for i, o := range t.obs {
		w := win[o.j]
		d.Windows[w].Labels++
		mix[w][o.label]++
		latest[w][[2]int{o.unit, o.rater}] = o.label
		if q := rf.quality[i]; q >= 0 {
			qN[w]++
			qOK[w] += int(q)
		}
	}
	for w := range d.Windows {
		dw := &d.Windows[w]
		dw.Quality = share(qOK[w], qN[w])
		dw.LabelMix = make([]Float, K)
		for l := range mix[w] {
			dw.LabelMix[l] = Float(mix[w][l] / float64(dw.Labels))
		}
		// Percent agreement among the latest labels inside the window.
		counts := map[int][]float64{}
		for k, l := range latest[w] {
			if counts[k[0]] == nil {
				counts[k[0]] = make([]float64, K)
			}
			counts[k[0]][l]++
		}
		rows := make([][]float64, 0, len(counts))
		for u := 0; u < len(t.units) && len(rows) < len(counts); u++ {
			if r, ok := counts[u]; ok {
				rows = append(rows, r)
			}
		}
		dw.Agreement = Float(FleissKappa(rows).P)
	}
	chi, df, p := ChiSquareTest(mix)
	d.MixChi2, d.MixDF, d.MixP = Float(chi), df, Float(p)
	if df == 0 {
		d.MixChi2 = NaN
	}
	d.Drifting = p < c.opt.Level
	for _, w := range d.Windows {
		if w.Labels < MinFlagN {
			d.Drifting = false
		}
	}
	return d
}
