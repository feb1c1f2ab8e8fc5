package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"prefer/static"
)

// shippedRef writes the shipped pretrained transformer (static/web/ref-lm.snap) into
// dir and returns its path.
func shippedRef(t *testing.T, dir string) string {
	t.Helper()
	data, err := fs.ReadFile(static.Web(), "ref-lm.snap")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ref-lm.snap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSample: the pretrained transformer answers demo prompts and given prompts;
// the answers are a pure function of the flags, temperature and top-k act as they
// should, and each answer to a demo prompt carries its gold utility and parts.
func TestSample(t *testing.T) {
	ref := shippedRef(t, t.TempDir())
	sample := func(args ...string) sampleReport {
		t.Helper()
		code, out, errs := runCLI(t, append([]string{"sample", ref, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("prefer sample %v: exit %d: %s", args, code, errs)
		}
		var rep sampleReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}

	rep := sample("--prompts", "20", "--n", "5", "--seed", "3")
	if rep.Model != "ref-lm" || rep.Params != 82705 || len(rep.Prompts) != 20 {
		t.Fatalf("model %q, %d parameters, %d prompts; want ref-lm, 82705, 20", rep.Model, rep.Params, len(rep.Prompts))
	}
	distinct := map[string]bool{}
	for _, p := range rep.Prompts {
		if len(p.Answers) != 5 || len(p.Unknown) != 0 {
			t.Fatalf("%q: %d answers, unknown words %v; want 5 and none", p.Prompt, len(p.Answers), p.Unknown)
		}
		for _, a := range p.Answers {
			if !a.Gold.Valid() || len(a.Parts) == 0 && strings.TrimSpace(a.Text) != "" {
				t.Fatalf("%q → %q: no gold or parts for an answer to a demo prompt", p.Prompt, a.Text)
			}
			distinct[a.Text] = true
		}
	}
	// The pretrained model writes the grammar's mix: mostly in-grammar text, with
	// right and wrong answers, refusals and filler (docs/lm.md: 400 samples).
	m := rep.Mix
	if m["n"] != 100 || m["unknown"] > 0.15 || m["correct"] < 0.2 || m["wrong"] < 0.05 || m["refusal"] < 0.03 || m["filler"] < 0.2 {
		t.Errorf("the reference's 100 answers do not look like the grammar: %v", m)
	}
	if len(distinct) < 50 {
		t.Errorf("only %d distinct answers of 100 at temperature 1", len(distinct))
	}
	if again := sample("--prompts", "20", "--n", "5", "--seed", "3"); !sameJSON(t, again, rep) {
		t.Error("the same flags gave different answers")
	}
	if other := sample("--prompts", "20", "--n", "5", "--seed", "4"); sameJSON(t, other, rep) {
		t.Error("another seed gave the same answers")
	}

	// Temperature near 0 with top-k 1 is greedy: every answer to a prompt is the same.
	greedy := sample("--prompts", "5", "--n", "4", "--temperature", "0.01", "--top-k", "1")
	for _, p := range greedy.Prompts {
		for _, a := range p.Answers[1:] {
			if a.Text != p.Answers[0].Text {
				t.Errorf("greedy answers to %q differ: %q, %q", p.Prompt, p.Answers[0].Text, a.Text)
			}
		}
	}
	// --max-tokens bounds the answer.
	for _, p := range sample("--prompts", "5", "--max-tokens", "4").Prompts {
		for _, a := range p.Answers {
			if n := len(strings.Fields(a.Text)); n > 4 {
				t.Errorf("--max-tokens 4 gave %d words: %q", n, a.Text)
			}
		}
	}
	// A prompt of one's own, with words the model never saw.
	own := sample("--prompt", "How many seconds are in 5 minutes?", "--prompt", "What is quantum chromodynamics?", "--n", "2")
	if len(own.Prompts) != 2 || !own.Prompts[0].Answers[0].Gold.Valid() || own.Prompts[1].Answers[0].Gold.Valid() {
		t.Fatalf("own prompts: %+v; want gold for the demo prompt only", own.Prompts)
	}
	if u := own.Prompts[1].Unknown; len(u) != 2 || u[0] != "quantum" || u[1] != "chromodynamics" {
		t.Errorf("unknown words %v, want [quantum chromodynamics]", u)
	}
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}

// TestSampleErrors: what is wrong is said, with what to do, and nothing panics.
func TestSampleErrors(t *testing.T) {
	dir := t.TempDir()
	ref := shippedRef(t, dir)
	d := filepath.Join(dir, "d.snap")
	if code, _, errs := runCLI(t, "demo", "-o", d, "--items", "5"); code != 0 {
		t.Fatal(errs)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{d}, 1, "holds no language model"},
		{[]string{ref, "--model", "nope"}, 1, `has no model "nope"`},
		{[]string{ref, "--n", "0"}, 2, "--n 0 is out of range"},
		{[]string{ref, "--temperature", "0"}, 2, "--temperature 0 is out of range"},
		{[]string{ref, "--temperature", "NaN"}, 2, "out of range"},
		{[]string{ref, "--top-k", "-1"}, 2, "--top-k -1 is negative"},
		{[]string{ref, "--prompt", " "}, 2, "empty prompt"},
		{[]string{ref, "--prompts", "10000", "--n", "3"}, 2, "more than 20000 answers"},
		{[]string{ref, ref}, 2, "exactly one snapshot"},
		{[]string{filepath.Join(dir, "missing.snap")}, 1, "no such file"},
	} {
		code, _, errs := runCLI(t, append([]string{"sample"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("prefer sample %v: exit %d, %q; want exit %d mentioning %q", c.args, code, errs, c.code, c.want)
		}
	}
}
