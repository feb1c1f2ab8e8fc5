package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestLabelKeys drives the label page's key table in Chromium: the help overlay is
// made from the same table as the handler (it names the current mode's keys, and
// changes with the mode), "/" focuses the note without typing a slash into it, and
// a key bound on the page does not reach the browser (no scrolling by the arrows).
func TestLabelKeys(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	b.nav(s.url("/label"))
	b.ready()
	b.click("#load-demo")
	b.wait("the first item", `document.querySelector("#label-prompt")`, 30*time.Second)

	b.key("?")
	b.wait("the help overlay", `document.querySelector("#help")`, 10*time.Second)
	help := b.text("#help")
	for _, want := range []string{"Everywhere", "Compare", "← or 1", "the left answer is better", "In the flag dialog", "⇧1 … ⇧7"} {
		if !strings.Contains(help, want) {
			b.fail("the help overlay lacks %q:\n%s", want, help)
		}
	}
	b.key("z") // the overlay is modal: no undo behind it
	b.key("?")
	b.wait("the help overlay to close", `!document.querySelector("#help")`, 10*time.Second)

	b.key("]")
	b.wait("rank mode", `document.querySelector("#rank-list")`, 10*time.Second)
	b.key("?")
	b.wait("the help overlay", `document.querySelector("#help")`, 10*time.Second)
	if help := b.text("#help"); !strings.Contains(help, "save the ranking") || strings.Contains(help, "the left answer is better") {
		b.fail("in rank mode the help should list the rank keys and not the compare keys:\n%s", help)
	}
	b.key(kb.Escape)
	b.wait("the help overlay to close", `!document.querySelector("#help")`, 10*time.Second)
	b.key("[")
	b.wait("compare mode", `document.querySelector("#choose-left")`, 10*time.Second)

	// As a keyboard does: one keyDown that carries the text, so the text goes in only
	// if the keydown's default was not prevented. (chromedp.KeyEvent sends the text as
	// a separate "char" event, which no page can prevent.)
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		key := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "/", Code: "Slash", Text: "/", WindowsVirtualKeyCode: 191}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, key); err != nil {
			return err
		}
		key.Type, key.Text = input.DispatchKeyEventTypeKeyUp, ""
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, key)
		return err
	}))
	b.wait("the note to have the focus", `document.activeElement && document.activeElement.id === "note"`, 10*time.Second)
	// A key typed now goes into the note; the slash that focused it must not.
	b.key("o")
	b.key("k")
	if got := eval[string](b, `document.querySelector("#note").value`); got != "ok" {
		b.fail("the note holds %q after pressing / then o k, want \"ok\"", got)
	}
	b.key(kb.Escape)
	b.wait("the note to lose the focus", `document.activeElement.id !== "note"`, 10*time.Second)
	b.shot("label-keys")
}
