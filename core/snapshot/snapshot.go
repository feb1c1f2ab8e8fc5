package snapshot

import (
	"crypto/sha256"
	"encoding/hex"

	"prefer/core/feedback"
)

// Format is the value of the header key "format".
const Format = "prefer.snapshot"

// Version is the newest schema version this package reads. A snapshot is written
// with the oldest version that holds its content (version 2 only when it holds
// revisions; see the package documentation).
const Version = 2

// Snapshot is a whole Prefer state: the feedback data, the trained models, the
// training runs with their curves and seeds, and where it all came from.
//
// Slices keep the order they are given in (items and raters in insertion order,
// judgments in the log's canonical order). Extra holds top-level keys this version
// does not know, as raw msgpack, so a newer writer's additions survive a round trip.
type Snapshot struct {
	Provenance Provenance
	Items      []feedback.Item
	Raters     []feedback.Rater
	Judgments  []feedback.Judgment
	Guidelines []feedback.Guideline
	Models     []Model
	Runs       []Run
	Extra      map[string][]byte
}

// Provenance records how a snapshot was made.
//
// Created is left empty by seeded commands so that equal inputs give equal bytes;
// Parent is the id of the snapshot this one was derived from, if any.
type Provenance struct {
	Tool    string // "prefer 0.1.0"
	Created string // RFC 3339 time, optional
	Parent  string // "sha256-…" of the parent snapshot, optional
	Command string // the command line or action that made it, optional
	Seed    uint64 // the seed of the command, 0 if none
	Note    string // free text, optional
}

// Tensor is a dense float32 array in row-major order. len(Data) is the product of
// Shape. It is stored as {"shape": [...], "dtype": "f32", "data": <bin, little-endian>}.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Size returns the number of elements the shape implies.
func (t Tensor) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Model is a trained model: a family name (e.g. "tabular", "linear", "mlp",
// "ensemble", "candidate-policy", "lm"), its configuration, its named tensors and its
// metrics. Config values are strings, booleans, integers, floats, or lists and maps of
// those (see Value). Metrics are named scalars (held-out accuracy, ECE, …).
type Model struct {
	Name    string
	Family  string
	Config  map[string]any
	Tensors map[string]Tensor
	Metrics map[string]float64
	Run     string // name of the training run that produced it, optional
}

// Run is one training or optimization run: what it did (Kind: "train-rm",
// "optimize", "pretrain", "sweep", …), with which configuration and seed, its metric
// series (one value per step, series of equal length where they share steps), and a
// summary of named scalars.
type Run struct {
	Name    string
	Kind    string
	Seed    uint64
	Config  map[string]any
	Series  map[string][]float64
	Summary map[string]float64
	Notes   []string // human-readable findings, e.g. a reward-hacking alert
}

// Model returns the model with the given name, or nil.
func (s *Snapshot) Model(name string) *Model {
	for i := range s.Models {
		if s.Models[i].Name == name {
			return &s.Models[i]
		}
	}
	return nil
}

// Run returns the run with the given name, or nil.
func (s *Snapshot) Run(name string) *Run {
	for i := range s.Runs {
		if s.Runs[i].Name == name {
			return &s.Runs[i]
		}
	}
	return nil
}

// PutModel replaces the model with the same name, or appends m.
func (s *Snapshot) PutModel(m Model) {
	if old := s.Model(m.Name); old != nil {
		*old = m
		return
	}
	s.Models = append(s.Models, m)
}

// PutRun replaces the run with the same name, or appends r.
func (s *Snapshot) PutRun(r Run) {
	if old := s.Run(r.Name); old != nil {
		*old = r
		return
	}
	s.Runs = append(s.Runs, r)
}

// Log returns the snapshot's judgments as a feedback.Log.
func (s *Snapshot) Log() *feedback.Log { return feedback.NewLog(s.Judgments...) }

// SetLog replaces the judgments with the log's, in canonical order.
func (s *Snapshot) SetLog(l *feedback.Log) {
	s.Judgments = append([]feedback.Judgment(nil), l.All()...)
}

// ID returns the content id of encoded snapshot bytes: "sha256-" and the hex SHA-256.
func ID(encoded []byte) string {
	sum := sha256.Sum256(encoded)
	return "sha256-" + hex.EncodeToString(sum[:])
}
