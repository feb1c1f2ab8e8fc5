//go:build linux

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMemory runs prefer commands as separate processes — the binary under test
// (PREFER_E2E_BIN, which make bench builds) and, when PREFER_BENCH_BEFORE_BIN is
// set, the binary of commit 040dc26, before issue 17 (make bench builds it from a
// git worktree under build/) — and reports each command's peak resident memory
// (ru_maxrss) and wall time, the before figures beside them:
//
//	optimize-lm    optimize --policy lm --algo ppo --steps 24 on a 200-item demo
//	               (the goal: ≤ 128 MiB)
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
		{"optimize-lm", []string{"optimize", lmDemo, "-o", out, "--policy", "lm", "--algo", "ppo", "--steps", "24", "--seed", "1"}, "", 0},
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

// procCost is what one command cost: its peak resident memory in bytes and its
// wall time.
type procCost struct {
	peak int64
	wall time.Duration
}

// runCost runs the binary with args, fails on a non-zero exit, and returns its cost.
func runCost(tb testing.TB, bin string, args ...string) procCost {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	start := time.Now()
	outb, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, tail(outb))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		tb.Fatal("no resource usage for the process")
	}
	return procCost{peak: ru.Maxrss << 10, wall: wall} // Linux reports ru_maxrss in KiB
}

func mustRun(tb testing.TB, bin string, args ...string) {
	tb.Helper()
	runCost(tb, bin, args...)
}

// tail is the last 2,000 bytes of out.
func tail(out []byte) string {
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return string(out)
}
