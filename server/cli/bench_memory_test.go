//go:build linux

package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMemory runs prefer commands as separate processes — the binary under test
// (PREFER_E2E_BIN, which make bench builds) and, when PREFER_BENCH_BEFORE_BIN is
// set, the binary of commit 040dc26, before issue 17 (make bench builds it from a
// git worktree under build/) — and reports each command's peak resident memory
// (runCost), wall time and CPU time, the before figures beside them:
//
//	optimize-lm    optimize --policy lm --algo ppo --steps 24 --reward gold on a
//	               200-item demo (the goal: ≤ 128 MiB)
//	pretrain       pretrain (≤ 128 MiB)
//	import-300k    import --format trl of 300,000 pairs (writeScaleTRL, 78 MB):
//	               x-file is the peak over the file's size (goal ≤ 3)
//	train-rm-300k  train-rm (linear) on the imported snapshot: B/pair at the peak
//	               (goal ≤ 2,048) and seconds (goal ≤ 20)
//	agree-300k, rank-300k   the same per-record audit (B/judgment)
//	import-30k, train-rm-30k, agree-30k, rank-30k   the same commands on the
//	               first 30,000 pairs (writeScaleTRL is a pure function of n):
//	               per record beside 300k's, so growth faster than linear shows
//

// Inputs go to PREFER_BENCH_DIR (make bench: build/bench), made once by the binary
// under test; both binaries read the same files.
func BenchmarkMemory(b *testing.B) {
	after := os.Getenv("PREFER_E2E_BIN")
	if after == "" {
		b.Skip("set PREFER_E2E_BIN to a built prefer binary (make bench does)")
	}
	before := os.Getenv("PREFER_BENCH_BEFORE_BIN")
	if before == "" {
		b.Log("PREFER_BENCH_BEFORE_BIN is not set: no before figures (make bench builds commit 040dc26 into build/)")
	}
	dir := os.Getenv("PREFER_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	const pairs, small = 300_000, 30_000
	lmDemo := filepath.Join(dir, "lm-demo.snap")
	trl := filepath.Join(dir, "trl300k.jsonl")
	scale := filepath.Join(dir, "trl300k.snap")
	trlSmall := filepath.Join(dir, "trl30k.jsonl")
	scaleSmall := filepath.Join(dir, "trl30k.snap")
	if _, err := os.Stat(lmDemo); err != nil {
		mustRun(b, after, "demo", "-o", lmDemo, "--seed", "1", "--items", "200", "--raters", "polite,verbose,cautious,2*crowd", "--overlap", "3")
	}
	if _, err := os.Stat(trl); err != nil {
		if err := writeScaleTRL(trl, pairs); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := os.Stat(scale); err != nil {
		mustRun(b, after, "import", "--format", "trl", trl, "-o", scale)
	}
	if _, err := os.Stat(trlSmall); err != nil {
		if err := writeScaleTRL(trlSmall, small); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := os.Stat(scaleSmall); err != nil {
		mustRun(b, after, "import", "--format", "trl", trlSmall, "-o", scaleSmall)
	}
	st, err := os.Stat(trl)
	if err != nil {
		b.Fatal(err)
	}
	stSmall, err := os.Stat(trlSmall)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, "out.snap")
	cases := []struct {
		name string
		args []string
		unit string  // per-record unit ("" none)
		n    float64 // records, or the file size for x-file
	}{
		// --reward gold: the demo holds no reward model (optimize refuses to guess one),
		// and its gold utility is what the lesson optimizes too.
		{"optimize-lm", []string{"optimize", lmDemo, "-o", out, "--policy", "lm", "--algo", "ppo", "--steps", "24", "--seed", "1", "--reward", "gold"}, "", 0},
		{"pretrain", []string{"pretrain", "-o", out, "--seed", "1"}, "", 0},
		{"import-300k", []string{"import", "--format", "trl", trl, "-o", out}, "x-file", float64(st.Size())},
		{"train-rm-300k", []string{"train-rm", scale, "-o", out, "--seed", "1"}, "B/pair", pairs},
		{"agree-300k", []string{"agree", scale, "--json"}, "B/judgment", pairs},
		{"rank-300k", []string{"rank", scale, "--json"}, "B/judgment", pairs},
		{"import-30k", []string{"import", "--format", "trl", trlSmall, "-o", out}, "x-file", float64(stSmall.Size())},
		{"train-rm-30k", []string{"train-rm", scaleSmall, "-o", out, "--seed", "1"}, "B/pair", small},
		{"agree-30k", []string{"agree", scaleSmall, "--json"}, "B/judgment", small},
		{"rank-30k", []string{"rank", scaleSmall, "--json"}, "B/judgment", small},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var now, old procCost
			for b.Loop() {
				now = runCost(b, after, c.args...)
			}
			report := func(p procCost, suffix string) {
				b.ReportMetric(float64(p.peak)/(1<<20), "MiB-peak"+suffix)
				b.ReportMetric(p.wall.Seconds(), "s"+suffix)
				b.ReportMetric(p.cpu.Seconds(), "s-cpu"+suffix)
				if c.unit != "" {
					b.ReportMetric(float64(p.peak)/c.n, c.unit+suffix)
				}
			}
			report(now, "")
			if before != "" {
				old = runCost(b, before, c.args...)
				report(old, "-before")
			}
		})
	}
}

// procCost is what one command cost: its peak resident memory in bytes, its wall
// time and its CPU time (user and system; on this shared machine the wall time
// moves with the load, the CPU time much less).
type procCost struct {
	peak      int64
	wall, cpu time.Duration
}

// runCost runs the binary with args, fails on a non-zero exit, and returns its cost.
// The command's output is discarded as it comes (rank --json writes 277 MB at 300k
// pairs) and only the end of it kept for an error. The peak is measured by
// /usr/bin/time where it is installed: Linux folds the resident size of the process
// that starts a program into the program's own ru_maxrss (os/exec starts it from this
// test process, whose size would then set a floor under every figure), and time(1)
// is a small process; without it, the child's ru_maxrss, a floor of this process's
// size included.
func runCost(tb testing.TB, bin string, args ...string) procCost {
	tb.Helper()
	var timeFile string
	cmd := exec.Command(bin, args...)
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		timeFile = filepath.Join(tb.TempDir(), "maxrss")
		cmd = exec.Command("/usr/bin/time", append([]string{"-f", "%M %U %S", "-o", timeFile, bin}, args...)...)
	}
	out := &tailWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out.buf)
	}
	if timeFile != "" {
		data, err := os.ReadFile(timeFile)
		if err != nil {
			tb.Fatal(err)
		}
		f := strings.Fields(string(data))
		if len(f) != 3 {
			tb.Fatalf("/usr/bin/time wrote %q", data)
		}
		kb, err1 := strconv.ParseInt(f[0], 10, 64)
		user, err2 := strconv.ParseFloat(f[1], 64)
		sys, err3 := strconv.ParseFloat(f[2], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			tb.Fatalf("/usr/bin/time wrote %q: %v", data, err)
		}
		return procCost{peak: kb << 10, wall: wall, cpu: time.Duration((user + sys) * float64(time.Second))}
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		tb.Fatal("no resource usage for the process")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return procCost{peak: ru.Maxrss << 10, wall: wall, cpu: cpu} // Linux reports ru_maxrss in KiB
}

// tailWriter keeps the last 2,000 bytes written to it.
type tailWriter struct{ buf []byte }

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if len(w.buf) > 4000 {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-2000:]...)
	}
	return len(p), nil
}

func mustRun(tb testing.TB, bin string, args ...string) {
	tb.Helper()
	runCost(tb, bin, args...)
}
