package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name:    "demo",
		usage:   "demo -o SNAP [--seed N] [--items N] [--raters SPEC] [--overlap K] [--json]",
		summary: "write a simulated demo dataset: prompts, responses with gold utility, biased raters' judgments",
		run:     runDemo,
	})
}

type demoReport struct {
	Output    string         `json:"output"`
	OutputID  string         `json:"output_id"`
	Seed      uint64         `json:"seed"`
	Items     int            `json:"items"`
	Responses int            `json:"responses"`
	Raters    int            `json:"raters"`
	Judgments int            `json:"judgments"`
	ByKind    map[string]int `json:"judgments_by_kind"`
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	out := fs.String("o", "", "output snapshot file (required; - for standard output)")
	seed := fs.Uint64("seed", 1, "random seed; the output is a pure function of it and the other flags")
	items := fs.Int("items", demo.DefaultItems, "number of prompts")
	raters := fs.String("raters", demo.DefaultPanel, "rater panel, e.g. \"3*expert,2*polite,spammer\" or \"noise=0.5;politeness=2\" (see docs/demo.md)")
	overlap := fs.Int("overlap", demo.DefaultOverlap, "raters per item")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseOut(fs, args, out); err != nil {
		return err
	}
	if *items < 1 || *items > demo.MaxItems {
		return usagef("--items %d is out of range; give 1 to %d", *items, demo.MaxItems)
	}
	panel, err := demo.ParseProfiles(*raters)
	if err != nil {
		return usagef("--raters: %v", err)
	}
	if *overlap < 1 || *overlap > len(panel) {
		return usagef("--overlap %d must be between 1 and the number of raters (%d)", *overlap, len(panel))
	}
	d, err := demo.Generate(demo.Config{Seed: *seed, Items: *items, Raters: panel, Overlap: *overlap})
	if err != nil {
		return err
	}
	s := d.Snapshot()
	// Provenance: the canonical command without the output path, so the same
	// settings give the same bytes wherever the file is written; no creation time.
	s.Provenance = snapshot.Provenance{
		Tool: toolVersion,
		Command: strings.Join([]string{"prefer demo", "--seed", strconv.FormatUint(*seed, 10),
			"--items", strconv.Itoa(*items), "--raters", strconv.Quote(*raters), "--overlap", strconv.Itoa(*overlap)}, " "),
		Seed: *seed,
	}
	id, err := writeSnapshot(*out, s, stdout)
	if err != nil {
		return err
	}
	rep := demoReport{Output: *out, OutputID: id, Seed: *seed, Items: len(d.Items), Raters: len(d.Raters),
		Judgments: len(d.Judgments), ByKind: map[string]int{}}
	for _, it := range d.Items {
		rep.Responses += len(it.Responses)
	}
	for k, n := range feedback.Counts(d.Judgments) {
		rep.ByKind[string(k)] = n
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(messages(*out, stdout, stderr), "%s: %d items, %d responses, %d raters, %d judgments (%s)\n",
		outputName(rep.Output), rep.Items, rep.Responses, rep.Raters, rep.Judgments, rep.OutputID)
	return nil
}
