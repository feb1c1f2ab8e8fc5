package lm

import (
	"math"
	"testing"

	"prefer/core/demo"
	"prefer/core/feedback"
)

// TestPretrainPinned runs a short pretraining (the same code path as the shipped
// reference, fewer steps and examples) and pins the parameters' hash: the wasm run
// of this test proves pretraining is bit-identical natively and in wasm.
func TestPretrainPinned(t *testing.T) {
	res, err := PretrainDemo(PretrainConfig{Seed: 7, Steps: 6, Batch: 8, Warmup: 2, EvalEvery: 3}, 300, 40, nil)
	if err != nil {
		t.Fatal(err)
	}
	loss := res.Run.Series["loss"]
	if len(loss) != 6 || !(loss[5] < loss[0]) {
		t.Fatalf("loss curve %v: want 6 values, decreasing", loss)
	}
	// A fresh model predicts about uniformly: loss ≈ log V at the start.
	if v := math.Log(float64(res.LM.Vocab.Size())); math.Abs(loss[0]-v) > 0.3 {
		t.Errorf("initial loss %v, want ≈ log V = %v", loss[0], v)
	}
	if got := len(res.Run.Series["heldout_loss"]); got != 2 {
		t.Errorf("%d held-out evaluations, want 2 (steps 3 and 6)", got)
	}
	if got, want := res.LM.Hash(), pretrainPinnedHash; got != want {
		t.Errorf("parameters hash = %s, want %s (pinned)", got, want)
	}
}

const pretrainPinnedHash = "8ab69e0da44019cf"

// TestPretrainCancel checks that progress can stop pretraining.
func TestPretrainCancel(t *testing.T) {
	_, err := PretrainDemo(PretrainConfig{Steps: 50, Batch: 4}, 50, 5, func(step int, _ float64) bool { return step < 2 })
	if err != ErrCanceled {
		t.Fatalf("err = %v, want ErrCanceled", err)
	}
}

// TestSnapshotRoundTrip stores a model and loads it back bit for bit, and rejects
// malformed models with a message.
func TestSnapshotRoundTrip(t *testing.T) {
	l := tinyLM(t, 1)
	sm := l.ToSnapshot("x", nil)
	back, err := FromSnapshot(&sm)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != l.Hash() || back.Model.Config != l.Model.Config {
		t.Fatal("round trip changed the model")
	}
	bad := l.ToSnapshot("x", nil)
	bad.Tensors["wte"] = bad.Tensors["wpe"]
	if _, err := FromSnapshot(&bad); err == nil {
		t.Error("a wrongly shaped tensor was accepted")
	}
	bad = l.ToSnapshot("x", nil)
	bad.Family = "linear"
	if _, err := FromSnapshot(&bad); err == nil {
		t.Error("a model of another family was accepted")
	}
	bad = l.ToSnapshot("x", nil)
	bad.Config["vocab"] = []any{"a", "b"}
	if _, err := FromSnapshot(&bad); err == nil {
		t.Error("a vocabulary of the wrong size was accepted")
	}
}

// TestRewardHead trains the head on simulated raters' comparisons and checks that it
// learns them: held-out accuracy above chance, and a right answer scored above a
// wrong one on average.
func TestRewardHead(t *testing.T) {
	res, err := PretrainDemo(PretrainConfig{Seed: 2, Steps: 8, Batch: 8}, 200, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Generate(demo.Config{Seed: 3, Items: 24, Raters: mustProfiles(t, "3*expert"), Overlap: 3})
	if err != nil {
		t.Fatal(err)
	}
	h, err := TrainHead(res.LM, d.Items, d.Judgments, HeadConfig{Seed: 4, Epochs: 2, Batch: 8})
	if err != nil {
		t.Fatal(err)
	}
	if !(h.HeldAcc > 0.6) {
		t.Errorf("held-out accuracy %v, want > 0.6 (experts agree with gold)", h.HeldAcc)
	}
	if h.Head.Family() != FamilyHead {
		t.Errorf("family %q", h.Head.Family())
	}
	sm := h.Head.ToSnapshot("rm", nil)
	back, err := HeadFromSnapshot(&sm)
	if err != nil {
		t.Fatal(err)
	}
	it := &d.Items[0]
	if a, b := h.Head.Score(it, it.Responses[0].Text), back.Score(it, it.Responses[0].Text); a != b {
		t.Errorf("stored head scores %v, original %v", b, a)
	}
	// A response's reward must not depend on what else is in its batch: scored with
	// responses of other lengths, every one reads the hidden state at its own EOS.
	var items []*feedback.Item
	var texts []string
	for k := range d.Items[:4] {
		for _, r := range d.Items[k].Responses {
			items = append(items, &d.Items[k])
			texts = append(texts, r.Text)
		}
	}
	many := h.Head.ScoreMany(items, texts)
	for i := range texts {
		if alone := h.Head.Score(items[i], texts[i]); alone != many[i] {
			t.Fatalf("%q scores %v alone and %v in a batch", texts[i], alone, many[i])
		}
	}
}

func mustProfiles(tb testing.TB, spec string) []demo.Profile {
	tb.Helper()
	p, err := demo.ParseProfiles(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
