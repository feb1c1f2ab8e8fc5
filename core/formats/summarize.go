package formats

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"prefer/core/feedback"
)

type sumRecord struct {
	Info *struct {
		ID        string  `json:"id"`
		Post      *string `json:"post"`
		Article   *string `json:"article"`
		Title     *string `json:"title"`
		Subreddit *string `json:"subreddit"`
		Site      *string `json:"site"`
	} `json:"info"`
	Summaries []sumSummary `json:"summaries"`
	Summary   *sumSummary  `json:"summary"`
	Choice    *int         `json:"choice"`
	Worker    string       `json:"worker"`
	Batch     string       `json:"batch"`
	Split     string       `json:"split"`
	Extra     *struct {
		Confidence *int `json:"confidence"`
	} `json:"extra"`
}

type sumSummary struct {
	Text   *string         `json:"text"`
	Policy string          `json:"policy"`
	Note   *string         `json:"note"`
	Axes   map[string]*int `json:"axes"`
}

// ConfidenceStrength maps the 1–9 confidence of summarize-from-feedback to a
// comparison strength: 1–3 → 1 (slightly better), 4–6 → 2 (clearly), 7–9 → 3
// (much better). It reads the scale as "how sure the worker is of the recorded
// choice", higher meaning surer. ok is false outside 1..9.
func ConfidenceStrength(c int) (strength int, ok bool) {
	if c < 1 || c > 9 {
		return 0, false
	}
	return (c-1)/3 + 1, true
}

// ReadSummarize reads OpenAI's summarize-from-feedback human data (JSON lines, or a
// JSON array). A comparison record
//
//	{"info": {"id", "post", "title", "subreddit"}, "summaries": [{"text", "policy", "note"}, …],
//	 "choice": 0|1, "worker", "batch", "split", "extra": {"confidence"}}
//
// becomes one comparison: item id info.id; prompt in the paper's TL;DR task format
// "SUBREDDIT: r/…\n\nTITLE: …\n\nPOST: …\n\nTL;DR:" (lines without a value left
// out; a CNN/DM record with "article" gives "Article:\n…\n\nTL;DR:\n"); a = summaries[0],
// b = summaries[1], choice 0 → a, 1 → b; worker → rater; batch → session;
// extra.confidence → strength (ConfidenceStrength); the workers' notes → note
// ("a: …\nb: …"). Responses are Source "imported" with Parts "policy:<name>"; the
// item gets tags "split:<split>", "subreddit:<name>" or "site:<name>". A comparison of
// two identical summaries is ignored (counted in Report.Ignored).
//
// An axis-evaluation record ({"info", "summary": {"text", "policy", "note", "axes":
// {"overall": 1..7, …}}, "worker", "batch", "split"}) gives one rating per axis.
func ReadSummarize(r io.Reader, opt Options) (*Dataset, *Report, error) {
	b := newBuilder("summarize", "sum", opt)
	return b.run(r, func(rec record) error {
		var s sumRecord
		if err := decodeJSON(rec.data, &s); err != nil {
			return err
		}
		return b.sumRecord(&s, rec.line)
	})
}

// summarizePrompt builds the prompt of a record's info.
func summarizePrompt(s *sumRecord) (string, error) {
	in := s.Info
	if in == nil {
		return "", fmt.Errorf("\"info\" is missing; it holds the post (or article) that was summarized")
	}
	switch {
	case in.Post != nil:
		var sb strings.Builder
		if in.Subreddit != nil && *in.Subreddit != "" {
			sb.WriteString("SUBREDDIT: r/" + *in.Subreddit + "\n\n")
		}
		if in.Title != nil && *in.Title != "" {
			sb.WriteString("TITLE: " + *in.Title + "\n\n")
		}
		sb.WriteString("POST: " + *in.Post + "\n\nTL;DR:")
		return sb.String(), nil
	case in.Article != nil:
		return "Article:\n" + *in.Article + "\n\nTL;DR:\n", nil
	}
	return "", fmt.Errorf("\"info\" needs \"post\" (TL;DR) or \"article\" (CNN/DM)")
}

func (b *builder) sumRecord(s *sumRecord, line int) error {
	prompt, err := summarizePrompt(s)
	if err != nil {
		return err
	}
	itemID := s.Info.ID
	if itemID == "" {
		itemID = ItemID(prompt)
	}
	if err := b.checkItem(itemID, &prompt); err != nil {
		return err
	}
	var tags []string
	if s.Split != "" {
		tags = append(tags, "split:"+s.Split)
	}
	if in := s.Info; in.Subreddit != nil && *in.Subreddit != "" {
		tags = append(tags, "subreddit:"+*in.Subreddit)
	}
	if in := s.Info; in.Site != nil && *in.Site != "" {
		tags = append(tags, "site:"+*in.Site)
	}
	parts := func(sm *sumSummary) []string {
		if sm.Policy == "" {
			return nil
		}
		return []string{"policy:" + sm.Policy}
	}
	if s.Summary != nil && s.Summaries == nil {
		return b.sumAxes(s, itemID, prompt, tags, parts(s.Summary), line)
	}
	if len(s.Summaries) != 2 {
		return fmt.Errorf("\"summaries\" must hold exactly two summaries, not %d", len(s.Summaries))
	}
	s0, s1 := &s.Summaries[0], &s.Summaries[1]
	if s0.Text == nil || s1.Text == nil {
		return fmt.Errorf("each summary needs \"text\"")
	}
	if s.Choice == nil || (*s.Choice != 0 && *s.Choice != 1) {
		return fmt.Errorf("\"choice\" must be 0 (the first summary) or 1 (the second)")
	}
	if *s0.Text == *s1.Text {
		b.rep.Ignored++
		return nil
	}
	j := feedback.Judgment{Kind: feedback.KindCompare, Item: itemID, Rater: s.Worker, Session: s.Batch,
		A: feedback.ResponseID(*s0.Text), B: feedback.ResponseID(*s1.Text), Choice: feedback.ChoiceA}
	if *s.Choice == 1 {
		j.Choice = feedback.ChoiceB
	}
	if s.Extra != nil && s.Extra.Confidence != nil {
		st, ok := ConfidenceStrength(*s.Extra.Confidence)
		if !ok {
			return fmt.Errorf("\"extra\".confidence must be 1..9, not %d", *s.Extra.Confidence)
		}
		j.Strength = st
	}
	var notes []string
	if s0.Note != nil && *s0.Note != "" {
		notes = append(notes, "a: "+*s0.Note)
	}
	if s1.Note != nil && *s1.Note != "" {
		notes = append(notes, "b: "+*s1.Note)
	}
	j.Note = strings.Join(notes, "\n")
	p, err := b.prepare(j, line, prompt)
	if err != nil {
		return err
	}
	st := b.item(itemID, prompt)
	b.tag(st, tags...)
	b.response(st, *s0.Text, feedback.SourceImported, parts(s0)...)
	b.response(st, *s1.Text, feedback.SourceImported, parts(s1)...)
	b.commit(p)
	return nil
}

// sumAxes imports an axis-evaluation record: one rating per axis, axes sorted.
func (b *builder) sumAxes(s *sumRecord, itemID, prompt string, tags, parts []string, line int) error {
	sm := s.Summary
	if sm.Text == nil {
		return fmt.Errorf("\"summary\" needs \"text\"")
	}
	axes := make([]string, 0, len(sm.Axes))
	for a, v := range sm.Axes {
		if v != nil {
			axes = append(axes, a)
		}
	}
	sort.Strings(axes)
	if len(axes) == 0 {
		return fmt.Errorf("\"summary\".axes must rate at least one axis (1..7)")
	}
	note := ""
	if sm.Note != nil {
		note = *sm.Note
	}
	var ps []pending
	for _, a := range axes {
		v := *sm.Axes[a]
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("\"summary\".axes has an empty axis name")
		}
		if v < feedback.ScoreMin || v > feedback.ScoreMax {
			return fmt.Errorf("\"summary\".axes.%s must be %d..%d, not %d", a, feedback.ScoreMin, feedback.ScoreMax, v)
		}
		j := feedback.Judgment{Kind: feedback.KindRate, Item: itemID, Rater: s.Worker, Session: s.Batch,
			Response: feedback.ResponseID(*sm.Text), Axis: a, Score: v, Note: note}
		p, err := b.prepare(j, line, prompt)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	st := b.item(itemID, prompt)
	b.tag(st, tags...)
	b.response(st, *sm.Text, feedback.SourceImported, parts...)
	for _, p := range ps {
		b.commit(p)
	}
	return nil
}
