package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// lessonRun is what a full run of the lesson measured.
type lessonRun struct {
	TTI        float64 // ms from navigation start to the workbench being usable
	LongTaskMS float64 // longest main-thread task while the lesson trained
	LongTasks  int     // tasks over 50 ms while it trained
	Stats      map[string]float64
	Elapsed    time.Duration
	Idle       tabMemory // the tab on the lesson page before any job
}

// runLesson opens / in b, runs the whole lesson and returns the measurements.
func runLesson(t testing.TB, b *browser, s *server) lessonRun {
	t.Helper()
	b.nav(s.url("/"))
	b.ready()
	var r lessonRun
	r.TTI = eval[float64](b, `performance.getEntriesByName("prefer-ready")[0].startTime`)
	b.click("#door-lesson")
	b.wait("the lesson page", `document.querySelector("#lesson-all")`, 30*time.Second)
	b.watchMemory()
	r.Idle = b.memory()
	// Every main-thread task over 50 ms while training (PerformanceObserver longtask).
	eval[bool](b, `(window.__long = [], new PerformanceObserver(l => { for (const e of l.getEntries()) { window.__long.push(e.duration); (window.__lt = window.__lt || []).push(Math.round(e.duration) + "@" + Math.round(e.startTime) + ":" + ((document.querySelector("#job") || {}).innerText || "-").replace(/\s+/g, " ").slice(0, 60)) } }).observe({type: "longtask"}), true)`)
	// And every frame over 50 ms (Long Animation Frames, where the browser has them),
	// logged with where its time went: the page's scripts, and the rendering that
	// starts at render_ms.
	eval[bool](b, `(window.__loaf = [], PerformanceObserver.supportedEntryTypes.includes("long-animation-frame") && new PerformanceObserver(l => {
		for (const e of l.getEntries()) window.__loaf.push(JSON.stringify({
			at_ms: Math.round(e.startTime), frame_ms: Math.round(e.duration), render_ms: Math.round(e.renderStart - e.startTime),
			scripts: e.scripts.map(s => s.invoker + " " + Math.round(s.duration) + " ms")}))
	}).observe({type: "long-animation-frame"}), true)`)
	if b.beforeLesson != nil {
		b.beforeLesson()
	}
	start := time.Now()
	b.click("#lesson-all")
	b.wait("the lesson to finish", `document.querySelector("#step-samples[data-done=true]") && document.querySelector("#step-sweep[data-done=true]")`, 4*time.Minute)
	r.Elapsed = time.Since(start)
	r.LongTaskMS = eval[float64](b, `Math.max(0, ...window.__long)`)
	r.LongTasks = eval[int](b, `window.__long.length`)
	r.Stats = b.stats()
	t.Logf("long tasks: %s", eval[string](b, `(window.__lt || []).join("\n")`))
	t.Logf("frames over 50 ms: %s", eval[string](b, `window.__loaf.join("\n")`))
	return r
}

// TestJ1Lesson is journey J1 (docs/ui.md): a fresh profile opens /, runs the
// lesson with simulated raters — a reward model is trained and the policy optimized
// at two β — and the page shows the proxy-vs-gold curve and samples before/after.
// The lesson then runs a second time in the same tab, and the tab's memory after
// each run must stay within 1.5 times the goals (memory_test.go). Then the network
// is cut (the server stopped) and the page reloaded: the app still loads and the
// lesson still runs.
func TestJ1Lesson(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	stop := busyCore() // issue 17: responsive with one core kept busy (reported)
	r := runLesson(t, b, s)
	stop()
	t.Logf("stats: %v", r.Stats)
	t.Logf("lesson ran in %v (TTI %.0f ms, longest task while training %.0f ms, %d tasks over 50 ms)", r.Elapsed, r.TTI, r.LongTaskMS, r.LongTasks)
	for _, sel := range []string{"#lesson-rm-loss svg", "#lesson-weak svg", "#lesson-strong svg", "#lesson-sweep-chart svg"} {
		if eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)) == 0 {
			b.fail("the lesson does not show %s", sel)
		}
	}
	if n := eval[int](b, `document.querySelectorAll("#samples .sample").length`); n < 6 {
		b.fail("the lesson shows %d before/after samples, want at least 6", n)
	}
	if eval[int](b, `document.querySelectorAll(".caption").length`) < 4 {
		b.fail("the lesson steps lack their captions")
	}
	checkAha(b) // the figures core/lesson pins (class_test.go)
	b.shot("j1-lesson-done")

	// Memory (issue 17): after the whole lesson (its transformer step included) and
	// after a second one in the same tab, reported, and failed above 1.5 times the
	// goals.
	waitJobs(b, "the lesson's transformer step", lessonJobs)
	first := b.memory()
	t.Logf("on the lesson page before any job: %v", r.Idle)
	t.Logf("after the lesson: %v", first)
	checkLessonBudget(b, "after the lesson", first)
	took := secondLesson(b)
	second := b.memory()
	t.Logf("after a second lesson (%v): %v", took.Round(time.Second), second)
	checkLessonBudget(b, "after a second lesson", second)
	// The idle worker is ended (app/workbench.go, workerIdle): its memory goes back
	// to the machine, and the next job starts a new worker.
	b.wait("the idle worker to be ended", `JSON.parse(preferStats()).worker_running === 0`, 60*time.Second)
	released := b.memory()
	t.Logf("the idle worker ended: %v", released)
	if c := second.AnonMB - released.AnonMB; second.AnonMB > 0 && c < second.WorkerMB/2 {
		b.fail("ending the idle worker gave back %.0f MB of the renderer's %.0f MB (RssAnon), less than half the worker's %.0f MB of wasm memory", c, second.AnonMB, second.WorkerMB)
	}
	done, start := int(b.stats()["jobs_done"]), time.Now()
	b.click("#lesson-train")
	waitJobs(b, "training the reward model in a new worker", done+1)
	t.Logf("training the reward model in a new worker took %v (%v in the worker)", time.Since(start).Round(time.Millisecond), b.stats()["job_ms.train-rm"])

	// The network is cut: the server goes away and the browser says offline.
	s.stop()
	b.offline(true)
	b.reload()
	b.ready()
	b.wait("the lesson after reload", `document.querySelector("#step-samples[data-done=true]")`, 30*time.Second)
	// The lesson still runs offline: simulate afresh, then train the reward model.
	b.click("#lesson-simulate")
	b.wait("the simulation offline", `document.querySelector("#step-feedback[data-done=true]") && !document.querySelector("#step-reward[data-done=true]")`, 2*time.Minute)
	b.click("#lesson-train")
	b.wait("training offline", `document.querySelector("#step-reward[data-done=true]")`, 2*time.Minute)
	b.shot("j1-lesson-offline")
	// Every page loads offline too (service worker precache, hard loads).
	for _, path := range []string{"/", "/label", "/data", "/lesson"} {
		b.nav(s.url(path))
		b.ready()
	}
}

// TestJ2OfflineLabeling is the offline half of journey J2: label 20 items by
// keyboard only, go offline, label 10 more, reload the tab: all 30 are still there.
func TestJ2OfflineLabeling(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	b.nav(s.url("/label"))
	b.ready()
	b.click("#load-demo")
	b.wait("the first item", `document.querySelector("#label-prompt")`, 30*time.Second)
	base := int(b.stats()["judgments"])
	label := func(n int) {
		for i := 0; i < n; i++ {
			before := b.progress()
			b.key([]string{"1", "2", "3", "4"}[i%4][:1])
			b.wait("judgment "+strconv.Itoa(before+1)+" to be saved", fmt.Sprintf(`+document.querySelector("#progress-count").dataset.done === %d`, before+1), 20*time.Second)
		}
	}
	label(20)
	b.shot("j2-labeled-20")
	s.stop()
	b.offline(true)
	b.wait("the offline badge", `document.querySelector("#net-badge.offline")`, 10*time.Second)
	label(10)
	b.shot("j2-offline-30")
	b.reload()
	b.ready()
	b.wait("the queue after reload", `document.querySelector("#progress-count")`, 30*time.Second)
	if got := b.progress(); got != 30 {
		b.fail("after reload %d items are done, want 30", got)
	}
	if got := int(b.stats()["judgments"]) - base; got != 30 {
		b.fail("after reload the state holds %d new judgments, want 30", got)
	}
	s.start()
	b.offline(false)
}

// progress returns the number of items done in the label page's current mode.
func (b *browser) progress() int {
	b.tb.Helper()
	return eval[int](b, `+document.querySelector("#progress-count").dataset.done`)
}

// TestJ2Rater is journey J2 with the server: a rater opens the project link with
// its token, labels 20 items by keyboard only, goes offline, labels 10 more, reloads
// the tab (all 30 still there), comes back online, and the server then holds
// exactly 30 judgments of that rater, none twice.
func TestJ2Rater(t *testing.T) {
	s := startServer(t)
	proj := createProject(t, s, "J2", 1, 1, 0)
	rater := proj.Raters[0].ID
	link := local(s, proj.Raters[0].URL)
	b := newBrowser(t)
	b.nav(link)
	b.ready()
	b.wait("the rater's queue", `document.querySelector("#label-prompt") && +document.querySelector("#progress-count").dataset.total >= 30`, 60*time.Second)
	b.labelN(20)
	b.wait("the first 20 to reach the server", `document.querySelector("#net-badge").dataset.pending === "0"`, 60*time.Second)
	s.stop()
	b.offline(true)
	b.wait("the offline badge", `document.querySelector("#net-badge.offline")`, 10*time.Second)
	b.labelN(10)
	b.wait("10 judgments pending", `document.querySelector("#net-badge").dataset.pending === "10"`, 20*time.Second)
	b.shot("j2-rater-offline")
	b.reload()
	b.ready()
	b.wait("the queue after reload", `document.querySelector("#progress-count")`, 30*time.Second)
	if got := b.progress(); got != 30 {
		b.fail("after reload %d items are done, want 30", got)
	}
	// The badge counts the outbox right after the reload (offline): it shows "…"
	// until the count is known, never a wrong 0.
	b.wait("the badge's count after reload", `document.querySelector("#net-badge").dataset.pending !== ""`, 10*time.Second)
	if got := eval[string](b, `document.querySelector("#net-badge").dataset.pending`); got != "10" {
		b.fail("after reload the badge shows %q pending, want 10", got)
	}
	s.start()
	b.offline(false)
	// The server must end with exactly 30 judgments of the rater, none twice.
	count := func() (n, distinct int) {
		ids := serverEvents(t, s, proj, rater)
		set := map[string]bool{}
		for _, id := range ids {
			set[id] = true
		}
		return len(ids), len(set)
	}
	deadline := time.Now().Add(90 * time.Second)
	n, distinct := count()
	for n < 30 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		n, distinct = count()
	}
	// Idle with an empty outbox: every request the page sent has been answered and
	// none is due, so anything sent twice has arrived.
	b.wait("the sync loop idle with all synced", `document.querySelector("#net-badge").dataset.pending === "0" && document.querySelector("#net-badge").dataset.idle === "true"`, 30*time.Second)
	if n, distinct = count(); n != 30 || distinct != 30 {
		t.Fatalf("the server holds %d judgments (%d distinct) of rater %s, want exactly 30", n, distinct, rater)
	}
	b.shot("j2-rater-synced")
}

// TestJ3Researcher is journey J3: import a dataset file (HH-RLHF), train a reward
// model, optimize a policy, press Share, open the link in a second, fresh browser
// profile: the same items, judgments, model metrics and samples appear.
func TestJ3Researcher(t *testing.T) {
	s := startServer(t)
	a := newBrowser(t)
	a.nav(s.url("/data"))
	a.ready()
	a.wait("the import controls", `document.querySelector("#import-format")`, 30*time.Second)
	eval[bool](a, `(document.querySelector("#import-format").value = "hh-rlhf", document.querySelector("#import-format").dispatchEvent(new Event("change")), true)`)
	file := filepath.Join(repoRoot(t), "testdata", "hh-rlhf", "harmless-base-test.jsonl.gz")
	a.do(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}))
	a.click("#import-apply") // after the preview of what was read
	a.wait("the import", `(document.querySelector("#data-msg") || {}).innerText?.startsWith("Imported")`, 2*time.Minute)
	a.shot("j3-data-imported")
	items := a.text("#data-msg")
	a.nav(s.url("/reward"))
	a.ready()
	a.click("#rm-train")
	a.wait("the reward model", `document.querySelector("#rm-results")`, 3*time.Minute)
	a.shot("j3-reward")
	metricsA := a.text("#rm-results .grid")
	a.nav(s.url("/policy"))
	a.ready()
	// prefer-ready marks the state loaded; the controls come with the next render.
	a.wait("the policy controls", `document.querySelector("#po-steps")`, 30*time.Second)
	eval[bool](a, `(document.querySelector("#po-steps").value = "60", document.querySelector("#po-steps").dispatchEvent(new Event("input")), true)`)
	a.click("#po-run")
	a.wait("the policy", `document.querySelector("#po-samples .sample")`, 3*time.Minute)
	samplesA := a.text("#po-samples")
	a.shot("j3-policy")
	a.nav(s.url("/data"))
	a.ready()
	// prefer-ready marks the state loaded; the page shows it at its next render.
	a.wait("the data page's counts", `document.querySelector("#main .grid-4")`, 30*time.Second)
	countsA := a.text("#main .grid-4")
	a.click("#share-btn")
	a.wait("the share link", `(document.querySelector("#share-url") || {}).value`, time.Minute)
	link := eval[string](a, `document.querySelector("#share-url").value`)
	if !strings.Contains(link, "/s/") {
		a.fail("the share link %q is not a server link", link)
	}

	b := newBrowser(t)
	b.nav(link)
	b.ready()
	b.wait("the shared snapshot", `document.querySelector("#snapshot-msg[data-done=true]")`, time.Minute)
	if msg := b.text("#snapshot-msg"); !strings.HasPrefix(msg, "Opened") {
		b.fail("opening the link: %s", msg)
	}
	b.nav(s.url("/data"))
	b.ready()
	b.wait("the data page's counts", `document.querySelector("#main .grid-4")`, 30*time.Second)
	if got := b.text("#main .grid-4"); got != countsA {
		b.fail("the second profile shows %q, the first %q", got, countsA)
	}
	b.nav(s.url("/reward"))
	b.ready()
	b.wait("the reward results", `document.querySelector("#rm-results")`, 30*time.Second)
	if got := b.text("#rm-results .grid"); got != metricsA {
		b.fail("model metrics differ:\n%s\nvs\n%s", got, metricsA)
	}
	b.nav(s.url("/policy"))
	b.ready()
	b.wait("the policy samples", `document.querySelector("#po-samples .sample")`, 30*time.Second)
	if got := b.text("#po-samples"); got != samplesA {
		b.fail("samples differ:\n%s\nvs\n%s", got, samplesA)
	}
	b.shot("j3-second-profile")
	t.Logf("J3: %s; shared as %s", items, link)
}
