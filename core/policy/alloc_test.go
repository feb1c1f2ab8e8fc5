package policy

import (
	"testing"

	"prefer/core/demo"
)

// TestStepsDoNotAllocate: the allocations of a run do not grow with its number of
// steps (setup only): PPO and RLOO steps on the candidate policy allocate nothing
// once warm.
func TestStepsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	items := demo.Prompts(1, 20)
	env := Env{Proxy: ItemGold, Gold: ItemGold, Features: []Feature{LengthFeature}}
	for _, algo := range []string{"ppo", "rloo"} {
		allocs := func(steps int) float64 {
			return testing.AllocsPerRun(3, func() {
				c, _ := NewCandidate(items, CandidateConfig{})
				if algo == "ppo" {
					PPO(c, env, PPOConfig{Steps: steps})
				} else {
					RLOO(c, env, RLOOConfig{Steps: steps})
				}
			})
		}
		short, long := allocs(20), allocs(220)
		if per := (long - short) / 200; per > 0.05 {
			t.Errorf("%s: %.0f allocations for 20 steps, %.0f for 220: %.2f per step", algo, short, long, per)
		}
	}
}
