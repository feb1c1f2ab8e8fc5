package reward

import "math"

// Metrics are a trained model's headline numbers, on the held-out split unless named
// otherwise. Values that cannot be computed (no held-out split, no gold utilities)
// are NaN.
type Metrics struct {
	HeldAcc     float64 // accuracy on held-out decided pairs; a tie of scores counts as wrong (TRL)
	HeldLogLoss float64 // mean −log P(observed outcome) per held-out batch element, ties included
	// HeldDecidedLogLoss is the mean −log P(winner wins | a decision) over the
	// held-out decided comparisons only: the log-loss to read against ln 2 ≈ 0.693
	// (a model that knows nothing). HeldLogLoss also counts each held-out tie at
	// −log P(tie), which is large when the fitted tie threshold η is small (about 3.9
	// nats at η = 0.04), so it cannot be read against ln 2.
	HeldDecidedLogLoss float64
	TrainAcc           float64 // accuracy on the training pairs
	TrainLogLoss       float64 // mean loss per training batch element
	ECE                float64 // expected calibration error of held-out decided pairs

	LengthSpearman     float64 // Spearman ρ of reward with word count, held-out responses
	GoldSpearman       float64 // Spearman ρ of reward with gold utility, held-out responses pooled
	GoldSpearmanWithin float64 // the same within each item, averaged over items
	GoldPairAcc        float64 // fraction of held-out response pairs (gold differs) ordered as gold

	Eta       float64 // fitted Rao–Kupper tie threshold (0: no ties)
	Epochs    int     // epochs (Newton iterations) run
	BestEpoch int     // the epoch kept
	NTrain    int     // training batch elements
	NHeld     int     // held-out batch elements
}

// Map returns the metrics as named scalars for a snapshot, where every float must
// be finite: the keys of All whose values are known (NaN values left out).
func (m Metrics) Map() map[string]float64 {
	out := m.All()
	for k, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(out, k)
		}
	}
	return out
}

// All returns every metric by name, NaN where it is unknown (JSON writes it as null
// through num.Float). Keys: held_acc, held_logloss, held_decided_logloss, train_acc,
// train_logloss, ece, length_spearman, gold_spearman, gold_spearman_within,
// gold_pair_acc, eta, epochs, best_epoch, n_train, n_held.
func (m Metrics) All() map[string]float64 {
	out := map[string]float64{}
	put := func(k string, v float64) { out[k] = v }
	put("held_acc", m.HeldAcc)
	put("held_logloss", m.HeldLogLoss)
	put("held_decided_logloss", m.HeldDecidedLogLoss)
	put("train_acc", m.TrainAcc)
	put("train_logloss", m.TrainLogLoss)
	put("ece", m.ECE)
	put("length_spearman", m.LengthSpearman)
	put("gold_spearman", m.GoldSpearman)
	put("gold_spearman_within", m.GoldSpearmanWithin)
	put("gold_pair_acc", m.GoldPairAcc)
	put("eta", m.Eta)
	put("epochs", float64(m.Epochs))
	put("best_epoch", float64(m.BestEpoch))
	put("n_train", float64(m.NTrain))
	put("n_held", float64(m.NHeld))
	return out
}

// Bin is one bin of a reliability diagram: decided pairs whose predicted
// probability of the more likely outcome (the confidence) falls in [Lo, Hi).
type Bin struct {
	Lo, Hi float64
	Count  int
	Conf   float64 // mean confidence
	Acc    float64 // fraction where the more likely outcome happened
}

// Disagreement is a held-out comparison the model gets confidently wrong.
type Disagreement struct {
	Item       string
	Prompt     string
	Winner     string // the response people preferred (id)
	Loser      string
	WinnerText string
	LoserText  string
	Rater      string
	PWinner    float64 // the model's probability that the winner wins (small = confident disagreement)
	Source     string  // judgment id
}

// Feature is an n-gram that drives a linear model's reward.
type Feature struct {
	Name   string  // "w:please" (word n-gram), "c:ple" (character n-gram), "len:words"
	Weight float64 // the n-gram's effective weight: sign · w[bucket]
	Bucket int
	Count  int // occurrences in the training texts
}

// PartEffect compares what a response part (a feedback.Response.Parts tag such as
// the demo domain's "polite" or "wrong") does to reward and to gold utility, over
// held-out responses: the mean with the part minus the mean without it, each in
// standard deviations of its own scale, so the two are comparable.
type PartEffect struct {
	Part   string
	N      int     // held-out responses with the part
	Reward float64 // standardized reward effect
	Gold   float64 // standardized gold effect (NaN without gold)
}

// Diagnostics explain a trained model's behaviour on held-out data.
type Diagnostics struct {
	Parts         []PartEffect   // per part tag, when responses carry parts
	Reliability   []Bin          // reliability diagram, confidence 0.5..1 in equal bins
	Disagreements []Disagreement // most confident disagreements with people, worst first
	TopPositive   []Feature      // n-grams that raise reward most (linear models)
	TopNegative   []Feature      // n-grams that lower reward most
	Notes         []string       // findings in words (verbosity, calibration, …)
}
