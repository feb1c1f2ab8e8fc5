package policy

import (
	"math"

	"prefer/core/num"
)

// Convergence. On the candidate policy the target of every optimizer is known
// exactly, so each one stops on a documented criterion instead of running a fixed
// number of steps, and Steps is only a cap:
//
//   - PPO and RLOO maximize E[r] − β·KL(π‖π_ref) + α·H(π), whose maximizer is the
//     closed form π*_β (Optimum; Ziegler et al. 2019, Rafailov et al. 2023 eq. 4).
//     The criterion is the largest total variation distance, over prompts, between
//     π_θ(·|x) and π*_β(·|x) at the step's β (with the adaptive controller, β moves;
//     the criterion follows it):
//
//     c_t = max_x TV(π_θ(·|x), π*_{β_t}(·|x))
//
//   - DPO and IPO minimize a loss over preference pairs whose value depends only on
//     the margins Δ = log(π(y_w)/π_ref(y_w)) − log(π(y_l)/π_ref(y_l)) of the pairs, so
//     the minimizer is unique in the margins, not in π (a response no pair names
//     keeps its reference logit; a group of responses linked by no pair may shift as
//     a block). The criterion compares the pair probabilities the policy implies
//     with their values at the minimizer Δ* (PrefOptimum):
//
//     c_t = max_pairs |σ(β·Δ_t) − σ(β·Δ*)|
//
// A run stops at the first step with c_t ≤ Tol (DefaultTol) and reports whether it
// converged and c_t's last value (Result.Converged, Result.Criterion; the run's
// summary keys "converged" 1/0, "criterion", "tolerance"). A generative policy has
// no closed form: its runs take every step and report the criterion as unknown.

// DefaultTol is the convergence tolerance of PPO, RLOO, DPO and IPO on the
// candidate policy: 0.05 of probability, in total variation for the reward-based
// optimizers and in the implied pair probabilities for the preference-based ones.
// Below what any page or table shows as a difference worth reading (two decimals of
// a probability), and reachable: on the demo PPO meets it after about 2,200 steps.
const DefaultTol = 0.02

// DefaultLabelSmoothing is the ε of conservative DPO (Mitchell 2023, "A note on DPO
// with noisy preferences and relationship to IPO"; TRL's DPOConfig.label_smoothing)
// that DPO uses when the preferences of some prompt are separated (Separated): each
// preference is taken as right with probability 1 − ε, which makes the loss's
// minimizer finite — the margin of a pair never contradicted becomes
// β·Δ* = log((1 − ε)/ε) = log 9 ≈ 2.2 instead of growing without bound.
const DefaultLabelSmoothing = 0.1

// Separated returns the prompts whose preferences have no finite DPO minimizer: within
// a group of responses linked by preference pairs, some response never loses or never
// wins (the comparison graph is not strongly connected: Ford 1957, the condition of
// Bradley–Terry maximum likelihood, which DPO's optimum is; Rafailov et al. 2023 §4).
// The plain DPO loss then keeps falling as that response's probability goes to 0 or
// 1, and where a run ends is set by its step count. nPrompts bounds the prompt
// indices; the result is in ascending order.
func Separated(prefs []Pref, nPrompts int) []int {
	byPrompt := make([][]Pref, nPrompts)
	for _, pr := range prefs {
		if pr.Prompt >= 0 && pr.Prompt < nPrompts {
			byPrompt[pr.Prompt] = append(byPrompt[pr.Prompt], pr)
		}
	}
	var out []int
	for p, ps := range byPrompt {
		if len(ps) > 0 && separatedPrompt(ps) {
			out = append(out, p)
		}
	}
	return out
}

// separatedPrompt reports whether some group of responses linked by the pairs of one
// prompt is not strongly connected by "beat" edges.
func separatedPrompt(ps []Pref) bool {
	fwd := map[int][]int{}
	bwd := map[int][]int{}
	for _, pr := range ps {
		fwd[pr.Winner] = append(fwd[pr.Winner], pr.Loser)
		bwd[pr.Loser] = append(bwd[pr.Loser], pr.Winner)
	}
	for _, comp := range components(ps) {
		if len(comp) < 2 {
			continue
		}
		if reach(comp[0], fwd) != len(comp) || reach(comp[0], bwd) != len(comp) {
			return true
		}
	}
	return false
}

// reach counts the responses reachable from start along adj (start included).
func reach(start int, adj map[int][]int) int {
	seen := map[int]bool{start: true}
	stack := []int{start}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, y := range adj[x] {
			if !seen[y] {
				seen[y] = true
				stack = append(stack, y)
			}
		}
	}
	return len(seen)
}

// components returns the groups of responses linked by the pairs of one prompt, each
// in ascending order, groups ordered by their smallest response.
func components(ps []Pref) [][]int {
	parent := map[int]int{}
	var find func(int) int
	find = func(x int) int {
		if _, ok := parent[x]; !ok {
			parent[x] = x
		}
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	maxR := 0
	for _, pr := range ps {
		a, b := find(pr.Winner), find(pr.Loser)
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
		maxR = max(maxR, pr.Winner, pr.Loser)
	}
	byRoot := map[int]int{}
	var out [][]int
	for r := 0; r <= maxR; r++ {
		if _, ok := parent[r]; !ok {
			continue
		}
		root := find(r)
		c, ok := byRoot[root]
		if !ok {
			c = len(out)
			byRoot[root] = c
			out = append(out, nil)
		}
		out[c] = append(out[c], r)
	}
	return out
}

// PrefOptimum returns the margins Δ*_i of every pair at the minimizer of the mean
// DPO or IPO loss over prefs (DPOLoss; for DPO with label smoothing ε,
//
//	f(Δ) = −(1−ε)·log σ(β·Δ) − ε·log σ(−β·Δ)
//
// per pair), solved per group of linked responses by Newton's method on the
// implicit rewards with one fixed at 0 (the loss depends on their differences
// only). ok is false when a minimizer does not exist: plain DPO (ε = 0) on
// separated preferences (Separated).
func PrefOptimum(prefs []Pref, nPrompts int, beta float64, loss string, eps float64) (deltas []float64, ok bool) {
	byPrompt := make([][]int, nPrompts)
	for i, pr := range prefs {
		byPrompt[pr.Prompt] = append(byPrompt[pr.Prompt], i)
	}
	deltas = make([]float64, len(prefs))
	for _, idx := range byPrompt {
		if len(idx) == 0 {
			continue
		}
		ps := make([]Pref, len(idx))
		for k, i := range idx {
			ps[k] = prefs[i]
		}
		if loss != LossIPO && eps == 0 && separatedPrompt(ps) {
			return nil, false
		}
		h := map[int]float64{}
		for _, comp := range components(ps) {
			solveGroup(h, comp, ps, beta, loss, eps)
		}
		for k, i := range idx {
			deltas[i] = h[ps[k].Winner] - h[ps[k].Loser]
		}
	}
	return deltas, true
}

// solveGroup minimizes Σ_pairs f(h_w − h_l) over the responses of one group (comp,
// the first fixed at 0) by Newton's method with backtracking, and writes h.
func solveGroup(h map[int]float64, comp []int, ps []Pref, beta float64, loss string, eps float64) {
	pos := make(map[int]int, len(comp))
	for k, r := range comp {
		pos[r] = k
		h[r] = 0
	}
	n := len(comp) - 1 // free variables: comp[1:]
	if n == 0 {
		return
	}
	var mine []Pref
	for _, pr := range ps {
		if _, ok := pos[pr.Winner]; ok {
			mine = append(mine, pr)
		}
	}
	// f, f′, f″ of one pair at margin d.
	pair := func(d float64) (f, g, hh float64) {
		if loss == LossIPO {
			c := d - 1/float64(2*beta)
			return float64(c * c), float64(2 * c), 2
		}
		s := num.Sigmoid(float64(beta * d))
		f = float64((1-eps)*num.Softplus(float64(-beta*d))) + float64(eps*num.Softplus(float64(beta*d)))
		return f, float64(beta * (s - (1 - eps))), float64(float64(float64(beta*beta)*s) * (1 - s))
	}
	obj := func(x []float64) float64 {
		var f float64
		for _, pr := range mine {
			v, _, _ := pair(x[pos[pr.Winner]] - x[pos[pr.Loser]])
			f += v
		}
		return f
	}
	x := make([]float64, len(comp))
	grad := make([]float64, len(comp))
	hess := make([]float64, len(comp)*len(comp))
	for it := 0; it < 200; it++ {
		clear(grad)
		clear(hess)
		for _, pr := range mine {
			a, b := pos[pr.Winner], pos[pr.Loser]
			_, g, hh := pair(x[a] - x[b])
			grad[a] += g
			grad[b] -= g
			m := len(comp)
			hess[a*m+a] += hh
			hess[b*m+b] += hh
			hess[a*m+b] -= hh
			hess[b*m+a] -= hh
		}
		gmax := 0.0
		for _, g := range grad[1:] {
			gmax = math.Max(gmax, math.Abs(g))
		}
		if gmax < 1e-12 {
			break
		}
		step := solveReduced(hess, grad, len(comp))
		f0 := obj(x)
		t := 1.0
		trial := make([]float64, len(x))
		for k := 0; k < 60; k++ {
			for i := 1; i < len(x); i++ {
				trial[i] = x[i] - float64(t*step[i-1])
			}
			if obj(trial) <= f0 {
				break
			}
			t /= 2
		}
		copy(x, trial)
	}
	for k, r := range comp {
		h[r] = x[k]
	}
}

// solveReduced solves H[1:,1:]·s = g[1:] (the first variable fixed) by Gaussian
// elimination with partial pivoting; H is m×m row-major.
func solveReduced(hess, grad []float64, m int) []float64 {
	n := m - 1
	a := make([]float64, n*(n+1))
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a[i*(n+1)+j] = hess[(i+1)*m+(j+1)]
		}
		a[i*(n+1)+n] = grad[i+1]
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r*(n+1)+c]) > math.Abs(a[p*(n+1)+c]) {
				p = r
			}
		}
		if p != c {
			for j := 0; j <= n; j++ {
				a[c*(n+1)+j], a[p*(n+1)+j] = a[p*(n+1)+j], a[c*(n+1)+j]
			}
		}
		piv := a[c*(n+1)+c]
		if piv == 0 {
			piv = 1e-300
		}
		for r := c + 1; r < n; r++ {
			f := a[r*(n+1)+c] / piv
			if f == 0 {
				continue
			}
			for j := c; j <= n; j++ {
				a[r*(n+1)+j] -= float64(f * a[c*(n+1)+j])
			}
		}
	}
	s := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		v := a[i*(n+1)+n]
		for j := i + 1; j < n; j++ {
			v -= float64(a[i*(n+1)+j] * s[j])
		}
		d := a[i*(n+1)+i]
		if d == 0 {
			d = 1e-300
		}
		s[i] = v / d
	}
	return s
}

// prefCriterion is the DPO/IPO criterion of an exact policy: the largest
// |σ(β·Δ_t) − σ(β·Δ*)| over the pairs.
func prefCriterion(p Exact, prefs []Pref, opt []float64, beta float64) float64 {
	items := p.Items()
	cache := map[int][2][]float64{}
	var worst float64
	for i, pr := range prefs {
		pq, ok := cache[pr.Prompt]
		if !ok {
			k := len(items[pr.Prompt].Responses)
			pq = [2][]float64{p.Probs(make([]float64, k), pr.Prompt), p.RefProbs(make([]float64, k), pr.Prompt)}
			cache[pr.Prompt] = pq
		}
		pi, ref := pq[0], pq[1]
		d := (num.Log(pi[pr.Winner]) - num.Log(ref[pr.Winner])) - (num.Log(pi[pr.Loser]) - num.Log(ref[pr.Loser]))
		worst = math.Max(worst, math.Abs(num.Sigmoid(float64(beta*d))-num.Sigmoid(float64(beta*opt[i]))))
	}
	return worst
}

// rewardCriterion is the PPO/RLOO criterion of an exact policy: the largest total
// variation distance over prompts between π_θ and the optimum π*_β of the proxy
// rewards t at β with entropy bonus α.
func (s *stopper) rewardCriterion(p Exact, t Table, beta, alpha float64) float64 {
	items := p.Items()
	var worst float64
	for q := range items {
		k := len(items[q].Responses)
		s.pr, s.ref, s.opt = grow(s.pr, k), grow(s.ref, k), grow(s.opt, k)
		p.Probs(s.pr, q)
		p.RefProbs(s.ref, q)
		Optimum(s.opt, s.ref, t.Row(q), beta, alpha)
		worst = math.Max(worst, TV(s.pr, s.opt))
	}
	return worst
}

// stopper records a run's convergence criterion step by step and says when it is
// met.
type stopper struct {
	tol          float64 // ≤ 0: the run never stops early
	series       []float64
	res          *Result
	pr, ref, opt []float64 // rewardCriterion's buffers
}

// newStopper starts the record of res for a run of at most steps steps; tol 0
// means DefaultTol, a negative tol turns early stopping off (the criterion is still
// recorded).
func newStopper(res *Result, tol float64, steps int) *stopper {
	if tol == 0 {
		tol = DefaultTol
	}
	res.Criterion, res.Tol = Unknown, math.Max(tol, 0)
	return &stopper{tol: tol, res: res, series: make([]float64, 0, min(steps, 1<<16))}
}

// check records the step's criterion c and reports whether the run has converged.
func (s *stopper) check(c float64) bool {
	s.res.Criterion = c
	s.series = append(s.series, c)
	if s.tol > 0 && c <= s.tol {
		s.res.Converged = true
		return true
	}
	return false
}

// record adds the criterion to the run when it was measured (the candidate policy):
// the series "criterion", and the summary's "converged" (1 or 0), "criterion" and
// "tolerance". A generative policy's run gets none of them.
func (s *stopper) record(res *Result) {
	if len(s.series) == 0 {
		return
	}
	res.Run.Series["criterion"] = s.series
	res.Run.Summary["converged"] = b2f(res.Converged)
	res.Run.Summary["criterion"] = res.Criterion
	res.Run.Summary["tolerance"] = res.Tol
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// closedForm marks a run that set the policy to its target exactly (the exact
// solver, best-of-N): converged, criterion 0, no tolerance (NaN: none applies).
func closedForm(res *Result) {
	res.Converged, res.Criterion, res.Tol = true, 0, math.NaN()
	res.Run.Summary["converged"], res.Run.Summary["criterion"] = 1, 0
}
