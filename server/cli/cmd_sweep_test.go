package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"prefer/core/snapshot"
)

// TestSweepHacking: on the demo domain judged by politeness-biased raters, `prefer
// sweep --reward linear` writes a sweep run whose gold reward peaks at an
// intermediate β and falls while the proxy keeps rising, and the alert names
// politeness or wrong answers.
func TestSweepHacking(t *testing.T) {
	dir := t.TempDir()
	in := demoSnap(t, dir, "3*polite", 60)
	out := filepath.Join(dir, "s.snap")
	code, stdout, errs := runCLI(t, "sweep", in, "-o", out, "--reward", "linear", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Points []struct {
			Beta   float64 `json:"beta"`
			SqrtKL float64 `json:"sqrt_kl"`
			Proxy  float64 `json:"proxy"`
			Gold   float64 `json:"gold"`
		} `json:"points"`
		Alerts []struct {
			Grew []struct {
				Name string `json:"name"`
			} `json:"grew"`
			Message string `json:"message"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	pts := rep.Points
	if len(pts) != 12 {
		t.Fatalf("%d points, want 12", len(pts))
	}
	peak := 0
	for i := range pts {
		if pts[i].Gold > pts[peak].Gold {
			peak = i
		}
		if i > 0 && (pts[i].Proxy < pts[i-1].Proxy || pts[i].SqrtKL < pts[i-1].SqrtKL) {
			t.Errorf("point %d: proxy or √KL fell", i)
		}
	}
	if peak == 0 || peak == len(pts)-1 || pts[peak].Gold-pts[len(pts)-1].Gold < 0.2 {
		t.Errorf("gold peaks at point %d: %+v", peak, pts)
	}
	if len(rep.Alerts) != 1 || len(rep.Alerts[0].Grew) == 0 || (rep.Alerts[0].Grew[0].Name != "polite" && rep.Alerts[0].Grew[0].Name != "wrong") {
		t.Errorf("alerts %+v, want one naming polite or wrong first", rep.Alerts)
	}
	s, _, err := readSnapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	run := s.Run("sweep-exact")
	if run == nil || run.Kind != "sweep" || len(run.Series["sqrt_kl"]) != 12 || len(run.Series["proxy"]) != 12 ||
		len(run.Series["gold"]) != 12 || len(run.Series["beta"]) != 12 || len(run.Notes) != 1 {
		t.Errorf("sweep run = %+v", run)
	}
	if probs := snapshot.Check(s); len(probs) != 0 {
		t.Errorf("output has problems: %v", probs)
	}
}

func TestSweepBoNAndErrors(t *testing.T) {
	dir := t.TempDir()
	in := demoSnap(t, dir, "expert,unbiased,noisy", 10)
	out := filepath.Join(dir, "s.snap")
	code, stdout, errs := runCLI(t, "sweep", in, "-o", out, "--algo", "bon", "--ns", "1,4,16", "--reward", "gold")
	if code != 0 || !strings.Contains(stdout, "bon sweep") {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	s, _, err := readSnapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Run("sweep-bon"); r == nil || len(r.Series["n"]) != 3 || len(r.Series["kl_formula"]) != 3 {
		t.Errorf("bon sweep run = %+v", r)
	}
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{in, "-o", out, "--algo", "dpo"}, "unknown --algo"},
		{[]string{in, "-o", out, "--betas", "1,-2", "--reward", "gold"}, "--betas"},
		{[]string{in, "-o", out, "--ns", "0", "--reward", "gold"}, "--ns"},
		{[]string{in, "--reward", "gold"}, "-o FILE"},
	}
	for _, tc := range tests {
		code, _, errs := runCLI(t, append([]string{"sweep"}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, errs, tc.msg)
		}
	}
}
