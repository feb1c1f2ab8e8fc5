package num

import (
	"math"
	"runtime"
	"testing"
)

// ulps returns the distance between a and b in units in the last place.
func ulps(a, b float64) uint64 {
	ia, ib := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if ia > ib {
		return uint64(ia - ib)
	}
	return uint64(ib - ia)
}

func TestExpLogAgreeWithMath(t *testing.T) {
	// In wasm, math.Exp and math.Log are the same portable algorithm as ours, so the
	// results must be identical; on amd64 math.Exp is assembly and was seen 2 ulp away
	// (Exp(-324.08)), which is exactly why this package exists.
	maxULP := uint64(4)
	if runtime.GOARCH == "wasm" {
		maxULP = 0
	}
	for x := -700.0; x < 700; x += 0.37 {
		if d := ulps(Exp(x), math.Exp(x)); d > maxULP {
			t.Fatalf("Exp(%v) = %v, math.Exp = %v (%d ulp)", x, Exp(x), math.Exp(x), d)
		}
	}
	for x := 1e-300; x < 1e300; x = float64(x * 1.7) {
		if d := ulps(Log(x), math.Log(x)); d > maxULP {
			t.Fatalf("Log(%v) = %v, math.Log = %v (%d ulp)", x, Log(x), math.Log(x), d)
		}
	}
}

func TestSpecialCases(t *testing.T) {
	cases := []struct {
		name      string
		got, want float64
	}{
		{"Exp(0)", Exp(0), 1},
		{"Exp(-Inf)", Exp(math.Inf(-1)), 0},
		{"Exp(+Inf)", Exp(math.Inf(1)), math.Inf(1)},
		{"Log(1)", Log(1), 0},
		{"Log(0)", Log(0), math.Inf(-1)},
		{"Sigmoid(0)", Sigmoid(0), 0.5},
		{"Sigmoid(-1000)", Sigmoid(-1000), 0},
		{"Sigmoid(1000)", Sigmoid(1000), 1},
		{"Softplus(1000)", Softplus(1000), 1000},
		{"Softplus(-1000)", Softplus(-1000), 0},
		// DPO toy value, rlhf.md: softplus(−0.2) = 0.598139.
		{"Softplus(-0.2)", math.Round(float64(Softplus(-0.2)*1e6)) / 1e6, 0.598139},
		{"LogSumExp(ln2,ln2)", LogSumExp([]float64{math.Ln2, math.Ln2}), 2 * math.Ln2},
	}
	for _, c := range cases {
		if math.Abs(c.got-c.want) > float64(1e-15*math.Max(1, math.Abs(c.want))) && c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !math.IsNaN(Log(-1)) {
		t.Errorf("Log(-1) = %v, want NaN", Log(-1))
	}
}

func TestSoftmaxSumsToOne(t *testing.T) {
	x := []float64{1000, 999, -5, 0}
	p := Softmax(make([]float64, 4), x)
	var s float64
	for _, v := range p {
		s += v
	}
	if math.Abs(s-1) > 1e-12 {
		t.Fatalf("sum = %v", s)
	}
	// p0/p1 = e.
	if math.Abs(p[0]/p[1]-math.E) > 1e-12 {
		t.Fatalf("ratio = %v, want e", p[0]/p[1])
	}
}

func TestTanh(t *testing.T) {
	for x := -25.0; x < 25; x += 0.013 {
		if math.Abs(Tanh(x)-math.Tanh(x)) > 1e-12 {
			t.Fatalf("Tanh(%v) = %v, want %v", x, Tanh(x), math.Tanh(x))
		}
	}
}

func TestVec32(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 31, 64} {
		a := make([]float32, n)
		b := make([]float32, n)
		var want float64
		for i := range a {
			a[i] = float32(i%5) - 2
			b[i] = float32(float32(i%3) * 0.5)
			want += float64(float64(a[i]) * float64(b[i]))
		}
		if got := Dot32(a, b); math.Abs(float64(got)-want) > 1e-4 {
			t.Errorf("n=%d: Dot32 = %v, want %v", n, got, want)
		}
		y := make([]float32, n)
		Axpy32(2, a, y)
		Scale32(0.5, y)
		for i := range y {
			if y[i] != a[i] {
				t.Fatalf("n=%d: Axpy32/Scale32 gave %v at %d, want %v", n, y[i], i, a[i])
			}
		}
	}
}

func BenchmarkDot32(b *testing.B) {
	x := make([]float32, 4096)
	y := make([]float32, 4096)
	for i := range x {
		x[i] = float32(float32(i%7) * 0.1)
		y[i] = float32(float32(i%11) * 0.2)
	}
	b.SetBytes(int64(8 * len(x)))
	var s float32
	for b.Loop() {
		s += Dot32(x, y)
	}
	_ = s
}

// TestArgmax: the first of equal maxima; NaN never wins; 0 for an empty slice.
func TestArgmax(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		xs   []float64
		want int
	}{{nil, 0}, {[]float64{1}, 0}, {[]float64{1, 3, 3, 2}, 1}, {[]float64{-1, -0.5, -2}, 1}, {[]float64{0, nan, 1}, 2}} {
		if got := Argmax(c.xs); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.xs, got, c.want)
		}
	}
}
