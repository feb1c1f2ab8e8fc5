package cli

import (
	"fmt"
	"io"
	"sort"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name:    "inspect",
		usage:   "inspect SNAP [--json]",
		summary: "show what is inside a snapshot: id, sizes, counts, models, runs",
		run:     runInspect,
	})
}

// inspectReport is the JSON printed by `prefer inspect --json`.
type inspectReport struct {
	Input      string                `json:"input"`
	InputID    string                `json:"input_id"`
	Bytes      int                   `json:"bytes"`
	Version    int                   `json:"version"`
	Provenance provenanceJSON        `json:"provenance"`
	Items      int                   `json:"items"`
	Responses  int                   `json:"responses"`
	Raters     int                   `json:"raters"`
	Judgments  int                   `json:"judgments"`
	ByKind     map[feedback.Kind]int `json:"judgments_by_kind"`
	Guidelines []int                 `json:"guideline_versions"`
	Models     []inspectModel        `json:"models"`
	Runs       []inspectRun          `json:"runs"`
	ExtraKeys  []string              `json:"unknown_keys,omitempty"`
}

// provenanceJSON is a snapshot's provenance with the snapshot format's own keys.
type provenanceJSON struct {
	Tool    string `json:"tool"`
	Created string `json:"created,omitempty"`
	Parent  string `json:"parent,omitempty"`
	Command string `json:"command,omitempty"`
	Seed    uint64 `json:"seed"`
	Note    string `json:"note,omitempty"`
}

type inspectModel struct {
	Name       string             `json:"name"`
	Family     string             `json:"family"`
	Parameters int                `json:"parameters"`
	Tensors    int                `json:"tensors"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
}

type inspectRun struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Seed   uint64   `json:"seed"`
	Steps  int      `json:"steps"`
	Series []string `json:"series"`
	Notes  []string `json:"notes,omitempty"`
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseIn(fs, args)
	if err != nil {
		return err
	}
	s, data, err := readSnapshot(in)
	if err != nil {
		return err
	}
	rep := inspectReport{
		Input: in, InputID: snapshot.ID(data), Bytes: len(data), Version: snapshot.VersionOf(s),
		Provenance: provenanceJSON(s.Provenance),
		Items:      len(s.Items), Raters: len(s.Raters), Judgments: len(s.Judgments),
		ByKind: feedback.Counts(s.Judgments), Models: []inspectModel{}, Runs: []inspectRun{},
	}
	for _, it := range s.Items {
		rep.Responses += len(it.Responses)
	}
	for _, g := range s.Guidelines {
		rep.Guidelines = append(rep.Guidelines, g.Version)
	}
	for _, m := range s.Models {
		im := inspectModel{Name: m.Name, Family: m.Family, Tensors: len(m.Tensors), Metrics: m.Metrics}
		for _, t := range m.Tensors {
			im.Parameters += len(t.Data)
		}
		rep.Models = append(rep.Models, im)
	}
	for _, r := range s.Runs {
		ir := inspectRun{Name: r.Name, Kind: r.Kind, Seed: r.Seed, Notes: r.Notes, Series: []string{}}
		for name, v := range r.Series {
			ir.Series = append(ir.Series, name)
			ir.Steps = max(ir.Steps, len(v))
		}
		sort.Strings(ir.Series)
		rep.Runs = append(rep.Runs, ir)
	}
	for k := range s.Extra {
		rep.ExtraKeys = append(rep.ExtraKeys, k)
	}
	sort.Strings(rep.ExtraKeys)
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "%s\n%d bytes, snapshot version %d, made by %s\n", rep.InputID, rep.Bytes, rep.Version, orDash(s.Provenance.Tool))
	if p := s.Provenance; p.Parent != "" || p.Command != "" || p.Seed != 0 {
		fmt.Fprintf(stdout, "parent %s, command %q, seed %d\n", orDash(p.Parent), p.Command, p.Seed)
	}
	fmt.Fprintf(stdout, "%d items, %d responses, %d raters, %d judgments", rep.Items, rep.Responses, rep.Raters, rep.Judgments)
	if len(rep.ByKind) > 0 {
		fmt.Fprint(stdout, " (")
		first := true
		for _, k := range feedback.Kinds {
			if n := rep.ByKind[k]; n > 0 {
				if !first {
					fmt.Fprint(stdout, ", ")
				}
				fmt.Fprintf(stdout, "%d %s", n, k)
				first = false
			}
		}
		fmt.Fprint(stdout, ")")
	}
	fmt.Fprintln(stdout)
	for _, m := range rep.Models {
		fmt.Fprintf(stdout, "model %s: %s, %d parameters in %d tensors\n", m.Name, m.Family, m.Parameters, m.Tensors)
	}
	for _, r := range rep.Runs {
		fmt.Fprintf(stdout, "run %s: %s, seed %d, %d steps\n", r.Name, r.Kind, r.Seed, r.Steps)
		for _, n := range r.Notes {
			fmt.Fprintf(stdout, "  note: %s\n", n)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
