package snapshot

import (
	"fmt"
	"math"
	"strings"

	"prefer/core/feedback"
)

// Problem is one way in which a decoded snapshot is not sound.
type Problem struct {
	Where string `json:"where"` // e.g. "items[3].responses[1]" or "judgments[id=e17]"
	What  string `json:"what"`
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// Check reports every schema problem of a decoded snapshot: duplicate or empty ids,
// judgments that break the feedback rules (unknown item or response, bad rank
// order, score off the scale, …), reviews of missing flags, models and runs without
// names or with duplicate names, tensors whose data does not match their shape, and
// non-finite numbers. A sound snapshot gives nil. Problems are in a fixed order.
func Check(s *Snapshot) []Problem {
	var ps []Problem
	add := func(where, format string, args ...any) {
		ps = append(ps, Problem{Where: where, What: fmt.Sprintf(format, args...)})
	}
	itemIDs := map[string]bool{}
	for i, it := range s.Items {
		where := fmt.Sprintf("items[%d]", i)
		if it.ID == "" {
			add(where, "item without an id")
		} else if itemIDs[it.ID] {
			add(where, "duplicate item id %q", it.ID)
		}
		itemIDs[it.ID] = true
		respIDs := map[string]bool{}
		for k, r := range it.Responses {
			rw := fmt.Sprintf("%s.responses[%d]", where, k)
			if r.ID == "" {
				add(rw, "response without an id")
			} else if respIDs[r.ID] {
				add(rw, "duplicate response id %q in item %q", r.ID, it.ID)
			}
			respIDs[r.ID] = true
			if r.Gold != nil && !finite(*r.Gold) {
				add(rw, "gold utility is not a finite number")
			}
			if r.RefProb < 0 || r.RefProb > 1 || math.IsNaN(r.RefProb) {
				add(rw, "ref_prob %v is not a probability", r.RefProb)
			}
		}
		if it.GoldBest != "" && !respIDs[it.GoldBest] {
			add(where, "gold_best %q is not a response of the item", it.GoldBest)
		}
	}
	raterIDs := map[string]bool{}
	for i, r := range s.Raters {
		where := fmt.Sprintf("raters[%d]", i)
		if r.ID == "" {
			add(where, "rater without an id")
		} else if raterIDs[r.ID] {
			add(where, "duplicate rater id %q", r.ID)
		}
		raterIDs[r.ID] = true
	}
	// Judgments: unique ids, canonical order, and the feedback rules.
	ix := feedback.NewIndex(s.Items, s.Raters)
	log := &feedback.Log{}
	for i, j := range s.Judgments {
		if _, err := log.Append(j); err != nil {
			add(fmt.Sprintf("judgments[%d]", i), "%v", err)
		}
	}
	for _, err := range ix.ValidateLog(log) {
		add("judgments", "%v", err)
	}
	for i, g := range s.Guidelines {
		if g.Version < 1 {
			add(fmt.Sprintf("guidelines[%d]", i), "version %d must be ≥ 1", g.Version)
		}
	}
	names := map[string]bool{}
	for i, m := range s.Models {
		where := fmt.Sprintf("models[%d]", i)
		switch {
		case m.Name == "":
			add(where, "model without a name")
		case names[m.Name]:
			add(where, "duplicate model name %q", m.Name)
		}
		names[m.Name] = true
		if m.Family == "" {
			add(where, "model %q has no family", m.Name)
		}
		for _, k := range sortedKeys(m.Tensors) {
			t := m.Tensors[k]
			if t.Size() != len(t.Data) {
				add(where+".tensors."+k, "shape %v needs %d values, has %d", t.Shape, t.Size(), len(t.Data))
			}
			for _, v := range t.Data {
				if !finite(float64(v)) {
					add(where+".tensors."+k, "holds a NaN or infinite value")
					break
				}
			}
		}
		for _, k := range sortedKeys(m.Metrics) {
			if math.IsNaN(m.Metrics[k]) {
				add(where+".metrics."+k, "is NaN")
			}
		}
	}
	names = map[string]bool{}
	for i, r := range s.Runs {
		where := fmt.Sprintf("runs[%d]", i)
		switch {
		case r.Name == "":
			add(where, "run without a name")
		case names[r.Name]:
			add(where, "duplicate run name %q", r.Name)
		}
		names[r.Name] = true
	}
	if p := s.Provenance.Parent; p != "" && !validID(p) {
		add("provenance.parent", "%q is not a snapshot id (sha256-<64 hex digits>)", p)
	}
	return ps
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// validID reports whether id has the form "sha256-" followed by 64 lower-case hex
// digits.
func validID(id string) bool {
	h, ok := strings.CutPrefix(id, "sha256-")
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidID reports whether id is a well-formed snapshot id.
func ValidID(id string) bool { return validID(id) }
