// Package work runs the workbench's long jobs on package core: simulated raters,
// reward-model training, policy optimization (the candidate policy and the
// generative one, a small transformer), β sweeps, the quality report, dataset
// import and export. The training worker (wasm/worker) calls Handle for every
// request it receives; tests and benchmarks call the same Handle natively, so the
// worker's results can be compared with native ones bit for bit and its speed with
// native speed. Jobs are deterministic given the request (its seeds).
package work

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"prefer/app/jobs"
	"prefer/core/snapshot"
)

// Reporter is given to a job to report progress; it never blocks for long.
type Reporter func(p jobs.Progress)

// job runs one kind of request.
type job func(req *jobs.Request, report Reporter) (*jobs.Result, error)

// kinds maps Request.Kind to its job.
var kinds = map[string]job{
	jobs.KindPing:     ping,
	jobs.KindSimulate: simulate,
	jobs.KindTrainRM:  trainRM,
	jobs.KindOptimize: optimize,
	jobs.KindSweep:    sweep,
	jobs.KindImport:   importFile,
	jobs.KindExport:   exportFile,
	jobs.KindAgree:    agreeReport,

	jobs.KindLandscape: landscape,

	jobs.KindOptimizeLM: optimizeLM,
	jobs.KindSampleLM:   sampleLM,

	jobs.KindJudge:      judge,
	jobs.KindAddAnswers: addAnswers,
}

// Handle decodes a request, runs its job and encodes the result. progress receives
// encoded Progress messages; mem (may be nil) reports the worker's memory.
func Handle(data []byte, progress func([]byte), mem func() int64) ([]byte, error) {
	var req jobs.Request
	if err := msgpack.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("decode job request: %w", err)
	}
	run, ok := kinds[req.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown job %q: the worker and the page are from different builds; reload the page", req.Kind)
	}
	report := func(p jobs.Progress) {
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

// Run runs a request natively exactly as the worker does — encoded, handled,
// decoded: the same bytes in and out — for tests, benchmarks and comparisons with
// the worker.
func Run(req *jobs.Request) (*jobs.Result, error) {
	data, err := jobs.Encode(req)
	if err != nil {
		return nil, err
	}
	out, err := Handle(data, nil, nil)
	if err != nil {
		return nil, err
	}
	return jobs.DecodeResult(out)
}

func ping(req *jobs.Request, report Reporter) (*jobs.Result, error) {
	report(jobs.Progress{Phase: "ping", Step: 1, Total: 1})
	return &jobs.Result{Summary: map[string]float64{"bytes": float64(len(req.Snapshot))}}, nil
}

// params returns a request's parameters of one kind, or their zero value (every
// parameter at its default) when none were given.
func params[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// finish encodes the new state s and the delta d into a Result.
func finish(s, d *snapshot.Snapshot) (*jobs.Result, error) {
	full, err := snapshot.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode the new state: %w", err)
	}
	delta, err := snapshot.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode the changes: %w", err)
	}
	return &jobs.Result{Snapshot: full, Delta: delta}, nil
}

// knownOnly removes the unknown (NaN or infinite) values of m and returns it: a
// progress report leaves out what the data cannot give (gold on imported data), so
// the live chart draws no line at a meaningless 0.
func knownOnly(m map[string]float64) map[string]float64 {
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(m, k)
		}
	}
	return m
}

// nan0 is x, or 0 when x is NaN or infinite: what progress reports and run
// configurations (JSON-like values) can carry.
func nan0(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// perBeta runs a job's runs, one per β of betas (none: one run at the core's
// default β), named prefix-1, prefix-2, …: run records run i in s and returns what
// it added and the run. done, when not nil, may then amend the runs (their Config
// maps are those s and the additions hold). perBeta collects the additions, the
// runs' summaries (as name.key) and their notes into the job's result.
func perBeta(s *snapshot.Snapshot, betas []float64, prefix string,
	run func(i int, beta float64, name string) (*snapshot.Snapshot, *snapshot.Run, error), done func(runs []*snapshot.Run)) (*jobs.Result, error) {
	if len(betas) == 0 {
		betas = []float64{0}
	}
	delta := &snapshot.Snapshot{}
	summary := map[string]float64{}
	var notes []string
	var runs []*snapshot.Run
	for i, beta := range betas {
		name := fmt.Sprintf("%s-%d", prefix, i+1)
		d, r, err := run(i, beta, name)
		if err != nil {
			return nil, err
		}
		jobs.Merge(delta, d)
		for k, v := range r.Summary {
			summary[name+"."+k] = v
		}
		notes = append(notes, r.Notes...)
		runs = append(runs, r)
	}
	if done != nil {
		done(runs)
	}
	out, err := finish(s, delta)
	if err != nil {
		return nil, err
	}
	out.Summary, out.Notes = summary, notes
	return out, nil
}

// phase names a run at β (or toward a target KL) in the progress bar.
func phase(algo string, beta, targetKL float64) string {
	p := strings.ToUpper(algo)
	switch {
	case targetKL > 0:
		p += fmt.Sprintf(" toward KL %g", targetKL)
	case beta > 0:
		p += fmt.Sprintf(" at β = %g", beta)
	}
	return p
}
