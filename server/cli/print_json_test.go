package cli

import (
	"bytes"
	"math"
	"testing"

	"prefer/core/num"
)

// TestPrintJSONList: a report printed with its list streamed is byte for byte what
// printJSON prints — strings that need escaping (<, &, a quote, a newline, "null"
// and a key's own spelling inside a text), unknown figures, one and several
// elements, and no element (null, as an empty list printed before).
func TestPrintJSONList(t *testing.T) {
	items := []rankItem{
		{ID: "q1", Prompt: "a <b> & \"c\"\n  \"items\": null", Responses: []rankResponse{
			{ID: "r1", Text: "null", Score: 1.5, SE: num.Float(0.25), CILow: num.Float(-1), CIHigh: num.Float(2), Wins: 3, Ranked: true},
			{ID: "r2", Text: "é\t", SE: num.Float(math.NaN()), Losses: 3},
		}},
		{ID: "q2", Prompt: "two"},
		{ID: "q3", Prompt: "three", Responses: []rankResponse{{ID: "x", Reference: true}}},
	}
	for _, n := range []int{0, 1, 3} {
		rep := rankReport{InputID: "sha256-x", Items: items[:n:n], Notes: []string{"n"}, PriorItems: []string{}, Unranked: 1}
		if n == 0 {
			rep.Items = nil
		}
		var want, got bytes.Buffer
		if err := printJSON(&want, rep); err != nil {
			t.Fatal(err)
		}
		list := rep.Items
		rep.Items = nil
		if err := printJSONList(&got, rep, "items", list); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d items: streamed\n%s\nwant\n%s", n, got.String(), want.String())
		}
	}
}
