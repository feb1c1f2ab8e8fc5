package work

import (
	"testing"

	"prefer/app/jobs"
	"prefer/core/agree"
	"prefer/core/ask"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// TestJudgeJob: the built-in length-biased judge labels the simulated raters' pairs
// in both orders, people's judgments stay, and the audit catches its bias.
func TestJudgeJob(t *testing.T) {
	_, state := run(t, nil, jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: 7, Items: 40}})
	before, _ := snapshot.Unmarshal(state)
	res, out := run(t, state, jobs.Request{Kind: jobs.KindJudge, Judge: &jobs.JudgeParams{Judge: "judge-longer"}})
	s, err := snapshot.Unmarshal(out)
	if err != nil {
		t.Fatal(err)
	}
	pairs := len(ask.HumanPairs(before.Items, before.Raters, before.Judgments))
	if int(res.Summary["pairs"]) != pairs || int(res.Summary["judgments"]) != 2*pairs || len(s.Judgments) != len(before.Judgments)+2*pairs {
		t.Fatalf("summary %v for %d pairs; %d judgments, %d before", res.Summary, pairs, len(s.Judgments), len(before.Judgments))
	}
	audits := agree.AuditAI(s.Items, s.Raters, s.Judgments)
	if len(audits) != 1 || audits[0].Rater != "ai-judge-longer" || !(audits[0].LongerShare > audits[0].HumanLongerShare) || !(float64(audits[0].LongerP) < 0.01) {
		t.Fatalf("audit %+v", audits)
	}
	if _, err := Run(&jobs.Request{Kind: jobs.KindJudge, Snapshot: state, Judge: &jobs.JudgeParams{Judge: "gpt"}}); err == nil {
		t.Error("an unknown judge was accepted")
	}
}

// TestAddAnswersJob records generated answers into the state's items.
func TestAddAnswersJob(t *testing.T) {
	_, state := run(t, nil, jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: 7, Items: 5}})
	s, _ := snapshot.Unmarshal(state)
	src := ask.Source{Endpoint: "localhost:8080", Model: "ref-lm", API: "chat", Temperature: 1, MaxTokens: 64}
	add := &snapshot.Snapshot{}
	for i, it := range s.Items[:2] {
		n := feedback.Item{ID: it.ID}
		ask.Record(&n, "A generated answer.", src.Origin(0, int64(i), true, "stop"))
		ask.Record(&n, "Another one.", src.Origin(1, int64(i+10), true, "length"))
		add.Items = append(add.Items, n)
	}
	data, _ := snapshot.Marshal(add)
	res, out := run(t, state, jobs.Request{Kind: jobs.KindAddAnswers, AddAnswers: &jobs.AddAnswersParams{Data: data}})
	got, _ := snapshot.Unmarshal(out)
	if res.Summary["answers"] != 4 || res.Summary["items"] != 2 {
		t.Errorf("summary %v", res.Summary)
	}
	for i := range 2 {
		if len(got.Items[i].Responses) != len(s.Items[i].Responses)+2 {
			t.Errorf("item %s: %d responses, had %d", got.Items[i].ID, len(got.Items[i].Responses), len(s.Items[i].Responses))
		}
		if len(ask.Missing(got.Items[i:i+1], src, 2, 0)) != 0 {
			t.Errorf("item %s: slots still missing after the answers were added", got.Items[i].ID)
		}
	}
	bad := &snapshot.Snapshot{Items: []feedback.Item{{ID: "not-there"}}}
	data, _ = snapshot.Marshal(bad)
	if _, err := Run(&jobs.Request{Kind: jobs.KindAddAnswers, Snapshot: state, AddAnswers: &jobs.AddAnswersParams{Data: data}}); err == nil {
		t.Error("answers for an unknown item were accepted")
	}
}
