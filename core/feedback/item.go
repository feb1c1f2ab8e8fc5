package feedback

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// Source says where a response came from.
type Source string

const (
	SourceReference Source = "reference" // sampled from the reference policy π_ref
	SourcePolicy    Source = "policy"    // sampled from a trained policy
	SourceRewrite   Source = "rewrite"   // a human rewrite (a demonstration)
	SourceImported  Source = "imported"  // read from a dataset file
	// SourceGenerated: sampled from a model through an OpenAI-compatible endpoint
	// (prefer generate, the Data page's "Generate answers"); Origins say where.
	SourceGenerated Source = "generated"
)

// Origin records one sampling of a generated response: which model server and
// model wrote it, with which settings and seed. A text sampled several times (the
// same words twice) has one origin per sampling.
//
// Endpoint is the host (and port) of the server, never the full URL (no path, no
// credentials); API is "chat" or "completions"; the settings are those sent, zero
// when not sent (the server's default). K is which of the K answers asked per
// prompt this sampling was (0-based), so an interrupted run knows what is missing;
// Seed is the seed sent with the request (Seeded false when none was). Finish is
// the server's finish_reason ("stop", "length").
type Origin struct {
	Endpoint    string
	Model       string
	API         string
	System      string // the system message sent, if any
	Temperature float64
	TopP        float64
	TopK        int
	MaxTokens   int
	Stop        []string
	Seed        int64
	Seeded      bool
	K           int
	Finish      string
}

// Response is one candidate answer to an item's prompt.
//
// ID is unique within its item. Importers and generators use ResponseID(text), so the
// same text gets the same id on every machine and merges line up.
// Gold is the known utility of the response when the domain defines one (the demo
// domain does; imported data does not). Parts lists how the response was composed
// (demo domain tags such as "correct", "polite", "filler"), sorted.
// RefProb is the reference policy's probability of this response among the item's
// candidates, when known (0 means unknown; the candidate policy then uses uniform).
// Origins record where a generated response came from (Source "generated"), one per
// sampling, in the order they were recorded.
type Response struct {
	ID      string
	Text    string
	Source  Source
	Gold    *float64
	Parts   []string
	RefProb float64
	Origins []Origin
}

// Item is a prompt and its candidate responses.
//
// GoldBest, when set, is the id of the response known to be best: the item can serve
// as a gold question. Tags are free labels (topic, "should-refuse", split markers).
type Item struct {
	ID        string
	Prompt    string
	Responses []Response
	Tags      []string
	GoldBest  string
}

// ResponseID returns the canonical id of a response text: "h" followed by the first
// 12 hex digits of its SHA-256.
func ResponseID(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "h" + hex.EncodeToString(sum[:6])
}

// Response returns the response with the given id, or nil.
func (it *Item) Response(id string) *Response {
	for i := range it.Responses {
		if it.Responses[i].ID == id {
			return &it.Responses[i]
		}
	}
	return nil
}

// ResponseIndex returns the index of the response with the given id, or -1.
func (it *Item) ResponseIndex(id string) int {
	for i := range it.Responses {
		if it.Responses[i].ID == id {
			return i
		}
	}
	return -1
}

// AddResponse appends a response with the given text if the item has none with the
// same text, and returns its id either way.
func (it *Item) AddResponse(text string, src Source) string {
	id := ResponseID(text)
	if it.Response(id) == nil {
		it.Responses = append(it.Responses, Response{ID: id, Text: text, Source: src})
	}
	return id
}

// HasTag reports whether the item carries tag.
func (it *Item) HasTag(tag string) bool { return slices.Contains(it.Tags, tag) }

// RaterKind says who is behind a rater id.
type RaterKind string

const (
	RaterHuman     RaterKind = "human"
	RaterSimulated RaterKind = "simulated" // a demo-domain simulated rater
	RaterAI        RaterKind = "ai"        // a reward model or rubric judge
)

// Rater is someone who gives judgments.
// Profile describes a simulated rater's settings (see package demo), empty for people.
type Rater struct {
	ID      string
	Name    string
	Group   string
	Kind    RaterKind
	Profile string
}

// Guideline is one version of the labeling instructions. Judgments record the
// version in force when they were made.
type Guideline struct {
	Version int
	Text    string
	Time    int64 // unix milliseconds when it took effect; 0 if unknown
}
