package lm

import (
	"testing"

	"prefer/core/rng"
)

// benchBatch returns a batch of B random sequences of T tokens with every target
// scored, for the default model over the demo vocabulary.
func benchBatch(m *Model, B, T int) (tokens, targets []int32) {
	r := rng.New(5)
	tokens = make([]int32, B*T)
	targets = make([]int32, B*T)
	for i := range tokens {
		tokens[i] = int32(r.IntN(m.Config.Vocab))
		targets[i] = int32(r.IntN(m.Config.Vocab))
	}
	return tokens, targets
}

// BenchmarkForwardBackward times one forward and backward pass of the default model
// on 16 sequences of 48 tokens and reports tokens per second.
func BenchmarkForwardBackward(b *testing.B) {
	m, err := New(DefaultConfig(DemoVocab().Size()), 1)
	if err != nil {
		b.Fatal(err)
	}
	const B, T = 16, 48
	tokens, targets := benchBatch(m, B, T)
	dlogp := crossEntropyGrad(nil, targets)
	m.ZeroGrad()
	for b.Loop() {
		m.Forward(tokens, targets, B, T)
		m.Backward(dlogp, nil, nil)
	}
	b.ReportMetric(float64(B*T*b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(m.Config.NumParams()), "params")
}
