package cli

import (
	"errors"
	"fmt"
	"io"

	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name:    "verify",
		usage:   "verify SNAP [--json]",
		summary: "check a snapshot's integrity and schema; exit 0 only if it is sound",
		run:     runVerify,
	})
}

type verifyReport struct {
	Input    string             `json:"input"`
	InputID  string             `json:"input_id,omitempty"`
	OK       bool               `json:"ok"`
	Error    string             `json:"error,omitempty"`
	Problems []snapshot.Problem `json:"problems"` // the first snapshot.MaxProblems
	Total    int                `json:"problems_total"`
}

// errUnsound makes verify exit non-zero after it has printed its report.
var errUnsound = errors.New("the snapshot is not sound")

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseIn(fs, args)
	if err != nil {
		return err
	}
	rep := verifyReport{Input: in, Problems: []snapshot.Problem{}}
	s, data, err := readSnapshot(in)
	if err != nil {
		rep.Error = err.Error()
	} else {
		rep.InputID = snapshot.ID(data)
		ps, total := snapshot.CheckCount(s)
		rep.Problems = append(rep.Problems, ps...)
		rep.Total = total
		rep.OK = total == 0
	}
	if *asJSON {
		if err := printJSON(stdout, rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(stdout, "%s: sound (%s)\n", inputName(rep.Input), rep.InputID)
	}
	if rep.Error != "" {
		return fmt.Errorf("%s\nThe file cannot be read as a snapshot; re-download or re-export it", rep.Error)
	}
	if !rep.OK {
		for _, p := range rep.Problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		if rep.Total > len(rep.Problems) {
			fmt.Fprintf(stderr, "  … and %d more not listed\n", rep.Total-len(rep.Problems))
		}
		return fmt.Errorf("%s: %d problem(s) found (the first %d listed above); fix the source data or re-run the command that wrote the file: %w", inputName(rep.Input), rep.Total, len(rep.Problems), errUnsound)
	}
	return nil
}
