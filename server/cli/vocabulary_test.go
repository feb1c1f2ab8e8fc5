package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"prefer/core/snapshot"
)

// TestJSONVocabulary runs every command that prints --json on one small demo and
// checks the one vocabulary (docs/formats.md "The commands' JSON"):
//   - every key is snake_case (data maps such as counts by kind are exempt: their
//     keys are values);
//   - a command that writes a file names it "output", a snapshot it wrote is
//     "output_id" = the id of the file's bytes;
//   - a command that reads a snapshot names it "input" and its id "input_id";
//   - no top-level "id", "out", "file", "dir" or "snapshot" (each meant the input in
//     one command and the output in another).
func TestJSONVocabulary(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	type run struct {
		args   []string
		output string // the file or directory written, "" for none
		snap   bool   // the output is a snapshot
		input  string // the snapshot read, "" for none
	}
	runs := []run{
		{[]string{"demo", "--items", "6", "-o", p("d.snap")}, p("d.snap"), true, ""},
		{[]string{"export", "--format", "jsonl", p("d.snap"), "-o", p("d.jsonl")}, p("d.jsonl"), false, p("d.snap")},
		{[]string{"import", "--format", "jsonl", p("d.jsonl"), "-o", p("i.snap")}, p("i.snap"), true, ""},
		{[]string{"inspect", p("d.snap")}, "", false, p("d.snap")},
		{[]string{"verify", p("d.snap")}, "", false, p("d.snap")},
		{[]string{"agree", p("d.snap")}, "", false, ""},
		{[]string{"rank", p("d.snap")}, "", false, p("d.snap")},
		{[]string{"train-rm", p("d.snap"), "--model", "linear", "-o", p("t.snap")}, p("t.snap"), true, ""},
		{[]string{"export", "--format", "safetensors", p("t.snap"), "-o", p("t.safetensors")}, p("t.safetensors"), false, p("t.snap")},
		{[]string{"optimize", p("t.snap"), "--algo", "exact", "-o", p("o.snap")}, p("o.snap"), true, ""},
		{[]string{"sweep", p("t.snap"), "--algo", "exact", "--betas", "0.1,1", "-o", p("s.snap")}, p("s.snap"), true, ""},
		{[]string{"pretrain", "--steps", "2", "--examples", "40", "--samples", "2", "-o", p("lm.snap")}, p("lm.snap"), true, ""},
		{[]string{"sample", p("lm.snap"), "--prompt", "What is the capital of France?", "--n", "1"}, "", false, ""},
	}
	snakeCase := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	// Maps whose keys are data (kinds, reasons, metric or feature names chosen by
	// the data), by key path.
	dataMaps := []string{"judgments_by_kind", "skipped", "features", "kinds", "by_kind"}
	for _, r := range runs {
		name := r.args[0]
		code, stdout, stderr := runCLI(t, append(r.args, "--json")...)
		if code != 0 {
			t.Fatalf("prefer %s: exit %d: %s", strings.Join(r.args, " "), code, stderr)
		}
		var top map[string]any
		if err := json.Unmarshal([]byte(stdout), &top); err != nil {
			t.Fatalf("prefer %s --json: %v\n%s", name, err, stdout)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				last := path[strings.LastIndex(path, ".")+1:]
				data := slices.Contains(dataMaps, last)
				for k, x := range v {
					if !data && !snakeCase.MatchString(k) {
						t.Errorf("prefer %s --json: key %s.%s is not snake_case", name, path, k)
					}
					walk(path+"."+k, x)
				}
			case []any:
				for _, x := range v {
					walk(path, x)
				}
			}
		}
		walk(name, top)
		for _, k := range []string{"id", "out", "file", "dir", "snapshot"} {
			if _, ok := top[k]; ok {
				t.Errorf("prefer %s --json has the top-level key %q", name, k)
			}
		}
		if r.output != "" {
			if top["output"] != r.output {
				t.Errorf("prefer %s --json: output %v, want %s", name, top["output"], r.output)
			}
			if r.snap {
				data, err := os.ReadFile(r.output)
				if err != nil {
					t.Fatal(err)
				}
				if top["output_id"] != snapshot.ID(data) {
					t.Errorf("prefer %s --json: output_id %v, the file's id is %s", name, top["output_id"], snapshot.ID(data))
				}
			}
		}
		if r.input != "" {
			data, err := os.ReadFile(r.input)
			if err != nil {
				t.Fatal(err)
			}
			if top["input"] != r.input || top["input_id"] != snapshot.ID(data) {
				t.Errorf("prefer %s --json: input %v, input_id %v; want %s, %s", name, top["input"], top["input_id"], r.input, snapshot.ID(data))
			}
		}
	}
}
