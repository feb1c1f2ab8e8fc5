package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"prefer/core/snapshot"
)

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("prefer "+name, flag.ContinueOnError)
	// The flag package says nothing itself: a bad flag comes back as a usage error
	// (printed once, with the usage line) and -h as a helpRequest (run prints the
	// usage, the summary and every flag).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// helpRequest is what parseFlags returns for -h or --help: the command's flags.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return "help requested" }

// printFlags writes every flag of fs with its description and default, spelled as
// the usage lines spell them (--name; one dash works too).
func (h *helpRequest) printFlags(w io.Writer) {
	h.fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if kind != "" {
			line += " " + kind
		}
		if d := f.DefValue; d != "" && d != "0" && d != "false" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// parseFlags parses args, allowing flags after positional arguments
// ("prefer verify x.snap --json"), and returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{fs}
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// oneSnapshot returns the single positional argument (the input snapshot), or a
// usage error saying what to give.
func oneSnapshot(pos []string) (string, error) {
	if len(pos) != 1 {
		return "", usagef("give exactly one snapshot file (got %d arguments)", len(pos))
	}
	return pos[0], nil
}

// parseInOut parses the flags of a command that reads one snapshot and writes
// another with -o (out, a flag of fs): it returns the input file, or a usage error
// when there is not exactly one or the output was not given.
func parseInOut(fs *flag.FlagSet, args []string, out *string) (string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	in, err := oneSnapshot(pos)
	if err != nil {
		return "", err
	}
	if *out == "" {
		return "", usagef("give the output file with -o FILE")
	}
	return in, nil
}

// printJSON writes v as one indented JSON object and a newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readSnapshot reads and decodes a snapshot file.
func readSnapshot(path string) (*snapshot.Snapshot, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot: %w", err)
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, data, nil
}

// writeSnapshot encodes s and writes it to path atomically (temporary file, fsync,
// rename), so a crash never leaves a half-written snapshot. It returns the id.
func writeSnapshot(path string, s *snapshot.Snapshot) (string, error) {
	if s.Provenance.Tool == "" {
		s.Provenance.Tool = toolVersion
	}
	data, err := snapshot.Marshal(s)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return "", err
	}
	return snapshot.ID(data), nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, fsynced before the rename.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
