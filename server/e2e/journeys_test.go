package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// lessonRun is what a full run of the lesson measured.
type lessonRun struct {
	TTI        float64 // ms from navigation start to the workbench being usable
	LongTaskMS float64 // longest main-thread task while the lesson trained
	LongTasks  int     // tasks over 50 ms while it trained
	Stats      map[string]float64
	Elapsed    time.Duration
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
	// Every main-thread task over 50 ms while training (PerformanceObserver longtask).
	eval[bool](b, `(window.__long = [], new PerformanceObserver(l => { for (const e of l.getEntries()) { window.__long.push(e.duration); (window.__lt = window.__lt || []).push(Math.round(e.duration) + "@" + Math.round(e.startTime) + ":" + ((document.querySelector("#job") || {}).innerText || "-").replace(/\s+/g, " ").slice(0, 60)) } }).observe({type: "longtask"}), true)`)
	start := time.Now()
	b.click("#lesson-all")
	b.wait("the lesson to finish", `document.querySelector("#step-samples[data-done=true]") && document.querySelector("#step-sweep[data-done=true]")`, 4*time.Minute)
	r.Elapsed = time.Since(start)
	r.LongTaskMS = eval[float64](b, `Math.max(0, ...window.__long)`)
	r.LongTasks = eval[int](b, `window.__long.length`)
	r.Stats = b.stats()
	t.Logf("long tasks: %s", eval[string](b, `(window.__lt || []).join("\n")`))
	return r
}

// TestJ1Lesson is journey J1 (PRODUCT.md §1): a fresh profile opens /, runs the
// lesson with simulated raters — a reward model is trained and the policy optimized
// at two β — and the page shows the proxy-vs-gold curve and samples before/after.
// Then the network is cut (the server stopped) and the page reloaded: the app still
// loads and the lesson still runs.
func TestJ1Lesson(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	r := runLesson(t, b, s)
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
	b.shot("j1-lesson-done")

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
