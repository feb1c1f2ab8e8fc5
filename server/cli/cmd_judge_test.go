package cli

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"prefer/app/jobs"
	"prefer/app/work"
	"prefer/core/agree"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// judgeRun runs prefer judge with the built-in judge model against url and returns
// its report.
func judgeRun(t *testing.T, url, model, in, out string, extra ...string) judgeReport {
	t.Helper()
	args := append([]string{"judge", "--endpoint", url + "/v1", "--model", model, in, "-o", out, "--json", "--concurrency", "2"}, extra...)
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("judge %s: exit %d\n%s%s", model, code, stdout, stderr)
	}
	var rep judgeReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	return rep
}

// TestJudgeAgainstServe has the built-in judges of a prefer serve judge the pairs
// people compared in a demo snapshot, through the OpenAI-compatible protocol: the
// audit finds the length bias of judge-longer and the position bias of
// judge-first, and not in judge-rubric; people's judgments are untouched; a judge
// run resumes to exactly what is missing.
func TestJudgeAgainstServe(t *testing.T) {
	dir := t.TempDir()
	demoSnap := filepath.Join(dir, "demo.snap")
	// Careful people: the demo's default panel (a realistic crowd) is itself so fond
	// of length that a length-biased judge agrees with it more than the rubric does —
	// an audit against biased people hides the judge's bias.
	if code, _, stderr := runCLI(t, "demo", "-o", demoSnap, "--items", "40", "--seed", "2", "--raters", "3*expert,3*unbiased"); code != 0 {
		t.Fatal(stderr)
	}
	orig, _, err := readSnapshot(demoSnap)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServe(t, "--data", t.TempDir())
	audits := map[string]agree.AIAudit{}
	var findings []string
	for _, model := range []string{"judge-rubric", "judge-longer", "judge-first"} {
		out := filepath.Join(dir, model+".snap")
		rep := judgeRun(t, ts.URL, model, demoSnap, out)
		if !rep.Complete || rep.Audit == nil || rep.Asked != rep.Tasks || rep.Tasks%2 != 0 {
			t.Fatalf("%s: %+v", model, rep)
		}
		audits[model] = *rep.Audit
		s, _, err := readSnapshot(out)
		if err != nil {
			t.Fatal(err)
		}
		// People's judgments are all there, unchanged; the AI's are its own rater's.
		var human, ai []feedback.Judgment
		for _, j := range s.Judgments {
			if j.Rater == rep.Rater {
				ai = append(ai, j)
			} else {
				human = append(human, j)
			}
		}
		if !reflect.DeepEqual(human, orig.Judgments) {
			t.Errorf("%s: people's judgments changed", model)
		}
		left := map[string]int{}
		for _, j := range ai {
			if j.Note == "" || j.Kind != feedback.KindCompare {
				t.Fatalf("%s: judgment without its reasoning: %+v", model, j)
			}
			left[j.Left]++
		}
		if left["a"] != len(ai)/2 || left["b"] != len(ai)/2 {
			t.Errorf("%s: both orders not shown equally: %v", model, left)
		}
		var kind feedback.RaterKind
		for _, r := range s.Raters {
			if r.ID == rep.Rater {
				kind = r.Kind
			}
		}
		if kind != feedback.RaterAI {
			t.Errorf("%s: rater %s has kind %q", model, rep.Rater, kind)
		}
		code, stdout, _ := runCLI(t, "agree", out, "--json")
		var ar struct {
			Findings []string        `json:"findings"`
			AI       []agree.AIAudit `json:"ai_audit"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &ar) != nil || len(ar.AI) != 1 {
			t.Fatalf("agree: %d %s", code, stdout)
		}
		for _, f := range ar.Findings {
			if strings.Contains(f, "AI rater") {
				findings = append(findings, f)
			}
		}
	}
	r, l, f := audits["judge-rubric"], audits["judge-longer"], audits["judge-first"]
	t.Logf("κ rubric %.2f, longer %.2f, first %.2f; longer share %.2f/%.2f vs people %.2f; first shown %.2f/%.2f, consistency %.2f/%.2f",
		r.Kappa, l.Kappa, f.Kappa, r.LongerShare, l.LongerShare, l.HumanLongerShare, r.FirstShown, f.FirstShown, r.Consistency, f.Consistency)
	// The rubric judge reads the same checklist in both orders; the length bias costs
	// agreement with the people and shows as choosing the longer answer.
	if !(r.Kappa > l.Kappa) || !(float64(l.LongerP) < 0.01) || l.LongerOnly <= l.ShorterOnly || float64(r.LongerShare) > float64(l.LongerShare) {
		t.Errorf("length bias not caught: rubric %+v\nlonger %+v", r, l)
	}
	if r.Consistency != 1 || !(float64(f.FirstShown) > 0.7) || !(float64(f.FirstShownP) < 0.01) || !(float64(f.Consistency) < 0.8) {
		t.Errorf("position bias not caught: rubric consistency %v, first-shown %v (p %v), consistency %v", r.Consistency, f.FirstShown, f.FirstShownP, f.Consistency)
	}
	joined := strings.Join(findings, "\n")
	if !strings.Contains(joined, "ai-judge-longer chooses the longer answer") || !strings.Contains(joined, "ai-judge-first prefers the answer shown first") ||
		strings.Contains(joined, "ai-judge-rubric chooses the longer") || strings.Contains(joined, "ai-judge-rubric prefers the answer shown first") {
		t.Errorf("findings:\n%s", joined)
	}

	// Resume: drop the later half of the AI's verdicts, as an interruption would;
	// the same command asks exactly those again.
	out := filepath.Join(dir, "judge-rubric.snap")
	s, _, _ := readSnapshot(out)
	var kept []feedback.Judgment
	dropped, ai := 0, 0
	for _, j := range s.Judgments {
		if j.Rater == "ai-judge-rubric" {
			ai++
			if ai%2 == 0 {
				dropped++
				continue
			}
		}
		kept = append(kept, j)
	}
	s.Judgments = kept
	if _, err := writeSnapshot(out, s, nil); err != nil {
		t.Fatal(err)
	}
	rep := judgeRun(t, ts.URL, "judge-rubric", demoSnap, out)
	if rep.Had != rep.Tasks-dropped || rep.Asked != dropped || !rep.Complete {
		t.Errorf("resume: had %d, asked %d; %d were dropped of %d", rep.Had, rep.Asked, dropped, rep.Tasks)
	}
	// An AI judge never writes under a person's id.
	code, _, stderr := runCLI(t, "judge", "--endpoint", ts.URL+"/v1", "--model", "judge-rubric", demoSnap, "-o", filepath.Join(dir, "x.snap"), "--rater", orig.Raters[0].ID)
	if code == 0 || !strings.Contains(stderr, "never writes under another rater's id") {
		t.Errorf("a person's rater id: exit %d, %s", code, stderr)
	}
}

// TestJudgeParityWithWorker: the browser's built-in judge (the worker job) records
// the same verdicts, with the same ids and reasoning, as prefer judge asking prefer
// serve's same judge over HTTP.
func TestJudgeParityWithWorker(t *testing.T) {
	dir := t.TempDir()
	demoSnap := filepath.Join(dir, "demo.snap")
	if code, _, stderr := runCLI(t, "demo", "-o", demoSnap, "--items", "12", "--seed", "5"); code != 0 {
		t.Fatal(stderr)
	}
	ts := startServe(t, "--data", t.TempDir())
	out := filepath.Join(dir, "cli.snap")
	judgeRun(t, ts.URL, "judge-first", demoSnap, out)
	cli, _, _ := readSnapshot(out)
	_, data, _ := readSnapshot(demoSnap)
	res, err := work.Run(&jobs.Request{Kind: jobs.KindJudge, Snapshot: data, Judge: &jobs.JudgeParams{Judge: "judge-first"}})
	if err != nil {
		t.Fatal(err)
	}
	wk, err := snapshot.Unmarshal(res.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	strip := func(s *snapshot.Snapshot) map[string]feedback.Judgment {
		m := map[string]feedback.Judgment{}
		for _, j := range s.Judgments {
			if j.Rater == "ai-judge-first" {
				j.Time = 0
				m[j.ID] = j
			}
		}
		return m
	}
	a, b := strip(cli), strip(wk)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Errorf("the CLI recorded %d verdicts, the worker %d, or they differ", len(a), len(b))
	}
}
