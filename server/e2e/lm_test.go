package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// lmRun is what a run of the lesson's transformer step measured.
type lmRun struct {
	Elapsed    time.Duration // clicking "Run PPO" to the results on the page
	WorkerMS   float64       // the job's time in the worker
	LongTaskMS float64       // longest main-thread task while the transformer trained
	LongTasks  int           // tasks over 50 ms meanwhile
	Caption    string        // the step's "what just happened"
}

// elementShot saves a screenshot of the element matching sel as NAME.png.
func (b *browser) elementShot(name, sel string) string {
	buf, err := chromedp.Run(b.ctx, chromedp.Screenshot(sel))
	if err != nil {
		b.tb.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(shotsDir(b.tb), name+".png")
	os.WriteFile(path, buf, 0o644)
	return path
}

// runLMStep opens /lesson (with ?lmsteps=N when steps > 0, and ?simd=off when
// goKernels: the worker then runs the Go kernels instead of the SIMD kernels, as a
// browser without WebAssembly SIMD would; docs/lm.md), simulates raters,
// trains the reward model, lets the pretrained transformer answer and runs the
// transformer step (PPO at the moderate β and at β ≈ 0), and checks what the step
// shows: the reference's answers, both runs' curves, the part mix, the answers
// before and after side by side and the caption.
func runLMStep(t testing.TB, b *browser, s *server, steps int, goKernels bool) lmRun {
	t.Helper()
	var query []string
	if steps > 0 {
		query = append(query, fmt.Sprintf("lmsteps=%d", steps))
	}
	if goKernels {
		query = append(query, "simd=off")
	}
	path := "/lesson"
	if len(query) > 0 {
		path += "?" + strings.Join(query, "&")
	}
	b.nav(s.url(path))
	b.ready()
	b.wait("the lesson page", `document.querySelector("#lesson-lm-run")`, 30*time.Second)
	// Each job is done when this page load has its time (the state may hold the
	// steps of an earlier visit already).
	job := func(button, kind string) {
		b.click(button)
		b.wait(kind, fmt.Sprintf(`JSON.parse(preferStats())["job_ms.%s"] > 0 || document.querySelector("#lesson-error")`, kind), 2*time.Minute)
		if msg := b.text("#lesson-error"); msg != "" {
			b.fail("%s: %s", kind, msg)
		}
	}
	job("#lesson-simulate", "simulate")
	job("#lesson-train", "train-rm")
	job("#lesson-lm-sample", "sample-lm")
	b.wait("the pretrained transformer's answers", `document.querySelectorAll("#lm-ref-samples .sample").length >= 4`, 30*time.Second)
	if c := b.text("#step-transformer .caption"); !strings.Contains(c, "pretrained transformer answered") {
		b.fail("the reference's caption says %q", c)
	}
	// Cancel works: start, see the live curves and the progress, cancel.
	b.click("#lesson-lm-run")
	b.wait("the transformer's progress", `document.querySelector("#lesson-lm-live svg") && +document.querySelector("#job [role=progressbar]").getAttribute("aria-valuenow") >= 30`, 2*time.Minute)
	b.elementShot("lm-lesson-running", "#step-transformer")
	b.elementShot("lm-lesson-jobbar", "#job")
	b.click("#job-cancel")
	b.wait("the cancel", `!document.querySelector("#job") && !document.querySelector("#lesson-lm-run").disabled`, 30*time.Second)
	if eval[bool](b, `!!document.querySelector("#step-transformer[data-done=true]")`) {
		b.fail("the transformer step is done after a cancel")
	}
	eval[bool](b, `(window.__lmlong = [], window.__lmlt = [], window.__lm0 = performance.now(), new PerformanceObserver(l => { for (const e of l.getEntries()) { window.__lmlong.push(e.duration); window.__lmlt.push(Math.round(e.duration) + " ms at " + Math.round(e.startTime - window.__lm0) + " ms: " + ((document.querySelector("#job") || {}).innerText || "no job").replace(/\s+/g, " ").slice(0, 80)) } }).observe({type: "longtask"}), true)`)
	start := time.Now()
	b.click("#lesson-lm-run")
	b.wait("the transformer's progress", `document.querySelector("#lesson-lm-live svg") && document.querySelector("#job-cancel")`, time.Minute)
	b.wait("the transformer step", `document.querySelector("#step-transformer[data-done=true]") && document.querySelector("#lesson-lm-zero svg")`, 5*time.Minute)
	var r lmRun
	r.Elapsed = time.Since(start)
	r.LongTaskMS = eval[float64](b, `Math.max(0, ...window.__lmlong)`)
	r.LongTasks = eval[int](b, `window.__lmlong.length`)
	t.Logf("long tasks while the transformer trained: %s", eval[string](b, `window.__lmlt.join("; ")`))
	r.WorkerMS = b.stats()["job_ms.optimize-lm"]
	for _, sel := range []string{"#lesson-lm-moderate svg", "#lesson-lm-zero svg", "#lesson-lm-mix table"} {
		if eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)) == 0 {
			b.fail("the transformer step does not show %s", sel)
		}
	}
	if n := eval[int](b, `document.querySelectorAll("#lm-samples .sample").length`); n < 9 {
		b.fail("the transformer step shows %d answers before/after, want at least 3 prompts × 3", n)
	}
	caps := eval[string](b, `[...document.querySelectorAll("#step-transformer .caption")].map(e => e.innerText).join("\n")`)
	if !strings.Contains(caps, "At β = 0.5") || !strings.Contains(caps, "At β = 0.001") || !strings.Contains(caps, "took") {
		b.fail("the transformer step's caption lacks the runs' numbers: %q", caps)
	}
	r.Caption = caps
	return r
}

// TestLMLesson is the lesson's transformer step in Chromium: the pretrained
// language model answers, PPO optimizes it in the worker at β = 0.5 and β = 0.001
// with live curves and a cancel button, and the step shows the curves, the part
// mix, the answers before and after and the caption with the numbers. With
// PREFER_E2E_LM_FULL=1 it runs the lesson's real setting (24 steps per run) and
// reports its time; otherwise 3 steps per run keep the test short
// (PREFER_E2E_SIMD=off runs the worker's Go kernels instead of the SIMD kernels, for
// comparison). Then the Policy
// page shows the runs of the generative policy and optimizes it again (RLOO, 2
// steps), and, with the server gone and the browser offline, the pretrained
// transformer still loads (precached) and answers. Screenshots of the step and the
// page go to the shots folder.
func TestLMLesson(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	steps := 3
	if os.Getenv("PREFER_E2E_LM_FULL") != "" {
		steps = 0
	}
	r := runLMStep(t, b, s, steps, os.Getenv("PREFER_E2E_SIMD") == "off")
	t.Logf("transformer step (lmsteps=%d): %v on the page, %.0f ms in the worker; longest main-thread task %.0f ms, %d over 50 ms",
		steps, r.Elapsed, r.WorkerMS, r.LongTaskMS, r.LongTasks)
	t.Logf("caption: %s", r.Caption)
	b.elementShot("lm-lesson-step", "#step-transformer")
	b.theme("dark")
	b.elementShot("lm-lesson-step-dark", "#step-transformer")
	b.theme("light")

	b.nav(s.url("/policy?kind=lm"))
	b.ready()
	b.wait("the generative policy's runs", `document.querySelector("#po-lm-results #po-lm-samples .sample")`, 30*time.Second)
	eval[bool](b, `(document.querySelector("#po-lm-algo").value = "rloo", document.querySelector("#po-lm-algo").dispatchEvent(new Event("change")), true)`)
	b.wait("the RLOO settings", `document.querySelector("#po-lm-steps")`, 10*time.Second)
	eval[bool](b, `(document.querySelector("#po-lm-steps").value = "2", document.querySelector("#po-lm-steps").dispatchEvent(new Event("input")), true)`)
	b.click("#po-lm-run")
	b.wait("the RLOO run", `[...document.querySelectorAll("[role=tab]")].some(e => e.innerText.startsWith("RLOO")) && document.querySelector("#po-lm-results")`, 3*time.Minute)
	if got := b.text("#po-lm-results"); !strings.Contains(got, "→") {
		b.fail("the policy page's results lack before → after: %q", got)
	}
	b.shot("lm-policy-page")
	b.viewport(768, 1024)
	b.shot("lm-policy-page-tablet")
	b.viewport(1280, 720)

	// Offline: the pretrained transformer comes from the service worker's cache.
	s.stop()
	b.offline(true)
	b.nav(s.url("/lesson"))
	b.ready()
	b.click("#lesson-lm-sample")
	b.wait("the transformer offline", `JSON.parse(preferStats())["job_ms.sample-lm"] > 0 || document.querySelector("#lesson-error")`, 2*time.Minute)
	if msg := b.text("#lesson-error"); msg != "" {
		b.fail("the transformer does not answer offline: %s", msg)
	}
	t.Logf("screenshots in %s", shotsDir(t))
}
