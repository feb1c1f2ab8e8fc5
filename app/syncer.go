package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

// projectLink is project mode: the rater labels a server project's queue, and the
// judgments go to the server through the outbox.
type projectLink struct {
	Server  string `json:"server,omitempty"` // origin of the server; "" means this page's origin
	Project string `json:"project"`
	Token   string `json:"token"`
	Rater   string `json:"rater,omitempty"` // filled from the tasks answer
	Name    string `json:"name,omitempty"`  // the project's name
}

// url returns the address of an API path (which starts with /api/): on the link's
// server, or under this site's path prefix.
func (p projectLink) url(path string) string {
	if p.Server != "" {
		return p.Server + path
	}
	return appPath(path)
}

// project returns the project link in force, if any.
func (w *workbench) project() (projectLink, bool) {
	raw := w.Meta(metaProject)
	if raw == "" {
		return projectLink{}, false
	}
	var p projectLink
	if json.Unmarshal([]byte(raw), &p) != nil || p.Project == "" {
		return projectLink{}, false
	}
	return p, true
}

// storeHeld keeps the judgments the server refused (quarantine): judgment id → JSON
// of heldEvent. They stay in the working state and on the rater's screen with the
// server's reason; they are never sent again unless the rater asks.
const storeHeld = "held"

// heldEvent is a judgment the server refused, with why.
type heldEvent struct {
	ID     string `json:"id"`
	Item   string `json:"item,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Time   int64  `json:"time,omitempty"`   // the judgment's time (unix ms)
	Status int    `json:"status"`           // the HTTP status of the refusal
	Error  string `json:"error"`            // the server's message for this event
	Held   int64  `json:"held"`             // when it was set aside (unix ms)
	Record []byte `json:"record,omitempty"` // the outbox record (encoded snapshot), to send again
}

// syncClient sends the outbox (judgments not yet accepted by the server) in
// batches, oldest first, and deletes what the server accepted. What it does with
// each answer is decided by decideSync: a network error or 5xx backs off
// exponentially (1 s doubling to 60 s; going online or a new judgment retries at
// once); a 400/409 that names events sets those aside (store "held") and resends
// the rest; 413 halves the batch; 401/403 stops until the rater opens a new link.
// The server stores events idempotently by id, so resending after a lost answer
// stores nothing twice.
type syncClient struct {
	mu      sync.Mutex
	started bool
	known   bool   // the outbox has been counted since the page loaded
	pending int    // judgments in the outbox
	project bool   // project mode
	err     string // the last failure, for the badge's tooltip
	stopped string // why syncing stopped (401/403): the rater needs a new link
	full    string // the server's quota refusal while it lasts (cleared by a 2xx)
	held    []heldEvent
	limit   int  // judgments per request (halved on 413, doubled back on success)
	idle    bool // waiting with nothing it could send: no request in flight, none due
	// retryAfter is the server's Retry-After of the last failed request (429, 503:
	// busy), the least the loop waits before the next one; 0 when it sent none.
	retryAfter time.Duration
	wakeCh     chan struct{}
}

var syncer = &syncClient{wakeCh: make(chan struct{}, 1), limit: batchSize}

// batchSize is the most judgments one request carries.
const batchSize = 200

// syncStatus is what the badge and the label page show about syncing.
type syncStatus struct {
	Known   bool   // Pending is counted (false until the outbox is read after a load)
	Pending int    // judgments waiting for the server
	Project bool   // project mode
	Err     string // the last failure
	Stopped string // syncing stopped: the link was refused
	// Full: the server refused the judgments for the rater's storage quota; they
	// stay in the outbox and are sent again with the backoff (up to once a
	// minute) until the lead raises the quota.
	Full string
	Held []heldEvent
	// Idle: the loop waits with nothing it could send — every request it made
	// has been answered, and none is due until a new judgment, a held retry or
	// going online. (Tests wait on it to conclude nothing else will arrive.)
	Idle bool
}

// status returns the badge's figures.
func (s *syncClient) status() syncStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return syncStatus{Known: s.known, Pending: s.pending, Project: s.project, Err: s.err, Stopped: s.stopped,
		Full: s.full, Held: append([]heldEvent(nil), s.held...), Idle: s.idle}
}

// wake makes the loop try now.
func (s *syncClient) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// resume clears a stop (a new link was opened) and tries at once.
func (s *syncClient) resume() {
	s.mu.Lock()
	s.stopped = ""
	s.mu.Unlock()
	s.wake()
}

func (s *syncClient) start() {
	s.mu.Lock()
	if s.started || browser == nil {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	go s.loop()
}

func (s *syncClient) loop() {
	// Count the outbox as soon as the database is open, so the badge shows the
	// right number right after a reload (it shows "…" until then).
	waitReady()
	backoff := time.Second
	for {
		again, err := s.once()
		s.setIdle(err == nil && !again)
		s.mu.Lock()
		retryAfter := s.retryAfter
		s.mu.Unlock()
		var wait time.Duration
		wait, backoff = syncWait(err != nil, again, backoff, retryAfter)
		if wait > 0 {
			select {
			case <-s.wakeCh:
			case <-time.After(wait):
			}
		}
	}
}

// syncWait returns how long the loop waits after a request and the backoff after
// it: after a failure the backoff (1 s, doubling to at most a minute) or the
// server's Retry-After when longer; right away when more is due; else 10 s (the
// poll, cut short by a new judgment).
func syncWait(failed, again bool, backoff, retryAfter time.Duration) (wait, next time.Duration) {
	switch {
	case failed:
		return max(backoff, retryAfter), min(2*backoff, time.Minute)
	case again:
		return 0, time.Second
	default:
		return 10 * time.Second, time.Second
	}
}

// outboxEntry is one judgment of the outbox and the key of its record.
type outboxEntry struct {
	key string
	j   feedback.Judgment
	rec []byte
}

// once sends one batch if there is one and applies the server's answer. again
// reports that the loop should go on at once (a batch was accepted, or events were
// set aside, or the batch was split).
func (s *syncClient) once() (again bool, err error) {
	wb.mu.Lock()
	db, ready := wb.db, wb.ready
	wb.mu.Unlock()
	if !ready || db == nil {
		return false, nil
	}
	p, isProject := wb.project()
	n, err := db.Count(storeOutbox)
	if err != nil {
		return false, s.fail(err)
	}
	held, err := readHeld(db)
	if err != nil {
		return false, s.fail(err)
	}
	s.mu.Lock()
	s.held = held
	stopped := s.stopped
	limit := s.limit
	s.mu.Unlock()
	s.set(n, isProject, "")
	if !isProject || n == 0 || !online || stopped != "" {
		return false, nil
	}
	recs, err := db.All(storeOutbox)
	if err != nil {
		return false, s.fail(err)
	}
	var entries []outboxEntry
	var ops []Op
	for _, r := range recs {
		d, err := snapshot.Unmarshal(r.Value)
		if err != nil || len(d.Judgments) == 0 {
			// A damaged record is set aside, never dropped: the rater sees it.
			ops = append(ops, holdOps(r.Key, r.Value, feedback.Judgment{ID: r.Key}, 0,
				"this judgment's record in the browser is damaged and cannot be sent")...)
			continue
		}
		for _, j := range d.Judgments {
			entries = append(entries, outboxEntry{key: r.Key, j: j, rec: r.Value})
		}
	}
	if len(ops) > 0 {
		if err := db.Apply(ops...); err != nil {
			return false, s.fail(err)
		}
		wb.notify()
		return true, nil
	}
	// Oldest first: the client's time, then the id (the outbox is keyed by id).
	sort.SliceStable(entries, func(a, b int) bool {
		if entries[a].j.Time != entries[b].j.Time {
			return entries[a].j.Time < entries[b].j.Time
		}
		return entries[a].key < entries[b].key
	})
	if len(entries) > limit {
		entries = entries[:limit]
	}
	js := make([]feedback.Judgment, len(entries))
	ids := make([]string, len(entries))
	for i, e := range entries {
		js[i], ids[i] = e.j, e.j.ID
	}
	body, err := snapshot.Marshal(&snapshot.Snapshot{Judgments: js})
	if err != nil {
		return false, s.fail(err)
	}
	s.setIdle(false)
	reply, ferr := browser.Fetch("POST", p.url("/api/v1/projects/"+url.PathEscape(p.Project)+"/events"), body, map[string]string{
		"Content-Type":  "application/msgpack",
		"Authorization": "Bearer " + p.Token,
	})
	status, resp := reply.Status, reply.Body
	s.mu.Lock()
	s.retryAfter = reply.RetryAfter
	s.mu.Unlock()
	if ferr != nil {
		status = 0
	}
	act := decideSync(status, resp, ids)
	switch act.Kind {
	case syncDone:
		ops := make([]Op, 0, len(entries))
		seen := map[string]bool{}
		for _, e := range entries {
			if !seen[e.key] {
				seen[e.key] = true
				ops = append(ops, Op{Store: storeOutbox, Key: e.key, Delete: true})
			}
		}
		if err := db.Apply(ops...); err != nil {
			return false, s.fail(err)
		}
		s.mu.Lock()
		s.limit = min(2*s.limit, batchSize)
		s.full = ""
		s.mu.Unlock()
		s.set(n-len(ops), true, "")
		return true, nil
	case syncHold:
		var ops []Op
		for _, e := range entries {
			if msg, ok := act.Held[e.j.ID]; ok {
				ops = append(ops, holdOps(e.key, e.rec, e.j, status, msg)...)
			}
		}
		if err := db.Apply(ops...); err != nil {
			return false, s.fail(err)
		}
		s.set(n, true, act.Msg)
		return true, nil
	case syncSplit:
		s.mu.Lock()
		s.limit = act.Limit
		s.mu.Unlock()
		return true, nil
	case syncStop:
		s.mu.Lock()
		s.stopped = act.Msg
		s.mu.Unlock()
		wb.notify()
		return false, nil
	case syncFull:
		s.mu.Lock()
		s.full = act.Msg
		s.mu.Unlock()
		return false, s.fail(errors.New(act.Msg))
	}
	return false, s.fail(errors.New(act.Msg))
}

// holdOps moves an outbox record to the held store with the server's message.
func holdOps(key string, rec []byte, j feedback.Judgment, status int, msg string) []Op {
	h := heldEvent{ID: j.ID, Item: j.Item, Kind: string(j.Kind), Time: j.Time, Status: status,
		Error: msg, Held: time.Now().UnixMilli(), Record: rec}
	data, _ := json.Marshal(h)
	return []Op{{Store: storeHeld, Key: key, Value: data}, {Store: storeOutbox, Key: key, Delete: true}}
}

// readHeld returns the held judgments, oldest first.
func readHeld(db KV) ([]heldEvent, error) {
	recs, err := db.All(storeHeld)
	if err != nil {
		return nil, fmt.Errorf("read the refused judgments: %w", err)
	}
	out := make([]heldEvent, 0, len(recs))
	for _, r := range recs {
		var h heldEvent
		if json.Unmarshal(r.Value, &h) != nil {
			h = heldEvent{ID: r.Key, Error: "unreadable record"}
		}
		if h.ID == "" {
			h.ID = r.Key
		}
		out = append(out, h)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Time < out[b].Time })
	return out, nil
}

// retryHeld puts the held judgments back in the outbox (the rater fixed the cause,
// e.g. the device's clock, or the lead fixed the project) and wakes the loop.
func (s *syncClient) retryHeld() error {
	wb.mu.Lock()
	db := wb.db
	wb.mu.Unlock()
	if db == nil {
		return errors.New("the browser database is not open")
	}
	recs, err := db.All(storeHeld)
	if err != nil {
		return err
	}
	var ops []Op
	for _, r := range recs {
		var h heldEvent
		if json.Unmarshal(r.Value, &h) != nil || len(h.Record) == 0 {
			continue // nothing that could be sent: it stays held
		}
		ops = append(ops, Op{Store: storeOutbox, Key: r.Key, Value: h.Record}, Op{Store: storeHeld, Key: r.Key, Delete: true})
	}
	if err := db.Apply(ops...); err != nil {
		return err
	}
	s.mu.Lock()
	s.limit = batchSize
	s.mu.Unlock()
	s.resume()
	return nil
}

func (s *syncClient) set(pending int, project bool, err string) {
	s.mu.Lock()
	changed := !s.known || s.pending != pending || s.project != project || s.err != err
	s.known = true
	s.pending, s.project, s.err = pending, project, err
	s.mu.Unlock()
	if changed {
		wb.notify()
	}
}

// setIdle records whether the loop waits with nothing to send (syncStatus.Idle).
func (s *syncClient) setIdle(idle bool) {
	s.mu.Lock()
	changed := s.idle != idle
	s.idle = idle
	s.mu.Unlock()
	if changed {
		wb.notify()
	}
}

func (s *syncClient) fail(err error) error {
	s.mu.Lock()
	s.err = err.Error()
	s.mu.Unlock()
	wb.notify()
	return err
}

// syncKind is what the loop does after an answer of POST …/events.
type syncKind int

const (
	syncBackoff syncKind = iota // keep the batch, wait (exponential backoff), try again
	syncDone                    // the server holds the whole batch: delete it from the outbox
	syncHold                    // set aside the events in Held, resend the rest at once
	syncSplit                   // resend at once in batches of at most Limit events
	syncStop                    // stop syncing: the link is refused (Msg says so)
	syncFull                    // keep the batch queued, show Msg, back off: the rater's quota is full
)

// syncAction is the decision for one answer.
type syncAction struct {
	Kind  syncKind
	Held  map[string]string // syncHold: event id → the server's message for it
	Limit int               // syncSplit: the next batch size
	Msg   string            // for the rater: what happened
}

// decideSync decides what to do with the answer (status, body) to a batch holding
// the events ids (status 0: the request did not reach the server). It is the whole
// policy of docs/server.md's "client duty":
//
//   - 2xx: done.
//   - 400, 409 or 403 that name events of the batch (wire.Error.Events): set those
//     aside with the server's message; the rest go again at once.
//   - 400 or 409 that name none: the batch is split in halves until the bad event is
//     alone, which is then set aside (nothing is retried forever, nothing is lost).
//   - 401, or 403 naming no event: stop; the link is wrong or was revoked. 404: stop;
//     the project is not on this server.
//   - 413: split in halves; a single event too large is set aside. 413
//     quota_exceeded (the rater's storage quota): split in halves too (what still
//     fits is stored); a single event refused keeps everything queued, shows why
//     and backs off (syncFull) — never set aside: the judgments are valid.
//   - network errors, 5xx, and any other status: back off and try again.
func decideSync(status int, body []byte, ids []string) syncAction {
	var e wire.Error
	_ = json.Unmarshal(body, &e)
	msg := e.Message
	if msg == "" {
		msg = shortBody(body)
	}
	inBatch := make(map[string]bool, len(ids))
	for _, id := range ids {
		inBatch[id] = true
	}
	named := map[string]string{}
	for _, ev := range e.Events {
		if inBatch[ev.ID] {
			named[ev.ID] = ev.Error
		}
	}
	split := func(why string) syncAction {
		if len(ids) <= 1 {
			held := map[string]string{}
			for _, id := range ids {
				held[id] = why
			}
			return syncAction{Kind: syncHold, Held: held, Msg: why}
		}
		return syncAction{Kind: syncSplit, Limit: len(ids) / 2, Msg: why}
	}
	switch {
	case status >= 200 && status <= 299:
		return syncAction{Kind: syncDone}
	case status == 0:
		return syncAction{Kind: syncBackoff, Msg: "offline: will retry"}
	case (status == 400 || status == 409 || status == 403) && len(named) > 0:
		return syncAction{Kind: syncHold, Held: named,
			Msg: fmt.Sprintf("the server refused %d judgment(s) (HTTP %d): %s", len(named), status, msg)}
	case status == 400 || status == 409:
		return split(fmt.Sprintf("the server refused this judgment (HTTP %d): %s", status, msg))
	case status == 401 || status == 403:
		return syncAction{Kind: syncStop, Msg: fmt.Sprintf("The server refused your link (HTTP %d: %s): it is wrong or has been revoked. "+
			"Ask your lead for a new link and open it here; your judgments stay in this browser until then.", status, msg)}
	case status == 404:
		return syncAction{Kind: syncStop, Msg: fmt.Sprintf("The server does not know this project (HTTP 404: %s): "+
			"check the link with your lead; your judgments stay in this browser.", msg)}
	case status == 413 && e.Code == wire.CodeQuotaExceeded:
		if len(ids) > 1 {
			return syncAction{Kind: syncSplit, Limit: len(ids) / 2, Msg: msg}
		}
		return syncAction{Kind: syncFull, Msg: "The server says: " + strings.TrimSuffix(msg, ".") +
			". Your judgments stay in this browser and are sent again every minute until it takes them."}
	case status == 413:
		return split(fmt.Sprintf("this judgment is too large for the server (HTTP 413): %s", msg))
	default:
		return syncAction{Kind: syncBackoff, Msg: fmt.Sprintf("the server could not take the judgments (HTTP %d): %s; will retry", status, msg)}
	}
}

// shortBody returns the start of an error answer for a message.
func shortBody(b []byte) string {
	var e wire.Error
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		return e.Message
	}
	if len(b) > 160 {
		b = b[:160]
	}
	return strings.TrimSpace(string(b))
}
