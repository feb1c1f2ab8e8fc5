package formats

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"unsafe"

	"prefer/core/feedback"
)

// builder accumulates a Dataset from records, with map lookups for items, responses,
// raters and judgment ids so that importing is linear in the input.
type builder struct {
	prefix string // id prefix and hash domain of derived judgment ids, e.g. "trl"
	opt    Options
	ds     Dataset // its Items and Judgments stay empty: they are in c
	c      Compact
	rep    Report
	items  map[string]int     // item id → index in c.items, for ids other than ItemID(prompt)
	byHash map[itemHash]int32 // the same for ids that are ItemID(prompt), by the hash they spell
	raters map[string]int
	jids   map[string]int  // judgment id → index in js; nil until needed (ids)
	occ    map[occKey]int  // occurrences so far of each content key
	lines  map[int]int     // index of a review judgment → its line, for the final check
	key    []byte          // scratch buffer for judgment keys
	read   *countingReader // the input's bytes read so far (nil: InputSize unknown)
}

// itemState names one item of the builder: its index in c.items. What the builder
// knows of an item besides (an index of its responses, whether a jsonl "item" line
// declared it) is in the item's extra, which most items do not have: a map entry
// of an int per item, not of a pointer to a state of its own (7 MB at 300,000).
type itemState struct {
	idx int
}

// smallItem is the number of responses below which an item is searched linearly
// instead of through a map (most items have two).
const smallItem = 8

// find returns the index of the response with the given id in it, or -1.
func (it *slimItem) find(id string) int {
	if it.extra != nil && it.extra.respIdx != nil {
		if k, ok := it.extra.respIdx[id]; ok {
			return k
		}
		return -1
	}
	h, ok := parseRespID(id)
	for k := range it.resp {
		if it.resp[k].is(id, h, ok) {
			return k
		}
	}
	return -1
}

// added records that it.resp[k] was appended.
func (it *slimItem) added(k int) {
	switch {
	case it.extra != nil && it.extra.respIdx != nil:
		it.extra.respIdx[it.resp[k].id()] = k
	case len(it.resp) > smallItem:
		m := make(map[string]int, 2*len(it.resp))
		for i := range it.resp {
			m[it.resp[i].id()] = i
		}
		it.ext().respIdx = m
	}
}

// put sets or appends response r of it.
func (it *slimItem) put(r *feedback.Response) {
	if k := it.find(r.ID); k >= 0 {
		it.resp[k] = slimResp(r)
		return
	}
	it.resp = append(it.resp, slimResp(r))
	it.added(len(it.resp) - 1)
}

func newBuilder(format, prefix string, opt Options) *builder {
	return &builder{
		prefix: prefix,
		opt:    opt,
		rep:    Report{Format: format},
		items:  map[string]int{},
		byHash: map[itemHash]int32{},
		raters: map[string]int{},
		occ:    map[occKey]int{},
		lines:  map[int]int{},
	}
}

// run reads every record and hands it to handle. A record error fails the import,
// or is counted and skipped when Options.Lenient is set. handle must not change the
// builder when it returns an error: check first, then commit.
func (b *builder) run(r io.Reader, handle func(rec record) error) (*Dataset, *Report, error) {
	if b.opt.InputSize > 0 {
		b.read = &countingReader{r: r}
		r = b.read
	}
	r = watchExpansion(r, b.opt.Warn)
	rr, err := openRecords(r, b.opt.MaxRecord)
	if err != nil {
		return nil, nil, err
	}
	for {
		if max := b.opt.MaxRecords; max > 0 && b.rep.Records >= max {
			if _, err := rr.next(); err == io.EOF {
				break
			}
			return nil, nil, &TooManyRecordsError{Max: max}
		}
		rec, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if isFatal(err) {
				return nil, nil, err
			}
			b.rep.Records++
			if err := b.problem(err); err != nil {
				return nil, nil, err
			}
			continue
		}
		b.rep.Records++
		if b.opt.Rewrite != nil {
			data, err := b.opt.Rewrite(rec.data)
			if err != nil {
				if err := b.problem(&LineError{Line: rec.line, Msg: err.Error()}); err != nil {
					return nil, nil, err
				}
				continue
			}
			rec.data = data
		}
		if err := handle(rec); err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				le = &LineError{Line: rec.line, Msg: err.Error()}
			}
			if err := b.problem(le); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := b.checkReviews(); err != nil {
		return nil, nil, err
	}
	b.rep.Judgments = b.c.Len()
	// b's indexes (a map entry per item, judgment id and content key, about a third
	// of an import's memory) are garbage from here on: dropped before the judgments
	// are expanded.
	b.items, b.byHash, b.raters, b.jids, b.occ, b.lines = nil, nil, nil, nil, nil, nil
	for i := range b.c.items {
		b.c.items[i].done()
	}
	ds, rep := b.ds, b.rep
	if b.opt.Compact {
		c := b.c
		ds.Compact = &c
	} else {
		ds.Items, ds.Judgments = b.c.expand()
	}
	b.c = Compact{}
	return &ds, &rep, nil
}

// problem fails with err, or counts it when lenient.
func (b *builder) problem(err error) error {
	if !b.opt.Lenient {
		return err
	}
	b.rep.Skipped++
	if len(b.rep.Problems) < MaxProblems {
		b.rep.Problems = append(b.rep.Problems, err.Error())
	}
	return nil
}

// checkReviews checks each review and revision whose target was imported against
// it (feedback.ReviewProblem, RevisionProblem). A target absent from this input may
// come from another file; the merge checks it.
func (b *builder) checkReviews() error {
	idx := make([]int, 0, len(b.lines))
	for i := range b.lines {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		var j, t feedback.Judgment
		b.c.Judgment(i, &j)
		target := j.Target
		if j.Kind != feedback.KindReview {
			target = j.Revises
		}
		k, ok := b.ids()[target]
		if !ok {
			continue
		}
		b.c.Judgment(k, &t)
		what, err := "review", feedback.ReviewProblem(&j, &t)
		if j.Kind != feedback.KindReview {
			what, err = "revision", feedback.RevisionProblem(&j, &t)
		}
		if err != nil {
			return &LineError{Line: b.lines[i], Msg: fmt.Sprintf("%s of %q: %v", what, target, err)}
		}
	}
	return nil
}

// checkItem checks that an item can take the given prompt: a known item must have
// the same prompt, and a new item needs one.
func (b *builder) checkItem(id string, prompt *string) error {
	idx, ok := b.lookup(id)
	if !ok {
		if prompt == nil {
			return fmt.Errorf("item %q appears for the first time without a \"prompt\"; give its prompt", id)
		}
		return nil
	}
	if prompt != nil && *prompt != b.c.items[idx].prompt {
		return fmt.Errorf("item %q already has a different prompt (%s); give this prompt another \"item\" id or fix it",
			id, quoteShort(b.c.items[idx].prompt))
	}
	return nil
}

// item returns the item with the given id, creating it with prompt if new.
func (b *builder) item(id, prompt string) itemState {
	if idx, ok := b.lookup(id); ok {
		return itemState{idx}
	}
	st := itemState{idx: len(b.c.items)}
	it := slimItem{id: id, prompt: prompt}
	if h, ok := parseItemID(id); ok && id == ItemID(prompt) {
		b.byHash[h] = int32(st.idx)
		it.id = "" // slimItem.itemID derives it
	} else {
		b.items[id] = st.idx
		if id == "" {
			it.ext().emptyID = true
		}
	}
	b.c.items = append(growFor(b, b.c.items), it)
	return st
}

// lookup returns the index of the item with the given id.
func (b *builder) lookup(id string) (int, bool) {
	if h, ok := parseItemID(id); ok {
		if k, ok := b.byHash[h]; ok {
			return int(k), true
		}
	}
	k, ok := b.items[id]
	return k, ok
}

// growFor returns s with room for one more element: when it is full and the input's
// size is known, room for as many as the rest of the input implies at the rate so far
// (len(s) per byte read) and 1/16 more, but no more than 16× len(s) or, if that is
// more, twice the input's size in bytes (records that start short then grow cannot
// make it reserve much more than the input); otherwise s as it is (append doubles
// it). Growing once to about the final count, instead of by doubling, saves the
// copies and the peak of old and new arrays held together.
func growFor[T any](b *builder, s []T) []T {
	if len(s) < cap(s) || b.read == nil || b.read.n <= 0 || len(s) < 64 {
		return s
	}
	est := float64(float64(len(s)+1)*float64(b.opt.InputSize)) / float64(b.read.n)
	var t T
	bound := max(16*len(s), int(2*b.opt.InputSize/int64(max(unsafe.Sizeof(t), 1))))
	want := min(int(est+float64(est/16))+64, bound)
	if want <= len(s)+1 {
		return s
	}
	return slices.Grow(s, want-len(s))
}

// tag adds tags to an item, keeping its tags sorted and distinct.
func (b *builder) tag(st itemState, tags ...string) {
	if len(tags) == 0 {
		return
	}
	x := b.c.items[st.idx].ext()
	x.tags = unionSorted(x.tags, tags)
}

// response adds a response with the given text to an item if it has none with that
// text, adds parts to it either way, and returns its id.
func (b *builder) response(st itemState, text string, src feedback.Source, parts ...string) string {
	id := feedback.ResponseID(text)
	it := &b.c.items[st.idx]
	if k := it.find(id); k >= 0 {
		if len(parts) > 0 {
			var r feedback.Response
			it.resp[k].response(&r)
			r.Parts = unionSorted(r.Parts, parts)
			it.resp[k] = slimResp(&r)
		}
		return id
	}
	r := feedback.Response{ID: id, Text: text, Source: src}
	if len(parts) > 0 {
		r.Parts = unionSorted(nil, parts)
	}
	it.resp = append(it.resp, slimResp(&r))
	it.added(len(it.resp) - 1)
	return id
}

// rater records a rater id; r, when given, fills in the rater's other fields.
func (b *builder) rater(id string, r *feedback.Rater) {
	if id == "" {
		return
	}
	k, ok := b.raters[id]
	if !ok {
		k = len(b.ds.Raters)
		b.raters[id] = k
		b.ds.Raters = append(b.ds.Raters, feedback.Rater{ID: id})
	}
	if r != nil {
		fillRater(&b.ds.Raters[k], *r)
	}
}

// pending is a judgment checked and ready to commit.
type pending struct {
	j       feedback.Judgment
	key     [32]byte
	derived bool // the id was derived from key
	dup     bool // an equal judgment with this id is already imported
	line    int
}

// prepare gives j its id (derived from its content when j.ID is empty) and checks an
// explicit id against the judgments already imported.
func (b *builder) prepare(j feedback.Judgment, line int, prompt string, extra ...string) (pending, error) {
	p := pending{j: j, line: line}
	if j.ID == "" {
		p.key = b.judgmentKey(prompt, &j, extra...)
		p.derived = true
		p.j.ID = b.derivedID(p.key)
		return p, nil
	}
	if k, ok := b.ids()[j.ID]; ok {
		var have feedback.Judgment
		b.c.Judgment(k, &have)
		have.Pos = j.Pos // the place in the input is not content
		if !reflect.DeepEqual(have, j) {
			return p, fmt.Errorf("judgment id %q was already used for a different judgment; ids must be unique", j.ID)
		}
		p.dup = true
	}
	return p, nil
}

// commit adds a prepared judgment and its rater.
func (b *builder) commit(p pending) {
	if p.dup {
		b.rep.Duplicates++
		return
	}
	if p.derived {
		b.occ[occKey(p.key[:])]++
	}
	b.rater(p.j.Rater, nil)
	n := b.c.Len()
	if p.j.Kind == feedback.KindReview || p.j.Revises != "" {
		b.lines[n] = p.line
	}
	if b.jids != nil {
		b.jids[p.j.ID] = n
	}
	// Its place in the input, which the exports keep (feedback.ExportOrder); not part
	// of the id, so re-importing and reordering files still merge exactly once.
	p.j.Pos = n + 1
	item, ok := b.lookup(p.j.Item)
	if !ok {
		item = -1
	}
	b.share(&p.j, item)
	b.c.add(&p.j, b, item)
}

// ids returns the index of the judgment ids imported so far, made on first use: an
// input whose judgments have no ids of their own and name no other (TRL, HH-RLHF…)
// never needs it, which saves a map entry per judgment (15 MB at 300,000 pairs).
func (b *builder) ids() map[string]int {
	if b.jids == nil {
		b.jids = make(map[string]int, b.c.Len())
		for i := range b.c.js {
			b.jids[b.c.js[i].id] = i
		}
	}
	return b.jids
}

// share points the item id of j at the string its item (the idx-th, if idx >= 0)
// holds: the same text once in memory, not once more per judgment held in full.
func (b *builder) share(j *feedback.Judgment, idx int) {
	if idx < 0 {
		return
	}
	if it := &b.c.items[idx]; it.id != "" {
		j.Item = it.id
	}
}

// occKey is the first 128 bits of a content key: the occurrence counts key on it,
// 24 bytes a map slot instead of 40 (8 MB at 300,000 judgments). Two different
// contents share a count only if their SHA-256 sums agree in 128 bits.
type occKey [16]byte

// derivedID returns the id of the next occurrence of a judgment with the given
// content key: prefix-<20 hex digits>. The first occurrence uses the key itself;
// the n-th repeat hashes the key with n, so identical records stay distinct
// judgments and re-importing the same data gives the same ids.
func (b *builder) derivedID(key [32]byte) string {
	n := b.occ[occKey(key[:])]
	sum := key
	if n > 0 {
		var buf [40]byte
		copy(buf[:], key[:])
		binary.LittleEndian.PutUint64(buf[32:], uint64(n))
		sum = sha256.Sum256(buf[:])
	}
	return b.prefix + "-" + hex.EncodeToString(sum[:10])
}

// judgmentKey hashes the content of a judgment (every field but the id), its item's
// prompt, the import format and any extra strings, each length-prefixed.
func (b *builder) judgmentKey(prompt string, j *feedback.Judgment, extra ...string) [32]byte {
	k := b.key[:0]
	str := func(s string) {
		k = strconv.AppendInt(k, int64(len(s)), 10)
		k = append(k, ':')
		k = append(k, s...)
	}
	num := func(n int64) {
		k = strconv.AppendInt(k, n, 10)
		k = append(k, ';')
	}
	strs := func(ss []string) {
		num(int64(len(ss)))
		for _, s := range ss {
			str(s)
		}
	}
	str(b.prefix)
	str(prompt)
	str(string(j.Kind))
	str(j.Item)
	str(j.Rater)
	num(j.Time)
	str(j.Session)
	num(int64(j.Seq))
	num(j.MS)
	num(int64(j.Guideline))
	strs(j.Reasons)
	str(j.Note)
	str(j.A)
	str(j.B)
	str(string(j.Choice))
	num(int64(j.Strength))
	str(j.Left)
	strs(j.Shown)
	num(int64(len(j.Order)))
	for _, o := range j.Order {
		num(int64(o))
	}
	str(j.Response)
	str(j.Axis)
	num(int64(j.Score))
	str(j.Text)
	str(j.Category)
	str(j.Target)
	str(j.Verdict)
	strs(extra)
	b.key = k
	return sha256.Sum256(k)
}

// decodeJSON decodes one record into v and turns encoding/json's errors into
// messages that name the field and say what it must be.
func decodeJSON(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return jsonProblem(err)
	}
	return nil
}

func jsonProblem(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON (%v, at byte %d of the record); each record must be one JSON object", se, se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Errorf("expected a JSON object, found %s", jsonKind(te.Value))
		}
		return fmt.Errorf("%q must be %s, not %s", te.Field, wantKind(te.Type), jsonKind(te.Value))
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

func jsonKind(v string) string {
	switch {
	case v == "array", v == "object":
		return "an " + v
	case v == "bool":
		return "true/false"
	case len(v) > 7 && v[:7] == "number ":
		return "the " + v
	}
	return "a " + v
}

func wantKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}
