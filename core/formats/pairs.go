package formats

import (
	"fmt"
	"math"
	"strings"

	"prefer/core/feedback"
)

// JoinSeparator is what the TRL and KTO exports put between a plain-text prompt and
// its completion when neither brings whitespace of its own.
//
// TRL's reward trainer concatenates prompt + chosen as they are
// (trl/trainer/reward_trainer.py: example["chosen"] = example["prompt"] +
// example["chosen"]), and TRL's convention is that the completion carries the
// separator: {"prompt": "The sky is", "chosen": " blue."} (docs "Dataset formats";
// extract_prompt moves the space to the completion). So the export writes
// JoinSeparator + response when the prompt ends in a non-space character (and is not
// a dialogue prompt ending in "\n\nAssistant:"), and the response starts with one;
// the importers take the separator off again, so Prefer's texts round-trip.
const JoinSeparator = " "

// needsJoin reports whether a completion after prompt takes the separator.
func needsJoin(prompt string) bool {
	if prompt == "" || strings.HasSuffix(prompt, hhMarker) {
		return false
	}
	return !isSpace(prompt[len(prompt)-1])
}

// withJoin returns the completion text the TRL exports write for response text.
func withJoin(prompt, text string) string {
	if needsJoin(prompt) && text != "" && !isSpace(text[0]) {
		return JoinSeparator + text
	}
	return text
}

// trimJoin undoes withJoin on an imported completion: after a prompt that needs the
// separator, one leading space followed by a non-space character is the separator,
// not part of the response.
func trimJoin(prompt, text string) string {
	if needsJoin(prompt) && len(text) > 1 && text[0] == ' ' && !isSpace(text[1]) {
		return text[1:]
	}
	return text
}

// StrengthMargin is the TRL reward margin the exports write for a comparison's
// strength: 1 (slightly better) → 1/3, 2 (clearly) → 2/3, 3 (much better) → 1;
// 0 (not given) → 0. These are the "small" margins of Llama 2's reward model
// (Touvron et al. 2023, §3.2.2: a margin m(r) in −log σ(r_c − r_r − m(r)) that
// grows with the rated gap; the same loss as TRL's RewardTrainer with a "margin"
// column).
func StrengthMargin(strength int) float64 { return float64(strength) / 3 }

// MarginStrength reads an imported "margin" back as a strength: round(3·margin)
// clamped to 1..3 for a positive margin, 0 (not given) for none or 0. A negative or
// non-finite margin is an error.
func MarginStrength(m *float64) (int, error) {
	if m == nil || *m == 0 {
		return 0, nil
	}
	if *m < 0 || math.IsNaN(*m) || math.IsInf(*m, 0) {
		return 0, fmt.Errorf("\"margin\" %v must be a number ≥ 0 (the reward margin of the pair)", *m)
	}
	return min(max(int(math.Round(float64(3**m))), 1), 3), nil
}

// exportPair is one preference pair of the pairwise exports: win ≻ lose on item.
type exportPair struct {
	item      *feedback.Item
	win, lose string
	strength  int // 0: not given
}

// preferencePairs calls fn with every preference pair the judgments of d state, in
// the judgments' export order (feedback.ExportOrder: the order of the input they
// were imported from, then the order they were made in Prefer):
//
//   - a decided comparison: winner ≻ loser, with its strength;
//   - a ranking of K responses, best first r1 ≻ r2 ≻ … ≻ rK: the C(K,2) pairs
//     (ri, rj), i < j, in the order (r1,r2), (r1,r3), …, (r1,rK), (r2,r3), …;
//   - a rewrite: the rewritten text ≻ the response it rewrote.
//
// Only the versions of judgments that stand are used (feedback.Current: revised and
// rejected ones are counted as skipped). Ties, both-bad comparisons and the other
// kinds (rate, flag, thumb, review) state no pair: they are counted in rep.Skipped
// ("tie", "both-bad", or the kind), except
// thumbs when thumb is not nil: it is called with each thumb's response text and
// whether it is up, in the same order.
func preferencePairs(d *Dataset, rep *ExportReport, fn func(p exportPair) error, thumb func(it *feedback.Item, text string, up bool) error) error {
	g, err := groupByItem(d, rep.Format)
	if err != nil {
		return err
	}
	g.skipped(rep)
	for _, k := range g.order {
		i := g.item[k]
		it := &d.Items[i]
		text := func(j *feedback.Judgment, id string) (string, error) {
			t, ok := g.texts[i][id]
			if !ok {
				return "", fmt.Errorf("export %s: judgment %q refers to response %q, which item %q does not have", rep.Format, j.ID, id, it.ID)
			}
			return t, nil
		}
		j := &g.js[k]
		switch j.Kind {
		case feedback.KindCompare:
			switch j.Choice {
			case feedback.ChoiceTie:
				rep.skip("tie")
				continue
			case feedback.ChoiceBothBad:
				rep.skip("both-bad")
				continue
			case feedback.ChoiceA, feedback.ChoiceB:
			default:
				return fmt.Errorf("export %s: judgment %q has choice %q", rep.Format, j.ID, j.Choice)
			}
			win, err := text(j, j.Winner())
			if err != nil {
				return err
			}
			lose, err := text(j, j.Loser())
			if err != nil {
				return err
			}
			if err := fn(exportPair{it, win, lose, j.Strength}); err != nil {
				return err
			}
		case feedback.KindRank:
			if !feedback.IsPermutation(j.Order, len(j.Shown)) {
				return fmt.Errorf("export %s: ranking %q has order %v for %d shown responses", rep.Format, j.ID, j.Order, len(j.Shown))
			}
			ranked := make([]string, len(j.Order))
			for r, o := range j.Order {
				if ranked[r], err = text(j, j.Shown[o]); err != nil {
					return err
				}
			}
			for a := 0; a < len(ranked); a++ {
				for b := a + 1; b < len(ranked); b++ {
					if err := fn(exportPair{it, ranked[a], ranked[b], 0}); err != nil {
						return err
					}
				}
			}
		case feedback.KindRewrite:
			orig, err := text(j, j.Response)
			if err != nil {
				return err
			}
			if j.Text == orig {
				rep.skip("rewrite")
				continue
			}
			if err := fn(exportPair{it, j.Text, orig, 0}); err != nil {
				return err
			}
		case feedback.KindThumb:
			if thumb == nil {
				rep.skip(string(j.Kind))
				continue
			}
			t, err := text(j, j.Response)
			if err != nil {
				return err
			}
			if err := thumb(it, t, j.Score > 0); err != nil {
				return err
			}
		default:
			rep.skip(string(j.Kind))
		}
	}
	return nil
}

// anyStrength reports whether a pair of d that the exports write carries a strength
// (then every row gets a "margin" column, 0 where none was given, as a dataset's
// columns are the same in every row).
func anyStrength(d *Dataset) bool {
	js := feedback.Current(d.Judgments)
	for k := range js {
		j := &js[k]
		if j.Kind == feedback.KindCompare && j.Strength > 0 && (j.Choice == feedback.ChoiceA || j.Choice == feedback.ChoiceB) {
			return true
		}
	}
	return false
}
