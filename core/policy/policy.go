package policy

import (
	"math"

	"prefer/core/feedback"
	"prefer/core/rng"
)

// Sample is one response of a policy to one prompt: an episode.
//
// A candidate policy's sample is a one-step episode: Cand is the index of the chosen
// candidate response of the prompt's item and Tokens is nil, so the sample has exactly
// one action. A generative policy's sample is the list of tokens it generated (its
// actions, one per step), with Cand = −1 unless the text equals a given candidate.
//
// Per-token arrays of a batch of samples ss are flat: sample i's actions occupy
// [off_i, off_i + ss[i].Len()) with off_i = Σ_{j<i} ss[j].Len() (see Offsets). For
// candidate policies a per-token array therefore has one entry per sample.
type Sample struct {
	Prompt int    // index of the prompt in the policy's Items
	Cand   int    // index of a given candidate response of the prompt, or −1
	Tokens []int  // generated token ids (the actions); nil for a candidate sample
	Text   string // the response text: what a reward function scores
}

// Len returns the number of actions of the sample: len(Tokens), or 1 for a candidate
// sample (Tokens == nil).
func (s *Sample) Len() int {
	if s.Tokens == nil {
		return 1
	}
	return len(s.Tokens)
}

// Actions returns Σ_i ss[i].Len(), the length of a flat per-token array over ss.
func Actions(ss []Sample) int {
	n := 0
	for i := range ss {
		n += ss[i].Len()
	}
	return n
}

// Policy is what the optimizers (PPO, RLOO, DPO, IPO, best-of-N) need from a
// stochastic policy π_θ(y|x) over responses y to prompts x.
//
// The policy answers the prompts of a fixed list of items (prompt p is Items()[p]);
// it owns its parameters, their gradient buffer, its optimizer state and a frozen
// reference π_ref (its initial state, or recorded reference probabilities).
//
// Batched methods take a slice of samples and flat per-token arrays (shape (N),
// N = Actions(ss), see Sample). A shape mismatch is a programmer error and panics.
// Implementations must be deterministic: the same calls in the same order give
// bit-identical results on every platform.
type Policy interface {
	// Items returns the prompts the policy answers, with their given candidate
	// responses. The optimizers never modify them.
	Items() []feedback.Item

	// Sample appends n responses to prompt drawn from the current π_θ(·|x) to dst
	// and returns the extended slice. All randomness comes from r.
	Sample(dst []Sample, r *rng.RNG, prompt, n int) []Sample

	// Given returns given candidate response k of prompt as a sample (a generative
	// policy tokenizes its text), so DPO and IPO can score preference pairs.
	Given(prompt, k int) Sample

	// LogProbs writes log π_θ(a_t | x, a_<t) for every action of ss into dst
	// (len(dst) == Actions(ss)). For a candidate sample the single entry is
	// log π_θ(y|x).
	LogProbs(dst []float64, ss []Sample)

	// RefLogProbs writes log π_ref(a_t | x, a_<t) for every action of ss into dst,
	// under the frozen reference policy.
	RefLogProbs(dst []float64, ss []Sample)

	// Backward accumulates into the gradient buffer the gradient of the loss
	//
	//	L(θ) = Σ_t w_t · log π_θ(a_t | x, a_<t)     (t over all actions of ss)
	//
	// with w of shape (N), N = Actions(ss). Optimizers pass w_t = ∂L/∂log π_t.
	// An implementation may recompute the forward pass or reuse activations cached
	// by the last LogProbs call on the same samples.
	Backward(ss []Sample, w []float64)

	// Step applies one optimizer update that descends the accumulated gradient with
	// learning rate lr, then clears the gradient buffer.
	Step(lr float64)
}

// Valued is a policy with a value head V_φ (the critic of PPO). The value of action
// position t is the expected return from there on, V(x, a_<t).
// Step updates the value parameters together with the policy's.
type Valued interface {
	Policy
	// Values writes V(x, a_<t) for every action position of ss into dst, shape (N).
	Values(dst []float64, ss []Sample)
	// BackwardValue accumulates the gradient of Σ_t g_t · V_t, g of shape (N).
	BackwardValue(ss []Sample, g []float64)
}

// Exact is a policy over a finite set of responses per prompt (the candidate
// policy): its distributions can be enumerated, so KL, entropy and expected rewards
// are exact rather than estimated.
type Exact interface {
	Policy
	// Probs writes π_θ(k|x) for every candidate k of prompt into dst
	// (len(dst) == len(Items()[prompt].Responses)) and returns dst.
	Probs(dst []float64, prompt int) []float64
	// RefProbs writes π_ref(k|x) likewise.
	RefProbs(dst []float64, prompt int) []float64
}

// Reward scores a response text to an item's prompt: the proxy reward r(x,y) that is
// optimized (a reward model, a tabular score) or the gold utility of the demo
// domain. It must be deterministic. Use Unknown for "no score".
type Reward func(it *feedback.Item, text string) float64

// Unknown is the value a gold Reward returns, and metrics hold, when no score is
// known (NaN). Test with math.IsNaN.
var Unknown = math.NaN()

// Progress is called after every optimization step with the step number (1-based)
// and that step's metrics; returning false cancels the run, which then ends with
// the state reached so far. The browser's worker reports progress through it.
type Progress func(step int, m Metrics) bool

// Metrics are the measurements of one optimization step. Values that do not apply
// are NaN (Unknown), e.g. Gold without gold utilities or ValueLoss without a critic.
//
// For an Exact policy Reward, Gold, KL and Entropy are exact expectations under the
// current policy, averaged over prompts; otherwise they are averages over the
// step's samples and KL is NaN (only the estimators apply).
type Metrics struct {
	Step      int
	Reward    float64 // E_π[r] (proxy), mean over prompts
	Gold      float64 // E_π[gold utility], NaN when unknown
	KL        float64 // exact KL(π‖π_ref) per prompt, mean over prompts
	KLk1      float64 // sample estimate Σ_t k1 = Σ_t (log π − log π_ref), mean over samples
	KLk3      float64 // sample estimate Σ_t k3, k3 = (ρ − 1) − log ρ, ρ = π_ref/π
	Beta      float64 // the KL coefficient in force during the step
	Entropy   float64 // H(π(·|x)) per prompt, mean over prompts (sample estimate −log π otherwise)
	Distinct1 float64 // distinct unigrams / unigrams over the step's sampled texts
	Distinct2 float64 // distinct bigrams / bigrams over the step's sampled texts
	Loss      float64 // the algorithm's policy loss
	ValueLoss float64 // PPO critic loss
	ClipFrac  float64 // PPO: fraction of actions whose ratio was clipped
	Skipped   float64 // PPO: 1 if the step's batch was skipped as exploding
	Accuracy  float64 // DPO/IPO: fraction of pairs whose implicit reward ranks the winner first
	Margin    float64 // DPO/IPO: mean implicit-reward margin β·Δ
}
