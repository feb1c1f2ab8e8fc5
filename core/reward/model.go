package reward

import (
	"prefer/core/feedback"
)

// Model scores a response text for an item. Higher is better.
//
// Scores are only meaningful as differences within one item (Bradley–Terry identifies
// nothing else), except for the feature-based families, whose scores share one scale
// across items. A tabular model knows the responses it was trained on, looked up by
// item id and response text (or ResponseID(text)); for any other text it returns 0.
type Model interface {
	Score(it *feedback.Item, text string) float64
	Family() string
}

// Model families.
const (
	FamilyTabular  = "tabular"  // one free score per response (a leaderboard)
	FamilyLinear   = "linear"   // linear on hashed text features
	FamilyMLP      = "mlp"      // one hidden layer on the same features
	FamilyEnsemble = "ensemble" // several members of one family; mean score
)

// Families lists the families Train accepts, in display order.
var Families = []string{FamilyTabular, FamilyLinear, FamilyMLP, FamilyEnsemble}

// Config is the configuration of Train. The zero value trains a linear model with the
// defaults given on each field; zero fields take their defaults.
type Config struct {
	// Family is the model family: tabular, linear (default), mlp or ensemble.
	Family string
	// Seed drives every random choice: the held-out split, initialisation, batch
	// order, bagging. Same data + same Config ⇒ bit-identical model natively and in wasm.
	Seed uint64

	// Holdout is the fraction of the data kept out of training to report held-out
	// metrics (default 0.2). A negative value keeps nothing out.
	Holdout float64
	// Valid is the fraction of the remaining training data used for early stopping
	// (default 0.1; negative: no early stopping, all epochs run). It is split off the
	// training part so that the held-out metrics stay honest.
	Valid float64
	// SplitBy is "item" (whole prompts held out: the default for feature models, the
	// honest test of generalisation to new prompts) or "pair" (single comparisons held
	// out: the default and the only choice for tabular models, which cannot score
	// responses they never saw).
	SplitBy string

	// Epochs is the maximum number of passes over the training data (default 100);
	// for the linear family, which is fitted full-batch by L-BFGS, the maximum number
	// of iterations at each penalty of its path (see L2).
	Epochs int
	// Patience stops training after this many epochs (linear: iterations) without a
	// lower validation loss (default 8); the parameters of the best one are kept.
	Patience int
	// Batch is the number of batch elements (pairs, ties or whole rankings) per
	// optimizer step (default 32). MLP only.
	Batch int
	// LR is the AdamW learning rate (default 0.01). MLP only.
	LR float64
	// WeightDecay is AdamW's decoupled weight decay on weights, not biases
	// (Loshchilov & Hutter 2019; default 1e-3; negative: none). MLP only.
	WeightDecay float64
	// L2 is the first penalty of the linear model's full-batch fit: ½·L2·‖w‖² added
	// to the summed loss, so L2/(2n)·‖w‖² to the mean over n training elements
	// (scikit-learn's logistic regression with C = 1/L2; default 1, its default C).
	// The fit then lowers it to L2/3, L2/10 and L2/30, each warm-started from the best
	// parameters so far, for as long as a penalty lowers the validation loss (a
	// regularization path; without a validation split it stays at L2). Negative: no
	// penalty.
	L2 float64

	// BothBadTie counts a "both bad" comparison as a tie (feedback.BothBadTie): the
	// two responses are close, and both below the others. Default: dropped.
	BothBadTie bool

	// Margin is added per unit of rater strength (1..3) to the required reward gap of a
	// decided pair, TRL's margin: loss softplus(−(Δ − Margin·strength)). Default 0.
	Margin float64
	// Center is TRL's center_rewards_coefficient: adds Center·mean((r_w + r_l)²) to the
	// loss to keep rewards near zero (Eisenstein et al. 2023 recommend 0.01). Default 0.
	Center float64

	// Features configures the hashed text features (linear and mlp).
	Features FeatureConfig
	// Hidden is the width of the MLP's hidden layer (default 32).
	Hidden int

	// Member is the family of an ensemble's members: linear (default), mlp or tabular.
	Member string
	// Members is the ensemble size (default 5).
	Members int
	// NoBagging trains every member on the whole training set (members then differ
	// only by seed). By default each member trains on a bootstrap resample.
	NoBagging bool

	// Tabular configures the tabular family (Ridge, PositionEffect, Reference).
	Tabular TabularConfig

	// TopK is the number of confident disagreements and reward-driving features the
	// diagnostics list (default 10).
	TopK int

	// Progress, if set, is called after every epoch (every Newton iteration for
	// tabular) with the mean training loss and the held-out loss (NaN when there is
	// no held-out split). Returning false cancels training: Train then returns
	// ErrCanceled.
	Progress func(epoch int, trainLoss, heldLoss float64) bool
}

// Result is what Train returns.
type Result struct {
	Model   Model
	Metrics Metrics
	Curves  Curves
	Diag    Diagnostics
	Split   Split
	Config  Config // the configuration with defaults filled in
}

// Curves are the per-epoch learning curves (per Newton iteration for tabular).
// All slices have one value per epoch run; NaN where a split is empty.
type Curves struct {
	TrainLoss []float64 // mean training loss over the epoch's batches
	ValidLoss []float64 // loss on the early-stopping split
	HeldLoss  []float64 // loss on the held-out split
	HeldAcc   []float64 // accuracy on the held-out split
	BestEpoch int       // the epoch (1-based) whose parameters were kept
}

// add appends one epoch's (or iteration's) figures to the curves.
func (cv *Curves) add(trainLoss, validLoss, heldLoss, heldAcc float64) {
	cv.TrainLoss = append(cv.TrainLoss, trainLoss)
	cv.ValidLoss = append(cv.ValidLoss, validLoss)
	cv.HeldLoss = append(cv.HeldLoss, heldLoss)
	cv.HeldAcc = append(cv.HeldAcc, heldAcc)
}

// Split records which data was held out.
type Split struct {
	By        string   // "item" or "pair"
	HeldItems []string // items held out (SplitBy item)
	NTrain    int      // batch elements used for training
	NValid    int      // batch elements used for early stopping
	NHeld     int      // batch elements held out
}
