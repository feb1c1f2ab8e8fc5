package policy

import (
	"fmt"
	"testing"

	"prefer/core/demo"
)

// BenchmarkStepsToOptimum measures, on the demo domain (60 prompts, 420
// candidates, gold utility as the reward), the first step at which each algorithm
// with its default settings is within 0.01 mean total variation per prompt of
// π* ∝ π_ref·exp(r/β). The exact solver needs one step by construction.
func BenchmarkStepsToOptimum(b *testing.B) {
	items := demo.Prompts(1, 60)
	env := Env{Proxy: ItemGold, Gold: ItemGold, Features: demo.HackingFeatures}
	tbl := NewTable(items, ItemGold)
	for _, algo := range []string{"exact", "ppo", "rloo"} {
		for _, beta := range []float64{0.1, 1} {
			b.Run(fmt.Sprintf("%s/beta=%g", algo, beta), func(b *testing.B) {
				var steps int
				for i := 0; i < b.N; i++ {
					c := newCand(b, items)
					steps = -1
					watch := func(step int, _ Metrics) bool {
						if steps < 0 && meanTV(b, c, tbl, beta) <= 0.01 {
							steps = step
						}
						return steps < 0
					}
					var err error
					switch algo {
					case "exact":
						_, err = SolveExact(c, env, ExactConfig{Beta: beta})
						steps = 1
					case "ppo":
						_, err = PPO(c, env, PPOConfig{KL: KLConfig{Beta: beta}, Progress: watch})
					case "rloo":
						_, err = RLOO(c, env, RLOOConfig{KL: KLConfig{Beta: beta}, Progress: watch})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(steps), "steps")
			})
		}
	}
}

// BenchmarkCandidateStep measures optimizer steps per second of the candidate
// policy on the demo domain: a PPO step samples 4 responses for each of 60 prompts
// and makes 4 epochs of clipped updates; an RLOO step one update. The clock starts
// after the first step, so scoring the candidates and their features (setup) is
// not counted.
func BenchmarkCandidateStep(b *testing.B) {
	items := demo.Prompts(1, 60)
	env := Env{Proxy: ItemGold, Gold: ItemGold, Features: demo.HackingFeatures}
	for _, algo := range []string{"ppo", "rloo"} {
		b.Run(algo, func(b *testing.B) {
			c := newCand(b, items)
			b.ReportAllocs()
			steps := b.N + 1
			start := func(step int, _ Metrics) bool {
				if step == 1 {
					b.ResetTimer()
				}
				return true
			}
			var err error
			if algo == "ppo" {
				_, err = PPO(c, env, PPOConfig{Steps: steps, Progress: start})
			} else {
				_, err = RLOO(c, env, RLOOConfig{Steps: steps, Progress: start})
			}
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
