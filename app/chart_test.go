package app

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// writeF1 writes what %.1f writes, but for ties of the last digit.
func TestWriteF1(t *testing.T) {
	for _, x := range []float64{0, 0.04, 0.06, -0.04, -0.06, 1, -1, 12.34, -12.36, 559.99, 72.15, 1e6 + 0.3, 3.049, -0.0, 1e20, math.NaN(), math.Inf(-1)} {
		var b strings.Builder
		writeF1(&b, x)
		want := fmt.Sprintf("%.1f", x)
		if x == -0.04 || x == -0.0 { // %.1f keeps the sign of a negative that rounds to zero
			want = "0.0"
		}
		if b.String() != want {
			t.Errorf("writeF1(%v) = %q, want %q", x, b.String(), want)
		}
	}
	// On a fine grid the two agree except at exact ties.
	diff := 0
	for i := -100000; i <= 100000; i++ {
		x := float64(i) * 0.0137
		var b strings.Builder
		writeF1(&b, x)
		if want := fmt.Sprintf("%.1f", x); b.String() != want && !(want == "-0.0" && b.String() == "0.0") {
			diff++
		}
	}
	if diff > 200 {
		t.Errorf("writeF1 and %%.1f differ at %d of 200001 points", diff)
	}
}
