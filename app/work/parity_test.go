package work

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"prefer/app/work/parity"
)

var update = flag.Bool("update", false, "rewrite parity/parity.json with the hashes this run computes (natively)")

// TestParity runs the job of every parity case (package parity) and checks the
// hash the case pins. server/cli's TestParity runs the matching prefer commands
// against the same hashes, and `make test-wasm` runs this test under wasm: the
// command, the native worker and the browser's worker compute the same thing.
func TestParity(t *testing.T) {
	cases, err := parity.Cases()
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{}
	got := map[string]string{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			req := c.Job
			if c.Input != "" {
				if inputs[c.Input] == nil {
					if inputs[c.Input], err = parity.Input(c.Input, Run); err != nil {
						t.Fatal(err)
					}
				}
				req.Snapshot = inputs[c.Input]
			}
			if c.Ref {
				req.Ref = shippedRef(t)
			}
			if c.File != "" {
				data, err := os.ReadFile(filepath.Join("..", "..", c.File))
				if err != nil {
					t.Fatal(err)
				}
				if req.Import == nil {
					t.Fatalf("case %s names a file but its job is not an import", c.Name)
				}
				p := *req.Import
				p.Data, p.Name = data, filepath.Base(c.File)
				req.Import = &p
			}
			res, err := Run(&req)
			if err != nil {
				t.Fatalf("%s job: %v", req.Kind, err)
			}
			h, err := c.WorkerHash(res)
			if err != nil {
				t.Fatal(err)
			}
			got[c.Name] = h
			if h != c.Hash {
				t.Errorf("%s: the %s job gives %s, want %s (%s)%s", c.Name, req.Kind, h, c.Hash, c.Why, parity.UpdateHint)
			}
		})
	}
	if *update {
		data, err := parity.Update(cases, got)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("parity", parity.File), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
