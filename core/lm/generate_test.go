package lm

import (
	"math"
	"testing"

	"prefer/core/rng"
)

// tinyLM returns a tiny randomly initialized model over the demo vocabulary.
func tinyLM(tb testing.TB, seed uint64) *LM {
	tb.Helper()
	v := DemoVocab()
	m, err := New(Config{Vocab: v.Size(), Context: 24, Layers: 1, Heads: 2, Channels: 8, Hidden: 16, InitStd: 0.5}, seed)
	if err != nil {
		tb.Fatal(err)
	}
	return &LM{Model: m, Vocab: v}
}

// TestIncrementalEqualsFull checks that decoding with the key/value cache, one
// position at a time, gives bit-identical logits to a full forward pass.
func TestIncrementalEqualsFull(t *testing.T) {
	l := tinyLM(t, 3)
	m := l.Model
	const B, T = 3, 10
	r := rng.New(4)
	tokens := make([]int32, B*T)
	for i := range tokens {
		tokens[i] = int32(r.IntN(m.Config.Vocab))
	}
	m.Forward(tokens, nil, B, T)
	want := append([]float32(nil), m.act.logits[:B*T*m.Config.Vocab]...)
	wantV := append([]float32(nil), m.Values()...)

	m.act.layout(m.Config, B, T, false)
	m.tokens = append(m.tokens[:0], tokens...)
	for i := range m.targets {
		m.targets[i] = -1
	}
	// Prefix of 4 for every sequence, then one position at a time.
	segs := []segment{{0, 0, 4}, {1, 0, 4}, {2, 0, 4}}
	m.forward(segs, false)
	for t0 := 4; t0 < T; t0++ {
		m.forward([]segment{{0, t0, t0 + 1}, {1, t0, t0 + 1}, {2, t0, t0 + 1}}, false)
	}
	V := m.Config.Vocab
	for i := 0; i < B*T*V; i++ {
		if m.act.logits[i] != want[i] {
			t.Fatalf("logit %d (row %d): incremental %v, full %v", i, i/V, m.act.logits[i], want[i])
		}
	}
	for i, v := range m.Values() {
		if v != wantV[i] {
			t.Fatalf("value %d: incremental %v, full %v", i, v, wantV[i])
		}
	}
}

// TestGenerate checks determinism, EOS handling and the length bound, and that the
// log-probability of a sampled response equals the one a full forward pass gives.
func TestGenerate(t *testing.T) {
	l := tinyLM(t, 5)
	prompts := [][]int32{
		l.Vocab.PromptIDs("What is the capital of France?", 12),
		l.Vocab.PromptIDs("How do I boil an egg?", 12),
	}
	a := l.Model.Generate(prompts, SampleConfig{MaxTokens: 6}, rng.New(1))
	b := l.Model.Generate(prompts, SampleConfig{MaxTokens: 6}, rng.New(1))
	for i := range a {
		if len(a[i]) == 0 || len(a[i]) > 6 {
			t.Fatalf("response %d has %d tokens, want 1..6", i, len(a[i]))
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("same seed, different samples: %v vs %v", a, b)
			}
			if a[i][j] == EOSID && j != len(a[i])-1 {
				t.Fatalf("EOS inside a response: %v", a[i])
			}
		}
	}
	// Top-1 sampling is greedy decoding: it must pick the argmax each step.
	g := l.Model.Generate(prompts[:1], SampleConfig{TopK: 1, MaxTokens: 4}, rng.New(2))[0]
	seq := Seq{Prompt: prompts[0], Response: g}
	var bt batch
	makeBatch(&bt, []Seq{seq}, l.Model.Config.Context)
	l.Model.Forward(bt.tokens, bt.targets, 1, bt.T)
	V := l.Model.Config.Vocab
	for j, id := range g {
		row := l.Model.act.probs[(bt.start[0]+j)*V : (bt.start[0]+j+1)*V]
		best := 0
		for k, p := range row {
			if p > row[best] {
				best = k
			}
		}
		if int32(best) != id {
			t.Fatalf("top-1 step %d chose %d, argmax is %d", j, id, best)
		}
	}
	lp := l.Model.SeqLogProbs([]Seq{seq}, 0)
	for j, v := range lp {
		if math.IsInf(v, 0) || v > 0 {
			t.Fatalf("log-prob %d = %v", j, v)
		}
	}
}

// TestTopKAndTemperature checks the sampling distribution's shape: top-k keeps k
// tokens, and a low temperature concentrates the draws.
func TestTopKAndTemperature(t *testing.T) {
	w := []float64{0.1, 0.4, 0.2, 0.4, 0.05}
	order := make([]int, len(w))
	keepTopK(w, order, 2)
	want := []float64{0, 0.4, 0, 0.4, 0}
	for i := range w {
		if w[i] != want[i] {
			t.Fatalf("keepTopK = %v, want %v (ties to the lower index)", w, want)
		}
	}
	lp := logSoftmaxRow(make([]float32, 3), []float32{1, 2, 3}, 0.5)
	// softmax([2, 4, 6]): log p_3 = −log(1 + e^−2 + e^−4) = −log 1.1536512 = −0.1429316
	if got := float64(lp[2]); math.Abs(got+0.1429316) > 1e-6 {
		t.Fatalf("log softmax at T=0.5 = %v, want −0.1429316", got)
	}
}
