package policy

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"prefer/core/snapshot"
)

// Alert is a reward-hacking finding: over a run (or a sweep ordered by KL) the
// proxy reward kept rising after the gold reward peaked and fell (Gao et al. 2022).
type Alert struct {
	Peak      int             // index of the point (step − 1, or sweep point) where gold peaked
	End       int             // index of the last point
	ProxyRise float64         // proxy[End] − proxy[Peak]
	GoldDrop  float64         // gold[Peak] − gold[End]
	Grew      []FeatureChange // features whose mean grew the most after the peak, largest first
	Message   string          // one human-readable line, also stored in Run.Notes
}

// FeatureChange is how much a response feature's mean under the policy moved.
type FeatureChange struct {
	Name   string
	Start  float64 // at the first point (≈ π_ref)
	Peak   float64 // where gold peaked
	End    float64 // at the last point
	Change float64 // (End − Peak) / spread of the feature over all candidates
}

// DetectConfig sets the detector's thresholds. The zero value is the default.
type DetectConfig struct {
	// MinDrop is the smallest gold drop, as a fraction of the gold range over the
	// series, that counts. Default 0.05.
	MinDrop float64
	// MinChange is the smallest standardized feature change reported. Default 0.05.
	MinChange float64
	// Top is the number of grown features named. Default 3.
	Top int
	// Unit names the points in the message: "step" for a run, "point" (default)
	// for a sweep.
	Unit string
}

// Detect looks for reward hacking in matched series of proxy and gold reward,
// ordered by optimization progress (steps, or sweep points by increasing KL):
// after smoothing with a moving average over ⌈n/20⌉ points, it finds the gold
// peak; if gold fell by more than MinDrop of its range from there to the end while
// the proxy rose, it returns an alert naming the features (series feats, keyed by
// name, with spread scale[name]) whose mean grew the most after the peak. Series
// with unknown (NaN) gold give no alert.
func Detect(proxy, gold []float64, feats map[string][]float64, scale map[string]float64, cfg DetectConfig) []Alert {
	if cfg.MinDrop == 0 {
		cfg.MinDrop = 0.05
	}
	if cfg.MinChange == 0 {
		cfg.MinChange = 0.05
	}
	if cfg.Top == 0 {
		cfg.Top = 3
	}
	if cfg.Unit == "" {
		cfg.Unit = "point"
	}
	n := len(gold)
	if n < 3 || len(proxy) != n {
		return nil
	}
	for i := range gold {
		if math.IsNaN(gold[i]) || math.IsNaN(proxy[i]) {
			return nil
		}
	}
	w := (n + 19) / 20
	g, pr := smooth(gold, w), smooth(proxy, w)
	peak := 0
	lo, hi := g[0], g[0]
	for i, v := range g {
		if v > g[peak] {
			peak = i
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	end := n - 1
	drop, rise := g[peak]-g[end], pr[end]-pr[peak]
	if peak == end || hi-lo <= 0 || drop < float64(cfg.MinDrop*(hi-lo)) || rise <= 0 {
		return nil
	}
	names := make([]string, 0, len(feats))
	for k := range feats {
		names = append(names, k)
	}
	sort.Strings(names)
	var grew []FeatureChange
	for _, name := range names {
		s := feats[name]
		if len(s) != n {
			continue
		}
		sm := smooth(s, w)
		sd := scale[name]
		if !(sd > 0) {
			sd = 1
		}
		c := FeatureChange{Name: name, Start: sm[0], Peak: sm[peak], End: sm[end], Change: (sm[end] - sm[peak]) / sd}
		if c.Change >= cfg.MinChange {
			grew = append(grew, c)
		}
	}
	sort.SliceStable(grew, func(a, b int) bool { return grew[a].Change > grew[b].Change })
	if len(grew) > cfg.Top {
		grew = grew[:cfg.Top]
	}
	a := Alert{Peak: peak, End: end, ProxyRise: rise, GoldDrop: drop, Grew: grew}
	var parts []string
	for _, c := range grew {
		parts = append(parts, fmt.Sprintf("%s %.3g → %.3g", c.Name, c.Peak, c.End))
	}
	a.Message = fmt.Sprintf("reward hacking: after %s %d the proxy reward rose by %.3g while the gold reward fell by %.3g", cfg.Unit, peak+1, rise, drop)
	if len(parts) > 0 {
		a.Message += "; grew: " + strings.Join(parts, ", ")
	}
	return []Alert{a}
}

// smooth returns the trailing moving average of x over w points.
func smooth(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	var s float64
	for i, v := range x {
		s += v
		if i >= w {
			s -= x[i-w]
		}
		out[i] = s / float64(min(i+1, w))
	}
	return out
}

// detectRun runs Detect on a run's "reward" and "gold" series and its feature
// series (FeaturePrefix + name).
func detectRun(r *snapshot.Run, sc *scorer) []Alert {
	return detectSeries(r.Series[SeriesReward], r.Series[SeriesGold], r.Series, sc, "step")
}

// detectSeries runs Detect with the feature series found in series, each scaled by
// its spread over the candidates. When the gold utility of every candidate is known,
// features that go with higher gold (Pearson correlation over the candidates above
// 0.2, such as a right answer) are not named: growing them is not hacking.
func detectSeries(proxy, gold []float64, series map[string][]float64, sc *scorer, unit string) []Alert {
	ft := sc.feats
	feats := map[string][]float64{}
	scale := map[string]float64{}
	for f, fe := range ft.fs {
		s, ok := series[FeaturePrefix+fe.Name]
		if !ok {
			continue
		}
		if sc.gold.Known() && correlation(ft.v[f], sc.gold.V) > 0.2 {
			continue
		}
		feats[fe.Name] = s
		scale[fe.Name] = spread(ft.v[f])
	}
	return Detect(proxy, gold, feats, scale, DetectConfig{Unit: unit})
}

// correlation returns Pearson's r of x and y, 0 when either is constant.
func correlation(x, y []float64) float64 {
	n := float64(len(x))
	if len(x) == 0 || len(y) != len(x) {
		return 0
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += float64(dx * dy)
		sxx += float64(dx * dx)
		syy += float64(dy * dy)
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(float64(sxx*syy))
}

// spread returns the standard deviation of x (population), or 1 when it is 0.
func spread(x []float64) float64 {
	if len(x) == 0 {
		return 1
	}
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += float64((v - m) * (v - m))
	}
	sd := math.Sqrt(ss / float64(len(x)))
	if sd == 0 {
		return 1
	}
	return sd
}
