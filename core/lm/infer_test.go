package lm

import (
	"math"
	"testing"

	"prefer/core/rng"
)

// randomSeqs returns n sequences of random tokens: prompts of 1..6 tokens and
// responses of 1..maxResp.
func randomSeqs(m *Model, r *rng.RNG, n, maxResp int) []Seq {
	var seqs []Seq
	for i := 0; i < n; i++ {
		s := Seq{Prompt: []int32{BOSID}}
		for j := r.IntN(6); j > 0; j-- {
			s.Prompt = append(s.Prompt, int32(r.IntN(m.Config.Vocab)))
		}
		for j := 1 + r.IntN(maxResp); j > 0; j-- {
			s.Response = append(s.Response, int32(r.IntN(m.Config.Vocab)))
		}
		seqs = append(seqs, s)
	}
	return seqs
}

// TestInferEqualsKept checks that the inference-only pass — one layer's activations
// at a time, logits 64 rows at a time, sequences in groups of at most inferRows
// rows — gives the log-probabilities and values of the pass that keeps everything
// for Backward, bit for bit, on 60 sequences (about 900 rows: two groups), some of
// them cut by the context; and that it holds no more than it says.
func TestInferEqualsKept(t *testing.T) {
	l := tinyLM(t, 21)
	m := l.Model
	seqs := randomSeqs(m, rng.New(22), 60, 30)
	var bt batch
	makeBatch(&bt, seqs, m.Config.Context)
	m.forwardScored(bt.tokens, bt.targets, bt.B, bt.T, bt.lens, true)
	lp, val := m.LogProbs(), m.Values()
	var wantLp, wantVal []float64
	for i, s := range seqs {
		for j := range s.Response {
			if j < bt.n[i] {
				wantLp = append(wantLp, float64(lp[i*bt.T+bt.start[i]+j]))
				wantVal = append(wantVal, float64(val[i*bt.T+bt.start[i]+j]))
			} else {
				wantLp, wantVal = append(wantLp, math.Inf(-1)), append(wantVal, math.NaN())
			}
		}
	}
	gotLp := make([]float64, len(wantLp))
	gotVal := make([]float64, len(wantLp))
	groups := 0
	m.inferSeqs(seqs, &bt, makeBatch, true, func(int, *batch) {
		groups++
		if a := &m.act; a.R > inferRows || a.S != 1 || len(a.probs) > outChunk*m.Config.Vocab {
			t.Errorf("inference pass holds %d rows, %d layers, %d probabilities; want ≤ %d, 1, ≤ %d", a.R, a.S, len(a.probs), inferRows, outChunk*m.Config.Vocab)
		}
	})
	if groups < 2 {
		t.Errorf("%d groups, want the sequences split in 2 or more", groups)
	}
	m.inferTokens(&bt, seqs, gotLp, gotVal)
	cut := 0
	for k := range wantLp {
		if math.IsInf(wantLp[k], -1) {
			cut++
			if !math.IsInf(gotLp[k], -1) || !math.IsNaN(gotVal[k]) {
				t.Fatalf("token %d beyond the context: (%v, %v), want (−Inf, NaN)", k, gotLp[k], gotVal[k])
			}
			continue
		}
		if gotLp[k] != wantLp[k] || gotVal[k] != wantVal[k] {
			t.Fatalf("token %d: inference (%v, %v), kept pass (%v, %v)", k, gotLp[k], gotVal[k], wantLp[k], wantVal[k])
		}
	}
	if cut == 0 {
		t.Errorf("no token beyond the context: the test does not cover cutting")
	}
	// The trainer's replicas split the sequences differently and still agree.
	trLp := make([]float64, len(wantLp))
	newTrainer(m).inferTokens(seqs, trLp, nil)
	for k := range trLp {
		if trLp[k] != gotLp[k] && !(math.IsInf(trLp[k], -1) && math.IsInf(gotLp[k], -1)) {
			t.Fatalf("token %d: replicas %v, one model %v", k, trLp[k], gotLp[k])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Backward after an inference-only pass did not panic")
		}
	}()
	N := bt.B * bt.T
	m.Backward(make([]float32, N), nil, nil)
}

// TestActivationMemory pins what a forward and backward pass of the default model
// lay out for 32 sequences of a 12-token prompt and a 30-token response (41 rows
// each, R = 1,312 rows, O = 960 with a target, A = NH·41²·32 = 215,168 attention
// weights per layer), counted from the layouts' comments:
//
//	kept:      R·C + L·R·(5C + 3C + 2H + 4) + L·A + R·(2C + H + 2) + K·V + O·(V + 3) = 3,375,488
//	gradients: R·(6C + 3C + 2H) + K·V                                                = 1,100,160
//
// (13.5 and 4.4 MB). Before the packed layout the same batch took 4,557,888 and
// 2,999,232 floats (18.2 and 12.0 MB: logits and probabilities of every row, the
// projections and GELU's output kept, every layer's gradients), and padding to the
// longest sequence multiplied both.
func TestActivationMemory(t *testing.T) {
	m := newModel(DefaultConfig(DemoVocab().Size()))
	var seqs []Seq
	for i := 0; i < 32; i++ {
		s := Seq{Prompt: make([]int32, 12), Response: make([]int32, 30)}
		s.Prompt[0] = BOSID
		seqs = append(seqs, s)
	}
	var bt batch
	makeBatch(&bt, seqs, m.Config.Context)
	m.forwardScored(bt.tokens, bt.targets, bt.B, bt.T, bt.lens, true)
	m.Backward(make([]float32, bt.B*bt.T), nil, nil)
	if got := len(m.act.buf); got != 3375488 {
		t.Errorf("forward pass keeps %d floats, want 3375488", got)
	}
	if got := len(m.grad.buf); got != 1100160 {
		t.Errorf("backward pass holds %d floats, want 1100160", got)
	}
}
