package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"prefer/core/feedback"
)

// Errors returned by Unmarshal; test with errors.Is.
var (
	ErrNotSnapshot = errors.New("not a Prefer snapshot")
	ErrTooNew      = errors.New("snapshot version is newer than this program")
	ErrCorrupt     = errors.New("snapshot is truncated or corrupt")
)

// maxDepth bounds the nesting of configuration values and skipped unknown values.
const maxDepth = 32

// Decoding is budgeted: Unmarshal allocates at most BudgetFactor × the input's size
// plus BudgetSlack bytes, whatever the input. Every array of records is checked
// against the bytes that remain before it is allocated (each record takes at least
// its required keys), every allocation is charged to a running budget, and a
// snapshot that would need more is refused with ErrCorrupt naming the limit. Real
// snapshots decode to 1.5–4× their size (docs/server.md lists measured ratios);
// only runs of near-empty records come near the bound.
const (
	BudgetFactor = 24
	BudgetSlack  = 64 << 10
)

// Required keys make records cost input bytes: the smallest encoding of each record
// kind that Unmarshal accepts. An array header claiming n records is refused unless
// n × this many bytes remain, before anything is allocated for it.
const (
	minItemBytes      = 6  // {"id": "x"}
	minResponseBytes  = 6  // {"id": "x"}
	minRaterBytes     = 6  // {"id": "x"}
	minJudgmentBytes  = 16 // {"id": "x", "kind": "rate"}
	minGuidelineBytes = 1  // {} (a guideline's keys are all optional)
	minModelBytes     = 8  // {"name": "x"}
	minRunBytes       = 8  // {"name": "x"}
	mapEntryCost      = 64 // bytes charged per entry of a decoded Go map
)

// Unmarshal decodes a snapshot.
//
// Every length read from the input is checked against the bytes that remain before
// anything is allocated, so a hostile or truncated file gives an error (wrapping
// ErrCorrupt), never a panic or an allocation larger than the input justifies. A
// version newer than Version gives ErrTooNew with both versions named. Unknown keys
// are skipped inside records and kept (as raw msgpack, in Extra) at the top level.
func Unmarshal(data []byte) (s *Snapshot, err error) { return UnmarshalPaced(data, 0, nil) }

// UnmarshalPaced is Unmarshal that calls pause after about every chunk bytes of
// input, between elements of arrays, and then goes on. A caller on a UI thread uses
// it to let the page run while a large snapshot decodes (a browser's main thread
// should not be held for more than ~50 ms at a time). The result is exactly
// Unmarshal's. A nil pause or chunk ≤ 0 never pauses.
func UnmarshalPaced(data []byte, chunk int, pause func()) (s *Snapshot, err error) {
	return unmarshal(data, chunk, pause, Options{})
}

// TooManyError is UnmarshalWith's error for an array longer than its limit. It is
// returned after reading the array's header, before any element is decoded.
type TooManyError struct {
	What     string // "judgments"
	N, Limit int
}

func (e *TooManyError) Error() string {
	return fmt.Sprintf("%d %s, more than the %d allowed", e.N, e.What, e.Limit)
}

// Options tighten Unmarshal's limits for a caller that knows what it expects.
type Options struct {
	// MaxJudgments refuses, with a *TooManyError, a snapshot holding more judgments,
	// before decoding any of them (an events batch is a snapshot of judgments: its
	// size is checked from the array header). 0 means no limit.
	MaxJudgments int
	// BudgetFactor replaces the package's BudgetFactor when it is smaller and > 0: a
	// server decoding uploads may allow less than a command opening a file.
	BudgetFactor int
	// OnlyJudgments decodes the judgments (and the format and version) and skips
	// every other section, still checked to be well-formed msgpack: for a caller
	// that put the judgments aside while it worked and reads them back (train-rm:
	// 300k pairs' items decoded again would cost 160 MB it does not need).
	OnlyJudgments bool
}

// UnmarshalWith is Unmarshal with tighter limits.
func UnmarshalWith(data []byte, opt Options) (*Snapshot, error) {
	return unmarshal(data, 0, nil, opt)
}

func unmarshal(data []byte, chunk int, pause func(), opt Options) (s *Snapshot, err error) {
	factor := int64(BudgetFactor)
	if opt.BudgetFactor > 0 && opt.BudgetFactor < BudgetFactor {
		factor = int64(opt.BudgetFactor)
	}
	rd := bytes.NewReader(data)
	r := &reader{d: msgpack.NewDecoder(rd), rd: rd, data: data,
		budget: factor*int64(len(data)) + BudgetSlack, factor: factor, maxJudgments: opt.MaxJudgments, onlyJudg: opt.OnlyJudgments}
	r.intern.r = r
	if pause != nil && chunk > 0 {
		r.pause, r.chunk = pause, chunk
	}
	s = &Snapshot{}
	if err := r.snapshot(s); err != nil {
		return nil, err
	}
	if rd.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes of trailing data after the snapshot", ErrCorrupt, rd.Len())
	}
	return s, nil
}

// reader decodes with bounds checks. path names the field being read, for errors;
// it is only turned into text when an error is reported.
type reader struct {
	d      *msgpack.Decoder
	rd     *bytes.Reader
	data   []byte
	path   []pathElem
	intern internTable // repeated short strings (ids, kinds) share one copy
	budget int64       // bytes the decoder may still allocate

	factor       int64 // the budget's multiple of the input size
	maxJudgments int   // Options.MaxJudgments; 0 means none
	onlyJudg     bool  // Options.OnlyJudgments

	pause     func() // UnmarshalPaced: called after about every chunk bytes
	chunk     int
	lastPause int // input offset of the last pause
}

// maybePause calls pause when chunk bytes have been read since the last call.
func (r *reader) maybePause() {
	if r.pause == nil {
		return
	}
	if pos := len(r.data) - r.rd.Len(); pos-r.lastPause >= r.chunk {
		r.lastPause = pos
		r.pause()
	}
}

// charge takes n bytes from the decoding budget, or fails when it is spent.
func (r *reader) charge(n int64) error {
	r.budget -= n
	if r.budget < 0 {
		return r.fail("the snapshot would take more than %d× its %d bytes of memory to decode (runs of near-empty records); it is not a snapshot Prefer writes",
			r.factor, len(r.data))
	}
	return nil
}

// records reads an array header of records that each take at least minBytes of
// input and returns a slice with capacity for all of them, charged to the budget.
func records[T any](r *reader, minBytes int) ([]T, int, error) {
	n, err := r.arrayLen()
	if err != nil || n == 0 {
		return nil, 0, err
	}
	if rem := r.rd.Len(); n > rem/minBytes {
		return nil, 0, r.fail("array claims %d records but only %d bytes remain (a record takes at least %d)", n, rem, minBytes)
	}
	var zero T
	if err := r.charge(int64(n) * int64(unsafe.Sizeof(zero))); err != nil {
		return nil, 0, err
	}
	return make([]T, 0, n), n, nil
}

// pathElem is a map key (when key != "") or an array index.
type pathElem struct {
	key   string
	index int
}

func (r *reader) fail(format string, args ...any) error {
	where := "snapshot"
	for _, p := range r.path {
		if p.key != "" {
			where += "." + p.key
		} else {
			where += fmt.Sprintf("[%d]", p.index)
		}
	}
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, where, fmt.Sprintf(format, args...))
}

func (r *reader) wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooNew) || errors.Is(err, ErrNotSnapshot) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.fail("unexpected end of data (the file is truncated)")
	}
	return r.fail("%v", err)
}

func (r *reader) pop() { r.path = r.path[:len(r.path)-1] }

// arrayLen reads an array header (nil counts as empty) and bounds it: every element
// takes at least one byte.
func (r *reader) arrayLen() (int, error) {
	n, err := r.d.DecodeArrayLen()
	if err != nil {
		return 0, r.wrap(err)
	}
	if n < 0 {
		return 0, nil
	}
	if n > r.rd.Len() {
		return 0, r.fail("array claims %d elements but only %d bytes remain", n, r.rd.Len())
	}
	return n, nil
}

// peekArrayLen returns the length in the array header at the current position
// without consuming it; ok is false when no array header is there.
func (r *reader) peekArrayLen() (n int, ok bool) {
	rest := r.data[len(r.data)-r.rd.Len():]
	switch {
	case len(rest) >= 1 && rest[0] >= 0x90 && rest[0] <= 0x9f:
		return int(rest[0] & 0x0f), true
	case len(rest) >= 3 && rest[0] == msgpcode.Array16:
		return int(binary.BigEndian.Uint16(rest[1:])), true
	case len(rest) >= 5 && rest[0] == msgpcode.Array32:
		return int(binary.BigEndian.Uint32(rest[1:])), true
	}
	return 0, false
}

// mapLen reads a map header and bounds it: every entry takes at least two bytes.
func (r *reader) mapLen() (int, error) {
	n, err := r.d.DecodeMapLen()
	if err != nil {
		return 0, r.wrap(err)
	}
	if n < 0 {
		return 0, nil
	}
	if 2*n > r.rd.Len() {
		return 0, r.fail("map claims %d entries but only %d bytes remain", n, r.rd.Len())
	}
	return n, nil
}

// object reads a map with string keys and calls fn for each key; fn must consume
// the value (or call r.skip).
func (r *reader) object(fn func(key string) error) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	// Duplicate keys are refused: the format is canonical, and a repeated key would
	// let two readers see different values. Records have a few keys, compared in
	// place; larger maps (configs, tensors, series) use a set.
	var few [16]string
	var many map[string]struct{}
	if n > len(few) {
		if err := r.charge(int64(n) * mapEntryCost); err != nil {
			return err
		}
		many = make(map[string]struct{}, n)
	}
	for i := 0; i < n; i++ {
		k, err := r.key()
		if err != nil {
			return err
		}
		if many != nil {
			if _, dup := many[k]; dup {
				return r.fail("key %q appears twice in one map", k)
			}
			many[k] = struct{}{}
		} else {
			for _, p := range few[:i] {
				if p == k {
					return r.fail("key %q appears twice in one map", k)
				}
			}
			few[i] = k
		}
		r.path = append(r.path, pathElem{key: k})
		err = fn(k)
		r.pop()
		if err != nil {
			return err
		}
	}
	return nil
}

// key reads a map key. Keys of the schema come back as constants without a map
// lookup or an allocation (the hot path of large snapshots, and much slower in wasm
// when hashed); other keys are read like any string.
func (r *reader) key() (string, error) {
	pos := len(r.data) - r.rd.Len()
	if pos < len(r.data) {
		if c := r.data[pos]; c >= 0xa0 && c <= 0xbf { // fixstr: every key of the schema
			n := int(c & 0x1f)
			if pos+1+n <= len(r.data) {
				if k := schemaKey(r.data[pos+1 : pos+1+n]); k != "" {
					r.rd.Seek(int64(1+n), io.SeekCurrent)
					return k, nil
				}
			}
		}
	}
	return r.str()
}

// schemaKey returns the constant for a key of the schema, or "". The switch on
// string(b) does not allocate.
func schemaKey(b []byte) string {
	switch string(b) {
	case "a":
		return "a"
	case "axis":
		return "axis"
	case "b":
		return "b"
	case "category":
		return "category"
	case "choice":
		return "choice"
	case "command":
		return "command"
	case "config":
		return "config"
	case "created":
		return "created"
	case "data":
		return "data"
	case "dtype":
		return "dtype"
	case "family":
		return "family"
	case "format":
		return "format"
	case "gold":
		return "gold"
	case "gold_best":
		return "gold_best"
	case "group":
		return "group"
	case "guideline":
		return "guideline"
	case "guidelines":
		return "guidelines"
	case "id":
		return "id"
	case "item":
		return "item"
	case "items":
		return "items"
	case "judgments":
		return "judgments"
	case "kind":
		return "kind"
	case "left":
		return "left"
	case "metrics":
		return "metrics"
	case "models":
		return "models"
	case "ms":
		return "ms"
	case "name":
		return "name"
	case "note":
		return "note"
	case "notes":
		return "notes"
	case "order":
		return "order"
	case "parent":
		return "parent"
	case "parts":
		return "parts"
	case "profile":
		return "profile"
	case "prompt":
		return "prompt"
	case "provenance":
		return "provenance"
	case "pos":
		return "pos"
	case "rater":
		return "rater"
	case "raters":
		return "raters"
	case "reasons":
		return "reasons"
	case "ref_prob":
		return "ref_prob"
	case "response":
		return "response"
	case "responses":
		return "responses"
	case "run":
		return "run"
	case "runs":
		return "runs"
	case "score":
		return "score"
	case "seed":
		return "seed"
	case "seq":
		return "seq"
	case "series":
		return "series"
	case "session":
		return "session"
	case "shape":
		return "shape"
	case "shown":
		return "shown"
	case "source":
		return "source"
	case "strength":
		return "strength"
	case "summary":
		return "summary"
	case "tags":
		return "tags"
	case "target":
		return "target"
	case "tensors":
		return "tensors"
	case "text":
		return "text"
	case "time":
		return "time"
	case "tool":
		return "tool"
	case "verdict":
		return "verdict"
	case "version":
		return "version"
	}
	return ""
}

func (r *reader) str() (string, error) {
	c, err := r.d.PeekCode()
	if err != nil {
		return "", r.wrap(err)
	}
	if !msgpcode.IsString(c) && c != msgpcode.Nil {
		return "", r.fail("want a string, found msgpack code 0x%02x", c)
	}
	if c == msgpcode.Nil {
		return "", r.wrap(r.d.DecodeNil())
	}
	head, n, err := r.payload()
	if err != nil {
		return "", err
	}
	pos := len(r.data) - r.rd.Len()
	b := r.data[pos+head : pos+head+n]
	if _, err := r.rd.Seek(int64(head+n), io.SeekCurrent); err != nil {
		return "", r.wrap(err)
	}
	if n > 64 {
		if err := r.charge(int64(n)); err != nil {
			return "", err
		}
		return string(b), nil
	}
	return r.intern.get(b), nil
}

// internTable is an open-addressing set of strings keyed by FNV-1a of their bytes.
// It replaces a Go map, whose hashing dominated decoding (and is slower still in
// wasm, which lacks the AES hash instructions).
//
// Its growth and the strings it copies are charged to the decoder's budget; when the
// budget cannot pay for a larger table, strings are copied without interning.
type internTable struct {
	slots []string // len is a power of two; "" marks an empty slot
	used  int
	r     *reader // charged for the table and the copies; nil charges nothing
}

// get returns the interned copy of b, adding it if new. The empty string is never
// stored (it needs no copy).
func (t *internTable) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if 2*(t.used+1) > len(t.slots) && !t.grow() {
		return t.copy(b)
	}
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == "" {
			s = t.copy(b)
			t.slots[i] = s
			t.used++
			return s
		}
		if s == string(b) { // no allocation for the comparison
			return s
		}
	}
}

// copy returns a new string of b's bytes, charged to the budget (a failed charge
// is seen by the next record's charge: the budget stays negative).
func (t *internTable) copy(b []byte) string {
	if t.r != nil {
		t.r.budget -= int64(len(b))
	}
	return string(b)
}

// grow doubles the table, or reports false when the budget cannot pay for it.
func (t *internTable) grow() bool {
	n := max(64, 2*len(t.slots))
	if t.r != nil {
		if t.r.budget < int64(n)*16*2 { // keep half the budget for the records
			return false
		}
		t.r.budget -= int64(n) * 16
	}
	old := t.slots
	t.slots = make([]string, n)
	t.used = 0
	for _, s := range old {
		if s != "" {
			t.reinsert(s)
		}
	}
	return true
}

// reinsert puts an interned string into a grown table.
func (t *internTable) reinsert(s string) {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if t.slots[i] == "" {
			t.slots[i] = s
			t.used++
			return
		}
	}
}

// isInt reports whether c starts a msgpack integer (fixint, uint8–64, int8–64).
func isInt(c byte) bool {
	return msgpcode.IsFixedNum(c) || (c >= msgpcode.Uint8 && c <= msgpcode.Int64)
}

func (r *reader) int() (int64, error) {
	c, err := r.d.PeekCode()
	if err != nil {
		return 0, r.wrap(err)
	}
	if !isInt(c) {
		return 0, r.fail("want an integer, found msgpack code 0x%02x", c)
	}
	n, err := r.d.DecodeInt64()
	return n, r.wrap(err)
}

// smallInt reads an integer that must fit in 32 bits (counts, scores, versions).
func (r *reader) smallInt() (int, error) {
	n, err := r.int()
	if err != nil {
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, r.fail("integer %d out of range", n)
	}
	return int(n), nil
}

func (r *reader) uint() (uint64, error) {
	c, err := r.d.PeekCode()
	if err != nil {
		return 0, r.wrap(err)
	}
	if !isInt(c) {
		return 0, r.fail("want an integer, found msgpack code 0x%02x", c)
	}
	n, err := r.d.DecodeUint64()
	return n, r.wrap(err)
}

func (r *reader) f64() (float64, error) {
	c, err := r.d.PeekCode()
	if err != nil {
		return 0, r.wrap(err)
	}
	if c != msgpcode.Float && c != msgpcode.Double && !isInt(c) {
		return 0, r.fail("want a number, found msgpack code 0x%02x", c)
	}
	f, err := r.d.DecodeFloat64()
	return f, r.wrap(err)
}

func (r *reader) bool() (bool, error) {
	b, err := r.d.DecodeBool()
	return b, r.wrap(err)
}

func (r *reader) strings() ([]string, error)            { return array(r, 16, r.str) }
func (r *reader) ints() ([]int, error)                  { return array(r, 8, r.smallInt) }
func (r *reader) floats() ([]float64, error)            { return array(r, 8, r.f64) }
func (r *reader) floatMap() (map[string]float64, error) { return mapOf(r, r.f64) }

// array reads an array of scalars, charging size bytes an element to the budget
// before the slice is allocated (arrayLen has already bounded the count by the
// bytes left). An empty or nil array gives a nil slice.
func array[T any](r *reader, size int64, read func() (T, error)) ([]T, error) {
	n, err := r.arrayLen()
	if err != nil || n == 0 {
		return nil, err
	}
	if err := r.charge(int64(n) * size); err != nil {
		return nil, err
	}
	out := make([]T, n)
	for i := range out {
		if out[i], err = read(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mapOf reads a map with string keys, each value by read, charging mapEntryCost
// an entry. The map is returned (non-nil) with what was read even on error.
func mapOf[T any](r *reader, read func() (T, error)) (map[string]T, error) {
	out := map[string]T{}
	err := r.object(func(k string) error {
		v, err := read()
		out[k] = v
		if err == nil {
			err = r.charge(mapEntryCost)
		}
		return err
	})
	return out, err
}

// skip consumes one value of any type without building it, with bounded nesting.
func (r *reader) skip(depth int) error {
	if depth > maxDepth {
		return r.fail("values nested more than %d deep", maxDepth)
	}
	c, err := r.d.PeekCode()
	if err != nil {
		return r.wrap(err)
	}
	switch {
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := r.arrayLen()
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := r.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := r.mapLen()
		if err != nil {
			return err
		}
		for i := 0; i < 2*n; i++ {
			if err := r.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case msgpcode.IsBin(c) || msgpcode.IsString(c):
		if err := r.checkPayload(); err != nil {
			return err
		}
		return r.wrap(r.d.Skip())
	case msgpcode.IsExt(c):
		return r.fail("msgpack extension types are not used in snapshots (code 0x%02x)", c)
	}
	return r.wrap(r.d.Skip())
}

// value decodes a configuration value: integers come back as int64 (uint64 when
// above MaxInt64), floats as float64, lists as []any, maps as map[string]any.
func (r *reader) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, r.fail("values nested more than %d deep", maxDepth)
	}
	c, err := r.d.PeekCode()
	if err != nil {
		return nil, r.wrap(err)
	}
	switch {
	case c == msgpcode.Nil:
		return nil, r.wrap(r.d.DecodeNil())
	case c == msgpcode.True || c == msgpcode.False:
		return r.bool()
	case msgpcode.IsString(c):
		return r.str()
	case c == msgpcode.Float || c == msgpcode.Double:
		return r.f64()
	case c == msgpcode.Uint64:
		u, err := r.uint()
		if err == nil && u <= math.MaxInt64 {
			return int64(u), nil
		}
		return u, err
	case isInt(c):
		return r.int()
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		next := func() (any, error) { return r.value(depth + 1) }
		out, err := array(r, 16, next)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = []any{} // an empty list stays a list, not nil
		}
		return out, nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return mapOf(r, func() (any, error) { return r.value(depth + 1) })
	}
	return nil, r.fail("unsupported msgpack code 0x%02x in a configuration value", c)
}

func (r *reader) config() (map[string]any, error) {
	c, err := r.d.PeekCode()
	if err != nil {
		return nil, r.wrap(err)
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return nil, r.fail("config must be a map")
	}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func (r *reader) snapshot(s *Snapshot) error {
	c, err := r.d.PeekCode()
	if err != nil {
		return fmt.Errorf("%w: the file is empty or unreadable", ErrNotSnapshot)
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return fmt.Errorf("%w: the file does not start with a msgpack map (is it a snapshot file?)", ErrNotSnapshot)
	}
	var format string
	version := -1
	err = r.object(func(k string) error {
		if r.onlyJudg && k != "format" && k != "version" && k != "judgments" {
			return r.skip(0)
		}
		var err error
		switch k {
		case "format":
			format, err = r.str()
			if err == nil && format != Format {
				return fmt.Errorf("%w: format is %q, want %q", ErrNotSnapshot, format, Format)
			}
		case "version":
			version, err = r.smallInt()
			if err == nil && version > Version {
				return fmt.Errorf("%w: the file is version %d, this program reads up to version %d; update Prefer to open it", ErrTooNew, version, Version)
			}
		case "provenance":
			err = r.provenance(&s.Provenance)
		case "items":
			s.Items, err = list(r, minItemBytes, func(it *feedback.Item) error {
				if err := r.item(it); err != nil {
					return err
				}
				if it.ID == "" {
					return r.fail("item without an id")
				}
				return nil
			})
		case "raters":
			s.Raters, err = list(r, minRaterBytes, func(rt *feedback.Rater) error {
				if err := r.rater(rt); err != nil {
					return err
				}
				if rt.ID == "" {
					return r.fail("rater without an id")
				}
				return nil
			})
		case "judgments":
			if r.maxJudgments > 0 {
				if n, ok := r.peekArrayLen(); ok && n > r.maxJudgments {
					return &TooManyError{What: "judgments", N: n, Limit: r.maxJudgments}
				}
			}
			s.Judgments, err = list(r, minJudgmentBytes, func(j *feedback.Judgment) error {
				if err := r.judgment(j); err != nil {
					return err
				}
				if j.ID == "" {
					return r.fail("judgment without an id")
				}
				if j.Kind == "" {
					return r.fail("judgment %q without a kind", j.ID)
				}
				return nil
			})
		case "guidelines":
			s.Guidelines, err = list(r, minGuidelineBytes, func(g *feedback.Guideline) error {
				err := r.object(func(k string) error {
					var err error
					switch k {
					case "version":
						g.Version, err = r.smallInt()
					case "text":
						g.Text, err = r.str()
					case "time":
						g.Time, err = r.int()
					default:
						err = r.skip(0)
					}
					return err
				})
				return err
			})
		case "models":
			s.Models, err = list(r, minModelBytes, func(m *Model) error {
				if err := r.model(m); err != nil {
					return err
				}
				if m.Name == "" {
					return r.fail("model without a name")
				}
				return nil
			})
		case "runs":
			s.Runs, err = list(r, minRunBytes, func(rn *Run) error {
				if err := r.run(rn); err != nil {
					return err
				}
				if rn.Name == "" {
					return r.fail("run without a name")
				}
				return nil
			})
		default:
			start := len(r.data) - r.rd.Len()
			if err := r.skip(0); err != nil {
				return err
			}
			end := len(r.data) - r.rd.Len()
			if err := r.charge(int64(end-start) + mapEntryCost); err != nil {
				return err
			}
			if s.Extra == nil {
				s.Extra = map[string][]byte{}
			}
			s.Extra[k] = append([]byte(nil), r.data[start:end]...)
		}
		return err
	})
	if err != nil {
		return err
	}
	if format == "" {
		return fmt.Errorf("%w: no \"format\" key in the header", ErrNotSnapshot)
	}
	if version < 1 {
		return fmt.Errorf("%w: no valid \"version\" key in the header", ErrCorrupt)
	}
	return nil
}

// list reads an array of records that each take at least minBytes of input,
// decoding each with the path set. The slice is allocated once, for the count the
// header gives, after checking that the input can hold that many records.
func list[T any](r *reader, minBytes int, each func(*T) error) ([]T, error) {
	out, n, err := records[T](r, minBytes)
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		r.path = append(r.path, pathElem{index: i})
		out = out[:i+1]
		err := each(&out[i])
		r.pop()
		if err != nil {
			return nil, err
		}
		r.maybePause()
	}
	return out, nil
}

func (r *reader) provenance(p *Provenance) error {
	return r.object(func(k string) error {
		var err error
		switch k {
		case "tool":
			p.Tool, err = r.str()
		case "created":
			p.Created, err = r.str()
		case "parent":
			p.Parent, err = r.str()
		case "command":
			p.Command, err = r.str()
		case "seed":
			p.Seed, err = r.uint()
		case "note":
			p.Note, err = r.str()
		default:
			err = r.skip(0)
		}
		return err
	})
}

func (r *reader) item(it *feedback.Item) error {
	return r.object(func(k string) error {
		var err error
		switch k {
		case "id":
			it.ID, err = r.str()
		case "prompt":
			it.Prompt, err = r.str()
		case "tags":
			it.Tags, err = r.strings()
		case "gold_best":
			it.GoldBest, err = r.str()
		case "responses":
			it.Responses, err = list(r, minResponseBytes, func(resp *feedback.Response) error {
				err := r.object(func(k string) error {
					var err error
					switch k {
					case "id":
						resp.ID, err = r.str()
					case "text":
						resp.Text, err = r.str()
					case "source":
						var s string
						s, err = r.str()
						resp.Source = feedback.Source(s)
					case "gold":
						var g float64
						if g, err = r.f64(); err == nil {
							err = r.charge(8)
						}
						resp.Gold = &g
					case "parts":
						resp.Parts, err = r.strings()
					case "ref_prob":
						resp.RefProb, err = r.f64()
					case "origins":
						resp.Origins, err = list(r, 1, r.origin)
					default:
						err = r.skip(0)
					}
					return err
				})
				if err == nil && resp.ID == "" {
					return r.fail("response without an id")
				}
				return err
			})
		default:
			err = r.skip(0)
		}
		return err
	})
}

func (r *reader) origin(o *feedback.Origin) error {
	return r.object(func(k string) error {
		var err error
		switch k {
		case "api":
			o.API, err = r.str()
		case "endpoint":
			o.Endpoint, err = r.str()
		case "finish":
			o.Finish, err = r.str()
		case "k":
			o.K, err = r.smallInt()
		case "max_tokens":
			o.MaxTokens, err = r.smallInt()
		case "model":
			o.Model, err = r.str()
		case "seed":
			o.Seed, err = r.int()
			o.Seeded = true
		case "stop":
			o.Stop, err = r.strings()
		case "system":
			o.System, err = r.str()
		case "temperature":
			o.Temperature, err = r.f64()
		case "top_k":
			o.TopK, err = r.smallInt()
		case "top_p":
			o.TopP, err = r.f64()
		default:
			err = r.skip(0)
		}
		return err
	})
}

func (r *reader) rater(rt *feedback.Rater) error {
	return r.object(func(k string) error {
		var err error
		var s string
		switch k {
		case "id":
			rt.ID, err = r.str()
		case "name":
			rt.Name, err = r.str()
		case "group":
			rt.Group, err = r.str()
		case "kind":
			s, err = r.str()
			rt.Kind = feedback.RaterKind(s)
		case "profile":
			rt.Profile, err = r.str()
		default:
			err = r.skip(0)
		}
		return err
	})
}

func (r *reader) judgment(j *feedback.Judgment) error {
	return r.object(func(k string) error {
		var err error
		var s string
		switch k {
		case "id":
			j.ID, err = r.str()
		case "kind":
			s, err = r.str()
			j.Kind = feedback.Kind(s)
		case "item":
			j.Item, err = r.str()
		case "rater":
			j.Rater, err = r.str()
		case "time":
			j.Time, err = r.int()
		case "session":
			j.Session, err = r.str()
		case "seq":
			j.Seq, err = r.smallInt()
		case "ms":
			j.MS, err = r.int()
		case "guideline":
			j.Guideline, err = r.smallInt()
		case "reasons":
			j.Reasons, err = r.strings()
		case "note":
			j.Note, err = r.str()
		case "a":
			j.A, err = r.str()
		case "b":
			j.B, err = r.str()
		case "choice":
			s, err = r.str()
			j.Choice = feedback.Choice(s)
		case "strength":
			j.Strength, err = r.smallInt()
		case "left":
			j.Left, err = r.str()
		case "shown":
			j.Shown, err = r.strings()
		case "order":
			j.Order, err = r.ints()
		case "response":
			j.Response, err = r.str()
		case "axis":
			j.Axis, err = r.str()
		case "score":
			j.Score, err = r.smallInt()
		case "text":
			j.Text, err = r.str()
		case "category":
			j.Category, err = r.str()
		case "target":
			j.Target, err = r.str()
		case "verdict":
			j.Verdict, err = r.str()
		case "revises":
			j.Revises, err = r.str()
		case "pos":
			if j.Pos, err = r.smallInt(); err == nil && j.Pos < 0 {
				err = r.fail("judgment pos %d must be ≥ 1 (its place in the import)", j.Pos)
			}
		default:
			err = r.skip(0)
		}
		return err
	})
}

func (r *reader) model(m *Model) error {
	return r.object(func(k string) error {
		var err error
		switch k {
		case "name":
			m.Name, err = r.str()
		case "family":
			m.Family, err = r.str()
		case "config":
			m.Config, err = r.config()
		case "run":
			m.Run, err = r.str()
		case "metrics":
			m.Metrics, err = r.floatMap()
		case "tensors":
			m.Tensors, err = mapOf(r, r.tensor)
		default:
			err = r.skip(0)
		}
		return err
	})
}

func (r *reader) run(rn *Run) error {
	return r.object(func(k string) error {
		var err error
		switch k {
		case "name":
			rn.Name, err = r.str()
		case "kind":
			rn.Kind, err = r.str()
		case "seed":
			rn.Seed, err = r.uint()
		case "config":
			rn.Config, err = r.config()
		case "summary":
			rn.Summary, err = r.floatMap()
		case "notes":
			rn.Notes, err = r.strings()
		case "series":
			rn.Series, err = mapOf(r, r.floats)
		default:
			err = r.skip(0)
		}
		return err
	})
}

// tensor reads {"shape", "dtype", "data"}; the data length must match the shape.
func (r *reader) tensor() (Tensor, error) {
	var t Tensor
	var dtype string
	var raw []byte
	err := r.object(func(k string) error {
		var err error
		switch k {
		case "shape":
			t.Shape, err = r.ints()
		case "dtype":
			dtype, err = r.str()
		case "data":
			raw, err = r.bin()
		default:
			err = r.skip(0)
		}
		return err
	})
	if err != nil {
		return t, err
	}
	if dtype != "f32" {
		return t, r.fail("tensor dtype %q is not supported (want \"f32\")", dtype)
	}
	size := 1
	for _, d := range t.Shape {
		if d < 0 || (d > 0 && size > math.MaxInt32/d) {
			return t, r.fail("tensor shape %v is invalid", t.Shape)
		}
		size *= d
	}
	if len(raw) != 4*size {
		return t, r.fail("tensor of shape %v needs %d bytes of data, has %d", t.Shape, 4*size, len(raw))
	}
	if err := r.charge(int64(4 * size)); err != nil {
		return t, err
	}
	t.Data = make([]float32, size)
	for i := range t.Data {
		t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return t, nil
}

// bin reads a bin field without copying: the slice aliases the input.
func (r *reader) bin() ([]byte, error) {
	c, err := r.d.PeekCode()
	if err != nil {
		return nil, r.wrap(err)
	}
	if !msgpcode.IsBin(c) {
		return nil, r.fail("want binary data, found msgpack code 0x%02x", c)
	}
	n, err := r.d.DecodeBytesLen()
	if err != nil {
		return nil, r.wrap(err)
	}
	if n < 0 {
		return nil, nil
	}
	if n > r.rd.Len() {
		return nil, r.fail("binary field claims %d bytes but only %d remain", n, r.rd.Len())
	}
	start := len(r.data) - r.rd.Len()
	if _, err := r.rd.Seek(int64(n), io.SeekCurrent); err != nil {
		return nil, r.wrap(err)
	}
	return r.data[start : start+n], nil
}

// checkPayload fails if the str or bin value at the current position would run past
// the end of the input, so that no buffer is allocated for a length the input cannot
// back.
func (r *reader) checkPayload() error {
	_, _, err := r.payload()
	return err
}

// payload returns the header size and payload length of the str or bin value at the
// current position (0, 0 for other types), checked against the input's end.
func (r *reader) payload() (head, n int, err error) {
	pos := len(r.data) - r.rd.Len()
	rest := r.data[pos:]
	if len(rest) == 0 {
		return 0, 0, r.fail("unexpected end of data (the file is truncated)")
	}
	c := rest[0]
	switch {
	case c >= 0xa0 && c <= 0xbf: // fixstr
		head, n = 1, int(c&0x1f)
	case c == msgpcode.Str8 || c == msgpcode.Bin8:
		head = 2
	case c == msgpcode.Str16 || c == msgpcode.Bin16:
		head = 3
	case c == msgpcode.Str32 || c == msgpcode.Bin32:
		head = 5
	default:
		return 0, 0, nil
	}
	if len(rest) < head {
		return 0, 0, r.fail("unexpected end of data (the file is truncated)")
	}
	switch head {
	case 2:
		n = int(rest[1])
	case 3:
		n = int(binary.BigEndian.Uint16(rest[1:]))
	case 5:
		n = int(binary.BigEndian.Uint32(rest[1:]))
	}
	if n > len(rest)-head {
		return 0, 0, r.fail("a value claims %d bytes but only %d remain", n, len(rest)-head)
	}
	return head, n, nil
}
