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
//
// The resident memory is split as /proc/PID/status and smaps_rollup split it:
// RssAnon (the process's own anonymous pages: heaps, wasm memories, compiled code),
// RssFile (pages of files mapped in — Chromium's 250 MB binary, its resources,
// fonts — shared with the browser's other processes, and dropped and re-read by the
// kernel under pressure), RssShmem (shared memory with the browser and GPU
// processes), Pss (each shared page divided among the processes that map it) and
// Private (pages mapped by this process only). RssAnon + VmSwap is what Chromium
// itself calls the process's private memory footprint (its task manager's "Memory
// footprint"): what the tab costs the machine beyond the browser it runs in.
type tabMemory struct {
	WorkerMB, RendererMB, RendererPeakMB float64

	AnonMB, FileMB, ShmemMB, SwapMB float64 // /proc/PID/status
	PssMB, PrivateMB                float64 // /proc/PID/smaps_rollup
	UIMB, JSHeapMB                  float64 // the UI's Go wasm memory (runtime.MemStats.Sys), the page's JS heap

	// FootprintPeakMB is the highest private footprint of the tab's renderer seen
	// since watchMemory started (sampled every 250 ms: the kernel keeps no peak of
	// RssAnon as it does of VmRSS); 0 without a watch.
	FootprintPeakMB float64
}

// FootprintMB is the renderer's private memory footprint (Chromium's definition on
// Linux: RssAnon + VmSwap).
func (m tabMemory) FootprintMB() float64 { return m.AnonMB + m.SwapMB }

func (m tabMemory) String() string {
	return fmt.Sprintf("worker wasm memory %.0f MB; renderer's private footprint %.0f MB (peak %.0f MB), resident %.0f MB (peak %.0f MB) = RssAnon %.0f + RssFile %.0f + RssShmem %.0f (swap %.0f, Pss %.0f, private %.0f); UI wasm %.0f MB, JS heap %.1f MB",
		m.WorkerMB, m.FootprintMB(), m.FootprintPeakMB, m.RendererMB, m.RendererPeakMB, m.AnonMB, m.FileMB, m.ShmemMB, m.SwapMB, m.PssMB, m.PrivateMB, m.UIMB, m.JSHeapMB)
}

// memory measures the tab now.
func (b *browser) memory() tabMemory {
	b.tb.Helper()
	st := b.stats()
	m := b.memoryRaw()
	m.WorkerMB, m.UIMB, m.JSHeapMB = st["worker_wasm_bytes"]/1e6, st["ui_wasm_bytes"]/1e6, st["js_heap_bytes"]/1e6
	b.mu.Lock()
	m.FootprintPeakMB = max(b.footprintPeak, m.FootprintMB())
	m.RendererPeakMB = max(m.RendererPeakMB, b.rssPeak)
	b.mu.Unlock()
	return m
}

// watchMemory samples the private footprint and the resident memory of the
// browser's renderers every 250 ms until the browser closes, keeping the highest
// (memory's FootprintPeakMB, and RendererPeakMB when above VmHWM: Chromium resets
// its processes' VmHWM now and then — writing 5 to /proc/PID/clear_refs — so the
// kernel's peak of a renderer was seen to fall, 361 → 332 MB, within one lesson).
func (b *browser) watchMemory() {
	c := chromedp.FromContext(b.ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return
	}
	root := c.Browser.Process().Pid
	go func() {
		var renderers []int
		for i := 0; b.ctx.Err() == nil; i++ {
			if i%8 == 0 { // new renderers appear on navigation: look every 2 s
				renderers = renderers[:0]
				for _, pid := range descendants(root) {
					if cmd, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline")); err == nil && bytes.Contains(cmd, []byte("--type=renderer")) {
						renderers = append(renderers, pid)
					}
				}
			}
			for _, pid := range renderers {
				st := procFields(pid, "status")
				b.mu.Lock()
				b.footprintPeak = max(b.footprintPeak, st["RssAnon"]+st["VmSwap"])
				b.rssPeak = max(b.rssPeak, st["VmRSS"])
				b.mu.Unlock()
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
}

// memoryRaw measures the tab's renderer process now (any page).
func (b *browser) memoryRaw() tabMemory {
	var m tabMemory
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
		status := procFields(pid, "status")
		if rss := status["VmRSS"]; rss > m.RendererMB {
			rollup := procFields(pid, "smaps_rollup")
			m.RendererMB, m.RendererPeakMB = rss, status["VmHWM"]
			m.AnonMB, m.FileMB, m.ShmemMB, m.SwapMB = status["RssAnon"], status["RssFile"], status["RssShmem"], status["VmSwap"]
			m.PssMB = rollup["Pss"]
			m.PrivateMB = rollup["Private_Clean"] + rollup["Private_Dirty"]
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

// procFields reads the "Name:  N kB" lines of /proc/PID/NAME (status,
// smaps_rollup) into MB (nil where it cannot be read).
func procFields(pid int, name string) map[string]float64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), name))
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[strings.TrimSuffix(f[0], ":")] = kb * 1024 / 1e6
		}
	}
	return out
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

// checkLessonBudget fails when the tab's memory is over 1.5 times a goal: the
// worker's wasm memory, and the renderer's private footprint at its peak, which is
// what the tab's goal is judged on (docs/ui.md, "Memory"). The renderer's resident
// memory at its peak also counts the pages of Chromium's own files (its binary,
// resources, fonts: RssFile, 125–130 MB, a third of it), which every renderer and
// the browser process share and the kernel may drop and read again: it is reported
// and kept under the same bound as before the footprint was measured, a guard
// against regressions.
func checkLessonBudget(b *browser, what string, m tabMemory) {
	b.tb.Helper()
	if m.WorkerMB > budgetFactor*workerGoalMB {
		b.fail("%s: the worker's wasm memory is %.0f MB, over 1.5 × the %d MB goal", what, m.WorkerMB, workerGoalMB)
	}
	if m.FootprintPeakMB > budgetFactor*rendererGoalMB {
		b.fail("%s: the tab's renderer reached a private footprint of %.0f MB, over 1.5 × the %d MB goal", what, m.FootprintPeakMB, rendererGoalMB)
	}
	if m.RendererPeakMB > budgetFactor*rendererGoalMB {
		b.fail("%s: the tab's renderer peaked at %.0f MB resident, over 1.5 × the %d MB goal", what, m.RendererPeakMB, rendererGoalMB)
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
