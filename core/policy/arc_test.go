package policy

import (
	"math"
	"testing"

	"prefer/core/snapshot"
)

func TestArcOf(t *testing.T) {
	tests := []struct {
		name         string
		proxy, gold  []float64
		ok           bool
		peak         int
		gained, back float64 // expected by hand from the numbers
	}{
		// Gold 0 → 1 → 0.25: gained 1, gave back 0.75 of it.
		{"peak and fall", []float64{0, 1, 2}, []float64{0, 1, 0.25}, true, 1, 1, 0.75},
		// Ends below where it started: gave back more than all of it.
		{"below start", []float64{0, 1, 2, 3}, []float64{0.5, 1, 0, 0}, true, 1, 0.5, 2},
		// Never rises: nothing gained, nothing given back.
		{"falls from the start", []float64{0, 1}, []float64{1, 0}, true, 0, 0, 0},
		// Equal maxima: the first one is the peak.
		{"plateau", []float64{0, 1, 2}, []float64{0, 1, 1}, true, 1, 1, 0},
		{"no gold", []float64{0, 1}, []float64{math.NaN(), math.NaN()}, false, 0, 0, 0},
		{"empty", nil, nil, false, 0, 0, 0},
		{"lengths differ", []float64{0}, []float64{0, 1}, false, 0, 0, 0},
	}
	for _, tc := range tests {
		a, ok := ArcOf(tc.proxy, tc.gold)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if a.Peak != tc.peak || math.Abs(a.Gained()-tc.gained) > 1e-12 || math.Abs(a.GaveBack()-tc.back) > 1e-12 {
			t.Errorf("%s: peak %d gained %v gave back %v, want %d %v %v", tc.name, a.Peak, a.Gained(), a.GaveBack(), tc.peak, tc.gained, tc.back)
		}
		if a.ProxyStart != tc.proxy[0] || a.ProxyEnd != tc.proxy[len(tc.proxy)-1] || a.N != len(tc.gold) {
			t.Errorf("%s: %+v", tc.name, a)
		}
	}
}

func TestProxyRose(t *testing.T) {
	if !ProxyRose([]float64{0, 1, 0.995, 2}, 0.01) {
		t.Error("a wobble within the tolerance counts as a fall")
	}
	if ProxyRose([]float64{0, 1, 0.9, 2}, 0.01) {
		t.Error("a fall of 0.1 counts as rising")
	}
}

// TestRunArc: with the reference policy's values recorded, point 0 is the reference
// and the peak's index is its step; without, the first point is step 1.
func TestRunArc(t *testing.T) {
	r := &snapshot.Run{Series: map[string][]float64{SeriesReward: {1, 2, 3}, SeriesGold: {0.5, 1, 0.2}},
		Summary: map[string]float64{"proxy_ref": 0, "gold_ref": 0}}
	a, ok := RunArc(r)
	if !ok || a.Peak != 2 || a.GoldStart != 0 || a.ProxyStart != 0 || a.GaveBack() != 0.8 {
		t.Errorf("with the reference: %+v, gave back %v; want peak at step 2, start 0, gave back 0.8", a, a.GaveBack())
	}
	delete(r.Summary, "gold_ref")
	a, ok = RunArc(r)
	if !ok || a.Peak != 2 || a.GoldStart != 0.5 {
		t.Errorf("without: %+v; want peak at step 2, start 0.5", a)
	}
}
