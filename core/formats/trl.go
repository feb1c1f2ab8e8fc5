package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"prefer/core/feedback"
)

// trlRecord is one row of a TRL preference dataset. Values are kept raw because each
// may be a text or a list of messages.
type trlRecord struct {
	Prompt     json.RawMessage `json:"prompt"`
	Chosen     json.RawMessage `json:"chosen"`
	Rejected   json.RawMessage `json:"rejected"`
	Completion json.RawMessage `json:"completion"`
	Label      json.RawMessage `json:"label"`
	Margin     *float64        `json:"margin"`
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// trlValue is a field that is either a text or a list of messages.
type trlValue struct {
	text string
	msgs []Message
	chat bool
}

func trlField(field string, raw json.RawMessage) (trlValue, error) {
	var v trlValue
	s := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case len(s) > 0 && s[0] == '"':
		if err := json.Unmarshal(raw, &v.text); err != nil {
			return v, fmt.Errorf("%q is not a valid JSON string", field)
		}
	case len(s) > 0 && s[0] == '[':
		msgs, err := decodeMessages(field, raw)
		if err != nil {
			return v, err
		}
		v.msgs, v.chat = msgs, true
	default:
		return v, fmt.Errorf("%q must be a text or a list of {\"role\", \"content\"} messages", field)
	}
	return v, nil
}

// ReadTRL reads a TRL preference dataset, as JSON lines or as one JSON array (chosen
// by the first byte), optionally gzipped. Each row is one of:
//
//	{"prompt", "chosen", "rejected"}  standard: one comparison, chosen wins
//	{"chosen", "rejected"}            implicit prompt: see SplitImplicit
//	the same with lists of {"role", "content"} messages (conversational)
//	{"prompt": text, "chosen": messages, "rejected": messages}
//	                                  UltraFeedback-binarized: the text prompt is
//	                                  ignored and the messages' shared prefix is the
//	                                  prompt, as TRL's maybe_extract_prompt does
//	{"prompt", "completion", "label"} unpaired (KTO): a thumb up (true or 1) or
//	                                  down (false or 0)
//
// Conversations are rendered as dialogue text (RenderChat) with the prompt ending in
// AssistantCue, so the conversational export gives them back. Message content may be
// a list of text parts. A plain-text completion that starts with the join separator
// (JoinSeparator) loses it: " blue." after "The sky is" is the response "blue.", and
// the TRL export puts the separator back. An optional "margin" (TRL's reward margin)
// becomes the comparison's strength (MarginStrength). Other columns are ignored.
// Judgment ids are derived from each row's content.
func ReadTRL(r io.Reader, opt Options) (*Dataset, *Report, error) {
	b := newBuilder("trl", "trl", opt)
	return b.run(r, func(rec record) error {
		// Fast path: the standard form, all texts, decoded in one pass.
		var s trlText
		if json.Unmarshal(rec.data, &s) == nil && s.Prompt != nil && s.Chosen != nil && s.Rejected != nil && !s.Completion && !s.Label {
			a, bb := trimJoin(*s.Prompt, *s.Chosen), trimJoin(*s.Prompt, *s.Rejected)
			if a == bb {
				return fmt.Errorf("\"chosen\" and \"rejected\" are the same response; a comparison needs two different ones")
			}
			st, err := MarginStrength(s.Margin)
			if err != nil {
				return err
			}
			return b.addPairStrength(*s.Prompt, a, bb, st, rec.line)
		}
		var t trlRecord
		if err := decodeJSON(rec.data, &t); err != nil {
			return err
		}
		return b.trlRecord(&t, rec.line)
	})
}

// trlText is the standard TRL row with text values; Completion and Label only note
// whether those keys hold a value.
type trlText struct {
	Prompt     *string  `json:"prompt"`
	Chosen     *string  `json:"chosen"`
	Rejected   *string  `json:"rejected"`
	Completion given    `json:"completion"`
	Label      given    `json:"label"`
	Margin     *float64 `json:"margin"`
}

// given records whether a JSON value other than null was given.
type given bool

func (p *given) UnmarshalJSON(b []byte) error {
	*p = given(present(b))
	return nil
}

func (b *builder) trlRecord(t *trlRecord, line int) error {
	if present(t.Completion) || present(t.Label) {
		return b.trlUnpaired(t, line)
	}
	if !present(t.Chosen) || !present(t.Rejected) {
		return fmt.Errorf("a row needs \"chosen\" and \"rejected\" (a preference pair, with or without \"prompt\") or \"prompt\", \"completion\" and \"label\" (unpaired, KTO)")
	}
	c, err := trlField("chosen", t.Chosen)
	if err != nil {
		return err
	}
	rj, err := trlField("rejected", t.Rejected)
	if err != nil {
		return err
	}
	if c.chat != rj.chat {
		return fmt.Errorf("\"chosen\" and \"rejected\" must both be texts or both be message lists")
	}
	var prompt, a, bb string
	var p trlValue
	if present(t.Prompt) {
		if p, err = trlField("prompt", t.Prompt); err != nil {
			return err
		}
		if p.chat && !c.chat {
			return fmt.Errorf("\"prompt\" is a message list but \"chosen\" and \"rejected\" are texts; give all three as texts or as message lists")
		}
	}
	switch {
	case present(t.Prompt) && c.chat && !p.chat:
		if c.msgs[0].Role == "assistant" && rj.msgs[0].Role == "assistant" {
			// The completions alone are messages: the text prompt is the user's turn.
			prompt, a, bb = RenderChat([]Message{{Role: "user", Content: p.text}})+AssistantCue, renderCompletion(c.msgs), renderCompletion(rj.msgs)
			break
		}
		// UltraFeedback-binarized: the text prompt repeats the first user message;
		// the prompt is the conversations' shared prefix (TRL's maybe_extract_prompt).
		if prompt, a, bb, err = splitImplicitChat(c.msgs, rj.msgs); err != nil {
			return err
		}
	case present(t.Prompt):
		if !p.chat {
			prompt, a, bb = p.text, trimJoin(p.text, c.text), trimJoin(p.text, rj.text)
			break
		}
		if c.msgs[0].Role != "assistant" || rj.msgs[0].Role != "assistant" {
			return fmt.Errorf("\"chosen\" and \"rejected\" must start with an assistant message")
		}
		prompt, a, bb = RenderChat(p.msgs)+AssistantCue, renderCompletion(c.msgs), renderCompletion(rj.msgs)
	case c.chat:
		if prompt, a, bb, err = splitImplicitChat(c.msgs, rj.msgs); err != nil {
			return err
		}
	default:
		if prompt, a, bb, err = SplitImplicit(c.text, rj.text); err != nil {
			return err
		}
		a, bb = trimJoin(prompt, a), trimJoin(prompt, bb)
	}
	if a == bb {
		return fmt.Errorf("\"chosen\" and \"rejected\" are the same response; a comparison needs two different ones")
	}
	st, err := MarginStrength(t.Margin)
	if err != nil {
		return err
	}
	return b.addPairStrength(prompt, a, bb, st, line)
}

// addPair commits one comparison in which a (chosen) beats b (rejected).
func (b *builder) addPair(prompt, a, bb string, line int) error {
	return b.addPairStrength(prompt, a, bb, 0, line)
}

// addPairStrength commits one comparison in which a (chosen) beats b (rejected) with
// the given strength (0: not given).
func (b *builder) addPairStrength(prompt, a, bb string, strength, line int) error {
	itemID := ItemID(prompt)
	if err := b.checkItem(itemID, &prompt); err != nil {
		return err
	}
	j := feedback.Judgment{Kind: feedback.KindCompare, Item: itemID, A: feedback.ResponseID(a), B: feedback.ResponseID(bb), Choice: feedback.ChoiceA, Strength: strength}
	p, err := b.prepare(j, line, prompt)
	if err != nil {
		return err
	}
	st := b.item(itemID, prompt)
	b.response(st, a, feedback.SourceImported)
	b.response(st, bb, feedback.SourceImported)
	b.commit(p)
	return nil
}

func (b *builder) trlUnpaired(t *trlRecord, line int) error {
	if !present(t.Prompt) || !present(t.Completion) || !present(t.Label) {
		return fmt.Errorf("an unpaired (KTO) row needs \"prompt\", \"completion\" and \"label\"")
	}
	var label bool
	switch l := string(bytes.TrimSpace(t.Label)); l {
	case "true", "1", "1.0":
		label = true
	case "false", "0", "0.0":
	default:
		return fmt.Errorf("\"label\" must be true or 1 (desirable), false or 0 (undesirable), not %.40s", l)
	}
	p, err := trlField("prompt", t.Prompt)
	if err != nil {
		return err
	}
	c, err := trlField("completion", t.Completion)
	if err != nil {
		return err
	}
	if p.chat != c.chat {
		return fmt.Errorf("\"prompt\" and \"completion\" must both be texts or both be message lists")
	}
	prompt, text := p.text, trimJoin(p.text, c.text)
	if p.chat {
		if c.msgs[0].Role != "assistant" {
			return fmt.Errorf("\"completion\" must start with an assistant message")
		}
		prompt, text = RenderChat(p.msgs)+AssistantCue, renderCompletion(c.msgs)
	}
	itemID := ItemID(prompt)
	if err := b.checkItem(itemID, &prompt); err != nil {
		return err
	}
	score := -1
	if label {
		score = 1
	}
	j := feedback.Judgment{Kind: feedback.KindThumb, Item: itemID, Response: feedback.ResponseID(text), Score: score}
	pd, err := b.prepare(j, line, prompt)
	if err != nil {
		return err
	}
	st := b.item(itemID, prompt)
	b.response(st, text, feedback.SourceImported)
	b.commit(pd)
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// lcp returns the length of the longest common prefix of a and b.
func lcp(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// hhMarker is the assistant turn marker of dialogue text, without its space.
const hhMarker = "\n\nAssistant:"

// SplitImplicit finds the prompt of a TRL implicit-prompt pair: the longest common
// prefix of chosen and rejected, cut back to a boundary.
//
//   - Dialogue text: if the common prefix contains "\n\nAssistant:", the prompt runs
//     to the end of its last occurrence, plus the following space when both texts
//     have it (the HH-RLHF rule, so "\n\nHuman: …\n\nAssistant: " is the prompt).
//   - Otherwise the cut is at the last position p (at most the prefix length) where
//     both texts end or continue with whitespace, moved back over the whitespace
//     before it: the prompt never ends in whitespace and the completions start with
//     it. "The sky is blue." / "The sky is green." → "The sky is", " blue.",
//     " green." (as TRL's own extract_prompt gives).
//
// A prompt that would be empty, or identical texts, are errors.
func SplitImplicit(chosen, rejected string) (prompt, a, b string, err error) {
	if chosen == rejected {
		return "", "", "", fmt.Errorf("\"chosen\" and \"rejected\" are the same text")
	}
	n := lcp(chosen, rejected)
	if k := strings.LastIndex(chosen[:n], hhMarker); k >= 0 {
		end := k + len(hhMarker)
		if end < n && chosen[end] == ' ' {
			end++
		}
		return chosen[:end], chosen[end:], rejected[end:], nil
	}
	boundary := func(s string, i int) bool { return i == len(s) || isSpace(s[i]) }
	for i := n; i > 0; i-- {
		if !boundary(chosen, i) || !boundary(rejected, i) {
			continue
		}
		for i > 0 && isSpace(chosen[i-1]) {
			i--
		}
		if i == 0 {
			break
		}
		return chosen[:i], chosen[i:], rejected[i:], nil
	}
	return "", "", "", fmt.Errorf("\"chosen\" and \"rejected\" share no prompt (no common text before a word boundary); give \"prompt\" explicitly")
}

// splitImplicitChat finds the prompt of an implicit-prompt conversational pair: the
// messages before the last assistant turn that both conversations reach with the
// same history.
func splitImplicitChat(c, r []Message) (prompt, a, b string, err error) {
	k := 0
	for k < len(c) && k < len(r) && c[k] == r[k] {
		k++
	}
	if k == len(c) && k == len(r) {
		return "", "", "", fmt.Errorf("\"chosen\" and \"rejected\" are the same conversation")
	}
	for j := min(k, len(c)-1, len(r)-1); j >= 1; j-- {
		if c[j].Role == "assistant" && r[j].Role == "assistant" {
			return RenderChat(c[:j]) + AssistantCue, renderCompletion(c[j:]), renderCompletion(r[j:]), nil
		}
	}
	return "", "", "", fmt.Errorf("\"chosen\" and \"rejected\" share no messages before an assistant turn; give \"prompt\" explicitly")
}

// itemGroups indexes d for the exporters: the indices in js of the standing
// judgments (feedback.Current) in export order (feedback.ExportOrder: the order
// they were imported in, then the order they were made), the item of each, and per
// item a map from response id to text. Reviews are counted apart, and so are the
// versions that do not stand (revised, rejected or withdrawn): a flat export holds
// only what counts. A judgment of an unknown item is an error.
type itemGroups struct {
	js         []feedback.Judgment
	order      []int // indices into js, reviews left out, in export order
	item       []int // js index → index in d.Items (-1 for reviews)
	texts      []map[string]string
	reviews    []int
	superseded int
}

// skipped counts the reviews and the versions that do not stand in rep.
func (g *itemGroups) skipped(rep *ExportReport) {
	for range g.reviews {
		rep.skip(string(feedback.KindReview))
	}
	for k := 0; k < g.superseded; k++ {
		rep.skip("superseded")
	}
}

func groupByItem(d *Dataset, format string) (*itemGroups, error) {
	g := &itemGroups{js: feedback.Current(d.Judgments), texts: make([]map[string]string, len(d.Items))}
	for k := range d.Judgments {
		if d.Judgments[k].Kind == feedback.KindReview {
			g.reviews = append(g.reviews, k)
		}
	}
	g.superseded = len(d.Judgments) - len(g.reviews) - len(g.js)
	idx := make(map[string]int, len(d.Items))
	for i := range d.Items {
		idx[d.Items[i].ID] = i
		m := make(map[string]string, len(d.Items[i].Responses))
		for _, r := range d.Items[i].Responses {
			m[r.ID] = r.Text
		}
		g.texts[i] = m
	}
	g.item = make([]int, len(g.js))
	for k := range g.js {
		j := &g.js[k]
		g.item[k] = -1
		if j.Kind == feedback.KindReview {
			continue
		}
		i, ok := idx[j.Item]
		if !ok {
			return nil, fmt.Errorf("export %s: judgment %q refers to item %q, which the dataset does not have", format, j.ID, j.Item)
		}
		g.item[k] = i
	}
	g.order = feedback.ExportOrder(g.js)
	n := 0
	for _, k := range g.order {
		if g.item[k] >= 0 {
			g.order[n] = k
			n++
		}
	}
	g.order = g.order[:n]
	return g, nil
}

// jsonWriter writes JSON lines without HTML escaping.
type jsonWriter struct {
	bw  *bufio.Writer
	enc *json.Encoder
	rep *ExportReport
}

func newJSONWriter(w io.Writer, rep *ExportReport) *jsonWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonWriter{bw: bw, enc: enc, rep: rep}
}

func (jw *jsonWriter) write(v any) error {
	if err := jw.enc.Encode(v); err != nil {
		return fmt.Errorf("write %s: %w", jw.rep.Format, err)
	}
	jw.rep.Records++
	return nil
}

func (jw *jsonWriter) flush() error {
	if err := jw.bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", jw.rep.Format, err)
	}
	return nil
}

type trlPair struct {
	Prompt   string   `json:"prompt"`
	Chosen   string   `json:"chosen"`
	Rejected string   `json:"rejected"`
	Margin   *float64 `json:"margin,omitempty"`
}

type trlChatPair struct {
	Prompt   []Message `json:"prompt"`
	Chosen   []Message `json:"chosen"`
	Rejected []Message `json:"rejected"`
	Margin   *float64  `json:"margin,omitempty"`
}

type ktoRow struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
	Label      bool   `json:"label"`
}

// margin returns the "margin" column of a pair: nil when the export has none.
func margin(column bool, strength int) *float64 {
	if !column {
		return nil
	}
	m := StrengthMargin(strength)
	return &m
}

// WriteTRL writes the preference pairs of d (preferencePairs: decided comparisons,
// every pair of each ranking, rewrite ≻ original) as TRL's standard preference
// format, one {"prompt", "chosen", "rejected"} per line, items in order. The
// completions carry the separator TRL's concatenation needs (JoinSeparator). When a
// comparison has a strength, every row has a "margin" (StrengthMargin; 0 where none
// was given), which TRL's RewardTrainer uses. Ties, both-bad comparisons and other
// kinds are skipped and counted in the report.
func WriteTRL(w io.Writer, d *Dataset) (*ExportReport, error) {
	rep := &ExportReport{Format: "trl", Skipped: map[string]int{}}
	jw := newJSONWriter(w, rep)
	col := anyStrength(d)
	err := preferencePairs(d, rep, func(p exportPair) error {
		pr := p.item.Prompt
		return jw.write(trlPair{Prompt: pr, Chosen: withJoin(pr, p.win), Rejected: withJoin(pr, p.lose), Margin: margin(col, p.strength)})
	}, nil)
	if err != nil {
		return nil, err
	}
	return rep, jw.flush()
}

// WriteTRLConversational writes the preference pairs of d (as WriteTRL) in TRL's
// conversational preference format: the prompt as messages (PromptMessages) and each
// completion as messages (CompletionMessages). Imported conversational data comes
// back as it was read, unless a message's content itself contains a role marker
// such as "\n\nHuman: ".
func WriteTRLConversational(w io.Writer, d *Dataset) (*ExportReport, error) {
	rep := &ExportReport{Format: "trl-conversational", Skipped: map[string]int{}}
	jw := newJSONWriter(w, rep)
	col := anyStrength(d)
	err := preferencePairs(d, rep, func(p exportPair) error {
		return jw.write(trlChatPair{Prompt: PromptMessages(p.item.Prompt), Chosen: CompletionMessages(p.win),
			Rejected: CompletionMessages(p.lose), Margin: margin(col, p.strength)})
	}, nil)
	if err != nil {
		return nil, err
	}
	return rep, jw.flush()
}

// WriteKTO writes unpaired (KTO) rows {"prompt", "completion", "label"}: a thumb up
// gives label true and a thumb down false; every preference pair of WriteTRL gives
// two rows, the chosen response true and the rejected one false (what TRL's
// unpair_preference_dataset makes of a preference dataset). Completions carry the
// separator as in WriteTRL. Ties, both-bad comparisons and other kinds are skipped
// and counted. Rows follow the export order (feedback.ExportOrder).
func WriteKTO(w io.Writer, d *Dataset) (*ExportReport, error) {
	rep := &ExportReport{Format: "kto", Skipped: map[string]int{}}
	jw := newJSONWriter(w, rep)
	err := preferencePairs(d, rep, func(p exportPair) error {
		pr := p.item.Prompt
		if err := jw.write(ktoRow{Prompt: pr, Completion: withJoin(pr, p.win), Label: true}); err != nil {
			return err
		}
		return jw.write(ktoRow{Prompt: pr, Completion: withJoin(pr, p.lose), Label: false})
	}, func(it *feedback.Item, text string, up bool) error {
		return jw.write(ktoRow{Prompt: it.Prompt, Completion: withJoin(it.Prompt, text), Label: up})
	})
	if err != nil {
		return nil, err
	}
	return rep, jw.flush()
}
