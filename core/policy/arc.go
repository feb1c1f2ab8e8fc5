package policy

import (
	"math"

	"prefer/core/snapshot"
)

// GoldArc is how far optimization carried the gold (true) reward and how much of it
// was given back: where gold started, how high it peaked and where it ended, next to
// the proxy's start and end. These are the first figures of over-optimization (Gao,
// Schulman & Hilton 2022) — the proxy keeps rising while gold rises, peaks and falls
// — read from a run's steps or a sweep's points without smoothing, so they are the
// numbers its chart shows.
type GoldArc struct {
	ProxyStart, ProxyEnd         float64
	GoldStart, GoldPeak, GoldEnd float64
	Peak                         int // index of the gold peak among the points (the first of equal maxima)
	N                            int // points
}

// ArcOf returns the arc of a proxy and a gold series of equal length, and false when
// they are empty, of different lengths, or any gold value is not finite (no gold
// utility: nothing to say).
func ArcOf(proxy, gold []float64) (GoldArc, bool) {
	n := len(gold)
	if n == 0 || len(proxy) != n {
		return GoldArc{}, false
	}
	a := GoldArc{ProxyStart: proxy[0], ProxyEnd: proxy[n-1], GoldStart: gold[0], GoldEnd: gold[n-1], GoldPeak: gold[0], N: n}
	for i, g := range gold {
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return GoldArc{}, false
		}
		if g > a.GoldPeak {
			a.GoldPeak, a.Peak = g, i
		}
	}
	return a, true
}

// Gained is how much gold rose from the start to the peak (≥ 0).
func (a GoldArc) Gained() float64 { return a.GoldPeak - a.GoldStart }

// GaveBack is the fraction of the gain lost by the end, (peak − end)/(peak − start):
// 0 when gold held its peak, 1 when it fell back to where it started, more when it
// ended below; 0 when gold never rose.
//
//	gave back = (g_peak − g_end) / (g_peak − g_0)
func (a GoldArc) GaveBack() float64 {
	if a.Gained() <= 0 {
		return 0
	}
	return (a.GoldPeak - a.GoldEnd) / a.Gained()
}

// ProxyRose reports whether the proxy never fell by more than tol from its running
// maximum: it "kept rising" (an optimizer's proxy may wobble by sampling noise).
func ProxyRose(proxy []float64, tol float64) bool {
	best := math.Inf(-1)
	for _, p := range proxy {
		if p < best-tol {
			return false
		}
		best = math.Max(best, p)
	}
	return true
}

// referenceStats returns the reference policy's expected proxy and gold reward, mean
// over prompts, when the recorded policy is Exact (the candidate policy): where a run
// started, before its first step (the series hold the values after each step).
func (r *recorder) referenceStats() (proxy, gold float64, ok bool) {
	if r.exact == nil {
		return 0, 0, false
	}
	items := r.sc.items
	for p := range items {
		k := len(items[p].Responses)
		ref := r.exact.RefProbs(r.ref[:k], p)
		prox, gd := r.sc.proxy.Row(p), r.sc.gold.Row(p)
		for j, q := range ref {
			proxy += float64(q * prox[j])
			gold += float64(q * gd[j])
		}
	}
	n := float64(len(items))
	return proxy / n, gold / n, true
}

// RunArc returns the arc of an optimization run: its proxy and gold series (values
// after each step), preceded by the reference policy's values when the run recorded
// them (Summary proxy_ref and gold_ref, as runs of the candidate policy do), so that
// GoldStart is where the policy started and Peak is the step of the peak (0: the
// reference was never beaten).
func RunArc(r *snapshot.Run) (GoldArc, bool) {
	proxy, gold := r.Series[SeriesReward], r.Series[SeriesGold]
	pr, okp := r.Summary["proxy_ref"]
	gr, okg := r.Summary["gold_ref"]
	if okp && okg {
		proxy = append([]float64{pr}, proxy...)
		gold = append([]float64{gr}, gold...)
	}
	a, ok := ArcOf(proxy, gold)
	if ok && !(okp && okg) {
		a.Peak++ // the first point is step 1
	}
	return a, ok
}

// runArc adds the arc of a run to its summary: proxy_ref and gold_ref (the reference
// policy's, when exact), gold_start, gold_peak, gold_peak_step (see RunArc) and
// gold_gave_back. Nothing is added without gold.
func runArc(r *snapshot.Run, rec *recorder) {
	if pr, gr, ok := rec.referenceStats(); ok && finite(pr) && finite(gr) {
		r.Summary["proxy_ref"], r.Summary["gold_ref"] = pr, gr
	}
	a, ok := RunArc(r)
	if !ok {
		return
	}
	r.Summary["gold_start"] = a.GoldStart
	r.Summary["gold_peak"] = a.GoldPeak
	r.Summary["gold_peak_step"] = float64(a.Peak)
	r.Summary["gold_gave_back"] = a.GaveBack()
}

// sweepArc adds the arc of a sweep's points to its summary: gold_start (the first
// point's), gold_peak_point (1-based) and gold_gave_back.
func sweepArc(sum map[string]float64, proxy, gold []float64) {
	a, ok := ArcOf(proxy, gold)
	if !ok {
		return
	}
	sum["gold_start"] = a.GoldStart
	sum["gold_peak_point"] = float64(a.Peak + 1)
	sum["gold_gave_back"] = a.GaveBack()
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
