package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
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
	if err := Encode(&buf, s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Encode writes Marshal(s) to out as it encodes, without holding the encoding in
// memory: a large snapshot costs its Go values and out's buffer, not also its
// bytes (and the bytes.Buffer's doublings). The id of what was written is
// ID of the same bytes; hash them on the way (io.MultiWriter with sha256).
func Encode(out io.Writer, s *Snapshot) error {
	return EncodeFrom(out, s, nil, nil)
}

// ItemSource gives the items of a snapshot one at a time: Len of them, Item(i, it)
// filling *it with the i-th (it may hold the previous one, whose Responses array
// it may reuse). See JudgmentSource.
type ItemSource interface {
	Len() int
	Item(i int, it *feedback.Item)
}

type itemSlice []feedback.Item

func (s itemSlice) Len() int                      { return len(s) }
func (s itemSlice) Item(i int, it *feedback.Item) { *it = s[i] }

// JudgmentSource gives the judgments of a snapshot one at a time: Len of them,
// Judgment(i, j) filling *j with the i-th (j may hold the previous one; every field
// is set). An importer that holds its judgments in a form smaller than
// feedback.Judgment (formats.Compact) writes the snapshot from it without making
// the slice.
type JudgmentSource interface {
	Len() int
	Judgment(i int, j *feedback.Judgment)
}

type judgmentSlice []feedback.Judgment

func (s judgmentSlice) Len() int                             { return len(s) }
func (s judgmentSlice) Judgment(i int, j *feedback.Judgment) { *j = s[i] }

// EncodeFrom is Encode of s with its items taken from items and its judgments from
// js instead of s.Items and s.Judgments (which are then ignored; a nil source means
// s's own): the same bytes as Encode of s holding them in order.
func EncodeFrom(out io.Writer, s *Snapshot, items ItemSource, js JudgmentSource) error {
	if items == nil {
		items = itemSlice(s.Items)
	}
	if js == nil {
		js = judgmentSlice(s.Judgments)
	}
	w := &writer{e: msgpack.NewEncoder(out), items: items, js: js}
	w.snapshot(s)
	if w.err != nil {
		return fmt.Errorf("encode snapshot: %w", w.err)
	}
	return nil
}

// writer wraps the msgpack encoder and keeps the first error.
type writer struct {
	e     *msgpack.Encoder
	err   error
	items ItemSource     // the snapshot's items
	js    JudgmentSource // and judgments
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

func (w *writer) strings(ss []string)           { writeArray(w, ss, w.str) }
func (w *writer) ints(xs []int)                 { writeArray(w, xs, func(x int) { w.int(int64(x)) }) }
func (w *writer) floats(xs []float64)           { writeArray(w, xs, w.f64) }
func (w *writer) floatMap(m map[string]float64) { writeMap(w, m, w.f64) }

// writeArray writes xs as an array, each element by put.
func writeArray[T any](w *writer, xs []T, put func(T)) {
	w.arrayLen(len(xs))
	for _, x := range xs {
		put(x)
	}
}

// writeRecords writes xs as an array of records, each by put (by pointer: records
// are large).
func writeRecords[T any](w *writer, xs []T, put func(*T)) {
	w.arrayLen(len(xs))
	for i := range xs {
		put(&xs[i])
	}
}

// writeMap writes m with its keys in sorted order (the canonical form), each value
// by put.
func writeMap[T any](w *writer, m map[string]T, put func(T)) {
	keys := slices.Sorted(maps.Keys(m))
	w.mapLen(len(keys))
	for _, k := range keys {
		w.str(k)
		put(m[k])
	}
}

// VersionOf is the version a snapshot is written with: the oldest schema that
// means the same thing. Version 2 adds revisions (a judgment's revises, a review of
// any kind of judgment, the withdraw verdict); a version-1 reader would count a
// revised or rejected judgment as standing, so a snapshot that holds any of them is
// version 2, and every other one stays version 1 (and keeps its bytes and its id).
func VersionOf(s *Snapshot) int { return versionOf(judgmentSlice(s.Judgments)) }

func versionOf(js JudgmentSource) int {
	var reviews bool
	var j feedback.Judgment
	n := js.Len()
	for i := range n {
		js.Judgment(i, &j)
		if j.Revises != "" || j.Kind == feedback.KindReview && j.Verdict == feedback.VerdictWithdraw {
			return 2
		}
		reviews = reviews || j.Kind == feedback.KindReview
	}
	if !reviews {
		return 1
	}
	flags := make(map[string]bool)
	for i := range n {
		if js.Judgment(i, &j); j.Kind == feedback.KindFlag {
			flags[j.ID] = true
		}
	}
	for i := range n {
		if js.Judgment(i, &j); j.Kind == feedback.KindReview && !flags[j.Target] {
			return 2
		}
	}
	return 1
}

func (w *writer) snapshot(s *Snapshot) {
	fs := []field{
		{key: "format", put: func() { w.str(Format) }},
		{key: "version", put: func() { w.int(int64(versionOf(w.js))) }},
		{key: "provenance", put: func() { w.provenance(&s.Provenance) }},
		{key: "items", skip: w.items.Len() == 0, put: func() {
			n := w.items.Len()
			w.arrayLen(n)
			var it feedback.Item
			for i := range n {
				w.items.Item(i, &it)
				w.item(&it)
			}
		}},
		{key: "raters", skip: len(s.Raters) == 0, put: func() { writeRecords(w, s.Raters, w.rater) }},
		{key: "judgments", skip: w.js.Len() == 0, put: func() {
			n := w.js.Len()
			w.arrayLen(n)
			var j feedback.Judgment
			for i := range n {
				w.js.Judgment(i, &j)
				w.judgment(&j)
			}
		}},
		{key: "guidelines", skip: len(s.Guidelines) == 0, put: func() {
			writeRecords(w, s.Guidelines, func(g *feedback.Guideline) {
				w.object([]field{
					{key: "version", put: func() { w.int(int64(g.Version)) }},
					{key: "text", put: func() { w.str(g.Text) }},
					{key: "time", skip: g.Time == 0, put: func() { w.int(g.Time) }},
				})
			})
		}},
		{key: "models", skip: len(s.Models) == 0, put: func() { writeRecords(w, s.Models, w.model) }},
		{key: "runs", skip: len(s.Runs) == 0, put: func() { writeRecords(w, s.Runs, w.run) }},
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
	var f fields
	f.str("gold_best", it.GoldBest)
	f.req("id", it.ID)
	f.req("prompt", it.Prompt)
	f.custom("responses", true)
	f.strs("tags", it.Tags)
	f.write(w, func(string) { writeRecords(w, it.Responses, w.response) })
}

func (w *writer) response(r *feedback.Response) {
	var f fields
	if r.Gold != nil {
		f.float("gold", *r.Gold)
	}
	f.req("id", r.ID)
	f.custom("origins", len(r.Origins) > 0)
	f.strs("parts", r.Parts)
	if r.RefProb != 0 {
		f.float("ref_prob", r.RefProb)
	}
	f.str("source", string(r.Source))
	f.req("text", r.Text)
	f.write(w, func(string) { writeRecords(w, r.Origins, w.origin) })
}

func (w *writer) origin(o *feedback.Origin) {
	var f fields
	f.str("api", o.API)
	f.req("endpoint", o.Endpoint)
	f.str("finish", o.Finish)
	f.int("k", int64(o.K))
	f.int("max_tokens", int64(o.MaxTokens))
	f.req("model", o.Model)
	f.custom("seed", o.Seeded)
	f.strs("stop", o.Stop)
	f.str("system", o.System)
	if o.Temperature != 0 {
		f.float("temperature", o.Temperature)
	}
	f.int("top_k", int64(o.TopK))
	if o.TopP != 0 {
		f.float("top_p", o.TopP)
	}
	f.write(w, func(string) { w.int(o.Seed) })
}

func (w *writer) rater(r *feedback.Rater) {
	var f fields
	f.str("group", r.Group)
	f.req("id", r.ID)
	f.str("kind", string(r.Kind))
	f.str("name", r.Name)
	f.str("profile", r.Profile)
	f.write(w, nil)
}

// judgment writes the keys in sorted order by hand (fields checks the order); this
// is the hot path of large snapshots.
func (w *writer) judgment(j *feedback.Judgment) {
	var f fields
	f.str("a", j.A)
	f.str("axis", j.Axis)
	f.str("b", j.B)
	f.str("category", j.Category)
	f.str("choice", string(j.Choice))
	f.int("guideline", int64(j.Guideline))
	f.req("id", j.ID)
	f.str("item", j.Item)
	f.req("kind", string(j.Kind))
	f.str("left", j.Left)
	f.int("ms", j.MS)
	f.str("note", j.Note)
	f.ints("order", j.Order)
	f.int("pos", int64(j.Pos))
	f.str("rater", j.Rater)
	f.strs("reasons", j.Reasons)
	f.str("response", j.Response)
	f.str("revises", j.Revises)
	f.int("score", int64(j.Score))
	f.int("seq", int64(j.Seq))
	f.str("session", j.Session)
	f.strs("shown", j.Shown)
	f.int("strength", int64(j.Strength))
	f.str("target", j.Target)
	f.str("text", j.Text)
	f.int("time", j.Time)
	f.str("verdict", j.Verdict)
	if j.ID == "" {
		w.check(fmt.Errorf("judgment without an id (item %q)", j.Item))
	}
	f.write(w, nil)
}

// fields collects the present fields of one record, in sorted key order, without
// allocating. Empty values are left out; req adds a field that is always written.
type fields struct {
	list [32]fieldValue
	n    int
	bad  string // a key added out of order: a programming error reported on write
}

type fieldValue struct {
	key  string
	kind uint8 // 's' string, 'i' int, 'f' float, 'S' []string, 'I' []int, 'c' custom
	s    string
	i    int64
	f    float64
	ss   []string
	is   []int
}

func (f *fields) add(v fieldValue) {
	if f.n > 0 && f.list[f.n-1].key >= v.key && f.bad == "" {
		f.bad = v.key
	}
	f.list[f.n] = v
	f.n++
}

func (f *fields) str(key, s string) {
	if s != "" {
		f.add(fieldValue{key: key, kind: 's', s: s})
	}
}

// req adds a string field that is written even when empty.
func (f *fields) req(key, s string) { f.add(fieldValue{key: key, kind: 's', s: s}) }

func (f *fields) int(key string, i int64) {
	if i != 0 {
		f.add(fieldValue{key: key, kind: 'i', i: i})
	}
}

func (f *fields) float(key string, x float64) { f.add(fieldValue{key: key, kind: 'f', f: x}) }

func (f *fields) strs(key string, ss []string) {
	if len(ss) > 0 {
		f.add(fieldValue{key: key, kind: 'S', ss: ss})
	}
}

func (f *fields) ints(key string, is []int) {
	if len(is) > 0 {
		f.add(fieldValue{key: key, kind: 'I', is: is})
	}
}

func (f *fields) custom(key string, present bool) {
	if present {
		f.add(fieldValue{key: key, kind: 'c'})
	}
}

// write emits the map; custom fields are written by put.
func (f *fields) write(w *writer, put func(key string)) {
	if f.bad != "" {
		w.check(fmt.Errorf("internal: snapshot key %q written out of sorted order", f.bad))
		return
	}
	w.mapLen(f.n)
	for _, v := range f.list[:f.n] {
		w.str(v.key)
		switch v.kind {
		case 's':
			w.str(v.s)
		case 'i':
			w.int(v.i)
		case 'f':
			w.f64(v.f)
		case 'S':
			w.strings(v.ss)
		case 'I':
			w.ints(v.is)
		case 'c':
			put(v.key)
		}
	}
}

func (w *writer) model(m *Model) {
	w.object([]field{
		{key: "name", put: func() { w.str(m.Name) }},
		{key: "family", put: func() { w.str(m.Family) }},
		{key: "config", skip: len(m.Config) == 0, put: func() { w.value(m.Config) }},
		{key: "tensors", skip: len(m.Tensors) == 0, put: func() { writeMap(w, m.Tensors, w.tensor) }},
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
		{key: "series", skip: len(r.Series) == 0, put: func() { writeMap(w, r.Series, w.floats) }},
		{key: "summary", skip: len(r.Summary) == 0, put: func() { w.floatMap(r.Summary) }},
		{key: "notes", skip: len(r.Notes) == 0, put: func() { w.strings(r.Notes) }},
	})
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
		writeArray(w, x, w.value)
	case map[string]any:
		writeMap(w, x, w.value)
	default:
		w.check(fmt.Errorf("config value of type %T is not allowed (use string, bool, number, list or map)", v))
	}
}
