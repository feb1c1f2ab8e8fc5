// Package pipeline runs the lesson (package lesson's settings) natively with the
// same core entry points as the workbench's jobs: Run, its steps 2–5, whose figures
// the tests pin natively and under wasm, and NewLandscape, the playground's data.
// It is the half of the lesson the page does not link (it simulates and trains).
package pipeline

import (
	"errors"
	"fmt"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/lesson"
	"prefer/core/policy"
	"prefer/core/reward"
	"prefer/core/snapshot"
)

// RewardFamily is the lesson's reward model: linear on hashed text features, the
// workbench's default.
const RewardFamily = reward.FamilyLinear

// Simulate returns the lesson's simulated dataset for a panel spec ("" is the default
// panel) as the workbench's simulate job makes it: demo.Generate with the lesson's
// seed and the demo's defaults otherwise.
func Simulate(spec string) (*demo.Dataset, error) {
	cfg := demo.Config{Seed: lesson.Seed}
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
	return reward.Config{Family: RewardFamily, Seed: lesson.RewardSeed, SplitBy: lesson.SplitBy}
}

// TrainReward trains the lesson's reward model on a dataset and returns the result
// and the model as the workbench stores and reloads it (float32 tensors in a
// snapshot), which is the model the lesson's optimization runs use.
func TrainReward(items []feedback.Item, js []feedback.Judgment) (*reward.Result, reward.Model, error) {
	res, err := reward.Train(items, js, RewardConfig())
	if err != nil {
		return nil, nil, err
	}
	m, err := reward.FromSnapshot(reward.ToSnapshot(res.Model, lesson.RewardModelName, res.Metrics.Map()))
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
var ErrCanceled = errors.New("lesson pipeline: canceled")

// Run runs the lesson's steps 2–5 natively, through the same core entry points as
// the workbench's jobs (app/work) and the prefer commands: simulate the panel's
// judgments, train and store the reward model (reward.Record), optimize the
// candidate policy with PPO at lesson.BetaSmall and lesson.BetaLarge against it (policy.Optimize;
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
	reward.Record(s, rm, lesson.RewardModelName, lesson.RewardRunName)
	m, err := reward.FromSnapshot(*s.Model(lesson.RewardModelName))
	if err != nil {
		return nil, fmt.Errorf("reload the reward model: %w", err)
	}
	out := &Outcome{Data: d, State: s, Reward: rm, Model: m}
	features := demo.FeaturesOf(s.Items)
	for i, beta := range []float64{lesson.BetaSmall, lesson.BetaLarge} {
		pcfg := policy.OptimizeConfig{Algo: "ppo", KL: policy.KLConfig{Beta: beta}, Steps: lesson.Steps, Seed: lesson.PolicySeed, Features: features}
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
	sw, err := policy.SweepSnapshot(s, "", features, policy.SweepConfig{Seed: lesson.PolicySeed})
	if err != nil {
		return nil, fmt.Errorf("sweep β: %w", err)
	}
	out.Sweep = sw
	return out, nil
}

// NewLandscape simulates the panel's judgments (spec "" is the default panel), trains
// the lesson's reward model on them and scores every candidate: exactly the data and
// the model of the lesson's steps 2–3.
func NewLandscape(spec string) (*lesson.Landscape, error) {
	d, err := Simulate(spec)
	if err != nil {
		return nil, fmt.Errorf("simulate raters: %w", err)
	}
	rm, m, err := TrainReward(d.Items, d.Judgments)
	if err != nil {
		return nil, fmt.Errorf("train the reward model: %w", err)
	}
	if spec == "" {
		spec = demo.DefaultPanel
	}
	return landscapeOf(spec, d.Items, m, rm.Metrics.HeldAcc), nil
}

// landscapeOf scores the items' candidates with m.
func landscapeOf(spec string, items []feedback.Item, m reward.Model, heldAcc float64) *lesson.Landscape {
	l := &lesson.Landscape{Panel: spec, HeldAcc: heldAcc}
	for i := range items {
		it := &items[i]
		p := lesson.Prompt{ID: it.ID, Text: it.Prompt}
		if len(it.Tags) > 0 {
			p.Topic = it.Tags[0]
		}
		for _, r := range it.Responses {
			a := lesson.Answer{Text: r.Text, Ref: r.RefProb, Proxy: m.Score(it, r.Text), Parts: r.Parts}
			if r.Gold != nil {
				a.Gold = *r.Gold
			}
			p.Answers = append(p.Answers, a)
		}
		l.Prompts = append(l.Prompts, p)
	}
	return l
}

// Landscape returns the playground's landscape of the outcome's data and reward model
// (what NewLandscape of the same panel returns).
func (o *Outcome) Landscape(spec string) *lesson.Landscape {
	if spec == "" {
		spec = demo.DefaultPanel
	}
	return landscapeOf(spec, o.Data.Items, o.Model, o.Reward.Metrics.HeldAcc)
}
