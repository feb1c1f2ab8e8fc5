package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"golang.org/x/term"

	"prefer/core/policy"
)

// isTerminal reports whether w is a terminal: an *os.File on a terminal device, or a
// writer that says so (tests).
func isTerminal(w io.Writer) bool {
	switch w := w.(type) {
	case interface{ IsTerminal() bool }:
		return w.IsTerminal()
	case *os.File:
		return term.IsTerminal(int(w.Fd()))
	}
	return false
}

// progressLine is the one-line progress display of a long command on stderr:
//
//	pretrain  340/1000 steps  34%  57.2 steps/s  ETA 12s  loss 2.413
//
// redrawn in place ("\r" and erase-to-end-of-line) at most every progressEvery, and
// ended with a newline by done. It says nothing when stderr is not a terminal (a log
// file or a pipe gets no carriage returns) or when the command prints --json.
type progressLine struct {
	w     io.Writer // nil when quiet
	label string
	unit  string
	total int
	start time.Time
	last  time.Time
	drawn bool
}

// progressEvery is the shortest time between two redraws.
const progressEvery = 200 * time.Millisecond

// newProgress returns the progress line of a command; quiet (--json, --quiet) or a
// stderr that is not a terminal make it silent.
func newProgress(stderr io.Writer, quiet bool, label, unit string, total int) *progressLine {
	p := &progressLine{label: label, unit: unit, total: total, start: time.Now()}
	if !quiet && isTerminal(stderr) {
		p.w = stderr
	}
	return p
}

// update shows done of total (total ≤ 0: unknown) with extra after the ETA.
func (p *progressLine) update(done int, extra string) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if p.drawn && now.Sub(p.last) < progressEvery && done < p.total {
		return
	}
	p.last, p.drawn = now, true
	fmt.Fprint(p.w, "\r\x1b[K"+progressText(p.label, p.unit, done, p.total, now.Sub(p.start), extra))
}

// done ends the line.
func (p *progressLine) done() {
	if p.w != nil && p.drawn {
		fmt.Fprintln(p.w)
	}
}

// progressText renders one progress line: counts, percentage, rate and the time
// left at that rate.
func progressText(label, unit string, done, total int, elapsed time.Duration, extra string) string {
	s := fmt.Sprintf("%s  %d", label, done)
	if total > 0 {
		s += fmt.Sprintf("/%d %s  %d%%", total, unit, 100*done/total)
	} else {
		s += " " + unit
	}
	if sec := elapsed.Seconds(); done > 0 && sec > 0 {
		rate := float64(done) / sec
		s += fmt.Sprintf("  %.3g %s/s", rate, unit)
		if total > 0 && done < total {
			s += "  ETA " + roundDuration(time.Duration(float64(total-done)/rate*float64(time.Second)))
		}
	}
	if extra != "" {
		s += "  " + extra
	}
	return s
}

// policyProgress is the tail of an optimizer's progress line: reward, KL and,
// where the data have it, gold.
func policyProgress(m policy.Metrics) string {
	kl := m.KL
	if math.IsNaN(kl) || kl == 0 {
		kl = m.KLk1 // the generative policy's estimate
	}
	s := fmt.Sprintf("reward %.3f  KL %.3f", m.Reward, kl)
	if !math.IsNaN(m.Gold) {
		s += fmt.Sprintf("  gold %.3f", m.Gold)
	}
	return s
}

// roundDuration renders d to the second ("1m05s", "12s").
func roundDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	if d < time.Hour {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
