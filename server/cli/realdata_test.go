package cli

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hhSubset writes the first n records of the real HH-RLHF test file
// (testdata/hh-rlhf, Anthropic's harmless-base test split; see its README and
// LICENSE) as a JSON-lines file and returns its path.
func hhSubset(tb testing.TB, dir string, n int) string {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "hh-rlhf", "harmless-base-test.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var b strings.Builder
	for k := 0; k < n && sc.Scan(); k++ {
		b.Write(sc.Bytes())
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, "hh.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestJSONWithoutGold runs every analysis command with --json on real data (300
// HH-RLHF pairs: no gold, no rater ids, one judgment per pair) and checks the one
// rule for unknown figures: a figure the data cannot give is null, its key present —
// never a number standing in for it. Every gold figure is null (gold_n and other
// counts are 0), and so is every figure that needs two raters on a unit: agreement,
// agreement with the consensus, Dawid–Skene (issue 12: a 99.99% Dawid–Skene accuracy
// was printed; train-rm left its gold metrics out instead of null).
func TestJSONWithoutGold(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	if code, _, errs := runCLI(t, "import", "--format", "hh-rlhf", hhSubset(t, dir, 300), "-o", p("hh.snap")); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	if code, _, errs := runCLI(t, "train-rm", p("hh.snap"), "--model", "linear", "-o", p("t.snap")); code != 0 {
		t.Fatalf("train-rm: %s", errs)
	}
	runs := [][]string{
		{"agree", p("hh.snap")},
		{"rank", p("hh.snap")},
		{"inspect", p("t.snap")},
		{"train-rm", p("hh.snap"), "--model", "linear", "-o", p("t2.snap")},
		{"optimize", p("t.snap"), "--algo", "exact", "-o", p("o1.snap")},
		{"optimize", p("t.snap"), "--algo", "ppo", "--steps", "30", "-o", p("o2.snap")},
		{"optimize", p("t.snap"), "--algo", "dpo", "--steps", "30", "-o", p("o3.snap")},
		{"optimize", p("t.snap"), "--algo", "bon", "-o", p("o4.snap")},
		{"sweep", p("t.snap"), "--algo", "exact", "--betas", "0.1,1", "-o", p("s.snap")},
	}
	gold := regexp.MustCompile(`gold`)
	count := regexp.MustCompile(`(_n|_items|_done|_correct|_assigned)$`)
	for _, args := range runs {
		name := strings.Join(args[:min(3, len(args))], " ")
		code, stdout, errs := runCLI(t, append(args, "--json")...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		var top any
		if err := json.Unmarshal([]byte(stdout), &top); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var walk func(path, key string, v any)
		walk = func(path, key string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					walk(path+"."+k, k, x)
				}
			case []any:
				for _, x := range v {
					walk(path+"[]", key, x)
				}
			case float64:
				if gold.MatchString(key) && !count.MatchString(key) {
					t.Errorf("%s: %s = %v on data without gold, want null", name, path, v)
				}
				if (key == "ds_accuracy" || key == "consensus_agreement" || key == "percent" || key == "fleiss_kappa") && strings.Contains(name, "agree") {
					t.Errorf("%s: %s = %v with one judgment per pair, want null", name, path, v)
				}
			}
		}
		walk(args[0], "", top)
		// The gold keys a command reports are there, null.
		want := map[string][]string{"train-rm": {`"gold_spearman": null`, `"gold_pair_acc": null`}, "optimize": {`"gold": null`}, "sweep": {`"gold": null`}}
		for _, w := range want[args[0]] {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: the output lacks %s", name, w)
			}
		}
	}
}
