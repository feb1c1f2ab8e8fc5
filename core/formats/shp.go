package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"prefer/core/feedback"
)

// shpRecord is one row of Stanford Human Preferences (stanfordnlp/SHP, SHP-2): a
// Reddit (or StackExchange) post and two top-level comments, the one people
// preferred given by "labels".
type shpRecord struct {
	PostID  *string         `json:"post_id"`
	Domain  *string         `json:"domain"`
	History *string         `json:"history"`
	RefA    *string         `json:"human_ref_A"`
	RefB    *string         `json:"human_ref_B"`
	Labels  json.RawMessage `json:"labels"`
}

// ReadSHP reads Stanford Human Preferences-style rows (stanfordnlp/SHP and SHP-2, and
// any dataset of the same columns):
//
//	{"post_id", "domain", "history", "human_ref_A", "human_ref_B", "labels",
//	 "score_A", "score_B", "score_ratio", "upvote_ratio", "c_root_id_A", …}
//
// Each row is one comparison of human_ref_A (a) with human_ref_B (b) under the prompt
// history: labels 1 means A was preferred, 0 B. domain becomes the item tag
// "domain:…" and post_id "post:…". The scores (upvotes) that the label was derived
// from, and the other columns, are not kept: the label is the preference. Judgment
// ids are derived from the content ("shp-…").
func ReadSHP(r io.Reader, opt Options) (*Dataset, *Report, error) {
	b := newBuilder("shp", "shp", opt)
	return b.run(r, func(rec record) error {
		var s shpRecord
		if err := decodeJSON(rec.data, &s); err != nil {
			return err
		}
		if s.History == nil || s.RefA == nil || s.RefB == nil {
			return fmt.Errorf("an SHP row needs \"history\" (the post), \"human_ref_A\", \"human_ref_B\" and \"labels\"")
		}
		var choice feedback.Choice
		switch string(bytes.TrimSpace(s.Labels)) {
		case "1", "true":
			choice = feedback.ChoiceA
		case "0", "false":
			choice = feedback.ChoiceB
		default:
			return fmt.Errorf("\"labels\" must be 1 (human_ref_A preferred) or 0 (human_ref_B preferred), not %.40s", s.Labels)
		}
		prompt, a, bb := *s.History, *s.RefA, *s.RefB
		if a == bb {
			return fmt.Errorf("\"human_ref_A\" and \"human_ref_B\" are the same text; a comparison needs two different responses")
		}
		itemID := ItemID(prompt)
		if err := b.checkItem(itemID, &prompt); err != nil {
			return err
		}
		j := feedback.Judgment{Kind: feedback.KindCompare, Item: itemID, A: feedback.ResponseID(a), B: feedback.ResponseID(bb), Choice: choice}
		var tags []string
		if s.Domain != nil && *s.Domain != "" {
			tags = append(tags, "domain:"+*s.Domain)
		}
		if s.PostID != nil && *s.PostID != "" {
			tags = append(tags, "post:"+*s.PostID)
		}
		p, err := b.prepare(j, rec.line, prompt, tags...)
		if err != nil {
			return err
		}
		st := b.item(itemID, prompt)
		b.response(st, a, feedback.SourceImported)
		b.response(st, bb, feedback.SourceImported)
		b.tag(st, tags...)
		b.commit(p)
		return nil
	})
}
