package api

import (
	"fmt"
	"math"

	"prefer/core/feedback"
	"prefer/core/rng"
)

// maxAssignments bounds items × overlap of a project (its record holds every queue).
const maxAssignments = 2_000_000

// assign builds each rater's queue of item ids.
//
// With goldRate = 0 every item is assigned. With goldRate > 0 the items with a known
// best response (GoldBest) are the gold pool and the others are assigned. Assigned
// items are dealt, in a seeded random order, to overlap distinct raters each, round
// robin, so queue lengths differ by at most one. Then each rater's queue gets
// round(goldRate·L/(1−goldRate)) gold items (L its length; at most the pool's size),
// drawn without repeats and put at random places, so that a share goldRate of the
// queue is gold. Each queue is shuffled on its own, so raters who share items see them
// in different orders. The result depends only on the arguments.
func assign(items []feedback.Item, raters, overlap int, goldRate float64, seed uint64) ([][]string, error) {
	switch {
	case raters < 1:
		return nil, fmt.Errorf("a project needs at least one rater")
	case overlap < 1 || overlap > raters:
		return nil, fmt.Errorf("overlap %d: each item can be seen by 1 to %d raters (the number of raters)", overlap, raters)
	case !(goldRate >= 0 && goldRate <= 0.5):
		return nil, fmt.Errorf("gold_rate %v: use a share between 0 and 0.5", goldRate)
	}
	var regular, gold []string
	for _, it := range items {
		if goldRate > 0 && it.GoldBest != "" {
			gold = append(gold, it.ID)
		} else {
			regular = append(regular, it.ID)
		}
	}
	if goldRate > 0 && len(gold) == 0 {
		return nil, fmt.Errorf("gold_rate %v needs gold items (items with gold_best set); the snapshot has none", goldRate)
	}
	if len(regular) == 0 {
		return nil, fmt.Errorf("no items to assign: every item is a gold item; lower gold_rate to 0 or add items without gold_best")
	}
	if n := len(regular) * overlap; n > maxAssignments {
		return nil, fmt.Errorf("%d items × overlap %d = %d assignments; a project holds at most %d: split the items into several projects",
			len(regular), overlap, n, maxAssignments)
	}
	r := rng.New(seed)
	queues := make([][]string, raters)
	for k, idx := range r.Split("deal").Perm(len(regular)) {
		for j := range overlap {
			q := (k*overlap + j) % raters
			queues[q] = append(queues[q], regular[idx])
		}
	}
	for q := range queues {
		rr := r.Split(fmt.Sprintf("rater/%d", q))
		queue := queues[q]
		rr.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
		if goldRate == 0 || len(queue) == 0 {
			continue
		}
		n := int(math.Round(goldRate * float64(len(queue)) / (1 - goldRate)))
		n = max(1, min(n, len(gold)))
		picks := rr.Perm(len(gold))[:n]
		// Choose the positions of the gold items among len(queue)+n slots.
		isGold := make([]bool, len(queue)+n)
		for _, p := range rr.Perm(len(isGold))[:n] {
			isGold[p] = true
		}
		merged := make([]string, 0, len(isGold))
		gi, qi := 0, 0
		for _, g := range isGold {
			if g {
				merged = append(merged, gold[picks[gi]])
				gi++
			} else {
				merged = append(merged, queue[qi])
				qi++
			}
		}
		queues[q] = merged
	}
	return queues, nil
}
