package reward

import (
	"testing"
	"time"

	"prefer/core/rng"
)

// syntheticRows makes n sparse rows over dim hashed buckets with about nnz entries
// each plus the two length features, like Featurize's output.
func syntheticRows(n, dim, nnz int, seed uint64) []Sparse {
	r := rng.New(seed)
	rows := make([]Sparse, n)
	for i := range rows {
		k := nnz/2 + r.IntN(nnz)
		idx := make([]int32, 0, k+NumLength)
		used := map[int32]bool{}
		for len(idx) < k {
			b := int32(r.IntN(dim))
			if !used[b] {
				used[b] = true
				idx = append(idx, b)
			}
		}
		for a := 1; a < len(idx); a++ {
			for c := a; c > 0 && idx[c] < idx[c-1]; c-- {
				idx[c], idx[c-1] = idx[c-1], idx[c]
			}
		}
		val := make([]float32, len(idx), len(idx)+NumLength)
		for j := range val {
			val[j] = float32(r.Norm() * 0.12)
		}
		idx = append(idx, int32(dim), int32(dim+1))
		val = append(val, float32(r.Float64()), float32(r.Float64()))
		rows[i] = Sparse{Idx: idx, Val: val}
	}
	return rows
}

// benchMember builds a dataset of `pairs` pairs over synthetic rows and a member
// ready to train on it.
func benchMember(pairs, dim int, nt net) (*dataset, *member, *scratch) {
	ds := &dataset{x: syntheticRows(2*pairs, dim, 64, 7)}
	train := make([]int, pairs)
	for i := 0; i < pairs; i++ {
		ds.elems = append(ds.elems, elem{kind: elPair, rows: []int32{int32(2 * i), int32(2*i + 1)}})
		train[i] = i
	}
	m := &member{nt: nt, train: train, r: rng.New(1)}
	m.theta = make([]float32, nt.size())
	m.grad = make([]float32, nt.size())
	nt.init(m.theta, rng.New(2))
	m.opt = NewAdamW(nt.size(), 0.01, 1e-3, nt.decay())
	return ds, m, newScratch(ds, nt)
}

// BenchmarkLinearTrain measures the linear model's training throughput on 50,000
// pairs of sparse hashed rows (4,096 buckets, ~64 non-zeros a row) in pair passes
// per second: one full-batch evaluation of the objective and its gradient (what an
// L-BFGS iteration costs, line search aside) per iteration. pair-passes/s-before is
// one AdamW epoch (batches of 32, AdamW over all parameters every step: how the
// linear model was trained before issue 17), timed in the same run.
func BenchmarkLinearTrain(b *testing.B) {
	const pairs, dim = 50000, 4096
	ds, m, sc := benchMember(pairs, dim, linearNet{f: dim + NumLength})
	ds.rowItem = make([]int32, len(ds.x))
	p := newLinearProblem(ds, m.train, dim+NumLength, false, Config{}, 2)
	theta := make([]float64, p.size())
	for i := range theta {
		theta[i] = float64(m.theta[i])
	}
	g := make([]float64, len(theta))
	for b.Loop() {
		p.fg(theta, g)
	}
	b.ReportMetric(float64(float64(pairs)*float64(b.N))/b.Elapsed().Seconds(), "pair-passes/s")
	start, epochs := time.Now(), 0
	for time.Since(start) < time.Second || epochs < 2 {
		m.epoch(ds, Config{Batch: 32}, sc)
		epochs++
	}
	b.ReportMetric(float64(float64(pairs)*float64(epochs))/time.Since(start).Seconds(), "pair-passes/s-before")
}

// BenchmarkMLPTrain measures MLP training (4,096 buckets, 32 hidden units, 5,000
// pairs, batches of 32) in GFLOP/s. Counted per row: forward 2·nnz·H (sparse ×
// dense) + 2H, backward 2·nnz·H + 4H; per step AdamW 10 FLOPs per parameter.
func BenchmarkMLPTrain(b *testing.B) {
	const pairs, dim, H, batch = 5000, 4096, 32, 32
	nt := mlpNet{f: dim + NumLength, h: H}
	ds, m, sc := benchMember(pairs, dim, nt)
	var nnz int
	for _, x := range ds.x {
		nnz += len(x.Idx)
	}
	steps := (pairs + batch - 1) / batch
	flops := float64(4*nnz*H) + float64(len(ds.x)*6*H) + float64(float64(float64(steps)*10)*float64(nt.size()))
	cfg := Config{Batch: batch}
	for b.Loop() {
		m.epoch(ds, cfg, sc)
	}
	b.ReportMetric(float64(flops*float64(b.N))/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(float64(pairs)*float64(b.N))/b.Elapsed().Seconds(), "pair-epochs/s")
}

// BenchmarkFeaturize measures text featurization (word 1–2-grams, sentences,
// character 3-grams, length) in texts per second on demo-like responses.
func BenchmarkFeaturize(b *testing.B) {
	f := NewFeaturizer(FeatureConfig{})
	texts := []string{
		"Sure! The capital of France is Paris. I hope this helps!",
		"That is a very interesting question. Many people ask about this. 3 kilometers is 3000 meters.",
		"I am sorry, but I can not help with that.",
		"Great question! Put a lid on the pan and turn off the heat. Never use water on an oil fire. Have a wonderful day!",
	}
	n := 0
	for b.Loop() {
		for _, t := range texts {
			f.Featurize(t)
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "texts/s")
}
