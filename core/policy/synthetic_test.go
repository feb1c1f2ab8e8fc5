package policy

import (
	"testing"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/reward"
)

// TestSynthetic: a reward model trained on politeness-biased raters is corrected by
// rounds of rubric-judged synthetic pairs (RLAIF): the gold reward of the optimized
// policy rises, and the expert audit agrees with the rubric judge on most pairs.
func TestSynthetic(t *testing.T) {
	ds, rm := biasedReward(t, "polite")
	expert := demo.NewRater(demo.Presets["expert"], "audit", 1)
	human := func(it *feedback.Item, a, b string) feedback.Judgment { return expert.Compare(it, a, b, 0) }
	retrain := func(items []feedback.Item, js []feedback.Judgment) (Reward, error) {
		res, err := reward.Train(items, js, reward.Config{Family: reward.FamilyLinear, Seed: 1})
		if err != nil {
			return nil, err
		}
		return res.Model.Score, nil
	}
	env := Env{Proxy: rm.Score, Gold: ItemGold, Features: demo.HackingFeatures}
	res, err := Synthetic(ds.Items, ds.Judgments, env, RewardLabeler(demo.Rubric, 0.1), human, retrain, SyntheticConfig{Rounds: 3, Pairs: 600, Audit: 0.2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	gold := res.Run.Series[SeriesGold]
	agree := res.Run.Series["agreement"]
	t.Logf("gold per round %v, agreement %v (overall %.3f of %d)", gold, agree, res.Agreement, res.Audits)
	if gold[len(gold)-1] <= gold[0]+0.1 {
		t.Errorf("gold did not improve over the rounds: %v", gold)
	}
	if res.Agreement < 0.6 || res.Audits < 50 {
		t.Errorf("audit agreement %v over %d pairs; want ≥ 0.6 over ≥ 50", res.Agreement, res.Audits)
	}
	// Every judgment is valid against the items and ids are unique.
	seen := map[string]bool{}
	ix := feedback.NewIndex(ds.Items, nil)
	for _, j := range res.Judgments {
		if err := ix.Validate(&j); err != nil {
			t.Fatalf("invalid judgment %+v: %v", j, err)
		}
		if seen[j.ID] {
			t.Fatalf("duplicate id %s", j.ID)
		}
		seen[j.ID] = true
	}
	// The final proxy, optimized at the same β, has a better gold reward than the
	// biased one.
	c := newCand(t, ds.Items)
	before, _ := SolveExact(c, env, ExactConfig{Beta: 0.1})
	after, _ := SolveExact(c, Env{Proxy: res.Reward, Gold: ItemGold, Features: demo.HackingFeatures}, ExactConfig{Beta: 0.1})
	t.Logf("gold at β 0.1: biased reward %.3f, after synthetic feedback %.3f", before.Final.Gold, after.Final.Gold)
	if after.Final.Gold <= before.Final.Gold {
		t.Errorf("gold at β 0.1 fell from %v to %v", before.Final.Gold, after.Final.Gold)
	}
}
