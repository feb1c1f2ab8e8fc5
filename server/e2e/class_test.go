package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// shotAt scrolls the element matching sel to the top of the viewport and saves what
// the viewport shows as NAME.png (a full-page shot of a long page is too small to
// look at).
func (b *browser) shotAt(name, sel string) {
	b.tb.Helper()
	eval[bool](b, fmt.Sprintf(`(document.querySelector(%q).scrollIntoView({block: "start"}), window.scrollBy(0, -60), true)`, sel))
	time.Sleep(200 * time.Millisecond)
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.tb.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(shotsDir(b.tb), name+".png"), buf, 0o644)
}

// The classroom (issue 14): the lesson's aha moment as the page shows it, the
// playground, presenter mode.

// lessonAha are the figures of the lesson's step 4 with the default panel, as its
// caption prints them (two decimals, whole percentages). They are core/lesson's
// pinned figures (TestAha: gold 0.2591 → 0.7586 at step 11 → 0.4196, proxy 0.7640 →
// 1.7174 at β = 0.02; gold peak 0.8212 at step 15 → 0.7839 at β = 0.5), which
// app/work's TestLessonPipeline checks the worker's jobs reproduce bit for bit.
var lessonAha = []string{
	"kept rising, from 0.76 to 1.72",
	"rose from 0.26 to 0.76 by step 11, then fell back to 0.42",
	"gave back 68% of what it had gained",
	"gold rose to 0.82 by step 15 and ended at 0.78 (gave back 7%)",
}

// checkAha asserts the lesson's central moment on the page after step 4: the two
// runs on one y scale, the gold peak marked, and the caption's figures.
func checkAha(b *browser) {
	b.tb.Helper()
	ys := eval[string](b, `["#lesson-weak svg", "#lesson-strong svg"].map(s => { const e = document.querySelector(s); return e ? e.dataset.ymin + ".." + e.dataset.ymax : "missing" }).join(" ")`)
	if parts := strings.Fields(ys); len(parts) != 2 || parts[0] != parts[1] || parts[0] == "missing" {
		b.fail("step 4's charts do not share one y scale: %s", ys)
	}
	for _, sel := range []string{"#lesson-weak .mark", "#lesson-strong .mark"} {
		if eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)) != 1 {
			b.fail("step 4 does not mark the gold peak (%s)", sel)
		}
	}
	if got := eval[string](b, `(document.querySelector("#lesson-weak .mark-label") || {textContent: ""}).textContent`); got != "gold peak 0.76 (step 11)" {
		b.fail("the small β chart's peak label is %q, want %q", got, "gold peak 0.76 (step 11)")
	}
	text := b.text("#lesson-policy-caption")
	for _, want := range lessonAha {
		if !strings.Contains(text, want) {
			b.fail("step 4's caption lacks %q:\n%s", want, text)
		}
	}
}

// TestPlayground: the playground builds the default panel's landscape in the worker,
// then the β slider moves the marked point, the answers and the part mix with no
// job and no wait; the state is in the URL, so reloading it gives the same screen;
// the other panel builds its own landscape.
func TestPlayground(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	b.nav(s.url("/"))
	b.ready()
	if eval[int](b, `document.querySelectorAll('a[href$="/playground"]').length`) == 0 {
		b.fail("the home page does not link to the playground")
	}
	b.nav(s.url("/playground?panel=crowd&beta=0.5"))
	b.ready()
	b.wait("the landscape", `document.querySelector("#pg-results")`, 2*time.Minute)
	state := func() string {
		return eval[string](b, `(() => { const r = document.querySelector("#pg-results"); return r.dataset.beta + "|" + r.dataset.sqrtkl + "|" + r.dataset.gold + "|" + [...document.querySelectorAll(".pg-answer")].map(e => e.innerText).join("/") + "|" + document.querySelector("#pg-mix").innerText })()`)
	}
	if got := b.text("#pg-beta-value"); got != "β = 0.5" {
		b.fail("the URL's β = 0.5 shows as %q", got)
	}
	before := state()
	b.shot("playground-beta-0.5")
	// Long tasks while the slider moves (logged: timing is not asserted on this
	// shared machine; docs/ui.md has the measurement).
	eval[bool](b, `(window.__pglong = [], new PerformanceObserver(l => { for (const e of l.getEntries()) window.__pglong.push(Math.round(e.duration)) }).observe({type: "longtask"}), true)`)
	eval[bool](b, `(window.__pgloaf = [], PerformanceObserver.supportedEntryTypes.includes("long-animation-frame") && new PerformanceObserver(l => {
		for (const e of l.getEntries()) window.__pgloaf.push(JSON.stringify({frame_ms: Math.round(e.duration), render_ms: Math.round(e.renderStart - e.startTime), style_layout_ms: Math.round(e.duration - (e.styleAndLayoutStart - e.startTime)),
			scripts: e.scripts.map(s => s.invoker + " " + Math.round(s.duration) + " ms")}))
	}).observe({type: "long-animation-frame"}), true)`)
	move := func(pos int) {
		b.tb.Helper()
		eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector("#pg-beta"); s.value = %d; s.dispatchEvent(new Event("input", {bubbles: true})); s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, pos))
	}
	// Drag from β = 0.5 toward β → 0 in 40 steps, as a hand would.
	start := eval[int](b, `+document.querySelector("#pg-beta").value`)
	for i := 1; i <= 40; i++ {
		move(start + (1000-start)*i/40)
		time.Sleep(20 * time.Millisecond)
	}
	b.wait("the slider's last position to show", `document.querySelector("#pg-results").dataset.beta == "0.003" && location.search.includes("beta=0.003")`, 10*time.Second)
	after := state()
	if after == before {
		b.fail("moving β from 0.5 to 0.003 changed nothing on the page")
	}
	ab, aa := strings.Split(before, "|"), strings.Split(after, "|")
	if ab[1] == aa[1] || ab[3] == aa[3] {
		b.fail("the marked point (√KL %s → %s) or the answers did not change:\n%s\n%s", ab[1], aa[1], ab[3], aa[3])
	}
	if eval[bool](b, `!!document.querySelector("#job")`) {
		b.fail("moving the slider started a job")
	}
	t.Logf("long tasks while the slider moved 40 times: %v", eval[[]int](b, `window.__pglong`))
	t.Logf("frames over 50 ms: %s", eval[string](b, `window.__pgloaf.join("\n")`))
	b.shot("playground-beta-small")
	// The point is marked on the curve: one vertical line through the current √KL.
	if eval[int](b, `document.querySelectorAll("#pg-chart .mark").length`) != 3 {
		b.fail("the playground's chart does not mark the peak and the current point")
	}
	// The link holds the state.
	loc := eval[string](b, `location.search`)
	if !strings.Contains(loc, "panel=crowd") || !strings.Contains(loc, "beta=0.003") {
		b.fail("the address %q does not hold the panel and β", loc)
	}
	b.reload()
	b.ready()
	b.wait("the landscape after reload", `document.querySelector("#pg-results")`, 2*time.Minute)
	if got := state(); got != after {
		b.fail("the link did not reproduce the screen:\n%s\n%s", got, after)
	}
	// Another panel: careful experts. Optimizing harder only helps them.
	b.click("#pg-panel-experts")
	b.wait("the experts' landscape", `document.querySelector("#pg-results") && location.search.includes("panel=experts")`, 2*time.Minute)
	b.wait("the experts' landscape", `document.querySelector("#pg-results") && document.querySelector("#pg-results").dataset.gold != "`+aa[2]+`"`, 2*time.Minute)
	if g := eval[float64](b, `+document.querySelector("#pg-results").dataset.gold`); g < 1.5 {
		b.fail("with careful experts gold at β = 0.003 is %.3f, want ≥ 1.5", g)
	}
}

// TestLessonPresenter: presenter mode shows one step per screen; the keys of a
// presentation clicker (PageUp/PageDown) and the arrows move between steps, Esc
// leaves; "Run all steps" follows the running step; the navigation does not wrap
// while a job runs.
func TestLessonPresenter(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	b.nav(s.url("/lesson?lmsteps=1"))
	b.ready()
	b.wait("the lesson", `document.querySelector("#lesson-all")`, 30*time.Second)
	barHeight := eval[int](b, `document.querySelector(".topbar").offsetHeight`)
	steps := func() string {
		return eval[string](b, `[...document.querySelectorAll(".lesson-steps > section.step")].map(e => e.id).join(",")`)
	}
	if n := len(strings.Split(steps(), ",")); n < 7 {
		b.fail("the lesson shows %d steps, want all 7", n)
	}
	// A job on the normal page: the top bar keeps its height (the job bar hangs
	// below it; the navigation used to wrap to a second row).
	b.click("#lesson-simulate")
	b.wait("the simulation's job bar", `document.querySelector("#job") || document.querySelector("#step-feedback[data-done=true]")`, 60*time.Second)
	if eval[bool](b, `!!document.querySelector("#job")`) {
		if h := eval[int](b, `document.querySelector(".topbar").offsetHeight`); h != barHeight {
			b.fail("the top bar is %d px high while a job runs, %d without: it wrapped", h, barHeight)
		}
	}
	b.wait("the simulation", `document.querySelector("#step-feedback[data-done=true]") && !document.querySelector("#job")`, 60*time.Second)
	b.key("p")
	b.wait("presenter mode", `document.documentElement.classList.contains("presenting") && document.querySelector("#slidebar")`, 10*time.Second)
	slide := func() string {
		return steps() + " " + eval[string](b, `document.querySelector("#slidebar").dataset.step`)
	}
	if got := slide(); got != "step-why 1" {
		b.fail("presenter mode opens on %q, want step 1 alone", got)
	}
	for _, c := range []struct {
		key, want string
	}{{kb.ArrowRight, "step-feedback 2"}, {kb.PageDown, "step-reward 3"}, {kb.PageUp, "step-feedback 2"}, {kb.ArrowLeft, "step-why 1"}, {kb.ArrowLeft, "step-why 1"}, {kb.End, "step-judge 8"}, {kb.Home, "step-why 1"}} {
		b.key(c.key)
		b.wait("the step after "+c.want, fmt.Sprintf(`document.querySelector("#slidebar").dataset.step == %q`, strings.Fields(c.want)[1]), 5*time.Second)
		if got := slide(); got != c.want {
			b.fail("after a key the slide is %q, want %q", got, c.want)
		}
	}
	if !strings.Contains(eval[string](b, `location.search`), "present=1") {
		b.fail("the address does not say presenter mode")
	}
	// Large type: the step's title is much larger than on the page.
	if fs := eval[float64](b, `parseFloat(getComputedStyle(document.querySelector(".step h2")).fontSize)`); fs < 30 {
		b.fail("presenter mode's step title is %.0f px, want large type", fs)
	}
	b.shot("lesson-presenter-step-1")
	// Run all steps: the slide follows the running step.
	barHeight = eval[int](b, `document.querySelector(".topbar").offsetHeight`)
	b.click("#lesson-all")
	b.wait("the slide to follow the simulation or the training", `+document.querySelector("#slidebar").dataset.step >= 2`, 60*time.Second)
	b.wait("the slide to follow the optimization", `+document.querySelector("#slidebar").dataset.step >= 4`, 3*time.Minute)
	if eval[bool](b, `!!document.querySelector("#job")`) {
		if h := eval[int](b, `document.querySelector(".topbar").offsetHeight`); h != barHeight {
			b.fail("the top bar is %d px high while a job runs, %d without: it wrapped", h, barHeight)
		}
	}
	b.wait("the lesson to finish", `document.querySelector("#slidebar").dataset.step == "7" && document.querySelector("#step-transformer[data-done=true]")`, 5*time.Minute)
	b.key(kb.Home)
	for i := 0; i < 3; i++ {
		b.key(kb.ArrowRight)
	}
	b.wait("step 4", `document.querySelector("#slidebar").dataset.step == "4" && document.querySelector("#lesson-weak")`, 10*time.Second)
	checkAha(b)
	b.shot("lesson-presenter-step-4")
	b.key(kb.Escape)
	b.wait("the whole lesson again", `!document.documentElement.classList.contains("presenting") && !document.querySelector("#slidebar")`, 10*time.Second)
	b.shot("lesson-desktop")
	b.shotAt("lesson-desktop-top", "body")
	b.shotAt("lesson-desktop-step-4", "#step-policy")
	b.shotAt("lesson-desktop-step-7", "#step-transformer")
}
