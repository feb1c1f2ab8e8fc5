package reward

import (
	"fmt"
	"math"
	"sync"

	"prefer/core/num"
	"prefer/core/rng"
)

// linearProblem is the full-batch training objective of one linear member,
// θ = [w (F), b, ρ] (ρ = log η only when the member's data hold ties):
//
//	J(θ) = (1/n) Σ_e loss_e(r(θ)) + λ/2 · ‖w‖²,      r_row = w·φ(row) + b
//
// over the member's n training elements (repeated elements count as often as they
// occur: a bagged member's resample), loss_e the element's Bradley–Terry /
// Rao–Kupper / ranking loss with margin and centering (elemLoss), and λ = L2/n: the
// penalty ½·L2·‖w‖² on the summed loss, as scikit-learn's logistic regression with
// C = 1/L2 puts it. The bias and η are not penalized.
type linearProblem struct {
	ds     *dataset
	elems  []int   // the member's training elements
	rows   []int32 // the distinct rows they use, ascending
	slot   []int32 // row → index into rows (−1: not used)
	ux     []int32 // the distinct feature vectors (indices into ds.x) of rows, in order of first use
	uof    []int32 // index into rows → index into ux
	uscore []float64
	du     []float64 // ∂J/∂score per distinct feature vector
	dscore []float64
	F      int
	ties   bool
	l2     float64 // λ
	o      lossOpts
	maxLen int                // the most rows of an element
	r      [workers][]float64 // each part's scores of one element
	// One block of lossBlock elements' losses, ∂loss/∂η, ∂loss/∂r and row slots
	// (maxLen per element), computed in parts, then added in element order.
	bl, bde, bdr []float64
	bslot        []int32
	part         []float64 // the second part's gradient
	loss         float64   // the mean loss (without the penalty) of the last evaluation
}

// lossBlock is the number of elements whose losses are computed (in parts) before
// they are added up in order: the block's buffers are allocated once per problem
// (about 1 MB for pairs), not per training element; few blocks, so few hand-overs
// between the cores per evaluation. A variable only so that tests can cross
// block boundaries on small data.
var lossBlock = 1 << 15

func newLinearProblem(ds *dataset, elems []int, F int, ties bool, cfg Config, maxLen int) *linearProblem {
	p := &linearProblem{ds: ds, elems: elems, F: F, ties: ties, slot: make([]int32, len(ds.rowItem))}
	for i := range p.slot {
		p.slot[i] = -1
	}
	for _, e := range elems {
		for _, row := range ds.elems[e].rows {
			p.slot[row] = 0
		}
	}
	for row, s := range p.slot {
		if s == 0 {
			p.slot[row] = int32(len(p.rows))
			p.rows = append(p.rows, int32(row))
		}
	}
	p.ux, p.uof = distinctFeatures(ds, p.rows)
	p.uscore = make([]float64, len(p.ux))
	p.du = make([]float64, len(p.ux))
	p.dscore = make([]float64, len(p.rows))
	p.maxLen = maxLen
	for i := range p.r {
		p.r[i] = make([]float64, maxLen)
	}
	nb := min(lossBlock, len(elems))
	p.bl, p.bde = make([]float64, nb), make([]float64, nb)
	p.bdr, p.bslot = make([]float64, nb*maxLen), make([]int32, nb*maxLen)
	p.o = lossOpts{margin: cfg.Margin, center: cfg.Center}
	return p
}

// jacobi returns the inverse of the diagonal of Σ_rows φφᵀ per row (with the bias's 1), floored.
func (p *linearProblem) jacobi() []float64 {
	d := make([]float64, p.size())
	for _, row := range p.rows {
		x := p.ds.fx(row)
		for k, j := range x.Idx {
			d[j] += float64(float64(x.Val[k]) * float64(x.Val[k]))
		}
		d[p.F]++
	}
	n := float64(len(p.rows))
	for j := range d {
		if j > p.F {
			d[j] = 1
			continue
		}
		d[j] = 1 / math.Max(d[j]/n, 1/n)
	}
	return d
}

// setL2 sets the penalty to ½·L2·‖w‖² on the summed loss.
func (p *linearProblem) setL2(l2 float64) {
	p.l2 = 0
	if l2 > 0 && len(p.elems) > 0 {
		p.l2 = l2 / float64(len(p.elems))
	}
}

// size is the number of parameters θ.
func (p *linearProblem) size() int {
	if p.ties {
		return p.F + 2
	}
	return p.F + 1
}

// fg returns J(θ) and writes ∇J into g:
//
//	∂J/∂w = (1/n) Σ_row (Σ_e ∂loss_e/∂r_row) · φ(row) + λw,   ∂J/∂b = (1/n) Σ_row Σ_e ∂loss_e/∂r_row
//	∂J/∂ρ = (1/n) Σ_e ∂loss_e/∂η · η
//
// Sums run in a fixed order (rows ascending, elements in order), so the result is
// the same natively and in wasm.
func (p *linearProblem) fg(theta, g []float64) float64 {
	F := p.F
	w, b := theta[:F], theta[F]
	// Rows of equal text have one feature vector: scored once.
	inParts(len(p.ux), func(_, lo, hi int) {
		scoreRows(p.uscore[lo:hi], p.ds.x, p.ux[lo:hi], w, b)
	})
	clear(p.dscore)
	o := p.o
	if p.ties {
		o.eta = num.Exp(theta[F+1])
	}
	// The elements' losses and derivatives, each independent of the others, are
	// computed in parts a block at a time; the sums over elements then run in
	// element order, as one loop's would: the same bits on any number of cores.
	var loss, deta float64
	for base := 0; base < len(p.elems); base += lossBlock {
		n := min(lossBlock, len(p.elems)-base)
		inParts(n, func(part, lo, hi int) { p.elemBlock(base, lo, hi, p.r[part], o) })
		for j := range n {
			loss += p.bl[j]
			deta += p.bde[j]
			k := len(p.ds.elems[p.elems[base+j]].rows)
			at := j * p.maxLen
			for i, s := range p.bslot[at : at+k] {
				p.dscore[s] += p.bdr[at+i]
			}
		}
	}
	inv := 1 / float64(len(p.elems))
	// Each part accumulates its rows' gradient into its own buffer (part 0 into g);
	// the parts are then added in order.
	if p.part == nil {
		p.part = make([]float64, len(g))
	}
	// Rows sharing a feature vector add their derivatives first (in row order), so
	// each vector is read once: ∂J/∂w = Σ_u (Σ_{rows of u} ∂J/∂r_row) · φ_u.
	clear(p.du)
	for i, d := range p.dscore {
		p.du[p.uof[i]] += float64(d * inv)
	}
	var gb [workers]float64
	inParts(len(p.ux), func(part, lo, hi int) {
		dst := g
		if part == 1 {
			dst = p.part
		}
		clear(dst)
		for i, u := range p.ux[lo:hi] {
			d := p.du[lo+i]
			if d == 0 {
				continue
			}
			x := p.ds.x[u]
			for k, j := range x.Idx {
				dst[j] += float64(d * float64(x.Val[k]))
			}
			gb[part] += d
		}
	})
	if len(p.ux) > 1 {
		for j, v := range p.part[:F] {
			g[j] += v
		}
	}
	g[F] = gb[0] + gb[1]
	p.loss = float64(loss * inv)
	f := p.loss
	if p.l2 > 0 {
		var ww float64
		for j, v := range w {
			ww += float64(v * v)
			g[j] += float64(p.l2 * v)
		}
		f += float64(float64(0.5*p.l2) * ww)
	}
	if p.ties {
		g[F+1] = float64(float64(deta*inv) * o.eta)
	} else if len(g) > F+1 {
		g[F+1] = 0
	}
	return f
}

// elemBlock computes the loss, ∂loss/∂η and ∂loss/∂r of elements base+lo … base+hi−1
// into the block's slots lo … hi−1, with r as scratch for their rows' scores.
func (p *linearProblem) elemBlock(base, lo, hi int, r []float64, o lossOpts) {
	for j := lo; j < hi; j++ {
		el := &p.ds.elems[p.elems[base+j]]
		k := len(el.rows)
		at := j * p.maxLen
		slots := p.bslot[at : at+k]
		for i, row := range el.rows {
			s := p.slot[row]
			slots[i] = s
			r[i] = p.uscore[p.uof[s]]
		}
		p.bl[j], p.bde[j] = elemLoss(el.kind, el.strength, r[:k], p.bdr[at:at+k], o)
	}
}

// distinctFeatures returns the distinct feature vectors of rows (indices into
// ds.x, in order of first use) and, for each row, the index of its vector among them.
func distinctFeatures(ds *dataset, rows []int32) (ux, uof []int32) {
	uof = make([]int32, len(rows))
	at := make([]int32, len(ds.x)) // feature vector → 1 + its index in ux (0: not yet)
	for i, row := range rows {
		x := ds.xrow(row)
		if at[x] == 0 {
			ux = append(ux, x)
			at[x] = int32(len(ux))
		}
		uof[i] = at[x] - 1
	}
	return ux, uof
}

// scoreRows sets score[i] to b + w·x[rows[i]], each row's products added left to
// right in float64. Four rows run side by side — four independent chains of
// additions instead of one, which waited on each addition's latency — each in its
// own order, so every score is the one the row alone gives, bit for bit.
func scoreRows(score []float64, x []Sparse, rows []int32, w []float64, b float64) {
	i := 0
	for ; i+4 <= len(rows); i += 4 {
		x0, x1, x2, x3 := x[rows[i]], x[rows[i+1]], x[rows[i+2]], x[rows[i+3]]
		s0, s1, s2, s3 := b, b, b, b
		m := min(len(x0.Idx), len(x1.Idx), len(x2.Idx), len(x3.Idx))
		i0, v0 := x0.Idx[:m:m], x0.Val[:m:m]
		i1, v1 := x1.Idx[:m:m], x1.Val[:m:m]
		i2, v2 := x2.Idx[:m:m], x2.Val[:m:m]
		i3, v3 := x3.Idx[:m:m], x3.Val[:m:m]
		for k := range m {
			s0 += float64(w[i0[k]] * float64(v0[k]))
			s1 += float64(w[i1[k]] * float64(v1[k]))
			s2 += float64(w[i2[k]] * float64(v2[k]))
			s3 += float64(w[i3[k]] * float64(v3[k]))
		}
		score[i] = sparseTail(s0, x0, m, w)
		score[i+1] = sparseTail(s1, x1, m, w)
		score[i+2] = sparseTail(s2, x2, m, w)
		score[i+3] = sparseTail(s3, x3, m, w)
	}
	for ; i < len(rows); i++ {
		score[i] = sparseTail(b, x[rows[i]], 0, w)
	}
}

// sparseTail adds the products of x's entries from the k-th on to s, in order.
func sparseTail(s float64, x Sparse, k int, w []float64) float64 {
	for ; k < len(x.Idx); k++ {
		s += float64(w[x.Idx[k]] * float64(x.Val[k]))
	}
	return s
}

// workers is the fixed number of parts the full-batch passes split their rows
// into; natively each part runs on its own goroutine (two cores), in wasm one after
// the other. The split does not depend on the machine, so neither do the results.
const workers = 2

// inParts calls f(part, lo, hi) for the workers parts of [0, n), concurrently, and
// waits for all of them.
func inParts(n int, f func(part, lo, hi int)) {
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for i := 1; i < workers; i++ {
		lo, hi := min(i*per, n), min((i+1)*per, n)
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, lo, hi)
		}()
	}
	f(0, 0, min(per, n)) // the first part on the calling goroutine
	wg.Wait()
}

// trainLinear fits `members` linear models by full-batch L-BFGS (memory 10), one
// iteration each in turn — the lockstep of trainFeature, an iteration in place of
// an epoch — and stops early on the validation loss of their mean score (patience
// cfg.Patience iterations, the best iteration's parameters kept), when no member can
// lower its objective any more, or after cfg.Epochs iterations. Bagging and the
// starting tie threshold are those of trainFeature; the weights start at zero (the
// loss is convex in w).
func trainLinear(ds *dataset, sp splitSets, cfg Config, members int, r *rng.RNG) (Model, Curves, error) {
	F := cfg.Features.Width()
	nt := linearNet{f: F}
	maxLen := 2
	for _, e := range ds.elems {
		maxLen = max(maxLen, len(e.rows))
	}
	path := []float64{-1} // no penalty
	if cfg.L2 > 0 {
		path = []float64{cfg.L2, cfg.L2 / 3, cfg.L2 / 10, cfg.L2 / 30}
	}
	fits := make([]*linearFit, members)
	for k := range fits {
		mr := r
		if members > 1 {
			mr = r.Split(fmt.Sprintf("member-%d", k))
		}
		train := sp.train
		if members > 1 && !cfg.NoBagging {
			train = make([]int, len(sp.train))
			for i := range train {
				train[i] = sp.train[mr.IntN(len(sp.train))]
			}
		}
		var ties float64
		for _, e := range train {
			if ds.elems[e].kind == elTie {
				ties++
			}
		}
		p := newLinearProblem(ds, train, F, ties > 0, cfg, maxLen)
		theta := make([]float64, p.size())
		if p.ties {
			t := math.Min(math.Max(ties/float64(len(train)), 0.01), 0.95)
			theta[F+1] = num.Log(num.Log((1 + t) / (1 - t)))
		}
		p.setL2(path[0])
		opt := newLBFGS(theta, 10, p.fg)
		opt.pre = p.jacobi()
		fits[k] = &linearFit{p: p, opt: opt}
	}
	params := make([][]float32, members)
	etas := make([]float64, members)
	current := func() {
		for k, f := range fits {
			if params[k] == nil {
				params[k] = make([]float32, nt.size())
			}
			for j := range params[k] {
				params[k][j] = float32(f.opt.x[j])
			}
			etas[k] = 0
			if f.p.ties {
				etas[k] = num.Exp(f.opt.x[F+1])
			}
		}
	}
	stage := 0
	stageImproved := false
	var cv Curves
	bestValid := math.Inf(1)
	bad := 0
	sets := newScoredSets(ds, nt, sp.valid, sp.held)
	for it, stageIt := 1, 1; it <= len(path)*cfg.Epochs; it, stageIt = it+1, stageIt+1 {
		moved := false
		var trainLoss float64
		for _, f := range fits {
			if !f.done {
				f.done = !f.opt.iterate(f.p.fg) || f.converged()
				moved = true
			}
			trainLoss += f.p.loss / float64(members)
		}
		current()
		losses, accs := sets.losses(params, meanOf(etas))
		validLoss, heldLoss, heldAcc := losses[0], losses[1], accs[1]
		cv.add(trainLoss, validLoss, heldLoss, heldAcc)
		if math.IsNaN(trainLoss) || math.IsInf(trainLoss, 0) {
			return nil, cv, fmt.Errorf("training diverged at iteration %d (loss %v)", it, trainLoss)
		}
		if cfg.Progress != nil && !cfg.Progress(it, trainLoss, heldLoss) {
			return nil, cv, ErrCanceled
		}
		if len(sp.valid) == 0 {
			cv.BestEpoch = it
			if !moved {
				break
			}
			continue
		}
		allDone := true
		for _, f := range fits {
			allDone = allDone && f.done
		}
		if validLoss < bestValid {
			// The best iteration is kept however small its gain, but only a gain of
			// minGain of the loss resets the patience and lets the path go on: on
			// large data the validation loss creeps down for hundreds of iterations.
			if validLoss < bestValid-float64(minGain*bestValid) {
				bad, stageImproved = 0, true
			} else {
				bad++
			}
			bestValid, cv.BestEpoch = validLoss, it
			for k, f := range fits {
				f.best = append(f.best[:0], params[k]...)
				f.bestX = append(f.bestX[:0], f.opt.x...)
				f.eta = etas[k]
			}
		} else {
			bad++
		}
		if bad < cfg.Patience && !allDone && stageIt < cfg.Epochs {
			continue
		}
		if !stageImproved || stage+1 == len(path) {
			break
		}
		stage++
		stageImproved, bad, stageIt = false, 0, 0
		for _, f := range fits {
			f.p.setL2(path[stage])
			pre := f.opt.pre
			f.opt = newLBFGS(f.bestX, 10, f.p.fg)
			f.opt.pre = pre
			f.done = false
		}
	}
	if cv.BestEpoch == 0 || len(sp.valid) == 0 {
		current()
		for k, f := range fits {
			f.best, f.eta = params[k], etas[k]
		}
	}
	out := make([]Model, members)
	for k, f := range fits {
		out[k] = newFeatureModel(FamilyLinear, cfg.Features, cfg.Hidden, f.best, f.eta)
	}
	if members == 1 {
		return out[0], cv, nil
	}
	return &Ensemble{Members: out}, cv, nil
}

// minGain is the relative decrease of the best validation loss that counts as
// progress for early stopping (Keras's min_delta, relative): 0.1%.
const minGain = 1e-3

// linearFit is one member's problem, its optimizer and its best parameters.
type linearFit struct {
	p     *linearProblem
	opt   *lbfgs
	bestX []float64
	best  []float32
	eta   float64
	done  bool
}

// converged reports whether the gradient is below scikit-learn's default
// tolerance for lbfgs, max_j |∂(nJ)/∂θ_j| ≤ 10⁻⁴ on the summed loss.
func (f *linearFit) converged() bool {
	n := float64(len(f.p.elems))
	for _, v := range f.opt.g {
		if math.Abs(float64(v*n)) > 1e-4 {
			return false
		}
	}
	return true
}

// scoredSets evaluates sets of elements (validation, held-out) under the members'
// parameters: setLoss with ensembleScorer, bit for bit, but scoring each distinct
// feature vector of all the sets once per evaluation (texts recur across the sets),
// the vectors split into parts (natively on two cores).
type scoredSets struct {
	ds    *dataset
	sets  [][]int
	nt    linearNet
	ux    []int32 // the distinct feature vectors (indices into ds.x) of the sets' rows
	at    []int32 // index into ds.x → index into ux (−1: in no set); a slice, not a map: looked up per row per evaluation
	score []float64
	bl    []float64          // one block's element losses
	r, dr [workers][]float64 // each part's scratch
}

func newScoredSets(ds *dataset, nt linearNet, sets ...[]int) *scoredSets {
	s := &scoredSets{ds: ds, sets: sets, nt: nt, at: make([]int32, len(ds.x))}
	for i := range s.at {
		s.at[i] = -1
	}
	for _, idx := range sets {
		for _, e := range idx {
			for _, row := range ds.elems[e].rows {
				if x := ds.xrow(row); s.at[x] < 0 {
					s.at[x] = int32(len(s.ux))
					s.ux = append(s.ux, x)
				}
			}
		}
	}
	s.score = make([]float64, len(s.ux))
	return s
}

// losses returns setLoss(ds, set, ensembleScorer(ds, nt, params, ·), eta) of each set.
func (s *scoredSets) losses(params [][]float32, eta float64) (loss, acc []float64) {
	np := s.nt.size()
	inParts(len(s.ux), func(_, lo, hi int) {
		for i, u := range s.ux[lo:hi] {
			var v float64
			for _, p := range params {
				v += float64(s.nt.forward(p[:np], s.ds.x[u], nil))
			}
			s.score[lo+i] = v / float64(len(params))
		}
	})
	score := func(row int32) float64 { return s.score[s.at[s.ds.xrow(row)]] }
	loss, acc = make([]float64, len(s.sets)), make([]float64, len(s.sets))
	if s.bl == nil {
		n := 0
		for _, idx := range s.sets {
			n = max(n, len(idx))
		}
		s.bl = make([]float64, min(lossBlock, n))
	}
	// setLoss, its elements' terms computed in parts a block at a time and the
	// losses added in element order: the same bits.
	for k, idx := range s.sets {
		if len(idx) == 0 {
			loss[k], acc[k] = math.NaN(), math.NaN()
			continue
		}
		var sum float64
		var right, total [workers]int
		for base := 0; base < len(idx); base += lossBlock {
			n := min(lossBlock, len(idx)-base)
			inParts(n, func(part, lo, hi int) {
				r, dr := &s.r[part], &s.dr[part]
				for j := lo; j < hi; j++ {
					l, ri, to := setTerm(&s.ds.elems[idx[base+j]], score, eta, r, dr)
					s.bl[j] = l
					right[part] += ri
					total[part] += to
				}
			})
			for _, l := range s.bl[:n] {
				sum += l
			}
		}
		loss[k], acc[k] = setMeans(sum, right[0]+right[1], total[0]+total[1], len(idx))
	}
	return loss, acc
}
