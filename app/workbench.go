package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"prefer/app/jobs"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// workbench is the working state shared by every page: the snapshot being worked on,
// its judgments, the browser database that keeps them, the training worker and the
// running job. Pages read it in Render and subscribe to its changes; go-app makes a
// fresh page component on each navigation, so nothing durable lives in a component.
//
// Persistence: the state as last stored (base, encoded) is in store "state"; each
// judgment made since is in store "events", written before the judgment is
// acknowledged. A finished job stores the worker's new encoded state and drops the
// events it included, so the UI never re-encodes a big state on the main thread.
type workbench struct {
	mu sync.Mutex

	started bool
	ready   bool   // loaded from the database
	loadErr string // why loading failed, for the page to say
	db      KV

	snap    *snapshot.Snapshot        // working state; its Judgments are stale: log is the truth
	log     *feedback.Log             // every judgment
	base    []byte                    // the encoded state in store "state" (without the unsaved events)
	unsaved map[string]bool           // ids of judgments in store "events", not in base
	extra   map[string]feedback.Rater // raters added since base (the local rater)
	version int                       // bumped on every change

	listeners map[int]func()
	progress  map[int]func() // called on job progress only
	nextID    int

	worker Worker
	job    *jobStatus
	jobSeq int // jobs started since the page loaded (releaseIdleWorker)

	meta map[string]string // store "meta", mirrored

	jobTimes map[string]jobRecord // the last job of each kind
	jobsDone int                  // jobs finished since the page loaded

	ref []byte // the reference language model's file (refLMURL), once fetched
}

// jobStatus is the running (or last) job, shown by every page's job bar.
type jobStatus struct {
	Kind     string
	Title    string
	Phase    string
	Step     int
	Total    int
	Started  time.Time
	Done     bool
	Err      string
	Canceled bool
	Series   map[string][]float64 // metric series from progress messages, for live curves
	Steps    []int                // the step of each series point
	Result   *jobs.Result
}

// wb is the one workbench of the page.
var wb = &workbench{}

// Keys of the meta store.
const (
	metaRater   = "rater"   // the local rater's id
	metaTheme   = "theme"   // "light", "dark" or "" (follow the system)
	metaProject = "project" // project mode: JSON of projectLink
	metaLesson  = "lesson"  // the lesson's current step
)

const stateKey = "current"

// start opens the database and loads the working state once; later calls do nothing.
// It runs on its own goroutine and notifies subscribers when done.
func (w *workbench) start() {
	w.mu.Lock()
	if w.started || browser == nil {
		w.mu.Unlock()
		return
	}
	w.started = true
	w.mu.Unlock()
	go func() {
		err := w.load()
		w.mu.Lock()
		w.ready = true
		if err != nil {
			w.loadErr = err.Error()
		}
		w.version++
		w.mu.Unlock()
		markReady()
		w.notify()
	}()
}

func (w *workbench) load() error {
	w.snap = &snapshot.Snapshot{}
	w.log = feedback.NewLog()
	w.unsaved = map[string]bool{}
	w.extra = map[string]feedback.Rater{}
	w.meta = map[string]string{}
	db, err := browser.OpenDB()
	if err != nil {
		return err
	}
	w.db = db
	metas, err := db.All(storeMeta)
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	for _, r := range metas {
		w.meta[r.Key] = string(r.Value)
	}
	base, ok, err := db.Get(storeState, stateKey)
	if err != nil {
		return fmt.Errorf("read the saved state: %w", err)
	}
	if ok {
		s, err := decodeState(base, yieldToBrowser)
		if err != nil {
			return fmt.Errorf("the saved state is damaged (%v); download it from the Data page and start afresh", err)
		}
		w.snap, w.base = s, base
		w.log = s.Log()
	}
	evs, err := db.All(storeEvents)
	if err != nil {
		return fmt.Errorf("read saved judgments: %w", err)
	}
	for _, r := range evs {
		d, err := snapshot.Unmarshal(r.Value)
		if err != nil {
			continue // a damaged record: skip it rather than lose the rest
		}
		for _, rt := range d.Raters {
			w.extra[rt.ID] = rt
		}
		for _, j := range d.Judgments {
			w.log.Append(j)
			w.unsaved[j.ID] = true
		}
	}
	w.addExtraRaters()
	return nil
}

// addExtraRaters puts the raters added since base into snap.
func (w *workbench) addExtraRaters() {
	for _, r := range w.extra {
		found := false
		for _, have := range w.snap.Raters {
			if have.ID == r.ID {
				found = true
				break
			}
		}
		if !found {
			w.snap.Raters = append(w.snap.Raters, r)
		}
	}
}

// subscribe calls fn after every change of the state (not on job progress) until
// the returned function is called.
func (w *workbench) subscribe(fn func()) (cancel func()) {
	return w.listen(&w.listeners, fn)
}

// subscribeProgress calls fn on every progress report of the running job. Only the
// small components that show progress (the job bar, live charts) subscribe, so a
// page is not re-rendered while a job runs.
func (w *workbench) subscribeProgress(fn func()) (cancel func()) {
	return w.listen(&w.progress, fn)
}

func (w *workbench) listen(set *map[int]func(), fn func()) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if *set == nil {
		*set = map[int]func(){}
	}
	id := w.nextID
	w.nextID++
	(*set)[id] = fn
	return func() {
		w.mu.Lock()
		delete(*set, id)
		w.mu.Unlock()
	}
}

func (w *workbench) notify()         { w.call(w.listeners) }
func (w *workbench) notifyProgress() { w.call(w.progress) }

func (w *workbench) call(set map[int]func()) {
	w.mu.Lock()
	ids := make([]int, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	fns := make([]func(), 0, len(ids))
	for _, id := range ids {
		fns = append(fns, set[id])
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// view is a consistent read of the state for rendering.
type view struct {
	Ready     bool
	LoadErr   string
	Snap      *snapshot.Snapshot
	Judgments []feedback.Judgment // canonical order; do not modify
	Version   int
	Job       *jobStatus
}

func (w *workbench) view() view {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := view{Ready: w.ready, LoadErr: w.loadErr, Snap: w.snap, Version: w.version, Job: w.job}
	if w.log != nil {
		v.Judgments = w.log.All()
	}
	if v.Snap == nil {
		v.Snap = &snapshot.Snapshot{}
	}
	return v
}

// Meta returns a setting.
func (w *workbench) Meta(key string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.meta[key]
}

// SetMeta stores a setting (durably) and notifies.
func (w *workbench) SetMeta(key, value string) error {
	w.mu.Lock()
	db := w.db
	if w.meta == nil {
		w.meta = map[string]string{}
	}
	w.meta[key] = value
	w.mu.Unlock()
	if db == nil {
		return errors.New("the browser database is not open")
	}
	err := db.Apply(Op{Store: storeMeta, Key: key, Value: []byte(value)})
	w.notify()
	return err
}

// localRater returns the local rater, creating its id on first use.
func (w *workbench) localRater() feedback.Rater {
	id := w.Meta(metaRater)
	if id == "" {
		id = "you-" + randomID()[:8]
		_ = w.SetMeta(metaRater, id)
	}
	return feedback.Rater{ID: id, Name: "You", Group: "local", Kind: feedback.RaterHuman}
}

// Record stores a judgment durably (store "events", and the sync outbox in project
// mode) and only then adds it to the state. It blocks: call it from ctx.Async.
func (w *workbench) Record(j feedback.Judgment, rater feedback.Rater) error {
	w.mu.Lock()
	db := w.db
	_, known := w.extra[rater.ID]
	inSnap := false
	if w.snap != nil {
		for _, r := range w.snap.Raters {
			if r.ID == rater.ID {
				inSnap = true
				break
			}
		}
	}
	outbox := w.meta[metaProject] != ""
	w.mu.Unlock()
	if db == nil {
		return errors.New("the browser database is not open: the judgment was not saved")
	}
	rec := &snapshot.Snapshot{Judgments: []feedback.Judgment{j}}
	if !known && !inSnap {
		rec.Raters = []feedback.Rater{rater}
	}
	data, err := snapshot.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode the judgment: %w", err)
	}
	ops := []Op{{Store: storeEvents, Key: j.ID, Value: data}}
	if outbox {
		ops = append(ops, Op{Store: storeOutbox, Key: j.ID, Value: data})
	}
	if err := db.Apply(ops...); err != nil {
		return err
	}
	w.mu.Lock()
	if !known && !inSnap {
		w.extra[rater.ID] = rater
		w.snap.Raters = append(w.snap.Raters, rater)
	}
	w.log.Append(j)
	w.unsaved[j.ID] = true
	w.version++
	w.mu.Unlock()
	if outbox {
		syncer.wake()
	}
	w.notify()
	return nil
}

// Remove takes back a judgment (undo). A judgment already accepted by the server
// cannot be taken back; Remove then reports it.
// ErrSynced is Remove's answer for a judgment the project server already holds: it
// cannot be taken out of the log any more, only withdrawn or revised by a new event
// (feedback.Current).
var ErrSynced = errors.New("this judgment has already reached the server: it can only be withdrawn or revised")

func (w *workbench) Remove(id string) error {
	w.mu.Lock()
	db := w.db
	unsaved := w.unsaved[id]
	w.mu.Unlock()
	if db == nil {
		return errors.New("the browser database is not open")
	}
	if w.Meta(metaProject) != "" {
		_, waiting, err := db.Get(storeOutbox, id)
		_, held, herr := db.Get(storeHeld, id) // refused by the server: it never got there
		if err == nil && herr == nil && !waiting && !held {
			return ErrSynced
		}
	}
	w.mu.Lock()
	var keep []feedback.Judgment
	for _, j := range w.log.All() {
		if j.ID != id {
			keep = append(keep, j)
		}
	}
	w.log = feedback.NewLog(keep...)
	delete(w.unsaved, id)
	w.version++
	var ops []Op
	ops = append(ops, Op{Store: storeEvents, Key: id, Delete: true}, Op{Store: storeOutbox, Key: id, Delete: true},
		Op{Store: storeHeld, Key: id, Delete: true})
	if !unsaved {
		// The judgment is in the stored state: store the state without it.
		s := *w.snap
		s.Judgments = nil
		for _, j := range keep {
			if !w.unsaved[j.ID] {
				s.Judgments = append(s.Judgments, j)
			}
		}
		data, err := snapshot.Marshal(&s)
		if err != nil {
			w.mu.Unlock()
			return err
		}
		w.base = data
		ops = append(ops, Op{Store: storeState, Key: stateKey, Value: data})
	}
	w.mu.Unlock()
	err := db.Apply(ops...)
	w.notify()
	return err
}

// Replace makes s (encoded as data) the working state, keeping the previous one in
// the library, and drops the unsaved judgments' records (they belong to the old
// state, which is kept whole in the library).
func (w *workbench) Replace(data []byte, s *snapshot.Snapshot) error {
	w.mu.Lock()
	db := w.db
	old := w.snapshotLocked()
	oldBase, extra := w.base, len(w.extra)
	unsaved := make([]string, 0, len(w.unsaved))
	for id := range w.unsaved {
		unsaved = append(unsaved, id)
	}
	w.mu.Unlock()
	if db == nil {
		return errors.New("the browser database is not open")
	}
	ops := []Op{{Store: storeState, Key: stateKey, Value: data}}
	if len(old.Items)+len(old.Judgments) > 0 {
		// With nothing added since it was stored, the old state is its stored bytes:
		// no need to encode it again on the page's main thread.
		oldData, err := oldBase, error(nil)
		if len(unsaved) > 0 || extra > 0 || oldData == nil {
			oldData, err = snapshot.Marshal(old)
		}
		if err == nil {
			ops = append(ops, Op{Store: storeLibrary, Key: snapshot.ID(oldData), Value: oldData})
		}
	}
	for _, id := range unsaved {
		ops = append(ops, Op{Store: storeEvents, Key: id, Delete: true})
	}
	if err := db.Apply(ops...); err != nil {
		return err
	}
	w.mu.Lock()
	w.snap, w.base = s, data
	w.log = s.Log()
	w.unsaved = map[string]bool{}
	w.extra = map[string]feedback.Rater{}
	w.version++
	w.mu.Unlock()
	w.notify()
	return nil
}

// snapshotLocked returns the whole working state as a snapshot (judgments from the
// log). The caller holds w.mu.
func (w *workbench) snapshotLocked() *snapshot.Snapshot {
	s := *w.snap
	s.Judgments = append([]feedback.Judgment(nil), w.log.All()...)
	return &s
}

// Snapshot returns the whole working state, encoded, and its id.
func (w *workbench) Snapshot() ([]byte, string, error) {
	w.mu.Lock()
	s := w.snapshotLocked()
	w.mu.Unlock()
	data, err := snapshot.Marshal(s)
	if err != nil {
		return nil, "", err
	}
	return data, snapshot.ID(data), nil
}

// request fills the working state of a job request: the stored state and the
// judgments since. It returns the ids of the judgments it included.
func (w *workbench) request(req *jobs.Request) ([]string, error) {
	if req.Kind == jobs.KindLandscape {
		return nil, nil // needs no state
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	req.Snapshot = w.base
	if len(w.unsaved) == 0 && len(w.extra) == 0 {
		return nil, nil
	}
	d := &snapshot.Snapshot{}
	var ids []string
	for _, j := range w.log.All() {
		if w.unsaved[j.ID] {
			d.Judgments = append(d.Judgments, j)
			ids = append(ids, j.ID)
		}
	}
	for _, r := range w.extra {
		d.Raters = append(d.Raters, r)
	}
	sort.Slice(d.Raters, func(a, b int) bool { return d.Raters[a].ID < d.Raters[b].ID })
	data, err := snapshot.Marshal(d)
	if err != nil {
		return nil, err
	}
	req.Delta = data
	return ids, nil
}

// Run runs a job in the worker, showing its progress in the job bar, and applies its
// result to the state. It blocks: call it from ctx.Async. onProgress (may be nil) is
// called with each progress message.
func (w *workbench) Run(title string, req jobs.Request, onProgress func(jobs.Progress)) (*jobs.Result, error) {
	w.mu.Lock()
	if w.job != nil && !w.job.Done {
		w.mu.Unlock()
		return nil, errors.New("another job is running; wait for it or cancel it")
	}
	st := &jobStatus{Kind: req.Kind, Title: title, Phase: "starting", Started: time.Now(), Series: map[string][]float64{}}
	w.job = st
	w.jobSeq++
	wk := w.worker
	w.mu.Unlock()
	defer w.releaseIdleWorker()
	w.notify()
	w.notifyProgress()
	// The page draws the job's start (job bar, disabled buttons) before the request
	// is encoded: both in one task made the click on "Run all steps" a task of
	// 37–91 ms.
	yieldToBrowser()
	fail := func(err error) (*jobs.Result, error) {
		w.mu.Lock()
		st.Done = true
		if errors.Is(err, ErrCanceled) {
			st.Canceled = true
		} else {
			st.Err = err.Error()
		}
		w.mu.Unlock()
		w.notify()
		w.notifyProgress()
		return nil, err
	}
	if wk == nil {
		var err error
		if wk, err = browser.StartWorker(); err != nil {
			return fail(err)
		}
		w.mu.Lock()
		w.worker = wk
		w.mu.Unlock()
	}
	if (req.Kind == jobs.KindOptimizeLM || req.Kind == jobs.KindSampleLM) && len(req.Ref) == 0 {
		ref, err := w.reference()
		if err != nil {
			return fail(err)
		}
		req.Ref = ref
	}
	ids, err := w.request(&req)
	if err != nil {
		return fail(err)
	}
	data, err := jobs.Encode(&req)
	if err != nil {
		return fail(err)
	}
	last := time.Time{}
	out, err := wk.Run(data, func(msg []byte) {
		p, err := jobs.DecodeProgress(msg)
		if err != nil {
			return
		}
		w.mu.Lock()
		st.Phase, st.Step, st.Total = p.Phase, p.Step, p.Total
		if len(p.Metrics) > 0 {
			st.Steps = append(st.Steps, p.Step)
			for k, v := range p.Metrics {
				st.Series[k] = append(st.Series[k], v)
			}
		}
		w.mu.Unlock()
		if onProgress != nil {
			onProgress(p)
		}
		// Redraw the progress at most ~8 times a second.
		if now := time.Now(); now.Sub(last) > 120*time.Millisecond {
			last = now
			w.notifyProgress()
		}
	})
	if err != nil {
		return fail(err)
	}
	res, err := jobs.DecodeResult(out)
	if err != nil {
		return fail(err)
	}
	// The result is taken in steps with the browser running between them (decode,
	// store, re-render), so that no step is a long task on the page's main thread.
	yieldToBrowser()
	switch {
	case res.Replace:
		s, err := decodeState(res.Snapshot, yieldToBrowser)
		if err != nil {
			return fail(fmt.Errorf("decode the new state: %w", err))
		}
		if err := w.Replace(res.Snapshot, s); err != nil {
			return fail(err)
		}
	case len(res.Snapshot) > 0:
		if err := w.apply(res, ids); err != nil {
			return fail(err)
		}
	}
	// The state is merged; the page re-renders in a task of its own (a task ended by
	// the database's write did both: 89–193 ms under load).
	yieldToBrowser()
	w.mu.Lock()
	if w.jobTimes == nil {
		w.jobTimes = map[string]jobRecord{}
	}
	w.jobTimes[req.Kind] = jobRecord{Millis: res.Millis, Mem: res.Mem}
	w.jobsDone++
	st.Done, st.Result, st.Phase = true, res, "done"
	w.mu.Unlock()
	w.notify()
	w.notifyProgress()
	return res, nil
}

// workerIdle is how long the training worker is kept after its last job. Then it
// is terminated, and the next job starts a new one (about a second on a slow
// machine: the loader, worker.wasm compiled again, Go's start-up). A worker holds
// its Go wasm memory, which never shrinks — after the lesson's transformer step
// 60–70 MB — and its own JavaScript engine and compiled code: about 100 MB of the
// tab's private memory, given back by ending it (docs/ui.md, "Memory"). Jobs keep
// no state in the worker between them (each request carries the state), so a new
// worker runs the next job exactly as the old one would have.
const workerIdle = 30 * time.Second

// releaseIdleWorker terminates the worker workerIdle from now unless another job
// has started by then.
func (w *workbench) releaseIdleWorker() {
	w.mu.Lock()
	seq := w.jobSeq
	w.mu.Unlock()
	time.AfterFunc(workerIdle, func() {
		w.mu.Lock()
		wk := w.worker
		if seq != w.jobSeq || wk == nil {
			w.mu.Unlock()
			return
		}
		w.worker = nil
		w.mu.Unlock()
		wk.Close()
	})
}

// refLMURL is the pretrained transformer that the generative-policy jobs start from
// (prefer pretrain --seed 1, 362 kB), precached by the service worker.
const refLMURL = "/web/ref-lm.snap"

// reference returns the file of the reference language model, fetched once per
// page. It blocks: call it from ctx.Async.
func (w *workbench) reference() ([]byte, error) {
	w.mu.Lock()
	ref := w.ref
	w.mu.Unlock()
	if ref != nil {
		return ref, nil
	}
	reply, err := browser.Fetch("GET", appPath(refLMURL), nil, nil)
	status, data := reply.Status, reply.Body
	if err != nil {
		return nil, fmt.Errorf("load the pretrained transformer (%s): %v; open the workbench online once so that it is kept for offline use", refLMURL, err)
	}
	if status != 200 || len(data) == 0 {
		return nil, fmt.Errorf("load the pretrained transformer (%s): the server answered HTTP %d; this build may lack ref-lm.snap", refLMURL, status)
	}
	w.mu.Lock()
	w.ref = data
	w.mu.Unlock()
	return data, nil
}

// apply stores a job's new state and merges its delta into the UI's copy. The
// judgments the job included (ids) are now in the stored state.
func (w *workbench) apply(res *jobs.Result, ids []string) error {
	var delta *snapshot.Snapshot
	if len(res.Delta) > 0 {
		d, err := decodeState(res.Delta, yieldToBrowser)
		if err != nil {
			return fmt.Errorf("decode the job's changes: %w", err)
		}
		delta = d
	}
	ops := []Op{{Store: storeState, Key: stateKey, Value: res.Snapshot}}
	for _, id := range ids {
		ops = append(ops, Op{Store: storeEvents, Key: id, Delete: true})
	}
	if err := w.db.Apply(ops...); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.base = res.Snapshot
	for _, id := range ids {
		delete(w.unsaved, id)
	}
	w.extra = map[string]feedback.Rater{}
	if delta != nil {
		w.snap.Judgments = nil
		jobs.Merge(w.snap, delta)
		for _, j := range delta.Judgments {
			w.log.Append(j)
		}
	}
	w.version++
	return nil
}

// Cancel cancels the running job.
func (w *workbench) Cancel() {
	w.mu.Lock()
	wk := w.worker
	running := w.job != nil && !w.job.Done
	w.mu.Unlock()
	if wk != nil && running {
		wk.Cancel()
	}
}

// randomID returns 32 random hex digits (crypto/rand: crypto.getRandomValues in the
// browser).
func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("app: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
