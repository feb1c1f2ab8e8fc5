package reward

import (
	"fmt"
	"math"
	"runtime"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// WithDefaults returns c with every zero field at its default (the values the
// field comments give): what Train runs, and what `prefer train-rm` shows as its
// flags' defaults.
func (c Config) WithDefaults() Config { return c.withDefaults() }

func (c Config) withDefaults() Config {
	if c.Family == "" {
		c.Family = FamilyLinear
	}
	if c.Member == "" {
		c.Member = FamilyLinear
	}
	if c.Holdout == 0 {
		c.Holdout = 0.2
	}
	if c.Valid == 0 {
		c.Valid = 0.1
	}
	if c.SplitBy == "" {
		c.SplitBy = "item"
		if c.Family == FamilyTabular || (c.Family == FamilyEnsemble && c.Member == FamilyTabular) {
			c.SplitBy = "pair"
		}
	}
	if c.Epochs <= 0 {
		c.Epochs = 100
	}
	if c.Patience <= 0 {
		c.Patience = 8
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.LR <= 0 {
		c.LR = 0.01
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = 1e-3
	}
	if c.Hidden <= 0 {
		c.Hidden = 32
	}
	if c.L2 == 0 {
		c.L2 = 1
	}
	if c.Members <= 0 {
		c.Members = 5
	}
	if c.TopK <= 0 {
		c.TopK = 10
	}
	c.Features = c.Features.withDefaults()
	return c
}

func (c Config) check() error {
	switch c.Family {
	case FamilyTabular, FamilyLinear, FamilyMLP, FamilyEnsemble:
	default:
		return fmt.Errorf("unknown model family %q: use tabular, linear, mlp or ensemble", c.Family)
	}
	switch c.Member {
	case FamilyTabular, FamilyLinear, FamilyMLP:
	default:
		return fmt.Errorf("unknown ensemble member family %q: use tabular, linear or mlp", c.Member)
	}
	if c.SplitBy != "item" && c.SplitBy != "pair" {
		return fmt.Errorf("split by %q: use item or pair", c.SplitBy)
	}
	tab := c.Family == FamilyTabular || (c.Family == FamilyEnsemble && c.Member == FamilyTabular)
	if tab && c.SplitBy == "item" && c.Holdout > 0 {
		return fmt.Errorf("a tabular model cannot score responses of held-out items: split by pair")
	}
	if c.Holdout >= 1 || c.Valid >= 1 || math.IsNaN(c.Holdout) || math.IsNaN(c.Valid) {
		return fmt.Errorf("holdout %v and valid %v must be fractions below 1", c.Holdout, c.Valid)
	}
	if c.Margin < 0 || c.Center < 0 || math.IsNaN(c.Margin) || math.IsNaN(c.Center) {
		return fmt.Errorf("margin %v and center %v must be ≥ 0", c.Margin, c.Center)
	}
	if c.Hidden > 4096 || c.Members > 64 {
		return fmt.Errorf("hidden %d (≤ 4096) or members %d (≤ 64) too large", c.Hidden, c.Members)
	}
	if c.Features.Width()*c.Hidden > 1<<26 && (c.Family == FamilyMLP || c.Member == FamilyMLP) {
		return fmt.Errorf("an MLP of %d×%d weights is too large: lower the feature dimension or the hidden width", c.Features.Width(), c.Hidden)
	}
	return c.Features.check()
}

func (c Config) pairOptions() feedback.PairOptions {
	var o feedback.PairOptions
	if c.BothBadTie {
		o.BothBad = feedback.BothBadTie
	}
	return o
}

// prepare is what Train and Personalize start with: the configuration with its
// defaults, checked; the dataset of the comparisons (ErrNoComparisons without
// any); its split; and the seed's generator, whose "split" stream the split used.
func prepare(items []feedback.Item, js []feedback.Judgment, cfg Config) (Config, *dataset, splitSets, *rng.RNG, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return cfg, nil, splitSets{}, nil, err
	}
	ds := newDataset(items, js, cfg.pairOptions())
	if len(ds.elems) == 0 {
		return cfg, nil, splitSets{}, nil, ErrNoComparisons
	}
	r := rng.New(cfg.Seed)
	return cfg, ds, ds.split(cfg.SplitBy, cfg.Holdout, cfg.Valid, r.Split("split")), r, nil
}

// Train fits a reward model to the comparisons and rankings in js over items.
//
// Pairs come from feedback.Pairs with the default rules (ties kept as ties, both-bad
// dropped, flagged responses lose), rankings from feedback.Groups (one batch element
// each). The data are split by cfg.SplitBy into training, early-stopping and
// held-out parts with cfg.Seed; Result holds the model, its held-out metrics, the
// learning curves and diagnostics. Training is deterministic: the same inputs and
// Config give a bit-identical model natively and in wasm.
func Train(items []feedback.Item, js []feedback.Judgment, cfg Config) (*Result, error) {
	cfg, ds, sp, r, err := prepare(items, js, cfg)
	if err != nil {
		return nil, err
	}
	if len(sp.train) == 0 {
		return nil, fmt.Errorf("no comparisons left for training after the held-out split (%d elements): lower the holdout fraction", len(ds.elems))
	}
	return trainOn(ds, sp, cfg, r.Split("train"))
}

// trainOn trains on a dataset already split and evaluates.
func trainOn(ds *dataset, sp splitSets, cfg Config, r *rng.RNG) (*Result, error) {
	members := 1
	family := cfg.Family
	if family == FamilyEnsemble {
		members = cfg.Members
		family = cfg.Member
	}
	var (
		model  Model
		curves Curves
		err    error
	)
	if family == FamilyTabular {
		model, curves, err = trainTabular(ds, sp, cfg, members, r)
	} else {
		if ds.x == nil {
			// The training rows' n-grams are counted on the way, for the top features
			// of a linear model: each text is featurized once.
			var train []bool
			if family == FamilyLinear {
				train = ds.trainRows(sp.train)
			}
			ds.featurize(NewFeaturizer(cfg.Features), train)
			// What featurizing left behind (lower-cased copies, the text index) is
			// collected now: the fit allocates little, so the collector would not run
			// again before the diagnostics and the heap would hold the garbage through
			// the whole fit (300k pairs: tens of MB above the live rows).
			runtime.GC()
		}
		if family == FamilyLinear {
			model, curves, err = trainLinear(ds, sp, cfg, members, r)
		} else {
			model, curves, err = trainFeature(ds, sp, cfg, family, members, r)
		}
	}
	if err != nil {
		return nil, err
	}
	res := &Result{Model: model, Curves: curves, Config: cfg}
	res.Split = Split{By: cfg.SplitBy, NTrain: len(sp.train), NValid: len(sp.valid), NHeld: len(sp.held)}
	for _, i := range sp.heldItems {
		res.Split.HeldItems = append(res.Split.HeldItems, ds.items[i].ID)
	}
	res.Metrics, res.Diag = evaluate(ds, sp, model, cfg)
	res.Metrics.Epochs = len(curves.TrainLoss)
	res.Metrics.BestEpoch = curves.BestEpoch
	return res, nil
}

// member is one network in training.
type member struct {
	nt    net
	theta []float32 // network parameters, then ρ = log η when ties are modelled
	grad  []float32
	opt   *AdamW
	train []int // element indices (a bootstrap resample for bagged members)
	r     *rng.RNG
	ties  bool
	best  []float32
}

func (m *member) eta() float64 {
	if !m.ties {
		return 0
	}
	return num.Exp(float64(m.theta[len(m.theta)-1]))
}

// trainFeature trains `members` networks in lockstep (one epoch each, in turn) and
// stops early on the validation loss of their mean score.
func trainFeature(ds *dataset, sp splitSets, cfg Config, family string, members int, r *rng.RNG) (Model, Curves, error) {
	F := cfg.Features.Width()
	var nt net = linearNet{f: F}
	if family == FamilyMLP {
		nt = mlpNet{f: F, h: cfg.Hidden}
	}
	ms := make([]*member, members)
	for k := range ms {
		mr := r
		if members > 1 {
			mr = r.Split(fmt.Sprintf("member-%d", k))
		}
		m := &member{nt: nt, r: mr, train: sp.train}
		if members > 1 && !cfg.NoBagging {
			m.train = make([]int, len(sp.train))
			for i := range m.train {
				m.train[i] = sp.train[mr.IntN(len(sp.train))]
			}
		}
		var tw float64
		for _, e := range m.train {
			if ds.elems[e].kind == elTie {
				m.ties = true
				tw++
			}
		}
		n := nt.size()
		if m.ties {
			n++
		}
		m.theta = make([]float32, n)
		m.grad = make([]float32, n)
		nt.init(m.theta[:nt.size()], mr.Split("init"))
		if m.ties {
			t := math.Min(math.Max(tw/float64(len(m.train)), 0.01), 0.95)
			m.theta[n-1] = float32(num.Log(num.Log((1 + t) / (1 - t))))
		}
		m.opt = NewAdamW(n, cfg.LR, math.Max(cfg.WeightDecay, 0), nt.decay())
		ms[k] = m
	}
	var cv Curves
	bestValid := math.Inf(1)
	bad := 0
	sc := newScratch(ds, nt)
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		var trainLoss float64
		for _, m := range ms {
			trainLoss += m.epoch(ds, cfg, sc) / float64(len(ms))
		}
		params := make([][]float32, len(ms))
		etas := make([]float64, len(ms))
		for k, m := range ms {
			params[k], etas[k] = m.theta, m.eta()
		}
		validLoss, _ := setLoss(ds, sp.valid, ensembleScorer(ds, nt, params, sc), meanOf(etas))
		heldLoss, heldAcc := setLoss(ds, sp.held, ensembleScorer(ds, nt, params, sc), meanOf(etas))
		cv.add(trainLoss, validLoss, heldLoss, heldAcc)
		if math.IsNaN(trainLoss) || math.IsInf(trainLoss, 0) {
			return nil, cv, fmt.Errorf("training diverged at epoch %d (loss %v): lower the learning rate", epoch, trainLoss)
		}
		if cfg.Progress != nil && !cfg.Progress(epoch, trainLoss, heldLoss) {
			return nil, cv, ErrCanceled
		}
		if len(sp.valid) == 0 {
			cv.BestEpoch = epoch
			continue
		}
		if validLoss < bestValid {
			bestValid, bad, cv.BestEpoch = validLoss, 0, epoch
			for _, m := range ms {
				m.best = append(m.best[:0], m.theta...)
			}
			continue
		}
		bad++
		if bad >= cfg.Patience {
			break
		}
	}
	out := make([]Model, len(ms))
	for k, m := range ms {
		if m.best != nil {
			copy(m.theta, m.best)
		}
		out[k] = newFeatureModel(family, cfg.Features, cfg.Hidden, m.theta[:nt.size()], m.eta())
	}
	if len(out) == 1 {
		return out[0], cv, nil
	}
	return &Ensemble{Members: out}, cv, nil
}

func meanOf(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// scratch holds per-call buffers of the training loop.
type scratch struct {
	h      [][]float32 // hidden activations per row of an element
	r, dr  []float64
	maxLen int
}

func newScratch(ds *dataset, nt net) *scratch {
	k := 2
	for _, e := range ds.elems {
		if len(e.rows) > k {
			k = len(e.rows)
		}
	}
	s := &scratch{h: make([][]float32, k), r: make([]float64, k), dr: make([]float64, k), maxLen: k}
	for i := range s.h {
		s.h[i] = make([]float32, nt.hidden())
	}
	return s
}

// epoch runs one pass over the member's training elements in a fresh random order,
// one AdamW step per batch, and returns the mean training loss.
func (m *member) epoch(ds *dataset, cfg Config, sc *scratch) float64 {
	perm := m.r.Perm(len(m.train))
	np := m.nt.size()
	var total float64
	for start := 0; start < len(perm); start += cfg.Batch {
		end := min(start+cfg.Batch, len(perm))
		clear(m.grad)
		eta := m.eta()
		o := lossOpts{eta: eta, margin: cfg.Margin, center: cfg.Center}
		scale := 1 / float64(end-start)
		for _, pi := range perm[start:end] {
			e := &ds.elems[m.train[pi]]
			k := len(e.rows)
			for i, row := range e.rows {
				sc.r[i] = float64(m.nt.forward(m.theta[:np], ds.fx(row), sc.h[i]))
			}
			loss, deta := elemLoss(e.kind, e.strength, sc.r[:k], sc.dr[:k], o)
			total += loss
			for i, row := range e.rows {
				m.nt.backward(m.theta[:np], m.grad[:np], ds.fx(row), sc.h[i], float32(sc.dr[i]*scale))
			}
			if m.ties {
				m.grad[np] += float32(float64(deta*eta) * scale)
			}
		}
		m.opt.Step(m.theta, m.grad)
	}
	return total / float64(len(perm))
}

// ensembleScorer returns a function giving the mean score over params of a row.
func ensembleScorer(ds *dataset, nt net, params [][]float32, sc *scratch) func(row int32) float64 {
	np := nt.size()
	return func(row int32) float64 {
		var s float64
		for _, p := range params {
			s += float64(nt.forward(p[:np], ds.fx(row), sc.h[0]))
		}
		return s / float64(len(params))
	}
}

// setLoss returns the mean negative log-likelihood (no margin, no centering) of the
// elements idx and the accuracy over their decided pairs (a tie of scores is
// wrong). Both are NaN for an empty set.
func setLoss(ds *dataset, idx []int, score func(row int32) float64, eta float64) (loss, acc float64) {
	if len(idx) == 0 {
		return math.NaN(), math.NaN()
	}
	var right, total int
	var r, dr []float64
	for _, i := range idx {
		l, ri, to := setTerm(&ds.elems[i], score, eta, &r, &dr)
		loss += l
		right += ri
		total += to
	}
	return setMeans(loss, right, total, len(idx))
}

// setTerm returns one element's negative log-likelihood (no margin, no centering)
// and its right and total decided pairs, with *r and *dr as scratch.
func setTerm(e *elem, score func(row int32) float64, eta float64, r, dr *[]float64) (loss float64, right, total int) {
	*r = (*r)[:0]
	for _, row := range e.rows {
		*r = append(*r, score(row))
	}
	*dr = append((*dr)[:0], *r...)
	loss, _ = elemLoss(e.kind, 0, *r, *dr, lossOpts{eta: eta})
	if e.kind == elTie {
		return loss, 0, 0
	}
	rs := *r
	for a := 0; a < len(rs); a++ {
		for b := a + 1; b < len(rs); b++ {
			total++
			if rs[a] > rs[b] {
				right++
			}
		}
	}
	return loss, right, total
}

// setMeans returns the mean loss of n elements and the accuracy right/total
// (NaN when no pair was decided).
func setMeans(loss float64, right, total, n int) (float64, float64) {
	acc := math.NaN()
	if total > 0 {
		acc = float64(right) / float64(total)
	}
	return loss / float64(n), acc
}
