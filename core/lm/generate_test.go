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

// TestIncrementalEqualsFull checks that decoding with the key/value cache gives
// bit-identical logits to a full forward pass: prefixes of different lengths first
// (20 sequences × up to 20 positions, more than one group of rowCap rows), then one
// position at a time.
func TestIncrementalEqualsFull(t *testing.T) {
	l := tinyLM(t, 3)
	m := l.Model
	const B, T = 20, 24
	V := m.Config.Vocab
	r := rng.New(4)
	tokens := make([]int32, B*T)
	for i := range tokens {
		tokens[i] = int32(r.IntN(V))
	}
	m.Forward(tokens, nil, B, T)
	// The full pass's logits, from its final hidden states (the pass keeps only
	// probabilities).
	want := make([]float32, B*T*V)
	unembedForward(want, m.act.lnf, m.P.Lmw, B*T, m.Config.Channels, V)

	d := m.decoder(B)
	copy(d.tokens, tokens)
	var segs []segment
	pos := make([]int, B)
	for b := range B {
		pos[b] = 14 + b%7 // prefixes of 14..20 positions: 340 rows in all
		segs = append(segs, segment{b, 0, pos[b]})
	}
	for len(segs) > 0 {
		d.step(m, segs)
		next := segs[:0]
		for i, s := range segs {
			row := (s.b*T + s.t1 - 1) * V
			for v := range V {
				if got := d.logits[i*V+v]; got != want[row+v] {
					t.Fatalf("sequence %d position %d token %d: incremental logit %v, full %v", s.b, s.t1-1, v, got, want[row+v])
				}
			}
			if s.t1 < T {
				next = append(next, segment{s.b, s.t1, s.t1 + 1})
			}
		}
		segs = next
	}
}

// TestDecoderMemory checks what incremental decoding keeps for 64 answers of the
// default model (C 48, T 80, L 2, NH 4, H 192, V 462): the key/value cache,
// (L, B, T, 3C) = 2·64·80·144 = 1,474,560 floats; one sequence's attention
// scratch NH·T² + T·C = 29,440; rows of one step, rowCap·(4C + 3C + 3H + 2) =
// 256·914 = 233,984; per sequence C + 2V + 5 = 977, ×64 = 62,528; and the tokens,
// 64·80 + 64 = 5,184 int32. 1,805,696 values, 7.2 MB — where a full forward pass of
// the same batch laid out 19.4 million floats (78 MB) before the decoder.
func TestDecoderMemory(t *testing.T) {
	m := newModel(DefaultConfig(DemoVocab().Size()))
	if got, want := m.decoder(64).floats(), 1805696; got != want {
		t.Errorf("decoder of 64 sequences holds %d values, want %d", got, want)
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
	lp := l.Model.SeqLogProbs([]Seq{seq})
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
