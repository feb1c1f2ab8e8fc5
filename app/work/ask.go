package work

import (
	"fmt"
	"time"

	"prefer/app/jobs"
	"prefer/core/agree"
	"prefer/core/ask"
	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/snapshot"
)

// judge is KindJudge: a built-in judge compares the pairs people compared, in both
// orders, under the default rubric, as rater "ai-JUDGE" (kind ai).
func judge(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	name := ""
	if req.Judge != nil {
		name = req.Judge.Judge
	}
	if name == "" {
		name = "judge-longer"
	}
	b, ok := ask.BuiltinJudge(name)
	if !ok {
		return nil, fmt.Errorf("no built-in judge %q: the built-in judges are judge-rubric, judge-longer and judge-first", name)
	}
	rater := ask.AIRaterID(name)
	for _, r := range s.Raters {
		if r.ID == rater && r.Kind != feedback.RaterAI {
			return nil, fmt.Errorf("rater %q of this state is not an AI rater: the judge will not write under its id", rater)
		}
	}
	pairs := ask.HumanPairs(s.Items, s.Raters, s.Judgments)
	if len(pairs) == 0 {
		return nil, fmt.Errorf("no pair to judge: the judge compares the pairs people compared; label or simulate some first")
	}
	report(jobs.Progress{Phase: "the " + name + " judge compares " + fmt.Sprint(len(pairs)) + " pairs in both orders", Step: 0, Total: 1})
	js := ask.JudgeWith(b, demo.ChecklistLines, ask.DefaultRubric, s.Items, pairs, rater, false, time.Now().UnixMilli())
	rt := feedback.Rater{ID: rater, Name: name + " (built-in judge)", Group: "ai", Kind: feedback.RaterAI, Profile: b.Description}
	d := &snapshot.Snapshot{Raters: []feedback.Rater{rt}, Judgments: js}
	jobs.Merge(s, d)
	// The run records the judge and its audit at the time it judged (the Quality
	// page recomputes the audit from the judgments as they stand).
	run := snapshot.Run{Name: "judge-" + rater, Kind: "judge", Config: map[string]any{
		"endpoint": "built-in", "model": name, "rubric": ask.DefaultRubric, "temperature": 0.0, "pairs": "human", "both_orders": true},
		Summary: map[string]float64{"pairs": float64(len(pairs)), "judgments": float64(len(js))}}
	for _, a := range agree.AuditAI(s.Items, s.Raters, s.Judgments) {
		if a.Rater != rater {
			continue
		}
		for k, v := range map[string]num.Float{"kappa": a.Kappa, "agreement": a.Agreement, "longer_share": a.LongerShare,
			"human_longer_share": a.HumanLongerShare, "longer_p": a.LongerP, "first_shown_share": a.FirstShown,
			"first_shown_p": a.FirstShownP, "order_consistency": a.Consistency} {
			if v.Valid() {
				run.Summary[k] = float64(v)
			}
		}
		run.Summary["shared_with_humans"] = float64(a.Shared)
		run.Summary["length_units"] = float64(a.LengthUnits)
	}
	d.Runs = []snapshot.Run{run}
	s.PutRun(run)
	res, err := finish(s, d)
	if err != nil {
		return nil, err
	}
	res.Summary = run.Summary
	return res, nil
}

// addAnswers is KindAddAnswers: the generated answers of Params.Data recorded into
// the state's items (one more origin for a text already there).
func addAnswers(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	s, err := req.State()
	if err != nil {
		return nil, err
	}
	if req.AddAnswers == nil {
		return nil, fmt.Errorf("no answers to add")
	}
	add, err := snapshot.Unmarshal(req.AddAnswers.Data)
	if err != nil {
		return nil, fmt.Errorf("decode the generated answers: %w", err)
	}
	at := make(map[string]int, len(s.Items))
	for i := range s.Items {
		at[s.Items[i].ID] = i
	}
	d := &snapshot.Snapshot{}
	answers := 0
	for _, it := range add.Items {
		i, ok := at[it.ID]
		if !ok {
			return nil, fmt.Errorf("item %q is not in the working state (it changed while answers were generated): generate again", it.ID)
		}
		for _, r := range it.Responses {
			for _, o := range r.Origins {
				ask.Record(&s.Items[i], r.Text, o)
				answers++
			}
		}
		ask.Canonical(&s.Items[i])
		d.Items = append(d.Items, s.Items[i])
	}
	res, err := finish(s, d)
	if err != nil {
		return nil, err
	}
	res.Summary = map[string]float64{"answers": float64(answers), "items": float64(len(d.Items))}
	return res, nil
}
