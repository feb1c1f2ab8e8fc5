package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"prefer/core/demo"
	"prefer/core/snapshot"
)

// TestHelp: 'prefer help COMMAND' and 'prefer COMMAND -h' print the usage line, what
// the command does and every flag with its description, and every flag the usage
// line names exists (so the usage line cannot drift from the code).
func TestHelp(t *testing.T) {
	named := regexp.MustCompile(`(?:^|[\s\[|])--?([a-z][a-z0-9-]*)`)
	for name, c := range commands {
		code, out, errs := runCLI(t, "help", name)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "usage: prefer "+c.usage) || !strings.Contains(out, c.summary) {
			t.Errorf("prefer help %s: exit %d, stderr %q, stdout %q", name, code, errs, out)
			continue
		}
		_, flags, ok := strings.Cut(out, "\nflags:\n")
		if !ok {
			t.Errorf("prefer help %s lists no flags:\n%s", name, out)
			continue
		}
		for _, m := range named.FindAllStringSubmatch(c.usage, -1) {
			if !regexp.MustCompile(`(?m)^  --?` + regexp.QuoteMeta(m[1]) + `( |$)`).MatchString(flags) {
				t.Errorf("prefer %s: the usage line names --%s, which is not a flag", name, m[1])
			}
		}
		if code, out2, _ := runCLI(t, name, "-h"); code != 0 || out2 != out {
			t.Errorf("prefer %s -h: exit %d, and not what 'prefer help %s' prints", name, code, name)
		}
	}
}

// TestBadFlag: a bad flag value is said once, with the usage line, and exit 2.
func TestBadFlag(t *testing.T) {
	code, out, errs := runCLI(t, "demo", "-o", t.TempDir()+"/d.snap", "--seed", "abc")
	want := "prefer demo: invalid value \"abc\" for flag -seed: parse error\nusage: prefer " + commands["demo"].usage + "\n"
	if code != 2 || out != "" || errs != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and stderr %q", code, out, errs, want)
	}
	code, _, errs = runCLI(t, "verify", "--nope", "x.snap")
	if code != 2 || strings.Count(errs, "flag provided but not defined: -nope") != 1 {
		t.Errorf("unknown flag: exit %d, stderr %q", code, errs)
	}
}

// TestWriteSnapshotStreams checks that the snapshot written as it is encoded (no
// buffer of its bytes) is Marshal's bytes, with Marshal's id, on a file and on
// standard output.
func TestWriteSnapshotStreams(t *testing.T) {
	d, err := demo.Generate(demo.Config{Seed: 3, Items: 20})
	if err != nil {
		t.Fatal(err)
	}
	s := d.Snapshot()
	s.Provenance.Tool = toolVersion
	want, err := snapshot.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.snap")
	id, err := writeSnapshot(path, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || id != snapshot.ID(want) {
		t.Errorf("file: %d bytes (want %d), id %s (want %s)", len(got), len(want), id, snapshot.ID(want))
	}
	var out bytes.Buffer
	if id, err = writeSnapshot("-", s, &out); err != nil || !bytes.Equal(out.Bytes(), want) || id != snapshot.ID(want) {
		t.Errorf("standard output: %v, %d bytes, id %s", err, out.Len(), id)
	}
}
