package snapshot

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"prefer/core/feedback"
)

// Problem is one way in which a decoded snapshot is not sound.
type Problem struct {
	Where string `json:"where"` // e.g. "items[3].responses[1]" or "judgments[id=e17]"
	What  string `json:"what"`
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// MaxProblems is how many problems Check lists; it counts the others and says how
// many were left out, so that checking a snapshot with millions of bad records costs
// memory for what is shown, not one message per record.
const MaxProblems = 100

// Check reports the schema problems of a decoded snapshot: duplicate or empty ids,
// judgments that break the feedback rules (unknown item or response, bad rank
// order, score off the scale, …), reviews of missing flags, models and runs without
// names or with duplicate names, tensors whose data does not match their shape, and
// non-finite numbers. A sound snapshot gives nil. Problems are in a fixed order. At
// most MaxProblems are listed; when there are more, a last one (Where "snapshot")
// says how many were left out.
func Check(s *Snapshot) []Problem {
	ps, total := CheckCount(s)
	if total > len(ps) {
		ps = append(ps, Problem{Where: "snapshot", What: fmt.Sprintf("%d more problems not listed (%d in all; the first %d are shown)", total-len(ps), total, len(ps))})
	}
	return ps
}

// CheckCount is Check that returns the first MaxProblems problems and the total
// count, without a summary entry.
func CheckCount(s *Snapshot) (ps []Problem, total int) {
	add := func(where func() string, format string, args ...any) {
		total++
		if len(ps) < MaxProblems {
			ps = append(ps, Problem{Where: where(), What: fmt.Sprintf(format, args...)})
		}
	}
	at := func(format string, args ...any) func() string {
		return func() string { return fmt.Sprintf(format, args...) }
	}
	// unique reports an empty or repeated key (id or name) of a record.
	// missing and repeated are the messages ("item without an id", "duplicate item
	// id %q").
	unique := func(seen map[string]bool, where func() string, id, missing, repeated string) {
		switch {
		case id == "":
			add(where, "%s", missing)
		case seen[id]:
			add(where, repeated, id)
		}
		seen[id] = true
	}
	itemIDs := make(map[string]bool, len(s.Items))
	for i, it := range s.Items {
		unique(itemIDs, at("items[%d]", i), it.ID, "item without an id", "duplicate item id %q")
		// Items have a few responses, compared in place; a set for larger ones keeps
		// this linear.
		var respIDs map[string]int
		if len(it.Responses) > 16 {
			respIDs = make(map[string]int, len(it.Responses))
			for k := len(it.Responses) - 1; k >= 0; k-- {
				respIDs[it.Responses[k].ID] = k
			}
		}
		index := func(id string) int {
			if respIDs == nil {
				return it.ResponseIndex(id)
			}
			if k, ok := respIDs[id]; ok {
				return k
			}
			return -1
		}
		for k, r := range it.Responses {
			if r.ID == "" {
				add(at("items[%d].responses[%d]", i, k), "response without an id")
			} else if index(r.ID) != k {
				add(at("items[%d].responses[%d]", i, k), "duplicate response id %q in item %q", r.ID, it.ID)
			}
			if r.Gold != nil && !finite(*r.Gold) {
				add(at("items[%d].responses[%d]", i, k), "gold utility is not a finite number")
			}
			if r.RefProb < 0 || r.RefProb > 1 || math.IsNaN(r.RefProb) {
				add(at("items[%d].responses[%d]", i, k), "ref_prob %v is not a probability", r.RefProb)
			}
		}
		if it.GoldBest != "" && index(it.GoldBest) < 0 {
			add(at("items[%d]", i), "gold_best %q is not a response of the item", it.GoldBest)
		}
	}
	raterIDs := make(map[string]bool, len(s.Raters))
	for i, r := range s.Raters {
		unique(raterIDs, at("raters[%d]", i), r.ID, "rater without an id", "duplicate rater id %q")
	}
	// Judgments: unique ids, canonical order, and the feedback rules.
	ix := feedback.NewIndex(s.Items, s.Raters)
	log := &feedback.Log{}
	log.Grow(len(s.Judgments))
	for i, j := range s.Judgments {
		if _, err := log.Append(j); err != nil {
			add(at("judgments[%d]", i), "%v", err)
		}
	}
	judgments := func() string { return "judgments" }
	for _, err := range ix.ValidateLog(log) {
		add(judgments, "%v", err)
	}
	for i, g := range s.Guidelines {
		if g.Version < 1 {
			add(at("guidelines[%d]", i), "version %d must be ≥ 1", g.Version)
		}
	}
	names := map[string]bool{}
	for i, m := range s.Models {
		where := at("models[%d]", i)
		unique(names, where, m.Name, "model without a name", "duplicate model name %q")
		if m.Family == "" {
			add(where, "model %q has no family", m.Name)
		}
		for _, k := range slices.Sorted(maps.Keys(m.Tensors)) {
			t := m.Tensors[k]
			if t.Size() != len(t.Data) {
				add(at("models[%d].tensors.%s", i, k), "shape %v needs %d values, has %d", t.Shape, t.Size(), len(t.Data))
			}
			for _, v := range t.Data {
				if !finite(float64(v)) {
					add(at("models[%d].tensors.%s", i, k), "holds a NaN or infinite value")
					break
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(m.Metrics)) {
			if math.IsNaN(m.Metrics[k]) {
				add(at("models[%d].metrics.%s", i, k), "is NaN")
			}
		}
	}
	names = map[string]bool{}
	for i, r := range s.Runs {
		unique(names, at("runs[%d]", i), r.Name, "run without a name", "duplicate run name %q")
	}
	if p := s.Provenance.Parent; p != "" && !validID(p) {
		add(at("provenance.parent"), "%q is not a snapshot id (sha256-<64 hex digits>)", p)
	}
	return ps, total
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
