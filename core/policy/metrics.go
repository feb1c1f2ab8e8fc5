package policy

import (
	"math"
	"strings"
)

// Series names of an optimization run (snapshot.Run.Series), one value per step.
const (
	SeriesReward    = "reward"     // proxy reward E_π[r]
	SeriesGold      = "gold"       // gold reward E_π[gold], NaN when unknown
	SeriesKL        = "kl"         // exact KL(π‖π_ref), NaN when it cannot be computed
	SeriesKLk1      = "kl_k1"      // k1 estimate of the step's samples
	SeriesKLk3      = "kl_k3"      // k3 estimate of the step's samples
	SeriesBeta      = "beta"       // β in force
	SeriesEntropy   = "entropy"    // policy entropy per prompt
	SeriesDistinct1 = "distinct_1" // distinct-1 of the step's samples
	SeriesDistinct2 = "distinct_2" // distinct-2 of the step's samples
	SeriesLoss      = "loss"       // policy loss
	SeriesValueLoss = "value_loss" // PPO critic loss
	SeriesClipFrac  = "clip_frac"  // PPO clipped fraction
	SeriesSkipped   = "skipped"    // PPO skipped batch (0/1)
	SeriesAccuracy  = "accuracy"   // DPO/IPO implicit-reward accuracy
	SeriesMargin    = "margin"     // DPO/IPO mean implicit-reward margin
	SeriesSqrtKL    = "sqrt_kl"    // √KL, the x axis of Gao et al.'s plots
	FeaturePrefix   = "feature_"   // + feature name: E_π[feature] per step
)

// recorder measures a policy after each step and keeps the series. It owns the
// scratch buffers so measuring allocates nothing after the first steps.
type recorder struct {
	sc     *scorer
	exact  Exact // nil for sampled-only policies
	series map[string][]float64
	names  []string // order in which series were first added
	steps  int      // expected number of steps: the capacity of each series

	pr, ref []float64 // scratch, max candidates per prompt
	vocab   map[string]int32
	cand    [][]int32 // word ids of each candidate (flat index), built lazily
	grams   gramSet
	words   []int32
	feats   []float64 // scratch: feature means of a step

	featNames []string // series names of the features
}

func newRecorder(p Policy, sc *scorer, steps int) *recorder {
	r := &recorder{sc: sc, series: map[string][]float64{}, vocab: map[string]int32{}}
	if e, ok := p.(Exact); ok {
		r.exact = e
		maxK := 0
		for i := range sc.items {
			if n := len(sc.items[i].Responses); n > maxK {
				maxK = n
			}
		}
		r.pr = make([]float64, maxK)
		r.ref = make([]float64, maxK)
	}
	// Word ids of every candidate up front, so measuring a step allocates nothing.
	r.cand = make([][]int32, sc.proxy.Off[len(sc.items)])
	for p := range sc.items {
		for k := range sc.items[p].Responses {
			r.cand[sc.proxy.Off[p]+k] = r.tokenize(nil, sc.items[p].Responses[k].Text)
		}
	}
	r.steps = steps
	return r
}

// add appends v to series name.
func (r *recorder) add(name string, v float64) {
	s, ok := r.series[name]
	if !ok {
		r.names = append(r.names, name)
		s = make([]float64, 0, max(r.steps, 1))
	}
	r.series[name] = append(s, v)
}

// exactStats fills the exact expectations of an Exact policy, mean over prompts,
// and the feature means into feats (len = number of features).
func (r *recorder) exactStats(m *Metrics, feats []float64) {
	items := r.sc.items
	var rew, gold, kl, ent float64
	for f := range feats {
		feats[f] = 0
	}
	for p := range items {
		k := len(items[p].Responses)
		pr := r.exact.Probs(r.pr[:k], p)
		ref := r.exact.RefProbs(r.ref[:k], p)
		kl += ExactKL(pr, ref)
		ent += Entropy(pr)
		prox, gd := r.sc.proxy.Row(p), r.sc.gold.Row(p)
		off := r.sc.feats.off[p]
		for j, q := range pr {
			rew += float64(q * prox[j])
			gold += float64(q * gd[j])
			for f := range feats {
				feats[f] += float64(q * r.sc.feats.v[f][off+j])
			}
		}
	}
	n := float64(len(items))
	m.Reward, m.Gold, m.KL, m.Entropy = rew/n, gold/n, kl/n, ent/n
	for f := range feats {
		feats[f] /= n
	}
}

// measure fills m from the step's samples ss with their per-action log-probs under
// π (logp) and π_ref (ref), both of shape (N), and records it. scores, when not nil,
// are the samples' proxy rewards already computed (so a reward model is not called
// twice). Loss fields of m set by the algorithm are kept.
func (r *recorder) measure(m *Metrics, ss []Sample, logp, ref, scores []float64, beta float64) {
	m.Beta = beta
	var k1, k3, negLogp float64
	for i := range logp {
		k1 += KLTerm(K1, logp[i], ref[i])
		k3 += KLTerm(K3, logp[i], ref[i])
		negLogp -= logp[i]
	}
	n := float64(len(ss))
	if len(ss) > 0 {
		m.KLk1, m.KLk3 = k1/n, k3/n
	} else {
		m.KLk1, m.KLk3 = Unknown, Unknown
	}
	r.feats = grow(r.feats, len(r.sc.feats.fs))
	feats := r.feats
	if r.exact != nil {
		r.exactStats(m, feats)
	} else {
		var rew, gold float64
		for f := range feats {
			feats[f] = 0
		}
		for i := range ss {
			if scores != nil {
				rew += scores[i]
			} else {
				rew += r.sc.score(&ss[i])
			}
			gold += r.sc.goldOf(&ss[i])
			for f := range feats {
				feats[f] += r.sc.feats.of(f, r.sc.items, &ss[i])
			}
		}
		m.Reward, m.Gold, m.KL, m.Entropy = rew/n, gold/n, Unknown, negLogp/n
		for f := range feats {
			feats[f] /= n
		}
	}
	m.Distinct1, m.Distinct2 = r.distinct(ss)
	r.add(SeriesReward, m.Reward)
	r.add(SeriesGold, m.Gold)
	r.add(SeriesKL, m.KL)
	r.add(SeriesKLk1, m.KLk1)
	r.add(SeriesKLk3, m.KLk3)
	r.add(SeriesBeta, m.Beta)
	r.add(SeriesEntropy, m.Entropy)
	r.add(SeriesDistinct1, m.Distinct1)
	r.add(SeriesDistinct2, m.Distinct2)
	r.add(SeriesLoss, m.Loss)
	r.add(SeriesValueLoss, m.ValueLoss)
	r.add(SeriesClipFrac, m.ClipFrac)
	r.add(SeriesSkipped, m.Skipped)
	r.add(SeriesAccuracy, m.Accuracy)
	r.add(SeriesMargin, m.Margin)
	if r.featNames == nil {
		for _, fe := range r.sc.feats.fs {
			r.featNames = append(r.featNames, FeaturePrefix+fe.Name)
		}
	}
	for f := range feats {
		r.add(r.featNames[f], feats[f])
	}
}

// wordsOf returns the word ids of sample s (lower-cased, whitespace-separated).
func (r *recorder) wordsOf(s *Sample) []int32 {
	if s.Cand >= 0 {
		return r.cand[r.sc.proxy.Off[s.Prompt]+s.Cand]
	}
	r.words = r.tokenize(r.words[:0], s.Text)
	return r.words
}

func (r *recorder) tokenize(dst []int32, text string) []int32 {
	if dst == nil {
		dst = []int32{}
	}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		id, ok := r.vocab[w]
		if !ok {
			id = int32(len(r.vocab))
			r.vocab[w] = id
		}
		dst = append(dst, id)
	}
	return dst
}

// distinct returns distinct-1 and distinct-2 of the samples' texts (Li et al. 2016,
// "A Diversity-Promoting Objective Function for Neural Conversation Models"): the
// number of distinct n-grams divided by the number of n-grams, over all samples of
// the step. NaN when there are no n-grams.
func (r *recorder) distinct(ss []Sample) (d1, d2 float64) {
	words := 0
	for i := range ss {
		words += len(r.wordsOf(&ss[i]))
	}
	for n := 1; n <= 2; n++ {
		r.grams.reset(words)
		total, distinct := 0, 0
		for i := range ss {
			w := r.wordsOf(&ss[i])
			for j := 0; j+n <= len(w); j++ {
				key := uint64(uint32(w[j]))
				if n == 2 {
					key = key<<32 | uint64(uint32(w[j+1]))
				}
				if r.grams.add(key) {
					distinct++
				}
				total++
			}
		}
		d := math.NaN()
		if total > 0 {
			d = float64(distinct) / float64(total)
		}
		if n == 1 {
			d1 = d
		} else {
			d2 = d
		}
	}
	return d1, d2
}

// gramSet is an open-addressing set of uint64 keys that is emptied in O(1) by
// bumping a generation stamp, so counting distinct n-grams allocates nothing once
// it is large enough (a Go map is markedly slower in wasm).
type gramSet struct {
	keys  []uint64
	stamp []uint32
	gen   uint32
	shift uint
}

// reset empties the set and makes room for n keys.
func (g *gramSet) reset(n int) {
	if 2*n > len(g.keys) {
		size, shift := 16, uint(60)
		for size < 2*n {
			size <<= 1
			shift--
		}
		g.keys, g.stamp, g.gen, g.shift = make([]uint64, size), make([]uint32, size), 0, shift
	}
	g.gen++
	if g.gen == 0 { // wrapped: clear the stamps once every 2³² resets
		clear(g.stamp)
		g.gen = 1
	}
}

// add inserts key and reports whether it was new.
func (g *gramSet) add(key uint64) bool {
	mask := uint64(len(g.keys) - 1)
	i := (key * 0x9e3779b97f4a7c15) >> g.shift & mask
	for {
		if g.stamp[i] != g.gen {
			g.stamp[i], g.keys[i] = g.gen, key
			return true
		}
		if g.keys[i] == key {
			return false
		}
		i = (i + 1) & mask
	}
}

// Distinct returns distinct-1 and distinct-2 of texts (see recorder.distinct).
func Distinct(texts []string) (d1, d2 float64) {
	r := &recorder{vocab: map[string]int32{}}
	ss := make([]Sample, len(texts))
	for i, t := range texts {
		ss[i] = Sample{Cand: -1, Text: t}
	}
	return r.distinct(ss)
}
