package lm

import (
	"math"
	"testing"
)

// ulp32 returns |a − b| in units of the last place of float32 at b.
func ulp32(a, b float32) float64 {
	u := math.Nextafter32(b, float32(math.Inf(1))) - b
	return math.Abs(float64(a-b)) / float64(u)
}

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x < 88.5; x += 0.0137 {
		want := float32(math.Exp(float64(x))) // correctly rounded to 1 ulp by math.Exp
		if u := ulp32(exp32(x), want); u > worst {
			worst = u
		}
	}
	if worst > 3 {
		t.Errorf("exp32 worst error %.2f ulp, want ≤ 3", worst)
	}
	cases := []struct{ x, want float32 }{
		{0, 1}, {-100, 0}, {float32(math.Inf(-1)), 0}, {89, float32(math.Inf(1))},
	}
	for _, c := range cases {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

func TestTanh32(t *testing.T) {
	for x := float32(-12); x < 12; x += 0.0071 {
		if d := math.Abs(float64(tanh32(x)) - math.Tanh(float64(x))); d > 3e-7 {
			t.Fatalf("tanh32(%v) off by %g", x, d)
		}
	}
}

// TestExpSliceBlocks checks that the four-at-a-time path of expSlice gives exactly
// the one-at-a-time results, including blocks with special values.
func TestExpSliceBlocks(t *testing.T) {
	var xs []float32
	for x := float32(-90); x < 90; x += 0.0173 {
		xs = append(xs, x)
	}
	nan := float32(math.NaN())
	xs = append(xs, 88, 88.01, 88.5, -87.33, -87.34, nan, 0, -0.0, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -1e-30, 0.5, -0.5)
	for _, shift := range []int{0, 1, 2, 3} {
		got := append([]float32(nil), xs[shift:]...)
		want := append([]float32(nil), xs[shift:]...)
		expSlice(got)
		expSlow(want)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("expSlice(%v) = %v, one at a time %v", xs[shift+i], got[i], want[i])
			}
		}
	}
}
