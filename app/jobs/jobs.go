// Package jobs is the protocol between the UI and the training worker: the Request
// the UI posts (msgpack in a transferred ArrayBuffer), the Progress reports and the
// Result the worker sends back, the parameters of every job kind, and Merge, which
// both sides use to apply a job's changes to a state.
//
// The jobs themselves run in package app/work, which only the worker binary (and
// tests) link: the UI binary stays free of the engines it does not call.
package jobs

import (
	"fmt"

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
	// Ref is the reference language model of the generative-policy jobs: an
	// encoded snapshot holding a model of family "lm" (static/web/ref-lm.snap,
	// fetched by the UI). Without it they look for a model named "ref-lm" in the
	// state.
	Ref []byte `msgpack:"ref,omitempty"`
}

// Param returns the request's parameters (zero when none were given).
func (r *Request) Param() Params {
	if r.Params == nil {
		return Params{}
	}
	return *r.Params
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

// Job kinds.
const (
	KindPing     = "ping"     // answers at once: checks the worker is up
	KindSimulate = "simulate" // simulated raters label the demo domain: a new state
	KindTrainRM  = "train-rm" // train a reward model on the state's judgments
	KindOptimize = "optimize" // optimize the candidate policy at one or more β
	KindSweep    = "sweep"    // exact β sweep: proxy and gold against √KL
	KindImport   = "import"   // read a dataset file (CLI formats): a new state
	KindExport   = "export"   // write the state's feedback in a CLI format
	KindAgree    = "agree"    // the feedback-quality report (JSON of agree.Report in Result.File)

	// KindOptimizeLM optimizes the generative policy — the small transformer
	// language model, starting from Request.Ref — at one or more β, against the
	// state's reward model or the gold utility: the runs of `prefer optimize
	// --policy lm`, with per-step progress.
	KindOptimizeLM = "optimize-lm"
	// KindSampleLM samples the reference language model once on the evaluation
	// prompts (the "before" of KindOptimizeLM with the same seed) and records them
	// as a run: what the pretrained model writes, with gold, reward and parts.
	KindSampleLM = "sample-lm"
)

// Params are the parameters of every job kind; each kind reads its own fields and
// documents their defaults.
type Params struct {
	Seed uint64 `msgpack:"seed"`

	// simulate
	Items   int    `msgpack:"items,omitempty"`   // prompts; default 60
	Panel   string `msgpack:"panel,omitempty"`   // demo.ParseProfiles spec; default demo.DefaultPanel
	Overlap int    `msgpack:"overlap,omitempty"` // raters per item; default 3

	// train-rm, optimize, sweep
	Family  string  `msgpack:"family,omitempty"`   // reward family: linear (default), mlp, tabular, ensemble
	Holdout float64 `msgpack:"holdout,omitempty"`  // held-out fraction; default 0.2
	SplitBy string  `msgpack:"split_by,omitempty"` // "item" (default for feature models) or "pair"

	// optimize
	Algo     string    `msgpack:"algo,omitempty"`      // ppo (default), rloo, exact, bon, dpo, ipo
	Betas    []float64 `msgpack:"betas,omitempty"`     // one run per β; default [0.1]
	TargetKL float64   `msgpack:"target_kl,omitempty"` // adaptive β toward this KL (ppo, rloo, exact)
	Steps    int       `msgpack:"steps,omitempty"`     // default 200
	N        int       `msgpack:"n,omitempty"`         // best-of-N's N; default 4
	Prefix   string    `msgpack:"prefix,omitempty"`    // name prefix of the runs and models; default "policy" ("policy-lm" for optimize-lm)

	// optimize-lm (also Algo: ppo (default), rloo, dpo, ipo or bon; Betas; TargetKL;
	// Steps, default 60; N; Prefix), sample-lm (Reward, Prefix)
	Prompts   int     `msgpack:"prompts,omitempty"`    // prompts per step; default 16
	Samples   int     `msgpack:"samples,omitempty"`    // responses per prompt per step; default 4
	LR        float64 `msgpack:"lr,omitempty"`         // learning rate; default 5e-4 (ppo, rloo), 3e-4 (dpo, ipo)
	MaxTokens int     `msgpack:"max_tokens,omitempty"` // longest response in tokens; default 48
	// Reward is what the language model is optimized against: "" the state's
	// reward model (the last stored model that scores any text: linear, mlp,
	// ensemble or head), "gold" the demo domain's true utility (for comparison),
	// or the name of a stored model.
	Reward string `msgpack:"reward,omitempty"`

	// import, export
	Format string `msgpack:"format,omitempty"`
	Name   string `msgpack:"name,omitempty"` // file name, for messages
	Data   []byte `msgpack:"data,omitempty"`
}

// Run and model names the pages look for.
const (
	ModelRM  = "reward"   // the last trained reward model
	RunRM    = "train-rm" // the last reward-model training run
	RunSweep = "sweep"    // the last β sweep

	// RunLMSamples suffixes the sample-lm run's name: Prefix + RunLMSamples.
	RunLMSamples = "-ref"
)

// Formats the Data page offers: those of core/formats (package work's tests check
// that the lists agree), kept here so that the UI binary does not link the codecs.
var (
	ImportFormats = []string{"jsonl", "trl", "hh-rlhf", "labelstudio", "summarize"}
	ExportFormats = []string{"jsonl", "trl", "trl-conversational", "kto", "hh-rlhf"}
)
