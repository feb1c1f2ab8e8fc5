package reward

import (
	"math"
	"runtime"
	"testing"

	"prefer/core/num"
	"prefer/core/rng"
)

// fgOneLoop is linearProblem.fg as it was before the elements' losses were
// computed in parts (commit 9668ad3): every row scored on its own, one loop over
// the elements adding losses and row derivatives in element order, and the
// gradient's two fixed parts (part 0 into g, part 1 into its own buffer, added
// after) run one after the other. The reference the parallel fg must equal bit for bit.
func fgOneLoop(p *linearProblem, theta, g []float64) (f, meanLoss float64) {
	F := p.F
	w, b := theta[:F], theta[F]
	score := make([]float64, len(p.rows))
	for i, row := range p.rows {
		score[i] = sparseTail(b, p.ds.fx(row), 0, w)
	}
	dscore := make([]float64, len(p.rows))
	o := p.o
	if p.ties {
		o.eta = num.Exp(theta[F+1])
	}
	r, dr := make([]float64, p.maxLen), make([]float64, p.maxLen)
	var loss, deta float64
	for _, e := range p.elems {
		el := &p.ds.elems[e]
		k := len(el.rows)
		for i, row := range el.rows {
			r[i] = score[p.slot[row]]
		}
		l, de := elemLoss(el.kind, el.strength, r[:k], dr[:k], o)
		loss += l
		deta += de
		for i, row := range el.rows {
			dscore[p.slot[row]] += dr[i]
		}
	}
	inv := 1 / float64(len(p.elems))
	du := make([]float64, len(p.ux))
	for i, d := range dscore {
		du[p.uof[i]] += float64(d * inv)
	}
	part := make([]float64, len(g))
	per := (len(p.ux) + workers - 1) / workers
	var gb [workers]float64
	for k := range workers {
		dst := g
		if k == 1 {
			dst = part
		}
		clear(dst)
		lo, hi := min(k*per, len(p.ux)), min((k+1)*per, len(p.ux))
		for i, u := range p.ux[lo:hi] {
			d := du[lo+i]
			if d == 0 {
				continue
			}
			x := p.ds.x[u]
			for k, j := range x.Idx {
				dst[j] += float64(d * float64(x.Val[k]))
			}
			gb[k] += d
		}
	}
	if len(p.ux) > 1 {
		for j, v := range part[:F] {
			g[j] += v
		}
	}
	g[F] = gb[0] + gb[1]
	meanLoss = float64(loss * inv)
	f = meanLoss
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
	return f, meanLoss
}

// TestFgPartsEqualOneLoop: the linear objective, its mean loss and its gradient,
// with the elements' losses computed in parts over blocks (here blocks of 64 of
// 1,500 elements, so 24 blocks, the last one short) and summed in element order,
// are those of one loop over the elements (fgOneLoop), bit for bit — with pairs
// (margin), ties, rankings, centering, the L2 penalty and repeated elements (a
// bagged resample) — and the same with one thread (GOMAXPROCS 1) as with four.
// Adding a block's losses in any other order moves the last bits and fails here.
func TestFgPartsEqualOneLoop(t *testing.T) {
	defer func(b int) { lossBlock = b }(lossBlock)
	lossBlock = 64
	r := rng.New(21)
	const F, rows, elems = 64, 400, 1500
	ds := &dataset{rowItem: make([]int32, rows)}
	for range rows {
		ds.x = append(ds.x, randomSparse(r, F, 9))
	}
	maxLen := 2
	for i := range elems {
		a, b := int32(r.IntN(rows)), int32(r.IntN(rows-1))
		if b >= a {
			b++
		}
		switch i % 7 {
		case 3:
			ds.elems = append(ds.elems, elem{kind: elTie, rows: []int32{a, b}})
		case 5:
			c := int32(r.IntN(rows))
			for c == a || c == b {
				c = int32(r.IntN(rows))
			}
			ds.elems = append(ds.elems, elem{kind: elRank, rows: []int32{a, b, c}})
			maxLen = 3
		default:
			ds.elems = append(ds.elems, elem{kind: elPair, rows: []int32{a, b}, strength: i % 3})
		}
	}
	train := make([]int, elems+200)
	for i := range train {
		train[i] = r.IntN(elems)
	}
	cfg := Config{Margin: 0.3, Center: 0.05}
	p := newLinearProblem(ds, train, F, true, cfg, maxLen)
	p.setL2(0.5)
	theta := make([]float64, p.size())
	for i := range theta {
		theta[i] = 0.4 * r.Norm()
	}
	theta[F+1] = math.Log(0.3)
	want := make([]float64, len(theta))
	wf, wl := fgOneLoop(p, theta, want)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		for range 2 { // twice: the buffers the first call leaves must not leak into the second
			g := make([]float64, len(theta))
			f := p.fg(theta, g)
			if math.Float64bits(f) != math.Float64bits(wf) || math.Float64bits(p.loss) != math.Float64bits(wl) {
				t.Fatalf("GOMAXPROCS %d: J = %v, mean loss %v; one loop %v, %v", procs, f, p.loss, wf, wl)
			}
			for j := range g {
				if math.Float64bits(g[j]) != math.Float64bits(want[j]) {
					t.Fatalf("GOMAXPROCS %d: ∂J/∂θ_%d = %v, one loop %v", procs, j, g[j], want[j])
				}
			}
		}
	}
}

// TestScoredSetsPartsEqualSetLoss: the validation and held-out losses and
// accuracies, their elements' terms computed in parts over blocks (64 elements)
// and the losses added in element order, are setLoss's (one loop) bit for bit, on
// random rows and scores (the demo's templated rows give many equal losses, which
// would hide an order change), with one thread and with four.
func TestScoredSetsPartsEqualSetLoss(t *testing.T) {
	defer func(b int) { lossBlock = b }(lossBlock)
	lossBlock = 64
	r := rng.New(22)
	const F, rows = 32, 300
	ds := &dataset{rowItem: make([]int32, rows)}
	for range rows {
		ds.x = append(ds.x, randomSparse(r, F, 6))
	}
	var valid, held []int
	for i := range 1000 {
		a, b := int32(r.IntN(rows)), int32(r.IntN(rows-1))
		if b >= a {
			b++
		}
		kind := uint8(elPair)
		if i%6 == 2 {
			kind = elTie
		}
		ds.elems = append(ds.elems, elem{kind: kind, rows: []int32{a, b}})
		if i%3 == 0 {
			valid = append(valid, i)
		} else {
			held = append(held, i)
		}
	}
	nt := linearNet{f: F}
	params := make([][]float32, 2)
	for k := range params {
		params[k] = make([]float32, nt.size())
		for j := range params[k] {
			params[k][j] = float32(r.Norm())
		}
	}
	score := func(row int32) float64 {
		var v float64
		for _, p := range params {
			v += float64(nt.forward(p, ds.fx(row), nil))
		}
		return v / float64(len(params))
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		sets := newScoredSets(ds, nt, valid, held, nil)
		loss, acc := sets.losses(params, 0.4)
		for k, idx := range [][]int{valid, held} {
			wl, wa := setLoss(ds, idx, score, 0.4)
			if math.Float64bits(loss[k]) != math.Float64bits(wl) || math.Float64bits(acc[k]) != math.Float64bits(wa) {
				t.Errorf("GOMAXPROCS %d, set %d: loss %v accuracy %v, one loop %v %v", procs, k, loss[k], acc[k], wl, wa)
			}
		}
		if !math.IsNaN(loss[2]) || !math.IsNaN(acc[2]) {
			t.Errorf("empty set: loss %v accuracy %v, want NaN", loss[2], acc[2])
		}
	}
}
