package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"

	"prefer/core/feedback"
)

// jsonlLine is one line of Prefer's own JSON-lines format (README: JSON lines, with
// thumb, review, item and rater lines; see docs/formats.md). Response texts are
// pointers so that an empty text ("") differs from a missing field.
type jsonlLine struct {
	Kind      string          `json:"kind"`
	ID        string          `json:"id,omitempty"`
	Item      string          `json:"item,omitempty"`
	Prompt    *string         `json:"prompt,omitempty"`
	A         *string         `json:"a,omitempty"`
	B         *string         `json:"b,omitempty"`
	Choice    string          `json:"choice,omitempty"`
	Strength  int             `json:"strength,omitempty"`
	Responses json.RawMessage `json:"responses,omitempty"`
	Order     []int           `json:"order,omitempty"`
	Response  *string         `json:"response,omitempty"`
	Axis      string          `json:"axis,omitempty"`
	Score     int             `json:"score,omitempty"`
	Text      *string         `json:"text,omitempty"`
	Category  string          `json:"category,omitempty"`
	Target    string          `json:"target,omitempty"`
	Verdict   string          `json:"verdict,omitempty"`
	Revises   string          `json:"revises,omitempty"`
	Rater     string          `json:"rater,omitempty"`
	Left      string          `json:"left,omitempty"`
	Time      int64           `json:"time,omitempty"`
	Session   string          `json:"session,omitempty"`
	Seq       int             `json:"seq,omitempty"`
	MS        int64           `json:"ms,omitempty"`
	Guideline int             `json:"guideline,omitempty"`
	Reasons   []string        `json:"reasons,omitempty"`
	Note      string          `json:"note,omitempty"`
	Tags      []string        `json:"tags,omitempty"`
	GoldBest  *string         `json:"gold_best,omitempty"`
	Name      string          `json:"name,omitempty"`
	Group     string          `json:"group,omitempty"`
	RaterKind string          `json:"rater_kind,omitempty"`
	Profile   string          `json:"profile,omitempty"`
}

// jsonlResponse is a response of an "item" line written as an object.
type jsonlResponse struct {
	Text    *string  `json:"text"`
	Source  string   `json:"source,omitempty"`
	Gold    *float64 `json:"gold,omitempty"`
	Parts   []string `json:"parts,omitempty"`
	RefProb float64  `json:"ref_prob,omitempty"`
}

const kindList = "compare, rank, rate, rewrite, flag, thumb, review, item or rater"

// ReadJSONL reads Prefer's own JSON-lines format: one judgment per line (kinds
// compare, rank, rate, rewrite, flag, thumb, review), plus optional "item" and
// "rater" lines. Responses are identified by their text within an item; "item"
// defaults to ItemID(prompt); a line without "id" gets an id derived from its
// content. See docs/formats.md for every field.
func ReadJSONL(r io.Reader, opt Options) (*Dataset, *Report, error) {
	b := newBuilder("jsonl", "jsonl", opt)
	return b.run(r, func(rec record) error {
		var l jsonlLine
		if err := decodeJSON(rec.data, &l); err != nil {
			return err
		}
		return b.jsonlRecord(&l, rec.line)
	})
}

func (b *builder) jsonlRecord(l *jsonlLine, line int) error {
	switch feedback.Kind(l.Kind) {
	case "":
		return fmt.Errorf("\"kind\" is missing; use one of %s", kindList)
	case "rater":
		if l.Rater == "" {
			return fmt.Errorf("a rater line needs \"rater\" (the rater's id)")
		}
		b.rater(l.Rater, &feedback.Rater{Name: l.Name, Group: l.Group, Kind: feedback.RaterKind(l.RaterKind), Profile: l.Profile})
		return nil
	case "item":
		return b.jsonlItem(l)
	case feedback.KindReview:
		return b.jsonlReview(l, line)
	case feedback.KindCompare, feedback.KindRank, feedback.KindRate, feedback.KindRewrite, feedback.KindFlag, feedback.KindThumb:
		return b.jsonlJudgment(l, line)
	}
	return fmt.Errorf("\"kind\" %q is unknown; use one of %s", l.Kind, kindList)
}

// itemOf resolves a line's item id and prompt and checks them.
func (b *builder) itemOf(l *jsonlLine) (id, prompt string, err error) {
	id = l.Item
	if id == "" {
		if l.Prompt == nil {
			return "", "", fmt.Errorf("\"prompt\" is missing; give the prompt (or the \"item\" id of an item already given)")
		}
		id = ItemID(*l.Prompt)
	}
	if err := b.checkItem(id, l.Prompt); err != nil {
		return "", "", err
	}
	if l.Prompt != nil {
		prompt = *l.Prompt
	} else {
		idx, _ := b.lookup(id)
		prompt = b.c.items[idx].prompt
	}
	return id, prompt, nil
}

func (b *builder) jsonlItem(l *jsonlLine) error {
	id, prompt, err := b.itemOf(l)
	if err != nil {
		return err
	}
	var raw []json.RawMessage
	if len(l.Responses) > 0 {
		if err := json.Unmarshal(l.Responses, &raw); err != nil {
			return fmt.Errorf("\"responses\" must be an array of texts or {\"text\", …} objects")
		}
	}
	resps := make([]feedback.Response, 0, len(raw))
	seen := map[string]bool{}
	for i, m := range raw {
		var r feedback.Response
		var s string
		if err := json.Unmarshal(m, &s); err == nil {
			r = feedback.Response{Text: s, Source: feedback.SourceImported}
		} else {
			var o jsonlResponse
			if err := decodeJSON(m, &o); err != nil || o.Text == nil {
				return fmt.Errorf("\"responses\"[%d] must be a text or an object with \"text\"", i)
			}
			r = feedback.Response{Text: *o.Text, Source: feedback.Source(o.Source), Gold: o.Gold, RefProb: o.RefProb}
			if r.Source == "" {
				r.Source = feedback.SourceImported
			}
			if len(o.Parts) > 0 {
				r.Parts = unionSorted(nil, o.Parts)
			}
			if o.RefProb < 0 || o.RefProb > 1 {
				return fmt.Errorf("\"responses\"[%d].ref_prob %v must be a probability in [0, 1]", i, o.RefProb)
			}
		}
		r.ID = feedback.ResponseID(r.Text)
		if seen[r.ID] {
			return fmt.Errorf("\"responses\"[%d] repeats an earlier text; list each response once", i)
		}
		seen[r.ID] = true
		resps = append(resps, r)
	}
	var gold string
	if l.GoldBest != nil {
		gold = feedback.ResponseID(*l.GoldBest)
		if !seen[gold] {
			return fmt.Errorf("\"gold_best\" must be the text of one of the listed responses")
		}
	}
	st := b.item(id, prompt)
	it := &b.c.items[st.idx]
	it.ext().declared = true
	for k := range resps {
		it.put(&resps[k])
	}
	b.tag(st, l.Tags...)
	if gold != "" {
		it.ext().goldBest = gold
	}
	return nil
}

func (b *builder) jsonlReview(l *jsonlLine, line int) error {
	if l.Target == "" {
		return fmt.Errorf("a review needs \"target\", the id of the judgment it reviews")
	}
	if !slices.Contains(feedback.Verdicts, l.Verdict) {
		return fmt.Errorf("\"verdict\" must be accept, reject, edit or withdraw, not %q", l.Verdict)
	}
	if l.Revises != "" {
		return fmt.Errorf("a review does not revise: review the judgment again instead")
	}
	// An edit carries the new content in the fields of the target's kind.
	j := feedback.Judgment{ID: l.ID, Kind: feedback.KindReview, Item: l.Item, Target: l.Target, Verdict: l.Verdict,
		Choice: feedback.Choice(l.Choice), Strength: l.Strength, Order: l.Order, Score: l.Score, Category: l.Category}
	if l.Text != nil {
		j.Text = *l.Text
	}
	if err := commonFields(&j, l); err != nil {
		return err
	}
	p, err := b.prepare(j, line, "")
	if err != nil {
		return err
	}
	b.commit(p)
	return nil
}

// commonFields copies and checks the fields every judgment line may carry.
func commonFields(j *feedback.Judgment, l *jsonlLine) error {
	if l.Time < 0 || l.MS < 0 || l.Seq < 0 || l.Guideline < 0 {
		return fmt.Errorf("\"time\", \"ms\", \"seq\" and \"guideline\" must not be negative")
	}
	j.Rater, j.Time, j.Session, j.Seq, j.MS, j.Guideline, j.Note, j.Revises = l.Rater, l.Time, l.Session, l.Seq, l.MS, l.Guideline, l.Note, l.Revises
	if len(l.Reasons) > 0 {
		j.Reasons = append([]string(nil), l.Reasons...)
	}
	return nil
}

func need(field string, v *string) (string, error) {
	if v == nil {
		return "", fmt.Errorf("%q is missing", field)
	}
	return *v, nil
}

func (b *builder) jsonlJudgment(l *jsonlLine, line int) error {
	itemID, prompt, err := b.itemOf(l)
	if err != nil {
		return err
	}
	j := feedback.Judgment{ID: l.ID, Kind: feedback.Kind(l.Kind), Item: itemID}
	if err := commonFields(&j, l); err != nil {
		return err
	}
	var texts []string // response texts the line names, in order
	rewrite := ""      // a rewrite's new text
	one := func() error {
		t, err := need("response", l.Response)
		if err != nil {
			return err
		}
		texts = append(texts, t)
		j.Response = feedback.ResponseID(t)
		return nil
	}
	switch j.Kind {
	case feedback.KindCompare:
		a, err := need("a", l.A)
		if err != nil {
			return fmt.Errorf("a comparison needs \"a\" and \"b\": %w", err)
		}
		bb, err := need("b", l.B)
		if err != nil {
			return fmt.Errorf("a comparison needs \"a\" and \"b\": %w", err)
		}
		if a == bb {
			return fmt.Errorf("\"a\" and \"b\" are the same text; a comparison needs two different responses")
		}
		switch c := feedback.Choice(l.Choice); c {
		case feedback.ChoiceA, feedback.ChoiceB, feedback.ChoiceTie, feedback.ChoiceBothBad:
			j.Choice = c
		default:
			return fmt.Errorf("\"choice\" must be a, b, tie or both-bad, not %q", l.Choice)
		}
		if l.Strength < 0 || l.Strength > 3 {
			return fmt.Errorf("\"strength\" must be 1, 2 or 3 (or left out), not %d", l.Strength)
		}
		if l.Left != "" && l.Left != "a" && l.Left != "b" {
			return fmt.Errorf("\"left\" must be \"a\" or \"b\" (the response shown on the left), not %q", l.Left)
		}
		texts = []string{a, bb}
		j.A, j.B, j.Strength, j.Left = feedback.ResponseID(a), feedback.ResponseID(bb), l.Strength, l.Left
	case feedback.KindRank:
		if err := json.Unmarshal(l.Responses, &texts); err != nil || len(texts) < 2 {
			return fmt.Errorf("a ranking needs \"responses\", an array of at least two texts in the order shown")
		}
		seen := make(map[string]bool, len(texts))
		for _, t := range texts {
			id := feedback.ResponseID(t)
			if seen[id] {
				return fmt.Errorf("\"responses\" lists the same text twice; list each shown response once")
			}
			seen[id] = true
			j.Shown = append(j.Shown, id)
		}
		if !feedback.IsPermutation(l.Order, len(texts)) {
			return fmt.Errorf("\"order\" must list the indices 0..%d of \"responses\" once each, best first; got %v", len(texts)-1, l.Order)
		}
		j.Order = append([]int(nil), l.Order...)
	case feedback.KindRate:
		if err := one(); err != nil {
			return err
		}
		if strings.TrimSpace(l.Axis) == "" {
			return fmt.Errorf("a rating needs \"axis\" (helpful, harmless, honest, or your own)")
		}
		if l.Score < feedback.ScoreMin || l.Score > feedback.ScoreMax {
			return fmt.Errorf("\"score\" must be %d..%d, not %d", feedback.ScoreMin, feedback.ScoreMax, l.Score)
		}
		j.Axis, j.Score = l.Axis, l.Score
	case feedback.KindRewrite:
		if err := one(); err != nil {
			return err
		}
		if l.Text == nil || strings.TrimSpace(*l.Text) == "" {
			return fmt.Errorf("a rewrite needs \"text\", the improved answer")
		}
		j.Text, rewrite = *l.Text, *l.Text
	case feedback.KindFlag:
		if err := one(); err != nil {
			return err
		}
		if !slices.Contains(feedback.FlagCategories, l.Category) {
			return fmt.Errorf("\"category\" must be one of %s, not %q", strings.Join(feedback.FlagCategories, ", "), l.Category)
		}
		j.Category = l.Category
	case feedback.KindThumb:
		if err := one(); err != nil {
			return err
		}
		if l.Score != 1 && l.Score != -1 {
			return fmt.Errorf("a thumb's \"score\" must be 1 (up) or -1 (down), not %d", l.Score)
		}
		j.Score = l.Score
	}
	p, err := b.prepare(j, line, prompt)
	if err != nil {
		return err
	}
	st := b.item(itemID, prompt)
	for _, t := range texts {
		b.response(st, t, feedback.SourceImported)
	}
	if rewrite != "" && !b.c.items[st.idx].declared() {
		b.response(st, rewrite, feedback.SourceRewrite)
	}
	b.commit(p)
	return nil
}

// WriteJSONL writes d in Prefer's JSON-lines format so that ReadJSONL gives it back:
// rater lines for raters the judgments alone would not reproduce, then for each item
// in order an item line when its judgments alone would not reproduce it exactly
// (responses never judged, response order or metadata, tags, gold_best), followed by
// its judgments in dataset order; reviews come last. Every judgment line carries its
// id and the item's prompt ("item" only when the id is not ItemID(prompt)).
func WriteJSONL(w io.Writer, d *Dataset) (*ExportReport, error) {
	rep := &ExportReport{Format: "jsonl", Skipped: map[string]int{}}
	lines, err := jsonlLines(d)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range lines {
		if err := enc.Encode(&lines[i]); err != nil {
			return nil, fmt.Errorf("write jsonl: %w", err)
		}
		rep.Records++
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write jsonl: %w", err)
	}
	return rep, nil
}

// jsonlLines builds the lines WriteJSONL writes.
func jsonlLines(d *Dataset) ([]jsonlLine, error) {
	itemIdx := make(map[string]int, len(d.Items))
	texts := make([]map[string]string, len(d.Items)) // per item: response id → text
	for i := range d.Items {
		it := &d.Items[i]
		if _, dup := itemIdx[it.ID]; dup {
			return nil, fmt.Errorf("export jsonl: item id %q is used twice", it.ID)
		}
		itemIdx[it.ID] = i
		m := make(map[string]string, len(it.Responses))
		for _, r := range it.Responses {
			m[r.ID] = r.Text
		}
		texts[i] = m
	}
	// Within an item, judgments in export order: an imported file's order, then the
	// order they were made (feedback.ExportOrder).
	byItem := make([][]int, len(d.Items))
	var reviews []int
	for _, k := range feedback.ExportOrder(d.Judgments) {
		j := &d.Judgments[k]
		if j.Kind == feedback.KindReview {
			reviews = append(reviews, k)
			continue
		}
		i, ok := itemIdx[j.Item]
		if !ok {
			return nil, fmt.Errorf("export jsonl: judgment %q refers to item %q, which the dataset does not have", j.ID, j.Item)
		}
		byItem[i] = append(byItem[i], k)
	}

	scratch := newBuilder("jsonl", "jsonl", Options{})
	var out []jsonlLine
	for i := range d.Items {
		it := &d.Items[i]
		var group []jsonlLine
		for _, k := range byItem[i] {
			l, err := judgmentLine(&d.Judgments[k], it, texts[i])
			if err != nil {
				return nil, err
			}
			group = append(group, l)
		}
		for g := range group {
			if err := scratch.jsonlRecord(&group[g], 0); err != nil {
				return nil, fmt.Errorf("export jsonl: judgment %q: %w", group[g].ID, err)
			}
		}
		st, ok := scratch.lookup(it.ID)
		var have feedback.Item
		if ok {
			scratch.c.items[st].item(&have)
		}
		if !ok || !sameItem(have, *it) {
			l, err := itemLine(it)
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		out = append(out, group...)
	}
	for _, k := range reviews {
		j := &d.Judgments[k]
		l := jsonlLine{Kind: string(j.Kind), ID: j.ID, Item: j.Item, Target: j.Target, Verdict: j.Verdict,
			Choice: string(j.Choice), Strength: j.Strength, Order: j.Order, Score: j.Score, Category: j.Category}
		if j.Text != "" {
			l.Text = ptr(j.Text)
		}
		setCommon(&l, j)
		out = append(out, l)
		if err := scratch.jsonlRecord(&l, 0); err != nil {
			return nil, fmt.Errorf("export jsonl: judgment %q: %w", j.ID, err)
		}
	}

	// Raters: lines for those the judgment lines alone do not reproduce exactly.
	implied := make([]string, 0, len(d.Raters))
	needLine := make([]bool, len(d.Raters))
	for k, r := range d.Raters {
		_, used := scratch.raters[r.ID]
		if !used || r.Name != "" || r.Group != "" || r.Kind != "" || r.Profile != "" {
			needLine[k] = true
			implied = append(implied, r.ID)
		}
	}
	inLines := map[string]bool{}
	for _, id := range implied {
		inLines[id] = true
	}
	for _, r := range scratch.ds.Raters {
		if !inLines[r.ID] {
			implied = append(implied, r.ID)
		}
	}
	same := len(implied) == len(d.Raters)
	for k := 0; same && k < len(implied); k++ {
		same = implied[k] == d.Raters[k].ID
	}
	var raterLines []jsonlLine
	for k, r := range d.Raters {
		if needLine[k] || !same {
			raterLines = append(raterLines, jsonlLine{Kind: "rater", Rater: r.ID, Name: r.Name, Group: r.Group, RaterKind: string(r.Kind), Profile: r.Profile})
		}
	}
	return append(raterLines, out...), nil
}

// judgmentLine builds the line of a judgment of item it.
func judgmentLine(j *feedback.Judgment, it *feedback.Item, text map[string]string) (jsonlLine, error) {
	l := jsonlLine{Kind: string(j.Kind), ID: j.ID, Prompt: ptr(it.Prompt)}
	if it.ID != ItemID(it.Prompt) {
		l.Item = it.ID
	}
	setCommon(&l, j)
	resp := func(id string) (*string, error) {
		t, ok := text[id]
		if !ok {
			return nil, fmt.Errorf("export jsonl: judgment %q refers to response %q, which item %q does not have", j.ID, id, it.ID)
		}
		return &t, nil
	}
	var err error
	switch j.Kind {
	case feedback.KindCompare:
		if l.A, err = resp(j.A); err != nil {
			return l, err
		}
		if l.B, err = resp(j.B); err != nil {
			return l, err
		}
		l.Choice, l.Strength, l.Left = string(j.Choice), j.Strength, j.Left
	case feedback.KindRank:
		shown := make([]string, len(j.Shown))
		for k, id := range j.Shown {
			t, err := resp(id)
			if err != nil {
				return l, err
			}
			shown[k] = *t
		}
		if l.Responses, err = marshalNoEscape(shown); err != nil {
			return l, err
		}
		l.Order = j.Order
	case feedback.KindRate, feedback.KindRewrite, feedback.KindFlag, feedback.KindThumb:
		if l.Response, err = resp(j.Response); err != nil {
			return l, err
		}
		l.Axis, l.Score, l.Category = j.Axis, j.Score, j.Category
		if j.Kind == feedback.KindRewrite {
			l.Text = ptr(j.Text)
		}
	default:
		return l, fmt.Errorf("export jsonl: judgment %q has unknown kind %q", j.ID, j.Kind)
	}
	return l, nil
}

func setCommon(l *jsonlLine, j *feedback.Judgment) {
	l.Rater, l.Time, l.Session, l.Seq, l.MS, l.Guideline, l.Reasons, l.Note, l.Revises = j.Rater, j.Time, j.Session, j.Seq, j.MS, j.Guideline, j.Reasons, j.Note, j.Revises
}

// itemLine builds the "item" line that declares it in full.
func itemLine(it *feedback.Item) (jsonlLine, error) {
	l := jsonlLine{Kind: "item", Prompt: ptr(it.Prompt), Tags: it.Tags}
	if it.ID != ItemID(it.Prompt) {
		l.Item = it.ID
	}
	list := make([]any, len(it.Responses))
	for k, r := range it.Responses {
		if r.Gold != nil && (math.IsNaN(*r.Gold) || math.IsInf(*r.Gold, 0)) {
			return l, fmt.Errorf("export jsonl: item %q response %q: gold utility is not a finite number", it.ID, r.ID)
		}
		if r.ID == it.GoldBest {
			l.GoldBest = ptr(r.Text)
		}
		if (r.Source == feedback.SourceImported || r.Source == "") && r.Gold == nil && len(r.Parts) == 0 && r.RefProb == 0 {
			list[k] = r.Text
			continue
		}
		list[k] = jsonlResponse{Text: ptr(r.Text), Source: string(r.Source), Gold: r.Gold, Parts: r.Parts, RefProb: r.RefProb}
	}
	if it.GoldBest != "" && l.GoldBest == nil {
		return l, fmt.Errorf("export jsonl: item %q: gold_best %q is not one of its responses", it.ID, it.GoldBest)
	}
	var err error
	if l.Responses, err = marshalNoEscape(list); err != nil {
		return l, err
	}
	return l, nil
}

// sameItem reports whether two items are equal, treating nil and empty lists alike.
func sameItem(a, b feedback.Item) bool {
	if a.ID != b.ID || a.Prompt != b.Prompt || a.GoldBest != b.GoldBest || !slices.Equal(a.Tags, b.Tags) || len(a.Responses) != len(b.Responses) {
		return false
	}
	for k := range a.Responses {
		x, y := a.Responses[k], b.Responses[k]
		if x.ID != y.ID || x.Text != y.Text || x.Source != y.Source || x.RefProb != y.RefProb || !slices.Equal(x.Parts, y.Parts) || !reflect.DeepEqual(x.Gold, y.Gold) {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }

// marshalNoEscape encodes v as JSON without HTML escaping and without a newline.
func marshalNoEscape(v any) (json.RawMessage, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(strings.TrimSuffix(sb.String(), "\n")), nil
}
