package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"prefer/static"
)

// TestEverySnapshotTheCLIWritesVerifies runs the commands that write snapshots one
// after another, the way a researcher would, and checks that `prefer verify` exits 0
// on every file written.
func TestEverySnapshotTheCLIWritesVerifies(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	steps := [][]string{
		{"demo", "-o", p("demo.snap"), "--seed", "3", "--items", "24", "--raters", "3*expert,polite,verbose", "--overlap", "3"},
		{"train-rm", p("demo.snap"), "-o", p("linear.snap"), "--seed", "1"},
		{"train-rm", p("linear.snap"), "-o", p("tabular.snap"), "--model", "tabular", "--personalize"},
		{"train-rm", p("tabular.snap"), "-o", p("ensemble.snap"), "--model", "ensemble", "--members", "2"},
		{"optimize", p("ensemble.snap"), "-o", p("ppo.snap"), "--algo", "ppo", "--reward", "rm-linear", "--steps", "20"},
		{"optimize", p("ppo.snap"), "-o", p("dpo.snap"), "--algo", "dpo", "--steps", "20"},
		{"optimize", p("ppo.snap"), "-o", p("bon.snap"), "--algo", "bon", "--reward", "gold", "--n", "4"},
		{"sweep", p("ppo.snap"), "-o", p("sweep.snap"), "--reward", "rm-linear"},
		{"pretrain", "-o", p("ref.snap"), "--seed", "2", "--steps", "3", "--examples", "100", "--samples", "2"},
		{"optimize", p("demo.snap"), "-o", p("lm.snap"), "--policy", "lm", "--ref", p("ref.snap"), "--algo", "rloo", "--reward", "gold",
			"--steps", "1", "--prompts", "2", "--samples", "2", "--max-tokens", "10"},
		{"import", "--format", "hh-rlhf", filepath.Join("..", "..", "testdata", "hh-rlhf", "harmless-base-test.jsonl.gz"), "-o", p("hh.snap")},
		{"export", "--format", "jsonl", p("sweep.snap"), "-o", p("sweep.jsonl")},
		{"import", "--format", "jsonl", p("sweep.jsonl"), "-o", p("reimported.snap")},
		{"import", "--format", "trl", filepath.Join("..", "..", "core", "formats", "testdata", "trl-standard.jsonl"),
			filepath.Join("..", "..", "core", "formats", "testdata", "trl-conversational.jsonl"), "-o", p("trl.snap")},
	}
	for _, args := range steps {
		code, _, errs := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("prefer %v: exit %d: %s", args, code, errs)
		}
	}
	files, _ := filepath.Glob(p("*.snap"))
	if len(files) != 13 {
		t.Fatalf("expected 13 snapshots, found %d: %v", len(files), files)
	}
	for _, f := range files {
		if code, _, errs := runCLI(t, "verify", f); code != 0 {
			t.Errorf("verify %s: exit %d: %s", filepath.Base(f), code, errs)
		}
	}
}

// TestShippedDemoIsReproduced checks that the demo snapshot the app ships
// (static/web/demo.snap) is exactly what `prefer demo --seed 7` writes, so the
// lesson's numbers can be reproduced with the CLI.
func TestShippedDemoIsReproduced(t *testing.T) {
	shipped, err := fs.ReadFile(static.Web(), "demo.snap")
	if err != nil {
		t.Fatalf("static/web/demo.snap is missing: %v (make it with prefer demo -o static/web/demo.snap --seed 7)", err)
	}
	out := filepath.Join(t.TempDir(), "demo.snap")
	if code, _, errs := runCLI(t, "demo", "-o", out, "--seed", "7"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errs)
	}
	made, _ := os.ReadFile(out)
	if !bytes.Equal(made, shipped) {
		t.Fatal("static/web/demo.snap differs from `prefer demo --seed 7`: regenerate it with that command")
	}
	if code, _, errs := runCLI(t, "verify", out); code != 0 {
		t.Fatalf("verify demo: %s", errs)
	}
}
