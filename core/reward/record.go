package reward

import (
	"math"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// Record stores a training in s, as `prefer train-rm` and the browser's train-rm
// job both do: the model named model (metrics: the run's summary, Run: run) and
// the run named run (TrainingRun). It returns what it added, as a snapshot (a
// delta to merge).
func Record(s *snapshot.Snapshot, res *Result, model, run string) *snapshot.Snapshot {
	r := TrainingRun(run, res, s.Items)
	m := ToSnapshot(res.Model, model, res.Metrics.Map())
	m.Run = run
	s.PutModel(m)
	s.PutRun(r)
	return &snapshot.Snapshot{Models: []snapshot.Model{m}, Runs: []snapshot.Run{r}}
}

// scatterPoints bounds the reward-against-length points a run keeps.
const scatterPoints = 600

// TrainingRun records a training as a run named name, kind "train-rm" (the
// model itself is a pure function of the data, the configuration and the seed):
//
//	config   the settings (family, split, holdout and valid as fractions, 0 for
//	         none, epochs, patience, batch, lr, weight_decay, margin, center,
//	         both_bad_tie, tie_model, the feature settings, the family's own),
//	         held_items (the held-out prompts), best_epoch and diagnostics:
//	         reliability (10 bins: lo, hi, count, conf, acc), disagreements (item,
//	         prompt, chosen, rejected, chosen_text, rejected_text, rater, p_chosen,
//	         judgment) and for linear models top_positive / top_negative (ngram,
//	         weight, count)
//	series   per epoch (per L-BFGS iteration for linear, per Newton iteration
//	         for tabular): train_loss,
//	         valid_loss, held_loss, held_acc (NaN where a split is empty);
//	         the reliability bins as rel_lo, rel_conf, rel_acc, rel_count; and
//	         for up to 600 responses of the held-out items (all items when none
//	         were held out by item) scatter_words, scatter_reward and, when every
//	         response has one, scatter_gold
//	summary  the metrics (Metrics.Map), best_epoch and n_valid (the batch
//	         elements kept for early stopping: n_train + n_valid + n_held is every
//	         element the judgments gave)
//	notes    the findings in words
func TrainingRun(name string, res *Result, items []feedback.Item) snapshot.Run {
	c, d := res.Config, res.Diag
	cfg := map[string]any{
		"family": c.Family, "split": res.Split.By, "holdout": max(c.Holdout, 0), "valid": max(c.Valid, 0),
		"epochs": c.Epochs, "patience": c.Patience,
		"margin": c.Margin, "center": c.Center, "both_bad_tie": c.BothBadTie, "tie_model": "rao-kupper",
		"dim": c.Features.Dim, "cross": c.Features.Cross, "word_n": c.Features.WordN, "char_n": c.Features.CharMax,
		"sentences": !c.Features.NoSentences, "best_epoch": res.Curves.BestEpoch,
	}
	fam := c.Family
	if fam == FamilyEnsemble {
		fam = c.Member
	}
	switch fam {
	case FamilyLinear:
		cfg["optimizer"], cfg["l2"] = "lbfgs", max(c.L2, 0)
	case FamilyMLP:
		cfg["optimizer"], cfg["batch"], cfg["lr"], cfg["weight_decay"] = "adamw", c.Batch, c.LR, max(c.WeightDecay, 0)
	}
	switch c.Family {
	case FamilyMLP:
		cfg["hidden"] = c.Hidden
	case FamilyEnsemble:
		cfg["member"], cfg["members"] = c.Member, c.Members
	case FamilyTabular:
		cfg["ridge"], cfg["position_effect"] = c.Tabular.Ridge, c.Tabular.PositionEffect
	}
	if len(res.Split.HeldItems) > 0 {
		cfg["held_items"] = append([]string(nil), res.Split.HeldItems...)
	}
	cfg["diagnostics"] = diagnosticsConfig(d)

	series := map[string][]float64{
		"train_loss": res.Curves.TrainLoss, "valid_loss": res.Curves.ValidLoss,
		"held_loss": res.Curves.HeldLoss, "held_acc": res.Curves.HeldAcc,
	}
	for _, b := range d.Reliability {
		series["rel_lo"] = append(series["rel_lo"], b.Lo)
		series["rel_conf"] = append(series["rel_conf"], b.Conf)
		series["rel_acc"] = append(series["rel_acc"], b.Acc)
		series["rel_count"] = append(series["rel_count"], float64(b.Count))
	}
	scatter(series, res, items)

	summary := res.Metrics.Map()
	summary["best_epoch"] = float64(res.Curves.BestEpoch)
	summary["n_valid"] = float64(res.Split.NValid)
	return snapshot.Run{Name: name, Kind: "train-rm", Seed: c.Seed, Config: cfg, Series: series, Summary: summary,
		Notes: append([]string(nil), d.Notes...)}
}

// diagnosticsConfig is the diagnostics of a run's config (see TrainingRun).
func diagnosticsConfig(d Diagnostics) map[string]any {
	var bins []any
	for _, b := range d.Reliability {
		bins = append(bins, map[string]any{"lo": b.Lo, "hi": b.Hi, "count": b.Count, "conf": b.Conf, "acc": b.Acc})
	}
	var dis []any
	for _, x := range d.Disagreements {
		dis = append(dis, map[string]any{"item": x.Item, "prompt": x.Prompt, "chosen": x.Winner, "rejected": x.Loser,
			"chosen_text": x.WinnerText, "rejected_text": x.LoserText, "rater": x.Rater, "p_chosen": x.PWinner, "judgment": x.Source})
	}
	feats := func(fs []Feature) []any {
		var out []any
		for _, f := range fs {
			out = append(out, map[string]any{"ngram": f.Name, "weight": f.Weight, "count": f.Count})
		}
		return out
	}
	diag := map[string]any{}
	for k, v := range map[string][]any{"reliability": bins, "disagreements": dis,
		"top_positive": feats(d.TopPositive), "top_negative": feats(d.TopNegative)} {
		if len(v) > 0 {
			diag[k] = v
		}
	}
	return diag
}

// scatter adds the reward-against-length (and gold) points of TrainingRun.
func scatter(series map[string][]float64, res *Result, items []feedback.Item) {
	held := map[string]bool{}
	for _, id := range res.Split.HeldItems {
		held[id] = true
	}
	var words, rew, gold []float64
	allGold := true
	for i := range items {
		it := &items[i]
		if len(held) > 0 && !held[it.ID] {
			continue
		}
		for _, r := range it.Responses {
			words = append(words, float64(Words(r.Text)))
			rew = append(rew, res.Model.Score(it, r.Text))
			g := math.NaN()
			if r.Gold != nil {
				g = *r.Gold
			} else {
				allGold = false
			}
			gold = append(gold, g)
		}
		if len(words) >= scatterPoints {
			break
		}
	}
	series["scatter_words"], series["scatter_reward"] = words, rew
	if allGold && len(gold) > 0 {
		series["scatter_gold"] = gold
	}
}
