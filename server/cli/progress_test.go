package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// ttyBuffer is a buffer that says it is a terminal.
type ttyBuffer struct{ bytes.Buffer }

func (*ttyBuffer) IsTerminal() bool { return true }

// TestProgressText: counts, percentage, rate and the time left at that rate
// (250 of 1000 steps in 10 s: 25 steps/s, 750 left → 30 s).
func TestProgressText(t *testing.T) {
	for _, c := range []struct {
		done, total int
		elapsed     time.Duration
		want        string
	}{
		{250, 1000, 10 * time.Second, "pretrain  250/1000 steps  25%  25 steps/s  ETA 30s  loss 2.0"},
		{10, 1000, 10 * time.Second, "pretrain  10/1000 steps  1%  1 steps/s  ETA 16m30s  loss 2.0"},
		{1000, 1000, 40 * time.Second, "pretrain  1000/1000 steps  100%  25 steps/s  loss 2.0"},
		{7, 0, 2 * time.Second, "pretrain  7 steps  3.5 steps/s  loss 2.0"},
		{0, 10, 0, "pretrain  0/10 steps  0%  loss 2.0"},
	} {
		if got := progressText("pretrain", "steps", c.done, c.total, c.elapsed, "loss 2.0"); got != c.want {
			t.Errorf("%d/%d in %v: %q, want %q", c.done, c.total, c.elapsed, got, c.want)
		}
	}
}

// TestProgressLine: pretrain draws a progress line with rate and ETA on a terminal
// (redrawn in place, ended by a newline), and says nothing on stderr when stderr is
// not a terminal or with --json.
func TestProgressLine(t *testing.T) {
	dir := t.TempDir()
	args := []string{"pretrain", "--steps", "20", "--examples", "40", "--samples", "2", "-o", dir + "/lm.snap"}
	var out bytes.Buffer
	var tty ttyBuffer
	if code := Main(args, &out, &tty); code != 0 {
		t.Fatalf("exit %d: %s", code, tty.String())
	}
	got := tty.String()
	if !strings.HasPrefix(got, "\r\x1b[Kpretrain  1/20 steps  5%  ") || !strings.Contains(got, " steps/s  ETA ") ||
		!strings.Contains(got, "\r\x1b[Kpretrain  20/20 steps  100%  ") || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("terminal stderr: %q", got)
	}
	runCLI(t, "demo", "--items", "6", "-o", dir+"/d.snap")
	train := []string{"train-rm", dir + "/d.snap", "--model", "linear", "-o", dir + "/t.snap"}
	if code, _, errs := runCLI(t, train...); code != 0 || errs != "" {
		t.Errorf("stderr not a terminal: exit %d, stderr %q; want nothing", code, errs)
	}
	tty.Reset()
	if code := Main(append(train, "--json"), &out, &tty); code != 0 || tty.Len() != 0 {
		t.Errorf("--json on a terminal: exit %d, stderr %q; want nothing", code, tty.String())
	}
	for _, c := range [][]string{
		train,
		{"optimize", dir + "/t.snap", "--algo", "ppo", "--steps", "30", "-o", dir + "/o.snap"},
		{"sweep", dir + "/t.snap", "--algo", "exact", "--betas", "0.1,1", "-o", dir + "/s.snap"},
	} {
		tty.Reset()
		if code := Main(c, &out, &tty); code != 0 || !strings.HasPrefix(tty.String(), "\r\x1b[K"+c[0]+" ") || !strings.HasSuffix(tty.String(), "\n") {
			t.Errorf("prefer %s on a terminal: exit %d, stderr %q", c[0], code, tty.String())
		}
	}
}
