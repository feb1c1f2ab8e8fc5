package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

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

// parseIn parses the flags of a command that reads exactly one snapshot and returns
// its file.
func parseIn(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	return oneSnapshot(pos)
}

// parseInOut parses the flags of a command that reads one snapshot and writes
// another with -o (out, a flag of fs): it returns the input file, or a usage error
// when there is not exactly one or the output was not given.
func parseInOut(fs *flag.FlagSet, args []string, out *string) (string, error) {
	in, err := parseIn(fs, args)
	if err != nil {
		return "", err
	}
	return in, checkOut(fs, *out)
}

// parseCheckRead parses the flags of a command that reads one snapshot and writes
// another (parseInOut), checks them with check, and reads the input.
func parseCheckRead(fs *flag.FlagSet, args []string, out *string, check func() error) (*snapshot.Snapshot, []byte, error) {
	in, err := parseInOut(fs, args, out)
	if err != nil {
		return nil, nil, err
	}
	if err := check(); err != nil {
		return nil, nil, err
	}
	return readSnapshot(in)
}

// parseOut parses the flags of a command that reads no file and writes one with
// -o (out, a flag of fs): a usage error when an argument is given or the output
// is not.
func parseOut(fs *flag.FlagSet, args []string, out *string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("unexpected argument %q; the output file goes after -o", pos[0])
	}
	return checkOut(fs, *out)
}

// checkOut checks the -o of a command: given, and not standard output when fs's
// --json prints there too.
func checkOut(fs *flag.FlagSet, out string) error {
	if out == "" {
		return usagef("give the output file with -o FILE (- for standard output)")
	}
	if j := fs.Lookup("json"); j != nil {
		return checkOutput(out, j.Value.String() == "true")
	}
	return nil
}

// printJSON writes v as one indented JSON object and a newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printJSONList prints v as printJSON would print it with list in its top-level
// field key, byte for byte, but writes the list element by element: v is encoded with
// that field nil (null; the caller leaves it so), and the null is replaced by the
// elements, each encoded on its own. A large report (rank --json of 300,000 pairs:
// 277 MB) is then never held whole, nor in the encoder's compact and indented
// buffers and their doublings (1.7 GB allocated).
func printJSONList[T any](w io.Writer, v any, key string, list []T) error {
	if len(list) == 0 {
		return printJSON(w, v)
	}
	head, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	// A newline inside a string is escaped, so this is the top-level field.
	marker := []byte("\n  \"" + key + "\": null")
	at := bytes.Index(head, marker)
	if at < 0 {
		return fmt.Errorf("print JSON: no null field %q", key)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head[:at+len(marker)-len("null")])
	bw.WriteString("[\n    ")
	for k := range list {
		b, err := json.MarshalIndent(&list[k], "    ", "  ")
		if err != nil {
			return err
		}
		if k > 0 {
			bw.WriteString(",\n    ")
		}
		bw.Write(b)
	}
	bw.WriteString("\n  ]")
	bw.Write(head[at+len(marker):])
	bw.WriteByte('\n')
	return bw.Flush()
}

// stdin is what an input path of "-" reads; tests replace it.
var stdin io.Reader = os.Stdin

// readInput reads a whole input file; "-" reads standard input.
func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

// openInput opens an input file for streaming; "-" is standard input. The caller
// closes what it returns.
func openInput(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(stdin), nil
	}
	return os.Open(path)
}

// inputName is how messages name an input path.
func inputName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// outputName is how messages name an output path.
func outputName(path string) string {
	if path == "-" {
		return "standard output"
	}
	return path
}

// readSnapshot reads and decodes a snapshot file ("-" reads standard input).
func readSnapshot(path string) (*snapshot.Snapshot, []byte, error) {
	data, err := readInput(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot: %w", err)
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", inputName(path), err)
	}
	return s, data, nil
}

// readSnapshotID is readSnapshot for a command that keeps the decoded snapshot but
// not its bytes: it returns the id and lets the bytes go, then collects once, so
// that the collector's next target is twice what the command keeps rather than twice
// the snapshot and its bytes (agree on 300,000 pairs: 1,022,788 → 851,136 KB peak).
func readSnapshotID(path string) (*snapshot.Snapshot, string, error) {
	s, data, err := readSnapshot(path)
	if err != nil {
		return nil, "", err
	}
	id := snapshot.ID(data)
	data = nil
	runtime.GC()
	return s, id, nil
}

// checkOutput refuses -o - together with --json: both would go to standard output.
func checkOutput(out string, asJSON bool) error {
	if out == "-" && asJSON {
		return usagef("-o - writes the result to standard output, where --json prints its report too; write the result to a file, or leave out --json")
	}
	return nil
}

// messages returns where a command's human-readable lines go: standard output,
// unless the result itself is written there (-o -), then standard error.
func messages(out string, stdout, stderr io.Writer) io.Writer {
	if out == "-" {
		return stderr
	}
	return stdout
}

// writeSnapshot encodes s and writes it to path atomically (see writeOutput; "-"
// writes to stdout). It returns the id.
func writeSnapshot(path string, s *snapshot.Snapshot, stdout io.Writer) (string, error) {
	return writeSnapshotFrom(path, s, nil, nil, stdout)
}

// writeSnapshotFrom is writeSnapshot with the items and judgments taken from items
// and js where they are not nil (snapshot.EncodeFrom): the same bytes as s holding
// them.
func writeSnapshotFrom(path string, s *snapshot.Snapshot, items snapshot.ItemSource, js snapshot.JudgmentSource, stdout io.Writer) (string, error) {
	if s.Provenance.Tool == "" {
		s.Provenance.Tool = toolVersion
	}
	// Encoded straight to the output, hashed on the way: a large snapshot never
	// exists as one buffer of bytes besides its values.
	h := sha256.New()
	encode := func(w io.Writer) error {
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
		if err := snapshot.EncodeFrom(bw, s, items, js); err != nil {
			return err
		}
		return bw.Flush()
	}
	if path == "-" {
		if err := encode(stdout); err != nil {
			return "", fmt.Errorf("write to standard output: %w", err)
		}
	} else if err := writeFileAtomicFunc(path, encode); err != nil {
		return "", err
	}
	return "sha256-" + hex.EncodeToString(h.Sum(nil)), nil
}

// writeOutput writes data to path ("-" writes it to stdout) atomically; see
// writeFileAtomic.
func writeOutput(path string, data []byte, stdout io.Writer) error {
	if path == "-" {
		if _, err := stdout.Write(data); err != nil {
			return fmt.Errorf("write to standard output: %w", err)
		}
		return nil
	}
	return writeFileAtomic(path, data)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, fsynced before the rename, so a crash never leaves a half-written file.
// The file gets the usual permissions: those of the file it replaces, or 0666 less
// the umask for a new file (0644 under the usual umask 022), as os.Create gives.
func writeFileAtomic(path string, data []byte) error {
	return writeFileAtomicFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeFileAtomicFunc is writeFileAtomic with the content written by write.
func writeFileAtomicFunc(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, tmp, err := createTemp(dir, "."+filepath.Base(path)+".tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp) // no-op after a successful rename
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := write(f); err != nil {
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

// createTemp creates a new file dir/prefix+random with mode 0666 before the umask
// (os.CreateTemp would give 0600, which the rename would pass on to the result).
func createTemp(dir, prefix string) (*os.File, string, error) {
	var b [8]byte
	for try := 0; ; try++ {
		rand.Read(b[:])
		name := filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			return f, name, nil
		}
		if !os.IsExist(err) || try == 100 {
			return nil, "", err
		}
	}
}

// optFloat defines a float flag whose zero is a meaningful value: the returned
// pointer stays nil unless the flag is given (the core then takes its default).
func optFloat(fs *flag.FlagSet, name, usage string) **float64 {
	var p *float64
	fs.Func(name, usage, func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		p = &v
		return nil
	})
	return &p
}

// positiveFloat defines a float flag that must be greater than 0 when given; not
// given, it stays 0 and the command's default applies. A value of 0 is refused
// rather than read as "the default", so --beta 0 cannot silently mean β = 0.1.
func positiveFloat(fs *flag.FlagSet, name, usage string) *float64 {
	var v float64
	fs.Func(name, usage, func(s string) error {
		x, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil:
			return fmt.Errorf("%q is not a number", s)
		case !(x > 0) || math.IsInf(x, 1):
			return fmt.Errorf("must be a finite number greater than 0, got %s (for the limit of no KL penalty, take a small value such as 0.001)", s)
		}
		v = x
		return nil
	})
	return &v
}

// untilInterrupted runs a long command with a context that ends on an interrupt
// or SIGTERM, so that it can save what it has and stop cleanly.
func untilInterrupted(run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) func(args []string, stdout, stderr io.Writer) error {
	return func(args []string, stdout, stderr io.Writer) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return run(ctx, args, stdout, stderr)
	}
}
