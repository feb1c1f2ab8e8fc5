//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFileModes: files written get the usual permissions: 0666 less the umask for
// a new file (0644 under umask 022, as os.Create and shell redirection give), and
// the mode of the file they replace.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	snap := filepath.Join(dir, "d.snap")
	mode := func(path string) os.FileMode {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	if code, _, errs := runCLI(t, "demo", "--items", "6", "-o", snap); code != 0 {
		t.Fatal(errs)
	}
	if got := mode(snap); got != 0o644 {
		t.Errorf("new snapshot: mode %o, want 644", got)
	}
	exp := filepath.Join(dir, "d.jsonl")
	for _, perm := range []os.FileMode{0o644, 0o640, 0o664} {
		if err := os.WriteFile(exp, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(exp, perm)
		if code, _, errs := runCLI(t, "export", "--format", "jsonl", snap, "-o", exp); code != 0 {
			t.Fatal(errs)
		}
		if got := mode(exp); got != perm {
			t.Errorf("export over a %o file: mode %o", perm, got)
		}
	}
	if code, _, errs := runCLI(t, "train-rm", snap, "--model", "linear", "-o", filepath.Join(dir, "t.snap")); code != 0 {
		t.Fatal(errs)
	}
	if got := mode(filepath.Join(dir, "t.snap")); got != 0o644 {
		t.Errorf("train-rm output: mode %o, want 644", got)
	}
	// No temporary file is left behind.
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
