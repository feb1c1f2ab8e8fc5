package reward

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// TabularConfig configures the tabular (leaderboard) fit. The zero value fits plain
// Bradley–Terry by maximum likelihood.
type TabularConfig struct {
	// PositionEffect adds a global term α for the response shown on the left:
	// logit P(left wins) = λ_left − λ_right + α (a "home advantage"). Comparisons
	// whose side is unknown contribute without α.
	PositionEffect bool
	// Ridge is the precision of a Gaussian prior N(0, 1/Ridge) on every score.
	// 0 (default) means automatic: no prior on a group of compared responses whose
	// maximum-likelihood scores exist (it is strongly connected by wins, Ford 1957),
	// and DefaultRidge on each group whose scores do not (a response that never lost
	// or never won), with a note — the prior stays inside the separated groups, so
	// the other groups' scores, standard errors and degrees of freedom are the
	// maximum-likelihood ones. Under a prior every score of the group is free;
	// without one a reference response per group is fixed at 0.
	Ridge float64
	// Reference names the response fixed at 0 in each group that contains it, by id
	// or by text. Default: the first compared response of the group in the item's
	// order. Ignored under a prior (Ridge > 0).
	Reference string
	// Bootstrap is the number of bootstrap resamples of the judgments for percentile
	// confidence intervals (default 0: none; 200 is typical).
	Bootstrap int
	// Level is the confidence level of the intervals (default 0.95).
	Level float64
	// Seed drives the bootstrap resampling.
	Seed uint64
	// MaxIter bounds Newton's iterations (default 100).
	MaxIter int
	// Progress, if set, is called after each Newton iteration of the main fit with
	// the negative mean log-likelihood; returning false cancels (ErrCanceled).
	Progress func(iter int, loss float64) bool
}

// DefaultRidge is the prior precision used when the maximum-likelihood scores do not
// exist: a N(0, 10) prior, weak next to a handful of comparisons.
const DefaultRidge = 0.1

// bootstrapRidge keeps a resample's scores finite when it happens to separate; it
// moves a non-separated fit by far less than its standard errors.
const bootstrapRidge = 1e-4

// ErrCanceled is returned when a Progress callback asked to stop.
var ErrCanceled = errors.New("training canceled")

// ErrNoComparisons is returned when there is nothing to fit.
var ErrNoComparisons = errors.New("no usable comparisons: add compare or rank judgments (both-bad and flagged-vs-flagged comparisons are dropped)")

// Standing is one response's line in a leaderboard.
type Standing struct {
	ID        string
	Text      string
	Score     float64 // λ, 0 for the reference and for responses never compared
	SE        float64 // standard error (0 for the reference, NaN when not compared)
	CILow     float64 // bootstrap percentile interval (NaN without bootstrap)
	CIHigh    float64
	Wins      int // decided comparisons won (pairs of rankings included)
	Losses    int
	Ties      int
	Ranked    bool // compared at least once
	Reference bool // fixed at 0
}

// BoardItem is one item's leaderboard, best response first.
type BoardItem struct {
	ID        string
	Prompt    string
	Responses []Standing
}

// Leaderboard is the result of FitTabular.
type Leaderboard struct {
	Items []BoardItem

	PositionEffect bool
	Alpha, AlphaSE float64 // position effect α and its standard error
	AlphaCI        [2]float64
	Ties           bool    // the data held ties, so η was fitted
	Eta, EtaSE     float64 // Rao–Kupper tie threshold η = log θ

	LogLik     float64  // maximised log-likelihood (prior excluded)
	Deviance   float64  // residual deviance against the saturated model
	DF         int      // its degrees of freedom
	Ridge      float64  // prior precision used (0: maximum likelihood everywhere)
	PriorItems []string // under the automatic prior: the items of the groups that needed it
	Iterations int      // Newton iterations of the main fit
	Pairs      int      // comparisons used (pairs of rankings counted once each)
	Bootstrap  int      // bootstrap resamples
	Separated  int      // resamples whose maximum-likelihood scores did not exist
	Notes      []string
	Loss       []float64 // negative mean log-likelihood per Newton iteration

	model *Tabular
}

// Model returns the leaderboard as a reward model (scores per response).
func (lb *Leaderboard) Model() *Tabular { return lb.model }

// tpair is one weighted comparison between responses a and b (global indices).
// For a decided pair a won; side is +1 when a was shown on the left, −1 when b was,
// 0 when unknown.
type tpair struct {
	a, b int
	tie  bool
	side float64
	w    float64
}

// tabData holds the responses and the elements (judgments) of a tabular fit.
type tabData struct {
	itemIdx []int    // response → item index
	respID  []string // response ids
	text    []string
	elems   [][]tpair // one judgment each: a pair, or the C(K,2) pairs of a ranking
}

// newTabData indexes the responses of items and turns pairs and groups into elements.
// Pairs or groups naming an unknown item or response are skipped and counted.
func newTabData(items []feedback.Item, pairs []feedback.Pair, groups []feedback.Group) (*tabData, int) {
	d := &tabData{}
	index := make(map[string]map[string]int, len(items))
	for i := range items {
		it := &items[i]
		m := make(map[string]int, len(it.Responses))
		for _, r := range it.Responses {
			m[r.ID] = len(d.respID)
			d.itemIdx = append(d.itemIdx, i)
			d.respID = append(d.respID, r.ID)
			d.text = append(d.text, r.Text)
		}
		index[it.ID] = m
	}
	skipped := 0
	for _, p := range pairs {
		m := index[p.Item]
		a, okA := m[p.Winner]
		b, okB := m[p.Loser]
		if !okA || !okB || a == b {
			skipped++
			continue
		}
		side := 0.0
		switch p.Left {
		case p.Winner:
			side = 1
		case p.Loser:
			side = -1
		}
		d.elems = append(d.elems, []tpair{{a: a, b: b, tie: p.Tie, side: side, w: 1}})
	}
	for _, g := range groups {
		m := index[g.Item]
		ids := make([]int, 0, len(g.Ranked))
		ok := len(g.Ranked) >= 2
		for _, r := range g.Ranked {
			k, found := m[r]
			if !found {
				ok = false
				break
			}
			ids = append(ids, k)
		}
		if !ok {
			skipped++
			continue
		}
		k := len(ids)
		w := 2 / float64(k*(k-1))
		var el []tpair
		for x := 0; x < k; x++ {
			for y := x + 1; y < k; y++ {
				el = append(el, tpair{a: ids[x], b: ids[y], w: w})
			}
		}
		d.elems = append(d.elems, el)
	}
	return d, skipped
}

// tabProblem is one fit: the flattened weighted pairs, the groups of connected
// responses with their references, and the parameter layout.
type tabProblem struct {
	n      int // responses
	pairs  []tpair
	comps  [][]int   // responses of each connected group, ascending
	compOf []int     // response → group, −1 if not compared
	ref    []int     // group → reference response, −1 under a prior
	param  []int     // response → parameter index, −1 if fixed or not compared
	off    []int     // group → first parameter index
	size   []int     // group → number of free parameters
	nLam   int       // free score parameters
	alpha  int       // parameter index of α, −1 if none
	rho    int       // parameter index of ρ = log η, −1 if no ties
	np     int       // total parameters
	ridges []float64 // group → prior precision, 0 for none
	hasTie bool
	posEff bool
}

// newTabProblem flattens the elements with multiplicities mult (nil: once each) and
// lays out the parameters. prefRef lists preferred references per response (nil:
// none); a group takes its lowest-indexed preferred response, else its lowest index.
func newTabProblem(d *tabData, mult []int, prefRef []bool, positionEffect bool, ridge float64) *tabProblem {
	p := &tabProblem{n: len(d.respID), alpha: -1, rho: -1, posEff: positionEffect}
	hasTie, hasDecided := false, false
	for e, el := range d.elems {
		m := 1
		if mult != nil {
			m = mult[e]
		}
		if m == 0 {
			continue
		}
		for _, tp := range el {
			tp.w = float64(tp.w * float64(m))
			p.pairs = append(p.pairs, tp)
			if tp.tie {
				hasTie = true
			} else {
				hasDecided = true
			}
		}
	}
	// Union–find over compared responses.
	parent := make([]int, p.n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	used := make([]bool, p.n)
	for _, tp := range p.pairs {
		used[tp.a], used[tp.b] = true, true
		ra, rb := find(tp.a), find(tp.b)
		if ra != rb {
			if ra < rb {
				parent[rb] = ra
			} else {
				parent[ra] = rb
			}
		}
	}
	p.compOf = make([]int, p.n)
	rootComp := make(map[int]int)
	for i := 0; i < p.n; i++ {
		p.compOf[i] = -1
		if !used[i] {
			continue
		}
		r := find(i)
		c, ok := rootComp[r]
		if !ok {
			c = len(p.comps)
			rootComp[r] = c
			p.comps = append(p.comps, nil)
		}
		p.comps[c] = append(p.comps[c], i)
		p.compOf[i] = c
	}
	p.hasTie = hasTie && hasDecided
	ridges := make([]float64, len(p.comps))
	for c := range ridges {
		ridges[c] = ridge
	}
	p.layout(prefRef, ridges)
	return p
}

// layout sets each group's prior precision and lays out the parameters: a group
// without a prior fixes a reference response (its lowest-indexed preferred one,
// else its lowest index) at 0; a group under a prior leaves every score free.
func (p *tabProblem) layout(prefRef []bool, ridges []float64) {
	p.ridges = ridges
	p.ref = make([]int, len(p.comps))
	p.param = make([]int, p.n)
	for i := range p.param {
		p.param[i] = -1
	}
	p.off = make([]int, len(p.comps))
	p.size = make([]int, len(p.comps))
	k := 0
	for c, members := range p.comps {
		p.ref[c] = -1
		if ridges[c] == 0 {
			p.ref[c] = members[0]
			for _, r := range members {
				if prefRef != nil && prefRef[r] {
					p.ref[c] = r
					break
				}
			}
		}
		p.off[c] = k
		for _, r := range members {
			if r != p.ref[c] {
				p.param[r] = k
				k++
			}
		}
		p.size[c] = k - p.off[c]
	}
	p.nLam = k
	p.alpha = -1
	if p.posEff {
		for _, tp := range p.pairs {
			if tp.side != 0 {
				p.alpha = k
				k++
				break
			}
		}
	}
	p.rho = -1
	if p.hasTie {
		p.rho = k
		k++
	}
	p.np = k
}

// priorOnSeparated puts a prior of precision ridge on every group whose
// maximum-likelihood scores do not exist (mleExists) and on no other, and returns
// the groups it put one on (nil when none needed it).
func (p *tabProblem) priorOnSeparated(prefRef []bool, ridge float64) []int {
	sep := p.separated()
	var groups []int
	ridges := make([]float64, len(p.comps))
	for c, bad := range sep {
		if bad {
			ridges[c] = ridge
			groups = append(groups, c)
		}
	}
	if groups != nil {
		p.layout(prefRef, ridges)
	}
	return groups
}

// mleExists reports whether every group is strongly connected by "beat" edges (a
// tie links both ways): the condition of Ford (1957) for finite maximum-likelihood
// Bradley–Terry scores. It returns a response of a failing group.
func (p *tabProblem) mleExists() (bool, int) {
	sep := p.separated()
	for c, bad := range sep {
		if bad {
			return false, p.witness(c)
		}
	}
	return true, -1
}

// witness returns a response of group c that never lost or never won inside it, or
// its first response.
func (p *tabProblem) witness(c int) int {
	won := make(map[int]bool)
	lost := make(map[int]bool)
	for _, tp := range p.pairs {
		if p.compOf[tp.a] != c {
			continue
		}
		won[tp.a], lost[tp.b] = true, true
		if tp.tie {
			won[tp.b], lost[tp.a] = true, true
		}
	}
	for _, r := range p.comps[c] {
		if !won[r] || !lost[r] {
			return r
		}
	}
	return p.comps[c][0]
}

// separated reports, per group, whether it fails Ford's condition: it is not
// strongly connected by "beat" edges (a tie links both ways), so its
// maximum-likelihood scores do not exist.
func (p *tabProblem) separated() []bool {
	fwd := make([][]int, p.n)
	bwd := make([][]int, p.n)
	for _, tp := range p.pairs {
		fwd[tp.a] = append(fwd[tp.a], tp.b) // a beat b
		bwd[tp.b] = append(bwd[tp.b], tp.a)
		if tp.tie {
			fwd[tp.b] = append(fwd[tp.b], tp.a)
			bwd[tp.a] = append(bwd[tp.a], tp.b)
		}
	}
	seen := make([]int, p.n)
	mark := 0
	reach := func(start int, adj [][]int) int {
		mark++
		stack := []int{start}
		seen[start] = mark
		n := 0
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			for _, y := range adj[x] {
				if seen[y] != mark {
					seen[y] = mark
					stack = append(stack, y)
				}
			}
		}
		return n
	}
	out := make([]bool, len(p.comps))
	for c, members := range p.comps {
		if len(members) < 2 {
			continue
		}
		out[c] = reach(members[0], fwd) != len(members) || reach(members[0], bwd) != len(members)
	}
	return out
}

// state is a point in parameter space.
type tabState struct {
	lam   []float64 // per response (fixed and unused ones 0)
	alpha float64
	eta   float64
}

func (p *tabProblem) newState() *tabState { return &tabState{lam: make([]float64, p.n)} }

func (p *tabProblem) get(s *tabState, theta []float64) {
	for r, k := range p.param {
		if k >= 0 {
			theta[k] = s.lam[r]
		}
	}
	if p.alpha >= 0 {
		theta[p.alpha] = s.alpha
	}
	if p.rho >= 0 {
		theta[p.rho] = num.Log(s.eta)
	}
}

func (p *tabProblem) set(s *tabState, theta []float64) {
	for r, k := range p.param {
		if k >= 0 {
			s.lam[r] = theta[k]
		}
	}
	if p.alpha >= 0 {
		s.alpha = theta[p.alpha]
	}
	if p.rho >= 0 {
		s.eta = num.Exp(theta[p.rho])
	}
}

// hess holds −H in arrow form: dense blocks per group, coupling columns to the
// global parameters (α, ρ), and the global block.
type hess struct {
	blocks [][]float64 // group c: size×size
	couple [][]float64 // group c: size×m
	glob   []float64   // m×m
	m      int
}

// eval returns the penalised log-likelihood at s, its plain log-likelihood, and
// when g != nil the gradient (in θ) and −Hessian.
func (p *tabProblem) eval(s *tabState, g []float64, h *hess) (obj, ll float64) {
	if g != nil {
		for i := range g {
			g[i] = 0
		}
		for c := range h.blocks {
			clear(h.blocks[c])
			clear(h.couple[c])
		}
		clear(h.glob)
	}
	m := h.m
	gi := func(k int) int { // global parameter k (α or ρ) → index in 0..m-1
		return k - p.nLam
	}
	for _, tp := range p.pairs {
		d := s.lam[tp.a] - s.lam[tp.b] + float64(float64(s.alpha*tp.side)*boolf(p.alpha >= 0))
		var t llTerms
		if tp.tie {
			t = tieLL(d, s.eta)
		} else {
			t = decidedLL(d, s.eta)
		}
		ll += float64(tp.w * t.ll)
		if g == nil {
			continue
		}
		w := tp.w
		ka, kb := p.param[tp.a], p.param[tp.b]
		c := p.compOf[tp.a]
		off, sz := p.off[c], p.size[c]
		blk, cpl := h.blocks[c], h.couple[c]
		// gradient
		if ka >= 0 {
			g[ka] += float64(w * t.d)
		}
		if kb >= 0 {
			g[kb] -= float64(w * t.d)
		}
		// −Hessian in the λ block: d depends on +λa −λb.
		nd := float64(-w * t.dd)
		if ka >= 0 {
			blk[(ka-off)*sz+(ka-off)] += nd
		}
		if kb >= 0 {
			blk[(kb-off)*sz+(kb-off)] += nd
		}
		if ka >= 0 && kb >= 0 {
			blk[(ka-off)*sz+(kb-off)] -= nd
			blk[(kb-off)*sz+(ka-off)] -= nd
		}
		if p.alpha >= 0 {
			ia := gi(p.alpha)
			g[p.alpha] += float64(float64(w*t.d) * tp.side)
			if ka >= 0 {
				cpl[(ka-off)*m+ia] += float64(nd * tp.side)
			}
			if kb >= 0 {
				cpl[(kb-off)*m+ia] -= float64(nd * tp.side)
			}
			h.glob[ia*m+ia] += float64(float64(nd*tp.side) * tp.side)
		}
		if p.rho >= 0 {
			ir := gi(p.rho)
			eta := s.eta
			g[p.rho] += float64(float64(w*t.e) * eta)
			nde := float64(float64(-w*t.de) * eta) // −∂²ℓ/∂d∂ρ
			if ka >= 0 {
				cpl[(ka-off)*m+ir] += nde
			}
			if kb >= 0 {
				cpl[(kb-off)*m+ir] -= nde
			}
			if p.alpha >= 0 {
				ia := gi(p.alpha)
				h.glob[ia*m+ir] += float64(nde * tp.side)
				h.glob[ir*m+ia] += float64(nde * tp.side)
			}
			h.glob[ir*m+ir] += float64(-w * (float64(float64(eta*eta)*t.ee) + float64(eta*t.e)))
		}
	}
	obj = ll
	for r, k := range p.param {
		if k < 0 {
			continue
		}
		c := p.compOf[r]
		rd := p.ridges[c]
		if rd == 0 {
			continue
		}
		l := s.lam[r]
		obj -= float64(float64(float64(0.5*rd)*l) * l)
		if g != nil {
			g[k] -= float64(rd * l)
			j := k - p.off[c]
			h.blocks[c][j*p.size[c]+j] += rd
		}
	}
	return obj, ll
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (p *tabProblem) newHess() *hess {
	m := p.np - p.nLam
	h := &hess{m: m, glob: make([]float64, m*m)}
	for c := range p.comps {
		h.blocks = append(h.blocks, make([]float64, p.size[c]*p.size[c]))
		h.couple = append(h.couple, make([]float64, p.size[c]*m))
	}
	return h
}

// solve computes x = (−H + μI)⁻¹ g by the arrow structure: block Cholesky per group
// and a Schur complement for the global parameters. It returns false if the matrix
// is not positive definite. When diag != nil it also fills the diagonal of the
// inverse (variances).
func (p *tabProblem) solve(h *hess, mu float64, g, x, diag []float64) bool {
	m := h.m
	schur := append([]float64(nil), h.glob...)
	for i := 0; i < m; i++ {
		schur[i*m+i] += mu
	}
	rhsG := make([]float64, m)
	for i := 0; i < m; i++ {
		rhsG[i] = g[p.nLam+i]
	}
	type fac struct {
		l  []float64
		xc []float64 // A_c⁻¹ C_c, size×m (column-major per global: xc[j*size+i])
		y  []float64 // A_c⁻¹ g_c
	}
	facs := make([]fac, len(p.comps))
	for c := range p.comps {
		sz := p.size[c]
		if sz == 0 {
			continue
		}
		l := append([]float64(nil), h.blocks[c]...)
		for i := 0; i < sz; i++ {
			l[i*sz+i] += mu
		}
		if !cholesky(l, sz) {
			return false
		}
		y := append([]float64(nil), g[p.off[c]:p.off[c]+sz]...)
		cholSolve(l, sz, y)
		xc := make([]float64, sz*m)
		for j := 0; j < m; j++ {
			col := xc[j*sz : (j+1)*sz]
			for i := 0; i < sz; i++ {
				col[i] = h.couple[c][i*m+j]
			}
			cholSolve(l, sz, col)
		}
		for a := 0; a < m; a++ {
			for b := 0; b < m; b++ {
				var s float64
				for i := 0; i < sz; i++ {
					s += float64(h.couple[c][i*m+a] * xc[b*sz+i])
				}
				schur[a*m+b] -= s
			}
			var s float64
			for i := 0; i < sz; i++ {
				s += float64(h.couple[c][i*m+a] * y[i])
			}
			rhsG[a] -= s
		}
		facs[c] = fac{l: l, xc: xc, y: y}
	}
	ls := append([]float64(nil), schur...)
	if m > 0 && !cholesky(ls, m) {
		return false
	}
	dg := append([]float64(nil), rhsG...)
	if m > 0 {
		cholSolve(ls, m, dg)
	}
	copy(x[p.nLam:], dg)
	for c := range p.comps {
		sz := p.size[c]
		if sz == 0 {
			continue
		}
		f := facs[c]
		for i := 0; i < sz; i++ {
			v := f.y[i]
			for j := 0; j < m; j++ {
				v -= float64(f.xc[j*sz+i] * dg[j])
			}
			x[p.off[c]+i] = v
		}
	}
	if diag == nil {
		return true
	}
	// S⁻¹ columns.
	sinv := make([]float64, m*m)
	for j := 0; j < m; j++ {
		col := make([]float64, m)
		col[j] = 1
		cholSolve(ls, m, col)
		for i := 0; i < m; i++ {
			sinv[i*m+j] = col[i]
		}
	}
	for i := 0; i < m; i++ {
		diag[p.nLam+i] = sinv[i*m+i]
	}
	for c := range p.comps {
		sz := p.size[c]
		f := facs[c]
		for i := 0; i < sz; i++ {
			e := make([]float64, sz)
			e[i] = 1
			cholSolve(f.l, sz, e)
			v := e[i] // (A_c⁻¹)_ii
			// + (X S⁻¹ Xᵀ)_ii
			for a := 0; a < m; a++ {
				for b := 0; b < m; b++ {
					v += float64(float64(f.xc[a*sz+i]*sinv[a*m+b]) * f.xc[b*sz+i])
				}
			}
			diag[p.off[c]+i] = v
		}
	}
	return true
}

// fit maximises the penalised log-likelihood by damped Newton steps with
// backtracking, starting from s (updated in place). It returns the iterations, the
// per-iteration loss and the variances of the parameters at the optimum.
func (p *tabProblem) fit(s *tabState, maxIter int, progress func(int, float64, *tabState) bool) (iters int, losses []float64, variances []float64, err error) {
	if p.np == 0 {
		return 0, nil, nil, nil
	}
	var wsum float64
	for _, tp := range p.pairs {
		wsum += tp.w
	}
	theta := make([]float64, p.np)
	trial := make([]float64, p.np)
	g := make([]float64, p.np)
	x := make([]float64, p.np)
	h := p.newHess()
	p.get(s, theta)
	obj, _ := p.eval(s, g, h)
	trialState := p.newState()
	for iters = 1; iters <= maxIter; iters++ {
		mu := 0.0
		for !p.solve(h, mu, g, x, nil) {
			if mu == 0 {
				mu = float64(1e-8 * (1 + wsum))
			} else {
				mu = float64(mu * 10)
			}
			if mu > 1e12 {
				return iters, losses, nil, fmt.Errorf("tabular fit: the Hessian is singular")
			}
		}
		var dec float64
		for i := range g {
			dec += float64(g[i] * x[i])
		}
		// Backtracking line search on the concave objective.
		t := 1.0
		var newObj float64
		accepted := false
		for k := 0; k < 40; k++ {
			for i := range theta {
				trial[i] = theta[i] + float64(t*x[i])
			}
			copy(trialState.lam, s.lam)
			p.set(trialState, trial)
			newObj, _ = p.eval(trialState, nil, h)
			if newObj >= obj-float64(1e-12*math.Abs(obj)) && !math.IsNaN(newObj) {
				accepted = true
				break
			}
			t /= 2
		}
		if !accepted {
			break // no further progress is possible in floating point
		}
		copy(theta, trial)
		p.set(s, theta)
		prev := obj
		obj, _ = p.eval(s, g, h)
		losses = append(losses, -obj/wsum)
		if progress != nil && !progress(iters, -obj/wsum, s) {
			return iters, losses, nil, ErrCanceled
		}
		if float64(dec/2) <= float64(1e-13*math.Max(1, math.Abs(prev))) {
			break
		}
		if iters == maxIter {
			worst, at := 0.0, 0
			for i, v := range g {
				if math.Abs(v) > worst {
					worst, at = math.Abs(v), i
				}
			}
			return iters, losses, nil, &NotConvergedError{Iter: iters, Gradient: worst, param: at}
		}
	}
	variances = make([]float64, p.np)
	if !p.solve(h, 0, make([]float64, p.np), x, variances) {
		// Singular information at the optimum: the variances are infinite.
		for i := range variances {
			variances[i] = math.Inf(1)
		}
	}
	return iters, losses, variances, nil
}

// NotConvergedError reports a tabular fit that did not converge, which happens when
// scores run off to infinity.
type NotConvergedError struct {
	Iter     int
	Gradient float64
	param    int
}

func (e *NotConvergedError) Error() string {
	return fmt.Sprintf("tabular fit did not converge in %d Newton iterations (largest gradient %.3g): some scores may be infinite; set a ridge (e.g. --ridge 0.1)", e.Iter, e.Gradient)
}

// FitTabular fits one Bradley–Terry score per response (with Rao–Kupper ties, and a
// position effect when asked) to pairs and k-wise groups by Newton's method, with
// standard errors from the inverse observed information and, when cfg.Bootstrap > 0,
// percentile confidence intervals from resampling the judgments.
//
// A ranking of K responses contributes its C(K,2) pairs with weight 1/C(K,2) each,
// so one ranking weighs as much as one comparison (the InstructGPT convention).
func FitTabular(items []feedback.Item, pairs []feedback.Pair, groups []feedback.Group, cfg TabularConfig) (*Leaderboard, error) {
	data, _ := newTabData(items, pairs, groups)
	var progress func(int, float64, *tabState) bool
	if cfg.Progress != nil {
		progress = func(it int, loss float64, _ *tabState) bool { return cfg.Progress(it, loss) }
	}
	lb, _, _, err := fitTab(items, data, cfg, progress)
	return lb, err
}

// fitTab fits the tabular model to data (rows indexing responses of items).
func fitTab(items []feedback.Item, data *tabData, cfg TabularConfig, progress func(int, float64, *tabState) bool) (*Leaderboard, *tabProblem, *tabState, error) {
	if cfg.MaxIter <= 0 {
		cfg.MaxIter = 100
	}
	if cfg.Level <= 0 || cfg.Level >= 1 {
		cfg.Level = 0.95
	}
	if cfg.Ridge < 0 || math.IsNaN(cfg.Ridge) || math.IsInf(cfg.Ridge, 0) {
		return nil, nil, nil, fmt.Errorf("ridge %v: must be 0 (automatic) or positive", cfg.Ridge)
	}
	if cfg.Bootstrap < 0 || cfg.Bootstrap > 100000 {
		return nil, nil, nil, fmt.Errorf("bootstrap %d: must be 0 or a number of resamples up to 100000", cfg.Bootstrap)
	}
	if len(data.elems) == 0 {
		return nil, nil, nil, ErrNoComparisons
	}
	pref := make([]bool, len(data.respID))
	if cfg.Reference != "" {
		found := false
		for r := range pref {
			if data.respID[r] == cfg.Reference || data.text[r] == cfg.Reference {
				pref[r] = true
				found = true
			}
		}
		if !found {
			return nil, nil, nil, fmt.Errorf("reference %q is neither the id nor the text of any response", cfg.Reference)
		}
	}
	lb := &Leaderboard{PositionEffect: cfg.PositionEffect}
	ridge := cfg.Ridge
	prob := newTabProblem(data, nil, pref, cfg.PositionEffect, ridge)
	if len(prob.pairs) > 0 && prob.rho < 0 {
		allTies := true
		for _, tp := range prob.pairs {
			allTies = allTies && tp.tie
		}
		if allTies {
			return nil, nil, nil, fmt.Errorf("every comparison is a tie: there is nothing to rank")
		}
	}
	if ridge == 0 {
		if groups := prob.priorOnSeparated(pref, DefaultRidge); groups != nil {
			r := prob.witness(groups[0])
			seen := map[string]bool{}
			for _, c := range groups {
				if id := items[data.itemIdx[prob.comps[c][0]]].ID; !seen[id] {
					seen[id] = true
					lb.PriorItems = append(lb.PriorItems, id)
				}
			}
			lb.Notes = append(lb.Notes, fmt.Sprintf("maximum-likelihood scores do not exist in %d of %d groups of compared responses (e.g. response %q of item %q never lost or never won in its group); those groups' scores use a N(0, %g) prior (ridge %g), the others are maximum-likelihood",
				len(groups), len(prob.comps), data.respID[r], items[data.itemIdx[r]].ID, 1/DefaultRidge, DefaultRidge))
			lb.Ridge = DefaultRidge
		}
	} else {
		lb.Ridge = ridge
	}
	st := prob.newState()
	if prob.rho >= 0 {
		st.eta = initialEta(prob.pairs)
	}
	iters, losses, vars, err := prob.fit(st, cfg.MaxIter, progress)
	if err != nil {
		return nil, nil, nil, err
	}
	lb.Iterations, lb.Loss = iters, losses
	_, lb.LogLik = prob.eval(st, nil, prob.newHess())
	lb.Deviance, lb.DF = prob.deviance(st)
	lb.Ties = prob.rho >= 0
	lb.Eta = st.eta
	if lb.Ties && vars != nil {
		lb.EtaSE = float64(st.eta * math.Sqrt(vars[prob.rho]))
	}
	if prob.alpha >= 0 {
		lb.Alpha = st.alpha
		lb.AlphaSE = math.Sqrt(vars[prob.alpha])
	} else if cfg.PositionEffect {
		lb.Notes = append(lb.Notes, "no comparison records which response was shown on the left: the position effect was not fitted")
	}
	lb.AlphaCI = [2]float64{math.NaN(), math.NaN()}
	lb.Pairs = len(prob.pairs)

	se := make([]float64, prob.n)
	for r := range se {
		switch {
		case prob.compOf[r] < 0:
			se[r] = math.NaN()
		case prob.param[r] < 0:
			se[r] = 0
		default:
			se[r] = math.Sqrt(vars[prob.param[r]])
		}
	}
	lo := make([]float64, prob.n)
	hi := make([]float64, prob.n)
	for r := range lo {
		lo[r], hi[r] = math.NaN(), math.NaN()
	}
	if cfg.Bootstrap > 0 {
		lb.Bootstrap = cfg.Bootstrap
		lb.Separated = bootstrapTabular(data, prob, st, cfg, ridge, lo, hi, &lb.AlphaCI)
	}
	lb.build(items, data, prob, st, se, lo, hi)
	return lb, prob, st, nil
}

// initialEta starts η where a tie rate t at d = 0 is matched: t = tanh(η/2).
func initialEta(pairs []tpair) float64 {
	var tw, w float64
	for _, tp := range pairs {
		w += tp.w
		if tp.tie {
			tw += tp.w
		}
	}
	t := math.Min(math.Max(tw/w, 0.01), 0.95)
	return num.Log((1 + t) / (1 - t))
}

// deviance returns the residual deviance against the saturated model, whose cells
// are (unordered pair, side shown on the left), each a binomial (or trinomial with
// ties) of the observed outcomes: D = 2 Σ n_o log(n_o / (N p̂_o)), with degrees of
// freedom Σ_cells (outcomes − 1) − parameters.
func (p *tabProblem) deviance(s *tabState) (float64, int) {
	type key struct {
		a, b int
		side float64
	}
	type cell struct{ n [3]float64 } // a won, b won, tie
	cells := make(map[key]*cell)
	var order []key
	for _, tp := range p.pairs {
		a, b, side, out := tp.a, tp.b, tp.side, 0
		if a > b {
			a, b, side, out = b, a, -side, 1
		}
		if tp.tie {
			out = 2
		}
		if p.alpha < 0 {
			side = 0
		}
		k := key{a, b, side}
		c := cells[k]
		if c == nil {
			c = &cell{}
			cells[k] = c
			order = append(order, k)
		}
		c.n[out] += tp.w
	}
	sort.Slice(order, func(i, j int) bool {
		x, y := order[i], order[j]
		if x.a != y.a {
			return x.a < y.a
		}
		if x.b != y.b {
			return x.b < y.b
		}
		return x.side < y.side
	})
	outcomes := 2
	if p.rho >= 0 {
		outcomes = 3
	}
	var dev float64
	for _, k := range order {
		c := cells[k]
		d := s.lam[k.a] - s.lam[k.b] + float64(s.alpha*k.side)
		lp := [3]float64{decidedLL(d, s.eta).ll, decidedLL(-d, s.eta).ll, math.Inf(-1)}
		if p.rho >= 0 {
			lp[2] = tieLL(d, s.eta).ll
		}
		n := c.n[0] + c.n[1] + c.n[2]
		for o := 0; o < 3; o++ {
			if c.n[o] > 0 {
				dev += float64(float64(2*c.n[o]) * (num.Log(c.n[o]/n) - lp[o]))
			}
		}
	}
	return dev, len(order)*(outcomes-1) - p.np
}

// bootstrapTabular refits on cfg.Bootstrap resamples of the judgments and fills
// percentile intervals. It returns the number of resamples that separated.
func bootstrapTabular(data *tabData, main *tabProblem, st *tabState, cfg TabularConfig, ridge float64, lo, hi []float64, alphaCI *[2]float64) int {
	r := rng.New(cfg.Seed).Split("tabular-bootstrap")
	isRef := make([]bool, main.n)
	for _, x := range main.ref {
		if x >= 0 {
			isRef[x] = true
		}
	}
	samples := make([][]float64, main.n)
	var alphas []float64
	separated := 0
	mult := make([]int, len(data.elems))
	for b := 0; b < cfg.Bootstrap; b++ {
		clear(mult)
		for i := 0; i < len(data.elems); i++ {
			mult[r.IntN(len(data.elems))]++
		}
		bp := newTabProblem(data, mult, isRef, cfg.PositionEffect, ridge)
		if ridge == 0 {
			// The main fit's prior groups keep DefaultRidge; a group that separates
			// only in this resample gets the vanishing bootstrapRidge.
			ridges := make([]float64, len(bp.comps))
			sep := bp.separated()
			any := false
			for c, members := range bp.comps {
				if mc := main.compOf[members[0]]; mc >= 0 && main.ridges[mc] > 0 {
					ridges[c] = main.ridges[mc]
				} else if sep[c] {
					ridges[c] = bootstrapRidge
					any = true
				}
			}
			if any {
				separated++
			}
			bp.layout(isRef, ridges)
		}
		bs := bp.newState()
		copy(bs.lam, st.lam)
		bs.alpha, bs.eta = st.alpha, st.eta
		if bp.rho >= 0 && bs.eta == 0 {
			bs.eta = initialEta(bp.pairs)
		}
		if bp.rho < 0 {
			bs.eta = 0
		}
		if _, _, _, err := bp.fit(bs, 200, nil); err != nil {
			continue
		}
		for _, members := range bp.comps {
			shift := 0.0
			if mc := main.compOf[members[0]]; ridge == 0 && mc >= 0 && main.ridges[mc] == 0 {
				// Put the resample on the main fit's scale: its reference at 0.
				ref := -1
				for _, x := range members {
					if isRef[x] {
						ref = x
					}
				}
				if ref < 0 {
					continue // this group lost its reference in the resample
				}
				shift = bs.lam[ref]
			}
			for _, x := range members {
				samples[x] = append(samples[x], bs.lam[x]-shift)
			}
		}
		if bp.alpha >= 0 {
			alphas = append(alphas, bs.alpha)
		}
	}
	q := float64((1 - cfg.Level) / 2)
	for x := range samples {
		if len(samples[x]) == 0 {
			continue
		}
		lo[x], hi[x] = quantile(samples[x], q), quantile(samples[x], 1-q)
	}
	if len(alphas) > 0 {
		alphaCI[0], alphaCI[1] = quantile(alphas, q), quantile(alphas, 1-q)
	}
	return separated
}

// quantile returns the q-quantile of xs by linear interpolation between order
// statistics (R's type 7). It sorts xs.
func quantile(xs []float64, q float64) float64 {
	sort.Float64s(xs)
	if len(xs) == 1 {
		return xs[0]
	}
	h := float64(q * float64(len(xs)-1))
	i := int(math.Floor(h))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + float64((h-float64(i))*(xs[i+1]-xs[i]))
}

func (lb *Leaderboard) build(items []feedback.Item, data *tabData, p *tabProblem, st *tabState, se, lo, hi []float64) {
	wins := make([]int, p.n)
	losses := make([]int, p.n)
	ties := make([]int, p.n)
	for _, tp := range p.pairs {
		if tp.tie {
			ties[tp.a]++
			ties[tp.b]++
		} else {
			wins[tp.a]++
			losses[tp.b]++
		}
	}
	isRef := make([]bool, p.n)
	for _, r := range p.ref {
		if r >= 0 {
			isRef[r] = true
		}
	}
	t := &Tabular{Eta: st.eta, Alpha: st.alpha}
	var bi *BoardItem
	flush := func() {
		if bi == nil {
			return
		}
		sort.SliceStable(bi.Responses, func(a, b int) bool {
			x, y := bi.Responses[a], bi.Responses[b]
			if x.Ranked != y.Ranked {
				return x.Ranked
			}
			return x.Score > y.Score
		})
		lb.Items = append(lb.Items, *bi)
	}
	for r := 0; r < p.n; r++ {
		it := &items[data.itemIdx[r]]
		if bi == nil || bi.ID != it.ID || (r > 0 && data.itemIdx[r] != data.itemIdx[r-1]) {
			flush()
			bi = &BoardItem{ID: it.ID, Prompt: it.Prompt}
		}
		s := Standing{
			ID: data.respID[r], Text: data.text[r],
			Score: st.lam[r], SE: se[r], CILow: lo[r], CIHigh: hi[r],
			Wins: wins[r], Losses: losses[r], Ties: ties[r],
			Ranked: p.compOf[r] >= 0, Reference: isRef[r],
		}
		bi.Responses = append(bi.Responses, s)
		if s.Ranked {
			t.Items = append(t.Items, it.ID)
			t.Responses = append(t.Responses, s.ID)
			t.Scores = append(t.Scores, float32(s.Score))
			t.SE = append(t.SE, float32(s.SE))
		}
	}
	flush()
	t.index()
	lb.model = t
}
