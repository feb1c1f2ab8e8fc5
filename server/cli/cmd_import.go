package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"prefer/core/feedback"
	"prefer/core/formats"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name:    "import",
		usage:   "import --format trl|hh-rlhf|jsonl|labelstudio|summarize FILE... -o SNAP [--skip-bad] [--max-records N] [--json]",
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
	format := fs.String("format", "", "input format: "+strings.Join(formats.Importers, ", "))
	out := fs.String("o", "", "the snapshot to write (- for standard output)")
	skipBad := fs.Bool("skip-bad", false, "skip bad lines (counted and reported on stderr) instead of failing")
	maxRecords := fs.Int("max-records", 0, "stop with an error after this many records in all (0: no limit); a bound on what a small, highly compressed file can make the import keep")
	asJSON := fs.Bool("json", false, "print one JSON object")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *format == "":
		return usagef("give --format (%s)", strings.Join(formats.Importers, ", "))
	case !slices.Contains(formats.Importers, *format):
		return usagef("unknown --format %q; use one of %s", *format, strings.Join(formats.Importers, ", "))
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

	rep := importReport{Format: *format, Output: *out, ByKind: map[string]int{}, Inputs: []importedFile{}}
	merged := &formats.Dataset{}
	var sources []string
	for _, path := range files {
		opt := formats.Options{Lenient: *skipBad, Warn: func(msg string) {
			fmt.Fprintf(stderr, "prefer import: %s: warning: %s\n", path, msg)
		}}
		if *maxRecords > 0 {
			if opt.MaxRecords = *maxRecords - rep.Records; opt.MaxRecords <= 0 {
				return fmt.Errorf("%s: not read: the files before it hold --max-records %d records already", path, *maxRecords)
			}
		}
		d, fr, err := importFile(path, *format, opt)
		var tm *formats.TooManyRecordsError
		if errors.As(err, &tm) {
			return fmt.Errorf("%s: stopped after %d records in all (--max-records %d): raise --max-records if the data is what you meant", path, *maxRecords, *maxRecords)
		}
		if err != nil {
			hint := "fix the line or pass --skip-bad to skip bad lines (and check that the file is in --format " + *format + ")"
			var le *formats.LineError
			if !errors.As(err, &le) {
				hint = "check that the file is a " + *format + " dataset"
			}
			return fmt.Errorf("%s: %w\n%s", path, err, hint)
		}
		_, conflicts, err := merged.Merge(d)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rep.Conflicts += conflicts
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
	if err := checkReviewTargets(merged.Judgments); err != nil {
		return err
	}

	cmd := []string{"prefer import --format", *format}
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
	s.SetLog(feedback.NewLog(merged.Judgments...))
	id, err := writeSnapshot(*out, s, stdout)
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

// importFile imports one file ("-" is standard input) and hashes its bytes.
func importFile(path, format string, opt formats.Options) (*formats.Dataset, importedFile, error) {
	fr := importedFile{Path: path}
	r, err := openInput(path)
	if err != nil {
		return nil, fr, fmt.Errorf("open dataset: %w", err)
	}
	defer r.Close()
	h := sha256.New()
	tee := io.TeeReader(r, h)
	d, rep, err := formats.Import(format, tee, opt)
	if err != nil {
		return nil, fr, err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, fr, fmt.Errorf("read dataset: %w", err)
	}
	fr.SHA256 = hex.EncodeToString(h.Sum(nil))
	fr.Records, fr.Judgments, fr.Skipped, fr.Duplicates, fr.Ignored, fr.Problems = rep.Records, rep.Judgments, rep.Skipped, rep.Duplicates, rep.Ignored, rep.Problems
	return d, fr, nil
}

// checkReviewTargets checks, once all files are merged, that every review and
// every revision names a judgment that was imported and may be reviewed or revised
// by it (feedback.ValidateLink).
func checkReviewTargets(js []feedback.Judgment) error {
	byID := make(map[string]int, len(js))
	for i, j := range js {
		byID[j.ID] = i
	}
	get := func(id string) (feedback.Judgment, bool) {
		i, ok := byID[id]
		if !ok {
			return feedback.Judgment{}, false
		}
		return js[i], true
	}
	for i := range js {
		if err := feedback.ValidateLink(&js[i], get); err != nil {
			return fmt.Errorf("%w; import the file with the judgment it names too", err)
		}
	}
	return nil
}

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
