package rng

import (
	"math"
	"testing"
)

func TestSameSeedSameStream(t *testing.T) {
	a, b := New(42), New(42)
	for i := 0; i < 1000; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatalf("streams differ at draw %d", i)
		}
	}
	if New(1).Uint64() == New(2).Uint64() {
		t.Fatal("different seeds gave the same first draw")
	}
}

// TestGoldenStream pins the first draws of seed 7 so a change of algorithm, or a
// platform difference (this test also runs under wasm), is caught.
func TestGoldenStream(t *testing.T) {
	r := New(7)
	got := []float64{r.Float64(), r.Norm(), float64(r.IntN(1000)), r.LogNormal(0, 1)}
	want := goldenSeed7
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("draw %d = %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
}

var goldenSeed7 = []float64{0.5107576631625605, -1.3584344797826442, 692, 0.46820925549374715}

func TestMoments(t *testing.T) {
	r := New(3)
	const n = 200000
	var s, s2 float64
	for i := 0; i < n; i++ {
		z := r.Norm()
		s += z
		s2 += float64(z * z)
	}
	mean, vr := s/n, s2/n-float64((s/n)*(s/n))
	// Standard error of the mean is 1/√n ≈ 0.0022; allow 4 standard errors.
	if math.Abs(mean) > 0.009 || math.Abs(vr-1) > 0.02 {
		t.Fatalf("normal mean %v var %v", mean, vr)
	}
	counts := make([]int, 4)
	for i := 0; i < n; i++ {
		counts[r.Categorical([]float64{1, 2, 3, 4})]++
	}
	for i, c := range counts {
		want := float64(i+1) / 10
		if math.Abs(float64(c)/n-want) > 0.005 {
			t.Errorf("category %d frequency %v, want %v", i, float64(c)/n, want)
		}
	}
}

func TestIntNUniform(t *testing.T) {
	r := New(5)
	counts := make([]int, 7)
	for i := 0; i < 70000; i++ {
		counts[r.IntN(7)]++
	}
	for i, c := range counts {
		if c < 9500 || c > 10500 {
			t.Errorf("IntN(7) value %d seen %d times of 70000", i, c)
		}
	}
	p := r.Perm(10)
	seen := make([]bool, 10)
	for _, v := range p {
		seen[v] = true
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("Perm missing %d: %v", i, p)
		}
	}
}

func TestSplitIndependent(t *testing.T) {
	a := New(9)
	s1 := a.Split("x")
	b := New(9)
	s2 := b.Split("x")
	s3 := New(9).Split("y")
	x1, x2, x3 := s1.Uint64(), s2.Uint64(), s3.Uint64()
	if x1 != x2 {
		t.Fatal("Split is not deterministic")
	}
	if x1 == x3 {
		t.Fatal("Split labels do not separate streams")
	}
}
