package formats

import (
	"reflect"
	"strings"
	"testing"

	"prefer/core/feedback"
)

func TestLabelStudioFixture(t *testing.T) {
	d, rep := mustRead(t, "labelstudio", readFixture(t, "labelstudio.json"))
	if rep.Records != 2 || rep.Ignored != 1 || len(d.Items) != 2 || len(d.Judgments) != 2 {
		t.Fatalf("report %+v, items %d, judgments %d", rep, len(d.Items), len(d.Judgments))
	}
	id := feedback.ResponseID
	a1, a2 := "Plants turn light, water and CO2 into sugar and oxygen.", "Photosynthesis is a process."
	// Times: 2024-05-01T00:00:00Z is 1714521600 s (Unix epoch arithmetic), plus
	// 10:20:30.123 and 10:25:00.
	want := []feedback.Judgment{
		{ID: d.Judgments[0].ID, Kind: feedback.KindCompare, Item: ItemID("Explain photosynthesis in one sentence."), Rater: "1",
			Time: 1714558830123, MS: 12345, Reasons: []string{"too generic"}, A: id(a1), B: id(a2), Choice: feedback.ChoiceA, Left: "a", Pos: 1},
		{ID: d.Judgments[1].ID, Kind: feedback.KindCompare, Item: ItemID("Explain photosynthesis in one sentence."), Rater: "2",
			Time: 1714559100000, MS: 3500, Note: "The second is shorter.", A: id(a1), B: id(a2), Choice: feedback.ChoiceB, Left: "a", Pos: 2},
	}
	if !reflect.DeepEqual(d.Judgments, want) {
		t.Fatalf("judgments:\n got %+v\nwant %+v", d.Judgments, want)
	}
	wantR := []feedback.Rater{{ID: "1", Kind: feedback.RaterHuman}, {ID: "2", Name: "bo@example.com", Kind: feedback.RaterHuman}}
	if !reflect.DeepEqual(d.Raters, wantR) {
		t.Fatalf("raters %+v", d.Raters)
	}
	// A task without annotations still gives its item, ready to be labeled.
	if it := d.Items[1]; it.Prompt != "Give a synonym for happy." || len(it.Responses) != 2 || it.Responses[0].Text != "Joyful." {
		t.Fatalf("unlabeled task: %+v", it)
	}
	if !strings.HasPrefix(d.Judgments[0].ID, "ls-") || d.Judgments[0].ID == d.Judgments[1].ID {
		t.Fatalf("ids %s %s", d.Judgments[0].ID, d.Judgments[1].ID)
	}
	// The JSON-lines form of the same tasks gives the same dataset.
	lines := `{"id": 1, "data": {"prompt": "Explain photosynthesis in one sentence.", "answer1": "Plants turn light, water and CO2 into sugar and oxygen.", "answer2": "Photosynthesis is a process."}, "annotations": [{"id": 11, "completed_by": 1, "result": [{"type": "pairwise", "value": {"selected": "left"}}, {"type": "choices", "value": {"choices": ["too generic"]}}], "lead_time": 12.345, "created_at": "2024-05-01T10:20:30.123456Z"}]}`
	dl, _ := mustRead(t, "labelstudio", lines)
	if !reflect.DeepEqual(dl.Judgments[0], d.Judgments[0]) {
		t.Fatalf("JSON lines form differs:\n%+v\n%+v", dl.Judgments[0], d.Judgments[0])
	}
}

func TestLabelStudioErrors(t *testing.T) {
	task := func(ann string) string {
		return `[{"id": 1, "data": {"prompt": "p", "answer1": "x", "answer2": "y"}, "annotations": [` + ann + `]}]`
	}
	cases := []struct{ src, want string }{
		{`[{"id": 1, "data": {"prompt": "p", "answer1": "x"}}]`, `a task needs "data" with "prompt", "answer1" and "answer2"`},
		{`[{"id": 1, "data": {"prompt": "p", "answer1": "x", "answer2": "x"}}]`, `"answer1" and "answer2" are the same text`},
		{task(`{"result": [{"type": "pairwise", "value": {"selected": "up"}}]}`), `annotation 1: pairwise "selected" must be "left" (answer1) or "right" (answer2), not "up"`},
		{task(`{"result": [{"type": "rating", "value": {"rating": 3}}]}`), `annotation 1 has no pairwise result`},
		{task(`{"result": [{"type": "pairwise", "value": {"selected": "left"}}], "lead_time": -2}`), `"lead_time" -2 is not a number of seconds`},
		{task(`{"result": [{"type": "pairwise", "value": {"selected": "left"}}], "created_at": "yesterday"}`), `"created_at" "yesterday" is not an RFC 3339 time`},
		{task(`{"result": [{"type": "pairwise", "value": {"selected": "left"}}], "completed_by": [1]}`), `"completed_by" must be a user id or a user object`},
	}
	for _, c := range cases {
		err := readErr(t, "labelstudio", c.src)
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "line 1: ") {
			t.Errorf("%s:\n got %v\nwant …%s…", c.src, err, c.want)
		}
	}
}
