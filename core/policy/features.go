package policy

import (
	"sort"
	"strings"

	"prefer/core/feedback"
)

// Feature is a measurable property of a response that reward hacking tends to
// inflate (see feedback.Feature). A domain passes its own through Env.Features
// (the demo domain: demo.HackingFeatures); package policy knows no domain.
type Feature = feedback.Feature

// LengthFeature is the number of whitespace-separated words of a response.
var LengthFeature = Feature{Name: "length", Of: func(_ *feedback.Item, r *feedback.Response) float64 {
	return float64(len(strings.Fields(r.Text)))
}}

// PartFeature counts the occurrences of a composition tag in a response's Parts
// (the demo domain tags its responses "polite", "filler", "refusal", "wrong", …); its
// mean under a policy is the rate or count of that part.
func PartFeature(part string) Feature {
	return Feature{Name: part, Of: func(_ *feedback.Item, r *feedback.Response) float64 {
		n := 0
		for _, p := range r.Parts {
			if p == part {
				n++
			}
		}
		return float64(n)
	}}
}

// DefaultFeatures returns the features of a run whose Env gives none: length and
// one PartFeature for every distinct part tag of the items' responses, in sorted
// order (on data without parts, just length).
func DefaultFeatures(items []feedback.Item) []Feature {
	seen := map[string]bool{}
	var parts []string
	for _, it := range items {
		for _, r := range it.Responses {
			for _, p := range r.Parts {
				if !seen[p] {
					seen[p] = true
					parts = append(parts, p)
				}
			}
		}
	}
	sort.Strings(parts)
	fs := []Feature{LengthFeature}
	for _, p := range parts {
		fs = append(fs, PartFeature(p))
	}
	return fs
}

// featureTable holds every feature's value for every candidate: V[f][Off[p]+k].
type featureTable struct {
	fs  []Feature
	off []int
	v   [][]float64
}

func newFeatureTable(items []feedback.Item, fs []Feature) featureTable {
	if fs == nil {
		fs = DefaultFeatures(items)
	}
	t := featureTable{fs: fs, off: make([]int, len(items)+1), v: make([][]float64, len(fs))}
	for p := range items {
		t.off[p+1] = t.off[p] + len(items[p].Responses)
	}
	for f := range fs {
		t.v[f] = make([]float64, t.off[len(items)])
		for p := range items {
			for k := range items[p].Responses {
				t.v[f][t.off[p]+k] = fs[f].Of(&items[p], &items[p].Responses[k])
			}
		}
	}
	return t
}

// of returns feature f of sample s.
func (t featureTable) of(f int, items []feedback.Item, s *Sample) float64 {
	if s.Cand >= 0 {
		return t.v[f][t.off[s.Prompt]+s.Cand]
	}
	return t.fs[f].Of(&items[s.Prompt], &feedback.Response{Text: s.Text})
}
