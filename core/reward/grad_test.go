package reward

import (
	"math"
	"testing"

	"prefer/core/rng"
)

// checkClose fails when |got − want| > tol·max(1, |want|).
func checkClose(tb testing.TB, name string, got, want, tol float64) {
	tb.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > float64(tol*math.Max(1, math.Abs(want))) {
		tb.Errorf("%s: got %.8g, want %.8g", name, got, want)
	}
}

// TestElemLossGradients checks ∂loss/∂r and ∂loss/∂η of every loss term against
// central finite differences: decided pairs (with margin), Rao–Kupper ties, k-wise
// rankings, and TRL's centering term.
func TestElemLossGradients(t *testing.T) {
	cases := []struct {
		name     string
		kind     uint8
		strength int
		r        []float64
		o        lossOpts
	}{
		{"pair", elPair, 0, []float64{0.3, -0.4}, lossOpts{}},
		{"pair eta", elPair, 0, []float64{1.3, -0.4}, lossOpts{eta: 0.7}},
		{"pair margin", elPair, 2, []float64{0.3, 0.1}, lossOpts{eta: 0.2, margin: 0.5}},
		{"pair center", elPair, 1, []float64{2.3, 1.1}, lossOpts{eta: 0.3, margin: 0.25, center: 0.01}},
		{"tie", elTie, 0, []float64{0.3, -0.2}, lossOpts{eta: 0.5}},
		{"tie small eta", elTie, 0, []float64{0.1, 0.15}, lossOpts{eta: 3e-5}},
		{"tie center", elTie, 0, []float64{1.5, 0.7}, lossOpts{eta: 1.2, center: 0.1}},
		{"rank3", elRank, 0, []float64{0.5, -0.1, 0.2}, lossOpts{}},
		{"rank5 eta center", elRank, 0, []float64{0.5, -0.1, 0.2, 1.1, -2}, lossOpts{eta: 0.4, center: 0.05}},
	}
	for _, c := range cases {
		dr := make([]float64, len(c.r))
		_, deta := elemLoss(c.kind, c.strength, c.r, dr, c.o)
		scratch := make([]float64, len(c.r))
		f := func(r []float64, eta float64) float64 {
			o := c.o
			o.eta = eta
			l, _ := elemLoss(c.kind, c.strength, r, scratch, o)
			return l
		}
		const h = 1e-6
		for i := range c.r {
			rp := append([]float64(nil), c.r...)
			rm := append([]float64(nil), c.r...)
			rp[i] += h
			rm[i] -= h
			fd := (f(rp, c.o.eta) - f(rm, c.o.eta)) / (2 * h)
			checkClose(t, c.name+" dr", dr[i], fd, 1e-6)
		}
		if c.o.eta > 1e-3 {
			fd := (f(c.r, c.o.eta+h) - f(c.r, c.o.eta-h)) / (2 * h)
			checkClose(t, c.name+" deta", deta, fd, 1e-6)
		}
	}
}

// TestTieLikelihood checks the closed form of log P(tie) against its definition
// 1 − σ(d−η) − σ(−d−η) (Rao & Kupper 1967) and the second derivatives of both
// likelihood terms against finite differences of the first.
func TestTieLikelihood(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, d := range []float64{-3, -0.5, 0, 0.2, 2.5} {
		for _, eta := range []float64{1e-3, 0.3, 1, 4} {
			want := 1 - sig(d-eta) - sig(-d-eta)
			checkClose(t, "P(tie)", TieProb(d, eta), want, 1e-9)
			const h = 1e-5
			for _, f := range []func(d, eta float64) llTerms{decidedLL, tieLL} {
				t0 := f(d, eta)
				dp, dm := f(d+h, eta), f(d-h, eta)
				ep, em := f(d, eta+h), f(d, eta-h)
				checkClose(t, "dd", t0.dd, (dp.d-dm.d)/(2*h), 1e-5)
				checkClose(t, "de", t0.de, (ep.d-em.d)/(2*h), 1e-5)
				if eta > 0.01 {
					checkClose(t, "ee", t0.ee, (ep.e-em.e)/(2*h), 1e-4)
				}
			}
		}
	}
	// The three outcome probabilities sum to one.
	d, eta := 0.4, 0.8
	sum := WinProb(d, eta) + WinProb(-d, eta) + TieProb(d, eta)
	checkClose(t, "sum", sum, 1, 1e-12)
}

// randomSparse returns a sparse row with n entries below dim (sorted, distinct).
func randomSparse(r *rng.RNG, dim, n int) Sparse {
	perm := r.Perm(dim)[:n]
	sortInts32 := make([]int32, n)
	for i, p := range perm {
		sortInts32[i] = int32(p)
	}
	for i := 1; i < n; i++ {
		for j := i; j > 0 && sortInts32[j] < sortInts32[j-1]; j-- {
			sortInts32[j], sortInts32[j-1] = sortInts32[j-1], sortInts32[j]
		}
	}
	x := Sparse{Idx: sortInts32, Val: make([]float32, n)}
	for i := range x.Val {
		x.Val[i] = float32(r.Norm() * 0.5)
	}
	return x
}

// TestNetGradients checks the backward pass of the linear and MLP networks against
// central finite differences of the forward pass, parameter by parameter (float64
// differences of float32 forward values, so the tolerance is loose).
func TestNetGradients(t *testing.T) {
	r := rng.New(3)
	const F = 40
	nets := []struct {
		name string
		nt   net
	}{{"linear", linearNet{f: F}}, {"mlp", mlpNet{f: F, h: 9}}}
	for _, c := range nets {
		p := make([]float32, c.nt.size())
		c.nt.init(p, r)
		for i := range p {
			p[i] += float32(0.3 * r.Norm())
		}
		x := randomSparse(r, F, 11)
		h := make([]float32, c.nt.hidden())
		grad := make([]float32, len(p))
		c.nt.forward(p, x, h)
		c.nt.backward(p, grad, x, h, 1)
		const eps = 1e-2
		worst := 0.0
		for i := range p {
			old := p[i]
			p[i] = old + eps
			fp := float64(c.nt.forward(p, x, h))
			p[i] = old - eps
			fm := float64(c.nt.forward(p, x, h))
			p[i] = old
			fd := (fp - fm) / (2 * eps)
			if d := math.Abs(fd - float64(grad[i])); d > worst {
				worst = d
			}
			if math.Abs(fd-float64(grad[i])) > float64(2e-3*math.Max(1, math.Abs(fd))) {
				t.Errorf("%s: param %d: backward %.6f, finite difference %.6f", c.name, i, grad[i], fd)
			}
		}
		t.Logf("%s: largest |backward − finite difference| = %.2g", c.name, worst)
	}
}

// TestTrainingGradient checks the whole chain the optimizer sees — network,
// pair/tie/ranking loss with margin and centering, and ρ = log η — on a small
// dataset: the accumulated gradient of one batch equals the finite difference of
// the batch's mean loss.
func TestTrainingGradient(t *testing.T) {
	r := rng.New(11)
	const F = 24
	ds := &dataset{}
	for i := 0; i < 6; i++ {
		ds.x = append(ds.x, randomSparse(r, F, 7))
	}
	ds.elems = []elem{
		{kind: elPair, rows: []int32{0, 1}, strength: 2},
		{kind: elTie, rows: []int32{2, 3}},
		{kind: elRank, rows: []int32{4, 1, 5, 2}},
		{kind: elPair, rows: []int32{5, 0}, strength: 1},
	}
	cfg := Config{Batch: 4, Margin: 0.3, Center: 0.05}
	for _, nt := range []net{linearNet{f: F}, mlpNet{f: F, h: 5}} {
		m := &member{nt: nt, ties: true, train: []int{0, 1, 2, 3}}
		m.theta = make([]float32, nt.size()+1)
		m.grad = make([]float32, len(m.theta))
		nt.init(m.theta[:nt.size()], r)
		for i := range m.theta {
			m.theta[i] += float32(0.2 * r.Norm())
		}
		m.theta[len(m.theta)-1] = float32(math.Log(0.4))
		sc := newScratch(ds, nt)
		loss := func() float64 {
			var total float64
			eta := m.eta()
			for _, e := range ds.elems {
				for i, row := range e.rows {
					sc.r[i] = float64(nt.forward(m.theta[:nt.size()], ds.x[row], sc.h[i]))
				}
				l, _ := elemLoss(e.kind, e.strength, sc.r[:len(e.rows)], sc.dr[:len(e.rows)], lossOpts{eta: eta, margin: cfg.Margin, center: cfg.Center})
				total += l
			}
			return total / float64(len(ds.elems))
		}
		// One batch of all four elements; capture the gradient before the step.
		m.opt = NewAdamW(len(m.theta), 0, 0, 0) // lr 0: Step leaves θ unchanged
		m.r = rng.New(1)
		m.epoch(ds, cfg, sc)
		grad := append([]float32(nil), m.grad...)
		// pattern is the ReLU on/off pattern over all rows: a finite difference that
		// crosses a kink is not a check of the gradient, so such parameters are skipped.
		pattern := func() string {
			var b []byte
			for _, x := range ds.x {
				h := make([]float32, nt.hidden())
				nt.forward(m.theta[:nt.size()], x, h)
				for _, v := range h {
					if v > 0 {
						b = append(b, '1')
					} else {
						b = append(b, '0')
					}
				}
			}
			return string(b)
		}
		const eps = 1e-2
		skipped := 0
		for i := range m.theta {
			old := m.theta[i]
			m.theta[i] = old + eps
			lp, pp := loss(), pattern()
			m.theta[i] = old - eps
			lm, pm := loss(), pattern()
			m.theta[i] = old
			if pp != pm {
				skipped++
				continue
			}
			fd := (lp - lm) / (2 * eps)
			if math.Abs(fd-float64(grad[i])) > float64(3e-3*math.Max(1, math.Abs(fd))) {
				t.Errorf("%T param %d of %d: gradient %.6f, finite difference %.6f", nt, i, len(m.theta), grad[i], fd)
			}
		}
		if skipped > len(m.theta)/10 {
			t.Errorf("%T: %d of %d parameters sit at a ReLU kink", nt, skipped, len(m.theta))
		}
	}
}

// TestTabularGradientHessian checks the tabular objective's gradient and −Hessian
// (λ, position effect α and ρ = log η, with a ridge) against finite differences.
func TestTabularGradientHessian(t *testing.T) {
	data := &tabData{itemIdx: []int{0, 0, 0, 0}, respID: []string{"a", "b", "c", "d"}, text: []string{"a", "b", "c", "d"}}
	add := func(a, b int, tie bool, side float64) {
		data.elems = append(data.elems, []tpair{{a: a, b: b, tie: tie, side: side, w: 1}})
	}
	add(0, 1, false, 1)
	add(1, 0, false, -1)
	add(2, 1, true, 1)
	add(3, 2, false, 0)
	add(2, 3, false, 1)
	add(0, 3, true, -1)
	add(1, 2, false, 1)
	p := newTabProblem(data, nil, nil, true, 0.3)
	if p.alpha < 0 || p.rho < 0 {
		t.Fatal("expected α and ρ parameters")
	}
	st := p.newState()
	theta := []float64{0.2, -0.4, 0.7, 0.1, 0.3, math.Log(0.6)}
	if len(theta) != p.np {
		t.Fatalf("np = %d", p.np)
	}
	p.set(st, theta)
	g := make([]float64, p.np)
	h := p.newHess()
	p.eval(st, g, h)
	full := func(i, j int) float64 { // −H[i][j] from the arrow form
		m := h.m
		switch {
		case i < p.nLam && j < p.nLam:
			return h.blocks[0][i*p.size[0]+j]
		case i < p.nLam:
			return h.couple[0][i*m+(j-p.nLam)]
		case j < p.nLam:
			return h.couple[0][j*m+(i-p.nLam)]
		}
		return h.glob[(i-p.nLam)*m+(j-p.nLam)]
	}
	const eps = 1e-5
	obj := func(th []float64) float64 {
		s := p.newState()
		p.set(s, th)
		o, _ := p.eval(s, nil, h)
		return o
	}
	grad := func(th []float64) []float64 {
		s := p.newState()
		p.set(s, th)
		gg := make([]float64, p.np)
		hh := p.newHess()
		p.eval(s, gg, hh)
		return gg
	}
	for i := 0; i < p.np; i++ {
		tp := append([]float64(nil), theta...)
		tm := append([]float64(nil), theta...)
		tp[i] += eps
		tm[i] -= eps
		checkClose(t, "gradient", g[i], (obj(tp)-obj(tm))/(2*eps), 1e-6)
		gp, gm := grad(tp), grad(tm)
		for j := 0; j < p.np; j++ {
			checkClose(t, "−Hessian", full(j, i), -(gp[j]-gm[j])/(2*eps), 1e-5)
		}
	}
}

func newTestRNG(seed uint64) *rng.RNG { return rng.New(seed) }
