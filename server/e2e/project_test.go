package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// project is the server's answer to creating a project (the fields the tests use).
type project struct {
	ID        string `json:"id"`
	LeadToken string `json:"lead_token"`
	LeadURL   string `json:"lead_url"`
	Raters    []struct {
		ID       string `json:"id"`
		URL      string `json:"url"`
		Assigned int    `json:"assigned"`
	} `json:"raters"`
}

// createProject uploads the demo snapshot and makes a project of it with n raters.
func createProject(t *testing.T, s *server, name string, n, overlap int, gold float64) project {
	t.Helper()
	demo, err := os.ReadFile(filepath.Join(repoRoot(t), "static", "web", "demo.snap"))
	if err != nil {
		t.Fatalf("read the demo snapshot: %v", err)
	}
	var snap struct {
		ID string `json:"id"`
	}
	if code := s.api("POST", "/api/v1/snapshots", "", "application/msgpack", demo, &snap); code != 201 && code != 200 {
		t.Fatalf("upload the demo snapshot: HTTP %d", code)
	}
	var p project
	body, _ := json.Marshal(map[string]any{"name": name, "snapshot": snap.ID, "rater_count": n, "overlap": overlap, "gold_rate": gold, "seed": 1})
	if code := s.api("POST", "/api/v1/projects", adminToken, "application/json", body, &p); code != 201 {
		t.Fatalf("create the project: HTTP %d", code)
	}
	if len(p.Raters) != n || p.LeadURL == "" {
		t.Fatalf("project %+v: want %d raters and a lead link", p, n)
	}
	return p
}

// local rewrites a link the server printed onto the test server's address.
func local(s *server, link string) string {
	if i := strings.Index(link, "/p/"); i >= 0 {
		return s.url(link[i:])
	}
	return link
}

// labelN labels n items of the label page by keyboard (1 left better, 2 right
// better, 3 tie, 4 both bad), each saved before the next.
func (b *browser) labelN(n int) {
	b.tb.Helper()
	for i := 0; i < n; i++ {
		before := b.progress()
		b.key([]string{"1", "2", "3", "4"}[i%4])
		b.wait("judgment "+strconv.Itoa(before+1)+" to be saved", fmt.Sprintf(`+document.querySelector("#progress-count").dataset.done === %d`, before+1), 20*time.Second)
	}
}

// serverEvents returns the ids of the events the server holds of a rater.
func serverEvents(t *testing.T, s *server, p project, rater string) []string {
	t.Helper()
	var page struct {
		Events []struct {
			ID    string `json:"id"`
			Rater string `json:"rater"`
		} `json:"events"`
	}
	if code := s.api("GET", "/api/v1/projects/"+p.ID+"/events?limit=5000", p.LeadToken, "", nil, &page); code != 200 {
		t.Fatalf("read the events: HTTP %d", code)
	}
	var ids []string
	for _, e := range page.Events {
		if e.Rater == rater {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// skewClock moves the page's wall clock (Date, which Go's wasm runtime reads for
// time.Now) by d; 0 restores it.
func (b *browser) skewClock(d time.Duration) {
	b.tb.Helper()
	eval[bool](b, fmt.Sprintf(`(() => {
		window.__getTime = window.__getTime || Date.prototype.getTime;
		window.__now = window.__now || Date.now;
		const skew = %d;
		Date.prototype.getTime = function () { return window.__getTime.call(this) + skew; };
		Date.now = () => window.__now.call(Date) + skew;
		return true;
	})()`, d.Milliseconds()))
}

// TestJ2RefusedJudgment forces the server to refuse one judgment of a batch: the
// rater labels three items offline, the second with the device's clock two days
// ahead (the server refuses events more than 24 h in the future, 400
// invalid_events naming that event). Back online, the client sets exactly that
// judgment aside — still counted in this browser and shown with the server's
// reason — and sends the other two, which the server then holds.
func TestJ2RefusedJudgment(t *testing.T) {
	s := startServer(t)
	p := createProject(t, s, "J2 clock", 1, 1, 0)
	b := newBrowser(t)
	b.nav(local(s, p.Raters[0].URL))
	b.ready()
	b.wait("the rater's queue", `document.querySelector("#label-prompt") && +document.querySelector("#progress-count").dataset.total > 3`, 60*time.Second)
	b.offline(true)
	b.wait("the offline badge", `document.querySelector("#net-badge.offline")`, 10*time.Second)
	b.labelN(1)
	b.skewClock(48 * time.Hour)
	b.labelN(1)
	b.skewClock(0)
	b.labelN(1)
	b.wait("3 judgments pending", `document.querySelector("#net-badge").dataset.pending === "3"`, 20*time.Second)
	b.offline(false)
	b.wait("the refused judgment set aside and the rest synced",
		`document.querySelector("#net-badge").dataset.pending === "0" && document.querySelector("#net-badge").dataset.held === "1"`, 60*time.Second)
	b.wait("the refused judgment shown", `document.querySelector("#sync-held[data-count='1']")`, 10*time.Second)
	if reason := b.text("#sync-held .held-error"); !strings.Contains(reason, "ahead of the server's clock") {
		b.fail("the refused judgment shows %q, want the server's reason", reason)
	}
	if badge := b.text("#net-badge"); !strings.Contains(badge, "1 refused") {
		b.fail("the badge says %q, want it to count the refused judgment", badge)
	}
	if got := b.progress(); got != 3 {
		b.fail("%d items done, want 3: a refused judgment still counts here", got)
	}
	b.shot("j2-refused")
	// Idle: every request the page sent has been answered and none is due, so a
	// retry of the refused judgment would have arrived.
	b.wait("the sync loop idle", `document.querySelector("#net-badge").dataset.idle === "true"`, 30*time.Second)
	if ids := serverEvents(t, s, p, p.Raters[0].ID); len(ids) != 2 {
		t.Fatalf("the server holds %d judgments of the rater (%v), want the 2 it accepted", len(ids), ids)
	}
	// After a reload the refused judgment is still there, and still not sent.
	b.reload()
	b.ready()
	b.wait("the refused judgment after reload", `document.querySelector("#sync-held[data-count='1']")`, 30*time.Second)
	if ids := serverEvents(t, s, p, p.Raters[0].ID); len(ids) != 2 {
		t.Fatalf("after reload the server holds %d judgments of the rater, want 2", len(ids))
	}
}

// TestJ2QuotaFull: the server's per-rater storage quota (--max-rater-events 2) is
// reached. The rater labels four items offline; back online the client stores the
// two that fit and keeps the other two queued — not set aside, not lost — with the
// server's reason on the Label page. After the lead restarts the server with a
// larger quota the two are sent and the notice goes.
func TestJ2QuotaFull(t *testing.T) {
	s := startServerWith(t, []string{"--max-rater-events", "2"}, nil)
	p := createProject(t, s, "J2 quota", 1, 1, 0)
	b := newBrowser(t)
	b.nav(local(s, p.Raters[0].URL))
	b.ready()
	b.wait("the rater's queue", `document.querySelector("#label-prompt") && +document.querySelector("#progress-count").dataset.total > 4`, 60*time.Second)
	b.offline(true)
	b.wait("the offline badge", `document.querySelector("#net-badge.offline")`, 10*time.Second)
	b.labelN(4)
	b.offline(false)
	b.wait("the quota notice with 2 judgments queued",
		`document.querySelector("#sync-full[data-pending='2']") && document.querySelector("#net-badge").dataset.held === "0"`, 60*time.Second)
	if notice := b.text("#sync-full"); !strings.Contains(notice, "storage quota") || !strings.Contains(notice, "raise the quota") ||
		!strings.Contains(notice, "stay in this browser") {
		b.fail("the quota notice says %q", notice)
	}
	if badge := b.text("#net-badge"); !strings.Contains(badge, "2 judgments not synced") || !strings.Contains(badge, "quota full") {
		b.fail("the badge says %q", badge)
	}
	if got := b.progress(); got != 4 {
		b.fail("%d items done, want 4: queued judgments count here", got)
	}
	b.shot("j2-quota-full")
	if ids := serverEvents(t, s, p, p.Raters[0].ID); len(ids) != 2 {
		t.Fatalf("the server holds %d judgments of the rater (%v), want the 2 within the quota", len(ids), ids)
	}
	// The lead's page marks the rater at the quota and says how to raise it.
	lead := newBrowser(t)
	lead.nav(local(s, p.LeadURL))
	lead.ready()
	lead.wait("the rater marked at the quota", fmt.Sprintf(`document.querySelector("#quota-%s")`, p.Raters[0].ID), 60*time.Second)
	if tag := lead.text("#quota-" + p.Raters[0].ID); !strings.Contains(tag, "100") {
		lead.fail("the quota tag says %q, want 100%% used", tag)
	}
	if note := lead.text("#lead-quota"); !strings.Contains(note, "2 judgments") || !strings.Contains(note, "--max-rater-events") {
		lead.fail("the quota note says %q", note)
	}
	lead.shot("lead-quota")
	// The lead raises the quota: restart with a larger one; coming back online
	// makes the client try at once.
	s.stop()
	s.args = []string{"--max-rater-events", "100"}
	s.start()
	b.offline(true)
	b.offline(false)
	b.wait("the queued judgments synced", `document.querySelector("#net-badge").dataset.pending === "0" && !document.querySelector("#sync-full")`, 90*time.Second)
	if ids := serverEvents(t, s, p, p.Raters[0].ID); len(ids) != 4 {
		t.Fatalf("after the quota was raised the server holds %d judgments, want 4", len(ids))
	}
}

// TestLeadPage: a project is created, a rater labels five items, the lead opens
// the lead link in another browser profile and sees each rater's progress, pulls
// the judgments into the working state (the Quality page then measures them), and
// after the network is cut the page still shows the last progress and the pulled
// judgments.
func TestLeadPage(t *testing.T) {
	s := startServer(t)
	p := createProject(t, s, "lead view", 2, 1, 0)
	if !strings.Contains(p.LeadURL, "/p/"+p.ID+"/lead#token="+p.LeadToken) {
		t.Fatalf("lead link %q", p.LeadURL)
	}
	r := newBrowser(t)
	r.nav(local(s, p.Raters[0].URL))
	r.ready()
	r.wait("the rater's queue", `document.querySelector("#label-prompt")`, 60*time.Second)
	r.labelN(5)
	r.wait("the judgments to reach the server", `document.querySelector("#net-badge").dataset.pending === "0"`, 60*time.Second)

	lead := newBrowser(t)
	lead.nav(local(s, p.LeadURL))
	lead.ready()
	r1 := fmt.Sprintf(`#lead-raters tr[data-rater=%q]`, p.Raters[0].ID)
	r2 := fmt.Sprintf(`#lead-raters tr[data-rater=%q]`, p.Raters[1].ID)
	has := func(sel string) string { return fmt.Sprintf("document.querySelector(%q)", sel) }
	lead.wait("the raters' progress", has(r1+`[data-done="5"]`), 60*time.Second)
	if got := eval[string](lead, `document.querySelector(`+strconv.Quote(r1)+`).dataset.assigned`); got != strconv.Itoa(p.Raters[0].Assigned) {
		lead.fail("rater 1 shows %s assigned, want %d", got, p.Raters[0].Assigned)
	}
	if got := eval[string](lead, `document.querySelector(`+strconv.Quote(r2)+`).dataset.done`); got != "0" {
		lead.fail("rater 2 shows %s done, want 0", got)
	}
	lead.click("#lead-pull")
	lead.wait("the pull", `(document.querySelector("#lead-pull-msg") || {}).innerText?.startsWith("Pulled")`, 60*time.Second)
	lead.wait("the pulled count", `document.querySelector("#lead-pulled[data-events='5']")`, 10*time.Second)
	if got := int(lead.stats()["judgments"]); got != 5 {
		lead.fail("the working state holds %d judgments after the pull, want 5", got)
	}
	lead.shot("lead-page")
	lead.theme("dark")
	lead.viewport(768, 1024)
	lead.shot("lead-page-dark-tablet")
	lead.theme("light")
	lead.viewport(1280, 720)
	lead.nav(s.url("/quality"))
	lead.ready()
	lead.wait("the quality report of the pulled judgments", `document.querySelector("#quality-report")`, 2*time.Minute)

	// The rater labels two more; a second pull adds just those.
	r.labelN(2)
	r.wait("the new judgments to reach the server", `document.querySelector("#net-badge").dataset.pending === "0"`, 60*time.Second)
	lead.nav(local(s, p.LeadURL))
	lead.ready()
	lead.wait("the refreshed progress", has(r1+`[data-done="7"]`), 60*time.Second)
	lead.click("#lead-pull")
	lead.wait("the second pull", `document.querySelector("#lead-pulled[data-events='7']")`, 60*time.Second)
	if msg := lead.text("#lead-pull-msg"); !strings.HasPrefix(msg, "Pulled 2 new") {
		lead.fail("second pull says %q, want 2 new", msg)
	}

	// Offline: the last progress and the pulled judgments are still there.
	s.stop()
	lead.offline(true)
	lead.reload()
	lead.ready()
	lead.wait("the stored progress offline", has(r1+`[data-done="7"]`), 30*time.Second)
	lead.wait("the offline note", `(document.querySelector("#lead-msg") || {}).innerText?.startsWith("Offline")`, 30*time.Second)
	if got := int(lead.stats()["judgments"]); got != 7 {
		lead.fail("offline the working state holds %d judgments, want 7", got)
	}
	lead.shot("lead-page-offline")
}
