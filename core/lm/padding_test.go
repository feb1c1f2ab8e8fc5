package lm

import (
	"math"
	"testing"

	"prefer/core/rng"
)

// TestPaddingSkipped checks that a forward and backward pass that skips the padding
// of a batch (and, scored, the output layer where there is no target) gives the same
// log-probabilities, entropies, values and gradients, bit for bit, as the full pass
// over the padded batch.
func TestPaddingSkipped(t *testing.T) {
	l := tinyLM(t, 12)
	m := l.Model
	r := rng.New(13)
	var seqs []Seq
	for _, n := range [][2]int{{3, 5}, {4, 1}, {2, 9}, {5, 3}} {
		s := Seq{}
		for i := 0; i < n[0]; i++ {
			s.Prompt = append(s.Prompt, int32(r.IntN(m.Config.Vocab)))
		}
		for i := 0; i < n[1]; i++ {
			s.Response = append(s.Response, int32(r.IntN(m.Config.Vocab)))
		}
		seqs = append(seqs, s)
	}
	var bt batch
	makeBatch(&bt, seqs, m.Config.Context)
	N := bt.B * bt.T
	dlogp, dent, dvalue := make([]float32, N), make([]float32, N), make([]float32, N)
	lens := make([]int, bt.B)
	for b := range lens {
		lens[b] = bt.start[b] + bt.n[b]
		for j := 0; j < bt.n[b]; j++ {
			i := b*bt.T + bt.start[b] + j
			dlogp[i], dent[i], dvalue[i] = float32(r.Norm()), float32(r.Norm()), float32(r.Norm())
		}
	}
	run := func(lens []int, scored bool) (lp, ent, val, grads []float32) {
		m.ZeroGrad()
		m.forwardScored(bt.tokens, bt.targets, bt.B, bt.T, lens, scored)
		lp = append(lp, m.LogProbs()...)
		ent = append(ent, m.Entropies()...)
		val = append(val, m.Values()...)
		m.Backward(dlogp, dent, dvalue)
		return lp, ent, val, append(grads, m.Grads...)
	}
	lp0, ent0, val0, g0 := run(nil, false)
	for _, scored := range []bool{false, true} {
		lp1, ent1, val1, g1 := run(lens, scored)
		for b := range lens {
			for p := 0; p < lens[b]; p++ {
				i := b*bt.T + p
				if scored && bt.targets[i] < 0 {
					if lp1[i] != 0 || ent1[i] != 0 || val1[i] != val0[i] {
						t.Fatalf("scored, row %d position %d without target: (%v %v %v)", b, p, lp1[i], ent1[i], val1[i])
					}
					continue
				}
				if lp0[i] != lp1[i] || ent0[i] != ent1[i] || val0[i] != val1[i] {
					t.Fatalf("scored %v, row %d position %d: padded pass (%v %v %v), full pass (%v %v %v)", scored, b, p, lp1[i], ent1[i], val1[i], lp0[i], ent0[i], val0[i])
				}
			}
		}
		for i := range g0 {
			if math.Float32bits(g0[i]) != math.Float32bits(g1[i]) && g0[i] != g1[i] {
				t.Fatalf("scored %v, gradient %d: padding skipped %v, full %v", scored, i, g1[i], g0[i])
			}
		}
	}
}

// TestNoAllocs checks that a forward and backward pass allocates nothing once the
// model's buffers have grown to the batch.
func TestNoAllocs(t *testing.T) {
	l := tinyLM(t, 14)
	m := l.Model
	tokens, targets := benchBatch(m, 3, 7)
	dlogp := crossEntropyGrad(nil, targets)
	m.ZeroGrad()
	allocs := testing.AllocsPerRun(5, func() {
		m.Forward(tokens, targets, 3, 7)
		m.Backward(dlogp, nil, nil)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per forward and backward pass, want 0", allocs)
	}
}

// TestTrainerMeanNLL checks that the held-out loss computed on the trainer's
// replicas is MeanNLL's, bit for bit.
func TestTrainerMeanNLL(t *testing.T) {
	l := tinyLM(t, 15)
	r := rng.New(16)
	var seqs []Seq
	for i := 0; i < 7; i++ {
		s := Seq{Prompt: []int32{BOSID}}
		for j := 0; j < 2+r.IntN(6); j++ {
			s.Response = append(s.Response, int32(r.IntN(l.Model.Config.Vocab)))
		}
		seqs = append(seqs, s)
	}
	want := l.MeanNLL(seqs)
	if got := newTrainer(l.Model).meanNLL(seqs); got != want {
		t.Errorf("trainer meanNLL = %v, MeanNLL = %v", got, want)
	}
}
