package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"prefer/core/snapshot"
)

// citationsJSONL writes the BradleyTerry2 `citations` table (Stigler 1994; Agresti
// 2002 p. 448) as Prefer JSON lines: one item, one response per journal, one
// comparison per citation with the cited journal chosen. The first line names
// Biometrika first.
func citationsJSONL(tb testing.TB, path string) {
	tb.Helper()
	journals := []string{"Biometrika", "Comm Statist", "JASA", "JRSS-B"}
	table := [4][4]int{ // rows cited, columns citing
		{714, 730, 498, 221},
		{33, 425, 68, 17},
		{320, 813, 1072, 142},
		{284, 276, 325, 188},
	}
	var b strings.Builder
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if i == j {
				continue
			}
			line, _ := json.Marshal(map[string]any{"kind": "compare", "item": "citations", "prompt": "Which journal is cited?",
				"a": journals[i], "b": journals[j], "choice": "a", "rater": journals[j]})
			for k := 0; k < table[i][j]; k++ {
				b.Write(line)
				b.WriteByte('\n')
			}
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// rmImportJSONL turns a JSON-lines file into a snapshot with `prefer import
// --format jsonl`.
func rmImportJSONL(tb testing.TB, in, out string) {
	tb.Helper()
	code, _, errs := runCLI(tb, "import", "--format", "jsonl", in, "-o", out)
	if code != 0 {
		tb.Fatalf("prefer import: exit %d: %s", code, errs)
	}
}

// TestRankCitations reproduces BradleyTerry2's `citations` fit through the command
// line, on data imported from JSON lines: with λ_Biometrika = 0 the estimates are
// −2.9491, −0.4796, 0.2690 with standard errors 0.1025, 0.0606, 0.0708 and residual
// deviance 4.293 on 3 df (Agresti 2002 p. 448; rlhf.md).
func TestRankCitations(t *testing.T) {
	dir := t.TempDir()
	jl := filepath.Join(dir, "citations.jsonl")
	snap := filepath.Join(dir, "citations.snap")
	citationsJSONL(t, jl)
	rmImportJSONL(t, jl, snap)
	code, out, errs := runCLI(t, "rank", snap, "--reference", "Biometrika", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep rankReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	want := map[string][2]float64{
		"Biometrika": {0, 0}, "Comm Statist": {-2.9491, 0.1025}, "JASA": {-0.4796, 0.0606}, "JRSS-B": {0.2690, 0.0708},
	}
	if len(rep.Items) != 1 || len(rep.Items[0].Responses) != 4 {
		t.Fatalf("want one item with four journals, got %+v", rep.Items)
	}
	for _, r := range rep.Items[0].Responses {
		w, ok := want[r.Text]
		if !ok || !r.SE.Valid() {
			t.Fatalf("unexpected response %+v", r)
		}
		if math.Abs(r.Score-w[0]) > 5e-5 || math.Abs(float64(r.SE)-w[1]) > 5e-5 {
			t.Errorf("%s: %.5f (se %.5f), want %.4f (se %.4f)", r.Text, r.Score, float64(r.SE), w[0], w[1])
		}
	}
	if rep.Items[0].Responses[0].Text != "JRSS-B" {
		t.Errorf("leaderboard order: first is %q, want JRSS-B", rep.Items[0].Responses[0].Text)
	}
	if math.Abs(rep.Deviance-4.293) > 5e-4 || rep.DF != 3 || rep.Ridge != 0 || rep.Pairs != 3727 {
		t.Errorf("deviance %.4f on %d df, ridge %v, %d pairs; want 4.293 on 3, 0, 3727", rep.Deviance, rep.DF, rep.Ridge, rep.Pairs)
	}
}

// TestRankBootstrapAndPosition: --bootstrap gives intervals around each score that
// contain it, --position-effect reports α with a standard error, and the text
// output names both; the same seed gives the same intervals.
func TestRankBootstrapAndPosition(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "d.snap")
	if code, _, errs := runCLI(t, "demo", "-o", snap, "--seed", "4", "--items", "40", "--raters", "3*position,expert", "--overlap", "2"); code != 0 {
		t.Fatalf("demo: %s", errs)
	}
	args := []string{"rank", snap, "--bootstrap", "40", "--position-effect", "--seed", "9", "--json"}
	code, out, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep rankReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Alpha == nil || rep.AlphaSE == nil || len(rep.AlphaCI) != 2 {
		t.Fatalf("no position effect in %s", out)
	}
	// The "position" raters add 1.5 gold units to the left response (demo.Presets):
	// α must come out clearly positive.
	if *rep.Alpha < 2**rep.AlphaSE {
		t.Errorf("α = %.3f (se %.3f), want clearly positive", *rep.Alpha, *rep.AlphaSE)
	}
	checked := 0
	for _, it := range rep.Items {
		for _, r := range it.Responses {
			if r.Ranked && !r.Reference && r.CILow.Valid() {
				checked++
				if float64(r.CILow) > r.Score+1e-9 || float64(r.CIHigh) < r.Score-1e-9 {
					t.Errorf("%s/%s: score %.3f outside its interval [%.3f, %.3f]", it.ID, r.ID, r.Score, float64(r.CILow), float64(r.CIHigh))
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no bootstrap intervals")
	}
	_, again, _ := runCLI(t, args...)
	if again != out {
		t.Error("the same seed gave different output")
	}
	code, text, _ := runCLI(t, "rank", snap, "--position-effect")
	if code != 0 || !strings.Contains(text, "position effect α") {
		t.Errorf("text output lacks the position effect:\n%s", text)
	}
}

func TestRankErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.snap")
	if _, err := writeSnapshot(empty, &snapshot.Snapshot{}, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"rank"}, 2, "one snapshot"},
		{[]string{"rank", empty, "--bootstrap", "-1"}, 2, "--bootstrap"},
		{[]string{"rank", empty, "--ridge", "-1"}, 2, "--ridge"},
		{[]string{"rank", empty, "--level", "2"}, 2, "--level"},
		{[]string{"rank", filepath.Join(dir, "missing.snap")}, 1, "read snapshot"},
		{[]string{"rank", empty}, 1, "no usable comparisons"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errs, c.code, c.want)
		}
	}
}
