package formats

import (
	"cmp"
	"encoding/hex"
	"math"
	"slices"

	"prefer/core/feedback"
)

// Compact holds the items and judgments of an import in about half the memory of
// []feedback.Item and []feedback.Judgment: most imported judgments use a handful
// of a judgment's 27 fields (a comparison: id, kind, item, a, b, choice, strength,
// position), and a feedback.Judgment costs 400 bytes whatever it uses; most
// imported responses are an id and a text, in a feedback.Response of 112 bytes. A
// judgment that uses only the fields of slimJudgment is held as one (80 bytes, its
// item and responses named by index), a response as a slimResponse (32 bytes), an
// item as a slimItem (64 bytes against 96); any other keeps its full form behind a
// pointer.
//
// The importers build every dataset this way; Import hands back Dataset.Items and
// Dataset.Judgments (expanded once, at the end), and an import with
// Options.Compact keeps the Compact (Dataset.Compact), which `prefer import` writes
// to the snapshot one record at a time (snapshot.EncodeFrom): at 300,000 TRL pairs
// the dataset is 161 MB live instead of 318 MB.
type Compact struct {
	js    []slimJudgment
	items []slimItem
}

// slimJudgment is a judgment of the common fields, its item and responses named by
// their indices in the Compact's items (-1: none). When full is set, it holds the
// whole judgment (id and time are kept here too, for sorting).
type slimJudgment struct {
	id, rater            string
	time                 int64
	full                 *feedback.Judgment
	item, a, b           int32 // item: index in items; a, b: in the item's responses
	pos, strength, score int32
	kind, choice         uint8 // 1 + the index in feedback.Kinds, slimChoices; 0: ""
	respInA              bool  // a is Response (a thumb or a rating), not A
}

var slimChoices = []feedback.Choice{feedback.ChoiceA, feedback.ChoiceB, feedback.ChoiceTie, feedback.ChoiceBothBad}

// code returns 1 + the index of v in list, or 0 for "" and -1 when v is not in it.
func code[T comparable](list []T, v T) int {
	var zero T
	if v == zero {
		return 0
	}
	if k := slices.Index(list, v); k >= 0 {
		return k + 1
	}
	return -1
}

func fits32(n int64) bool { return n >= math.MinInt32 && n <= math.MaxInt32 }

// slim returns j in its compact form; item is the index in items of j's item (-1
// when it is not there: the caller looked it up). A judgment whose item or responses are not in items is
// held in full.
func slim(j *feedback.Judgment, items []slimItem, item int) slimJudgment {
	s := slimJudgment{id: j.ID, time: j.Time}
	kind, choice := code(feedback.Kinds, j.Kind), code(slimChoices, j.Choice)
	simple := kind >= 0 && choice >= 0 && j.Session == "" && j.Seq == 0 && j.MS == 0 && j.Guideline == 0 &&
		len(j.Reasons) == 0 && j.Note == "" && j.Revises == "" && j.Left == "" && len(j.Shown) == 0 &&
		len(j.Order) == 0 && j.Axis == "" && j.Text == "" && j.Category == "" && j.Target == "" && j.Verdict == "" &&
		fits32(int64(j.Pos)) && fits32(int64(j.Strength)) && fits32(int64(j.Score)) &&
		(j.Response == "" || j.A == "") && (j.Item == "" || item >= 0 && item < len(items))
	a := j.A
	if j.Response != "" {
		a, s.respInA = j.Response, true
	}
	s.item, s.a, s.b = -1, -1, -1
	if simple && j.Item != "" {
		s.item = int32(item)
		s.a, s.b = int32(items[item].find(a)), int32(items[item].find(j.B))
	}
	if !simple || s.a < 0 && a != "" || s.b < 0 && j.B != "" || j.Item == "" && (a != "" || j.B != "") {
		c := *j
		return slimJudgment{id: j.ID, time: j.Time, full: &c}
	}
	s.rater = j.Rater
	s.pos, s.strength, s.score = int32(j.Pos), int32(j.Strength), int32(j.Score)
	s.kind, s.choice = uint8(kind), uint8(choice)
	return s
}

// judgment fills *j with s, whose item and responses are in items.
func (s *slimJudgment) judgment(items []slimItem, j *feedback.Judgment) {
	if s.full != nil {
		*j = *s.full
		return
	}
	s.fields(j)
	if s.item >= 0 {
		it := &items[s.item]
		s.names(j, it.itemID(), func(k int32) string { return it.resp[k].id() })
	}
}

// fields fills *j with s but for its item and responses (s is not held in full).
func (s *slimJudgment) fields(j *feedback.Judgment) {
	*j = feedback.Judgment{ID: s.id, Rater: s.rater, Time: s.time, Pos: int(s.pos),
		Strength: int(s.strength), Score: int(s.score)}
	if s.kind > 0 {
		j.Kind = feedback.Kinds[s.kind-1]
	}
	if s.choice > 0 {
		j.Choice = slimChoices[s.choice-1]
	}
}

// names sets the item and response ids of *j: item, and resp(k) for the k-th
// response of the item.
func (s *slimJudgment) names(j *feedback.Judgment, item string, resp func(k int32) string) {
	j.Item = item
	if s.a >= 0 {
		if s.respInA {
			j.Response = resp(s.a)
		} else {
			j.A = resp(s.a)
		}
	}
	if s.b >= 0 {
		j.B = resp(s.b)
	}
}

func (s *slimJudgment) kindOf() feedback.Kind {
	switch {
	case s.full != nil:
		return s.full.Kind
	case s.kind > 0:
		return feedback.Kinds[s.kind-1]
	}
	return ""
}

// Len returns the number of judgments.
func (c *Compact) Len() int { return len(c.js) }

// Judgment fills *j with the i-th judgment (snapshot.JudgmentSource).
func (c *Compact) Judgment(i int, j *feedback.Judgment) { c.js[i].judgment(c.items, j) }

// Kind returns the kind of the i-th judgment.
func (c *Compact) Kind(i int) feedback.Kind { return c.js[i].kindOf() }

// Linked reports whether the i-th judgment is a review or a revision (it names
// another judgment: feedback.ValidateLink checks it).
func (c *Compact) Linked(i int) bool {
	f := c.js[i].full
	return c.js[i].kindOf() == feedback.KindReview || f != nil && f.Revises != ""
}

// SortCanonical sorts the judgments as feedback.SortCanonical does: by time, then
// id (ids are unique within an import; position breaks a tie all the same).
func (c *Compact) SortCanonical() {
	slices.SortFunc(c.js, func(x, y slimJudgment) int {
		if x.time != y.time {
			return cmp.Compare(x.time, y.time)
		}
		if x.id != y.id {
			return cmp.Compare(x.id, y.id)
		}
		return cmp.Compare(x.posOf(), y.posOf())
	})
}

func (s *slimJudgment) posOf() int {
	if s.full != nil {
		return s.full.Pos
	}
	return int(s.pos)
}

// All returns the judgments as a new slice.
func (c *Compact) All() []feedback.Judgment {
	if len(c.js) == 0 {
		return nil
	}
	out := make([]feedback.Judgment, len(c.js))
	for i := range c.js {
		c.js[i].judgment(c.items, &out[i])
	}
	return out
}

// expand returns the items and judgments as new slices and empties c, the ids of
// the judgments' items and responses shared with the items' strings.
func (c *Compact) expand() ([]feedback.Item, []feedback.Judgment) {
	items := c.AllItems()
	c.items = nil
	var js []feedback.Judgment
	if len(c.js) > 0 {
		js = make([]feedback.Judgment, len(c.js))
	}
	for i := range c.js {
		s := &c.js[i]
		if s.full != nil {
			js[i] = *s.full
			continue
		}
		s.fields(&js[i])
		if s.item >= 0 {
			it := &items[s.item]
			s.names(&js[i], it.ID, func(k int32) string { return it.Responses[k].ID })
		}
	}
	c.js = nil
	return items, js
}

func (c *Compact) add(j *feedback.Judgment, b *builder, item int) {
	c.js = append(growFor(b, c.js), slim(j, c.items, item))
}

// Expand moves d.Compact, if set, into d.Items and d.Judgments (which must be
// empty).
func (d *Dataset) Expand() {
	if d.Compact == nil {
		return
	}
	d.Items, d.Judgments = d.Compact.expand()
	d.Compact = nil
}

// slimItem is an item whose responses are slimResponses; its tags and gold-best
// response, which few imports give, are behind extra. 64 bytes against
// feedback.Item's 96, and 40 bytes a response against feedback.Response's 112.
type slimItem struct {
	id, prompt string // id "": ItemID(prompt), derived when asked for (itemID)
	resp       []slimResponse
	extra      *itemExtra
}

type itemExtra struct {
	tags     []string
	goldBest string
	respIdx  map[string]int // while building: response id → index in resp, for items of many
	declared bool           // while building: declared by a jsonl "item" line (its responses listed in full)
	emptyID  bool           // the item's id is "" (slimItem.id "" means ItemID(prompt) otherwise)
}

// slimResponse is a response with source "imported" and nothing else but its text
// and its id, held as the 6 bytes the id spells in hex (feedback.ResponseID: "h"
// and 12 hex digits), not as a string of its own (32 bytes against 56); any other
// keeps its feedback.Response in full.
type slimResponse struct {
	text string
	full *feedback.Response
	hash respHash
}

// respHash is the hash a response id spells.
type respHash [6]byte

// parseRespID returns the hash of a response id of the form feedback.ResponseID
// gives (lower-case hex), and false for any other id.
func parseRespID(id string) (respHash, bool) {
	var h respHash
	if len(id) != 1+2*len(h) || id[0] != 'h' || !lowerHex(id[1:]) {
		return h, false
	}
	hex.Decode(h[:], []byte(id[1:]))
	return h, true
}

func slimResp(r *feedback.Response) slimResponse {
	h, ok := parseRespID(r.ID)
	s := slimResponse{text: r.Text, hash: h}
	if !ok || r.Source != feedback.SourceImported || r.Gold != nil || len(r.Parts) > 0 || r.RefProb != 0 || len(r.Origins) > 0 {
		c := *r
		s.full = &c
	}
	return s
}

// id returns the response's id (a new string unless it is held in full).
func (s *slimResponse) id() string {
	if s.full != nil {
		return s.full.ID
	}
	return "h" + hex.EncodeToString(s.hash[:])
}

// is reports whether the response has the given id, whose hash (when it has the
// form of one) is h.
func (s *slimResponse) is(id string, h respHash, ok bool) bool {
	if s.full != nil {
		return s.full.ID == id
	}
	return ok && s.hash == h
}

func (s *slimResponse) response(r *feedback.Response) {
	if s.full != nil {
		*r = *s.full
		return
	}
	*r = feedback.Response{ID: s.id(), Text: s.text, Source: feedback.SourceImported}
}

// item fills *it with s, reusing it.Responses' array.
func (s *slimItem) item(it *feedback.Item) {
	resp := it.Responses[:0]
	switch {
	case len(s.resp) == 0:
		resp = nil
	case cap(resp) < len(s.resp):
		resp = make([]feedback.Response, 0, len(s.resp))
	}
	for k := range s.resp {
		resp = append(resp, feedback.Response{})
		s.resp[k].response(&resp[k])
	}
	*it = feedback.Item{ID: s.itemID(), Prompt: s.prompt, Responses: resp}
	if s.extra != nil {
		it.Tags, it.GoldBest = s.extra.tags, s.extra.goldBest
	}
}

// itemID returns the item's id.
func (s *slimItem) itemID() string {
	if s.id == "" && (s.extra == nil || !s.extra.emptyID) {
		return ItemID(s.prompt)
	}
	return s.id
}

// itemHash is the hash an item id of ItemID's form spells.
type itemHash [8]byte

// parseItemID returns the hash of an item id of the form ItemID gives ("p" and 16
// lower-case hex digits), and false for any other id.
func parseItemID(id string) (itemHash, bool) {
	var h itemHash
	if len(id) != 1+2*len(h) || id[0] != 'p' || !lowerHex(id[1:]) {
		return h, false
	}
	hex.Decode(h[:], []byte(id[1:]))
	return h, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (s *slimItem) declared() bool { return s.extra != nil && s.extra.declared }

// done drops what only the builder needed.
func (s *slimItem) done() {
	if x := s.extra; x != nil {
		if x.tags == nil && x.goldBest == "" && !x.emptyID {
			s.extra = nil
			return
		}
		x.respIdx, x.declared = nil, false
	}
}

func (s *slimItem) ext() *itemExtra {
	if s.extra == nil {
		s.extra = &itemExtra{}
	}
	return s.extra
}

// Items returns the items (snapshot.ItemSource).
func (c *Compact) Items() CompactItems { return CompactItems{c} }

// CompactItems gives the items of a Compact one at a time.
type CompactItems struct{ c *Compact }

// Len returns the number of items.
func (ci CompactItems) Len() int { return len(ci.c.items) }

// Item fills *it with the i-th item; the array of it.Responses is reused (copy
// the item to keep it).
func (ci CompactItems) Item(i int, it *feedback.Item) { ci.c.items[i].item(it) }

// Responses returns the number of responses of the i-th item.
func (ci CompactItems) Responses(i int) int { return len(ci.c.items[i].resp) }

// AllItems returns the items as a new slice.
func (c *Compact) AllItems() []feedback.Item {
	if len(c.items) == 0 {
		return nil
	}
	out := make([]feedback.Item, len(c.items))
	for i := range c.items {
		c.items[i].item(&out[i])
	}
	return out
}
