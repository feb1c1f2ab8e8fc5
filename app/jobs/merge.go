package jobs

import (
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// Merge applies delta to s: items, raters and guidelines of delta are added, or
// replace those with the same id (version); judgments are a set union (feedback.Log
// semantics); models and runs replace those with the same name; a non-empty
// provenance replaces s's. The UI and the worker both use it, so the state the UI
// shows is the state the worker stored.
func Merge(s, delta *snapshot.Snapshot) {
	if len(delta.Items) > 0 {
		at := make(map[string]int, len(s.Items))
		for i := range s.Items {
			at[s.Items[i].ID] = i
		}
		for _, it := range delta.Items {
			if i, ok := at[it.ID]; ok {
				s.Items[i] = it
				continue
			}
			at[it.ID] = len(s.Items)
			s.Items = append(s.Items, it)
		}
	}
	for _, r := range delta.Raters {
		putRater(s, r)
	}
	for _, g := range delta.Guidelines {
		putGuideline(s, g)
	}
	if len(delta.Judgments) > 0 {
		log := s.Log()
		for _, j := range delta.Judgments {
			log.Append(j) // a conflicting id keeps the canonical winner
		}
		s.SetLog(log)
	}
	for _, m := range delta.Models {
		s.PutModel(m)
	}
	for _, r := range delta.Runs {
		s.PutRun(r)
	}
	if delta.Provenance != (snapshot.Provenance{}) {
		s.Provenance = delta.Provenance
	}
}

func putRater(s *snapshot.Snapshot, r feedback.Rater) {
	for i := range s.Raters {
		if s.Raters[i].ID == r.ID {
			s.Raters[i] = r
			return
		}
	}
	s.Raters = append(s.Raters, r)
}

func putGuideline(s *snapshot.Snapshot, g feedback.Guideline) {
	for i := range s.Guidelines {
		if s.Guidelines[i].Version == g.Version {
			s.Guidelines[i] = g
			return
		}
	}
	s.Guidelines = append(s.Guidelines, g)
}
