package cli

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"prefer/core/agree"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// importJSONL turns a Prefer JSON-lines file into a snapshot with
// "prefer import --format jsonl".
func importJSONL(tb testing.TB, file string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), strings.TrimSuffix(filepath.Base(file), ".jsonl")+".snap")
	if code, _, errs := runCLI(tb, "import", "--format", "jsonl", file, "-o", out); code != 0 {
		tb.Fatalf("import %s: exit %d: %s", file, code, errs)
	}
	return out
}

// agreeJSON runs "prefer agree --json" and decodes the one object it prints.
func agreeJSON(tb testing.TB, args ...string) *agree.Report {
	tb.Helper()
	code, out, errs := runCLI(tb, append([]string{"agree", "--json"}, args...)...)
	if code != 0 {
		tb.Fatalf("agree %v: exit %d: %s", args, code, errs)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var rep agree.Report
	if err := dec.Decode(&rep); err != nil {
		tb.Fatalf("agree --json output is not a JSON object: %v\n%s", err, out)
	}
	if dec.More() {
		tb.Fatalf("agree --json printed more than one JSON value")
	}
	return &rep
}

func kindReport(tb testing.TB, rep *agree.Report, k feedback.Kind) *agree.KindReport {
	tb.Helper()
	for i := range rep.Kinds {
		if rep.Kinds[i].Kind == k {
			return &rep.Kinds[i]
		}
	}
	tb.Fatalf("the report has no %s section", k)
	return nil
}

func approx(tb testing.TB, name string, got agree.Float, want, tol float64) {
	tb.Helper()
	if !(math.Abs(float64(got)-want) <= tol) {
		tb.Errorf("%s = %v, want %v (±%g)", name, float64(got), want, tol)
	}
}

// TestAgreeKnownValues reproduces published agreement values through the command line,
// on data imported from JSON-lines files (testdata/agree/README.md gives the sources).
func TestAgreeKnownValues(t *testing.T) {
	snap := importJSONL(t, "testdata/agree/krippendorff2011.jsonl")
	// Krippendorff (2011) pp. 4–7: nominal 0.743, ordinal 0.815, ratio 0.797;
	// interval 0.849107 computed (rlhf.md, no published figure).
	for _, c := range []struct {
		metric string
		want   float64
		tol    float64
	}{{"nominal", 0.743, 5e-4}, {"ordinal", 0.815, 5e-4}, {"interval", 0.849107, 5e-7}, {"ratio", 0.797, 5e-4}} {
		k := kindReport(t, agreeJSON(t, snap, "--metric", c.metric), feedback.KindRate)
		if string(k.Metric) != c.metric || k.Axis != "helpful" {
			t.Errorf("metric %q, axis %q", k.Metric, k.Axis)
		}
		approx(t, "krippendorff_alpha "+c.metric, k.Agreement.Alpha, c.want, c.tol)
	}
	k := kindReport(t, agreeJSON(t, snap, "--kind", "rate", "--axis", "helpful"), feedback.KindRate)
	approx(t, "alpha_by_metric.nominal", k.Agreement.AlphaByMetric.Nominal, 0.743, 5e-4)
	approx(t, "alpha_by_metric.ratio", k.Agreement.AlphaByMetric.Ratio, 0.797, 5e-4)
	if k.Units != 12 || k.PairableUnits != 11 || k.Observations != 41 || len(k.Raters) != 4 {
		t.Errorf("units %d, pairable %d, labels %d, raters %d; want 12, 11, 41, 4", k.Units, k.PairableUnits, k.Observations, len(k.Raters))
	}

	// Wikipedia, "Fleiss' kappa": κ = 0.209931, P̄ = 0.378022 (rlhf.md, checked).
	snap = importJSONL(t, "testdata/agree/fleiss_wikipedia.jsonl")
	k = kindReport(t, agreeJSON(t, snap, "--metric", "nominal"), feedback.KindRate)
	approx(t, "fleiss_kappa", k.Agreement.FleissKappa, 0.209931, 5e-7)
	approx(t, "percent", k.Agreement.Percent, 0.378022, 5e-7)
	approx(t, "fleiss_chance", k.Agreement.FleissChance, 0.212755, 5e-7)

	// Cohen's κ of [[20, 5], [10, 15]]: 0.4 (rlhf.md); SE √0.016128 = 0.126996 by the
	// large-sample formula of Fleiss, Cohen & Everitt (1969), worked by hand in
	// core/agree/math_test.go. Bob saw every pair swapped: labels are per response.
	snap = importJSONL(t, "testdata/agree/cohen_2x2.jsonl")
	rep := agreeJSON(t, snap)
	k = kindReport(t, rep, feedback.KindCompare)
	c := k.Agreement.Cohen
	if c == nil {
		t.Fatal("no cohen object for two raters")
	}
	approx(t, "cohen.kappa", c.Kappa, 0.4, 1e-12)
	approx(t, "cohen.se", c.SE, math.Sqrt(0.016128), 1e-12)
	approx(t, "cohen.po", c.Po, 0.7, 1e-12)
	approx(t, "cohen.pe", c.Pe, 0.5, 1e-12)
	approx(t, "percent", k.Agreement.Percent, 0.7, 1e-12)
	if c.RaterA != "ann" || c.RaterB != "bob" || c.Units != 50 {
		t.Errorf("cohen = %+v", c)
	}
	// Left is always Paris for ann and Lyon for bob: each wins 30 of 50 on the left.
	if p := rep.Position; p == nil || p.Decided != 100 || len(p.Raters) != 2 {
		t.Errorf("position_bias = %+v", p)
	}
}

// TestAgreeText: without --json a readable summary.
func TestAgreeText(t *testing.T) {
	snap := importJSONL(t, "testdata/agree/krippendorff2011.jsonl")
	code, out, errs := runCLI(t, "agree", snap, "--metric", "interval")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Feedback quality: 41 judgments by 4 raters on 12 items", "Krippendorff's α (interval) 0.8491", "rate (helpful)", "ratio 0.7974"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

// TestAgreeDemo: on the demo domain's simulated panel, the position-biased rater is
// flagged and the spammer has the lowest Dawid–Skene accuracy.
func TestAgreeDemo(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "d.snap")
	if code, _, errs := runCLI(t, "demo", "-o", snap, "--seed", "2", "--items", "120",
		"--raters", "expert,unbiased,unbiased,position,spammer", "--overlap", "4"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errs)
	}
	rep := agreeJSON(t, snap, "--kind", "compare,rank,rate,thumb,flag")
	for _, ps := range rep.Position.Raters {
		if want := ps.Rater == "r04"; ps.Biased != want {
			t.Errorf("position bias of %s: %v (left %v, p %v), want %v", ps.Rater, ps.Biased, float64(ps.LeftShare), float64(ps.P), want)
		}
	}
	k := kindReport(t, rep, feedback.KindCompare)
	worst := k.Raters[0]
	for _, r := range k.Raters {
		if r.DSAccuracy < worst.DSAccuracy {
			worst = r
		}
	}
	if worst.Rater != "r05" {
		t.Errorf("lowest Dawid–Skene accuracy: %s, want the spammer r05", worst.Rater)
	}
	if len(k.DawidSkene.Units) != k.Units || len(k.DawidSkene.Units[0].Posterior) != 4 {
		t.Errorf("posteriors: %d units for %d", len(k.DawidSkene.Units), k.Units)
	}
	// Same snapshot, same bytes.
	_, a, _ := runCLI(t, "agree", "--json", snap)
	_, b, _ := runCLI(t, "agree", "--json", snap)
	if a != b {
		t.Error("two runs printed different reports")
	}
}

func TestAgreeErrors(t *testing.T) {
	snap := importJSONL(t, "testdata/agree/cohen_2x2.jsonl")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"agree"}, 2, "give exactly one snapshot file"},
		{[]string{"agree", snap, "--metric", "cosine"}, 2, "use nominal, ordinal, interval or ratio"},
		{[]string{"agree", snap, "--kind", "rewrite"}, 2, "not a kind with labels"},
		{[]string{"agree", snap, "--level", "2"}, 2, "must be between 0 and 1"},
		{[]string{"agree", snap, "--windows", "0"}, 2, "--windows 0 is out of range"},
		{[]string{"agree", filepath.Join(t.TempDir(), "missing.snap")}, 1, "read snapshot"},
	} {
		code, out, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d and %q", c.args, code, errs, out, c.code, c.want)
		}
	}
	// An empty snapshot is not an error: the report says there is nothing to measure.
	empty := writeTestSnapshot(t, t.TempDir(), &snapshot.Snapshot{})
	if rep := agreeJSON(t, empty); len(rep.Kinds) != 0 || rep.Position != nil {
		t.Errorf("empty snapshot: %+v", rep)
	}
}
