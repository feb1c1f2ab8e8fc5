package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/vmihailenco/msgpack/v5"

	"prefer/core/feedback"
)

// Marshal encodes s canonically: maps with string keys in sorted order, empty optional
// fields left out, integers in their shortest msgpack form, scalar floats always as
// float64, tensors as little-endian float32 in one bin field. Equal content gives
// equal bytes, so ID(Marshal(s)) identifies the content.
func Marshal(s *Snapshot) ([]byte, error) {
	var buf bytes.Buffer
	w := &writer{e: msgpack.NewEncoder(&buf)}
	w.snapshot(s)
	if w.err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", w.err)
	}
	return buf.Bytes(), nil
}

// writer wraps the msgpack encoder and keeps the first error.
type writer struct {
	e   *msgpack.Encoder
	err error
}

// field is one key of a map and how to write its value; skip leaves it out.
type field struct {
	key  string
	skip bool
	put  func()
}

// object writes a map of the non-skipped fields, keys sorted.
func (w *writer) object(fs []field) {
	kept := fs[:0]
	for _, f := range fs {
		if !f.skip {
			kept = append(kept, f)
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].key < kept[b].key })
	w.mapLen(len(kept))
	for _, f := range kept {
		w.str(f.key)
		f.put()
	}
}

func (w *writer) check(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}
func (w *writer) mapLen(n int)   { w.check(w.e.EncodeMapLen(n)) }
func (w *writer) arrayLen(n int) { w.check(w.e.EncodeArrayLen(n)) }
func (w *writer) str(s string)   { w.check(w.e.EncodeString(s)) }
func (w *writer) int(n int64)    { w.check(w.e.EncodeInt(n)) }
func (w *writer) uint(n uint64)  { w.check(w.e.EncodeUint(n)) }
func (w *writer) bool(b bool)    { w.check(w.e.EncodeBool(b)) }
func (w *writer) bin(b []byte)   { w.check(w.e.EncodeBytes(b)) }
func (w *writer) f64(f float64)  { w.check(w.e.EncodeFloat64(f)) }
func (w *writer) raw(b []byte)   { w.check(w.e.Encode(msgpack.RawMessage(b))) }

func (w *writer) strings(ss []string) {
	w.arrayLen(len(ss))
	for _, s := range ss {
		w.str(s)
	}
}

func (w *writer) ints(xs []int) {
	w.arrayLen(len(xs))
	for _, x := range xs {
		w.int(int64(x))
	}
}

func (w *writer) floats(xs []float64) {
	w.arrayLen(len(xs))
	for _, x := range xs {
		w.f64(x)
	}
}

func (w *writer) snapshot(s *Snapshot) {
	fs := []field{
		{key: "format", put: func() { w.str(Format) }},
		{key: "version", put: func() { w.int(Version) }},
		{key: "provenance", put: func() { w.provenance(&s.Provenance) }},
		{key: "items", skip: len(s.Items) == 0, put: func() {
			w.arrayLen(len(s.Items))
			for i := range s.Items {
				w.item(&s.Items[i])
			}
		}},
		{key: "raters", skip: len(s.Raters) == 0, put: func() {
			w.arrayLen(len(s.Raters))
			for i := range s.Raters {
				w.rater(&s.Raters[i])
			}
		}},
		{key: "judgments", skip: len(s.Judgments) == 0, put: func() {
			w.arrayLen(len(s.Judgments))
			for i := range s.Judgments {
				w.judgment(&s.Judgments[i])
			}
		}},
		{key: "guidelines", skip: len(s.Guidelines) == 0, put: func() {
			w.arrayLen(len(s.Guidelines))
			for _, g := range s.Guidelines {
				w.object([]field{
					{key: "version", put: func() { w.int(int64(g.Version)) }},
					{key: "text", put: func() { w.str(g.Text) }},
					{key: "time", skip: g.Time == 0, put: func() { w.int(g.Time) }},
				})
			}
		}},
		{key: "models", skip: len(s.Models) == 0, put: func() {
			w.arrayLen(len(s.Models))
			for i := range s.Models {
				w.model(&s.Models[i])
			}
		}},
		{key: "runs", skip: len(s.Runs) == 0, put: func() {
			w.arrayLen(len(s.Runs))
			for i := range s.Runs {
				w.run(&s.Runs[i])
			}
		}},
	}
	for k, v := range s.Extra {
		if knownTopKey[k] {
			continue // a known key is never written twice
		}
		fs = append(fs, field{key: k, put: func() { w.raw(v) }})
	}
	w.object(fs)
}

// knownTopKey lists the top-level keys of this version.
var knownTopKey = map[string]bool{
	"format": true, "version": true, "provenance": true, "items": true, "raters": true,
	"judgments": true, "guidelines": true, "models": true, "runs": true,
}

func (w *writer) provenance(p *Provenance) {
	w.object([]field{
		{key: "tool", skip: p.Tool == "", put: func() { w.str(p.Tool) }},
		{key: "created", skip: p.Created == "", put: func() { w.str(p.Created) }},
		{key: "parent", skip: p.Parent == "", put: func() { w.str(p.Parent) }},
		{key: "command", skip: p.Command == "", put: func() { w.str(p.Command) }},
		{key: "seed", skip: p.Seed == 0, put: func() { w.uint(p.Seed) }},
		{key: "note", skip: p.Note == "", put: func() { w.str(p.Note) }},
	})
}

func (w *writer) item(it *feedback.Item) {
	w.object([]field{
		{key: "id", put: func() { w.str(it.ID) }},
		{key: "prompt", put: func() { w.str(it.Prompt) }},
		{key: "responses", put: func() {
			w.arrayLen(len(it.Responses))
			for i := range it.Responses {
				r := &it.Responses[i]
				w.object([]field{
					{key: "id", put: func() { w.str(r.ID) }},
					{key: "text", put: func() { w.str(r.Text) }},
					{key: "source", skip: r.Source == "", put: func() { w.str(string(r.Source)) }},
					{key: "gold", skip: r.Gold == nil, put: func() { w.f64(*r.Gold) }},
					{key: "parts", skip: len(r.Parts) == 0, put: func() { w.strings(r.Parts) }},
					{key: "ref_prob", skip: r.RefProb == 0, put: func() { w.f64(r.RefProb) }},
				})
			}
		}},
		{key: "tags", skip: len(it.Tags) == 0, put: func() { w.strings(it.Tags) }},
		{key: "gold_best", skip: it.GoldBest == "", put: func() { w.str(it.GoldBest) }},
	})
}

func (w *writer) rater(r *feedback.Rater) {
	w.object([]field{
		{key: "id", put: func() { w.str(r.ID) }},
		{key: "name", skip: r.Name == "", put: func() { w.str(r.Name) }},
		{key: "group", skip: r.Group == "", put: func() { w.str(r.Group) }},
		{key: "kind", skip: r.Kind == "", put: func() { w.str(string(r.Kind)) }},
		{key: "profile", skip: r.Profile == "", put: func() { w.str(r.Profile) }},
	})
}

func (w *writer) judgment(j *feedback.Judgment) {
	w.object([]field{
		{key: "id", put: func() { w.str(j.ID) }},
		{key: "kind", put: func() { w.str(string(j.Kind)) }},
		{key: "item", skip: j.Item == "", put: func() { w.str(j.Item) }},
		{key: "rater", skip: j.Rater == "", put: func() { w.str(j.Rater) }},
		{key: "time", skip: j.Time == 0, put: func() { w.int(j.Time) }},
		{key: "session", skip: j.Session == "", put: func() { w.str(j.Session) }},
		{key: "seq", skip: j.Seq == 0, put: func() { w.int(int64(j.Seq)) }},
		{key: "ms", skip: j.MS == 0, put: func() { w.int(j.MS) }},
		{key: "guideline", skip: j.Guideline == 0, put: func() { w.int(int64(j.Guideline)) }},
		{key: "reasons", skip: len(j.Reasons) == 0, put: func() { w.strings(j.Reasons) }},
		{key: "note", skip: j.Note == "", put: func() { w.str(j.Note) }},
		{key: "a", skip: j.A == "", put: func() { w.str(j.A) }},
		{key: "b", skip: j.B == "", put: func() { w.str(j.B) }},
		{key: "choice", skip: j.Choice == "", put: func() { w.str(string(j.Choice)) }},
		{key: "strength", skip: j.Strength == 0, put: func() { w.int(int64(j.Strength)) }},
		{key: "left", skip: j.Left == "", put: func() { w.str(j.Left) }},
		{key: "shown", skip: len(j.Shown) == 0, put: func() { w.strings(j.Shown) }},
		{key: "order", skip: len(j.Order) == 0, put: func() { w.ints(j.Order) }},
		{key: "response", skip: j.Response == "", put: func() { w.str(j.Response) }},
		{key: "axis", skip: j.Axis == "", put: func() { w.str(j.Axis) }},
		{key: "score", skip: j.Score == 0, put: func() { w.int(int64(j.Score)) }},
		{key: "text", skip: j.Text == "", put: func() { w.str(j.Text) }},
		{key: "category", skip: j.Category == "", put: func() { w.str(j.Category) }},
		{key: "target", skip: j.Target == "", put: func() { w.str(j.Target) }},
		{key: "verdict", skip: j.Verdict == "", put: func() { w.str(j.Verdict) }},
	})
}

func (w *writer) model(m *Model) {
	w.object([]field{
		{key: "name", put: func() { w.str(m.Name) }},
		{key: "family", put: func() { w.str(m.Family) }},
		{key: "config", skip: len(m.Config) == 0, put: func() { w.value(m.Config) }},
		{key: "tensors", skip: len(m.Tensors) == 0, put: func() {
			keys := sortedKeys(m.Tensors)
			w.mapLen(len(keys))
			for _, k := range keys {
				w.str(k)
				w.tensor(m.Tensors[k])
			}
		}},
		{key: "metrics", skip: len(m.Metrics) == 0, put: func() { w.floatMap(m.Metrics) }},
		{key: "run", skip: m.Run == "", put: func() { w.str(m.Run) }},
	})
}

func (w *writer) run(r *Run) {
	w.object([]field{
		{key: "name", put: func() { w.str(r.Name) }},
		{key: "kind", put: func() { w.str(r.Kind) }},
		{key: "seed", skip: r.Seed == 0, put: func() { w.uint(r.Seed) }},
		{key: "config", skip: len(r.Config) == 0, put: func() { w.value(r.Config) }},
		{key: "series", skip: len(r.Series) == 0, put: func() {
			keys := sortedKeys(r.Series)
			w.mapLen(len(keys))
			for _, k := range keys {
				w.str(k)
				w.floats(r.Series[k])
			}
		}},
		{key: "summary", skip: len(r.Summary) == 0, put: func() { w.floatMap(r.Summary) }},
		{key: "notes", skip: len(r.Notes) == 0, put: func() { w.strings(r.Notes) }},
	})
}

func (w *writer) floatMap(m map[string]float64) {
	keys := sortedKeys(m)
	w.mapLen(len(keys))
	for _, k := range keys {
		w.str(k)
		w.f64(m[k])
	}
}

func (w *writer) tensor(t Tensor) {
	if t.Size() != len(t.Data) {
		w.check(fmt.Errorf("tensor of shape %v has %d values, want %d", t.Shape, len(t.Data), t.Size()))
		return
	}
	data := make([]byte, 4*len(t.Data))
	for i, v := range t.Data {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	w.object([]field{
		{key: "shape", put: func() { w.ints(t.Shape) }},
		{key: "dtype", put: func() { w.str("f32") }},
		{key: "data", put: func() { w.bin(data) }},
	})
}

// value writes a configuration value canonically. Allowed: nil, bool, string, the
// integer types, float32/float64 (written as float64), []any, []string, []int,
// []float64 and map[string]any. Anything else is an encoding error.
func (w *writer) value(v any) {
	switch x := v.(type) {
	case nil:
		w.check(w.e.EncodeNil())
	case bool:
		w.bool(x)
	case string:
		w.str(x)
	case int:
		w.int(int64(x))
	case int32:
		w.int(int64(x))
	case int64:
		w.int(x)
	case uint32:
		w.uint(uint64(x))
	case uint64:
		w.uint(x)
	case float32:
		w.f64(float64(x))
	case float64:
		w.f64(x)
	case []string:
		w.strings(x)
	case []int:
		w.ints(x)
	case []float64:
		w.floats(x)
	case []any:
		w.arrayLen(len(x))
		for _, e := range x {
			w.value(e)
		}
	case map[string]any:
		keys := sortedKeys(x)
		w.mapLen(len(keys))
		for _, k := range keys {
			w.str(k)
			w.value(x[k])
		}
	default:
		w.check(fmt.Errorf("config value of type %T is not allowed (use string, bool, number, list or map)", v))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
