package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// allEvents returns every event of a project as the lead reads them.
func allEvents(t *testing.T, s *server, p project) []feedback.Judgment {
	t.Helper()
	var page struct {
		Events []struct {
			ID       string `json:"id"`
			Kind     string `json:"kind"`
			Item     string `json:"item"`
			Rater    string `json:"rater"`
			Time     int64  `json:"time"`
			A        string `json:"a"`
			B        string `json:"b"`
			Choice   string `json:"choice"`
			Left     string `json:"left"`
			Target   string `json:"target"`
			Verdict  string `json:"verdict"`
			Revises  string `json:"revises"`
			Strength int    `json:"strength"`
		} `json:"events"`
	}
	if code := s.api("GET", "/api/v1/projects/"+p.ID+"/events?limit=5000", p.LeadToken, "", nil, &page); code != 200 {
		t.Fatalf("read the events: HTTP %d", code)
	}
	var out []feedback.Judgment
	for _, e := range page.Events {
		out = append(out, feedback.Judgment{ID: e.ID, Kind: feedback.Kind(e.Kind), Item: e.Item, Rater: e.Rater, Time: e.Time,
			A: e.A, B: e.B, Choice: feedback.Choice(e.Choice), Left: e.Left, Target: e.Target, Verdict: e.Verdict, Revises: e.Revises, Strength: e.Strength})
	}
	return out
}

// TestJ5LeadCorrectsRater is journey J5: a rater labels six items, takes the last
// one back after it synced and labels it again (a revision), and the lead edits
// another from the lead's page. The server holds every event once; the pulled
// state, the pairs and the next reward model use the latest versions (six
// standing judgments, six pairs, the revision and the edit in them); the history is
// kept (the withdrawn original, the withdrawal, the revision; the edited judgment
// beside the lead's review).
func TestJ5LeadCorrectsRater(t *testing.T) {
	s := startServer(t)
	p := createProject(t, s, "J5", 1, 1, 0)
	rater := p.Raters[0].ID
	r := newBrowser(t)
	r.nav(local(s, p.Raters[0].URL))
	r.ready()
	r.wait("the rater's queue", `document.querySelector("#label-prompt") && +document.querySelector("#progress-count").dataset.total >= 6`, 60*time.Second)
	for i := 0; i < 6; i++ {
		before := r.progress()
		r.key("1") // left better: six decided comparisons
		r.wait(fmt.Sprintf("judgment %d", before+1), fmt.Sprintf(`+document.querySelector("#progress-count").dataset.done === %d`, before+1), 20*time.Second)
	}
	r.wait("the six to sync", `document.querySelector("#net-badge").dataset.pending === "0"`, 60*time.Second)
	synced := allEvents(t, s, p)
	if len(synced) != 6 {
		t.Fatalf("the server holds %d events after labeling, want 6", len(synced))
	}
	// Undo after sync: the judgment is withdrawn and its item comes back; labeling
	// it again revises it.
	r.key("z")
	r.wait("the item back in the queue", `+document.querySelector("#progress-count").dataset.done === 5`, 20*time.Second)
	r.key("2")
	r.wait("the revision", `+document.querySelector("#progress-count").dataset.done === 6`, 20*time.Second)
	r.wait("the revision to sync", `document.querySelector("#net-badge").dataset.pending === "0"`, 60*time.Second)
	r.shot("j5-rater-revised")

	lead := newBrowser(t)
	lead.nav(local(s, p.LeadURL))
	lead.ready()
	lead.click("#lead-pull")
	lead.wait("the pull", `document.querySelector("#lead-pulled[data-events='8']")`, 60*time.Second)
	// Open an item the rater did not revise and correct its judgment.
	lead.wait("the review panel", `document.querySelector("#lead-records-list .vrow.clickable")`, 30*time.Second)
	lead.setValue("#lead-records-rater", rater, "change")
	lead.wait("the rater's items", `+document.querySelector("#lead-records-count").dataset.count === 6`, 10*time.Second)
	eval[bool](lead, `(() => {
		for (const row of document.querySelectorAll("#lead-records-list .vrow.clickable")) {
			if (!row.innerText.includes("revised")) { row.click(); return true; }
		}
		return false;
	})()`)
	lead.wait("the item's judgment", `document.querySelector("#lead-records-detail button[aria-label^='Edit judgment']")`, 10*time.Second)
	edited := eval[string](lead, `document.querySelector("#lead-records-detail button[aria-label^='Edit judgment']").closest("tr").dataset.id`)
	lead.click("#lead-records-detail button[aria-label^='Edit judgment']")
	lead.wait("the edit form", `document.querySelector("#lead-records-edit-choice")`, 10*time.Second)
	old := eval[string](lead, `document.querySelector("#lead-records-edit-choice").value`)
	flip := map[string]string{"a": "b", "b": "a"}[old]
	lead.setValue("#lead-records-edit-choice", flip, "change")
	lead.click("#lead-records-edit-save")
	lead.wait("the review to reach the server", `document.querySelector("#lead-review[data-reviewed='1']")`, 30*time.Second)
	lead.shot("j5-lead-edited")
	lead.click("#lead-pull") // nothing new but the review, which the state holds already
	lead.wait("the second pull", `(document.querySelector("#lead-pull-msg") || {}).innerText?.startsWith("Pulled 0 new")`, 60*time.Second)

	// The server: every event once, the history kept.
	evs := allEvents(t, s, p)
	ids := map[string]bool{}
	for _, e := range evs {
		if ids[e.ID] {
			t.Errorf("event %s is stored twice", e.ID)
		}
		ids[e.ID] = true
	}
	if len(evs) != 9 {
		t.Fatalf("the server holds %d events, want 9 (6 judgments, a withdrawal, a revision, the lead's edit)", len(evs))
	}
	res := feedback.Resolve(evs)
	cur := res.Current()
	var revision feedback.Judgment
	for _, j := range cur {
		if j.Revises != "" {
			revision = j
		}
	}
	if len(cur) != 6 || revision.ID == "" {
		t.Fatalf("%d standing judgments (want 6), revision %+v", len(cur), revision)
	}
	if h := res.History(revision.Revises); len(h) != 3 || h[0].State != feedback.StateWithdrawn || h[2].State != feedback.StateStanding {
		t.Errorf("history of the revised judgment: %+v", h)
	}
	if st, _ := res.State(edited); st != feedback.StateEdited {
		t.Errorf("the edited judgment %s is %s, want edited", edited, st)
	}
	ed, _ := res.Standing(edited)
	if string(ed.Choice) != flip {
		t.Errorf("the edited judgment's choice is %s, want %s", ed.Choice, flip)
	}
	// The pairs: six, with the revised and the edited versions in them.
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "static", "web", "demo.snap"))
	if err != nil {
		t.Fatal(err)
	}
	demoSnap, err := snapshot.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	pairs := feedback.Pairs(demoSnap.Items, evs, feedback.PairOptions{})
	if len(pairs) != 6 {
		t.Errorf("%d pairs, want 6", len(pairs))
	}
	for _, pr := range pairs {
		switch pr.Source {
		case edited:
			if pr.Winner != ed.Winner() {
				t.Errorf("the edited pair's winner is %s, want %s", pr.Winner, ed.Winner())
			}
		case revision.Revises:
			t.Errorf("the withdrawn judgment %s still gives a pair", pr.Source)
		}
	}
	// The lead's working state and the next reward model.
	st := lead.stats()
	if st["judgments"] != 9 || st["standing"] != 6 || st["pairs"] != 6 {
		lead.fail("the pulled state: %v judgments, %v standing, %v pairs; want 9, 6, 6", st["judgments"], st["standing"], st["pairs"])
	}
	lead.nav(s.url("/reward"))
	lead.ready()
	lead.click("#rm-train")
	lead.wait("the reward model", `document.querySelector("#rm-results")`, 3*time.Minute)
	if st := lead.stats(); st["rm.elements"] != 6 {
		lead.fail("the reward model's data holds %v elements (training, early stopping and held out), want the 6 standing pairs", st["rm.elements"])
	}
	// The record browser shows the history.
	lead.nav(s.url("/data"))
	lead.ready()
	lead.wait("the records", `document.querySelector("#records-revised")`, 30*time.Second)
	eval[bool](lead, `(document.querySelector("#records-revised").click(), true)`)
	lead.wait("the revised items", `+document.querySelector("#records-count").dataset.count === 2`, 10*time.Second)
	lead.shot("j5-lead-records")
	// Exactly once: the rater's device sends nothing more.
	r.wait("the rater's sync loop idle", `document.querySelector("#net-badge").dataset.idle === "true"`, 30*time.Second)
	if n := len(serverEvents(t, s, p, rater)); n != 8 {
		t.Errorf("the server holds %d events of the rater, want 8", n)
	}
}
