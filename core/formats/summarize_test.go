package formats

import (
	"reflect"
	"strings"
	"testing"

	"prefer/core/feedback"
)

func TestConfidenceStrength(t *testing.T) {
	// The documented mapping: 1–3 → 1, 4–6 → 2, 7–9 → 3.
	want := []int{0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0}
	for c := 0; c <= 10; c++ {
		got, ok := ConfidenceStrength(c)
		if got != want[c] || ok != (c >= 1 && c <= 9) {
			t.Errorf("confidence %d → %d %v, want %d", c, got, ok, want[c])
		}
	}
}

func TestSummarizeComparisons(t *testing.T) {
	d, rep := mustRead(t, "summarize", readFixture(t, "summarize-comparisons.jsonl"))
	if rep.Records != 3 || len(d.Items) != 2 || len(d.Judgments) != 3 {
		t.Fatalf("report %+v, items %d", rep, len(d.Items))
	}
	post := "I adopted a cat last week. She hides under the bed all day and only eats at night. Is this normal, and how can I help her settle in?"
	it := d.Items[0]
	// The prompt follows the TL;DR task format of openai/summarize-from-feedback
	// (utils/experiment_helpers.py, tldr_task): "SUBREDDIT: r/{subreddit}\n\nTITLE:
	// {title}\n\nPOST: {post}\n\nTL;DR:".
	if it.ID != "t3_demo1" || it.Prompt != "SUBREDDIT: r/cats\n\nTITLE: New cat hides all day\n\nPOST: "+post+"\n\nTL;DR:" ||
		!reflect.DeepEqual(it.Tags, []string{"split:train", "subreddit:cats"}) {
		t.Fatalf("item %+v", it)
	}
	var resp []string
	for _, r := range it.Responses {
		resp = append(resp, r.Text+"|"+string(r.Source)+"|"+strings.Join(r.Parts, ","))
	}
	wantResp := []string{
		" New cat hides and eats only at night; is it normal and how to help?|imported|policy:sup4_ppo_rm3_kl10",
		" I got a cat.|imported|policy:ref",
		" Cat hides under bed, eats at night.|imported|policy:sup4",
	}
	if !reflect.DeepEqual(resp, wantResp) {
		t.Fatalf("responses %q", resp)
	}
	id := feedback.ResponseID
	j0, j1 := d.Judgments[0], d.Judgments[1]
	want0 := feedback.Judgment{ID: j0.ID, Kind: feedback.KindCompare, Item: "t3_demo1", Rater: "w1", Session: "batch9",
		A: id(wantRespText(wantResp[0])), B: id(" I got a cat."), Choice: feedback.ChoiceA, Strength: 3, Note: "a: Asks whether hiding is normal.", Pos: 1}
	if !reflect.DeepEqual(j0, want0) {
		t.Fatalf("judgment 0:\n got %+v\nwant %+v", j0, want0)
	}
	if j1.Choice != feedback.ChoiceB || j1.Strength != 1 || j1.Rater != "w2" || j1.Note != "" {
		t.Fatalf("judgment 1: %+v", j1)
	}
	it2 := d.Items[1]
	if it2.Prompt != "SUBREDDIT: r/legaladvice\n\nPOST: My landlord wants to raise the rent by 30% with two weeks' notice. Can he do that?\n\nTL;DR:" ||
		!reflect.DeepEqual(it2.Tags, []string{"split:valid1", "subreddit:legaladvice"}) || d.Judgments[2].Strength != 0 {
		t.Fatalf("item 2 %+v, judgment %+v", it2, d.Judgments[2])
	}
	if got := []string{d.Raters[0].ID, d.Raters[1].ID}; !reflect.DeepEqual(got, []string{"w1", "w2"}) {
		t.Fatalf("raters %+v", d.Raters)
	}
}

func wantRespText(s string) string { return s[:strings.Index(s, "|")] }

func TestSummarizeAxis(t *testing.T) {
	d, _ := mustRead(t, "summarize", readFixture(t, "summarize-axis.jsonl"))
	it := d.Items[0]
	// The CNN/DM query format of openai/summarize-from-feedback (cnndm_task).
	if it.ID != "cnn_demo1" || it.Prompt != "Article:\nThe city library will open until 10pm on weekdays from next month, the council said on Monday.\n\nTL;DR:\n" ||
		!reflect.DeepEqual(it.Tags, []string{"site:cnn", "split:test"}) {
		t.Fatalf("item %+v", it)
	}
	var got []string
	for _, j := range d.Judgments {
		if j.Kind != feedback.KindRate || j.Rater != "w3" || j.Session != "cnndm1" || j.Note != "Accurate but drops the start date." {
			t.Fatalf("judgment %+v", j)
		}
		got = append(got, j.Axis+"="+string(rune('0'+j.Score)))
	}
	if want := []string{"accuracy=7", "coherence=6", "coverage=4", "overall=5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ratings %v", got)
	}
}

func TestSummarizeErrorsAndIgnored(t *testing.T) {
	base := `{"info": {"id": "t", "post": "p"}, "summaries": [{"text": " a", "policy": "x"}, {"text": " b", "policy": "y"}]`
	cases := []struct{ src, want string }{
		{base + `, "choice": 2}`, `"choice" must be 0 (the first summary) or 1 (the second)`},
		{base + `}`, `"choice" must be 0`},
		{base + `, "choice": 1, "extra": {"confidence": 12}}`, `"extra".confidence must be 1..9, not 12`},
		{`{"summaries": [], "choice": 0}`, `"info" is missing`},
		{`{"info": {"id": "t"}, "choice": 0}`, `"info" needs "post" (TL;DR) or "article" (CNN/DM)`},
		{`{"info": {"id": "t", "post": "p"}, "summaries": [{"text": "a"}], "choice": 0}`, `exactly two summaries, not 1`},
		{`{"info": {"id": "t", "post": "p"}, "summaries": [{"text": "a"}, {"policy": "x"}], "choice": 0}`, `each summary needs "text"`},
		{`{"info": {"id": "t", "post": "p"}, "summary": {"text": "a", "axes": {"overall": 9}}}`, `"summary".axes.overall must be 1..7, not 9`},
		{`{"info": {"id": "t", "post": "p"}, "summary": {"text": "a", "axes": {}}}`, `must rate at least one axis`},
	}
	for _, c := range cases {
		err := readErr(t, "summarize", c.src)
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant …%s…", c.src, err, c.want)
		}
	}
	// Two identical summaries: ignored and counted, not an error.
	d, rep := mustRead(t, "summarize", `{"info": {"id": "t", "post": "p"}, "summaries": [{"text": "a"}, {"text": "a"}], "choice": 0}`)
	if rep.Ignored != 1 || len(d.Judgments) != 0 {
		t.Fatalf("identical summaries: %+v", rep)
	}
}
