package ask

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"prefer/core/feedback"
)

// Source is what a generation run asks: the model server's host, the model, which
// API, and the settings sent with every request. Zero settings are not sent (the
// server's defaults apply).
type Source struct {
	Endpoint    string // host[:port]
	Model       string
	API         string // "chat" (default) or "completions"
	System      string // a system message for chat, if any
	Temperature float64
	TopP        float64
	TopK        int
	MaxTokens   int
	Stop        []string
}

// Origin returns the record of one sampling of slot k with the given seed.
func (s Source) Origin(k int, seed int64, seeded bool, finish string) feedback.Origin {
	return feedback.Origin{Endpoint: s.Endpoint, Model: s.Model, API: s.api(), System: s.System,
		Temperature: s.Temperature, TopP: s.TopP, TopK: s.TopK, MaxTokens: s.MaxTokens,
		Stop: append([]string(nil), s.Stop...), Seed: seed, Seeded: seeded, K: k, Finish: finish}
}

func (s Source) api() string {
	if s.API == "" {
		return "chat"
	}
	return s.API
}

// same reports whether o is a sampling of this source (any k, seed, finish).
func (s Source) same(o *feedback.Origin) bool {
	if o.Endpoint != s.Endpoint || o.Model != s.Model || o.API != s.api() || o.System != s.System ||
		o.Temperature != s.Temperature || o.TopP != s.TopP || o.TopK != s.TopK || o.MaxTokens != s.MaxTokens ||
		len(o.Stop) != len(s.Stop) {
		return false
	}
	for i := range o.Stop {
		if o.Stop[i] != s.Stop[i] {
			return false
		}
	}
	return true
}

// Slot is one answer to ask for: answer K of item Items[Item].
type Slot struct {
	Item int
	K    int
	Seed int64 // the seed to send (when the run is seeded)
}

// SlotSeed is the seed of answer k to item id in a run seeded with seed: the first
// 63 bits of SHA-256 of the three, so every slot has its own stream and the same
// slot always the same seed.
func SlotSeed(seed uint64, item string, k int) int64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	binary.LittleEndian.PutUint64(b[:], uint64(k))
	h.Write(b[:])
	h.Write([]byte(item))
	return int64(binary.LittleEndian.Uint64(h.Sum(nil)[:8]) >> 1)
}

// Missing returns the slots of a run of K answers per item from src that no
// recorded origin covers, in item order then k. Items without a prompt are skipped.
func Missing(items []feedback.Item, src Source, K int, seed uint64) []Slot {
	var out []Slot
	for i := range items {
		it := &items[i]
		if strings.TrimSpace(it.Prompt) == "" {
			continue
		}
		have := make([]bool, K)
		for r := range it.Responses {
			for o := range it.Responses[r].Origins {
				og := &it.Responses[r].Origins[o]
				if og.K >= 0 && og.K < K && src.same(og) {
					have[og.K] = true
				}
			}
		}
		for k := range K {
			if !have[k] {
				out = append(out, Slot{Item: i, K: k, Seed: SlotSeed(seed, it.ID, k)})
			}
		}
	}
	return out
}

// Record adds an answer to it as a generated response with its origin: a new
// response, or one more origin of the response with the same text. It returns the
// response's id. An empty answer is recorded too (a model may answer nothing; the
// slot is done).
func Record(it *feedback.Item, text string, o feedback.Origin) string {
	id := feedback.ResponseID(text)
	if r := it.Response(id); r != nil {
		for _, have := range r.Origins {
			if have.K == o.K && have.Endpoint == o.Endpoint && have.Model == o.Model && have.Seed == o.Seed && have.Seeded == o.Seeded {
				return id // the same sampling again: nothing new
			}
		}
		r.Origins = append(r.Origins, o)
		return id
	}
	it.Responses = append(it.Responses, feedback.Response{ID: id, Text: text, Source: feedback.SourceGenerated, Origins: []feedback.Origin{o}})
	return id
}

// Merge adds the items of add to items: an item with a new id is appended, one with
// an id already there keeps its responses and takes nothing of add's (its prompt
// must be the same, else an error says which).
func Merge(items []feedback.Item, add []feedback.Item) ([]feedback.Item, error) {
	index := make(map[string]int, len(items))
	for i := range items {
		index[items[i].ID] = i
	}
	for _, it := range add {
		if i, ok := index[it.ID]; ok {
			if items[i].Prompt != it.Prompt {
				return nil, fmt.Errorf("item %q has another prompt in the output than in the prompts: give another -o, or fix the ids", it.ID)
			}
			continue
		}
		index[it.ID] = len(items)
		items = append(items, it)
	}
	return items, nil
}

// Canonical puts an item's generated responses in a fixed order whatever order
// their answers arrived in: after the other responses (kept in their order), by
// their first origin (endpoint, model, k), each response's origins likewise. So a
// run gives the same snapshot however its requests raced, and a resumed run the
// same as an uninterrupted one.
func Canonical(it *feedback.Item) {
	less := func(a, b *feedback.Origin) bool {
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.K != b.K {
			return a.K < b.K
		}
		return a.Seed < b.Seed
	}
	for r := range it.Responses {
		o := it.Responses[r].Origins
		sort.SliceStable(o, func(i, j int) bool { return less(&o[i], &o[j]) })
	}
	rs := it.Responses
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].Origins, rs[j].Origins
		switch {
		case len(a) == 0 || len(b) == 0:
			return len(a) == 0 && len(b) > 0
		}
		return less(&a[0], &b[0])
	})
}
