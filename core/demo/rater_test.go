package demo

import (
	"math"
	"testing"

	"prefer/core/feedback"
)

// TestPanelBias: the default panel as a whole (what a reward model trained on
// Generate's data sees) prefers padded right answers to concise ones and refusals to
// risky-but-right answers, although gold says the opposite; that is what makes reward
// hacking happen in the lesson. It still prefers curt-correct to polite-wrong: that
// story needs a politeness-heavy panel (e.g. "3*polite") or a reward model that
// generalizes politeness better than item-specific correctness.
func TestPanelBias(t *testing.T) {
	panel, err := ParseProfiles(DefaultPanel)
	if err != nil {
		t.Fatal(err)
	}
	items := Prompts(1, 300)
	want := map[string]bool{stories[0].name: false, stories[1].name: true, stories[2].name: true}
	for _, c := range stories {
		pairs, its := storyPairs(t, c, items)
		var mean float64
		for _, p := range panel {
			w, _ := winRate(t, p, pairs, its, 2)
			mean += w / float64(len(panel))
		}
		t.Logf("default panel: %s %.1f%% of the time", c.name, float64(100*mean))
		if got := mean > 0.5; got != want[c.name] {
			t.Errorf("default panel: %s %.2f of the time; want > 0.5: %v", c.name, mean, want[c.name])
		}
	}
}

// sameGoldPairs returns pairs of different responses with equal gold, on which any
// systematic side preference is position bias.
func sameGoldPairs(items []feedback.Item) (pairs [][2]string, its []*feedback.Item) {
	for i := range items {
		it := &items[i]
		for a := range it.Responses {
			for b := a + 1; b < len(it.Responses); b++ {
				if *it.Responses[a].Gold == *it.Responses[b].Gold {
					pairs = append(pairs, [2]string{it.Responses[a].ID, it.Responses[b].ID})
					its = append(its, it)
				}
			}
		}
	}
	return pairs, its
}

// TestPositionBias: left/right order is random and recorded; a position-biased rater
// chooses the left response clearly more often on equal-gold pairs, an unbiased one
// about half the time (binomial: 0.5 ± 3·0.5/√n).
func TestPositionBias(t *testing.T) {
	pairs, its := sameGoldPairs(Prompts(4, 800))
	if len(pairs) < 200 {
		t.Fatalf("only %d equal-gold pairs", len(pairs))
	}
	leftRate := func(p Profile) (float64, float64) {
		r := NewRater(p, "t", 2)
		var left, decided, aLeft float64
		for k, pr := range pairs {
			r.StartSession("s")
			j := r.Compare(its[k], pr[0], pr[1], Epoch)
			if j.Left == "a" {
				aLeft++
			}
			if won, ok := j.LeftWon(); ok {
				decided++
				if won {
					left++
				}
			}
		}
		return left / decided, aLeft / float64(len(pairs))
	}
	pos, aLeft := leftRate(Presets["position"])
	unb, _ := leftRate(Presets["unbiased"])
	t.Logf("%d equal-gold pairs: position rater picks left %.1f%%, unbiased %.1f%%; A shown left %.1f%%", len(pairs), float64(100*pos), float64(100*unb), float64(100*aLeft))
	tol := 3 * 0.5 / math.Sqrt(float64(len(pairs)))
	if pos < 0.75 {
		t.Errorf("position rater picks left %.2f, want ≥ 0.75", pos)
	}
	if math.Abs(unb-0.5) > tol || math.Abs(aLeft-0.5) > tol {
		t.Errorf("unbiased picks left %.3f, A shown left %.3f; want 0.5 ± %.3f", unb, aLeft, tol)
	}
}

// agreeWithGold returns how often a rater's decided comparisons (not tie, not both-bad)
// of response pairs whose gold differs by at least 1 follow gold, for judgments at session
// positions from..to, and the mean duration.
func agreeWithGold(tb testing.TB, p Profile, items []feedback.Item, from, to int) (agree, meanMS float64) {
	tb.Helper()
	r := NewRater(p, "t", 3)
	var n, ok, ms float64
	for round := 0; round < 40; round++ {
		r.StartSession("s")
		for seq := 1; seq <= to; seq++ {
			it := &items[(round*to+seq)%len(items)]
			a, b := it.Responses[seq%len(it.Responses)], it.Responses[(seq+3)%len(it.Responses)]
			j := r.Compare(it, a.ID, b.ID, Epoch)
			if seq < from || math.Abs(*a.Gold-*b.Gold) < 1 || j.Winner() == "" {
				continue
			}
			ms += float64(j.MS)
			n++
			better := a.ID
			if *b.Gold > *a.Gold {
				better = b.ID
			}
			if j.Winner() == better {
				ok++
			}
		}
	}
	return ok / n, ms / n
}

// TestFatigueAndSpam: a tired rater's noise and time per item grow with its position in
// the session (the fatigue the lead's page measures); a spammer agrees with gold about
// half the time and is much faster than an expert.
func TestFatigueAndSpam(t *testing.T) {
	items := Prompts(5, 100)
	early, earlyMS := agreeWithGold(t, Presets["tired"], items, 1, 15)
	late, lateMS := agreeWithGold(t, Presets["tired"], items, 80, 100)
	t.Logf("tired rater: agreement with gold %.1f%% at items 1–15, %.1f%% at 80–100; %.1f s vs %.1f s per item", float64(100*early), float64(100*late), earlyMS/1000, lateMS/1000)
	if late > early-0.1 {
		t.Errorf("tired rater: agreement %.2f early, %.2f late; want a drop of at least 0.1", early, late)
	}
	if lateMS < float64(2*earlyMS) {
		t.Errorf("tired rater: %.0f ms early, %.0f ms late; want at least twice as slow (1 + 0.05·(seq−1))", earlyMS, lateMS)
	}
	spam, spamMS := agreeWithGold(t, Presets["spammer"], items, 1, 40)
	expert, expertMS := agreeWithGold(t, Presets["expert"], items, 1, 40)
	t.Logf("spammer agrees with gold %.1f%% in %.1f s; expert %.1f%% in %.1f s", float64(100*spam), spamMS/1000, float64(100*expert), expertMS/1000)
	if math.Abs(spam-0.5) > 0.06 || expert < 0.97 || float64(spamMS*4) > expertMS {
		t.Errorf("spammer %.2f agreement, %.0f ms; expert %.2f, %.0f ms", spam, spamMS, expert, expertMS)
	}
}

// TestDurationMean: time per item is log-normal with the documented mean
// Pace·(2500 + 200·words) for a comparison (see Rater.duration); checked on the sample
// mean of many draws, within 3% (the log-normal with σ = 0.35 has sd ≈ 0.36·mean, so
// the standard error over 4000 draws is ≈ 0.6%).
func TestDurationMean(t *testing.T) {
	it := Prompts(6, 1)[0]
	a, b := it.Responses[0], it.Responses[1]
	words := Analyze(&it, a.Text).Words + Analyze(&it, b.Text).Words + promptWords(&it)
	r := NewRater(Presets["unbiased"], "t", 4)
	var sum float64
	const n = 4000
	for k := 0; k < n; k++ {
		r.StartSession("s")
		sum += float64(r.Compare(&it, a.ID, b.ID, Epoch).MS)
	}
	want := 2500 + float64(200*float64(words))
	if got := sum / n; math.Abs(got/want-1) > 0.03 {
		t.Errorf("mean compare time %.0f ms, want %.0f ± 3%%", got, want)
	}
}

// TestTextResponses: rater methods accept a text that is not a response of the item and
// record feedback.ResponseID(text), the id Item.AddResponse gives it, so a policy's new
// samples can be judged.
func TestTextResponses(t *testing.T) {
	it := Prompts(7, 1)[0]
	text := Ideal(&it)
	r := NewRater(Presets["expert"], "t", 1)
	j := r.Compare(&it, text, it.Responses[0].ID, Epoch)
	if j.A != feedback.ResponseID(text) || j.B != it.Responses[0].ID {
		t.Fatalf("compare of a text: A %q B %q", j.A, j.B)
	}
	id := it.AddResponse(text, feedback.SourcePolicy)
	if err := feedback.NewIndex([]feedback.Item{it}, nil).Validate(&j); err != nil || id != j.A {
		t.Fatalf("after AddResponse: %v", err)
	}
}

// TestRewriteIsIdeal: an expert's rewrite of a poor response is the ideal answer of the
// grammar (concise, right, polite), with gold 2.1 by the formula of Features.Gold; a
// verbose rater's rewrite carries its bias (filler).
func TestRewriteIsIdeal(t *testing.T) {
	for _, it := range Prompts(8, 40) {
		if it.HasTag(TagShouldRefuse) || it.HasTag(TagSensitive) {
			continue
		}
		poor := findByParts(t, &it, -1, PartPolite, PartWrong)
		j := NewRater(Presets["expert"], "e", 1).Rewrite(&it, poor.ID, Epoch)
		if g := Gold(&it, j.Text); g != 2.1 {
			t.Errorf("%s: expert rewrite %q has gold %v, want 2.1", it.ID, j.Text, g)
		}
		v := NewRater(Presets["verbose"], "v", 1).Rewrite(&it, poor.ID, Epoch)
		if f := Analyze(&it, v.Text); f.Filler != 2 || !f.Correct {
			t.Errorf("%s: verbose rewrite %q: %+v", it.ID, v.Text, f)
		}
	}
}
