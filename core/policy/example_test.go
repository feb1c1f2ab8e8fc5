package policy_test

import (
	"fmt"

	"prefer/core/feedback"
	"prefer/core/policy"
)

func gold(v float64) *float64 { return &v }

// items is a two-prompt dataset with gold utilities: the reward to optimize.
func items() []feedback.Item {
	return []feedback.Item{
		{ID: "q1", Prompt: "What is 2+2?", Responses: []feedback.Response{
			{ID: "a", Text: "4", Gold: gold(1)},
			{ID: "b", Text: "5", Gold: gold(-1)},
			{ID: "c", Text: "I can not help with that.", Gold: gold(-0.5)},
		}},
		{ID: "q2", Prompt: "Capital of France?", Responses: []feedback.Response{
			{ID: "d", Text: "Paris", Gold: gold(1)},
			{ID: "e", Text: "Lyon", Gold: gold(-1)},
		}},
	}
}

// The closed-form optimum of E[r] − β·KL(π‖π_ref): π* ∝ π_ref·exp(r/β).
func ExampleOptimum() {
	ref := []float64{0.5, 0.3, 0.2}
	r := []float64{1, 0, 2}
	fmt.Printf("%.4f\n", policy.Optimum(make([]float64, 3), ref, r, 1, 0))
	// Output: [0.4333 0.0956 0.4711]
}

// PPO on the candidate policy converges to the closed-form optimum: it stops once no
// prompt's distribution is farther than DefaultTol in total variation from π*.
func ExamplePPO() {
	its := items()
	c, _ := policy.NewCandidate(its, policy.CandidateConfig{})
	env := policy.Env{Proxy: policy.ItemGold, Gold: policy.ItemGold}
	res, _ := policy.PPO(c, env, policy.PPOConfig{KL: policy.KLConfig{Beta: 1}, Seed: 1})
	opt := policy.Optimum(make([]float64, 3), []float64{1. / 3, 1. / 3, 1. / 3}, []float64{1, -1, -0.5}, 1, 0)
	fmt.Printf("converged %v after %d steps: max TV %.3f ≤ %.2f\n", res.Converged, res.Steps, res.Criterion, res.Tol)
	fmt.Printf("π(·|q1) %.2f\nπ*(·|q1) %.2f\n", c.Probs(make([]float64, 3), 0), opt)
	// Output:
	// converged true after 50 steps: max TV 0.015 ≤ 0.02
	// π(·|q1) [0.74 0.09 0.17]
	// π*(·|q1) [0.74 0.10 0.16]
}

// Best-of-N over discrete outcomes, and the continuous-reward formula beside it.
func ExampleBestOfNProbs() {
	ref := []float64{0.5, 0.3, 0.2}
	p := policy.BestOfNProbs(make([]float64, 3), ref, []float64{0, 1, 2}, 4)
	fmt.Printf("P %.4f\nexact KL %.4f, formula %.4f\n", p, policy.ExactKL(p, ref), policy.BoNKL(4))
	// Output:
	// P [0.0625 0.3471 0.5904]
	// exact KL 0.5598, formula 0.6363
}

// The adaptive KL controller of Ziegler et al. (2019).
func ExampleController() {
	c := policy.NewController(policy.KLConfig{Beta: 0.2, TargetKL: 6, Horizon: 10000})
	c.Update(12, 256)
	fmt.Printf("%.6f\n", c.Beta)
	// Output: 0.201024
}

// A β sweep: proxy and gold against √KL (here the proxy is the gold itself, so
// both rise together and nothing is flagged).
func ExampleSweep() {
	env := policy.Env{Proxy: policy.ItemGold, Gold: policy.ItemGold}
	res, _ := policy.Sweep(items(), env, policy.SweepConfig{Betas: []float64{10, 1, 0.1}})
	for _, p := range res.Points {
		fmt.Printf("β %-4g √KL %.3f proxy %.3f gold %.3f\n", p.Beta, p.SqrtKL, p.Proxy, p.Gold)
	}
	fmt.Println("alerts:", len(res.Alerts))
	// Output:
	// β 10   √KL 0.066 proxy 0.003 gold 0.003
	// β 1    √KL 0.581 proxy 0.658 gold 0.658
	// β 0.1  √KL 0.947 proxy 1.000 gold 1.000
	// alerts: 0
}
