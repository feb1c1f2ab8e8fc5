package lesson

import (
	"errors"
	"fmt"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/policy"
	"prefer/core/reward"
	"prefer/core/snapshot"
)

// The lesson's settings.
const (
	Seed       = 7    // the demo's seed: the prompts, the candidates, the raters' draws
	RewardSeed = 1    // the reward model's split and initialisation
	PolicySeed = 1    // PPO's sampling, and the sweep's sampled metrics
	BetaSmall  = 0.02 // a cheap KL penalty: the policy drifts far and hacks the reward
	BetaLarge  = 0.5  // an expensive one: the policy stays near the reference
	Steps      = 150  // PPO steps per run (candidate policy, all 60 prompts per step)
	// SplitBy is how the reward model holds data out: by pair, because the policy
	// is optimized on these same prompts, so the question is how well the model ranks
	// their answers.
	SplitBy = "pair"
	// RewardModelName and RewardRunName are the names the workbench stores the
	// reward model and its training run under (app/jobs.ModelRM, RunRM).
	RewardModelName = "reward"
	RewardRunName   = "train-rm"
)

// RewardFamily is the lesson's reward model: linear on hashed text features, the
// workbench's default.
const RewardFamily = reward.FamilyLinear

// A Panel is a panel of simulated raters a class can choose.
type Panel struct {
	ID    string // short name, used in links (?panel=crowd)
	Title string
	Spec  string // demo.ParseProfiles syntax
	About string // one sentence for the page
	Story string // what optimizing against its reward model shows
}

// Panels are the lesson's panels; the first is the default.
var Panels = []Panel{
	{"crowd", "A realistic crowd", demo.DefaultPanel,
		"14 raters: one expert, seven hurried crowd workers who pay for length and miss many wrong answers, one each who rewards politeness, long answers and refusals, one who prefers the left answer, a tired one and a spammer.",
		"A small β lets the policy pad its answers with the filler the crowd over-rated: the proxy keeps rising while gold falls back to where it started. A large β holds the gain."},
	{"experts", "Careful experts", "6*expert,6*unbiased",
		"12 raters without biases: six experts and six careful crowd workers.",
		"The reward model agrees with gold, so optimizing it harder only helps: gold rises at every β."},
	{"polite", "Raters who love politeness", "10*polite,2*unbiased",
		"12 raters, ten of whom reward polite phrasing and miss most wrong answers.",
		"The reward model pays for politeness over correctness: polite-but-wrong answers take over. Gold peaks early, has already fallen by the large β and ends below where it started — no β fixes a reward this wrong; better feedback does."},
}

// PanelByID returns the panel with that id, and false when there is none.
func PanelByID(id string) (Panel, bool) {
	for _, p := range Panels {
		if p.ID == id {
			return p, true
		}
	}
	return Panel{}, false
}

// Simulate returns the lesson's simulated dataset for a panel spec ("" is the default
// panel) as the workbench's simulate job makes it: demo.Generate with the lesson's
// seed and the demo's defaults otherwise.
func Simulate(spec string) (*demo.Dataset, error) {
	cfg := demo.Config{Seed: Seed}
	if spec != "" {
		ps, err := demo.ParseProfiles(spec)
		if err != nil {
			return nil, err
		}
		cfg.Raters = ps
	}
	return demo.Generate(cfg)
}

// RewardConfig is the lesson's reward-model configuration.
func RewardConfig() reward.Config {
	return reward.Config{Family: RewardFamily, Seed: RewardSeed, SplitBy: SplitBy}
}

// TrainReward trains the lesson's reward model on a dataset and returns the result
// and the model as the workbench stores and reloads it (float32 tensors in a
// snapshot), which is the model the lesson's optimization runs use.
func TrainReward(items []feedback.Item, js []feedback.Judgment) (*reward.Result, reward.Model, error) {
	res, err := reward.Train(items, js, RewardConfig())
	if err != nil {
		return nil, nil, err
	}
	m, err := reward.FromSnapshot(reward.ToSnapshot(res.Model, RewardModelName, res.Metrics.Map()))
	if err != nil {
		return nil, nil, fmt.Errorf("reload the reward model: %w", err)
	}
	return res, m, nil
}

// Config says which lesson Run runs; the zero value is the lesson with the default
// panel.
type Config struct {
	Panel string // demo.ParseProfiles spec; "" is demo.DefaultPanel
	// Progress, when set, is called after each PPO step of each run (run 0 is the
	// small β); false cancels.
	Progress func(run, step int) bool
}

// Outcome is what the lesson's steps 2–5 produced.
type Outcome struct {
	Data   *demo.Dataset
	State  *snapshot.Snapshot // the state after step 5, as the workbench holds it
	Reward *reward.Result
	Model  reward.Model // the reward model the runs optimized (as stored)
	Small  *policy.Optimized
	Large  *policy.Optimized
	Sweep  *policy.SweptRun
	// SmallArc and LargeArc are the gold arcs of the two PPO runs (policy.RunArc: point
	// 0 is the reference policy, point i the policy after step i).
	SmallArc, LargeArc policy.GoldArc
}

// ErrCanceled is returned by Run when Progress returned false.
var ErrCanceled = errors.New("lesson: canceled")

// Run runs the lesson's steps 2–5 natively, through the same core entry points as
// the workbench's jobs (app/work) and the prefer commands: simulate the panel's
// judgments, train and store the reward model (reward.Record), optimize the
// candidate policy with PPO at BetaSmall and BetaLarge against it (policy.Optimize;
// gold measured, never seen), and sweep β with the exact optimum
// (policy.SweepSnapshot).
func Run(cfg Config) (*Outcome, error) {
	d, err := Simulate(cfg.Panel)
	if err != nil {
		return nil, fmt.Errorf("simulate raters: %w", err)
	}
	s := d.Snapshot()
	rm, err := reward.Train(s.Items, s.Judgments, RewardConfig())
	if err != nil {
		return nil, fmt.Errorf("train the reward model: %w", err)
	}
	reward.Record(s, rm, RewardModelName, RewardRunName)
	m, err := reward.FromSnapshot(*s.Model(RewardModelName))
	if err != nil {
		return nil, fmt.Errorf("reload the reward model: %w", err)
	}
	out := &Outcome{Data: d, State: s, Reward: rm, Model: m}
	features := demo.FeaturesOf(s.Items)
	for i, beta := range []float64{BetaSmall, BetaLarge} {
		pcfg := policy.OptimizeConfig{Algo: "ppo", KL: policy.KLConfig{Beta: beta}, Steps: Steps, Seed: PolicySeed, Features: features}
		canceled := false
		if cfg.Progress != nil {
			run := i
			pcfg.Progress = func(step int, _ policy.Metrics) bool {
				canceled = !cfg.Progress(run, step)
				return !canceled
			}
		}
		res, err := policy.Optimize(s, pcfg)
		if err != nil {
			return nil, fmt.Errorf("PPO at β = %g: %w", beta, err)
		}
		if canceled {
			return nil, ErrCanceled
		}
		name := fmt.Sprintf("lesson-%d", i+1)
		res.Record(s, name, name)
		arc, _ := policy.RunArc(&res.Run)
		if i == 0 {
			out.Small, out.SmallArc = res, arc
		} else {
			out.Large, out.LargeArc = res, arc
		}
	}
	sw, err := policy.SweepSnapshot(s, "", features, policy.SweepConfig{Seed: PolicySeed})
	if err != nil {
		return nil, fmt.Errorf("sweep β: %w", err)
	}
	out.Sweep = sw
	return out, nil
}
