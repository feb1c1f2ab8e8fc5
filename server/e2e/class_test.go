package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
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
// caption prints them (two decimals, whole percentages). They are core/lesson/pipeline's
// pinned figures (TestAha: gold 0.2591 → 0.6733 at step 6 → 0.2394, proxy 0.5102 →
// 1.3577 at β = 0.02; gold peak 0.6983 at step 60 → 0.6486 at β = 0.5), which
// app/work's TestLessonPipeline checks the worker's jobs reproduce bit for bit.
var lessonAha = []string{
	"kept rising, from 0.51 to 1.36",
	"rose from 0.26 to 0.67 by step 6, then fell to 0.24, below where it started",
	"gold rose to 0.70 by step 60 and ended at 0.65 (gave back 11%)",
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
	if got := eval[string](b, `(document.querySelector("#lesson-weak .mark-label") || {textContent: ""}).textContent`); got != "gold peak 0.67 (step 6)" {
		b.fail("the small β chart's peak label is %q, want %q", got, "gold peak 0.67 (step 6)")
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
	// The address follows 300 ms after the last move: wait for β exactly (an earlier
	// position's "beta=0.00342" also contains "beta=0.003"; reloading on it made this
	// test fail now and then).
	b.wait("the slider's last position to show", `document.querySelector("#pg-results").dataset.beta == "0.003" && new URLSearchParams(location.search).get("beta") === "0.003"`, 10*time.Second)
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
	if q, _ := url.ParseQuery(strings.TrimPrefix(loc, "?")); q.Get("panel") != "crowd" || q.Get("beta") != "0.003" {
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
	// On a phone, step 7's table fits: its last column is not cut off.
	b.phone()
	b.wait("the layout at phone width", `innerWidth == 390`, 10*time.Second)
	if !eval[bool](b, `(() => { const t = document.querySelector("#lesson-lm-mix"); return !!t && t.scrollWidth <= t.clientWidth + 1 })()`) {
		b.fail("step 7's table is wider than a 390 px phone: %s", eval[string](b, `(() => { const t = document.querySelector("#lesson-lm-mix"); return t ? t.scrollWidth + " > " + t.clientWidth : "missing" })()`))
	}
	b.shotAt("lesson-phone-step-7-table", "#lesson-lm-mix")
}

// tap touches the middle of the element matching sel, as a finger does (touch
// events, from which the browser makes the click).
func (b *browser) tap(sel string) {
	b.tb.Helper()
	b.wait(sel+" to be tappable", fmt.Sprintf(`document.querySelector(%q) && !document.querySelector(%q).disabled`, sel, sel), 30*time.Second)
	xy := eval[[]float64](b, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2] })()`, sel))
	pt := []*input.TouchPoint{{X: xy[0], Y: xy[1]}}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchStart, TouchPoints: pt}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: input.DispatchTouchEventTypeTouchEnd, TouchPoints: []*input.TouchPoint{}})
		return err
	}))
}

// phone emulates a 390 × 844 phone with touch (an iPhone 12–14's CSS pixels).
func (b *browser) phone() {
	b.tb.Helper()
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(3)))
}

// inViewport is a script that says whether the element matching sel is wholly
// inside the viewport, without scrolling.
func inViewport(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; const r = e.getBoundingClientRect(); return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.width > 0 })()`, sel)
}

// TestLabelPhone is journey J6's layout on a phone (390 × 844): a compact header,
// the prompt and both answers readable, the choice buttons inside the viewport
// without scrolling (a bar at the bottom), zoom allowed, and a whole compare done
// by tapping — a button, then an answer itself.
func TestLabelPhone(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	b.phone()
	b.nav(s.url("/label"))
	b.ready()
	if vp := eval[string](b, `[...document.querySelectorAll('meta[name=viewport]')].pop().content`); strings.Contains(vp, "user-scalable=0") || strings.Contains(vp, "maximum-scale=1") {
		b.fail("the page forbids zooming: %q", vp)
	}
	b.tap("#load-demo")
	b.wait("the first item", `document.querySelector("#label-prompt")`, 30*time.Second)
	if h := eval[int](b, `document.querySelector(".topbar").offsetHeight`); h > 64 {
		b.fail("the header takes %d of 844 px on a phone, want a compact one (≤ 64)", h)
	}
	for _, sel := range []string{"#label-prompt", "#choose-left", "#choose-right", "#choose-tie", "#choose-bad"} {
		if !eval[bool](b, inViewport(sel)) {
			b.fail("%s is not inside the phone's viewport without scrolling", sel)
		}
	}
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		b.fail("the page is %d px wide on a 390 px phone: it scrolls sideways", w)
	}
	if fs := eval[float64](b, `parseFloat(getComputedStyle(document.querySelector("#answer-left p")).fontSize)`); fs < 15 {
		b.fail("the answers are set in %.0f px on a phone, want ≥ 15", fs)
	}
	b.shot("label-phone")
	b.shotAt("label-phone-screen", "body")
	// Both answers can be read: scrolling brings the second one fully into view
	// above the bottom bar.
	eval[bool](b, `(document.querySelector("#answer-right").scrollIntoView({block: "end"}), true)`)
	if !eval[bool](b, `(() => { const a = document.querySelector("#answer-right").getBoundingClientRect(), bar = document.querySelector(".choice-bar").getBoundingClientRect(); return a.bottom <= bar.top + 1 })()`) {
		b.fail("the bottom bar covers the end of the right answer")
	}
	eval[bool](b, `(scrollTo(0, 0), true)`)
	before := b.progress()
	b.tap("#choose-right")
	b.wait("the tapped choice to be saved", fmt.Sprintf(`+document.querySelector("#progress-count").dataset.done === %d`, before+1), 20*time.Second)
	// Tapping an answer chooses it.
	b.tap("#answer-left")
	b.wait("the tapped answer to be saved", fmt.Sprintf(`+document.querySelector("#progress-count").dataset.done === %d`, before+2), 20*time.Second)
	if !eval[bool](b, inViewport("#choose-left")) {
		b.fail("after two compares the choice buttons left the viewport")
	}
	b.shotAt("label-phone-after", "body")
}

// TestDeadEnds: the dead ends and small wrongs issue 14 found, each gone.
func TestDeadEnds(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	dir := t.TempDir()

	// The home page's demo button (it pointed to one on the Data page that does not
	// exist), and "not a Prefer snapshot" said once for a file of another kind.
	b.nav(s.url("/"))
	b.ready()
	junk := filepath.Join(dir, "notes.txt")
	os.WriteFile(junk, []byte("just some notes\n"), 0o644)
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#open-file"), []string{junk}))
	b.wait("the message about the file", `document.querySelector("#open-msg") && !document.querySelector("#open-msg").innerText.startsWith("Opening")`, 30*time.Second)
	if msg := b.text("#open-msg"); strings.Count(msg, "not a Prefer snapshot") != 1 {
		b.fail("the message about a text file says 'not a Prefer snapshot' %d times: %q", strings.Count(msg, "not a Prefer snapshot"), msg)
	}
	b.click("#home-demo")
	b.wait("the demo", `document.querySelector("#open-msg") && document.querySelector("#open-msg").innerText.startsWith("Opened")`, 30*time.Second)
	msg := b.text("#open-msg")
	i := strings.Index(msg, "sha256-")
	if i < 0 {
		b.fail("opening the demo does not show its id: %q", msg)
	}
	shown := msg[i:]
	shown = shown[:strings.IndexAny(shown, ")")]

	// Optimize says why it is disabled: first a job hides nothing, then the missing
	// reward model.
	b.nav(s.url("/policy"))
	b.ready()
	b.wait("the reason Optimize is disabled", `document.querySelector("#po-run") && document.querySelector("#po-run").disabled && document.querySelector("#po-why")`, 30*time.Second)
	if why := b.text("#po-why"); !strings.Contains(why, "reward model") {
		b.fail("Optimize is disabled saying %q, want why (no reward model)", why)
	}

	// The sha256 id the app showed opens the state it names (from this browser's
	// library, once another state has replaced it); an unknown one says what to do,
	// not "HTTP 400".
	b.nav(s.url("/lesson"))
	b.ready()
	b.click("#lesson-simulate")
	b.wait("the simulation", `document.querySelector("#step-feedback[data-done=true]")`, 60*time.Second)
	for _, c := range []struct{ id, want string }{{shown, "Opened"}, {"sha256-0123456789abcdef0123", "content id"}} {
		b.nav(s.url("/"))
		b.ready()
		eval[bool](b, fmt.Sprintf(`(() => { const f = document.querySelector("#open-link"); f.value = %q; f.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, c.id))
		time.Sleep(200 * time.Millisecond)
		eval[bool](b, `(document.querySelector("#open-link").form.requestSubmit(), true)`)
		b.wait("the snapshot page", `document.querySelector("#snapshot-msg[data-done=true]")`, 30*time.Second)
		if got := b.text("#snapshot-msg"); !strings.Contains(got, c.want) || strings.Contains(got, "HTTP") {
			b.fail("opening %q says %q, want %q", c.id, got, c.want)
		}
	}

	// "…or label a few pairs yourself" has a way back to the lesson.
	b.nav(s.url("/lesson"))
	b.ready()
	b.click("#lesson-label")
	b.wait("the label page with a way back", `document.querySelector("#back-to-lesson")`, 30*time.Second)
	b.click("#back-to-lesson")
	b.wait("the lesson again", `document.querySelector("#lesson-all")`, 30*time.Second)

	// Rank mode: Enter right away does not save the order as shown.
	b.nav(s.url("/label"))
	b.ready()
	b.wait("an item", `document.querySelector("#label-prompt")`, 30*time.Second)
	b.key("]")
	b.wait("rank mode", `document.querySelector("#rank-list")`, 10*time.Second)
	before := b.progress()
	b.key(kb.Enter)
	b.wait("the request to confirm", `document.querySelector("#rank-confirm")`, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if got := b.progress(); got != before {
		b.fail("Enter on the untouched order saved a ranking (%d → %d done)", before, got)
	}
	b.key(kb.Enter) // the explicit confirm
	b.wait("the confirmed ranking", fmt.Sprintf(`+document.querySelector("#progress-count").dataset.done === %d`, before+1), 20*time.Second)
	b.key("2")
	b.key(kb.Enter) // one move is the rater's own order: saved at once
	b.wait("the ranking after a move", fmt.Sprintf(`+document.querySelector("#progress-count").dataset.done === %d`, before+2), 20*time.Second)

	// ("/" opening the note without typing into it is TestLabelKeys's.)

	// A rater link without its #token says it is incomplete.
	b.nav(s.url("/p/0123456789abcdef"))
	b.ready()
	b.wait("the incomplete-link notice", `document.querySelector("#link-incomplete")`, 30*time.Second)
	if got := b.text("#link-incomplete"); !strings.Contains(got, "#token=") {
		b.fail("the notice for a link without its token says %q", got)
	}
	if eval[bool](b, `!!document.querySelector("#load-demo")`) {
		b.fail("a rater link without its token offers the demo items instead of saying the link is incomplete")
	}

	// Reward features in words, not raw keys (c:. 7).
	b.nav(s.url("/lesson"))
	b.ready()
	b.click("#lesson-simulate") // the working state is the demo's again (opened by its id above)
	b.wait("the simulation", `document.querySelector("#step-feedback[data-done=true]") && !document.querySelector("#step-reward[data-done=true]")`, 60*time.Second)
	b.click("#lesson-train")
	b.wait("the reward model", `document.querySelector("#step-reward[data-done=true]")`, 2*time.Minute)
	b.nav(s.url("/reward"))
	b.ready()
	b.wait("the features", `[...document.querySelectorAll("h3")].some(h => h.innerText.includes("What drives the reward"))`, 30*time.Second)
	feats := eval[string](b, `[...document.querySelectorAll("table td:first-child")].map(e => e.innerText).join("\n")`)
	for _, raw := range []string{"w:", "c:", "s:"} {
		if strings.Contains(feats, "\n"+raw) || strings.HasPrefix(feats, raw) {
			b.fail("the Reward page shows raw feature keys:\n%s", feats)
		}
	}
	if !strings.Contains(feats, "“") {
		b.fail("the Reward page's features are not in words:\n%s", feats)
	}
}
