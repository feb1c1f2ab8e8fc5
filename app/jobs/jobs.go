// Package jobs is the long work of the workbench and the protocol that carries it
// between the UI and the training worker.
//
// The UI encodes a Request (msgpack) and posts it to the worker (wasm/worker), which
// calls Handle: the job runs on package core, reports Progress messages as it goes
// and returns a Result. The same Handle runs natively in tests and benchmarks, so the
// worker's output can be compared with a native run bit for bit and its speed with
// native speed. Jobs are deterministic given the request (its seeds).
package jobs

import (
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"prefer/core/snapshot"
)

// Request is one job for the worker. Kind selects the job. The working state is
// Snapshot (the encoded state as stored) merged with Delta (an encoded snapshot of
// what changed since, usually new judgments); see State. The field named after the
// kind holds its parameters.
type Request struct {
	Kind     string  `msgpack:"kind"`
	Snapshot []byte  `msgpack:"snapshot,omitempty"`
	Delta    []byte  `msgpack:"delta,omitempty"`
	Params   *Params `msgpack:"params,omitempty"`
}

// State decodes the request's working state: Snapshot merged with Delta.
func (r *Request) State() (*snapshot.Snapshot, error) {
	s := &snapshot.Snapshot{}
	if len(r.Snapshot) > 0 {
		var err error
		if s, err = snapshot.Unmarshal(r.Snapshot); err != nil {
			return nil, fmt.Errorf("decode the working state: %w", err)
		}
	}
	if len(r.Delta) > 0 {
		d, err := snapshot.Unmarshal(r.Delta)
		if err != nil {
			return nil, fmt.Errorf("decode the new judgments: %w", err)
		}
		Merge(s, d)
	}
	return s, nil
}

// Progress is a report from a running job: what it is doing, how far it is, and the
// latest values of its metric series (for live curves).
type Progress struct {
	Phase   string             `msgpack:"phase"`
	Step    int                `msgpack:"step"`
	Total   int                `msgpack:"total"`
	Metrics map[string]float64 `msgpack:"metrics,omitempty"`
	Mem     int64              `msgpack:"mem,omitempty"` // worker wasm memory, bytes
}

// Result is what a finished job returns: when the job changed the state, the new
// working state (Snapshot, encoded, to store as it is) and what changed (Delta, an
// encoded snapshot to Merge into the UI's copy, so the UI never decodes the whole
// state); a summary of named numbers, human-readable findings, the time the job took
// in the worker and the worker's memory at the end.
type Result struct {
	Snapshot []byte             `msgpack:"snapshot,omitempty"`
	Delta    []byte             `msgpack:"delta,omitempty"`
	Replace  bool               `msgpack:"replace,omitempty"` // Snapshot is a new state, not a change of the old one
	File     []byte             `msgpack:"file,omitempty"`    // an exported file
	Summary  map[string]float64 `msgpack:"summary,omitempty"`
	Notes    []string           `msgpack:"notes,omitempty"`
	Millis   float64            `msgpack:"ms"`
	Mem      int64              `msgpack:"mem,omitempty"`
}

// Reporter is given to a job to report progress; it never blocks for long.
type Reporter func(p Progress)

// job runs one kind of request.
type job func(req *Request, report Reporter) (*Result, error)

// kinds maps Request.Kind to its job.
var kinds = map[string]job{
	KindPing: ping,
}

// Job kinds.
const (
	KindPing = "ping" // answers at once: checks the worker is up and measures a round trip
)

// Handle decodes a request, runs its job and encodes the result. progress receives
// encoded Progress messages; mem (may be nil) reports the worker's memory.
func Handle(data []byte, progress func([]byte), mem func() int64) ([]byte, error) {
	var req Request
	if err := msgpack.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("decode job request: %w", err)
	}
	run, ok := kinds[req.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown job %q: the worker and the page are from different builds; reload the page", req.Kind)
	}
	report := func(p Progress) {
		if progress == nil {
			return
		}
		if mem != nil {
			p.Mem = mem()
		}
		b, err := msgpack.Marshal(&p)
		if err == nil {
			progress(b)
		}
	}
	start := time.Now()
	res, err := run(&req, report)
	if err != nil {
		return nil, err
	}
	res.Millis = float64(time.Since(start).Microseconds()) / 1000
	if mem != nil {
		res.Mem = mem()
	}
	return msgpack.Marshal(res)
}

// Encode encodes a request for the worker.
func Encode(req *Request) ([]byte, error) { return msgpack.Marshal(req) }

// DecodeProgress decodes a progress message.
func DecodeProgress(b []byte) (Progress, error) {
	var p Progress
	err := msgpack.Unmarshal(b, &p)
	return p, err
}

// DecodeResult decodes a result.
func DecodeResult(b []byte) (*Result, error) {
	var r Result
	if err := msgpack.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode job result: %w", err)
	}
	return &r, nil
}

func ping(req *Request, report Reporter) (*Result, error) {
	report(Progress{Phase: "ping", Step: 1, Total: 1})
	return &Result{Summary: map[string]float64{"bytes": float64(len(req.Snapshot))}}, nil
}

// finish encodes the new state s and the delta d into a Result.
func finish(s, d *snapshot.Snapshot) (*Result, error) {
	full, err := snapshot.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode the new state: %w", err)
	}
	delta, err := snapshot.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode the changes: %w", err)
	}
	return &Result{Snapshot: full, Delta: delta}, nil
}
