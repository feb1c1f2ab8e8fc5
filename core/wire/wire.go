// Package wire defines the bodies that Prefer's HTTP API exchanges (docs/server.md):
// the JSON documents, the events-batch codec and the names of headers and content
// types. It depends only on package core and the standard library, so both the server
// and the browser client (compiled to WebAssembly) import it and cannot disagree on
// the protocol.
//
// An events batch travels either as msgpack — a Prefer snapshot (core/snapshot) that
// holds only judgments, content type application/msgpack — or as JSON,
// {"events": [Event, …]}, content type application/json. Event uses the same keys as
// the snapshot format's judgment record, so the two forms carry the same fields.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// Content types and headers of the API.
const (
	// ContentTypeMsgpack marks a msgpack body: a snapshot, or an events batch encoded
	// as a snapshot holding only judgments.
	ContentTypeMsgpack = "application/msgpack"
	// ContentTypeJSON marks a JSON body.
	ContentTypeJSON = "application/json"

	// HeaderCursor carries the cursor of a msgpack events page (the JSON page has it
	// in its body).
	HeaderCursor = "Prefer-Cursor"
	// HeaderMore is "true" when a msgpack events page was cut at its limit.
	HeaderMore = "Prefer-More"
)

// Caps of one event's fields (docs/server.md). The server refuses an event over a
// cap with a 400 naming the field; the browser enforces the same caps, with the same
// message, before it saves a judgment. Real use stays far below them: the longest
// whole conversation in the HH-RLHF harmless test split (testdata/hh-rlhf) is
// 4,371 bytes, so a rewrite of an answer has 15× room.
const (
	MaxTextBytes  = 64 << 10 // a rewrite's or a review's text
	MaxNoteBytes  = 8 << 10  // a judgment's free-text note
	MaxShortBytes = 128      // ids, kinds, choices, axes, categories, verdicts, the session, each reason
	MaxReasons    = 32       // reasons of one judgment
	MaxShown      = 64       // responses shown in a rank judgment (and its order)
)

// CheckEventSize reports the first field of j over its cap, as an error that says
// the field, its size and the cap, or nil.
func CheckEventSize(j *feedback.Judgment) error {
	over := func(field string, n, limit int, unit string) error {
		return fmt.Errorf("%s is %d %s; the most is %d: shorten it", field, n, unit, limit)
	}
	if n := len(j.Text); n > MaxTextBytes {
		return over("text", n, MaxTextBytes, "bytes")
	}
	if n := len(j.Note); n > MaxNoteBytes {
		return over("note", n, MaxNoteBytes, "bytes")
	}
	for _, f := range []struct {
		name, v string
	}{{"id", j.ID}, {"kind", string(j.Kind)}, {"item", j.Item}, {"rater", j.Rater}, {"session", j.Session},
		{"a", j.A}, {"b", j.B}, {"choice", string(j.Choice)}, {"left", j.Left}, {"response", j.Response},
		{"axis", j.Axis}, {"category", j.Category}, {"target", j.Target}, {"verdict", j.Verdict},
		{"revises", j.Revises}} {
		if len(f.v) > MaxShortBytes {
			return over(f.name, len(f.v), MaxShortBytes, "bytes")
		}
	}
	if n := len(j.Reasons); n > MaxReasons {
		return over("reasons", n, MaxReasons, "reasons")
	}
	for _, r := range j.Reasons {
		if len(r) > MaxShortBytes {
			return over("a reason", len(r), MaxShortBytes, "bytes")
		}
	}
	if n := max(len(j.Shown), len(j.Order)); n > MaxShown {
		return over("shown", n, MaxShown, "responses")
	}
	for _, r := range j.Shown {
		if len(r) > MaxShortBytes {
			return over("a shown response id", len(r), MaxShortBytes, "bytes")
		}
	}
	return nil
}

// Errors of the events codec; test with errors.Is.
var (
	ErrContentType = errors.New("unsupported content type")
	ErrBadBatch    = errors.New("malformed events batch")
)

// Event is the JSON form of a feedback.Judgment. Its keys are those of the judgment
// record in the snapshot format (README: File formats); zero fields are left out.
type Event struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Item      string   `json:"item,omitempty"`
	Rater     string   `json:"rater,omitempty"`
	Time      int64    `json:"time,omitempty"`
	Session   string   `json:"session,omitempty"`
	Seq       int      `json:"seq,omitempty"`
	MS        int64    `json:"ms,omitempty"`
	Guideline int      `json:"guideline,omitempty"`
	Reasons   []string `json:"reasons,omitempty"`
	Note      string   `json:"note,omitempty"`
	A         string   `json:"a,omitempty"`
	B         string   `json:"b,omitempty"`
	Choice    string   `json:"choice,omitempty"`
	Strength  int      `json:"strength,omitempty"`
	Left      string   `json:"left,omitempty"`
	Shown     []string `json:"shown,omitempty"`
	Order     []int    `json:"order,omitempty"`
	Response  string   `json:"response,omitempty"`
	Axis      string   `json:"axis,omitempty"`
	Score     int      `json:"score,omitempty"`
	Text      string   `json:"text,omitempty"`
	Category  string   `json:"category,omitempty"`
	Target    string   `json:"target,omitempty"`
	Verdict   string   `json:"verdict,omitempty"`
	Revises   string   `json:"revises,omitempty"`
}

// FromJudgment returns the wire form of j.
func FromJudgment(j feedback.Judgment) Event {
	return Event{
		ID: j.ID, Kind: string(j.Kind), Item: j.Item, Rater: j.Rater, Time: j.Time,
		Session: j.Session, Seq: j.Seq, MS: j.MS, Guideline: j.Guideline,
		Reasons: j.Reasons, Note: j.Note,
		A: j.A, B: j.B, Choice: string(j.Choice), Strength: j.Strength, Left: j.Left,
		Shown: j.Shown, Order: j.Order,
		Response: j.Response, Axis: j.Axis, Score: j.Score, Text: j.Text, Category: j.Category,
		Target: j.Target, Verdict: j.Verdict, Revises: j.Revises,
	}
}

// Judgment returns the judgment e describes.
func (e Event) Judgment() feedback.Judgment {
	return feedback.Judgment{
		ID: e.ID, Kind: feedback.Kind(e.Kind), Item: e.Item, Rater: e.Rater, Time: e.Time,
		Session: e.Session, Seq: e.Seq, MS: e.MS, Guideline: e.Guideline,
		Reasons: e.Reasons, Note: e.Note,
		A: e.A, B: e.B, Choice: feedback.Choice(e.Choice), Strength: e.Strength, Left: e.Left,
		Shown: e.Shown, Order: e.Order,
		Response: e.Response, Axis: e.Axis, Score: e.Score, Text: e.Text, Category: e.Category,
		Target: e.Target, Verdict: e.Verdict, Revises: e.Revises,
	}
}

// Events converts judgments to their wire form.
func Events(js []feedback.Judgment) []Event {
	out := make([]Event, len(js))
	for i, j := range js {
		out[i] = FromJudgment(j)
	}
	return out
}

// Judgments converts wire events to judgments.
func Judgments(es []Event) []feedback.Judgment {
	out := make([]feedback.Judgment, len(es))
	for i, e := range es {
		out[i] = e.Judgment()
	}
	return out
}

// Batch is the JSON body of POST /api/v1/projects/{p}/events.
type Batch struct {
	Events []Event `json:"events"`
}

// EncodeEventsMsgpack encodes a batch as a snapshot holding only the judgments, in
// the given order. This is the form the browser client sends.
func EncodeEventsMsgpack(js []feedback.Judgment) ([]byte, error) {
	return snapshot.Marshal(&snapshot.Snapshot{Judgments: js})
}

// EncodeEventsJSON encodes a batch as {"events": [...]}.
func EncodeEventsJSON(js []feedback.Judgment) ([]byte, error) {
	return json.Marshal(Batch{Events: Events(js)})
}

// MediaType returns the media type of a Content-Type or Accept value without its
// parameters, in lower case ("" when v is empty or malformed).
func MediaType(v string) string {
	if v == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// EventsBudgetFactor bounds the memory of decoding a msgpack batch: at most this
// many times its size (snapshot.Options.BudgetFactor). Real judgments take 100 bytes
// or more and decode to ~400: 4× at most, so 8× refuses only near-empty ones.
const EventsBudgetFactor = 8

// TooManyEventsError is DecodeEventsMax's error for a batch of more than Limit
// events; N is the count a msgpack batch claims (0 for JSON, which is not read past
// the event after the limit).
type TooManyEventsError struct{ N, Limit int }

func (e *TooManyEventsError) Error() string {
	if e.N == 0 {
		return fmt.Sprintf("the batch holds more than %d events; send at most %d per request", e.Limit, e.Limit)
	}
	return fmt.Sprintf("the batch holds %d events; send at most %d per request", e.N, e.Limit)
}

// DecodeEvents decodes an events batch of the given content type (msgpack or JSON).
// Decoding is bounded by the size of body. A msgpack batch must be a snapshot that
// holds judgments and nothing else but provenance; a JSON batch must be one object
// {"events": [...]}. Errors wrap ErrContentType or ErrBadBatch and say what is wrong.
func DecodeEvents(contentType string, body []byte) ([]feedback.Judgment, error) {
	return DecodeEventsMax(contentType, body, 0)
}

// DecodeEventsMax is DecodeEvents that refuses a batch of more than max events
// (max ≤ 0: no limit) with a *TooManyEventsError, found from the msgpack array's
// header or by counting JSON elements, before decoding more than max of them.
func DecodeEventsMax(contentType string, body []byte, max int) ([]feedback.Judgment, error) {
	switch MediaType(contentType) {
	case ContentTypeMsgpack:
		s, err := snapshot.UnmarshalWith(body, snapshot.Options{MaxJudgments: max, BudgetFactor: EventsBudgetFactor})
		var tm *snapshot.TooManyError
		if errors.As(err, &tm) {
			return nil, &TooManyEventsError{N: tm.N, Limit: tm.Limit}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadBatch, err)
		}
		if len(s.Items) > 0 || len(s.Raters) > 0 || len(s.Models) > 0 || len(s.Runs) > 0 ||
			len(s.Guidelines) > 0 || len(s.Extra) > 0 {
			return nil, fmt.Errorf("%w: an events batch is a snapshot that holds only judgments; "+
				"push items, models and runs as a snapshot instead", ErrBadBatch)
		}
		return s.Judgments, nil
	case ContentTypeJSON:
		return decodeEventsJSON(body, max)
	}
	return nil, fmt.Errorf("%w %q: send %s or %s", ErrContentType, contentType, ContentTypeMsgpack, ContentTypeJSON)
}

// decodeEventsJSON reads {"events": [...]} one event at a time, so that a batch of
// more than max events is refused after max+1 of them, whatever it holds after.
// Other keys are ignored, as json.Unmarshal would.
func decodeEventsJSON(body []byte, max int) ([]feedback.Judgment, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadBatch}, args...)...)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, bad("decode JSON: the body is not a JSON object {\"events\": [...]}")
	}
	var out []feedback.Judgment
	seen := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, bad("decode JSON: %v", err)
		}
		if k, _ := t.(string); k != "events" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, bad("decode JSON: %v", err)
			}
			continue
		}
		if seen {
			return nil, bad(`the key "events" appears twice`)
		}
		seen = true
		t, err = dec.Token()
		if err != nil {
			return nil, bad("decode JSON: %v", err)
		}
		if t == nil {
			continue // "events": null, reported below
		}
		if t != json.Delim('[') {
			return nil, bad(`"events" must be an array`)
		}
		out = []feedback.Judgment{}
		for n := 0; dec.More(); n++ {
			if max > 0 && n == max {
				return nil, &TooManyEventsError{Limit: max} // the rest is not read
			}
			var e Event
			if err := dec.Decode(&e); err != nil {
				return nil, bad("decode JSON: event %d: %v", n+1, err)
			}
			out = append(out, e.Judgment())
		}
		if _, err := dec.Token(); err != nil {
			return nil, bad("decode JSON: %v", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad("decode JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("trailing data after the JSON object")
	}
	if out == nil {
		return nil, bad(`the JSON object has no "events" array`)
	}
	return out, nil
}

// EventsPage is the JSON answer of GET /api/v1/projects/{p}/events: events stored
// after the cursor given in since, in the order the server stored them. Cursor is the
// value to pass as since next time (opaque; equal to since when nothing is new). More
// is true when the page was cut at its limit: ask again at once.
type EventsPage struct {
	Events []Event `json:"events"`
	Cursor string  `json:"cursor"`
	More   bool    `json:"more"`
}

// EventsAccepted is the answer to a stored batch. Accepted counts events stored by
// this request, Duplicates those the server already held (a resent batch): both are
// durable when the answer is sent.
type EventsAccepted struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// SnapshotCreated is the answer of POST /api/v1/snapshots: ID names the snapshot in
// links (/s/{id}), URL is the share link, ContentID the sha256 content id of the
// bytes (also the ETag of GET), Size their length.
type SnapshotCreated struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	ContentID string `json:"content_id"`
	Size      int64  `json:"size"`
}

// Rater names a rater of a project.
type Rater struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Group string `json:"group,omitempty"`
}

// NewProject is the body of POST /api/v1/projects.
//
// Snapshot is the id of a stored snapshot (POST /api/v1/snapshots first) whose items
// are labeled; items with a known best response (GoldBest) are gold questions and the
// others are assigned. Raters lists the raters, or RaterCount asks for that many
// (ids r1, r2, …). Overlap is how many raters see each item (default 1, at most the
// number of raters). GoldRate is the share of each rater's queue made of gold items
// (0 to 0.5). Seed makes the assignment reproducible.
type NewProject struct {
	Name       string  `json:"name"`
	Snapshot   string  `json:"snapshot"`
	Raters     []Rater `json:"raters,omitempty"`
	RaterCount int     `json:"rater_count,omitempty"`
	Overlap    int     `json:"overlap,omitempty"`
	GoldRate   float64 `json:"gold_rate,omitempty"`
	Seed       uint64  `json:"seed,omitempty"`
}

// RaterAccess is a rater with the secret token and link that give access to the
// rater's queue. Tokens are shown once, in the answer that creates the project.
type RaterAccess struct {
	Rater
	Token    string `json:"token"`
	URL      string `json:"url"`
	Assigned int    `json:"assigned"`
}

// ProjectCreated is the answer of POST /api/v1/projects. LeadToken is the project
// lead's token (progress, every rater's events, reviews) and LeadURL the lead's
// page in the workbench (/p/{project}/lead#token=…: progress per rater, and the
// judgments pulled into the working state); each rater's URL opens the rater's
// queue (/p/{project}#token=…). The tokens stay in the fragment, which browsers
// never send to a server.
type ProjectCreated struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Snapshot  string        `json:"snapshot"`
	Items     int           `json:"items"`
	GoldItems int           `json:"gold_items"`
	LeadToken string        `json:"lead_token"`
	LeadURL   string        `json:"lead_url"`
	Raters    []RaterAccess `json:"raters"`
}

// Response is a response as a rater sees it: no gold utility, parts or tags.
type Response struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// TaskItem is an item of a rater's queue.
type TaskItem struct {
	ID        string     `json:"id"`
	Prompt    string     `json:"prompt"`
	Responses []Response `json:"responses"`
}

// Guideline is a version of the labeling instructions.
type Guideline struct {
	Version int    `json:"version"`
	Text    string `json:"text"`
}

// Tasks is the answer of GET /api/v1/projects/{p}/tasks: the rater's queue in the
// order to label it (gold items mixed in and not marked), the guidelines, and the
// ids of the queue's items that the server already holds a judgment of this rater for.
type Tasks struct {
	Project    string      `json:"project"`
	Name       string      `json:"name"`
	Rater      Rater       `json:"rater"`
	Guidelines []Guideline `json:"guidelines,omitempty"`
	Items      []TaskItem  `json:"items"`
	Done       []string    `json:"done"`
}

// FeedbackItems returns the queue as feedback items (responses keep their ids and
// texts), for validating and storing judgments locally.
func (t *Tasks) FeedbackItems() []feedback.Item {
	out := make([]feedback.Item, len(t.Items))
	for i, it := range t.Items {
		out[i] = feedback.Item{ID: it.ID, Prompt: it.Prompt}
		for _, r := range it.Responses {
			out[i].Responses = append(out[i].Responses, feedback.Response{ID: r.ID, Text: r.Text})
		}
	}
	return out
}

// RaterProgress is one rater's progress: items assigned and judged (at least one
// standing judgment: revisions and reviews applied), the gold items assigned, the
// comparisons made on gold items whose gold order is known (GoldDone: a compare is
// one, a ranking of K is C(K,2)) and how many of them follow it (GoldCorrect; a tie
// or both-bad does not) — agree.GoldScore, the same gold accuracy as prefer agree and
// the Quality page — the number of events stored and the latest event time (unix ms,
// the client's clock).
type RaterProgress struct {
	Rater
	Assigned     int `json:"assigned"`
	Done         int `json:"done"`
	GoldAssigned int `json:"gold_assigned"`
	GoldDone     int `json:"gold_done"`
	GoldCorrect  int `json:"gold_correct"`
	Events       int `json:"events"`
	// Bytes is what the rater's stored events take (their JSON): with Events, what
	// counts against the storage quota (Progress.QuotaEvents, QuotaBytes).
	Bytes    int64 `json:"bytes"`
	LastTime int64 `json:"last_time,omitempty"`
}

// Progress is the answer of GET /api/v1/projects/{p} for the project lead.
type Progress struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Snapshot  string  `json:"snapshot"`
	Overlap   int     `json:"overlap"`
	GoldRate  float64 `json:"gold_rate"`
	Items     int     `json:"items"`
	GoldItems int     `json:"gold_items"`
	Events    int     `json:"events"`
	// QuotaEvents and QuotaBytes are the storage quota of each rater in the
	// project (prefer serve --max-rater-events, --max-rater-bytes); 0: unknown.
	QuotaEvents int64           `json:"quota_events,omitempty"`
	QuotaBytes  int64           `json:"quota_bytes,omitempty"`
	Raters      []RaterProgress `json:"raters"`
}

// EventError names an event of a batch and what is wrong with it.
type EventError struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// CodeQuotaExceeded is Error.Code of a 413 that refuses an events batch because it
// would take the rater over their storage quota in the project (nothing of it was
// stored; the project lead can raise the quota). Clients keep the events queued.
const CodeQuotaExceeded = "quota_exceeded"

// Error is the JSON body of every 4xx and 5xx answer. Code is a stable word for
// programs (see docs/server.md), Message a sentence for people that says what to do;
// Events lists the events of a rejected batch that caused it.
type Error struct {
	Code    string       `json:"code"`
	Message string       `json:"error"`
	Events  []EventError `json:"events,omitempty"`
}

func (e *Error) Error() string {
	msg := e.Message
	for i, ev := range e.Events {
		if i == 3 {
			msg += fmt.Sprintf("; and %d more", len(e.Events)-3)
			break
		}
		msg += fmt.Sprintf("; event %q: %s", ev.ID, ev.Error)
	}
	return msg
}
