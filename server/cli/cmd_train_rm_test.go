package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"prefer/core/reward"
	"prefer/core/snapshot"
)

// demoSnap writes a small demo snapshot and returns its path.
func rmDemoSnap(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "demo.snap")
	if code, _, errs := runCLI(tb, "demo", "-o", path, "--seed", "5", "--items", "40"); code != 0 {
		tb.Fatalf("demo: %s", errs)
	}
	return path
}

// TestTrainRMStoresModelRunAndDiagnostics: train-rm writes the input plus the model
// (family, tensors, metrics) and a "train-rm" run with per-epoch series, summary,
// notes and diagnostics; --json prints one object with the same metrics; the
// stored model scores like the trained one; the same seed gives the same bytes.
func TestTrainRMStoresModelRunAndDiagnostics(t *testing.T) {
	dir := t.TempDir()
	in := rmDemoSnap(t, dir)
	out := filepath.Join(dir, "out.snap")
	args := []string{"train-rm", in, "-o", out, "--model", "linear", "--seed", "3", "--json"}
	code, stdout, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep trainRMReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&rep); err != nil || dec.More() {
		t.Fatalf("want exactly one JSON object: %v\n%s", err, stdout)
	}
	for _, k := range []string{"held_acc", "held_logloss", "ece", "length_spearman", "gold_spearman", "train_acc"} {
		if _, ok := rep.Metrics[k]; !ok {
			t.Errorf("metrics lack %q: %v", k, rep.Metrics)
		}
	}
	if len(rep.Curves.TrainLoss) == 0 || len(rep.Curves.TrainLoss) != len(rep.Curves.HeldAcc) || len(rep.Diagnostics.Reliability) != 10 {
		t.Errorf("curves %d/%d, reliability bins %d", len(rep.Curves.TrainLoss), len(rep.Curves.HeldAcc), len(rep.Diagnostics.Reliability))
	}
	if len(rep.Diagnostics.TopPositive) == 0 {
		t.Error("a linear model should list the n-grams that drive reward")
	}
	inSnap, inData, err := readSnapshot(in)
	if err != nil {
		t.Fatal(err)
	}
	s, data, err := readSnapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OutputID != snapshot.ID(data) || s.Provenance.Parent != snapshot.ID(inData) || s.Provenance.Seed != 3 || s.Provenance.Created != "" {
		t.Errorf("provenance %+v, report id %s", s.Provenance, rep.OutputID)
	}
	if len(s.Judgments) != len(inSnap.Judgments) || len(s.Items) != len(inSnap.Items) {
		t.Error("the output lost data of the input")
	}
	sm := s.Model("rm-linear")
	run := s.Run("rm-linear")
	if sm == nil || sm.Family != "linear" || sm.Run != "rm-linear" || run == nil || run.Kind != "train-rm" {
		t.Fatalf("model %+v, run %+v", sm, run)
	}
	if held := float64(rep.Metrics["held_acc"]); sm.Metrics["held_acc"] != held || run.Summary["held_acc"] != held {
		t.Error("stored metrics differ from the printed ones")
	}
	for _, k := range []string{"train_loss", "valid_loss", "held_loss", "held_acc"} {
		if len(run.Series[k]) != len(rep.Curves.TrainLoss) {
			t.Errorf("series %q has %d values", k, len(run.Series[k]))
		}
	}
	diag, ok := run.Config["diagnostics"].(map[string]any)
	if !ok || diag["reliability"] == nil {
		t.Errorf("run config lacks diagnostics: %v", run.Config)
	}
	m, err := reward.FromSnapshot(*sm)
	if err != nil {
		t.Fatal(err)
	}
	it := &s.Items[0]
	if m.Score(it, it.Responses[0].Text) == m.Score(it, it.Responses[1].Text) && m.Score(it, "Sure! The capital of France is Paris.") == 0 {
		t.Error("the stored model scores everything alike")
	}
	out2 := filepath.Join(dir, "out2.snap")
	args[3] = out2
	if code, _, errs := runCLI(t, args...); code != 0 {
		t.Fatal(errs)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different snapshots")
	}
}

// TestTrainRMFamilies trains every family briefly and reloads each stored model.
func TestTrainRMFamilies(t *testing.T) {
	dir := t.TempDir()
	in := rmDemoSnap(t, dir)
	for _, c := range [][]string{
		{"--model", "tabular"},
		{"--model", "mlp", "--epochs", "5", "--hidden", "8", "--dim", "512"},
		{"--model", "ensemble", "--members", "3", "--epochs", "5"},
		{"--model", "ensemble", "--member", "tabular", "--members", "2"},
	} {
		out := filepath.Join(dir, "f.snap")
		code, stdout, errs := runCLI(t, append([]string{"train-rm", in, "-o", out, "--json"}, c...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c, code, errs)
		}
		var rep trainRMReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		s, _, err := readSnapshot(out)
		if err != nil {
			t.Fatal(err)
		}
		sm := s.Model(rep.Model)
		if sm == nil {
			t.Fatalf("%v: model %q not stored", c, rep.Model)
		}
		if _, err := reward.FromSnapshot(*sm); err != nil {
			t.Errorf("%v: %v", c, err)
		}
		if rep.Metrics["held_acc"] <= 0.4 {
			t.Errorf("%v: held-out accuracy %v", c, rep.Metrics["held_acc"])
		}
	}
}

// TestTrainRMPersonalize: --personalize stores one model per rater group and
// reports their disagreement with each other and with the pooled model.
func TestTrainRMPersonalize(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "g.snap")
	// Experts and politeness-biased crowd raters (groups from demo.Presets).
	if code, _, errs := runCLI(t, "demo", "-o", in, "--seed", "6", "--items", "80", "--raters", "3*expert,3*polite", "--overlap", "3"); code != 0 {
		t.Fatal(errs)
	}
	out := filepath.Join(dir, "p.snap")
	code, stdout, errs := runCLI(t, "train-rm", in, "-o", out, "--personalize", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep trainRMReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Groups == nil || len(rep.Groups.Groups) != 2 || len(rep.Groups.Divergence) != 3 {
		t.Fatalf("personalized = %+v", rep.Groups)
	}
	s, _, _ := readSnapshot(out)
	for _, g := range rep.Groups.Groups {
		if s.Model(g.Model) == nil {
			t.Errorf("model %q not stored", g.Model)
		}
	}
	if d := rep.Groups.Divergence[0][1]; d < 0.1 {
		t.Errorf("expert and polite models disagree on only %.2f of held-out pairs", d)
	}
	if s.Run("rm-linear@personalize") == nil {
		t.Error("no personalize run")
	}
}

func TestTrainRMErrors(t *testing.T) {
	dir := t.TempDir()
	in := rmDemoSnap(t, dir)
	out := filepath.Join(dir, "o.snap")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train-rm", in}, 2, "-o"},
		{[]string{"train-rm", in, "-o", out, "--model", "forest"}, 1, "unknown model family"},
		{[]string{"train-rm", in, "-o", out, "--holdout", "1.5"}, 2, "--holdout"},
		{[]string{"train-rm", in, "-o", out, "--members", "0"}, 2, "--members"},
		{[]string{"train-rm", in, "-o", out, "--model", "tabular", "--split", "item"}, 1, "split by pair"},
		{[]string{"train-rm", filepath.Join(dir, "none.snap"), "-o", out}, 1, "read snapshot"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args[2:], code, errs, c.code, c.want)
		}
	}
}

// TestTrainRMJudgmentsReadAgain: train-rm lets the judgments go during the fit and
// decodes them again from the file — the output holds exactly the input's judgments
// whether the input is a file or standard input (which is not read twice: the
// judgments are kept), the two outputs are the same bytes, and a file that changed
// since it was read is refused.
func TestTrainRMJudgmentsReadAgain(t *testing.T) {
	dir := t.TempDir()
	in := rmDemoSnap(t, dir)
	inSnap, inData, err := readSnapshot(in)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, fromStdin := filepath.Join(dir, "a.snap"), filepath.Join(dir, "b.snap")
	if code, _, errs := runCLI(t, "train-rm", in, "-o", fromFile, "--seed", "2"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCLIIn(t, inData, "train-rm", "-", "-o", fromStdin, "--seed", "2"); code != 0 {
		t.Fatal(errs)
	}
	a, aData, err := readSnapshot(fromFile)
	if err != nil {
		t.Fatal(err)
	}
	b, bData, err := readSnapshot(fromStdin)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Judgments, inSnap.Judgments) || len(a.Judgments) == 0 {
		t.Fatalf("the output holds %d judgments, not the input's %d", len(a.Judgments), len(inSnap.Judgments))
	}
	if !reflect.DeepEqual(a, b) || !bytes.Equal(aData, bData) {
		t.Error("train-rm from the file and from standard input differ")
	}
	s := &snapshot.Snapshot{}
	err = rereadJudgments(s, in, "sha256-0000")
	if err == nil || !strings.Contains(err.Error(), "changed while the model was trained") {
		t.Errorf("a changed file: %v", err)
	}
}
