package reward

import (
	"maps"
	"math"
	"slices"
	"testing"

	"prefer/core/rng"
)

// TestLinearObjectiveGradient checks ∇J of the linear model's full-batch objective —
// weights, bias and ρ = log η, through pair (with margin), tie and ranking losses,
// centering and the L2 penalty, with a repeated element as in a bagged resample —
// against central finite differences (float64 throughout: agreement to 1e-7).
func TestLinearObjectiveGradient(t *testing.T) {
	r := rng.New(11)
	const F = 24
	ds := &dataset{rowItem: make([]int32, 7)}
	for i := 0; i < 7; i++ {
		ds.x = append(ds.x, randomSparse(r, F, 7))
	}
	ds.elems = []elem{
		{kind: elPair, rows: []int32{0, 1}, strength: 2},
		{kind: elTie, rows: []int32{2, 3}},
		{kind: elRank, rows: []int32{4, 1, 5, 2}},
		{kind: elPair, rows: []int32{5, 0}, strength: 1},
	}
	cfg := Config{Margin: 0.3, Center: 0.05}
	p := newLinearProblem(ds, []int{0, 1, 2, 3, 2}, F, true, cfg, 4)
	p.setL2(0.7)
	theta := make([]float64, p.size())
	for i := range theta {
		theta[i] = 0.3 * r.Norm()
	}
	theta[F+1] = math.Log(0.4)
	g := make([]float64, len(theta))
	p.fg(theta, g)
	scratch := make([]float64, len(theta))
	const h = 1e-6
	for i := range theta {
		old := theta[i]
		theta[i] = old + h
		fp := p.fg(theta, scratch)
		theta[i] = old - h
		fm := p.fg(theta, scratch)
		theta[i] = old
		checkClose(t, "∂J/∂θ", g[i], (fp-fm)/(2*h), 1e-7)
	}
	if len(p.rows) != 6 {
		t.Errorf("%d distinct rows, want 6 (row 6 is in no element)", len(p.rows))
	}
}

// TestLBFGSRosenbrock checks the optimizer on Rosenbrock's function
// f(x, y) = (1 − x)² + 100(y − x²)² from (−1.2, 1), its classic start (Moré, Garbow
// & Hillstrom 1981): the minimum is f(1, 1) = 0.
func TestLBFGSRosenbrock(t *testing.T) {
	fg := func(x, g []float64) float64 {
		a, b := 1-x[0], x[1]-x[0]*x[0]
		g[0] = -2*a - 400*x[0]*b
		g[1] = 200 * b
		return a*a + 100*b*b
	}
	o := newLBFGS([]float64{-1.2, 1}, 5, fg)
	it := 0
	for ; it < 200 && o.iterate(fg); it++ {
		if o.f < 1e-20 {
			break
		}
	}
	if math.Abs(o.x[0]-1) > 1e-6 || math.Abs(o.x[1]-1) > 1e-6 {
		t.Errorf("after %d iterations (%d evaluations): x = %v, f = %g; want (1, 1)", it, o.evals, o.x, o.f)
	}
	if it > 60 {
		t.Errorf("%d iterations to the minimum, want ≤ 60 (about 35 for L-BFGS with m = 5)", it)
	}
}

// TestLinearConverges checks that without early stopping (no validation split) the
// full-batch fit reaches the minimum of its objective: the gradient of the summed
// loss below scikit-learn's tolerance, 1e-4.
func TestLinearConverges(t *testing.T) {
	ds := synthData(5)
	res, err := Train(ds.Items, ds.Judgments, Config{Family: FamilyLinear, Seed: 1, Valid: -1, Epochs: 500})
	if err != nil {
		t.Fatal(err)
	}
	cfg := res.Config
	d := newDataset(ds.Items, ds.Judgments, cfg.pairOptions())
	d.featurize(NewFeaturizer(cfg.Features), nil)
	sp := d.split(cfg.SplitBy, cfg.Holdout, cfg.Valid, rng.New(cfg.Seed).Split("split"))
	lin := res.Model.(*Linear)
	ties := false
	for _, e := range sp.train {
		ties = ties || d.elems[e].kind == elTie
	}
	p := newLinearProblem(d, sp.train, cfg.Features.Width(), ties, cfg, 8)
	p.setL2(cfg.L2) // without a validation split the path stays at its first penalty
	theta := make([]float64, p.size())
	for i, w := range lin.W {
		theta[i] = float64(w)
	}
	theta[len(lin.W)] = float64(lin.B)
	if ties {
		theta[len(lin.W)+1] = math.Log(lin.Eta)
	}
	g := make([]float64, len(theta))
	p.fg(theta, g)
	n := float64(len(sp.train))
	for i, v := range g {
		// float32 storage of θ limits the gradient's accuracy: allow 1e-3.
		if math.Abs(v*n) > 1e-3 {
			t.Errorf("∂(nJ)/∂θ_%d = %g at the fitted model, want ≈ 0", i, v*n)
		}
	}
}

// TestTopFeaturesOnce checks that the top features named from the n-gram counts
// gathered while training featurized the texts (topKeys) are those of featurizing
// the training texts again (Explain), name for name and weight for weight, with
// k = 10 and k = 40. With 64 buckets dozens of n-grams share each weight, so the
// k-th feature falls inside a tie that the names decide.
func TestTopFeaturesOnce(t *testing.T) {
	d := demoComparisons(t, "polite", 2)
	cfg := Config{Family: FamilyLinear, Seed: 1, Features: FeatureConfig{Dim: 64}}.withDefaults()
	ds := newDataset(d.Items, d.Judgments, cfg.pairOptions())
	sp := ds.split(cfg.SplitBy, cfg.Holdout, cfg.Valid, rng.New(1).Split("split"))
	ds.featurize(NewFeaturizer(cfg.Features), ds.trainRows(sp.train))
	if len(ds.keys) == 0 {
		t.Fatal("no n-grams counted while featurizing")
	}
	m, _, err := trainLinear(ds, sp, cfg, 1, rng.New(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{10, 40} {
		pos, neg := topFeatures(ds, sp.train, m, k)
		keys := ds.keys
		ds.keys = nil // the path of featurizing the texts again
		wantPos, wantNeg := topFeatures(ds, sp.train, m, k)
		ds.keys = keys
		if len(pos) != k || len(neg) != k {
			t.Fatalf("k %d: %d positive and %d negative features", k, len(pos), len(neg))
		}
		if !slices.Equal(pos, wantPos) || !slices.Equal(neg, wantNeg) {
			t.Errorf("k %d:\npositive %v\nwant     %v\nnegative %v\nwant     %v", k, pos, wantPos, neg, wantNeg)
		}
	}
}

// TestScoreRowsEqualsOneByOne: scoring four rows side by side gives each row's
// score bit for bit as the plain loop does (rows of ragged lengths, empty rows, a
// count of rows that is not a multiple of four, repeated rows).
func TestScoreRowsEqualsOneByOne(t *testing.T) {
	r := rng.New(3)
	const dim = 64
	w := make([]float64, dim)
	for j := range w {
		w[j] = r.Norm() * math.Pow(10, float64(r.IntN(7)-3))
	}
	x := make([]Sparse, 23)
	for i := range x {
		n := r.IntN(40)
		if i%7 == 3 {
			n = 0
		}
		for j := range dim {
			if len(x[i].Idx) < n && r.IntN(2) == 0 {
				x[i].Idx = append(x[i].Idx, int32(j))
				x[i].Val = append(x[i].Val, float32(r.Norm()))
			}
		}
	}
	for _, rows := range [][]int32{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}, {5, 5, 2}, {22, 3, 1, 0, 9}} {
		got := make([]float64, len(rows))
		scoreRows(got, x, rows, w, 0.37)
		for i, row := range rows {
			want := 0.37
			for k, j := range x[row].Idx {
				want += float64(w[j] * float64(x[row].Val[k]))
			}
			if math.Float64bits(got[i]) != math.Float64bits(want) {
				t.Errorf("row %d: %v, one by one %v", row, got[i], want)
			}
		}
	}
}

// TestSharedFeatureRows: rows of equal text share one feature vector (featurized
// once), and what the fit and the diagnostics see does not change. On the demo (templated
// answers: far fewer distinct texts than rows) each row's vector is, bit for bit,
// the one its text gives alone; the n-gram counts are those of counting the
// training rows one by one in row order (the way they were gathered before rows were
// shared); and the fit's objective and gradient — with cross features too, where the
// prompt is part of what must be equal — are those of unshared rows.
func TestSharedFeatureRows(t *testing.T) {
	d := demoComparisons(t, "polite", 2)
	for _, fc := range []FeatureConfig{{Dim: 256}, {Dim: 256, Cross: true}} {
		cfg := Config{Family: FamilyLinear, Seed: 1, Epochs: 8, Features: fc}.withDefaults()
		ds := newDataset(d.Items, d.Judgments, cfg.pairOptions())
		sp := ds.split(cfg.SplitBy, cfg.Holdout, cfg.Valid, rng.New(1).Split("split"))
		train := ds.trainRows(sp.train)
		f := NewFeaturizer(cfg.Features)
		ds.featurize(f, train)
		rows := len(ds.rowItem)
		t.Logf("cross %v: %d vectors for %d rows", fc.Cross, len(ds.x), rows)
		if len(ds.x) >= rows*3/4 {
			t.Fatalf("%d vectors for %d rows: the demo's templated answers should share", len(ds.x), rows)
		}
		// Unshared: each row featurized alone, n-grams counted row by row.
		alone := &dataset{items: ds.items, rowItem: ds.rowItem, rowResp: ds.rowResp, itemRow: ds.itemRow, elems: ds.elems,
			feat: ds.feat, keys: map[uint64]keyCount{}, keysOf: train}
		g := &Featurizer{cfg: f.cfg, keys: alone.keys}
		for r := range rows {
			g.keys = nil
			if train[r] {
				g.keys = alone.keys
			}
			g.row = int32(r)
			alone.x = append(alone.x, g.FeaturizePair(ds.items[ds.rowItem[r]].Prompt, ds.text(int32(r))))
		}
		for r := range rows {
			got, want := ds.fx(int32(r)), alone.x[r]
			if !slices.Equal(got.Idx, want.Idx) || !slices.Equal(got.Val, want.Val) {
				t.Fatalf("row %d: shared vector differs from the text's own", r)
			}
		}
		if !maps.Equal(ds.keys, alone.keys) {
			t.Errorf("n-gram counts differ: %d keys shared, %d row by row", len(ds.keys), len(alone.keys))
		}
		// The objective is the same to the bit (each row's score is its vector's);
		// the gradient adds a shared vector's row derivatives first, so it agrees
		// to rounding.
		F := cfg.Features.Width()
		shared := newLinearProblem(ds, sp.train, F, false, cfg, 2)
		unshared := newLinearProblem(alone, sp.train, F, false, cfg, 2)
		if len(shared.ux) >= len(shared.rows) || len(unshared.ux) != len(unshared.rows) {
			t.Errorf("%d and %d distinct vectors scored for %d training rows: want fewer, and all", len(shared.ux), len(unshared.ux), len(shared.rows))
		}
		theta := make([]float64, shared.size())
		r := rng.New(4)
		for j := range theta {
			theta[j] = 0.3 * r.Norm()
		}
		g1, g2 := make([]float64, len(theta)), make([]float64, len(theta))
		if f1, f2 := shared.fg(theta, g1), unshared.fg(theta, g2); f1 != f2 {
			t.Errorf("cross %v: objective %v on shared rows, %v on unshared", fc.Cross, f1, f2)
		}
		for j := range g1 {
			if math.Abs(g1[j]-g2[j]) > 1e-12 {
				t.Fatalf("cross %v: ∂J/∂θ_%d = %v on shared rows, %v on unshared", fc.Cross, j, g1[j], g2[j])
			}
		}
	}
}

// TestDistinctRowsUnchanged: when every row's text is distinct the fit is the one
// of rows featurized one by one, bit for bit — sharing vectors changes only the
// order in which equal rows' derivatives are added.
func TestDistinctRowsUnchanged(t *testing.T) {
	ds := synthData(5)
	cfg := Config{Family: FamilyLinear, Seed: 1, Epochs: 6}.withDefaults()
	shared := newDataset(ds.Items, ds.Judgments, cfg.pairOptions())
	sp := shared.split(cfg.SplitBy, cfg.Holdout, cfg.Valid, rng.New(1).Split("split"))
	shared.featurize(NewFeaturizer(cfg.Features), nil)
	if len(shared.x) != len(shared.rowItem) {
		t.Fatalf("%d vectors for %d rows: synthData's texts should be distinct", len(shared.x), len(shared.rowItem))
	}
	alone := newDataset(ds.Items, ds.Judgments, cfg.pairOptions())
	alone.featurize(NewFeaturizer(cfg.Features), nil)
	alone.xi = nil
	m1, _, err := trainLinear(shared, sp, cfg, 1, rng.New(2))
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := trainLinear(alone, sp, cfg, 1, rng.New(2))
	if err != nil {
		t.Fatal(err)
	}
	if h1, h2 := modelHash(t, m1), modelHash(t, m2); h1 != h2 {
		t.Errorf("model %s with shared vectors, %s without", h1, h2)
	}
}

// TestScoredSetsEqualSetLoss: the validation and held-out losses of the linear fit,
// scored once per distinct feature vector of both sets, are setLoss with
// ensembleScorer (every row scored by itself) bit for bit, for an ensemble of two
// parameter vectors with a tie threshold, on the demo's shared rows.
func TestScoredSetsEqualSetLoss(t *testing.T) {
	d := demoComparisons(t, "polite", 2)
	cfg := Config{Family: FamilyLinear, Seed: 1, BothBadTie: true, Features: FeatureConfig{Dim: 256}}.withDefaults()
	ds := newDataset(d.Items, d.Judgments, cfg.pairOptions())
	sp := ds.split(cfg.SplitBy, cfg.Holdout, cfg.Valid, rng.New(1).Split("split"))
	ds.featurize(NewFeaturizer(cfg.Features), nil)
	nt := linearNet{f: cfg.Features.Width()}
	r := rng.New(5)
	params := make([][]float32, 2)
	for k := range params {
		params[k] = make([]float32, nt.size())
		for j := range params[k] {
			params[k][j] = float32(r.Norm())
		}
	}
	sets := newScoredSets(ds, nt, sp.valid, sp.held)
	if len(sets.ux) >= len(ds.rowItem) {
		t.Fatalf("%d vectors scored for %d rows", len(sets.ux), len(ds.rowItem))
	}
	loss, acc := sets.losses(params, 0.3)
	sc := newScratch(ds, nt)
	for k, idx := range [][]int{sp.valid, sp.held} {
		wl, wa := setLoss(ds, idx, ensembleScorer(ds, nt, params, sc), 0.3)
		if math.Float64bits(loss[k]) != math.Float64bits(wl) || math.Float64bits(acc[k]) != math.Float64bits(wa) {
			t.Errorf("set %d: loss %v accuracy %v, row by row %v %v", k, loss[k], acc[k], wl, wa)
		}
	}
}
