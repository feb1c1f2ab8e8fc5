package reward

import (
	"fmt"

	"prefer/core/feedback"
)

// FitTabular ranks the responses of an item from pairwise comparisons: here three
// answers, "B" beating "A" 7 times in 10 and "C" 8 times in 10, "C" beating "B" 6
// times in 10.
func ExampleFitTabular() {
	it := feedback.Item{ID: "q", Prompt: "Which is best?", Responses: []feedback.Response{{ID: "A", Text: "A"}, {ID: "B", Text: "B"}, {ID: "C", Text: "C"}}}
	var pairs []feedback.Pair
	add := func(w, l string, n int) {
		for i := 0; i < n; i++ {
			pairs = append(pairs, feedback.Pair{Item: "q", Winner: w, Loser: l})
		}
	}
	add("B", "A", 7)
	add("A", "B", 3)
	add("C", "A", 8)
	add("A", "C", 2)
	add("C", "B", 6)
	add("B", "C", 4)
	lb, err := FitTabular([]feedback.Item{it}, pairs, nil, TabularConfig{})
	if err != nil {
		panic(err)
	}
	for _, s := range lb.Items[0].Responses {
		fmt.Printf("%s %6.3f (se %.3f) %d-%d\n", s.ID, s.Score, s.SE, s.Wins, s.Losses)
	}
	fmt.Printf("deviance %.3f on %d df\n", lb.Deviance, lb.DF)
	// The scores match Hunter's (2004) MM algorithm run to convergence: λ_B = 0.8897,
	// λ_C = 1.3320 with λ_A = 0.
	//
	// Output:
	// C  1.332 (se 0.602) 14-6
	// B  0.890 (se 0.574) 11-9
	// A  0.000 (se 0.000) 5-15
	// deviance 0.012 on 1 df
}

// Train fits a linear reward model on hashed text features; the model then scores
// any response text.
func ExampleTrain() {
	ds := synthData(5)
	res, err := Train(ds.Items, ds.Judgments, Config{Family: FamilyLinear, Seed: 1})
	if err != nil {
		panic(err)
	}
	m := res.Model
	it := &ds.Items[0]
	fmt.Println(m.Family(), res.Split.By, res.Metrics.NHeld > 0)
	fmt.Println(m.Score(it, "good fine always") > m.Score(it, "bad wrong never"))
	// Output:
	// linear item true
	// true
}
