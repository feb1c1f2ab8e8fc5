package cli

import (
	"os"
	"path/filepath"
	"testing"

	"prefer/app/work"
	"prefer/app/work/parity"
)

// TestParity runs the prefer command of every parity case (package
// app/work/parity) on the same input as the case's worker job and checks the hash
// the case pins, which app/work's TestParity checks for the job natively and
// under wasm: the same snapshot, settings and seed give the same result through
// the command line and through the browser's worker.
func TestParity(t *testing.T) {
	cases, err := parity.Cases()
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.snap"), filepath.Join(dir, "out")
			if c.Input != "" {
				if inputs[c.Input] == nil {
					if inputs[c.Input], err = parity.Input(c.Input, work.Run); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(in, inputs[c.Input], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := make([]string, len(c.CLI))
			for i, a := range c.CLI {
				switch a {
				case "IN":
					a = in
				case "OUT":
					a = out
				case "FILE":
					a = filepath.Join("..", "..", c.File)
				}
				args[i] = a
			}
			code, stdout, errs := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("prefer %v: exit %d: %s", c.CLI, code, errs)
			}
			data, err := os.ReadFile(out)
			if err != nil && c.What != "json" {
				t.Fatal(err)
			}
			h, err := c.CLIHash(data, []byte(stdout))
			if err != nil {
				t.Fatal(err)
			}
			if h != c.Hash {
				t.Errorf("%s: prefer %s gives %s, want %s (%s)%s", c.Name, c.CLI[0], h, c.Hash, c.Why, parity.UpdateHint)
			}
		})
	}
}
