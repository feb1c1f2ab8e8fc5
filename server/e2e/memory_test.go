package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
)

// The lesson's memory goals (issue 17: a school Chromebook of 4 GB): the worker's
// wasm linear memory at most 128 MB and the tab's renderer process at most 300 MB,
// after the whole lesson and after a second one in the same tab. TestJ1Lesson fails
// above 1.5 times either (so a regression is caught without asserting timing), and
// BenchmarkBrowser reports them next to the figures recorded before the work on
// memory (Chromium, this machine, 2026-12).
const (
	workerGoalMB   = 128
	rendererGoalMB = 300
	budgetFactor   = 1.5

	workerRecordedMB    = 671 // after one lesson
	rendererRecordedMB  = 812 // after one lesson
	renderer2RecordedMB = 971 // after two lessons
)

// tabMemory is what the tab holds: the worker's WebAssembly.Memory size after its
// last job (Go's wasm memory never shrinks, so also its peak), and the resident
// memory of the tab's renderer process — the page, its JS heap, both wasm modules
// and their compiled code, and the worker, which runs in the same process — now and
// at its peak (VmRSS, VmHWM). 0 where it cannot be read (not Linux).
type tabMemory struct {
	WorkerMB, RendererMB, RendererPeakMB float64
}

func (m tabMemory) String() string {
	return fmt.Sprintf("worker wasm memory %.0f MB, renderer %.0f MB (peak %.0f MB)", m.WorkerMB, m.RendererMB, m.RendererPeakMB)
}

// memory measures the tab now.
func (b *browser) memory() tabMemory {
	b.tb.Helper()
	m := tabMemory{WorkerMB: b.stats()["worker_wasm_bytes"] / 1e6}
	c := chromedp.FromContext(b.ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return m
	}
	// The renderers are descendants of the browser process (through its zygote),
	// started with --type=renderer; the tab's is the largest.
	for _, pid := range descendants(c.Browser.Process().Pid) {
		cmd, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte("--type=renderer")) {
			continue
		}
		rss, hwm := procMemory(pid)
		if rss > m.RendererMB {
			m.RendererMB, m.RendererPeakMB = rss, hwm
		}
	}
	return m
}

// descendants returns the processes below pid (Linux /proc; nil elsewhere).
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so parse after the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// procMemory returns a process's resident memory and its peak, in MB.
func procMemory(pid int) (rss, hwm float64) {
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024 / 1e6
		case "VmHWM:":
			hwm = kb * 1024 / 1e6
		}
	}
	return rss, hwm
}

// lessonJobs is the number of worker jobs of "Run all steps": simulate, train the
// reward model, optimize, sweep, sample the transformer, PPO on the transformer.
const lessonJobs = 6

// waitJobs waits until n jobs have finished since the page loaded and the lesson's
// button is enabled again (the last job's result applied).
func waitJobs(b *browser, what string, n int) {
	b.tb.Helper()
	deadline := time.Now().Add(12 * time.Minute)
	for {
		done := eval[bool](b, fmt.Sprintf(`JSON.parse(preferStats()).jobs_done >= %d && !document.querySelector("#lesson-all").disabled`, n))
		if done {
			return
		}
		if time.Now().After(deadline) {
			b.fail("timed out waiting for %s: %v jobs done of %d; job bar %q; error %q", what, b.stats()["jobs_done"], n,
				b.text("#job"), b.text("#lesson-error"))
			return
		}
		time.Sleep(time.Second)
	}
}

// secondLesson runs the whole lesson again in the same tab ("Run all steps" after
// the first run finished) and waits for its jobs to finish.
func secondLesson(b *browser) time.Duration {
	b.tb.Helper()
	done := int(b.stats()["jobs_done"])
	start := time.Now()
	b.click("#lesson-all")
	waitJobs(b, "the second lesson to finish", done+lessonJobs)
	return time.Since(start)
}

// checkLessonBudget fails when the tab's memory is over 1.5 times a goal.
func checkLessonBudget(b *browser, what string, m tabMemory) {
	b.tb.Helper()
	if m.WorkerMB > budgetFactor*workerGoalMB {
		b.fail("%s: the worker's wasm memory is %.0f MB, over 1.5 × the %d MB goal", what, m.WorkerMB, workerGoalMB)
	}
	if m.RendererPeakMB > budgetFactor*rendererGoalMB {
		b.fail("%s: the tab's renderer peaked at %.0f MB, over 1.5 × the %d MB goal", what, m.RendererPeakMB, rendererGoalMB)
	}
}

// busyCore keeps one core of the machine busy (a spinning goroutine locked to its
// thread) until stop is called: the lesson is measured as a teacher's laptop runs
// it, with something else on the go. Long main-thread tasks are then what the
// browser's scheduler makes of two busy cores.
func busyCore() (stop func()) {
	var quit atomic.Bool
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		x := 0
		for !quit.Load() {
			for i := 0; i < 1<<16; i++ {
				x += i
			}
		}
		_ = x
		close(done)
	}()
	return func() {
		quit.Store(true)
		<-done
	}
}

// Long main-thread tasks of the lesson recorded before issue 17 (fresh profile, the
// machine under load): 9 tasks over 50 ms, the longest 224 ms.
const (
	longTasksRecorded  = 9
	longTaskMSRecorded = 224
)
