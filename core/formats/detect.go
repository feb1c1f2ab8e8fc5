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

// remap applies the field maps to one record: each value at From (in the record as
// it was) is copied to To (objects on the way are made as needed). A record without
// a From is an error.
func remap(data []byte, maps []FieldMap) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, jsonProblem(err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a JSON object, found %s", jsonKindOf(root))
	}
	// Every value is read from the record as it was, so maps can swap fields.
	vals := make([]any, len(maps))
	for i, m := range maps {
		v, ok := getPath(obj, m.From)
		if !ok {
			return nil, fmt.Errorf("--map %s: the record has no %q", m, m.From)
		}
		vals[i] = v
	}
	for i, m := range maps {
		if err := setPath(obj, m.To, vals[i]); err != nil {
			return nil, fmt.Errorf("--map %s: %w", m, err)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func getPath(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			x, ok := c[k]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func setPath(obj map[string]any, path string, v any) error {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := obj[k]
		if !ok {
			m := map[string]any{}
			obj[k] = m
			obj = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%q is not an object", k)
		}
		obj = m
	}
	obj[keys[len(keys)-1]] = v
	return nil
}

func jsonKindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case nil:
		return "null"
	}
	return "an object"
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
	if len(opt.Map) > 0 {
		if data, err = remap(data, opt.Map); err != nil {
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
