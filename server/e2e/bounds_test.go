package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRewriteOverCapNotSaved: a 2.1 MB pasted rewrite was once accepted (and froze the page). The label page says, as the
// text arrives, that it is over the cap a server enforces (core/wire.MaxTextBytes,
// 64 KiB), refuses to save it with the same words, and saves it once shortened.
func TestRewriteOverCapNotSaved(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	b.nav(s.url("/label"))
	b.ready()
	b.click("#load-demo")
	b.wait("the first item", `document.querySelector("#label-prompt")`, 30*time.Second)
	for range 3 { // compare → rank → rate → rewrite
		b.key("]")
	}
	b.wait("rewrite mode", `document.querySelector("#rewrite")`, 20*time.Second)
	before := b.progress()
	paste := func(n int) {
		eval[bool](b, `(() => { const t = document.querySelector("#rewrite");
			t.value = "x".repeat(`+strconv.Itoa(n)+`); t.dispatchEvent(new Event("input", {bubbles: true})); return true })()`)
	}
	const big = 2_100_000
	paste(big)
	b.wait("the over-cap notice", `(document.querySelector("#label-error") || {innerText: ""}).innerText.includes("the text is 2100000 bytes; the most is 65536")`, 20*time.Second)
	b.shot("rewrite-over-cap")
	b.click("#rewrite-submit")
	b.wait("the refusal", `(document.querySelector("#label-error") || {innerText: ""}).innerText.startsWith("Not saved: the text is 2100000 bytes")`, 20*time.Second)
	if got := b.progress(); got != before {
		t.Fatalf("an over-cap rewrite was saved: %d items done, was %d", got, before)
	}
	paste(1000)
	b.wait("the notice cleared", `!document.querySelector("#label-error")`, 20*time.Second)
	b.click("#rewrite-submit")
	b.wait("the rewrite saved", `+document.querySelector("#progress-count").dataset.done === `+strconv.Itoa(before+1), 20*time.Second)
	if msg := b.text("#label-error"); strings.TrimSpace(msg) != "" {
		t.Fatalf("error after a rewrite within the cap: %q", msg)
	}
}
