package reward

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"testing"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// smallDemo is a quick mixed dataset: comparisons (with ties and both-bad), rankings
// and other kinds, from the default demo panel.
func smallDemo(tb testing.TB) *demo.Dataset {
	tb.Helper()
	ds, err := demo.Generate(demo.Config{Seed: 3, Items: 40})
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

// synthData is a self-contained dataset (independent of package demo, so the pins
// below change only when this package does): 30 items of 5 responses made of words
// whose hidden values add up to a utility; comparisons (with ties), rankings of
// four, and a noisy rater.
func synthData(seed uint64) *demo.Dataset {
	r := newTestRNG(seed)
	words := []string{"good", "fine", "bad", "wrong", "please", "thanks", "maybe", "sure", "never", "always", "water", "fire"}
	value := []float64{1, 0.5, -1, -1.5, 0.3, 0.2, -0.2, 0.1, -0.4, 0.4, 0, 0}
	ds := &demo.Dataset{}
	util := map[string]float64{}
	for i := 0; i < 30; i++ {
		it := feedback.Item{ID: fmt.Sprintf("q%02d", i), Prompt: fmt.Sprintf("question %d?", i)}
		for k := 0; k < 5; k++ {
			var text string
			var u float64
			for w := 0; w < 3+r.IntN(5); w++ {
				j := r.IntN(len(words))
				text += words[j] + " "
				u += value[j]
				if r.Bernoulli(0.3) {
					text += ". "
				}
			}
			text += fmt.Sprint(k)
			it.Responses = append(it.Responses, feedback.Response{ID: feedback.ResponseID(text), Text: text})
			util[it.ID+text] = u
		}
		ds.Items = append(ds.Items, it)
	}
	n := 0
	for _, it := range ds.Items {
		for k := 0; k < 12; k++ {
			n++
			a, b := r.IntN(5), r.IntN(4)
			if b >= a {
				b++
			}
			ra, rb := it.Responses[a], it.Responses[b]
			d := util[it.ID+ra.Text] - util[it.ID+rb.Text] + float64(0.7*r.Norm())
			j := feedback.Judgment{ID: fmt.Sprint("j", n), Kind: feedback.KindCompare, Item: it.ID, Rater: fmt.Sprint("u", n%3), A: ra.ID, B: rb.ID, Left: "a", Strength: 1 + r.IntN(3)}
			switch {
			case math.Abs(d) < 0.2:
				j.Choice = feedback.ChoiceTie
			case d > 0:
				j.Choice = feedback.ChoiceA
			default:
				j.Choice = feedback.ChoiceB
			}
			ds.Judgments = append(ds.Judgments, j)
		}
		n++
		shown := []string{it.Responses[0].ID, it.Responses[1].ID, it.Responses[2].ID, it.Responses[3].ID}
		order := r.Perm(4)
		ds.Judgments = append(ds.Judgments, feedback.Judgment{ID: fmt.Sprint("j", n), Kind: feedback.KindRank, Item: it.ID, Rater: "u0", Shown: shown, Order: order})
	}
	return ds
}

// modelHash hashes a model's stored tensors (float32 bits) and configuration.
func modelHash(tb testing.TB, m Model) string {
	tb.Helper()
	sm := ToSnapshot(m, "m", nil)
	data, err := snapshot.Marshal(&snapshot.Snapshot{Models: []snapshot.Model{sm}})
	if err != nil {
		tb.Fatal(err)
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%016x", h.Sum64())
}

// TestTrainingIsPinned pins the trained parameters of every family to a hash of
// their float32 bits. The wasm run of this test (GOOS=js GOARCH=wasm) checks the
// same constants, which proves training is bit-identical natively and in wasm.
func TestTrainingIsPinned(t *testing.T) {
	ds := synthData(5)
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Family: FamilyLinear, Seed: 1, Epochs: 6, Margin: 0.2, Center: 0.01}, "pin-linear"},
		{Config{Family: FamilyMLP, Seed: 1, Epochs: 3, Hidden: 8, Features: FeatureConfig{Dim: 512}}, "pin-mlp"},
		{Config{Family: FamilyTabular, Seed: 1}, "pin-tabular"},
		{Config{Family: FamilyEnsemble, Member: FamilyLinear, Members: 2, Seed: 1, Epochs: 3}, "pin-ensemble"},
	}
	for _, c := range cases {
		res, err := Train(ds.Items, ds.Judgments, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := modelHash(t, res.Model)
		want := pins[c.want]
		if got != want {
			t.Errorf("%s: model hash %s, want %s (held-out accuracy %.6f, loss %.9f)", c.want, got, want, res.Metrics.HeldAcc, res.Metrics.HeldLogLoss)
		}
		again, _ := Train(ds.Items, ds.Judgments, c.cfg)
		if h := modelHash(t, again.Model); h != got {
			t.Errorf("%s: a second run gave %s", c.want, h)
		}
	}
}

var pins = map[string]string{
	"pin-linear":   "3294c595ead976c8",
	"pin-mlp":      "b896a9999c6990b9",
	"pin-tabular":  "7056ed0fcbfcbcf6", // was 60ac98c5e7f76c54 before the prior was confined to separated groups
	"pin-ensemble": "d065e1a7a9928554",
}

// TestSnapshotRoundTrip stores every family and loads it back: the same scores.
func TestSnapshotRoundTrip(t *testing.T) {
	ds := smallDemo(t)
	for _, cfg := range []Config{
		{Family: FamilyLinear, Epochs: 3, Features: FeatureConfig{Cross: true, Dim: 1024}},
		{Family: FamilyMLP, Epochs: 2, Hidden: 4, Features: FeatureConfig{Dim: 256, NoSentences: true}},
		{Family: FamilyTabular},
		{Family: FamilyEnsemble, Members: 2, Epochs: 2},
		{Family: FamilyEnsemble, Member: FamilyTabular, Members: 2},
	} {
		res, err := Train(ds.Items, ds.Judgments, cfg)
		if err != nil {
			t.Fatal(err)
		}
		sm := ToSnapshot(res.Model, "rm", res.Metrics.Map())
		data, err := snapshot.Marshal(&snapshot.Snapshot{Models: []snapshot.Model{sm}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := snapshot.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		m, err := FromSnapshot(s.Models[0])
		if err != nil {
			t.Fatalf("%s: %v", cfg.Family, err)
		}
		if m.Family() != res.Model.Family() {
			t.Errorf("family %s, want %s", m.Family(), res.Model.Family())
		}
		for i := range ds.Items[:10] {
			it := &ds.Items[i]
			for _, r := range it.Responses {
				if got, want := m.Score(it, r.Text), res.Model.Score(it, r.Text); got != want {
					t.Fatalf("%s: score %v after loading, %v before", cfg.Family, got, want)
				}
			}
		}
	}
	// Damaged models are refused with a message.
	good := ToSnapshot(&Linear{Features: FeatureConfig{Dim: 16}.withDefaults(), W: make([]float32, 18)}, "x", nil)
	bad := []func(*snapshot.Model){
		func(m *snapshot.Model) { m.Family = "forest" },
		func(m *snapshot.Model) { delete(m.Tensors, "w") },
		func(m *snapshot.Model) { m.Tensors["w"] = snapshot.Tensor{Shape: []int{17}, Data: make([]float32, 17)} },
		func(m *snapshot.Model) { m.Config["dim"] = "many" },
		func(m *snapshot.Model) { m.Config["dim"] = int64(-3) },
	}
	for i, damage := range bad {
		m := good
		m.Config = map[string]any{}
		for k, v := range good.Config {
			m.Config[k] = v
		}
		m.Tensors = map[string]snapshot.Tensor{}
		for k, v := range good.Tensors {
			m.Tensors[k] = v
		}
		damage(&m)
		if _, err := FromSnapshot(m); err == nil {
			t.Errorf("damage %d: loaded without error", i)
		}
	}
}

// TestTrainBehaviour: cancelation through Progress, curves of equal length, early
// stopping keeps the best epoch, rankings train, and bad configurations are errors.
func TestTrainBehaviour(t *testing.T) {
	ds := smallDemo(t)
	calls := 0
	_, err := Train(ds.Items, ds.Judgments, Config{Progress: func(epoch int, _, _ float64) bool { calls++; return epoch < 2 }})
	if !errors.Is(err, ErrCanceled) || calls != 2 {
		t.Errorf("cancel: err %v after %d calls", err, calls)
	}
	calls = 0
	_, err = Train(ds.Items, ds.Judgments, Config{Family: FamilyTabular, Progress: func(int, float64, float64) bool { calls++; return false }})
	if !errors.Is(err, ErrCanceled) || calls != 1 {
		t.Errorf("tabular cancel: err %v after %d calls", err, calls)
	}
	res, err := Train(ds.Items, ds.Judgments, Config{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Curves
	n := len(c.TrainLoss)
	if n == 0 || len(c.ValidLoss) != n || len(c.HeldLoss) != n || len(c.HeldAcc) != n || c.BestEpoch < 1 || c.BestEpoch > n {
		t.Fatalf("curves: %d %d %d %d best %d", n, len(c.ValidLoss), len(c.HeldLoss), len(c.HeldAcc), c.BestEpoch)
	}
	for e := range c.ValidLoss {
		if c.ValidLoss[e] < c.ValidLoss[c.BestEpoch-1] {
			t.Errorf("epoch %d has a lower validation loss than the kept epoch %d", e+1, c.BestEpoch)
		}
	}
	// Rankings only: InstructGPT groups train a model that orders them.
	ranks := feedback.OfKind(ds.Judgments, feedback.KindRank)
	if len(ranks) < 10 {
		t.Fatalf("only %d rankings", len(ranks))
	}
	rr, err := Train(ds.Items, ranks, Config{Holdout: -1, Valid: -1, Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Metrics.TrainAcc < 0.7 {
		t.Errorf("training accuracy on rankings %.2f", rr.Metrics.TrainAcc)
	}
	for _, bad := range []Config{{Family: "forest"}, {Holdout: 1.5}, {Family: FamilyTabular, SplitBy: "item"}, {Margin: -1}, {SplitBy: "rater"}} {
		if _, err := Train(ds.Items, ds.Judgments, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if _, err := Train(ds.Items, nil, Config{}); !errors.Is(err, ErrNoComparisons) {
		t.Errorf("no judgments: %v", err)
	}
}

// TestTabularOptions: ties give a tie threshold η near its simulated value, the
// position effect recovers a simulated α, and separated data get a prior with a
// note instead of infinite scores.
func TestTabularOptions(t *testing.T) {
	// Simulate Rao–Kupper comparisons with known λ, α and η.
	lam := []float64{0, 1, -0.5, 2}
	const alpha, eta = 0.4, 0.6
	it := feedback.Item{ID: "q"}
	for i := range lam {
		it.Responses = append(it.Responses, feedback.Response{ID: fmt.Sprint("r", i), Text: fmt.Sprint("response ", i)})
	}
	r := newTestRNG(9)
	var pairs []feedback.Pair
	for k := 0; k < 6000; k++ {
		a, b := r.IntN(4), r.IntN(3)
		if b >= a {
			b++
		}
		left := a // a shown on the left
		d := lam[a] - lam[b] + alpha
		u := r.Float64()
		p := feedback.Pair{Item: "q", Left: it.Responses[left].ID, Source: fmt.Sprint(k)}
		switch {
		case u < WinProb(d, eta):
			p.Winner, p.Loser = it.Responses[a].ID, it.Responses[b].ID
		case u < WinProb(d, eta)+WinProb(-d, eta):
			p.Winner, p.Loser = it.Responses[b].ID, it.Responses[a].ID
		default:
			p.Winner, p.Loser, p.Tie = it.Responses[a].ID, it.Responses[b].ID, true
		}
		pairs = append(pairs, p)
	}
	lb, err := FitTabular([]feedback.Item{it}, pairs, nil, TabularConfig{PositionEffect: true, Reference: "r0"})
	if err != nil {
		t.Fatal(err)
	}
	within := func(name string, got, se, want float64) {
		t.Helper()
		if math.Abs(got-want) > float64(4*se) {
			t.Errorf("%s = %.3f ± %.3f, simulated %.3f", name, got, se, want)
		}
	}
	within("α", lb.Alpha, lb.AlphaSE, alpha)
	within("η", lb.Eta, lb.EtaSE, eta)
	for _, s := range lb.Items[0].Responses {
		var i int
		fmt.Sscanf(s.ID, "r%d", &i)
		if s.ID != "r0" {
			within(s.ID, s.Score, s.SE, lam[i])
		}
	}
	// Separated: r0 always wins. The MLE does not exist; a prior is used and noted.
	sep := []feedback.Pair{{Item: "q", Winner: "r0", Loser: "r1"}, {Item: "q", Winner: "r0", Loser: "r2"}, {Item: "q", Winner: "r1", Loser: "r2"}, {Item: "q", Winner: "r2", Loser: "r1"}}
	lb, err = FitTabular([]feedback.Item{it}, sep, nil, TabularConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if lb.Ridge != DefaultRidge || len(lb.Notes) == 0 {
		t.Errorf("separated data: ridge %v, notes %v", lb.Ridge, lb.Notes)
	}
	if _, err := FitTabular([]feedback.Item{it}, sep, nil, TabularConfig{Reference: "nobody"}); err == nil {
		t.Error("an unknown reference should be an error")
	}
	if _, err := FitTabular([]feedback.Item{it}, nil, nil, TabularConfig{}); !errors.Is(err, ErrNoComparisons) {
		t.Errorf("no pairs: %v", err)
	}
	if !reflect.DeepEqual(lb.Model().Family(), FamilyTabular) {
		t.Error("family")
	}
}
