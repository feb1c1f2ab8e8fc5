package reward

import (
	"math"
	"os"
	"testing"

	"prefer/core/formats"
)

// TestHHRLHFLinear trains the linear model on the real Anthropic HH-RLHF
// harmless-base test split (2,312 pairs, testdata/hh-rlhf) and reports its held-out
// accuracy: 20% of the prompts held out, seed 1. There is no threshold: published
// reward models reach about 0.56–0.59 on HH harmless, and a small bag-of-n-grams
// model trained on 1,700 pairs should not be expected to do better.
func TestHHRLHFLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("real-data run")
	}
	f, err := os.Open("../../testdata/hh-rlhf/harmless-base-test.jsonl.gz")
	if err != nil {
		t.Skipf("HH-RLHF test file not present: %v", err)
	}
	defer f.Close()
	d, _, err := formats.ReadHH(f, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(d.Items, d.Judgments, Config{Family: FamilyLinear, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	t.Logf("HH-RLHF harmless-base: %d items, %d judgments; linear, split by item, holdout 0.2, valid 0.1, seed 1: held-out accuracy %.4f (%d pairs), log-loss %.4f, train accuracy %.4f, ECE %.3f, length Spearman %.3f, best epoch %d",
		len(d.Items), len(d.Judgments), m.HeldAcc, m.NHeld, m.HeldLogLoss, m.TrainAcc, m.ECE, m.LengthSpearman, m.BestEpoch)
	// Context: how often the shorter response is the chosen one (a length-only rule).
	shorter := &Linear{Features: FeatureConfig{}.withDefaults()}
	shorter.W = make([]float32, shorter.Features.Width())
	shorter.W[shorter.Features.Dim] = -1 // reward = −log₂(1+words)/8
	acc, n := Accuracy(shorter, d.Items, d.Judgments)
	t.Logf("length-only rule (shorter wins) on all %d pairs: %.4f", n, acc)
	if math.IsNaN(m.HeldAcc) || m.NHeld < 400 {
		t.Errorf("held-out accuracy %v on %d pairs", m.HeldAcc, m.NHeld)
	}
}
