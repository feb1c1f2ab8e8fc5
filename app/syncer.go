package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
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

func (p projectLink) url(path string) string { return p.Server + path }

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

// syncClient sends the outbox (judgments not yet accepted by the server) in
// batches, oldest first, and deletes what the server accepted. A failure backs off
// exponentially (1 s doubling to 60 s); going online or a new judgment retries at
// once. The server stores events idempotently by id, so resending after a lost
// answer stores nothing twice.
type syncClient struct {
	mu      sync.Mutex
	started bool
	pending int    // judgments in the outbox
	project bool   // project mode
	err     string // the last failure, for the badge's tooltip
	wakeCh  chan struct{}
}

var syncer = &syncClient{wakeCh: make(chan struct{}, 1)}

// batchSize is the most judgments one request carries.
const batchSize = 200

// status returns the badge's figures.
func (s *syncClient) status() (pending int, project bool, err string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending, s.project, s.err
}

// wake makes the loop try now.
func (s *syncClient) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
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
	backoff := time.Second
	for {
		wait := 10 * time.Second
		sent, err := s.once()
		switch {
		case err != nil:
			wait = backoff
			backoff = min(2*backoff, time.Minute)
		case sent:
			wait, backoff = 0, time.Second
		default:
			backoff = time.Second
		}
		if wait > 0 {
			select {
			case <-s.wakeCh:
			case <-time.After(wait):
			}
		}
	}
}

// once sends one batch if there is one. sent reports that a batch was accepted.
func (s *syncClient) once() (sent bool, err error) {
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
	s.set(n, isProject, "")
	if !isProject || n == 0 || !online {
		return false, nil
	}
	recs, err := db.All(storeOutbox)
	if err != nil {
		return false, s.fail(err)
	}
	if len(recs) > batchSize {
		recs = recs[:batchSize]
	}
	var js []feedback.Judgment
	var keys []string
	for _, r := range recs {
		d, err := snapshot.Unmarshal(r.Value)
		keys = append(keys, r.Key)
		if err != nil {
			continue // damaged: dropped with the batch's keys
		}
		js = append(js, d.Judgments...)
	}
	body, err := snapshot.Marshal(&snapshot.Snapshot{Judgments: js})
	if err != nil {
		return false, s.fail(err)
	}
	status, resp, err := browser.Fetch("POST", p.url("/api/v1/projects/"+url.PathEscape(p.Project)+"/events"), body, map[string]string{
		"Content-Type":  "application/msgpack",
		"Authorization": "Bearer " + p.Token,
	})
	if err != nil {
		return false, s.fail(errors.New("offline: will retry"))
	}
	if status < 200 || status > 299 {
		return false, s.fail(fmt.Errorf("the server refused the judgments (HTTP %d): %s", status, shortBody(resp)))
	}
	ops := make([]Op, len(keys))
	for i, k := range keys {
		ops[i] = Op{Store: storeOutbox, Key: k, Delete: true}
	}
	if err := db.Apply(ops...); err != nil {
		return false, s.fail(err)
	}
	s.set(n-len(keys), true, "")
	wb.notify()
	return true, nil
}

func (s *syncClient) set(pending int, project bool, err string) {
	s.mu.Lock()
	changed := s.pending != pending || s.project != project || s.err != err
	s.pending, s.project, s.err = pending, project, err
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

// shortBody returns the start of an error answer for a message.
func shortBody(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	if len(b) > 160 {
		b = b[:160]
	}
	return string(b)
}
