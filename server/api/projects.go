package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"prefer/core/agree"
	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/store"
)

// Limits of a project.
const (
	maxRaters      = 10000
	maxNameBytes   = 200
	maxProjectBody = 1 << 20
)

// project is a loaded project: its record and the items of its snapshot, indexed.
// Projects never change, so loaded ones are cached (by estimated bytes, see
// Config.MaxCacheBytes). The tally of its events is kept up to date incrementally.
type project struct {
	rec        *store.Project
	items      map[string]*feedback.Item
	index      *feedback.Index
	guidelines []feedback.Guideline
	raters     map[string]*store.PRater
	queued     map[string]map[string]bool // rater id → item ids of the queue
	goldItems  int

	cost    int64 // estimated bytes in memory, for the cache
	lastUse int64 // API.useClock when last used

	tallyMu sync.Mutex
	tally   tally
}

// tally is what progress and tasks need from a project's events, folded in one page
// at a time from the cursor on: never the whole log in memory.
//
// It keeps every stored judgment, compacted (compact): progress, tasks and the
// checks of revisions and reviews resolve what stands (feedback.Current) from it
// without reading the store again. Its memory is counted in the project's cache cost.
type tally struct {
	cursor string
	events int // every stored event, the lead's included
	raters map[string]*raterTally
	js     []feedback.Judgment // compacted, in stored order
	byID   map[string]int      // id → index in js
}

// raterTally is one rater's share of the tally.
type raterTally struct {
	events int
	bytes  int64 // of the stored bodies, as the store's quota counts them
	last   int64
}

// compact returns j without the content no count or link check reads: a note, a
// text or reasons are kept as a one-byte stand-in when present (an edit's text must
// stay non-empty for feedback.ReviewProblem), so a tally costs ~400 bytes an event
// whatever the texts.
func compact(j feedback.Judgment) feedback.Judgment {
	if j.Note != "" {
		j.Note = "…"
	}
	if j.Text != "" {
		j.Text = "…"
	}
	if len(j.Reasons) > 0 {
		j.Reasons = []string{"…"}
	}
	j.Session = ""
	return j
}

// tallyEventCost is the memory a compacted judgment of the tally is counted at.
const tallyEventCost = 480

// access is what a request's token grants on a project.
type access struct {
	p     *project
	lead  bool
	rater *store.PRater // nil for the lead
}

// validProjectID reports whether id has the form of the ids this server makes.
func validProjectID(id string) bool { return len(id) == 24 && validShareID(id+"00000000") }

// cachedProject returns a cached project, or nil.
func (a *API) cachedProject(id string) *project {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.projects[id]
	if p != nil {
		a.useClock++
		p.lastUse = a.useClock
	}
	return p
}

// loadProject returns the project of record rec, from the cache or the store.
// Concurrent first requests for one project share a single load (many raters
// syncing at once would otherwise each decode the project).
func (a *API) loadProject(ctx context.Context, rec *store.Project) (*project, error) {
	id := rec.ID
	a.mu.Lock()
	if p := a.projects[id]; p != nil {
		a.useClock++
		p.lastUse = a.useClock
		a.mu.Unlock()
		return p, nil
	}
	return sharedLoad(a, ctx, a.loading, id, func(ctx context.Context) (*project, error) { return a.readProject(ctx, rec) }, a.cache)
}

// loadCall is a load in progress, shared by the requests that ask for the same
// key meanwhile.
type loadCall[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// sharedLoad runs load for id once however many requests ask at the same time,
// and keep (called with a.mu held) stores a successful result. a.mu is held on
// entry and released on return. The load runs without the first request's
// cancellation; a request whose ctx ends stops waiting, the load goes on for the
// others.
func sharedLoad[T any](a *API, ctx context.Context, calls map[string]*loadCall[T], id string, load func(context.Context) (T, error), keep func(T)) (T, error) {
	call := calls[id]
	if call == nil {
		call = &loadCall[T]{done: make(chan struct{})}
		calls[id] = call
		a.mu.Unlock()
		call.v, call.err = load(context.WithoutCancel(ctx))
		a.mu.Lock()
		delete(calls, id)
		if call.err == nil {
			keep(call.v)
		}
		a.mu.Unlock()
		close(call.done)
	} else {
		a.mu.Unlock()
	}
	select {
	case <-call.done:
		return call.v, call.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// cache adds p, evicting the least recently used projects until the cache fits
// MaxCacheBytes (p stays even when it alone is larger). a.mu is held.
func (a *API) cache(p *project) {
	for len(a.projects) > 0 && a.cacheBytes+p.cost > a.cfg.MaxCacheBytes {
		var oldest *project
		for _, q := range a.projects {
			if oldest == nil || q.lastUse < oldest.lastUse {
				oldest = q
			}
		}
		delete(a.projects, oldest.rec.ID)
		a.cacheBytes -= oldest.cost
	}
	a.useClock++
	p.lastUse = a.useClock
	a.projects[p.rec.ID] = p
	a.cacheBytes += p.cost
}

// maxRecordBytes bounds the project records kept for token checks of projects not
// (or no longer) loaded, by estimated size (recordCost): wrong tokens, repeated,
// must not make the server read and decode a record each time.
const maxRecordBytes = 32 << 20

// recordCost estimates a decoded record's memory: its queues' ids and its raters.
func recordCost(rec *store.Project) int64 {
	n := int64(256)
	for _, r := range rec.Raters {
		n += 160 + 24*int64(len(r.Queue))
	}
	return n
}

// loadRecord returns a project's record: from the record cache, or read once from
// the store however many requests ask at the same time (200 raters opening a
// project at once would otherwise each read and decode it).
func (a *API) loadRecord(ctx context.Context, id string) (*store.Project, error) {
	a.mu.Lock()
	if rec := a.records[id]; rec != nil {
		a.mu.Unlock()
		return rec, nil
	}
	return sharedLoad(a, ctx, a.recordLoads, id, func(ctx context.Context) (*store.Project, error) { return a.store.Project(ctx, id) },
		func(rec *store.Project) {
			cost := recordCost(rec)
			for k, old := range a.records { // drop any until it fits
				if a.recordBytes+cost <= maxRecordBytes {
					break
				}
				delete(a.records, k)
				a.recordBytes -= recordCost(old)
			}
			if cost <= maxRecordBytes {
				a.records[id] = rec
				a.recordBytes += cost
			}
		})
}

// readProject reads a project's snapshot from the store and indexes it.
func (a *API) readProject(ctx context.Context, rec *store.Project) (*project, error) {
	snap, err := a.store.Snapshot(ctx, rec.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("project %s: load its snapshot: %w", rec.ID, err)
	}
	s, err := snapshot.Unmarshal(snap.Data)
	if err != nil {
		return nil, fmt.Errorf("project %s: decode its snapshot: %w", rec.ID, err)
	}
	p := newProject(rec, s)
	assigned := 0
	for _, r := range rec.Raters {
		assigned += len(r.Queue)
	}
	// The decoded snapshot and the queues' sets (~64 bytes an entry); the tally's
	// judgments are added as they are folded in.
	p.cost = CacheCostFactor*int64(len(snap.Data)) + 64*int64(assigned)
	return p, nil
}

func newProject(rec *store.Project, s *snapshot.Snapshot) *project {
	p := &project{
		rec: rec, items: map[string]*feedback.Item{}, guidelines: s.Guidelines,
		raters: map[string]*store.PRater{}, queued: map[string]map[string]bool{},
		tally: tally{raters: map[string]*raterTally{}, byID: map[string]int{}},
	}
	for i := range s.Items {
		p.items[s.Items[i].ID] = &s.Items[i]
		if s.Items[i].GoldBest != "" {
			p.goldItems++
		}
	}
	raters := make([]feedback.Rater, len(rec.Raters))
	for i := range rec.Raters {
		r := &rec.Raters[i]
		raters[i] = feedback.Rater{ID: r.ID, Name: r.Name, Group: r.Group, Kind: feedback.RaterHuman}
		p.raters[r.ID] = r
		q := make(map[string]bool, len(r.Queue))
		for _, it := range r.Queue {
			q[it] = true
		}
		p.queued[r.ID] = q
		p.tally.raters[r.ID] = &raterTally{}
	}
	p.index = feedback.NewIndex(s.Items, raters)
	return p
}

// authorize checks the request's bearer token for project id, then loads the
// project. A request without a token is refused before anything is read; a token is
// checked against the project's small record (the lead's and every rater's token
// hash, in constant time and without stopping at a match) before its snapshot is
// decoded, so only holders of a token can make the server load a project.
func (a *API) authorize(r *http.Request, id string) (*access, error) {
	if !validProjectID(id) {
		return nil, errorf(http.StatusBadRequest, codeBadRequest, "malformed project id: an id is 24 lower-case hex digits")
	}
	tok := bearer(r)
	if tok == "" {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized,
			"this needs a project token: send it as 'Authorization: Bearer TOKEN'")
	}
	p := a.cachedProject(id)
	rec := (*store.Project)(nil)
	if p != nil {
		rec = p.rec
	} else {
		var err error
		rec, err = a.loadRecord(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, codeNotFound, "no project has this id on this server")
		}
		if err != nil {
			return nil, err
		}
	}
	h := hashToken(tok)
	lead := sameHash(h, rec.LeadTokenHash)
	var rater *store.PRater
	for i := range rec.Raters {
		if sameHash(h, rec.Raters[i].TokenHash) {
			rater = &rec.Raters[i]
		}
	}
	if !lead && rater == nil {
		return nil, errorf(http.StatusForbidden, codeForbidden, "this token gives no access to this project")
	}
	if p == nil {
		var err error
		if p, err = a.loadProject(r.Context(), rec); err != nil {
			return nil, err
		}
		if rater != nil {
			rater = p.raters[rater.ID]
		}
	}
	return &access{p: p, lead: lead, rater: rater}, nil
}

// catchUp folds the events stored since the tally's cursor into it, one page at a
// time. p.tallyMu is held.
func (a *API) catchUp(ctx context.Context, p *project) error {
	t := &p.tally
	for {
		evs, err := a.store.Events(ctx, p.rec.ID, store.EventQuery{After: t.cursor, Limit: 1000, MaxBytes: a.cfg.MaxPageBytes})
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		for _, e := range evs {
			var we wire.Event
			if err := json.Unmarshal(e.Body, &we); err != nil {
				return fmt.Errorf("project %s: stored event %s: %w", p.rec.ID, e.ID, err)
			}
			p.count(we.Judgment(), len(e.Body))
			t.cursor = e.Cursor
		}
		a.mu.Lock()
		if a.projects[p.rec.ID] == p {
			a.cacheBytes += tallyEventCost * int64(len(evs))
		}
		p.cost += tallyEventCost * int64(len(evs))
		a.mu.Unlock()
	}
}

// count adds one stored judgment (size bytes stored) to the tally.
func (p *project) count(j feedback.Judgment, size int) {
	p.tally.events++
	if rt := p.tally.raters[j.Rater]; rt != nil { // not the lead's own events (reviews)
		rt.events++
		rt.bytes += int64(size)
		rt.last = max(rt.last, j.Time)
	}
	if _, dup := p.tally.byID[j.ID]; !dup {
		p.tally.byID[j.ID] = len(p.tally.js)
	}
	p.tally.js = append(p.tally.js, compact(j))
}

// postProject creates a project: POST /api/v1/projects.
func (a *API) postProject(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkAdmin(r, "creating a project"); err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); wire.MediaType(ct) != wire.ContentTypeJSON {
		return errorf(http.StatusUnsupportedMediaType, codeContentType, "a project is described in %s, not %q", wire.ContentTypeJSON, ct)
	}
	body, err := readBody(w, r, maxProjectBody, "project description")
	if err != nil {
		return err
	}
	var req wire.NewProject
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errorf(http.StatusBadRequest, codeBadRequest, "decode the project description: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, codeBadRequest, "trailing data after the project description")
	}
	bad := func(format string, args ...any) error {
		return errorf(http.StatusBadRequest, codeBadRequest, format, args...)
	}
	if len(req.Name) > maxNameBytes || !utf8.ValidString(req.Name) {
		return bad("name: at most %d bytes of UTF-8", maxNameBytes)
	}
	if !validShareID(req.Snapshot) {
		return bad("snapshot: give the id of a stored snapshot (POST /api/v1/snapshots answers it)")
	}
	if len(req.Raters) > 0 && req.RaterCount > 0 {
		return bad("give raters or rater_count, not both")
	}
	if req.RaterCount < 0 || req.RaterCount > maxRaters || len(req.Raters) > maxRaters {
		return bad("a project has 1 to %d raters", maxRaters)
	}
	raters := req.Raters
	for i := range req.RaterCount {
		raters = append(raters, wire.Rater{ID: fmt.Sprintf("r%d", i+1)})
	}
	seen := map[string]bool{}
	for _, rt := range raters {
		if !validEventID(rt.ID) || len(rt.ID) > 64 {
			return bad("rater id %q: 1 to 64 printable characters", rt.ID)
		}
		if seen[rt.ID] {
			return bad("rater id %q is given twice", rt.ID)
		}
		seen[rt.ID] = true
		if len(rt.Name) > maxNameBytes || len(rt.Group) > maxNameBytes || !utf8.ValidString(rt.Name+rt.Group) {
			return bad("rater %q: name and group are at most %d bytes of UTF-8", rt.ID, maxNameBytes)
		}
	}
	if req.Overlap == 0 {
		req.Overlap = 1
	}
	snap, err := a.store.Snapshot(r.Context(), req.Snapshot)
	if errors.Is(err, store.ErrNotFound) {
		return bad("snapshot %s is not stored on this server: upload it first (prefer push)", req.Snapshot)
	}
	if err != nil {
		return err
	}
	// Decoding takes one of the upload slots: creating projects over and over must
	// not decode more snapshots at once than uploads may.
	release, err := a.acquire(r.Context(), a.uploads, "uploads")
	if err != nil {
		return err
	}
	s, err := snapshot.Unmarshal(snap.Data)
	release()
	if err != nil {
		return err // it was checked when stored
	}
	if len(s.Items) == 0 {
		return bad("snapshot %s has no items to label", req.Snapshot)
	}
	queues, err := assign(s.Items, len(raters), req.Overlap, req.GoldRate, req.Seed)
	if err != nil {
		return bad("%v", err)
	}
	rec := &store.Project{
		ID: newID(12), Name: req.Name, Snapshot: req.Snapshot, Created: a.cfg.Now().UnixMilli(),
		Overlap: req.Overlap, GoldRate: req.GoldRate, Seed: req.Seed, Version: 1,
	}
	base := a.baseURL(r)
	leadToken, leadHash := newToken()
	rec.LeadTokenHash = leadHash
	res := wire.ProjectCreated{
		ID: rec.ID, Name: rec.Name, Snapshot: rec.Snapshot, Items: len(s.Items),
		LeadToken: leadToken, LeadURL: base + "/p/" + rec.ID + "/lead#token=" + leadToken,
	}
	for i, rt := range raters {
		tok, h := newToken()
		rec.Raters = append(rec.Raters, store.PRater{ID: rt.ID, Name: rt.Name, Group: rt.Group, TokenHash: h, Queue: queues[i]})
		res.Raters = append(res.Raters, wire.RaterAccess{
			Rater: rt, Token: tok, URL: base + "/p/" + rec.ID + "#token=" + tok, Assigned: len(queues[i]),
		})
	}
	for _, it := range s.Items {
		if it.GoldBest != "" {
			res.GoldItems++
		}
	}
	if err := a.store.CreateProject(r.Context(), rec); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/projects/"+rec.ID)
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// getTasks answers a rater's queue: GET /api/v1/projects/{p}/tasks. The lead may
// ask for any rater's with ?rater=ID.
func (a *API) getTasks(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.authorize(r, r.PathValue("p"))
	if err != nil {
		return err
	}
	rt := acc.rater
	if want := r.URL.Query().Get("rater"); want != "" && (rt == nil || want != rt.ID) {
		if !acc.lead {
			return errorf(http.StatusForbidden, codeForbidden, "a rater's token shows only that rater's tasks")
		}
		rt = acc.p.raters[want]
		if rt == nil {
			return errorf(http.StatusNotFound, codeNotFound, "no rater %q in this project", want)
		}
	}
	if rt == nil {
		return errorf(http.StatusBadRequest, codeBadRequest, "this is the lead's token: add ?rater=ID to see a rater's tasks")
	}
	acc.p.tallyMu.Lock()
	defer acc.p.tallyMu.Unlock()
	if err := a.catchUp(r.Context(), acc.p); err != nil {
		return err
	}
	// What the rater has done is what stands: a withdrawn judgment gives its item
	// back to the queue.
	judged := map[string]bool{}
	for _, j := range feedback.Current(feedback.ForRater(acc.p.tally.js, rt.ID)) {
		judged[j.Item] = true
	}
	t := wire.Tasks{
		Project: acc.p.rec.ID, Name: acc.p.rec.Name,
		Rater: wire.Rater{ID: rt.ID, Name: rt.Name, Group: rt.Group},
		Items: make([]wire.TaskItem, 0, len(rt.Queue)), Done: []string{},
	}
	for _, g := range acc.p.guidelines {
		t.Guidelines = append(t.Guidelines, wire.Guideline{Version: g.Version, Text: g.Text})
	}
	for _, id := range rt.Queue {
		it := acc.p.items[id]
		ti := wire.TaskItem{ID: it.ID, Prompt: it.Prompt, Responses: make([]wire.Response, len(it.Responses))}
		for k, resp := range it.Responses {
			ti.Responses[k] = wire.Response{ID: resp.ID, Text: resp.Text}
		}
		t.Items = append(t.Items, ti)
		if judged[id] {
			t.Done = append(t.Done, id)
		}
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// getProgress answers the lead's view of a project: GET /api/v1/projects/{p}.
func (a *API) getProgress(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.authorize(r, r.PathValue("p"))
	if err != nil {
		return err
	}
	if !acc.lead {
		return errorf(http.StatusForbidden, codeForbidden, "progress is for the project lead: use the lead token")
	}
	p := acc.p
	p.tallyMu.Lock()
	defer p.tallyMu.Unlock()
	if err := a.catchUp(r.Context(), p); err != nil {
		return err
	}
	type result struct {
		done                map[string]bool
		goldDone, goldRight int
	}
	results := map[string]*result{}
	for _, rt := range p.rec.Raters {
		results[rt.ID] = &result{done: map[string]bool{}}
	}
	// Done and gold accuracy count what stands (revisions, withdrawals and the
	// lead's reviews applied); gold accuracy is agree.GoldScore's: each comparison
	// against the gold order of the two responses shown.
	for _, j := range feedback.Current(p.tally.js) {
		t := results[j.Rater]
		if t == nil || !p.queued[j.Rater][j.Item] {
			continue
		}
		t.done[j.Item] = true
		if it := p.items[j.Item]; it.GoldBest != "" {
			n, right := agree.GoldScore(it, &j)
			t.goldDone += n
			t.goldRight += right
		}
	}
	pr := wire.Progress{
		ID: p.rec.ID, Name: p.rec.Name, Snapshot: p.rec.Snapshot, Overlap: p.rec.Overlap,
		GoldRate: p.rec.GoldRate, Items: len(p.items), GoldItems: p.goldItems, Events: p.tally.events,
		QuotaEvents: a.cfg.MaxRaterEvents, QuotaBytes: a.cfg.MaxRaterBytes, Raters: []wire.RaterProgress{},
	}
	for _, rt := range p.rec.Raters {
		t, res := p.tally.raters[rt.ID], results[rt.ID]
		rp := wire.RaterProgress{
			Rater:    wire.Rater{ID: rt.ID, Name: rt.Name, Group: rt.Group},
			Assigned: len(rt.Queue), Done: len(res.done), GoldDone: res.goldDone,
			GoldCorrect: res.goldRight, Events: t.events, Bytes: t.bytes, LastTime: t.last,
		}
		for _, id := range rt.Queue {
			if p.items[id].GoldBest != "" {
				rp.GoldAssigned++
			}
		}
		pr.Raters = append(pr.Raters, rp)
	}
	writeJSON(w, http.StatusOK, pr)
	return nil
}

// validEventID reports whether id can name an event or a rater: 1 to 128 bytes of
// UTF-8 with no control characters.
func validEventID(id string) bool {
	if id == "" || len(id) > 128 || !utf8.ValidString(id) {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
