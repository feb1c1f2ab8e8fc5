package reward

import (
	"fmt"
	"math"
	"testing"

	"prefer/core/feedback"
)

// citations is the BradleyTerry2 `citations` table (Stigler 1994; Agresti 2002 p. 448):
// rows are the cited journal (the winner), columns the citing journal.
var citationsJournals = []string{"Biometrika", "Comm Statist", "JASA", "JRSS-B"}
var citationsTable = [4][4]int{
	{714, 730, 498, 221},
	{33, 425, 68, 17},
	{320, 813, 1072, 142},
	{284, 276, 325, 188},
}

// citationsData returns the table as one item with a response per journal and one
// pair per citation (diagonal ignored).
func citationsData(tb testing.TB) ([]feedback.Item, []feedback.Pair) {
	tb.Helper()
	it := feedback.Item{ID: "citations", Prompt: "Which journal is cited?"}
	for _, j := range citationsJournals {
		it.Responses = append(it.Responses, feedback.Response{ID: feedback.ResponseID(j), Text: j})
	}
	var pairs []feedback.Pair
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if i == j {
				continue
			}
			for k := 0; k < citationsTable[i][j]; k++ {
				pairs = append(pairs, feedback.Pair{Item: it.ID, Winner: it.Responses[i].ID, Loser: it.Responses[j].ID, Source: fmt.Sprintf("c%d-%d-%d", i, j, k)})
			}
		}
	}
	return []feedback.Item{it}, pairs
}

func TestTabularCitations(t *testing.T) {
	items, pairs := citationsData(t)
	lb, err := FitTabular(items, pairs, nil, TabularConfig{Reference: "Biometrika"})
	if err != nil {
		t.Fatal(err)
	}
	// BradleyTerry2 `citations` with λ_Biometrika = 0 (Agresti 2002 p. 448;
	// rlhf.md): estimates, standard errors, residual deviance 4.293 on 3 df.
	want := map[string][2]float64{
		"Biometrika":   {0, 0},
		"Comm Statist": {-2.9491, 0.1025},
		"JASA":         {-0.4796, 0.0606},
		"JRSS-B":       {0.2690, 0.0708},
	}
	for _, s := range lb.Items[0].Responses {
		w := want[s.Text]
		if math.Abs(s.Score-w[0]) > 5e-5 || math.Abs(s.SE-w[1]) > 5e-5 {
			t.Errorf("%s: score %.5f se %.5f, want %.4f se %.4f", s.Text, s.Score, s.SE, w[0], w[1])
		}
	}
	if math.Abs(lb.Deviance-4.293) > 5e-4 || lb.DF != 3 {
		t.Errorf("deviance %.4f on %d df, want 4.293 on 3", lb.Deviance, lb.DF)
	}
	if lb.Ridge != 0 {
		t.Errorf("ridge %v, want 0 (the MLE exists)", lb.Ridge)
	}
}

// TestTabularPriorConfined: one separated item does not put the prior on the others
// (it once did: every score shrank 1–2%, every SE became ~1.5, the deviance's degrees
// of freedom dropped by one per item). The citations item, fitted beside an item
// whose response "w" never loses, keeps exactly its maximum-likelihood scores and
// standard errors (Agresti 2002 p. 448, as in TestTabularCitations) and its
// degrees of freedom; only the separated item is under the prior.
func TestTabularPriorConfined(t *testing.T) {
	items, pairs := citationsData(t)
	alone, err := FitTabular(items, pairs, nil, TabularConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sepItem := feedback.Item{ID: "sep", Prompt: "p", Responses: []feedback.Response{{ID: "w", Text: "w"}, {ID: "l", Text: "l"}}}
	both := append(append([]feedback.Pair(nil), pairs...), feedback.Pair{Item: "sep", Winner: "w", Loser: "l", Source: "s1"})
	lb, err := FitTabular(append(items, sepItem), both, nil, TabularConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if lb.Ridge != DefaultRidge || len(lb.PriorItems) != 1 || lb.PriorItems[0] != "sep" || len(lb.Notes) == 0 {
		t.Fatalf("ridge %v, prior items %v, notes %v", lb.Ridge, lb.PriorItems, lb.Notes)
	}
	for k, s := range lb.Items[0].Responses {
		a := alone.Items[0].Responses[k]
		if s.ID != a.ID || math.Abs(s.Score-a.Score) > 1e-9 || math.Abs(s.SE-a.SE) > 1e-9 {
			t.Errorf("%s: score %.6f (se %.6f) beside a separated item, %.6f (se %.6f) alone", s.ID, s.Score, s.SE, a.Score, a.SE)
		}
	}
	// The separated item adds one cell (one outcome − 1 = 1 df) and two free
	// scores: one degree of freedom fewer than alone, not one per item more.
	if lb.DF != alone.DF-1 {
		t.Errorf("df %d, alone %d: want alone − 1", lb.DF, alone.DF)
	}
	sep := lb.Items[1].Responses
	if !(sep[0].Score > 0 && sep[1].Score < 0) || math.Abs(sep[0].Score+sep[1].Score) > 1e-9 {
		t.Errorf("separated item under a symmetric prior: %+v", sep)
	}
}

// TestDecidedLogLoss: the held-out log-loss of decided comparisons is read against
// ln 2, while the tie-aware one counts each tie at −log P(tie), large when the fitted
// tie threshold is small (about 3.9 nats a tie). Known values: with scores
// d = r_x − r_y and threshold η, a decided x ≻ y costs −log[σ(d−η)/(σ(d−η)+σ(−d−η))]
// and a tie −log[1 − σ(d−η) − σ(−d−η)].
func TestDecidedLogLoss(t *testing.T) {
	it := feedback.Item{ID: "q", Prompt: "p", Responses: []feedback.Response{{ID: "x", Text: "x"}, {ID: "y", Text: "y"}}}
	cmp := func(id string, c feedback.Choice) feedback.Judgment {
		return feedback.Judgment{ID: id, Kind: feedback.KindCompare, Item: "q", Rater: "u", A: "x", B: "y", Choice: c}
	}
	var train []feedback.Judgment
	for k := 0; k < 60; k++ {
		c := feedback.ChoiceA
		switch {
		case k%4 == 3:
			c = feedback.ChoiceB
		case k == 0:
			c = feedback.ChoiceTie // one tie in 60: a small η
		}
		train = append(train, cmp(fmt.Sprint("t", k), c))
	}
	res, err := Train([]feedback.Item{it}, train, Config{Family: FamilyTabular, Holdout: -1})
	if err != nil {
		t.Fatal(err)
	}
	held := []feedback.Judgment{cmp("h1", feedback.ChoiceA), cmp("h2", feedback.ChoiceA), cmp("h3", feedback.ChoiceB), cmp("h4", feedback.ChoiceTie)}
	m, _ := Evaluate(res.Model, []feedback.Item{it}, held, 0)
	d := res.Model.Score(&it, "x") - res.Model.Score(&it, "y")
	eta := modelEta(res.Model)
	pd := decidedProb(d, eta)
	want := -(float64(2*math.Log(pd)) + math.Log(1-pd)) / 3
	if math.Abs(m.HeldDecidedLogLoss-want) > 1e-9 {
		t.Errorf("decided log-loss %.9f, want %.9f (d %.4f, η %.4f)", m.HeldDecidedLogLoss, want, d, eta)
	}
	if !(m.HeldDecidedLogLoss < math.Ln2) || !(m.HeldLogLoss > 1.5) {
		t.Errorf("decided log-loss %.3f (want < ln 2), tie-aware %.3f (want > 1.5: the tie costs −log P(tie) = %.2f)",
			m.HeldDecidedLogLoss, m.HeldLogLoss, -math.Log(TieProb(d, eta)))
	}
	if _, ok := m.All()["held_decided_logloss"]; !ok {
		t.Error("All lacks held_decided_logloss")
	}
}
