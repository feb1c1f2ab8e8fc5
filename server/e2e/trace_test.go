package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// traceEvent is one event of a Chrome trace (the fields read here).
type traceEvent struct {
	Name string  `json:"name"`
	Ph   string  `json:"ph"`
	Pid  int     `json:"pid"`
	Tid  int     `json:"tid"`
	Dur  float64 `json:"dur"`  // wall time, µs
	TDur float64 `json:"tdur"` // the thread's CPU time, µs
	Args struct {
		Name string `json:"name"`
	} `json:"args"`
}

// recordTrace starts a Chrome trace of the page (the timeline's categories) and
// returns stop, which ends it and returns its events.
func (b *browser) recordTrace() (stop func() []traceEvent) {
	b.tb.Helper()
	var (
		tg   *chromedp.Target
		mu   sync.Mutex
		evs  []traceEvent
		done = make(chan struct{})
	)
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error { tg = t; return nil }))
	data := cdp.Events(b.ctx, tg, tracing.DataCollected)
	complete := cdp.Events(b.ctx, tg, tracing.TracingComplete)
	go func() {
		for e, err := range data {
			if err != nil {
				return
			}
			mu.Lock()
			for _, v := range e.Value {
				var ev traceEvent
				if json.Unmarshal(v, &ev) == nil {
					evs = append(evs, ev)
				}
			}
			mu.Unlock()
		}
	}()
	go func() {
		for range complete {
			close(done)
			return
		}
	}()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, tracing.Start, tracing.StartParams{TransferMode: tracing.StartTransferModeReportEvents,
			TraceConfig: &tracing.TraceConfig{IncludedCategories: []string{"devtools.timeline", "disabled-by-default-devtools.timeline"}}})
		return err
	}))
	return func() []traceEvent {
		b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, tracing.End, cdp.Empty{})
			return err
		}))
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.tb.Log("the trace did not complete within a minute: it may lack its last events")
		}
		time.Sleep(200 * time.Millisecond) // the last dataCollected events
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(evs)
	}
}

// mainThreadTasks returns the wall and CPU time (ms) of every task of the tab's
// renderer main thread (CrRendererMain; the busiest one when there are several)
// that ran over minMS of wall time.
func mainThreadTasks(evs []traceEvent, minMS float64) (wall, cpu []float64) {
	type thread struct{ pid, tid int }
	mains := map[thread]bool{}
	for _, e := range evs {
		if e.Ph == "M" && e.Name == "thread_name" && e.Args.Name == "CrRendererMain" {
			mains[thread{e.Pid, e.Tid}] = true
		}
	}
	busy := map[thread]float64{}
	for _, e := range evs {
		if e.Ph == "X" && e.Name == "RunTask" && mains[thread{e.Pid, e.Tid}] {
			busy[thread{e.Pid, e.Tid}] += e.TDur
		}
	}
	var main thread
	for t, us := range busy {
		if us > busy[main] {
			main = t
		}
	}
	for _, e := range evs {
		if e.Ph == "X" && e.Name == "RunTask" && (thread{e.Pid, e.Tid}) == main && e.Dur > minMS*1000 {
			wall, cpu = append(wall, e.Dur/1000), append(cpu, e.TDur/1000)
		}
	}
	return wall, cpu
}

// BenchmarkLessonTrace runs the lesson ("Run all steps", one core kept busy) under a
// Chrome trace and reports the renderer main thread's tasks over 50 ms of wall time
// while it trains — their number, the longest — and the main thread's own CPU time
// in them (the trace's thread time): on a loaded machine a task is long mostly
// because the thread waited for a core (docs/ui.md, "Responsiveness"), and the CPU
// time says what the page itself asked.
func BenchmarkLessonTrace(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := startServer(b)
		br := newBrowser(b)
		var stopTrace func() []traceEvent
		br.beforeLesson = func() { stopTrace = br.recordTrace() }
		stop := busyCore()
		r := runLesson(b, br, s)
		stop()
		wall, cpu := mainThreadTasks(stopTrace(), 50)
		b.Logf("PerformanceObserver: %d long tasks, the longest %.0f ms; the trace: tasks over 50 ms %.0f ms, their CPU time %.0f ms", r.LongTasks, r.LongTaskMS, wall, cpu)
		b.ReportMetric(float64(len(wall)), "trace_tasks_over_50ms")
		b.ReportMetric(slices.Max(append(wall, 0)), "trace_longest_task_ms")
		b.ReportMetric(slices.Max(append(cpu, 0)), "trace_longest_task_cpu_ms")
	}
}
