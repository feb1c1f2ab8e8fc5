package api

import (
	"encoding/json"
	"testing"

	"prefer/core/feedback"
	"prefer/core/wire"
	"prefer/server/store"
	"prefer/server/store/teststore"
)

// TestRevisionAuthorization: a rater revises and withdraws only their own judgments;
// accept, reject and edit are the lead's, on any judgment; the judgment named must
// exist; re-sending a revision is a duplicate (sync stays exactly once).
func TestRevisionAuthorization(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		p := e.project(wire.NewProject{RaterCount: 2, Overlap: 2, Seed: 1})
		r1, r2 := p.Raters[0], p.Raters[1]
		path := "/api/v1/projects/" + p.ID + "/events"
		send := func(token string, status int, js ...feedback.Judgment) wire.Error {
			t.Helper()
			return wantStatus(t, e.do("POST", path, token, wire.ContentTypeMsgpack, msgpackBatch(t, js...)), status)
		}
		c1 := compare("c1", r1.ID, "q1", feedback.ChoiceA)
		send(r1.Token, 200, c1)
		rev := c1
		rev.ID, rev.Time, rev.Revises, rev.Choice = "c1b", c1.Time+1, "c1", feedback.ChoiceB
		theirs := rev
		theirs.ID, theirs.Rater = "c1x", r2.ID
		withdraw := feedback.Judgment{ID: "w1", Kind: feedback.KindReview, Item: "q1", Time: c1.Time + 2, Target: "c1", Verdict: feedback.VerdictWithdraw}
		reject := withdraw
		reject.ID, reject.Verdict = "v1", feedback.VerdictReject
		edit := feedback.Judgment{ID: "v2", Kind: feedback.KindReview, Item: "q1", Time: c1.Time + 3, Target: "c1b", Verdict: feedback.VerdictEdit, Choice: feedback.ChoiceTie}
		badEdit := edit
		badEdit.ID, badEdit.Choice = "v3", "c"
		ghost := rev
		ghost.ID, ghost.Revises = "c1g", "nope"

		send(r2.Token, 403, theirs) // another rater's judgment
		w2 := withdraw
		w2.Rater = r2.ID
		send(r2.Token, 403, w2)         // withdrawing another's
		send(r1.Token, 403, reject)     // a rater does not reject
		send(r1.Token, 403, ghost)      // revises nothing of theirs
		send(p.LeadToken, 400, badEdit) // an edit of a comparison needs a choice
		if got := send(p.LeadToken, 400, feedback.Judgment{ID: "v4", Kind: feedback.KindReview, Target: "nope", Verdict: "accept"}); len(got.Events) != 1 {
			t.Errorf("a review of an unknown id: %+v", got)
		}
		send(r1.Token, 200, rev)
		send(p.LeadToken, 200, edit)
		var acc wire.EventsAccepted
		a := e.do("POST", path, r1.Token, wire.ContentTypeMsgpack, msgpackBatch(t, rev))
		wantStatus(t, a, 200)
		if err := json.Unmarshal(a.body, &acc); err != nil {
			t.Fatal(err)
		}
		if acc.Accepted != 0 || acc.Duplicates != 1 {
			t.Errorf("re-sending a revision: %+v, want one duplicate", acc)
		}
		// A revision and what it revises in one batch.
		c2 := compare("c2", r1.ID, "q2", feedback.ChoiceA)
		c2b := c2
		c2b.ID, c2b.Time, c2b.Revises = "c2b", c2.Time+1, "c2"
		send(r1.Token, 200, c2, c2b)

		// The lead's pull holds every event; what stands is the edited revision.
		all, _, err := e.client(p.LeadToken).AllEvents(t.Context(), p.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 {
			t.Fatalf("the server holds %d events, want 5 (c1, c1b, v2, c2, c2b)", len(all))
		}
		cur := feedback.Current(all)
		if len(cur) != 2 || cur[0].ID != "c1b" || cur[0].Choice != feedback.ChoiceTie || cur[1].ID != "c2b" {
			t.Fatalf("standing %+v, want c1b (edited to a tie) and c2b", cur)
		}
		// Withdrawing c2b gives c2 back; withdrawing c2 then leaves q2 undone.
		w := withdraw
		w.ID, w.Target, w.Item = "w2", "c2b", "q2"
		send(r1.Token, 200, w)
		w.ID, w.Target, w.Time = "w3", "c2", w.Time+1
		send(r1.Token, 200, w)
		tasks, err := e.client(r1.Token).Tasks(t.Context(), p.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range tasks.Done {
			if id == "q2" {
				t.Errorf("q2 is done after both its versions were withdrawn")
			}
		}
	})
}

// TestProgressGoldOrder: the lead's gold accuracy counts each comparison against
// the gold order of the two responses shown (agree.GoldScore), not against the
// item's single best answer: a perfect rater scores 100% whichever pair they saw.
func TestProgressGoldOrder(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		p := e.project(wire.NewProject{RaterCount: 1, Overlap: 1, GoldRate: 0.5, Seed: 3})
		r1 := p.Raters[0]
		tasks, err := e.client(r1.Token).Tasks(t.Context(), p.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		var js []feedback.Judgment
		for _, it := range tasks.Items {
			if it.ID != "q7" && it.ID != "q8" {
				continue
			}
			// b (gold 2) over c (gold 1): right, though neither is the best answer.
			j := compare("g-"+it.ID, r1.ID, it.ID, feedback.ChoiceA)
			j.A, j.B = "b", "c"
			js = append(js, j)
		}
		if len(js) == 0 {
			t.Fatal("the queue holds no gold item; change the seed")
		}
		if _, err := e.client(r1.Token).SendEvents(t.Context(), p.ID, js); err != nil {
			t.Fatal(err)
		}
		pr, err := e.client(p.LeadToken).Progress(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := pr.Raters[0]; got.GoldDone != len(js) || got.GoldCorrect != len(js) {
			t.Fatalf("gold %d of %d, want %d of %d", got.GoldCorrect, got.GoldDone, len(js), len(js))
		}
	})
}
