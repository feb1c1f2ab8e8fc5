package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"prefer/core/formats"
	"prefer/core/snapshot"
	"prefer/server/parquet"
)

func init() {
	register(&command{
		name:    "export",
		usage:   "export --format trl|trl-conversational|kto|hh-rlhf|jsonl|safetensors SNAP -o FILE [--parquet] [--json]",
		summary: "export a snapshot's feedback as a dataset file, or its models as safetensors",
		run:     runExport,
	})
}

// exportReport is the JSON printed by `prefer export --json`.
type exportReport struct {
	Format  string         `json:"format"`
	Input   string         `json:"input"`
	InputID string         `json:"input_id"`
	Output  string         `json:"output"`
	Records int            `json:"records"`
	Skipped map[string]int `json:"skipped"`
	Bytes   int            `json:"bytes"`
	Parquet bool           `json:"parquet,omitempty"`
}

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	format := fs.String("format", "", "output format: "+strings.Join(formats.Exporters, ", "))
	out := fs.String("o", "", "the file to write (- for standard output)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	asParquet := fs.Bool("parquet", false, "write Parquet, the Hub's format (trl, trl-conversational, kto, hh-rlhf); implied by -o FILE.parquet")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *format == "":
		return usagef("give --format (%s)", strings.Join(formats.Exporters, ", "))
	case !slices.Contains(formats.Exporters, *format):
		return usagef("unknown --format %q; use one of %s", *format, strings.Join(formats.Exporters, ", "))
	case len(pos) != 1:
		return usagef("give exactly one snapshot file")
	case *out == "":
		return usagef("give the output file with -o FILE (- for standard output)")
	}
	if err := checkOutput(*out, *asJSON); err != nil {
		return err
	}
	if strings.HasSuffix(strings.ToLower(*out), ".parquet") {
		*asParquet = true
	}
	if *asParquet && !slices.Contains(parquet.Formats, *format) {
		return usagef("Parquet holds the trainer formats (%s), not %s", strings.Join(parquet.Formats, ", "), *format)
	}
	s, data, err := readSnapshot(pos[0])
	if err != nil {
		return err
	}
	id := snapshot.ID(data)
	var buf bytes.Buffer
	var rep *formats.ExportReport
	if *format == "safetensors" {
		if len(s.Models) == 0 {
			return fmt.Errorf("%s has no models to export; train one with 'prefer train-rm' first", pos[0])
		}
		rep, err = formats.WriteSafetensors(&buf, s.Models, map[string]string{"snapshot": id})
	} else {
		rep, err = formats.Export(*format, &buf, &formats.Dataset{Items: s.Items, Raters: s.Raters, Judgments: s.Judgments})
	}
	if err != nil {
		return fmt.Errorf("%s: %w; run 'prefer verify %s' to see whether the snapshot is sound", pos[0], err, pos[0])
	}
	if *asParquet {
		var pb bytes.Buffer
		if _, err := parquet.Write(&pb, *format, buf.Bytes()); err != nil {
			return err
		}
		buf = pb
	}
	if err := writeOutput(*out, buf.Bytes(), stdout); err != nil {
		return err
	}
	if n := rep.SkippedTotal(); n > 0 {
		fmt.Fprintf(stderr, "prefer export: left out %d judgment(s) that %s cannot hold: %s\n", n, *format, exportSkippedSummary(rep.Skipped))
	}
	r := exportReport{Format: *format, Input: pos[0], InputID: id, Output: *out, Records: rep.Records, Skipped: rep.Skipped, Bytes: buf.Len(), Parquet: *asParquet}
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	if *asJSON {
		return printJSON(stdout, r)
	}
	if *out != "-" {
		fmt.Fprintf(stdout, "wrote %d %s record(s), %d bytes, to %s\n", r.Records, *format, r.Bytes, *out)
	}
	return nil
}

// exportSkippedSummary renders skip counts sorted by reason.
func exportSkippedSummary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
