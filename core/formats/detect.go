package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// FieldMap renames a field on the way in: the importer finds at To what the file
// has at From. Both are paths into a record: keys joined by dots, array indices as
// numbers ("data.question", "conversation.0.content").
type FieldMap struct {
	To, From string
}

// ParseFieldMap reads a --map argument "field=path" (the importer's field, then
// where the file has it).
func ParseFieldMap(s string) (FieldMap, error) {
	to, from, ok := strings.Cut(s, "=")
	to, from = strings.TrimSpace(to), strings.TrimSpace(from)
	if !ok || to == "" || from == "" {
		return FieldMap{}, fmt.Errorf("%q: write FIELD=PATH, e.g. prompt=question or data.prompt=data.question", s)
	}
	for _, p := range []string{to, from} {
		for _, k := range strings.Split(p, ".") {
			if k == "" {
				return FieldMap{}, fmt.Errorf("%q: a path is keys joined by dots, without empty keys", s)
			}
		}
	}
	return FieldMap{To: to, From: from}, nil
}

func (m FieldMap) String() string { return m.To + "=" + m.From }

// MapFields returns the Options.Rewrite that applies field maps (--map).
func MapFields(maps []FieldMap) func([]byte) ([]byte, error) {
	return func(record []byte) ([]byte, error) { return remap(record, maps) }
}

// remap applies the field maps to one record: each value at From (in the record as
// it was) is copied to To (objects on the way are made as needed). A record without
// a From is an error. Values are moved as raw JSON, never decoded (so numbers keep
// their digits); the record's keys come back sorted.
func remap(data []byte, maps []FieldMap) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, jsonProblem(err)
	}
	if obj == nil {
		return nil, fmt.Errorf("expected a JSON object, found null")
	}
	// Every value is read from the record as it was, so maps can swap fields.
	vals := make([]json.RawMessage, len(maps))
	for i, m := range maps {
		v, ok := getPath(data, strings.Split(m.From, "."))
		if !ok {
			return nil, fmt.Errorf("--map %s: the record has no %q", m, m.From)
		}
		vals[i] = v
	}
	for i, m := range maps {
		if err := setPath(obj, strings.Split(m.To, "."), vals[i]); err != nil {
			return nil, fmt.Errorf("--map %s: %w", m, err)
		}
	}
	return encodeObject(obj), nil
}

// getPath finds the raw value at a path of keys (numbers index arrays).
func getPath(v json.RawMessage, keys []string) (json.RawMessage, bool) {
	for _, k := range keys {
		s := bytes.TrimLeft(v, " \t\r\n")
		switch {
		case len(s) > 0 && s[0] == '{':
			var m map[string]json.RawMessage
			if json.Unmarshal(s, &m) != nil {
				return nil, false
			}
			x, ok := m[k]
			if !ok {
				return nil, false
			}
			v = x
		case len(s) > 0 && s[0] == '[':
			var a []json.RawMessage
			i, err := strconv.Atoi(k)
			if json.Unmarshal(s, &a) != nil || err != nil || i < 0 || i >= len(a) {
				return nil, false
			}
			v = a[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// setPath puts v at a path of keys in obj, making objects on the way.
func setPath(obj map[string]json.RawMessage, keys []string, v json.RawMessage) error {
	k := keys[0]
	if len(keys) == 1 {
		obj[k] = v
		return nil
	}
	child := map[string]json.RawMessage{}
	if old, ok := obj[k]; ok {
		if s := bytes.TrimLeft(old, " \t\r\n"); len(s) == 0 || s[0] != '{' || json.Unmarshal(s, &child) != nil {
			return fmt.Errorf("%q is not an object", k)
		}
	}
	if err := setPath(child, keys[1:], v); err != nil {
		return err
	}
	obj[k] = encodeObject(child)
	return nil
}

// encodeObject writes an object of raw values, keys sorted.
func encodeObject(obj map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		b = append(b, kb...)
		b = append(b, ':')
		b = append(b, obj[k]...)
	}
	return append(b, '}')
}

// Detection says which format a file is in, and why.
type Detection struct {
	Format string `json:"format"` // one of Importers
	Why    string `json:"why"`    // e.g. `the keys "chosen" and "rejected" hold "\n\nHuman: …" dialogues`
}

func (d Detection) String() string { return d.Format + " (" + d.Why + ")" }

// ErrUnknownFormat is returned (wrapped) by Detect when no format fits.
var ErrUnknownFormat = errors.New("unknown dataset format")

// DetectRecord tells the format of a dataset from one of its records (a JSON
// object), by its keys:
//
//	"kind"                                      jsonl (Prefer's JSON lines)
//	"info" and "summaries" or "summary"         summarize
//	"history", "human_ref_A", "human_ref_B"     shp
//	"data" or "annotations"                     labelstudio (JSON export)
//	"annotator"/"annotation_id", or "answer1"
//	  and "answer2", or "text1" and "text2"     labelstudio (JSON_MIN export)
//	"chosen" and "rejected", no "prompt", both
//	  "\n\nHuman: …" dialogue texts             hh-rlhf
//	"chosen" and "rejected"                     trl (standard, implicit, conversational)
//	"prompt", "completion" and "label"          trl (unpaired, KTO)
func DetectRecord(data []byte) (Detection, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return Detection{}, fmt.Errorf("%w: the first record is not a JSON object (%v); Prefer reads JSON lines, a JSON array, or Parquet", ErrUnknownFormat, jsonProblem(err))
	}
	has := func(ks ...string) bool {
		for _, k := range ks {
			if _, ok := keys[k]; !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("kind"):
		return Detection{"jsonl", `a "kind" key: Prefer's JSON lines`}, nil
	case has("info", "summaries"), has("info", "summary"):
		return Detection{"summarize", `the keys "info" and "summaries": summarize-from-feedback`}, nil
	case has("history", "human_ref_A", "human_ref_B"):
		return Detection{"shp", `the keys "history", "human_ref_A" and "human_ref_B": Stanford Human Preferences`}, nil
	case has("data"), has("annotations"):
		return Detection{"labelstudio", `the keys "data" and "annotations": a Label Studio JSON export`}, nil
	case has("annotator"), has("annotation_id"), has("answer1", "answer2"), has("text1", "text2"):
		return Detection{"labelstudio", `flat records with "annotator" or the texts of a Pairwise task: a Label Studio JSON_MIN export`}, nil
	case has("chosen", "rejected"):
		var c, r string
		if !has("prompt") && json.Unmarshal(keys["chosen"], &c) == nil && json.Unmarshal(keys["rejected"], &r) == nil &&
			strings.HasPrefix(c, "\n\nHuman:") && strings.HasPrefix(r, "\n\nHuman:") {
			return Detection{"hh-rlhf", `"chosen" and "rejected" are whole "\n\nHuman: … \n\nAssistant: …" dialogues: Anthropic HH-RLHF`}, nil
		}
		return Detection{"trl", `the keys "chosen" and "rejected": a TRL preference dataset`}, nil
	case has("prompt", "completion", "label"):
		return Detection{"trl", `the keys "prompt", "completion" and "label": a TRL unpaired (KTO) dataset`}, nil
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, strconv.Quote(k))
	}
	sort.Strings(names)
	if len(names) > 12 {
		names = append(names[:12], "…")
	}
	return Detection{}, fmt.Errorf("%w: no format has the keys %s; give --format (%s), or --map FIELD=PATH for fields named otherwise",
		ErrUnknownFormat, strings.Join(names, ", "), strings.Join(Importers, ", "))
}

// Detect reads the first record of a dataset (gzip and JSON array or lines as for
// Import; field maps applied) and tells its format. It reads only as far as that
// record.
func Detect(r io.Reader, opt Options) (Detection, error) {
	rr, err := openRecords(r, opt.MaxRecord)
	if err != nil {
		return Detection{}, err
	}
	rec, err := rr.next()
	if err == io.EOF {
		return Detection{}, fmt.Errorf("%w: the file has no records", ErrUnknownFormat)
	}
	if err != nil {
		return Detection{}, err
	}
	data := rec.data
	if opt.Rewrite != nil {
		if data, err = opt.Rewrite(data); err != nil {
			return Detection{}, &LineError{Line: rec.line, Msg: err.Error()}
		}
	}
	return DetectRecord(data)
}

// ImportAuto detects the format of r (Detect) and imports it: the report's Format
// is the format detected and Detected says why. The input is read once: what
// detection read is replayed to the importer.
func ImportAuto(r io.Reader, opt Options) (*Dataset, *Report, error) {
	var head bytes.Buffer
	det, err := Detect(io.TeeReader(r, &head), opt)
	if err != nil {
		return nil, nil, err
	}
	d, rep, err := Import(det.Format, io.MultiReader(&head, r), opt)
	if err != nil {
		return nil, nil, err
	}
	rep.Detected = det.Why
	return d, rep, nil
}

// ProblemSummary lists the first n problems of a lenient import, one per line, and
// how many more there were: "line 1: …\nline 2: …\n… and 2,309 more".
func ProblemSummary(rep *Report, n int) string {
	shown := rep.Problems[:min(n, len(rep.Problems))]
	s := strings.Join(shown, "\n")
	if more := rep.Skipped - len(shown); more > 0 {
		s += fmt.Sprintf("\n… and %s more", thousands(more))
	}
	return s
}

// thousands writes n with thousands separators: 2309 → "2,309".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
