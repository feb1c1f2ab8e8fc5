package agree

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"prefer/core/rng"
)

// krippendorff2011 is the worked example of Krippendorff (2011), "Computing
// Krippendorff's Alpha-Reliability", p. 3 (4 observers × 12 units, '.' = missing),
// transposed to units × raters.
func krippendorff2011() [][]float64 {
	m := math.NaN()
	obs := [4][12]float64{
		{1, 2, 3, 3, 2, 1, 4, 1, 2, m, m, m},
		{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, m, 3},
		{m, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, m},
		{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, m},
	}
	data := make([][]float64, 12)
	for u := range data {
		data[u] = make([]float64, 4)
		for r := 0; r < 4; r++ {
			data[u][r] = obs[r][u]
		}
	}
	return data
}

// fleissWikipedia is the example of the Wikipedia article "Fleiss' kappa" (10 subjects,
// 14 raters, 5 categories; counts per category).
func fleissWikipedia() [][]float64 {
	return [][]float64{
		{0, 0, 0, 0, 14},
		{0, 2, 6, 4, 2},
		{0, 0, 3, 5, 6},
		{0, 3, 9, 2, 0},
		{2, 2, 8, 1, 1},
		{7, 7, 0, 0, 0},
		{3, 2, 6, 3, 0},
		{2, 5, 3, 2, 2},
		{6, 5, 2, 1, 0},
		{0, 2, 2, 3, 7},
	}
}

func near(tb testing.TB, name string, got, want, tol float64) {
	tb.Helper()
	if !(math.Abs(got-want) <= tol) {
		tb.Errorf("%s = %.9g, want %.9g (±%g)", name, got, want, tol)
	}
}

func TestAlphaKrippendorff2011(t *testing.T) {
	data := krippendorff2011()
	cases := []struct {
		m    Metric
		want float64
		tol  float64
	}{
		{Nominal, 0.743, 0.0005},      // Krippendorff 2011, p. 4
		{Nominal, 113.0 / 152, 1e-12}, // the same as an exact fraction (rlhf.md, checked)
		{Ordinal, 0.815, 0.0005},      // Krippendorff 2011, p. 6
		{Interval, 0.849107, 5e-7},    // rlhf.md: computed, no published figure
		{Ratio, 0.797, 0.0005},        // Krippendorff 2011, p. 7
	}
	for _, c := range cases {
		near(t, string(c.m), Alpha(data, c.m).Alpha, c.want, c.tol)
	}
	got := Alpha(data, Nominal)
	if got.Units != 11 || got.Values != 40 {
		t.Errorf("pairable units, values = %d, %d, want 11, 40 (unit 12 has one value)", got.Units, got.Values)
	}
	// Krippendorff 2011 p. 4: with n = 40, Do = 8/40 for nominal data.
	near(t, "nominal Do", got.Do, 8.0/40, 1e-12)
}

func TestAlphaEdgeCases(t *testing.T) {
	m := math.NaN()
	if a := Alpha(nil, Nominal); !math.IsNaN(a.Alpha) || a.Units != 0 {
		t.Errorf("empty: %+v", a)
	}
	if a := Alpha([][]float64{{1, m}, {m, 2}}, Nominal); !math.IsNaN(a.Alpha) || a.Units != 0 {
		t.Errorf("no pairable unit: %+v", a)
	}
	if a := Alpha([][]float64{{3, 3}, {3, 3, 3}}, Interval); !math.IsNaN(a.Alpha) {
		t.Errorf("no variation: α = %v, want NaN", a.Alpha)
	}
	// Perfect agreement with variation: α = 1 for every metric.
	for _, met := range Metrics {
		if a := Alpha([][]float64{{1, 1}, {2, 2, m}, {4, m, 4}}, met); a.Alpha != 1 {
			t.Errorf("%s perfect agreement: α = %v", met, a.Alpha)
		}
	}
	// Two raters, two units, swapped: maximal disagreement. By hand: o_12 = o_21 = 2,
	// n_1 = n_2 = 2, n = 4; Do = 4/4 = 1, De = 8/(4·3) = 2/3, α = 1 − 3/2 = −0.5.
	near(t, "swapped", Alpha([][]float64{{1, 2}, {2, 1}}, Nominal).Alpha, -0.5, 1e-15)
	if _, err := ParseMetric("cosine"); err == nil {
		t.Error("ParseMetric accepted an unknown metric")
	}
}

func TestFleissWikipedia(t *testing.T) {
	got := FleissKappa(fleissWikipedia())
	// Wikipedia "Fleiss' kappa", worked example: P̄ = 0.378, P̄e = 0.213, κ = 0.210;
	// to six digits (rlhf.md, checked): 0.378022, 0.212755, 0.209931.
	near(t, "P̄", got.P, 0.378022, 5e-7)
	near(t, "P̄e", got.Pe, 0.212755, 5e-7)
	near(t, "κ", got.Kappa, 0.209931, 5e-7)
	if got.Subjects != 10 || got.Ratings != 140 {
		t.Errorf("subjects, ratings = %d, %d, want 10, 140", got.Subjects, got.Ratings)
	}
	// Fleiss' κ of two raters is Scott's π, which on this table (Cohen's example below)
	// is by hand: p_o = 0.7, pooled margins 0.55/0.45 → p_e = 0.505, π = 0.195/0.495.
	two := [][]float64{}
	for i := 0; i < 20; i++ {
		two = append(two, []float64{2, 0})
	}
	for i := 0; i < 5; i++ {
		two = append(two, []float64{1, 1})
	}
	for i := 0; i < 10; i++ {
		two = append(two, []float64{1, 1})
	}
	for i := 0; i < 15; i++ {
		two = append(two, []float64{0, 2})
	}
	near(t, "Scott's π", FleissKappa(two).Kappa, 0.195/0.495, 1e-12)
}

func TestCohen(t *testing.T) {
	got := CohenKappa([][]float64{{20, 5}, {10, 15}})
	// rlhf.md: [[20, 5], [10, 15]] → p_o 0.7, p_e 0.5, κ = 0.4.
	near(t, "po", got.Po, 0.7, 1e-12)
	near(t, "pe", got.Pe, 0.5, 1e-12)
	near(t, "κ", got.Kappa, 0.4, 1e-12)
	// Standard errors by hand from Fleiss, Cohen & Everitt (1969), n = 50,
	// p = [[.4, .1], [.2, .3]], rows .5/.5, columns .6/.4, κ = .4:
	//   Σ p_ii[1 − (p_i.+p_.i)(1−κ)]² = .4·(1−1.1·.6)² + .3·(1−.9·.6)² = .04624 + .06348
	//   (1−κ)² Σ_{i≠j} p_ij (p_.i+p_j.)² = .36·(.1·1.1² + .2·.9²) = .10188
	//   [κ − p_e(1−κ)]² = (.4 − .3)² = .01
	//   SE = √(.2016) / (.5·√50) = √(.016128) = 0.12699606…
	//   SE₀ = √(.5 + .25 − (.5·.6·1.1 + .5·.4·.9)) / (.5·√50) = √(.0192) = 0.13856406…
	near(t, "SE", got.SE, math.Sqrt(0.016128), 1e-12)
	near(t, "SE0", got.SE0, math.Sqrt(0.0192), 1e-12)
	near(t, "z", got.Z, 0.4/math.Sqrt(0.0192), 1e-12)
	near(t, "p", got.P, float64(2*distuv.UnitNormal.Survival(0.4/math.Sqrt(0.0192))), 1e-12)

	// Empty categories change nothing.
	pad := CohenKappa([][]float64{{20, 5, 0}, {10, 15, 0}, {0, 0, 0}})
	if pad.Kappa != got.Kappa || pad.SE != got.SE {
		t.Errorf("padded table: κ %v SE %v, want %v %v", pad.Kappa, pad.SE, got.Kappa, got.SE)
	}
	// Perfect agreement: κ = 1, SE = 0.
	if p := CohenKappa([][]float64{{3, 0}, {0, 5}}); p.Kappa != 1 || p.SE != 0 {
		t.Errorf("perfect: %+v", p)
	}
	if e := CohenKappa([][]float64{{4}}); !math.IsNaN(e.Kappa) {
		t.Errorf("one category: κ = %v, want NaN", e.Kappa)
	}
}

// TestDistributions checks the package's own p-value functions against gonum.
func TestDistributions(t *testing.T) {
	for _, c := range []struct{ k, n int }{{0, 1}, {3, 10}, {5, 10}, {60, 100}, {62, 100}, {20, 200}, {520, 1000}, {1, 5000}} {
		// Two-sided exact test at p = ½ is symmetric: 2·P(X ≤ min(k, n−k)), capped at 1.
		b := distuv.Binomial{N: float64(c.n), P: 0.5}
		lo := c.k
		if c.n-c.k < lo {
			lo = c.n - c.k
		}
		want := float64(2 * b.CDF(float64(lo)))
		if 2*lo == c.n {
			want = 1
		}
		want = math.Min(want, 1)
		near(t, "binomial", BinomialTest(c.k, c.n, 0.5), want, float64(1e-10*math.Max(want, 1e-300))+1e-15)
	}
	// Asymmetric p: the rule of R's binom.test (sum of the outcomes with pmf ≤ pmf(7)),
	// with gonum's pmf as the reference.
	{
		b := distuv.Binomial{N: 20, P: 0.2}
		var want float64
		for i := 0; i <= 20; i++ {
			if b.Prob(float64(i)) <= float64(b.Prob(7)*(1+1e-7)) {
				want += b.Prob(float64(i))
			}
		}
		near(t, "binomial p=0.2", BinomialTest(7, 20, 0.2), want, 1e-12)
	}
	// One-sided upper tail P(X ≥ k) = 1 − CDF(k−1), gonum's.
	for _, c := range []struct {
		k, n int
		p    float64
	}{{8, 15, 0.48}, {0, 10, 0.3}, {10, 10, 0.3}, {38, 57, 0.5}, {30, 40, 0.25}} {
		want := 1.0
		if c.k > 0 {
			want = distuv.Binomial{N: float64(c.n), P: c.p}.Survival(float64(c.k - 1))
		}
		near(t, "binomial upper", BinomialUpper(c.k, c.n, c.p), want, 1e-11)
	}
	for _, c := range []struct {
		x  float64
		df int
	}{{0.5, 1}, {3.84, 1}, {10, 3}, {100, 5}, {2, 30}, {45, 30}, {300, 200}} {
		want := distuv.ChiSquared{K: float64(c.df)}.Survival(c.x)
		near(t, "chi-square", chiSquareSF(c.x, c.df), want, float64(1e-11*want)+1e-300)
	}
	for _, z := range []float64{0, 0.5, 1.96, 3, 6, 10} {
		want := math.Erfc(z / math.Sqrt2) // P(|Z| ≥ z)
		near(t, "normal", normalTwoSided(z), want, float64(1e-10*want)+1e-300)
	}
	for _, v := range []float64{0.1, 0.5, 1, 2.5, 10, 170.5, 1e5} {
		lg, _ := math.Lgamma(v)
		near(t, "lgamma", lgamma(v), lg, float64(1e-13*math.Max(1, math.Abs(lg))))
	}
	// χ² test of a 2×2 table by hand: [[10, 20], [30, 40]], N = 100, E = [[12, 18], [28, 42]];
	// χ² = 4/12 + 4/18 + 4/28 + 4/42 = 0.79365…, df = 1.
	chi, df, p := ChiSquareTest([][]float64{{10, 20}, {30, 40}, {0, 0}})
	near(t, "χ²", chi, 4.0/12+4.0/18+4.0/28+4.0/42, 1e-12)
	if df != 1 {
		t.Errorf("df = %d, want 1 (the empty row is dropped)", df)
	}
	near(t, "χ² p", p, distuv.ChiSquared{K: 1}.Survival(chi), 1e-12)
}

func TestSlopeAndPearson(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	y := []float64{2, 4, 5, 4, 5}
	// By hand: mean x 3, mean y 4, Sxx 10, Sxy 6 → b = 0.6, a = 2.2;
	// residuals −.8, .6, 1, −.6, −.2 → RSS 2.4, SE = √(2.4/3/10) = √0.08.
	b, se, _ := slope(x, y)
	near(t, "slope", b, 0.6, 1e-12)
	near(t, "se", se, math.Sqrt(0.08), 1e-12)
	// r = Sxy/√(Sxx Syy) = 6/√(10·6).
	near(t, "pearson", pearson(x, y), 6/math.Sqrt(60), 1e-12)
	if r := pearson(x, []float64{1, 1, 1, 1, 1}); !math.IsNaN(r) {
		t.Errorf("constant y: r = %v", r)
	}
}

// simulateRaters draws nUnits binary true labels (P(class 1) = 0.6) and labels from
// raters who are right with the given accuracies, everyone labeling every unit except
// for a share of missing labels.
func simulateRaters(seed uint64, nUnits int, acc []float64, missing float64) (truth []int, labels [][]int) {
	r := rng.New(seed)
	truth = make([]int, nUnits)
	labels = make([][]int, nUnits)
	for u := range labels {
		if r.Bernoulli(0.6) {
			truth[u] = 1
		}
		labels[u] = make([]int, len(acc))
		for j, a := range acc {
			switch {
			case r.Bernoulli(missing):
				labels[u][j] = -1
			case r.Bernoulli(a):
				labels[u][j] = truth[u]
			default:
				labels[u][j] = 1 - truth[u]
			}
		}
	}
	return truth, labels
}

func accuracy(pred, truth []int) float64 {
	n := 0
	for i := range pred {
		if pred[i] == truth[i] {
			n++
		}
	}
	return float64(n) / float64(len(pred))
}

func TestDawidSkeneRecoversAccuracies(t *testing.T) {
	acc := []float64{0.95, 0.9, 0.8, 0.7, 0.55}
	for _, seed := range []uint64{1, 2, 3} {
		truth, labels := simulateRaters(seed, 500, acc, 0)
		res, err := DawidSkene(labels, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Converged {
			t.Errorf("seed %d: not converged after %d iterations", seed, res.Iter)
		}
		for r, want := range acc {
			near(t, "accuracy", res.Accuracy[r], want, 0.05)
		}
		ds, mv := accuracy(res.Labels, truth), accuracy(MajorityVote(labels, 2), truth)
		if ds <= mv {
			t.Errorf("seed %d: Dawid–Skene accuracy %.3f does not beat majority vote %.3f", seed, ds, mv)
		}
		t.Logf("seed %d: DS %.3f, MV %.3f, accuracies %.3f, %d iterations", seed, ds, mv, res.Accuracy, res.Iter)
	}
}

func TestDawidSkeneMissingAndEdges(t *testing.T) {
	// With 30% of labels missing the accuracies are still recovered.
	acc := []float64{0.95, 0.9, 0.8, 0.7, 0.55}
	_, labels := simulateRaters(9, 800, acc, 0.3)
	labels = append(labels, []int{-1, -1, -1, -1, -1}) // a unit nobody labeled
	res, err := DawidSkene(labels, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range acc {
		near(t, "accuracy with missing labels", res.Accuracy[r], want, 0.05)
	}
	last := res.Posterior[len(labels)-1]
	near(t, "unlabeled unit gets the prior", last[1], res.Prior[1], 1e-12)
	if _, err := DawidSkene([][]int{{-1}}, 2, nil); err == nil {
		t.Error("no labels: want an error")
	}
	// A rater who never labeled anything has an undefined accuracy.
	res, _ = DawidSkene([][]int{{0, 1, -1}, {1, 1, -1}}, 2, nil)
	if !math.IsNaN(res.Accuracy[2]) {
		t.Errorf("accuracy of a silent rater = %v, want NaN", res.Accuracy[2])
	}
}

func BenchmarkDawidSkene(b *testing.B) {
	_, labels := simulateRaters(1, 5000, []float64{0.95, 0.9, 0.8, 0.7, 0.55, 0.85, 0.6, 0.75}, 0.5)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DawidSkene(labels, 2, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(float64(len(labels))*float64(b.N))/b.Elapsed().Seconds(), "units/s")
}

// TestLogit2 checks the logistic fit: it recovers simulated coefficients, its gradient
// vanishes at the fit (central differences of the penalized log-likelihood), and its
// standard errors match the inverse of a finite-difference Hessian.
func TestLogit2(t *testing.T) {
	r := rng.New(5)
	n := 4000
	x1, x2, y := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range y {
		x1[i], x2[i] = r.Norm(), r.Norm()+float64(0.3*x1[i])
		if r.Bernoulli(1 / (1 + math.Exp(-(float64(1.5*x1[i]) - float64(0.7*x2[i]))))) {
			y[i] = 1
		}
	}
	const lambda = 1
	b, se, ok := logit2(x1, x2, y, lambda)
	if !ok {
		t.Fatal("fit failed")
	}
	near(t, "b1", b[0], 1.5, 0.15)
	near(t, "b2", b[1], -0.7, 0.1)
	ll := func(b0, b1 float64) float64 {
		var s float64
		for i := range y {
			z := float64(b0*x1[i]) + float64(b1*x2[i])
			s += float64(y[i]*z) - math.Log1p(math.Exp(z))
		}
		return s - float64(0.5*lambda*(float64(b0*b0)+float64(b1*b1)))
	}
	const h = 1e-4
	g0 := (ll(b[0]+h, b[1]) - ll(b[0]-h, b[1])) / (2 * h)
	g1 := (ll(b[0], b[1]+h) - ll(b[0], b[1]-h)) / (2 * h)
	near(t, "gradient b1", g0, 0, 1e-5)
	near(t, "gradient b2", g1, 0, 1e-5)
	// Information = −Hessian by central differences; SE² = diag of its inverse.
	f := ll(b[0], b[1])
	h00 := -(ll(b[0]+h, b[1]) - float64(2*f) + ll(b[0]-h, b[1])) / (h * h)
	h11 := -(ll(b[0], b[1]+h) - float64(2*f) + ll(b[0], b[1]-h)) / (h * h)
	h01 := -(ll(b[0]+h, b[1]+h) - ll(b[0]+h, b[1]-h) - ll(b[0]-h, b[1]+h) + ll(b[0]-h, b[1]-h)) / (4 * h * h)
	det := float64(h00*h11) - float64(h01*h01)
	near(t, "se b1", se[0], math.Sqrt(h11/det), float64(1e-3*se[0]))
	near(t, "se b2", se[1], math.Sqrt(h00/det), float64(1e-3*se[1]))
	// Perfect separation stays finite thanks to the ridge.
	b, _, ok = logit2([]float64{1, -1, 2, -2}, []float64{0, 0, 0, 0}, []float64{1, 0, 1, 0}, 1)
	if !ok || math.IsInf(b[0], 0) || math.IsNaN(b[0]) || !(b[0] > 0) {
		t.Errorf("separated data: b = %v, ok %v", b, ok)
	}
}
