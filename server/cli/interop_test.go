package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"prefer/core/snapshot"
)

// nodeRead decodes a snapshot file with the stock JavaScript msgpack library (no
// Prefer code) and returns its summary. make test installs the library with npm ci;
// PREFER_REQUIRE_INTEROP=1 (set by make test) turns a missing library into a failure.
func nodeRead(tb testing.TB, path string) map[string]any {
	tb.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "interop"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@msgpack", "msgpack")); err != nil {
		msg := "@msgpack/msgpack is not installed: run `npm ci --prefix testdata/interop` (make test does)"
		if os.Getenv("PREFER_REQUIRE_INTEROP") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	out, err := exec.Command("node", filepath.Join(dir, "read-snapshot.mjs"), path).CombinedOutput()
	if err != nil {
		tb.Fatalf("node could not read %s: %v\n%s", path, err, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		tb.Fatalf("node output is not JSON: %v\n%s", err, out)
	}
	return m
}

// TestSnapshotReadableWithoutPrefer checks the README's claim (File formats): a
// snapshot is plain msgpack that a non-Go library decodes, showing the documented fields.
func TestSnapshotReadableWithoutPrefer(t *testing.T) {
	files := []string{filepath.Join("..", "..", "testdata", "snapshot", "v1.snap")}
	if _, err := os.Stat(filepath.Join("..", "..", "static", "web", "demo.snap")); err == nil {
		files = append(files, filepath.Join("..", "..", "static", "web", "demo.snap"))
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := snapshot.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		got := nodeRead(t, path)
		// These files hold no revisions, so they are written as version 1, the oldest
		// version that holds their content (core/snapshot's package documentation).
		if got["format"] != snapshot.Format || got["version"] != float64(1) || got["tool"] != s.Provenance.Tool {
			t.Errorf("%s: header seen by JS: %v %v %v", path, got["format"], got["version"], got["tool"])
		}
		responses := 0
		for _, it := range s.Items {
			responses += len(it.Responses)
		}
		if got["items"] != float64(len(s.Items)) || got["responses"] != float64(responses) {
			t.Errorf("%s: JS sees %v items and %v responses, Go %d and %d", path, got["items"], got["responses"], len(s.Items), responses)
		}
		kinds := map[string]any{}
		for _, j := range s.Judgments {
			n, _ := kinds[string(j.Kind)].(float64)
			kinds[string(j.Kind)] = n + 1
		}
		if !reflect.DeepEqual(got["judgments_by_kind"], kinds) {
			t.Errorf("%s: judgments by kind: JS %v, Go %v", path, got["judgments_by_kind"], kinds)
		}
		if len(s.Items) > 0 {
			fi := got["first_item"].(map[string]any)
			if fi["id"] != s.Items[0].ID || fi["prompt"] != s.Items[0].Prompt {
				t.Errorf("%s: first item seen by JS: %v", path, fi)
			}
		}
		tensors := got["tensors"].(map[string]any)
		for _, m := range s.Models {
			for name, tn := range m.Tensors {
				jt, ok := tensors[m.Name+"/"+name].(map[string]any)
				if !ok {
					t.Errorf("%s: JS does not see tensor %s/%s", path, m.Name, name)
					continue
				}
				if jt["length"] != float64(len(tn.Data)) {
					t.Errorf("%s: tensor %s/%s length: JS %v, Go %d", path, m.Name, name, jt["length"], len(tn.Data))
				}
				first := jt["first"].([]any)
				for i, v := range first {
					if float32(v.(float64)) != tn.Data[i] {
						t.Errorf("%s: tensor %s/%s[%d]: JS %v, Go %v", path, m.Name, name, i, v, tn.Data[i])
					}
				}
			}
		}
	}
}
