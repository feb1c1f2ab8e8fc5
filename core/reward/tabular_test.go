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
