package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"prefer/app/jobs"
	"prefer/app/work"
)

// pagePaths are the pages screenshotted, with what to wait for on each.
var pagePaths = []struct{ name, path, ready string }{
	{"home", "/", `document.querySelector("#state-summary")`},
	{"lesson", "/lesson", `document.querySelector("#step-samples[data-done=true]")`},
	{"playground", "/playground?panel=crowd&beta=0.02", `document.querySelector("#pg-results")`},
	{"label", "/label", `document.querySelector("#label-prompt")`},
	{"quality", "/quality", `document.querySelector("#quality-report")`},
	{"reward", "/reward", `document.querySelector("#rm-results")`},
	{"policy", "/policy", `document.querySelector("#po-results")`},
	{"data", "/data", `document.querySelector("#items-list .vrow")`},
}

// TestPageScreenshots runs the lesson, then screenshots every page in light and dark
// theme at 1280×720 and at tablet size (768×1024), and the label page's help
// overlay, into the folder the tests print. Look at them. Every control of every
// page must have an accessible name (Chromium's accessibility tree says).
func TestPageScreenshots(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	runLesson(t, b, s)
	for _, theme := range []string{"light", "dark"} {
		b.theme(theme)
		for _, size := range []struct {
			name string
			w, h int64
		}{{"1280x720", 1280, 720}, {"tablet", 768, 1024}} {
			b.viewport(size.w, size.h)
			for _, p := range pagePaths {
				b.nav(s.url(p.path))
				b.ready()
				b.wait(p.name+" content", p.ready, 60*time.Second)
				time.Sleep(150 * time.Millisecond)
				b.shot(fmt.Sprintf("page-%s-%s-%s", p.name, theme, size.name))
				if theme == "light" && size.name == "1280x720" {
					for _, c := range b.unnamedControls() {
						t.Errorf("%s page: a %s has no accessible name", p.name, c)
					}
				}
			}
		}
	}
	b.viewport(1280, 720)
	b.theme("light")
	b.nav(s.url("/label"))
	b.ready()
	b.wait("the label page", `document.querySelector("#label-prompt")`, 30*time.Second)
	b.key("?")
	b.wait("the help overlay", `document.querySelector("#help")`, 10*time.Second)
	b.shot("page-label-help")
	t.Logf("screenshots in %s", shotsDir(t))
}

// BenchmarkBrowser measures, in one run of the lesson in Chromium against the real
// server: the transferred (brotli) and raw sizes of the UI and worker wasm, the time
// from navigation to a usable workbench, the longest main-thread task while training
// (PerformanceObserver "longtask") with one core kept busy, the browser memory of the
// whole lesson (UI and worker wasm linear memory plus the JS heap), the worker's
// wasm memory and the tab's renderer at its peak after one lesson and after two
// (beside the figures recorded before issue 17), the wall time of the lesson, the
// reward-model training time in the worker against the same job run natively here,
// and the lesson's transformer step (PPO on the language model): its wall time, the
// time per PPO step in the worker and natively, and the longest task meanwhile.
func BenchmarkBrowser(b *testing.B) {
	root := repoRoot(b)
	for i := 0; i < b.N; i++ {
		s := startServer(b)
		br := newBrowser(b)
		stop := busyCore()
		r := runLesson(b, br, s)
		stop()
		// Memory after the whole lesson and after a second one in the same tab.
		waitJobs(br, "the lesson's transformer step", lessonJobs)
		m1 := br.memory()
		secondLesson(br)
		m2 := br.memory()
		// The tab's goal (300 MB) is judged on the renderer's private footprint at
		// its peak (memory_test.go, checkLessonBudget); the resident peak, with the
		// pages of Chromium's own files, is reported as before (tab_mem_*).
		b.ReportMetric(r.Idle.FootprintMB(), "tab_footprint_idle_MB")
		b.ReportMetric(m1.FootprintPeakMB, "tab_footprint_MB")
		b.ReportMetric(m2.FootprintPeakMB, "tab_footprint_2_lessons_MB")
		b.ReportMetric(r.Idle.RendererPeakMB, "tab_mem_idle_MB")
		b.ReportMetric(m1.WorkerMB, "worker_mem_MB")
		b.ReportMetric(workerRecordedMB, "worker_mem_MB-recorded")
		b.ReportMetric(m2.WorkerMB, "worker_mem_2_lessons_MB")
		b.ReportMetric(m1.RendererPeakMB, "tab_mem_MB")
		b.ReportMetric(rendererRecordedMB, "tab_mem_MB-recorded")
		b.ReportMetric(m2.RendererPeakMB, "tab_mem_2_lessons_MB")
		b.ReportMetric(renderer2RecordedMB, "tab_mem_2_lessons_MB-recorded")
		b.ReportMetric(longTaskMSRecorded, "longtask_ms-recorded")
		b.ReportMetric(longTasksRecorded, "longtasks_over_50ms-recorded")
		for _, f := range []struct{ name, file string }{{"ui", "app.wasm"}, {"worker", "worker.wasm"}} {
			raw, size := wasmSizes(b, s, filepath.Join(root, "static", "web", f.file), "/web/"+f.file)
			b.ReportMetric(float64(raw)/1e6, f.name+"_wasm_MB")
			b.ReportMetric(float64(size)/1e6, f.name+"_wasm_br_MB")
		}
		b.ReportMetric(r.TTI, "tti_ms")
		b.ReportMetric(r.LongTaskMS, "longtask_ms")
		b.ReportMetric(float64(r.LongTasks), "longtasks_over_50ms")
		mem := r.Stats["ui_wasm_bytes"] + r.Stats["js_heap_bytes"] + r.Stats["worker_wasm_bytes"]
		b.ReportMetric(mem/1e6, "mem_MB")
		b.ReportMetric(r.Elapsed.Seconds(), "lesson_s")
		// Reward-model training: the lesson's job in the worker against the same job
		// (same state, same parameters) run natively.
		native := nativeTrainMS(b)
		b.ReportMetric(r.Stats["job_ms.train-rm"], "rm_worker_ms")
		b.ReportMetric(native, "rm_native_ms")
		b.ReportMetric(r.Stats["job_ms.train-rm"]/native, "worker_vs_native")
		// The lesson's transformer step with its real settings: PPO on the language
		// model at two β in the worker, and the same job natively; per PPO step.
		lr := runLMStep(b, br, s, 0, false)
		lmNative := nativeLMMS(b)
		b.ReportMetric(lr.Elapsed.Seconds(), "lm_step_s")
		b.ReportMetric(lr.WorkerMS/(2*lessonLMSteps), "lm_ppo_step_worker_ms")
		b.ReportMetric(lmNative/(2*lessonLMSteps), "lm_ppo_step_native_ms")
		b.ReportMetric(lr.WorkerMS/lmNative, "lm_worker_vs_native")
		b.ReportMetric(lr.LongTaskMS, "lm_longtask_ms")
	}
}

// The lesson's transformer step (app/lesson_page.go's lmLesson… constants) and
// the panel of its benchmarks.
const (
	lessonPanel     = "expert,unbiased,noisy,2*polite,2*verbose,2*cautious,position,tired,spammer"
	lessonLMSteps   = 24
	lessonLMPrompts = 16
	lessonLMSamples = 4
	lessonLMLR      = 1e-3
	lessonLMMicro   = 8 // app/lesson_page.go's lmLessonMicro
)

// nativeLMMS runs the lesson's transformer job natively through the worker's own
// job code, on the state the lesson builds (simulated raters, the reward model),
// and returns its time.
func nativeLMMS(tb testing.TB) float64 {
	tb.Helper()
	ref, err := os.ReadFile(filepath.Join(repoRoot(tb), "static", "web", "ref-lm.snap"))
	if err != nil {
		tb.Fatal(err)
	}
	run := func(state []byte, req jobs.Request) *jobs.Result {
		req.Snapshot, req.Ref = state, ref
		res, err := work.Run(&req)
		if err != nil {
			tb.Fatal(err)
		}
		return res
	}
	sim := run(nil, jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: 7, Panel: lessonPanel}})
	rm := run(sim.Snapshot, jobs.Request{Kind: jobs.KindTrainRM, TrainRM: &jobs.TrainRMParams{Seed: 1, SplitBy: "pair"}})
	return run(rm.Snapshot, jobs.Request{Kind: jobs.KindOptimizeLM, OptimizeLM: &jobs.OptimizeLMParams{Seed: 1, Algo: "ppo",
		Betas: []float64{0.5, 0.001}, Steps: lessonLMSteps, Prompts: new(lessonLMPrompts), Samples: lessonLMSamples, LR: lessonLMLR, MicroBatch: lessonLMMicro,
		Prefix: "lesson-lm"}}).Millis
}

// TestWasmBudgets keeps the transferred (brotli) sizes of the two wasm binaries
// within their budgets. The UI's target was 2.0 MB (measured 1.965 MB); this round's
// pages (the playground, presenter mode, the record browser, Generate answers, the
// AI-judge audit, the import preview) brought it to 2.079 MB, and wasm-opt -Oz made
// the brotli larger (2.107 MB), so the guard is 2.1 MB (docs/ui.md, "Sizes"). The
// worker's guards against growth only — measured 1.426 MB, 1.500 MB before the
// import work, 1.514 MB after it (format detection, UltraFeedback, SHP, Label
// Studio Pairwise and JSON_MIN readers, the import preview: +13.5 KB; field maps are
// kept out of the worker, -9 KB), while the 0.8 MB once aimed at is out of reach for
// a Go worker that carries the engines (docs/ui.md, "Sizes").
func TestWasmBudgets(t *testing.T) {
	s := startServer(t)
	root := repoRoot(t)
	for _, b := range []struct {
		file   string
		budget int64
	}{{"app.wasm", 2_100_000}, {"worker.wasm", 1_600_000}} {
		raw, size := wasmSizes(t, s, filepath.Join(root, "static", "web", b.file), "/web/"+b.file)
		t.Logf("%s: %d bytes, %d transferred", b.file, raw, size)
		if size > b.budget {
			t.Errorf("%s transfers %d bytes (brotli), over its budget of %d", b.file, size, b.budget)
		}
	}
}

// wasmSizes returns the raw size of a wasm file and the bytes the server transfers
// for it with Accept-Encoding: br (its precompressed file), compressing it here
// when the server sends it uncompressed.
func wasmSizes(tb testing.TB, s *server, file, path string) (raw, transferred int64) {
	tb.Helper()
	st, err := os.Stat(file)
	if err != nil {
		tb.Fatalf("%s: %v (run make build)", file, err)
	}
	req, _ := http.NewRequest("GET", s.url(path), nil)
	req.Header.Set("Accept-Encoding", "br") // set by hand: Go then leaves the body compressed
	if resp, err := http.DefaultClient.Do(req); err == nil {
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") == "br" && n > 0 {
			return st.Size(), n
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var buf countWriter
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	w.Write(data)
	w.Close()
	return st.Size(), buf.n
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// nativeTrainMS runs the lesson's simulation and reward-model training natively
// through the worker's own job code and returns the training time.
func nativeTrainMS(tb testing.TB) float64 {
	tb.Helper()
	run := func(state []byte, req jobs.Request) *jobs.Result {
		req.Snapshot = state
		res, err := work.Run(&req)
		if err != nil {
			tb.Fatal(err)
		}
		return res
	}
	sim := run(nil, jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: 7, Panel: lessonPanel}})
	best := 0.0
	for i := 0; i < 3; i++ { // the best of three, as the worker's run is warm
		ms := run(sim.Snapshot, jobs.Request{Kind: jobs.KindTrainRM, TrainRM: &jobs.TrainRMParams{Seed: 1}}).Millis
		if i == 0 || ms < best {
			best = ms
		}
	}
	return best
}
