package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"prefer/core/feedback"
)

type lsTask struct {
	ID          json.RawMessage `json:"id"`
	Data        *lsData         `json:"data"`
	Annotations []lsAnnotation  `json:"annotations"`
}

// lsData is a task's data: the RLHF template's prompt, answer1 and answer2, or the
// generic Pairwise template's text1 and text2 (with or without a prompt).
type lsData struct {
	Prompt  *string `json:"prompt"`
	Answer1 *string `json:"answer1"`
	Answer2 *string `json:"answer2"`
	Text1   *string `json:"text1"`
	Text2   *string `json:"text2"`
}

// same is the error for a task whose two texts are equal.
func (d *lsData) same() error {
	if d.Answer1 != nil {
		return fmt.Errorf("\"answer1\" and \"answer2\" are the same text; a comparison needs two different responses")
	}
	return fmt.Errorf("\"text1\" and \"text2\" are the same text; a comparison needs two different responses")
}

// pair returns the two texts compared and whether the task has them.
func (d *lsData) pair() (a, b string, ok bool) {
	switch {
	case d.Answer1 != nil && d.Answer2 != nil:
		return *d.Answer1, *d.Answer2, true
	case d.Text1 != nil && d.Text2 != nil:
		return *d.Text1, *d.Text2, true
	}
	return "", "", false
}

type lsAnnotation struct {
	ID           json.RawMessage `json:"id"`
	CompletedBy  json.RawMessage `json:"completed_by"`
	Result       []lsResult      `json:"result"`
	LeadTime     *float64        `json:"lead_time"`
	WasCancelled bool            `json:"was_cancelled"`
	CreatedAt    string          `json:"created_at"`
}

type lsResult struct {
	FromName string          `json:"from_name"`
	Type     string          `json:"type"`
	Value    json.RawMessage `json:"value"`
}

// ReadLabelStudio reads a Label Studio export of a pairwise project: the RLHF
// template ("prompt", "answer1", "answer2") or the generic Pairwise template
// ("text1", "text2", and "prompt" if the project has one), as the JSON export — a
// JSON array (or JSON lines) of tasks
//
//	{"id", "data": {"prompt", "answer1", "answer2"},
//	 "annotations": [{"id", "completed_by", "lead_time", "created_at", "was_cancelled",
//	                  "result": [{"type": "pairwise", "value": {"selected": "left"}}, …]}]}
//
// — or as the JSON_MIN export, one flat record per annotation (see lsMin).
//
// Each annotation becomes one comparison of answer1 (a, shown on the left) with
// answer2 (b): "left" chooses a, "right" b. completed_by (a user id, or a user object
// whose id is used and whose email becomes the rater's name) is the rater; lead_time
// (seconds) becomes MS; created_at becomes Time. A "choices" result adds its choices
// as reasons and a "textarea" result its text as the note. Cancelled and empty
// annotations are counted as ignored; a task without annotations still gives its
// item and responses, ready to be labeled.
func ReadLabelStudio(r io.Reader, opt Options) (*Dataset, *Report, error) {
	b := newBuilder("labelstudio", "ls", opt)
	return b.run(r, func(rec record) error {
		var t lsTask
		if err := decodeJSON(rec.data, &t); err != nil {
			return err
		}
		if t.Data == nil && t.Annotations == nil {
			return b.lsMin(rec.data, rec.line)
		}
		return b.lsTask(&t, rec.line)
	})
}

func (b *builder) lsTask(t *lsTask, line int) error {
	if t.Data == nil {
		return fmt.Errorf("a task needs \"data\" with \"prompt\", \"answer1\" and \"answer2\" (the RLHF template) or \"text1\" and \"text2\" (the Pairwise template)")
	}
	a1, a2, ok := t.Data.pair()
	if !ok || (t.Data.Prompt == nil && t.Data.Answer1 != nil) {
		return fmt.Errorf("a task needs \"data\" with \"prompt\", \"answer1\" and \"answer2\" (the RLHF template) or \"text1\" and \"text2\" (the Pairwise template)")
	}
	if a1 == a2 {
		return t.Data.same()
	}
	itemID, prompt, err := lsItem(t.Data.Prompt, t.ID)
	if err != nil {
		return err
	}
	if err := b.checkItem(itemID, &prompt); err != nil {
		return err
	}
	var ps []pending
	var names []string // per pending: the rater's email, if given
	ignored := 0
	for k, an := range t.Annotations {
		where := fmt.Sprintf("annotation %d", k+1)
		if an.WasCancelled || len(an.Result) == 0 {
			ignored++
			continue
		}
		j := feedback.Judgment{Kind: feedback.KindCompare, Item: itemID, A: feedback.ResponseID(a1), B: feedback.ResponseID(a2), Left: "a"}
		rater, email, err := lsRater(an.CompletedBy)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		j.Rater = rater
		if an.LeadTime != nil {
			if *an.LeadTime < 0 || *an.LeadTime > 1e9 {
				return fmt.Errorf("%s: \"lead_time\" %v is not a number of seconds ≥ 0", where, *an.LeadTime)
			}
			j.MS = int64(math.Round(float64(*an.LeadTime * 1000)))
		}
		if an.CreatedAt != "" {
			if j.Time, err = parseTime(an.CreatedAt); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		var notes []string
		for _, res := range an.Result {
			switch res.Type {
			case "pairwise":
				if j.Choice != "" {
					continue // the first pairwise result decides
				}
				var v struct {
					Selected string `json:"selected"`
				}
				if err := json.Unmarshal(res.Value, &v); err != nil {
					return fmt.Errorf("%s: a pairwise result needs \"value\": {\"selected\": \"left\" or \"right\"}", where)
				}
				switch v.Selected {
				case "left":
					j.Choice = feedback.ChoiceA
				case "right":
					j.Choice = feedback.ChoiceB
				default:
					return fmt.Errorf("%s: pairwise \"selected\" must be \"left\" (answer1) or \"right\" (answer2), not %q", where, v.Selected)
				}
			case "choices":
				var v struct {
					Choices []string `json:"choices"`
				}
				if err := json.Unmarshal(res.Value, &v); err != nil {
					return fmt.Errorf("%s: a choices result needs \"value\": {\"choices\": [texts]}", where)
				}
				j.Reasons = append(j.Reasons, v.Choices...)
			case "textarea":
				var v struct {
					Text []string `json:"text"`
				}
				if err := json.Unmarshal(res.Value, &v); err != nil {
					return fmt.Errorf("%s: a textarea result needs \"value\": {\"text\": [texts]}", where)
				}
				notes = append(notes, v.Text...)
			}
		}
		if j.Choice == "" {
			return fmt.Errorf("%s has no pairwise result; export a project labeled with the Pairwise control", where)
		}
		j.Note = strings.Join(notes, "\n")
		p, err := b.prepare(j, line, prompt, string(t.ID), string(an.ID), fmt.Sprint(k))
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		ps = append(ps, p)
		names = append(names, email)
	}
	st := b.item(itemID, prompt)
	b.response(st, a1, feedback.SourceImported)
	b.response(st, a2, feedback.SourceImported)
	for k, p := range ps {
		b.commit(p)
		b.rater(p.j.Rater, &feedback.Rater{Name: names[k], Kind: feedback.RaterHuman})
	}
	b.rep.Ignored += ignored
	return nil
}

// lsItem names a task's item: ItemID(prompt), or, for a Pairwise task without a
// prompt, "ls-" + the task id with an empty prompt (each task its own item).
func lsItem(prompt *string, taskID json.RawMessage) (id, text string, err error) {
	if prompt != nil {
		return ItemID(*prompt), *prompt, nil
	}
	tid, _, err := lsRater(taskID)
	if err != nil || tid == "" {
		return "", "", fmt.Errorf("a task without \"prompt\" needs its \"id\" (each such task is an item of its own); or map a field to the prompt with --map")
	}
	return "ls-" + tid, "", nil
}

// lsMin reads one record of Label Studio's JSON_MIN export (label-studio-converter's
// convert_to_json_min): the task's data fields at the top level, "id" (the task),
// each control's result under its name — a Pairwise control's as
// [{"selected": "left"}] (or {"selected": …}) — and "annotator", "annotation_id",
// "created_at", "updated_at", "lead_time". One record is one annotation: one
// comparison. The control's name is not fixed, so the pairwise result is the value
// that has "selected". (Choices and TextArea results cannot be told from data fields
// in this flat form, so JSON_MIN gives no reasons or notes.)
func (b *builder) lsMin(data []byte, line int) error {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(data, &rec); err != nil {
		return jsonProblem(err)
	}
	var d lsData
	if err := decodeJSON(data, &d); err != nil {
		return err
	}
	a1, a2, ok := d.pair()
	if !ok || (d.Prompt == nil && d.Answer1 != nil) {
		return fmt.Errorf("a Label Studio record needs \"data\" and \"annotations\" (the JSON export), or, in the JSON_MIN export, \"prompt\", \"answer1\" and \"answer2\" or \"text1\" and \"text2\"")
	}
	if a1 == a2 {
		return d.same()
	}
	itemID, prompt, err := lsItem(d.Prompt, rec["id"])
	if err != nil {
		return err
	}
	if err := b.checkItem(itemID, &prompt); err != nil {
		return err
	}
	var sel string
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s, ok := lsSelected(rec[k]); ok {
			sel = s
			break
		}
	}
	j := feedback.Judgment{Kind: feedback.KindCompare, Item: itemID, A: feedback.ResponseID(a1), B: feedback.ResponseID(a2), Left: "a"}
	switch sel {
	case "left":
		j.Choice = feedback.ChoiceA
	case "right":
		j.Choice = feedback.ChoiceB
	case "":
		b.rep.Ignored++ // an unlabeled task: its item and responses, ready to be labeled
		st := b.item(itemID, prompt)
		b.response(st, a1, feedback.SourceImported)
		b.response(st, a2, feedback.SourceImported)
		return nil
	default:
		return fmt.Errorf("pairwise \"selected\" must be \"left\" (the first text) or \"right\" (the second), not %q", sel)
	}
	var meta struct {
		LeadTime  *float64 `json:"lead_time"`
		CreatedAt *string  `json:"created_at"`
	}
	if err := decodeJSON(data, &meta); err != nil {
		return err
	}
	rater, email, err := lsRater(rec["annotator"])
	if err != nil {
		return fmt.Errorf("\"annotator\" must be a user id or an email")
	}
	if email == "" && strings.Contains(rater, "@") {
		email = rater // JSON_MIN writes the annotator's email when it has no id
	}
	j.Rater = rater
	if meta.LeadTime != nil {
		if *meta.LeadTime < 0 || *meta.LeadTime > 1e9 {
			return fmt.Errorf("\"lead_time\" %v is not a number of seconds ≥ 0", *meta.LeadTime)
		}
		j.MS = int64(math.Round(float64(*meta.LeadTime * 1000)))
	}
	if meta.CreatedAt != nil && *meta.CreatedAt != "" {
		if j.Time, err = parseTime(*meta.CreatedAt); err != nil {
			return err
		}
	}
	p, err := b.prepare(j, line, prompt, string(rec["id"]), string(rec["annotation_id"]))
	if err != nil {
		return err
	}
	st := b.item(itemID, prompt)
	b.response(st, a1, feedback.SourceImported)
	b.response(st, a2, feedback.SourceImported)
	b.commit(p)
	if !p.dup {
		b.rater(p.j.Rater, &feedback.Rater{Name: email, Kind: feedback.RaterHuman})
	}
	return nil
}

// lsSelected reports the choice of a pairwise result value: [{"selected": …}] or
// {"selected": …}.
func lsSelected(raw json.RawMessage) (string, bool) {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 || (s[0] != '[' && s[0] != '{') {
		return "", false
	}
	type sel struct {
		Selected *string `json:"selected"`
	}
	if s[0] == '[' {
		var vs []sel
		if json.Unmarshal(s, &vs) != nil || len(vs) == 0 || vs[0].Selected == nil {
			return "", false
		}
		return *vs[0].Selected, true
	}
	var v sel
	if json.Unmarshal(s, &v) != nil || v.Selected == nil {
		return "", false
	}
	return *v.Selected, true
}

// lsRater reads completed_by: a user id (number or text) or a user object, whose
// id is used (its email when it has no id) and whose email is returned as well.
func lsRater(raw json.RawMessage) (id, email string, err error) {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 || bytes.Equal(s, []byte("null")) {
		return "", "", nil
	}
	switch s[0] {
	case '"':
		var v string
		if err := json.Unmarshal(s, &v); err != nil {
			return "", "", fmt.Errorf("\"completed_by\" is not a valid string")
		}
		return v, "", nil
	case '{':
		var v struct {
			ID    json.RawMessage `json:"id"`
			Email string          `json:"email"`
		}
		if err := json.Unmarshal(s, &v); err != nil {
			return "", "", fmt.Errorf("\"completed_by\" must be a user id or a user object")
		}
		if s := bytes.TrimSpace(v.ID); len(s) > 0 && s[0] == '{' {
			return "", "", fmt.Errorf("\"completed_by\".id must be a number or a text")
		}
		id, _, err := lsRater(v.ID)
		if err != nil || id == "" {
			return v.Email, v.Email, nil
		}
		return id, v.Email, nil
	}
	var n json.Number
	if err := json.Unmarshal(s, &n); err != nil {
		return "", "", fmt.Errorf("\"completed_by\" must be a user id or a user object")
	}
	return n.String(), "", nil
}

// parseTime reads an RFC 3339 time (Label Studio writes "2024-05-01T10:20:30.123456Z",
// sometimes without the zone, which is then UTC) as unix milliseconds.
func parseTime(s string) (int64, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			ms := t.UnixMilli()
			if ms < 0 {
				return 0, fmt.Errorf("time %q is before 1970", s)
			}
			return ms, nil
		}
	}
	return 0, fmt.Errorf("\"created_at\" %q is not an RFC 3339 time such as 2024-05-01T10:20:30Z", s)
}
