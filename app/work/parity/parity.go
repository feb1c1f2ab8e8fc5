// Package parity holds the parity cases of the browser's job kinds: each case is
// a worker job (package app/work) and the prefer command (server/cli) that must
// compute the same thing from the same input, settings and seed, with the hash
// both must give. The cases are data (parity.json, embedded); two tests run them:
// app/work's TestParity runs the jobs, natively and under wasm (make test-wasm),
// and server/cli's TestParity runs the commands, so the CLI, the native worker and
// the wasm worker are checked against one pinned hash.
//
// Only tests import this package.
package parity

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"prefer/app/jobs"
	"prefer/core/policy"
	"prefer/core/snapshot"
)

//go:embed parity.json
var casesJSON []byte

// File is the name of the cases file in this package's directory (for -update).
const File = "parity.json"

// Case is one job kind's parity check.
type Case struct {
	Name string `json:"name"`
	// Input is the state the job and the command start from: "" none, or one of
	// the Inputs (made by jobs, so that both sides read the same bytes).
	Input string `json:"input"`
	// Job is the worker request without its state.
	Job jobs.Request `json:"job"`
	// Ref says the job gets the shipped reference language model
	// (static/web/ref-lm.snap) as Request.Ref, as the browser sends it; the
	// command finds the same file itself.
	Ref bool `json:"ref,omitempty"`
	// File is a file the job imports (ImportParams.Data; path from the repository
	// root).
	File string `json:"file,omitempty"`
	// CLI is the prefer command line; IN and OUT stand for the input and output
	// files, FILE for File.
	CLI []string `json:"cli"`
	// What is hashed (Hash):
	//	run     policy.RunHash of the run named Run (worker) and CLIRun (command)
	//	state   the output snapshot without its provenance (StateHash)
	//	file    the bytes of the job's Result.File and of the command's OUT
	//	json    the job's Result.File and the command's stdout as canonical JSON
	What   string `json:"what"`
	Run    string `json:"run,omitempty"`
	CLIRun string `json:"cli_run,omitempty"`
	// Hash is the pinned value both sides must give.
	Hash string `json:"hash"`
	// Why says what the case checks.
	Why string `json:"why"`
}

// WorkerHash is the hash of a job's result, by What.
func (c *Case) WorkerHash(res *jobs.Result) (string, error) {
	switch c.What {
	case "run":
		return RunHash(res.Snapshot, c.Run)
	case "state":
		if res.Import != nil {
			// An import's state waits in File for the page to apply it.
			return StateHash(res.File)
		}
		return StateHash(res.Snapshot)
	case "file":
		return BytesHash(res.File), nil
	case "json":
		return JSONHash(res.File)
	}
	return "", fmt.Errorf("case %s: unknown what %q", c.Name, c.What)
}

// CLIHash is the hash of a command's output file out and standard output, by
// What.
func (c *Case) CLIHash(out, stdout []byte) (string, error) {
	switch c.What {
	case "run":
		return RunHash(out, c.CLIRun)
	case "state":
		return StateHash(out)
	case "file":
		return BytesHash(out), nil
	case "json":
		return JSONHash(stdout)
	}
	return "", fmt.Errorf("case %s: unknown what %q", c.Name, c.What)
}

// UpdateHint ends a failed case's message: what to do when the change is meant.
const UpdateHint = `
	When both the command and the job now give the new hash because their output is
	meant to change, record it with 'go test ./app/work -run TestParity -update' and
	say why in the commit; when only one side changed, they no longer share the core
	function or its defaults: make them do so again.`

// Cases are the parity cases.
func Cases() ([]Case, error) {
	var cs []Case
	if err := json.Unmarshal(casesJSON, &cs); err != nil {
		return nil, fmt.Errorf("parity.json: %w", err)
	}
	return cs, nil
}

var simulated = jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: 7, Items: 20, Panel: "expert,polite,verbose", Overlap: 3}}

// Inputs are the requests that make the named input states, in order: each
// starts from the state of the one before.
var Inputs = map[string][]jobs.Request{
	// 20 demo prompts labeled by an expert, a polite and a verbose rater.
	"simulated": {simulated},
	// The same with the linear reward model of train-rm (seed 1, split by pair).
	"trained": {simulated, {Kind: jobs.KindTrainRM, TrainRM: &jobs.TrainRMParams{Seed: 1, SplitBy: "pair"}}},
}

// Input makes the named input state with run (work.Run: this package cannot import
// app/work, whose tests import it).
func Input(name string, run func(*jobs.Request) (*jobs.Result, error)) ([]byte, error) {
	reqs, ok := Inputs[name]
	if !ok {
		return nil, fmt.Errorf("no input %q", name)
	}
	var state []byte
	for _, r := range reqs {
		r.Snapshot = state
		res, err := run(&r)
		if err != nil {
			return nil, fmt.Errorf("input %s: %s: %w", name, r.Kind, err)
		}
		state = res.Snapshot
	}
	return state, nil
}

// StateHash is the hash of a snapshot's content without its provenance (which
// names the tool and the command): the first 16 hex digits of its id.
func StateHash(data []byte) (string, error) {
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		return "", err
	}
	s.Provenance = snapshot.Provenance{}
	out, err := snapshot.Marshal(s)
	if err != nil {
		return "", err
	}
	return BytesHash(out), nil
}

// BytesHash is the first 16 hex digits of the SHA-256 of data.
func BytesHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// JSONHash is the BytesHash of data re-encoded canonically (object keys sorted,
// no space), so that indentation does not matter.
func JSONHash(data []byte) (string, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "", err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return BytesHash(out), nil
}

// RunHash is policy.RunHash of the run named name in the encoded snapshot.
func RunHash(data []byte, name string) (string, error) {
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		return "", err
	}
	r := s.Run(name)
	if r == nil {
		return "", fmt.Errorf("no run %q", name)
	}
	return policy.RunHash(r), nil
}

// Update returns the cases file with the hashes replaced by got (by case name).
func Update(cs []Case, got map[string]string) ([]byte, error) {
	for i := range cs {
		if h, ok := got[cs[i].Name]; ok {
			cs[i].Hash = h
		}
	}
	out, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
