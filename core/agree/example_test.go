package agree_test

import (
	"fmt"
	"math"

	"prefer/core/agree"
	"prefer/core/feedback"
)

func ExampleAlpha() {
	m := math.NaN() // missing
	// Krippendorff (2011) p. 3: 12 units (rows) coded by 4 observers (columns).
	data := [][]float64{
		{1, 1, m, 1}, {2, 2, 3, 2}, {3, 3, 3, 3}, {3, 3, 3, 3}, {2, 2, 2, 2}, {1, 2, 3, 4},
		{4, 4, 4, 4}, {1, 1, 2, 1}, {2, 2, 2, 2}, {m, 5, 5, 5}, {m, m, 1, 1}, {m, 3, m, m},
	}
	for _, metric := range agree.Metrics {
		fmt.Printf("%-8s α = %.3f\n", metric, agree.Alpha(data, metric).Alpha)
	}
	// Output:
	// nominal  α = 0.743
	// ordinal  α = 0.815
	// interval α = 0.849
	// ratio    α = 0.797
}

func ExampleCohenKappa() {
	k := agree.CohenKappa([][]float64{{20, 5}, {10, 15}})
	fmt.Printf("κ = %.2f, SE = %.4f, p = %.4f\n", k.Kappa, k.SE, k.P)
	// Output:
	// κ = 0.40, SE = 0.1270, p = 0.0039
}

func ExampleAnalyze() {
	items := []feedback.Item{{ID: "q1", Responses: []feedback.Response{{ID: "x", Text: "Paris."}, {ID: "y", Text: "Lyon, I think."}}}}
	js := []feedback.Judgment{
		{ID: "1", Kind: feedback.KindCompare, Item: "q1", Rater: "ann", A: "x", B: "y", Choice: feedback.ChoiceA, Left: "a"},
		// Bob sees the pair the other way round and agrees with Ann.
		{ID: "2", Kind: feedback.KindCompare, Item: "q1", Rater: "bob", A: "y", B: "x", Choice: feedback.ChoiceB, Left: "a"},
		{ID: "3", Kind: feedback.KindCompare, Item: "q1", Rater: "cat", A: "x", B: "y", Choice: feedback.ChoiceTie, Left: "b"},
	}
	rep := agree.Analyze(items, nil, js, agree.Options{})
	k := rep.Kinds[0]
	fmt.Println(k.Kind, k.Labels, "units:", k.Units)
	fmt.Println("percent agreement:", k.Agreement.Percent)
	fmt.Println("left wins:", rep.Position.LeftWins, "of", rep.Position.Decided)
	// Output:
	// compare [first second tie both-bad] units: 1
	// percent agreement: 0.3333
	// left wins: 1 of 2
}
