package reward

import (
	"fmt"
	"math"
	"sort"

	"prefer/core/feedback"
)

// GroupModel is the reward model of one rater group.
type GroupModel struct {
	Group     string
	Raters    []string
	Model     Model
	Metrics   Metrics // on the group's own held-out comparisons
	Train     int     // the group's training elements
	Held      int     // the group's held-out elements
	OwnAcc    float64 // this model's accuracy on the group's held-out comparisons
	PooledAcc float64 // the pooled model's accuracy on the same comparisons
}

// Personal is the result of Personalize.
type Personal struct {
	Pooled Model
	Groups []GroupModel
	// Disagreement[g][h] is the fraction of held-out response pairs (two responses of
	// one held-out item) that the models of groups g and h order differently; index
	// len(Groups) is the pooled model.
	Disagreement [][]float64
	Pairs        int // response pairs compared
	Notes        []string
}

// MinGroupElements is the fewest training comparisons a group needs for a model of
// its own.
const MinGroupElements = 10

// Personalize fits one reward model per rater group (feedback.Rater.Group; a rater
// without a group is a group of one, named by its id) and a pooled model on
// everyone, all on the same split of cfg, and reports how far they diverge: their
// disagreement on held-out response pairs, and for each group how well its own model
// and the pooled model predict the group's held-out choices. A pooled model that
// predicts a group much worse than the group's own model is hiding a minority
// preference.
func Personalize(items []feedback.Item, js []feedback.Judgment, raters []feedback.Rater, cfg Config) (*Personal, error) {
	cfg, ds, sp, r, err := prepare(items, js, cfg)
	if err != nil {
		return nil, err
	}
	if len(sp.held) == 0 {
		return nil, fmt.Errorf("personalization compares groups on held-out data: give a positive holdout fraction")
	}
	groupOf := make(map[string]string)
	for _, rt := range raters {
		if rt.Group != "" {
			groupOf[rt.ID] = rt.Group
		}
	}
	group := func(rater string) string {
		if g, ok := groupOf[rater]; ok {
			return g
		}
		if rater == "" {
			return "(unknown)"
		}
		return rater
	}
	members := map[string]map[string]bool{}
	for _, e := range ds.elems {
		g := group(e.rater)
		if members[g] == nil {
			members[g] = map[string]bool{}
		}
		members[g][e.rater] = true
	}
	var names []string
	for g := range members {
		names = append(names, g)
	}
	sort.Strings(names)

	pooledRes, err := trainOn(ds, sp, cfg, r.Split("pooled"))
	if err != nil {
		return nil, err
	}
	out := &Personal{Pooled: pooledRes.Model}
	pooledScore := rowScorer(ds, pooledRes.Model)
	filter := func(idx []int, g string) []int {
		var o []int
		for _, e := range idx {
			if group(ds.elems[e].rater) == g {
				o = append(o, e)
			}
		}
		return o
	}
	for _, g := range names {
		sub := splitSets{train: filter(sp.train, g), valid: filter(sp.valid, g), held: filter(sp.held, g), heldItems: sp.heldItems}
		if len(sub.train) < MinGroupElements {
			out.Notes = append(out.Notes, fmt.Sprintf("group %q has %d training comparisons (fewer than %d): no model of its own", g, len(sub.train), MinGroupElements))
			continue
		}
		res, err := trainOn(ds, sub, cfg, r.Split("group/"+g))
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", g, err)
		}
		gm := GroupModel{Group: g, Model: res.Model, Metrics: res.Metrics, Train: len(sub.train), Held: len(sub.held)}
		for id := range members[g] {
			gm.Raters = append(gm.Raters, id)
		}
		sort.Strings(gm.Raters)
		_, gm.OwnAcc = setLoss(ds, sub.held, rowScorer(ds, res.Model), modelEta(res.Model))
		_, gm.PooledAcc = setLoss(ds, sub.held, pooledScore, modelEta(pooledRes.Model))
		out.Groups = append(out.Groups, gm)
	}
	// Held-out response pairs.
	type rp struct{ a, b int32 }
	var pairs []rp
	if len(sp.heldItems) > 0 {
		for _, it := range sp.heldItems {
			start := ds.itemRow[it]
			n := int32(len(ds.items[it].Responses))
			for a := int32(0); a < n; a++ {
				for b := a + 1; b < n; b++ {
					pairs = append(pairs, rp{start + a, start + b})
				}
			}
		}
	} else {
		for _, e := range sp.held {
			rows := ds.elems[e].rows
			for a := 0; a < len(rows); a++ {
				for b := a + 1; b < len(rows); b++ {
					pairs = append(pairs, rp{rows[a], rows[b]})
				}
			}
		}
	}
	out.Pairs = len(pairs)
	scorers := make([]func(int32) float64, 0, len(out.Groups)+1)
	for _, gm := range out.Groups {
		scorers = append(scorers, rowScorer(ds, gm.Model))
	}
	scorers = append(scorers, pooledScore)
	n := len(scorers)
	out.Disagreement = make([][]float64, n)
	for i := range out.Disagreement {
		out.Disagreement[i] = make([]float64, n)
	}
	if len(pairs) > 0 {
		sign := func(x float64) int {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				diff := 0
				for _, p := range pairs {
					if sign(scorers[i](p.a)-scorers[i](p.b)) != sign(scorers[j](p.a)-scorers[j](p.b)) {
						diff++
					}
				}
				v := float64(diff) / float64(len(pairs))
				out.Disagreement[i][j], out.Disagreement[j][i] = v, v
			}
		}
	}
	for k, gm := range out.Groups {
		if !math.IsNaN(gm.OwnAcc) && !math.IsNaN(gm.PooledAcc) && gm.OwnAcc-gm.PooledAcc >= 0.05 {
			out.Notes = append(out.Notes, fmt.Sprintf("the pooled model hides group %q's preferences: it predicts %.0f%% of their held-out choices, their own model %.0f%% (the two order %.0f%% of held-out response pairs differently)",
				gm.Group, float64(100*gm.PooledAcc), float64(100*gm.OwnAcc), float64(100*out.Disagreement[k][n-1])))
		}
	}
	return out, nil
}
