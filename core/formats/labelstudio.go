package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"prefer/core/feedback"
)

type lsTask struct {
	ID   json.RawMessage `json:"id"`
	Data *struct {
		Prompt  *string `json:"prompt"`
		Answer1 *string `json:"answer1"`
		Answer2 *string `json:"answer2"`
	} `json:"data"`
	Annotations []lsAnnotation `json:"annotations"`
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

// ReadLabelStudio reads a Label Studio export of a pairwise project (the RLHF
// template): a JSON array (or JSON lines) of tasks
//
//	{"id", "data": {"prompt", "answer1", "answer2"},
//	 "annotations": [{"id", "completed_by", "lead_time", "created_at", "was_cancelled",
//	                  "result": [{"type": "pairwise", "value": {"selected": "left"}}, …]}]}
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
		return b.lsTask(&t, rec.line)
	})
}

func (b *builder) lsTask(t *lsTask, line int) error {
	if t.Data == nil || t.Data.Prompt == nil || t.Data.Answer1 == nil || t.Data.Answer2 == nil {
		return fmt.Errorf("a task needs \"data\" with \"prompt\", \"answer1\" and \"answer2\" texts")
	}
	prompt, a1, a2 := *t.Data.Prompt, *t.Data.Answer1, *t.Data.Answer2
	if a1 == a2 {
		return fmt.Errorf("\"answer1\" and \"answer2\" are the same text; a comparison needs two different responses")
	}
	itemID := ItemID(prompt)
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
