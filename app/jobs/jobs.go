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
// kind holds its parameters (nil: every parameter at its default).
type Request struct {
	Kind     string `msgpack:"kind" json:"kind"`
	Snapshot []byte `msgpack:"snapshot,omitempty" json:"-"`
	Delta    []byte `msgpack:"delta,omitempty" json:"-"`
	// Ref is the reference language model of the generative-policy jobs: an
	// encoded snapshot holding a model of family "lm" (static/web/ref-lm.snap,
	// fetched by the UI). Without it they look for a model named "ref-lm" in the
	// state.
	Ref []byte `msgpack:"ref,omitempty" json:"-"`

	Simulate   *SimulateParams   `msgpack:"simulate,omitempty" json:"simulate,omitempty"`
	TrainRM    *TrainRMParams    `msgpack:"train_rm,omitempty" json:"train_rm,omitempty"`
	Optimize   *OptimizeParams   `msgpack:"optimize,omitempty" json:"optimize,omitempty"`
	Sweep      *SweepParams      `msgpack:"sweep,omitempty" json:"sweep,omitempty"`
	Import     *ImportParams     `msgpack:"import,omitempty" json:"import,omitempty"`
	Export     *ExportParams     `msgpack:"export,omitempty" json:"export,omitempty"`
	Agree      *AgreeParams      `msgpack:"agree,omitempty" json:"agree,omitempty"`
	OptimizeLM *OptimizeLMParams `msgpack:"optimize_lm,omitempty" json:"optimize_lm,omitempty"`
	SampleLM   *SampleLMParams   `msgpack:"sample_lm,omitempty" json:"sample_lm,omitempty"`
	Judge      *JudgeParams      `msgpack:"judge,omitempty" json:"judge,omitempty"`
	AddAnswers *AddAnswersParams `msgpack:"add_answers,omitempty" json:"add_answers,omitempty"`
	Landscape  *LandscapeParams  `msgpack:"landscape,omitempty" json:"landscape,omitempty"`
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
	Import   *ImportInfo        `msgpack:"import,omitempty"` // what an import read (KindImport)
}

// ImportInfo is what an import job read, for the Data page's preview: the format
// (chosen or recognised), counts, the first problems, what the file looks like when
// it is not the format chosen, and the first rows. The new state itself is in
// Result.File (an encoded snapshot), applied only when the user confirms.
type ImportInfo struct {
	Format     string       `msgpack:"format"`
	Detected   string       `msgpack:"detected,omitempty"` // why "auto" chose Format
	Records    int          `msgpack:"records"`
	Items      int          `msgpack:"items"`
	Judgments  int          `msgpack:"judgments"`
	Skipped    int          `msgpack:"skipped"` // bad records
	Duplicates int          `msgpack:"duplicates,omitempty"`
	Errors     string       `msgpack:"errors,omitempty"`    // the first bad records with their lines, and how many more
	Looks      string       `msgpack:"looks,omitempty"`     // the format the file looks like, when other than Format
	LooksWhy   string       `msgpack:"looks_why,omitempty"` // why
	Rows       []PreviewRow `msgpack:"rows,omitempty"`      // the first judgments
}

// PreviewRow is one judgment of an import preview, in words.
type PreviewRow struct {
	Kind   string `msgpack:"kind"`
	Prompt string `msgpack:"prompt"`
	A      string `msgpack:"a"`               // the first response (chosen, or shown first)
	B      string `msgpack:"b,omitempty"`     // the second, for comparisons
	Label  string `msgpack:"label,omitempty"` // e.g. "a", "tie", "up", "helpful 6"
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
	KindImport   = "import"   // read a dataset file (CLI formats): a new state, for the page to confirm
	KindExport   = "export"   // write the state's feedback in a CLI format
	KindAgree    = "agree"    // the feedback-quality report (JSON of agree.Report in Result.File)
	// KindLandscape simulates the lesson's raters of Params.Panel and trains the
	// lesson's reward model: the playground's lesson.Landscape (msgpack in
	// Result.File). It needs no state and changes none.
	KindLandscape = "landscape"

	// KindOptimizeLM optimizes the generative policy — the small transformer
	// language model, starting from Request.Ref — at one or more β, against the
	// state's reward model or the gold utility: the runs of `prefer optimize
	// --policy lm`, with per-step progress.
	KindOptimizeLM = "optimize-lm"
	// KindSampleLM samples the reference language model once on the evaluation
	// prompts (the "before" of KindOptimizeLM with the same seed) and records them
	// as a run: what the pretrained model writes, with gold, reward and parts.
	KindSampleLM = "sample-lm"

	// KindJudge has one of Prefer's built-in judges (JudgeParams.Judge:
	// judge-rubric, judge-longer, judge-first; core/ask.Builtins) compare the pairs
	// people compared, in both orders, as an AI rater: what `prefer judge` records
	// against prefer serve's same judge, offline. The Quality page's audit shows it.
	KindJudge = "judge"
	// KindAddAnswers records generated answers (AddAnswersParams.Data) into the
	// state's items: what the Data page's "Generate answers" collected.
	KindAddAnswers = "add-answers"
)

// The parameters of each job kind. Every default is the core's (the package
// named on each field), the same as the prefer command's that does the same
// work, so that a zero field and an unset flag mean the same thing. A field whose
// zero is a meaningful value (a hold-out fraction of 0, all prompts, γ = 0) is a
// pointer: nil takes the default, a pointer to 0 means 0.

// SimulateParams are the parameters of KindSimulate (`prefer demo`).
type SimulateParams struct {
	Seed    uint64 `msgpack:"seed" json:"seed"`
	Items   int    `msgpack:"items,omitempty" json:"items,omitempty"`     // prompts; default 60 (demo.Config)
	Panel   string `msgpack:"panel,omitempty" json:"panel,omitempty"`     // demo.ParseProfiles spec; default demo.DefaultPanel
	Overlap int    `msgpack:"overlap,omitempty" json:"overlap,omitempty"` // raters per item; default 3, at most the panel's size
}

// LandscapeParams are the parameters of KindLandscape (core/lesson/pipeline.NewLandscape).
type LandscapeParams struct {
	Panel string `msgpack:"panel,omitempty" json:"panel,omitempty"` // demo.ParseProfiles spec; default demo.DefaultPanel
}

// TrainRMParams are the parameters of KindTrainRM (`prefer train-rm`).
type TrainRMParams struct {
	Seed   uint64 `msgpack:"seed" json:"seed"`
	Family string `msgpack:"family,omitempty" json:"family,omitempty"` // tabular, linear (default), mlp or ensemble (reward.Config)
	// Holdout is the fraction of the data held out for the reported metrics:
	// nil for the default 0.2, 0 for none (train on everything).
	Holdout *float64 `msgpack:"holdout,omitempty" json:"holdout,omitempty"`
	SplitBy string   `msgpack:"split_by,omitempty" json:"split_by,omitempty"` // "item" (default for feature models) or "pair"
}

// OptimizeParams are the parameters of KindOptimize (`prefer optimize`,
// policy.OptimizeConfig): one run per β.
type OptimizeParams struct {
	Seed      uint64    `msgpack:"seed" json:"seed"`
	Algo      string    `msgpack:"algo" json:"algo"`                               // exact, ppo, rloo, dpo, ipo or bon (required)
	Reward    string    `msgpack:"reward,omitempty" json:"reward,omitempty"`       // policy.ChooseReward's spec; default the last stored reward model
	Betas     []float64 `msgpack:"betas,omitempty" json:"betas,omitempty"`         // one run per β; default one run at the default β (0.1)
	TargetKL  float64   `msgpack:"target_kl,omitempty" json:"target_kl,omitempty"` // adaptive β toward this KL (exact, ppo, rloo)
	Steps     int       `msgpack:"steps,omitempty" json:"steps,omitempty"`         // default policy.DefaultSteps (ppo, rloo), policy.DefaultDPOSteps (dpo, ipo)
	Samples   int       `msgpack:"samples,omitempty" json:"samples,omitempty"`     // responses per prompt per step; default 4
	LR        float64   `msgpack:"lr,omitempty" json:"lr,omitempty"`               // default 0.1 (ppo, dpo, ipo), 0.2 (rloo)
	N         int       `msgpack:"n,omitempty" json:"n,omitempty"`                 // best-of-N's N; default 4
	Diversity float64   `msgpack:"diversity,omitempty" json:"diversity,omitempty"` // entropy bonus α; default 0
	Gamma     *float64  `msgpack:"gamma,omitempty" json:"gamma,omitempty"`         // PPO's discount γ; nil for 1
	Lambda    *float64  `msgpack:"lambda,omitempty" json:"lambda,omitempty"`       // PPO's GAE λ; nil for 0.95
	Tol       float64   `msgpack:"tol,omitempty" json:"tol,omitempty"`             // convergence tolerance; default policy.DefaultTol, negative runs every step
	// LabelSmoothing is conservative DPO's ε: nil for the default (ε when some
	// prompt's preferences are separated, else 0), 0 forces plain DPO.
	LabelSmoothing *float64 `msgpack:"label_smoothing,omitempty" json:"label_smoothing,omitempty"`
	Prefix         string   `msgpack:"prefix,omitempty" json:"prefix,omitempty"` // name prefix of the runs and models; default "policy"
}

// SweepParams are the parameters of KindSweep (`prefer sweep`,
// policy.SweepConfig).
type SweepParams struct {
	Seed      uint64    `msgpack:"seed" json:"seed"`
	Algo      string    `msgpack:"algo,omitempty" json:"algo,omitempty"`           // exact (default), ppo, rloo (β sweeps) or bon (N sweep)
	Reward    string    `msgpack:"reward,omitempty" json:"reward,omitempty"`       // as OptimizeParams.Reward
	Betas     []float64 `msgpack:"betas,omitempty" json:"betas,omitempty"`         // default policy.DefaultBetas
	Ns        []int     `msgpack:"ns,omitempty" json:"ns,omitempty"`               // bon; default policy.DefaultNs
	Steps     int       `msgpack:"steps,omitempty" json:"steps,omitempty"`         // per point of ppo and rloo; default policy.DefaultSteps
	Diversity float64   `msgpack:"diversity,omitempty" json:"diversity,omitempty"` // entropy bonus α at every point
}

// ImportParams are the parameters of KindImport (`prefer import --skip-bad`).
type ImportParams struct {
	Format string `msgpack:"format" json:"format"`
	Name   string `msgpack:"name,omitempty" json:"name,omitempty"` // file name, for messages
	Data   []byte `msgpack:"data,omitempty" json:"data,omitempty"`
}

// ExportParams are the parameters of KindExport (`prefer export`).
type ExportParams struct {
	Format string `msgpack:"format" json:"format"`
}

// AgreeParams are the parameters of KindAgree (`prefer agree --json`, its other
// options at their defaults, which are agree.Options').
type AgreeParams struct {
	Seed uint64 `msgpack:"seed" json:"seed"` // the group-difference permutation test's
}

// OptimizeLMParams are the parameters of KindOptimizeLM (`prefer optimize
// --policy lm`, lm.OptimizeConfig): one run per β.
type OptimizeLMParams struct {
	Seed     uint64    `msgpack:"seed" json:"seed"`
	Algo     string    `msgpack:"algo" json:"algo"`                               // ppo, rloo, dpo, ipo or bon (required)
	Reward   string    `msgpack:"reward,omitempty" json:"reward,omitempty"`       // lm.ChooseReward's spec
	Betas    []float64 `msgpack:"betas,omitempty" json:"betas,omitempty"`         // one run per β; default one run at the default β (0.1)
	TargetKL float64   `msgpack:"target_kl,omitempty" json:"target_kl,omitempty"` // adaptive β toward this KL (ppo, rloo)
	Steps    int       `msgpack:"steps,omitempty" json:"steps,omitempty"`         // default lm.DefaultSteps
	// Prompts per step: nil for lm.DefaultPrompts, 0 for all.
	Prompts   *int    `msgpack:"prompts,omitempty" json:"prompts,omitempty"`
	Samples   int     `msgpack:"samples,omitempty" json:"samples,omitempty"`       // responses per prompt per step; default 4
	N         int     `msgpack:"n,omitempty" json:"n,omitempty"`                   // best-of-N's N; default 4
	LR        float64 `msgpack:"lr,omitempty" json:"lr,omitempty"`                 // default 5e-4 (ppo, rloo), 3e-4 (dpo, ipo)
	MaxTokens int     `msgpack:"max_tokens,omitempty" json:"max_tokens,omitempty"` // longest response in tokens; default 48
	// MicroBatch bounds the sequences run through the network at once (lm.OptimizeConfig);
	// default 64.
	MicroBatch int     `msgpack:"micro_batch,omitempty" json:"micro_batch,omitempty"`
	Diversity  float64 `msgpack:"diversity,omitempty" json:"diversity,omitempty"` // entropy bonus α; default 0
	Prefix     string  `msgpack:"prefix,omitempty" json:"prefix,omitempty"`       // default "policy-lm"
}

// SampleLMParams are the parameters of KindSampleLM.
type SampleLMParams struct {
	Seed   uint64 `msgpack:"seed" json:"seed"`
	Reward string `msgpack:"reward,omitempty" json:"reward,omitempty"` // as OptimizeLMParams.Reward (measured only)
	Prefix string `msgpack:"prefix,omitempty" json:"prefix,omitempty"` // the run is Prefix + RunLMSamples; default "policy-lm"
}

// JudgeParams are the parameters of KindJudge (`prefer judge` against prefer
// serve's built-in judge of the same name, --pairs human, both orders).
type JudgeParams struct {
	Judge string `msgpack:"judge,omitempty" json:"judge,omitempty"` // judge-rubric, judge-longer (default) or judge-first
}

// AddAnswersParams are the parameters of KindAddAnswers (what `prefer generate`
// records as answers arrive).
type AddAnswersParams struct {
	// Data is an encoded snapshot of the state's items holding only the new
	// generated responses, each with its origins.
	Data []byte `msgpack:"data" json:"-"`
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
	ImportFormats = []string{"jsonl", "trl", "hh-rlhf", "labelstudio", "summarize", "shp"}
	// FormatAuto is the import format that recognises the file (the default).
	FormatAuto    = "auto"
	ExportFormats = []string{"jsonl", "trl", "trl-conversational", "kto", "hh-rlhf"}
)
