package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/reward"
	"prefer/core/snapshot"
)

// The one entry point of a candidate-policy run. `prefer optimize`, `prefer sweep`
// (server/cli) and the browser worker's optimize and sweep jobs (app/work) are thin
// adapters over Optimize and SweepSnapshot: they turn flags or job parameters into
// an OptimizeConfig or a SweepConfig, call these, and print or return the result.
// The choice of the reward model (ChooseReward) and every default live here, so the
// same snapshot, settings and seed give the same run bit for bit through either.

// Algos are the algorithms of the candidate policy.
var Algos = []string{"exact", "ppo", "rloo", "dpo", "ipo", "bon"}

// Default step caps (PPOConfig, RLOOConfig and DPOConfig use them). A run of the
// candidate policy stops as soon as it has converged (DefaultTol, converge.go); the
// cap only bounds a run that does not. Measured on the demo (60 prompts, seed 1):
// PPO converges in 2,755 steps at β = 0.1 and 4,306 at β = 1, RLOO in 411 and 194,
// DPO on the lesson's crowd in 1,330 and IPO in 177. The old fixed counts (500, 300)
// stopped PPO at a total variation of 0.84 from the optimum on one demo prompt.
const (
	DefaultSteps    = 5000 // PPO and RLOO iterations
	DefaultDPOSteps = 5000 // DPO and IPO gradient steps
	DefaultN        = 4    // best-of-N's N (BoNConfig)
)

// ErrNoRewardModel is returned (wrapped) by ChooseReward when no reward is named
// and the snapshot holds no reward model.
var ErrNoRewardModel = errors.New("the snapshot holds no reward model: train one first (prefer train-rm, or the Reward page), or choose the gold reward or a family to train now (tabular, linear, mlp)")

// RewardChoice is the proxy reward of a run, as ChooseReward resolved it.
type RewardChoice struct {
	Name   string          // as runs record it (Run.Config["reward"])
	Reward Reward          // the reward
	Model  *snapshot.Model // a reward model trained for the run, to store next to it; nil otherwise
}

// ChooseReward resolves spec, the proxy reward a run of the candidate policy on s
// optimizes:
//
//	gold               the recorded gold utilities (ItemGold; every response needs one)
//	tabular|linear|mlp a reward model of that family trained now on s's judgments
//	                   (reward.Train with its defaults, seeded by seed)
//	MODEL              the reward model of that name stored in s
//	""                 the last reward model stored in s, else ErrNoRewardModel
func ChooseReward(s *snapshot.Snapshot, spec string, seed uint64) (*RewardChoice, error) {
	switch spec {
	case "gold":
		if !HasGold(s.Items) {
			return nil, SettingsErrorf("the gold reward needs a gold utility on every response (the demo domain has them); use a reward model instead")
		}
		return &RewardChoice{Name: "gold", Reward: ItemGold}, nil
	case reward.FamilyTabular, reward.FamilyLinear, reward.FamilyMLP:
		res, err := reward.Train(s.Items, s.Judgments, reward.Config{Family: spec, Seed: seed})
		if errors.Is(err, reward.ErrNoComparisons) {
			return nil, fmt.Errorf("a %s reward model needs comparisons to train on: label some pairs first, or use the gold reward", spec)
		}
		if err != nil {
			return nil, fmt.Errorf("train a %s reward model: %w", spec, err)
		}
		sm := reward.ToSnapshot(res.Model, "", res.Metrics.Map())
		return &RewardChoice{Name: spec + " (trained now, seed " + strconv.FormatUint(seed, 10) + ")", Reward: res.Model.Score, Model: &sm}, nil
	}
	var m *snapshot.Model
	if spec == "" {
		if m = LastRewardModel(s); m == nil {
			return nil, ErrNoRewardModel
		}
	} else if m = s.Model(spec); m == nil {
		return nil, SettingsErrorf("no such model %q in the snapshot: give gold, tabular, linear, mlp or the name of a stored reward model", spec)
	}
	rm, err := reward.FromSnapshot(*m)
	if err != nil {
		return nil, fmt.Errorf("%w; retrain it (prefer train-rm, or the Reward page) or train one now (tabular, linear, mlp)", err)
	}
	return &RewardChoice{Name: m.Name, Reward: rm.Score}, nil
}

// LastRewardModel returns the last reward model stored in s (reward.IsReward), or
// nil: the reward a run optimizes when none is named.
func LastRewardModel(s *snapshot.Snapshot) *snapshot.Model {
	for i := len(s.Models) - 1; i >= 0; i-- {
		if reward.IsReward(s.Models[i]) {
			return &s.Models[i]
		}
	}
	return nil
}

// SyntheticSpec is the synthetic feedback a run may gather before it optimizes
// (Synthetic): Rounds > 0 rounds in which Judge labels fresh pairs of policy
// samples, a fraction Audit of them is also given to Auditor, and a reward model of
// the run's reward family is retrained on all labels. The retrained model is the
// run's proxy; the labels and both raters go into the snapshot with the run.
type SyntheticSpec struct {
	Rounds int // 0: no synthetic feedback

	// Judge is the AI rater (a domain's rubric, e.g. RewardLabeler(demo.Rubric,
	// 0.05)); nil labels with the starting reward model (RewardLabeler(proxy, 0.05)).
	// JudgeName names it in the run's reward (default "reward"), JudgeRater is its
	// rater's display name (default "AI rater (reward model)").
	Judge      Labeler
	JudgeName  string
	JudgeRater string

	// Auditor is the simulated human who audits a fraction of the pairs; nil: no
	// audit. AuditorRater is its rater record (ID "audit").
	Auditor      Labeler
	AuditorRater feedback.Rater
	Audit        float64 // fraction audited. Default 0.1 (SyntheticConfig).
}

// OptimizeConfig is one run of the candidate policy on a snapshot. Zero fields
// take the defaults of the algorithm's own configuration (ExactConfig, PPOConfig,
// RLOOConfig, DPOConfig, BoNConfig).
type OptimizeConfig struct {
	Algo   string // exact, ppo, rloo, dpo, ipo or bon (required)
	Reward string // the proxy (ChooseReward's spec); DPO and IPO learn from the pairs and only measure it

	KL        KLConfig // β (default 0.1, also DPO/IPO's and exact's β), target KL (exact, ppo, rloo), horizon, estimator
	Steps     int      // ppo, rloo: default DefaultSteps; dpo, ipo: DefaultDPOSteps
	Samples   int      // responses sampled per prompt per step, and for the sampled metrics. Default 4 (dpo, ipo: 1).
	LR        float64  // learning rate. Default 0.1 (ppo, dpo, ipo), 0.2 (rloo).
	N         int      // best-of-N's N. Default 4.
	Diversity float64  // entropy bonus α (exact, ppo, rloo). Default 0.
	Gamma     *float64 // PPO's discount γ (PPOConfig; nil: 1)
	Lambda    *float64 // PPO's GAE λ (PPOConfig; nil: 0.95)
	// Tol is the convergence tolerance of ppo, rloo, dpo and ipo (converge.go): 0
	// means DefaultTol, negative runs every step. Steps is the cap.
	Tol float64
	// LabelSmoothing is DPO's ε (DPOConfig.LabelSmoothing): nil chooses it from the
	// data (DefaultLabelSmoothing when some prompt's preferences are separated).
	LabelSmoothing *float64

	// Features are the reward-hacking detector's features (Env.Features): the
	// adapters pass demo.FeaturesOf(items). Nil: DefaultFeatures.
	Features  []Feature
	Synthetic SyntheticSpec

	Seed     uint64
	Progress Progress // called after each step of ppo, rloo, dpo and ipo; false cancels
}

// Optimized is a finished run of Optimize.
type Optimized struct {
	*Result                    // the run (kind "optimize"), final metrics, steps, alerts
	Candidate *Candidate       // the optimized policy
	Env       Env              // the proxy, gold and features it was optimized and measured with
	Reward    RewardChoice     // the reward (Name "none (DPO/IPO learn from the pairs)" without one)
	Pairs     int              // DPO/IPO: the preference pairs learned from
	Synthetic *SyntheticResult // the synthetic feedback gathered first, or nil
	synModel  *snapshot.Model  // the reward model retrained on it
	raters    []feedback.Rater // the synthetic feedback's raters
	beta      float64          // the β of the implicit rewards (DPO, IPO)
	algo      string           // cfg.Algo
	items     []feedback.Item  // the run's items
}

// noReward is the reward name of a DPO or IPO run without a reward to measure.
const noReward = "none (DPO/IPO learn from the pairs)"

// ErrSettings is what errors of a run's settings (as opposed to its data) match
// with errors.Is, so an adapter can show them as a usage error or next to the
// setting.
var ErrSettings = errors.New("invalid settings")

// settingsError is an error of the settings: errors.Is(err, ErrSettings).
type settingsError string

func (e settingsError) Error() string        { return string(e) }
func (e settingsError) Is(target error) bool { return target == ErrSettings }

// SettingsErrorf formats an error of the settings (errors.Is(err, ErrSettings)).
func SettingsErrorf(format string, args ...any) error {
	return settingsError(fmt.Sprintf(format, args...))
}

// check reports the first problem of the settings, worded for a user.
func (c *OptimizeConfig) check() error {
	switch {
	case c.Algo == "":
		return SettingsErrorf("give the algorithm: %s", strings.Join(Algos, ", "))
	case !slices.Contains(Algos, c.Algo):
		return SettingsErrorf("unknown algorithm %q: use %s", c.Algo, strings.Join(Algos, ", "))
	case c.KL.Beta < 0 || c.KL.TargetKL < 0 || c.KL.Horizon < 0 || c.Steps < 0 || c.Samples < 0 || c.LR < 0 || c.Diversity < 0:
		return SettingsErrorf("β, target KL, horizon, steps, samples, learning rate and diversity must not be negative")
	case c.KL.Beta != 0 && c.KL.TargetKL != 0:
		return SettingsErrorf("give either β or a target KL, not both")
	case c.KL.TargetKL != 0 && (c.Algo == "dpo" || c.Algo == "ipo" || c.Algo == "bon"):
		return SettingsErrorf("a target KL applies to exact, ppo and rloo; give β for %s", c.Algo)
	case c.Gamma != nil && !(*c.Gamma >= 0 && *c.Gamma <= 1) || c.Lambda != nil && !(*c.Lambda >= 0 && *c.Lambda <= 1):
		return SettingsErrorf("γ and λ must be in [0, 1]")
	case (c.Gamma != nil || c.Lambda != nil) && c.Algo != "ppo":
		return SettingsErrorf("γ and λ are PPO's (its advantage estimate); %s has none", c.Algo)
	case c.N < 0:
		return SettingsErrorf("best-of-N's N must be at least 1")
	case c.Synthetic.Rounds < 0 || c.Synthetic.Audit < 0 || c.Synthetic.Audit > 1:
		return SettingsErrorf("synthetic feedback: rounds must be ≥ 0 and the audit fraction in [0, 1]")
	case c.Synthetic.Rounds > 0 && c.Reward != reward.FamilyTabular && c.Reward != reward.FamilyLinear && c.Reward != reward.FamilyMLP:
		return SettingsErrorf("synthetic feedback retrains the reward model: the reward must be a family trained now (tabular, linear or mlp)")
	case c.LabelSmoothing != nil && (c.Algo != "dpo" || !(*c.LabelSmoothing >= 0 && *c.LabelSmoothing < 0.5)):
		return SettingsErrorf("label smoothing is DPO's, in [0, 0.5)")
	case c.Synthetic.Rounds > 0 && (c.Algo == "dpo" || c.Algo == "ipo"):
		return SettingsErrorf("synthetic feedback feeds a reward model; DPO and IPO use the pairs directly")
	}
	switch c.KL.Estimator {
	case "", K1, K2, K3:
	default:
		return SettingsErrorf("unknown KL estimator %q: use k1, k2 or k3", c.KL.Estimator)
	}
	return nil
}

// Optimize runs one optimization of the candidate policy on the items of s: it
// chooses the proxy reward (ChooseReward; DPO and IPO learn from the decided
// comparisons of s and only measure a reward, when one is named or stored),
// measures the gold utility when every response has one, gathers synthetic
// feedback when asked, and runs the algorithm. The run's Config records the policy
// kind, the reward, the seed and up to six before/after examples ("examples",
// Examples). s is not modified: Record stores the result. Deterministic given
// cfg.Seed, natively and in wasm alike.
func Optimize(s *snapshot.Snapshot, cfg OptimizeConfig) (*Optimized, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c, err := NewCandidate(s.Items, CandidateConfig{})
	if err != nil {
		return nil, err
	}
	o := &Optimized{Candidate: c, Reward: RewardChoice{Name: noReward}, algo: cfg.Algo, items: s.Items}
	preference := cfg.Algo == "dpo" || cfg.Algo == "ipo"
	if !preference || cfg.Reward != "" || LastRewardModel(s) != nil {
		ch, err := ChooseReward(s, cfg.Reward, cfg.Seed)
		if err != nil {
			return nil, err
		}
		o.Reward = *ch
	}
	o.Env = Env{Proxy: o.Reward.Reward, Features: cfg.Features}
	if HasGold(s.Items) {
		o.Env.Gold = ItemGold
	}
	if cfg.Synthetic.Rounds > 0 {
		if err := o.synthetic(s, cfg); err != nil {
			return nil, err
		}
	}
	kl := cfg.KL
	switch cfg.Algo {
	case "exact":
		o.Result, err = SolveExact(c, o.Env, ExactConfig{Beta: kl.Beta, TargetKL: kl.TargetKL, Diversity: cfg.Diversity, Seed: cfg.Seed, Samples: cfg.Samples})
	case "ppo":
		o.Result, err = PPO(c, o.Env, PPOConfig{KL: kl, Steps: cfg.Steps, Samples: cfg.Samples, LR: cfg.LR, Diversity: cfg.Diversity,
			Gamma: cfg.Gamma, Lambda: cfg.Lambda, Tol: cfg.Tol, Seed: cfg.Seed, Progress: cfg.Progress})
	case "rloo":
		o.Result, err = RLOO(c, o.Env, RLOOConfig{KL: kl, Steps: cfg.Steps, Samples: cfg.Samples, LR: cfg.LR, Diversity: cfg.Diversity, Tol: cfg.Tol, Seed: cfg.Seed, Progress: cfg.Progress})
	case "bon":
		o.Result, err = SolveBestOfN(c, o.Env, BoNConfig{N: cfg.N, Seed: cfg.Seed, Samples: cfg.Samples})
	case "dpo", "ipo":
		loss := LossSigmoid
		if cfg.Algo == "ipo" {
			loss = LossIPO
		}
		prefs, _ := Prefs(s.Items, feedback.Pairs(s.Items, s.Judgments, feedback.PairOptions{}))
		if len(prefs) == 0 {
			return nil, fmt.Errorf("there are no decided comparisons for %s to learn from: label some pairs, simulate raters or import a preference dataset", strings.ToUpper(cfg.Algo))
		}
		o.Pairs = len(prefs)
		dc := DPOConfig{Beta: kl.Beta, Loss: loss, Steps: cfg.Steps, LR: cfg.LR, LabelSmoothing: cfg.LabelSmoothing, Tol: cfg.Tol, Seed: cfg.Seed, Progress: cfg.Progress}
		o.beta = dc.withDefaults().Beta
		o.Result, err = DPO(c, prefs, o.Env, dc)
	}
	if err != nil {
		return nil, err
	}
	run := &o.Run
	run.Config["policy"] = "candidates"
	run.Config["reward"] = o.Reward.Name
	run.Config["seed"] = int64(cfg.Seed)
	run.Config["examples"] = Examples(s.Items, c, o.Env, 6)
	if o.Synthetic != nil {
		judge := cfg.Synthetic.JudgeName
		if judge == "" {
			judge = "reward"
		}
		run.Config["reward"] = fmt.Sprintf("%s, retrained after %d rounds of synthetic feedback (%s judge)", o.Reward.Name, cfg.Synthetic.Rounds, judge)
		run.Notes = append(run.Notes, o.Synthetic.Run.Notes...)
	}
	return o, nil
}

// synthetic gathers the synthetic feedback of cfg.Synthetic and makes the retrained
// reward model the run's proxy.
func (o *Optimized) synthetic(s *snapshot.Snapshot, cfg OptimizeConfig) error {
	sp := cfg.Synthetic
	judge, rater := sp.Judge, sp.JudgeRater
	if judge == nil {
		judge = RewardLabeler(o.Env.Proxy, 0.05)
	}
	if rater == "" {
		rater = "AI rater (reward model)"
	}
	var last *reward.Result // the last retrained model, stored next to the policy
	retrain := func(items []feedback.Item, js []feedback.Judgment) (Reward, error) {
		res, err := reward.Train(items, js, reward.Config{Family: cfg.Reward, Seed: cfg.Seed})
		if err != nil {
			return nil, err
		}
		last = res
		return res.Model.Score, nil
	}
	res, err := Synthetic(s.Items, s.Judgments, o.Env, judge, sp.Auditor, retrain, SyntheticConfig{Rounds: sp.Rounds, Audit: sp.Audit, Seed: cfg.Seed})
	if err != nil {
		return err
	}
	log := s.Log()
	for _, j := range res.Judgments {
		if _, err := log.Append(j); err != nil {
			return fmt.Errorf("add synthetic judgment: %w (the snapshot already holds synthetic feedback with this seed; use another seed)", err)
		}
	}
	o.Synthetic = res
	o.Env.Proxy = res.Reward
	m := reward.ToSnapshot(last.Model, "", last.Metrics.Map())
	o.synModel = &m
	o.raters = []feedback.Rater{{ID: "ai", Name: rater, Group: "ai", Kind: feedback.RaterAI}}
	if sp.Auditor != nil {
		r := sp.AuditorRater
		r.ID = "audit"
		o.raters = append(o.raters, r)
	}
	return nil
}

// Record stores the run in s under the name run and the optimized policy as the
// model named model, with the reward models trained for it (run+"-reward", and
// run+"-reward-synthetic" after synthetic feedback, named in the run's Config
// "reward_model") and the synthetic feedback's judgments, raters and run
// (run+"-synthetic"). It returns what it added, as a snapshot (a delta to merge).
func (o *Optimized) Record(s *snapshot.Snapshot, run, model string) *snapshot.Snapshot {
	delta := &snapshot.Snapshot{}
	o.Run.Name = run
	putModel := func(m snapshot.Model) {
		s.PutModel(m)
		delta.Models = append(delta.Models, m)
	}
	if m := o.Reward.Model; m != nil {
		m.Name = run + "-reward"
		putModel(*m)
		o.Run.Config["reward_model"] = m.Name
	}
	if o.Synthetic != nil {
		o.synModel.Name = run + "-reward-synthetic"
		putModel(*o.synModel)
		o.Run.Config["reward_model"] = o.synModel.Name
		log := s.Log()
		for _, j := range o.Synthetic.Judgments {
			log.Append(j) // checked by Optimize
		}
		s.SetLog(log)
		delta.Judgments = append(delta.Judgments, o.Synthetic.Judgments...)
		for _, r := range o.raters {
			if !hasRater(s.Raters, r.ID) {
				s.Raters = append(s.Raters, r)
				delta.Raters = append(delta.Raters, r)
			}
		}
		syn := o.Synthetic.Run
		syn.Name = run + "-synthetic"
		s.PutRun(syn)
		delta.Runs = append(delta.Runs, syn)
	}
	m := o.Candidate.Model(model, run)
	for k, v := range o.Run.Summary {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m.Metrics[k] = v
		}
	}
	putModel(m)
	s.PutRun(o.Run)
	delta.Runs = append(delta.Runs, o.Run)
	return delta
}

func hasRater(rs []feedback.Rater, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// Dump returns the optimized policy's rows (Dump) with the proxy reward of every
// candidate, or for DPO and IPO their implicit rewards (ImplicitRewards).
func (o *Optimized) Dump() []DumpRow {
	t := NewTable(o.items, o.Env.Proxy)
	if o.algo == "dpo" || o.algo == "ipo" {
		t = ImplicitRewards(o.Candidate, o.beta)
	}
	return Dump(o.Candidate, t)
}

// Examples picks up to n prompts where the optimized policy's favourite response
// differs most from the reference policy's and describes both (the before/after
// examples the Policy page shows): item, prompt, ref_text, ref_prob, ref_parts,
// text, prob, parts, and the proxy (ref_proxy, proxy) and gold (ref_gold, gold)
// rewards when known. Prompts are taken in item order among those that changed.
func Examples(items []feedback.Item, c *Candidate, e Env, n int) []any {
	type example struct {
		score float64
		v     map[string]any
	}
	var list []example
	for pi := range items {
		it := &items[pi]
		k := len(it.Responses)
		if k < 2 {
			continue
		}
		probs := c.Probs(make([]float64, k), pi)
		ref := c.RefProbs(make([]float64, k), pi)
		best, refBest := num.Argmax(probs), num.Argmax(ref)
		rb, rr := it.Responses[best], it.Responses[refBest]
		score := probs[best] - ref[best]
		if best == refBest {
			score -= 1
		}
		v := map[string]any{
			"item": it.ID, "prompt": it.Prompt,
			"ref_text": rr.Text, "ref_prob": ref[refBest], "ref_parts": anys(rr.Parts),
			"text": rb.Text, "prob": probs[best], "parts": anys(rb.Parts),
		}
		if e.Proxy != nil {
			v["ref_proxy"], v["proxy"] = e.Proxy(it, rr.Text), e.Proxy(it, rb.Text)
		}
		if e.Gold != nil {
			v["ref_gold"], v["gold"] = finite0(e.Gold(it, rr.Text)), finite0(e.Gold(it, rb.Text))
		}
		list = append(list, example{score, v})
	}
	sort.SliceStable(list, func(a, b int) bool { return list[a].score > list[b].score })
	var out []any
	for i := 0; i < len(list) && i < n; i++ {
		out = append(out, list[i].v)
	}
	return out
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// finite0 is x, or 0 when x is NaN or infinite (not storable in a run's config).
func finite0(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// SweptRun is a finished run of SweepSnapshot.
type SweptRun struct {
	*SweepResult
	Reward RewardChoice
}

// SweepSnapshot is the β sweep (or best-of-N over N) of the candidate policy on
// the items of s against the proxy reward spec (ChooseReward, seeded by
// cfg.Seed), with the gold utility measured when every response has one and
// features as the detector's (nil: DefaultFeatures). The run's Config records the
// reward, the seed and, for ppo and rloo, the steps per point. s is not modified:
// Record stores the result.
func SweepSnapshot(s *snapshot.Snapshot, spec string, features []Feature, cfg SweepConfig) (*SweptRun, error) {
	ch, err := ChooseReward(s, spec, cfg.Seed)
	if err != nil {
		return nil, err
	}
	env := Env{Proxy: ch.Reward, Features: features}
	if HasGold(s.Items) {
		env.Gold = ItemGold
	}
	res, err := Sweep(s.Items, env, cfg)
	if err != nil {
		return nil, err
	}
	res.Run.Config["reward"] = ch.Name
	res.Run.Config["seed"] = int64(cfg.Seed)
	switch res.Run.Config["algo"] {
	case "ppo":
		res.Run.Config["steps"] = cfg.PPO.withDefaults().Steps
	case "rloo":
		res.Run.Config["steps"] = cfg.RLOO.withDefaults().Steps
	}
	return &SweptRun{SweepResult: res, Reward: *ch}, nil
}

// Record stores the sweep in s as the run named run, with the reward model trained
// for it (run+"-reward", named in Config "reward_model"), and returns what it
// added as a snapshot (a delta to merge).
func (r *SweptRun) Record(s *snapshot.Snapshot, run string) *snapshot.Snapshot {
	delta := &snapshot.Snapshot{}
	r.Run.Name = run
	if m := r.Reward.Model; m != nil {
		m.Name = run + "-reward"
		s.PutModel(*m)
		delta.Models = append(delta.Models, *m)
		r.Run.Config["reward_model"] = m.Name
	}
	s.PutRun(r.Run)
	delta.Runs = append(delta.Runs, r.Run)
	return delta
}
