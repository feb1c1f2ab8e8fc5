package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/store"
)

// Limits of an events page.
const (
	defaultPageEvents = 1000
	maxPageEvents     = 5000
)

// postEvents stores a batch of judgments: POST /api/v1/projects/{p}/events.
//
// The batch is checked whole before anything is stored: every event must be valid
// for the project (known item and responses, the feedback rules, a time not too far
// in the future) and belong to the token's rater (a rater's events may leave the
// rater empty: it is filled in). Revisions are authorised here: a rater may revise
// (revises) or withdraw (a review with verdict withdraw) only their own judgments;
// accept, reject and edit are the lead's, on any judgment; the judgment named must be
// in the batch or already stored (feedback.ValidateLink). Any invalid event rejects
// the batch with a 400 that lists each bad event, so a client can drop those and
// resend the rest. Then the store keeps the new events and counts the ones it
// already had, unless the new ones would take a rater's token over the rater's
// storage quota (Config.MaxRaterEvents, MaxRaterBytes): 413 quota_exceeded, nothing
// stored.
func (a *API) postEvents(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.authorize(r, r.PathValue("p"))
	if err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	if mt := wire.MediaType(ct); mt != wire.ContentTypeMsgpack && mt != wire.ContentTypeJSON {
		return errorf(http.StatusUnsupportedMediaType, codeContentType,
			"an events batch is sent as %s or %s, not %q", wire.ContentTypeMsgpack, wire.ContentTypeJSON, ct)
	}
	// Bound the batches in memory at once: a body is read within MaxBatchesBytes of
	// bodies in flight (its Content-Length, or MaxBatchBytes when it has none), by a
	// deadline a client at MinUploadRate meets, then decoded and checked in one of
	// MaxEventDecodes slots, which is given back before the store's commit (so that
	// many raters' commits share the store's flushes). A slow client never holds a
	// decode slot.
	weight := a.cfg.MaxBatchBytes
	if r.ContentLength > 0 && r.ContentLength < weight {
		weight = r.ContentLength
	}
	releaseBody, err := a.acquireBytes(r.Context(), weight)
	if err != nil {
		return err
	}
	defer releaseBody()
	body, err := a.readBodyPaced(w, r, a.cfg.MaxBatchBytes, "events batch")
	if err != nil {
		return err
	}
	releaseDecode, err := a.acquire(r.Context(), a.decodes, "events batches")
	if err != nil {
		return err
	}
	decoding := true
	release := func() {
		if decoding {
			decoding = false
			releaseDecode()
		}
	}
	defer release()
	// A rater's batch of more events than the rater's whole quota would take them
	// over it even with nothing stored (a batch of distinct ids of one rater cannot
	// all be duplicates then): refused from the msgpack array's header, or after
	// counting JSON elements one past the quota, before an event is decoded. A
	// batch within that is checked against the stored counts by the store, in the
	// transaction that would store it (a resent batch is all duplicates and adds
	// nothing, so the counts alone cannot refuse it here).
	quota := store.Quota{Events: a.cfg.MaxRaterEvents, Bytes: a.cfg.MaxRaterBytes}
	maxEvents := a.cfg.MaxBatchEvents
	if acc.lead {
		quota = store.Quota{}
	} else if quota.Events < int64(maxEvents) {
		maxEvents = int(quota.Events)
	}
	js, err := wire.DecodeEventsMax(ct, body, maxEvents)
	var tm *wire.TooManyEventsError
	if errors.As(err, &tm) && maxEvents < a.cfg.MaxBatchEvents {
		n := "more than " + strconv.Itoa(maxEvents)
		if tm.N > 0 {
			n = strconv.Itoa(tm.N)
		}
		return errorf(http.StatusRequestEntityTooLarge, codeQuota,
			"the batch holds %s events, more than rater %q may store in this project (the quota is %d events per rater); "+
				"nothing was stored. Ask the project lead to raise the quota (prefer serve --max-rater-events), or send fewer events",
			n, acc.rater.ID, quota.Events)
	}
	if errors.As(err, &tm) {
		return errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "%v", err)
	}
	if err != nil {
		return errorf(http.StatusBadRequest, codeBadRequest, "%v", err)
	}
	body = nil
	now := a.cfg.Now()
	var bad []wire.EventError
	var forbidden []wire.EventError
	evs := make([]store.Event, 0, len(js))
	byID := make(map[string]int, len(js))
	var conflicts []wire.EventError
	for i := range js {
		j := &js[i]
		if acc.rater != nil && !acc.lead {
			if j.Rater == "" {
				j.Rater = acc.rater.ID
			}
			if j.Rater != acc.rater.ID {
				forbidden = append(forbidden, wire.EventError{ID: j.ID, Error: fmt.Sprintf("rater %q is not this token's rater %q", j.Rater, acc.rater.ID)})
				continue
			}
			if j.Kind == feedback.KindReview && j.Verdict != feedback.VerdictWithdraw {
				forbidden = append(forbidden, wire.EventError{ID: j.ID, Error: "only the project lead accepts, rejects or edits a judgment; a rater withdraws their own (verdict withdraw) or revises it (revises)"})
				continue
			}
		}
		if err := a.checkEvent(acc, j, now); err != nil {
			bad = append(bad, wire.EventError{ID: j.ID, Error: err.Error()})
			continue
		}
		data, err := json.Marshal(wire.FromJudgment(*j))
		if err != nil {
			bad = append(bad, wire.EventError{ID: j.ID, Error: err.Error()})
			continue
		}
		if k, dup := byID[j.ID]; dup {
			if string(evs[k].Body) != string(data) {
				conflicts = append(conflicts, wire.EventError{ID: j.ID, Error: "the batch holds two different events with this id"})
			}
			continue
		}
		byID[j.ID] = len(evs)
		evs = append(evs, store.Event{ID: j.ID, Rater: j.Rater, Body: data})
	}
	if len(forbidden) == 0 && len(bad) == 0 {
		f, b, err := a.checkLinks(r.Context(), acc, js)
		if err != nil {
			return err
		}
		forbidden, bad = append(forbidden, f...), append(bad, b...)
	}
	switch {
	case len(forbidden) > 0:
		e := errorf(http.StatusForbidden, codeForbidden,
			"%d of %d events are not this rater's to send; nothing was stored", len(forbidden), len(js))
		e.body.Events = forbidden
		return e
	case len(bad) > 0:
		e := errorf(http.StatusBadRequest, codeBadEvents,
			"%d of %d events are invalid; nothing was stored: drop or fix them and send the rest again", len(bad), len(js))
		e.body.Events = bad
		return e
	case len(conflicts) > 0:
		e := errorf(http.StatusConflict, codeConflict,
			"the batch holds different events under the same id; nothing was stored: give each event its own id")
		e.body.Events = conflicts
		return e
	}
	release()
	res := store.AppendResult{}
	if len(evs) > 0 {
		res, err = a.store.AppendEvents(r.Context(), acc.p.rec.ID, evs, quota)
		if err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, wire.EventsAccepted{Accepted: res.Added, Duplicates: res.Duplicates + len(js) - len(evs)})
	return nil
}

// checkLinks checks the revisions and reviews of a batch against the judgments they
// name, found in the batch or among the stored events (those of the token's rater
// for a rater, all of the project's for the lead: read only when the batch holds a
// revision or a review). Naming another rater's judgment is forbidden; naming an
// unknown one, or breaking feedback.ReviewProblem or RevisionProblem, is invalid.
func (a *API) checkLinks(ctx context.Context, acc *access, js []feedback.Judgment) (forbidden, bad []wire.EventError, err error) {
	var links bool
	for i := range js {
		links = links || js[i].Revises != "" || js[i].Kind == feedback.KindReview
	}
	if !links {
		return nil, nil, nil
	}
	// The stored judgments come from the project's tally (folded in incrementally,
	// text fields shortened: links never look at them), looked up by id.
	known := make(map[string]feedback.Judgment, len(js))
	p := acc.p
	p.tallyMu.Lock()
	defer p.tallyMu.Unlock()
	if err := a.catchUp(ctx, p); err != nil {
		return nil, nil, err
	}
	for _, j := range js {
		if _, ok := known[j.ID]; !ok {
			known[j.ID] = j
		}
	}
	get := func(id string) (feedback.Judgment, bool) {
		if k, ok := p.tally.byID[id]; ok {
			// A rater's token sees only that rater's judgments.
			if t := p.tally.js[k]; acc.lead || t.Rater == acc.rater.ID {
				return t, true
			}
		}
		j, ok := known[id]
		return j, ok
	}
	for i := range js {
		j := &js[i]
		if err := feedback.ValidateLink(j, get); err != nil {
			target := j.Target
			if j.Kind != feedback.KindReview {
				target = j.Revises
			}
			// Another rater's events are not read for a rater's token: an id that
			// is not among this rater's judgments is someone else's or none.
			if t, ok := get(target); !acc.lead && (!ok || t.Rater != j.Rater) {
				forbidden = append(forbidden, wire.EventError{ID: j.ID, Error: fmt.Sprintf("%q is not one of rater %q's judgments: a rater revises or withdraws only their own", target, j.Rater)})
				continue
			}
			bad = append(bad, wire.EventError{ID: j.ID, Error: err.Error()})
		}
	}
	return forbidden, bad, nil
}

// checkEvent checks one judgment against the project.
func (a *API) checkEvent(acc *access, j *feedback.Judgment, now time.Time) error {
	if !validEventID(j.ID) {
		return errors.New("event id: 1 to 128 bytes of UTF-8 without control characters")
	}
	if err := wire.CheckEventSize(j); err != nil {
		return err
	}
	if !judgmentUTF8(j) {
		return errors.New("text fields must be valid UTF-8")
	}
	if err := acc.p.index.Validate(j); err != nil {
		return err
	}
	if j.Kind == feedback.KindReview && j.Target != "" && !validEventID(j.Target) {
		return errors.New("review target: not an event id")
	}
	if j.Item != "" && !acc.lead && !acc.p.queued[j.Rater][j.Item] {
		return fmt.Errorf("item %q is not in rater %q's queue", j.Item, j.Rater)
	}
	if ahead := time.Duration(j.Time-now.UnixMilli()) * time.Millisecond; j.Time != 0 && ahead > a.cfg.MaxClockSkew {
		return fmt.Errorf("time %d is %s ahead of the server's clock (more than %s): check the device's clock, then give the event its correct time",
			j.Time, ahead.Round(time.Minute), a.cfg.MaxClockSkew)
	}
	return nil
}

// judgmentUTF8 reports whether every text field of j is valid UTF-8 (stored events
// are JSON, which would silently replace invalid bytes).
func judgmentUTF8(j *feedback.Judgment) bool {
	for _, s := range []string{j.ID, string(j.Kind), j.Item, j.Rater, j.Session, j.Note, j.A, j.B,
		string(j.Choice), j.Left, j.Response, j.Axis, j.Text, j.Category, j.Target, j.Verdict} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, s := range j.Reasons {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, s := range j.Shown {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// getEvents answers the events stored after a cursor:
// GET /api/v1/projects/{p}/events?since=CURSOR&limit=N[&rater=ID].
// A rater's token sees only that rater's events; the lead's sees all, or one
// rater's with ?rater=ID. With "Accept: application/msgpack" the page is a snapshot
// holding the judgments, with the cursor in the Prefer-Cursor header and
// Prefer-More: true when it was cut at the limit.
func (a *API) getEvents(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.authorize(r, r.PathValue("p"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	since := q.Get("since")
	if len(since) > 64 {
		return errorf(http.StatusBadRequest, codeBadCursor, "since: not a cursor of this server")
	}
	limit := defaultPageEvents
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageEvents {
			return errorf(http.StatusBadRequest, codeBadRequest, "limit %q: a number from 1 to %d", v, maxPageEvents)
		}
		limit = n
	}
	rater := q.Get("rater")
	if !acc.lead {
		if rater != "" && rater != acc.rater.ID {
			return errorf(http.StatusForbidden, codeForbidden, "a rater's token reads only that rater's events")
		}
		rater = acc.rater.ID
	}
	evs, err := a.store.Events(r.Context(), acc.p.rec.ID, store.EventQuery{After: since, Rater: rater, Limit: limit, MaxBytes: a.cfg.MaxPageBytes})
	if err != nil {
		return err
	}
	cursor := since
	size := 0
	for _, e := range evs {
		size += len(e.Body)
	}
	if len(evs) > 0 {
		cursor = evs[len(evs)-1].Cursor
	}
	more := len(evs) == limit || size >= a.cfg.MaxPageBytes
	if strings.Contains(r.Header.Get("Accept"), wire.ContentTypeMsgpack) {
		js := make([]feedback.Judgment, len(evs))
		for i, e := range evs {
			var we wire.Event
			if err := json.Unmarshal(e.Body, &we); err != nil {
				return fmt.Errorf("stored event %s: %w", e.ID, err)
			}
			js[i] = we.Judgment()
		}
		data, err := snapshot.Marshal(&snapshot.Snapshot{Judgments: js})
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", wire.ContentTypeMsgpack)
		h.Set("Cache-Control", "no-store")
		h.Set(wire.HeaderCursor, cursor)
		h.Set(wire.HeaderMore, strconv.FormatBool(more))
		w.Write(data)
		return nil
	}
	// The stored bodies are the events' JSON already: write them out one by one,
	// without building the page again in memory.
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"events":[`)
	for i, e := range evs {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(e.Body)
	}
	tail, _ := json.Marshal(cursor)
	fmt.Fprintf(bw, `],"cursor":%s,"more":%t}`+"\n", tail, more)
	bw.Flush() // a client that went away gets nothing more; the status is sent
	return nil
}
