package lesson

import (
	"math"
	"reflect"
	"testing"
)

// tiny is a landscape of one prompt with two answers: a right one (gold 2, proxy 0)
// and a padded one (gold 0, proxy 1), equally likely under π_ref.
func tiny() *Landscape {
	return &Landscape{Panel: "test", Prompts: []Prompt{{ID: "q1", Text: "How many legs does a spider have?", Answers: []Answer{
		{Text: "Eight.", Ref: 0.5, Proxy: 0, Gold: 2, Parts: []string{"correct"}},
		{Text: "Many people ask. Eight. Many people ask.", Ref: 0.5, Proxy: 1, Gold: 0, Parts: []string{"correct", "filler"}},
	}}}}
}

// TestLandscapeAt checks At against the closed form by hand: with π_ref = (½, ½) and
// r = (0, 1), π*_β = (1, e^{1/β})/(1 + e^{1/β}); at β = 1 that is (0.268941,
// 0.731059), so E[gold] = 2·0.268941, E[proxy] = 0.731059, and
// KL = Σ π log(π/π_ref) = 0.268941·log(0.537883) + 0.731059·log(1.462117) = 0.110944.
func TestLandscapeAt(t *testing.T) {
	l := tiny()
	p := l.At(1)
	want := Point{Beta: 1, KL: 0.110944, Proxy: 0.731059, Gold: 0.537883, Mix: Mix{Filler: 0.731059, Correct: 1}}
	if math.Abs(p.KL-want.KL) > 1e-6 || math.Abs(p.Proxy-want.Proxy) > 1e-6 || math.Abs(p.Gold-want.Gold) > 1e-6 ||
		math.Abs(p.Mix.Filler-want.Mix.Filler) > 1e-6 || math.Abs(p.Mix.Correct-1) > 1e-12 || math.Abs(p.SqrtKL-math.Sqrt(p.KL)) > 1e-15 {
		t.Errorf("At(1) = %+v, want %+v", p, want)
	}
	if ref := l.At(math.Inf(1)); ref.KL != 0 || ref.Gold != 1 || ref.Proxy != 0.5 {
		t.Errorf("At(+Inf) = %+v, want the reference: KL 0, gold 1, proxy 0.5", ref)
	}
	// β → 0 puts everything on the proxy's favourite.
	if p := l.At(MinBeta); p.Gold > 1e-9 || math.Abs(p.KL-math.Log(2)) > 1e-9 {
		t.Errorf("At(%g) = %+v, want gold 0 and KL log 2", MinBeta, p)
	}
}

func TestCurveBetas(t *testing.T) {
	bs := CurveBetas()
	if len(bs) != CurvePoints || bs[0] != MaxBeta || bs[len(bs)-1] != MinBeta {
		t.Fatalf("betas %v", bs)
	}
	for i := 1; i < len(bs); i++ {
		if !(bs[i] < bs[i-1]) {
			t.Fatalf("betas not decreasing at %d: %v", i, bs)
		}
	}
}

func TestLandscapeRoundTrip(t *testing.T) {
	l := tiny()
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalLandscape(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, l) {
		t.Errorf("round trip: %+v, want %+v", back, l)
	}
	bad := tiny()
	bad.Prompts[0].Answers[1].Proxy = math.NaN()
	data, _ = bad.Marshal()
	for name, in := range map[string][]byte{"garbage": []byte("not msgpack"), "empty": {0x80}, "nan": data, "huge": make([]byte, MaxLandscapeBytes+1)} {
		if _, err := UnmarshalLandscape(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzUnmarshalLandscape: the decoder never panics, and what it accepts has answers
// with finite numbers for every prompt (At then gives finite figures).
func FuzzUnmarshalLandscape(f *testing.F) {
	good, _ := tiny().Marshal()
	f.Add(good)
	f.Add([]byte{0x80})
	f.Add([]byte{0x81, 0xa7, 'p', 'r', 'o', 'm', 'p', 't', 's', 0x90})
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := UnmarshalLandscape(data)
		if err != nil {
			return
		}
		total := 0.0
		for _, p := range l.Prompts {
			for _, a := range p.Answers {
				total += a.Ref
			}
		}
		if total <= 0 {
			return // all-zero reference probabilities: At is undefined, the page says so
		}
		_ = l.At(1)
	})
}
