package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"prefer/core/feedback"
	"prefer/core/formats"
	"prefer/core/snapshot"
	"prefer/server/parquet"
)

func init() {
	register(&command{
		name:    "import",
		usage:   "import [--format auto|trl|hh-rlhf|jsonl|labelstudio|summarize|shp] [--map FIELD=PATH]... FILE... -o SNAP [--skip-bad] [--max-records N] [--json]",
		summary: "import preference datasets into a new snapshot (several files merge into one)",
		run:     runImport,
	})
}

// importReport is the JSON printed by `prefer import --json`.
type importReport struct {
	Format     string         `json:"format"`
	Output     string         `json:"output"`
	OutputID   string         `json:"output_id"`
	Items      int            `json:"items"`
	Responses  int            `json:"responses"`
	Raters     int            `json:"raters"`
	Judgments  int            `json:"judgments"`
	ByKind     map[string]int `json:"judgments_by_kind"`
	Records    int            `json:"records"`
	Skipped    int            `json:"skipped"`
	Duplicates int            `json:"duplicates"`
	Ignored    int            `json:"ignored"`
	Conflicts  int            `json:"conflicts"`
	Inputs     []importedFile `json:"inputs"`
}

// importedFile is what one input file gave.
type importedFile struct {
	Path       string   `json:"path"`
	Format     string   `json:"format"`             // the format read
	Parquet    bool     `json:"parquet,omitempty"`  // the file is Parquet (its rows read as records)
	Detected   string   `json:"detected,omitempty"` // why --format auto chose it
	SHA256     string   `json:"sha256"`
	Records    int      `json:"records"`
	Judgments  int      `json:"judgments"`
	Skipped    int      `json:"skipped"`
	Duplicates int      `json:"duplicates"`
	Ignored    int      `json:"ignored"`
	Problems   []string `json:"problems,omitempty"`
}

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	format := fs.String("format", "auto", "input format: auto (recognise each file from its first record), "+strings.Join(formats.Importers, ", "))
	var mapFlags repeatedFlag
	fs.Var(&mapFlags, "map", "read a field from another place: FIELD=PATH, e.g. prompt=question or data.prompt=data.question (repeatable; docs/formats.md)")
	out := fs.String("o", "", "the snapshot to write (- for standard output)")
	skipBad := fs.Bool("skip-bad", false, "skip bad lines (counted and reported on stderr) instead of failing")
	maxRecords := fs.Int("max-records", 0, "stop with an error after this many records in all (0: no limit); a bound on what a small, highly compressed file can make the import keep")
	asJSON := fs.Bool("json", false, "print one JSON object")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *format != "auto" && !slices.Contains(formats.Importers, *format):
		return usagef("unknown --format %q; use auto or one of %s", *format, strings.Join(formats.Importers, ", "))
	case len(files) == 0:
		return usagef("give at least one dataset file to import")
	case *out == "":
		return usagef("give the output snapshot with -o SNAP (- for standard output)")
	case countOf(files, "-") > 1:
		return usagef("standard input (-) can be read only once")
	}
	if err := checkOutput(*out, *asJSON); err != nil {
		return err
	}

	// Compact: the judgments are held in about a quarter of the memory and written to
	// the snapshot one at a time (formats.Compact); merging files expands them.
	opt := formats.Options{Lenient: *skipBad, Compact: true}
	var maps []formats.FieldMap
	for _, m := range mapFlags {
		fm, err := formats.ParseFieldMap(m)
		if err != nil {
			return usagef("--map %v", err)
		}
		maps = append(maps, fm)
	}
	if len(maps) > 0 {
		opt.Rewrite = formats.MapFields(maps)
	}
	if limit := importMemoryLimit(files); limit > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	}
	rep := importReport{Format: *format, Output: *out, ByKind: map[string]int{}, Inputs: []importedFile{}}
	merged := &formats.Dataset{}
	var sources []string
	for _, path := range files {
		fopt := opt
		fopt.Warn = func(msg string) {
			fmt.Fprintf(stderr, "prefer import: %s: warning: %s\n", path, msg)
		}
		if *maxRecords > 0 {
			if fopt.MaxRecords = *maxRecords - rep.Records; fopt.MaxRecords <= 0 {
				return fmt.Errorf("%s: not read: the files before it hold --max-records %d records already", path, *maxRecords)
			}
		}
		d, fr, err := importFile(path, *format, fopt)
		var tm *formats.TooManyRecordsError
		if errors.As(err, &tm) {
			return fmt.Errorf("%s: stopped after %d records in all (--max-records %d): raise --max-records if the data is what you meant", path, *maxRecords, *maxRecords)
		}
		if err == nil && fr.Judgments == 0 && fr.Skipped > 0 && d.Stats().Items == 0 {
			err = errNothingRead
		}
		if err != nil {
			return importError(path, *format, opt, err)
		}
		if fr.Detected != "" && !*asJSON {
			fmt.Fprintf(stderr, "prefer import: %s: read as %s (%s)\n", inputName(path), fr.Format, fr.Detected)
		}
		if len(files) == 1 {
			merged = d // nothing to merge with: no copy
		} else {
			_, conflicts, err := merged.Merge(d)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			rep.Conflicts += conflicts
		}
		rep.Inputs = append(rep.Inputs, fr)
		rep.Records += fr.Records
		rep.Skipped += fr.Skipped
		rep.Duplicates += fr.Duplicates
		rep.Ignored += fr.Ignored
		sources = append(sources, filepath.Base(path)+" sha256:"+fr.SHA256)
		if fr.Skipped > 0 {
			fmt.Fprintf(stderr, "prefer import: %s: skipped %d bad line(s)\n", path, fr.Skipped)
			for _, p := range fr.Problems[:min(5, len(fr.Problems))] {
				fmt.Fprintf(stderr, "  %s\n", p)
			}
		}
	}
	if rep.Conflicts > 0 {
		fmt.Fprintf(stderr, "prefer import: %d judgment id(s) appear with different content in different files; kept one of each\n", rep.Conflicts)
	}
	var js judgmentList = sliceList(merged.Judgments)
	var items snapshot.ItemSource
	if merged.Compact != nil {
		js, items = merged.Compact, merged.Compact.Items()
	}
	if err := checkReviewTargets(js); err != nil {
		return err
	}

	cmd := []string{"prefer import --format", *format}
	for _, m := range maps {
		cmd = append(cmd, "--map", m.String())
	}
	if *skipBad {
		cmd = append(cmd, "--skip-bad")
	}
	for _, f := range files {
		cmd = append(cmd, filepath.Base(f))
	}
	s := &snapshot.Snapshot{
		Provenance: snapshot.Provenance{Command: strings.Join(cmd, " "), Note: "sources: " + strings.Join(sources, ", ")},
		Items:      merged.Items,
		Raters:     merged.Raters,
	}
	// The importers give every judgment an id of its own and Merge keeps one per
	// id: sorted, they are the log's, without a copy through feedback.Log.
	if merged.Compact != nil {
		merged.Compact.SortCanonical()
	} else {
		feedback.SortCanonical(merged.Judgments)
	}
	id, err := writeSnapshotFrom(*out, s, items, js, stdout)
	if err != nil {
		return err
	}
	st := merged.Stats()
	rep.OutputID, rep.Items, rep.Responses, rep.Raters, rep.Judgments = id, st.Items, st.Responses, st.Raters, st.Judgments
	for k, n := range st.ByKind {
		rep.ByKind[string(k)] = n
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(messages(*out, stdout, stderr), "imported %d judgments (%s) on %d items with %d responses, %d raters, from %d file(s)\nwrote %s (%s)\n",
		rep.Judgments, importKindSummary(rep.ByKind), rep.Items, rep.Responses, rep.Raters, len(files), outputName(*out), id)
	return nil
}

// Import's soft memory limit (debug.SetMemoryLimit): importLimitFactor × the
// inputs' size, and at least importLimitFloor. An import of JSON lines holds about
// 2× its input at its peak (300,000 TRL pairs, 80 MB: ~165 MB live at the end of the
// build with the builder's indexes, 140 MB after; shorter records hold more per
// byte); without a limit the garbage collector lets the heap grow to twice what is
// live before it collects, which puts the peak at 3.5× the file (283 MB). Under the
// limit it collects sooner: 2.75× the file at the peak for about 15% more CPU
// time (docs/formats.md has the figures). Where the live data is more than the limit
// it collects often, at a cost of CPU (the runtime gives the collector at most half
// of it), never an error.
const (
	importLimitFactor = 2.75
	importLimitFloor  = 64 << 20
)

// importMemoryLimit returns the soft memory limit for importing files, or 0 for
// none: when GOMEMLIMIT is set (the user's choice stands) or when an input's size
// does not bound what it decodes to (standard input, gzip, Parquet).
func importMemoryLimit(files []string) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	var size int64
	for _, path := range files {
		if path == "-" {
			return 0
		}
		f, err := os.Open(path)
		if err != nil {
			return 0 // the import reports it
		}
		var head [4]byte
		n, _ := io.ReadFull(f, head[:])
		st, err := f.Stat()
		f.Close()
		if err != nil || !st.Mode().IsRegular() || formats.IsGzip(head[:n]) || parquet.IsParquet(head[:n]) {
			return 0
		}
		size += st.Size()
	}
	return max(int64(importLimitFactor*float64(size)), importLimitFloor)
}

// importFile imports one file ("-" is standard input) and hashes its bytes.
func importFile(path, format string, opt formats.Options) (*formats.Dataset, importedFile, error) {
	fr := importedFile{Path: path}
	h := sha256.New()
	r, isPQ, err := openDataset(path, h)
	if err != nil {
		return nil, fr, err
	}
	defer r.Close()
	if !isPQ && path != "-" {
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			opt.InputSize = st.Size() // sizes the importer's arrays once (formats.Options)
		}
	}
	d, rep, err := formats.Import(format, r, opt)
	if err != nil {
		if isPQ {
			err = fmt.Errorf("%w (lines are the rows of the Parquet file)", err)
		}
		return nil, fr, err
	}
	fr.Format, fr.Detected, fr.Parquet = rep.Format, rep.Detected, isPQ
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fr, fmt.Errorf("read dataset: %w", err)
	}
	fr.SHA256 = hex.EncodeToString(h.Sum(nil))
	fr.Records, fr.Judgments, fr.Skipped, fr.Duplicates, fr.Ignored, fr.Problems = rep.Records, rep.Judgments, rep.Skipped, rep.Duplicates, rep.Ignored, rep.Problems
	return d, fr, nil
}

// openDataset opens a dataset file for an importer ("-" is standard input): a
// Parquet file (recognised by its magic bytes, whatever its name) as the JSON lines
// of its rows (package server/parquet), anything else as it is. h receives the
// file's bytes: all of them for Parquet, as they are read otherwise (read the
// reader to its end).
func openDataset(path string, h io.Writer) (io.ReadCloser, bool, error) {
	in, err := openInput(path)
	if err != nil {
		return nil, false, fmt.Errorf("open dataset: %w", err)
	}
	br := bufio.NewReaderSize(in, 64<<10)
	head, _ := br.Peek(4)
	if !parquet.IsParquet(head) {
		return readCloser{io.TeeReader(br, h), in}, false, nil
	}
	// Parquet is read from its footer: it needs the whole file at hand.
	var ra io.ReaderAt
	var size int64
	if f, ok := in.(*os.File); ok {
		st, err := f.Stat()
		if err != nil {
			in.Close()
			return nil, true, fmt.Errorf("open dataset: %w", err)
		}
		if _, err := io.Copy(h, f); err != nil {
			in.Close()
			return nil, true, fmt.Errorf("read dataset: %w", err)
		}
		ra, size = f, st.Size()
	} else {
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, true, fmt.Errorf("read dataset: %w", err)
		}
		h.Write(data)
		ra, size = bytes.NewReader(data), int64(len(data))
	}
	rows, _, err := parquet.Records(ra, size)
	if err != nil {
		in.Close()
		return nil, true, err
	}
	return readCloser{rows, closers{rows, in}}, true, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// errNothingRead marks a lenient import in which every record was bad.
var errNothingRead = errors.New("no record could be read")

// importError explains why a file did not import: the first few bad lines and how
// many more (read again leniently to count them), and, when the file looks like
// another format, which one and how to say so.
func importError(path, format string, opt formats.Options, err error) error {
	name := inputName(path)
	var le *formats.LineError
	if !errors.Is(err, errNothingRead) && !errors.As(err, &le) {
		if errors.Is(err, formats.ErrUnknownFormat) {
			return fmt.Errorf("%s: %w", name, err)
		}
		return fmt.Errorf("%s: %w\ncheck that the file is a %s dataset", name, err, format)
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s: %v", name, err)
	used := format
	if path != "-" {
		// Count the bad records and show the first few: one more lenient pass.
		lenient := opt
		lenient.Lenient = true
		if _, fr, lerr := importFile(path, format, lenient); lerr == nil && fr.Skipped > 0 {
			used = fr.Format
			msg.Reset()
			fmt.Fprintf(&msg, "%s: %d of %d records could not be read as %s:\n  %s", name, fr.Skipped, fr.Records, fr.Format,
				strings.ReplaceAll(formats.ProblemSummary(&formats.Report{Skipped: fr.Skipped, Problems: fr.Problems}, 3), "\n", "\n  "))
		}
		if f, _, ferr := openDataset(path, io.Discard); ferr == nil {
			det, derr := formats.Detect(f, formats.Options{MaxRecord: opt.MaxRecord, Rewrite: opt.Rewrite})
			f.Close()
			if derr == nil && det.Format != used {
				fmt.Fprintf(&msg, "\nthis looks like %s (%s): use --format %s, or leave --format out to let Prefer recognise it", det.Format, det.Why, det.Format)
				return errors.New(msg.String())
			}
		}
	}
	if errors.Is(err, errNothingRead) {
		fmt.Fprintf(&msg, "\nnothing was imported and nothing written; check the format (--format) and the field names (--map)")
	} else {
		fmt.Fprintf(&msg, "\nfix the line, or pass --skip-bad to skip bad records")
	}
	return errors.New(msg.String())
}

// checkReviewTargets checks, once all files are merged, that every review and
// every revision names a judgment that was imported and may be reviewed or revised
// by it (feedback.ValidateLink).
// The index of ids is made only when some judgment names another.
func checkReviewTargets(js judgmentList) error {
	var linked []int
	for i := range js.Len() {
		if js.Linked(i) {
			linked = append(linked, i)
		}
	}
	if len(linked) == 0 {
		return nil
	}
	byID := make(map[string]int, js.Len())
	var j feedback.Judgment
	for i := range js.Len() {
		js.Judgment(i, &j)
		byID[j.ID] = i
	}
	get := func(id string) (feedback.Judgment, bool) {
		var t feedback.Judgment
		i, ok := byID[id]
		if ok {
			js.Judgment(i, &t)
		}
		return t, ok
	}
	for _, i := range linked {
		js.Judgment(i, &j)
		if err := feedback.ValidateLink(&j, get); err != nil {
			return fmt.Errorf("%w; import the file with the judgment it names too", err)
		}
	}
	return nil
}

// judgmentList is the judgments of an import: a slice, or a formats.Compact.
type judgmentList interface {
	snapshot.JudgmentSource
	Linked(i int) bool // a review or a revision
}

type sliceList []feedback.Judgment

func (s sliceList) Len() int                             { return len(s) }
func (s sliceList) Judgment(i int, j *feedback.Judgment) { *j = s[i] }
func (s sliceList) Linked(i int) bool                    { return s[i].Kind == feedback.KindReview || s[i].Revises != "" }

// importKindSummary renders counts by kind in the fixed order of feedback.Kinds.
func importKindSummary(by map[string]int) string {
	var parts []string
	for _, k := range feedback.Kinds {
		if n := by[string(k)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// countOf returns how many times s appears in list.
func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
