package app

import (
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// keyPress is one keydown as a page's key table sees it.
//
// Chord names the keys the way the tables write them: the KeyboardEvent key
// ("ArrowLeft", "1", "z", "?"), prefixed with "Ctrl+" when Control or Meta is held,
// and, for the digit row with Shift held, "Shift+" and the digit of the physical key
// ("Shift+3", whatever the keyboard layout prints there).
type keyPress struct {
	Chord  string
	Typing bool // the focus is in a text field (input, textarea, select)
	target app.Value
}

// blurTarget takes the focus out of the field the key was pressed in.
func (k keyPress) blurTarget() {
	if k.target != nil && k.target.Truthy() {
		k.target.Call("blur")
	}
}

// readKeyPress reads a keydown event.
func readKeyPress(e app.Value) keyPress {
	key := e.Get("key").String()
	code := e.Get("code").String()
	chord := key
	switch {
	case e.Get("shiftKey").Bool() && strings.HasPrefix(code, "Digit"):
		chord = "Shift+" + strings.TrimPrefix(code, "Digit")
	case e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool():
		chord = "Ctrl+" + key
	}
	target := e.Get("target")
	tag := ""
	if target.Truthy() && target.Get("tagName").Truthy() {
		tag = strings.ToLower(target.Get("tagName").String())
	}
	return keyPress{Chord: chord, Typing: tag == "input" || tag == "textarea" || tag == "select", target: target}
}

// listenKeys calls decide for every keydown of the window and returns the function
// that stops listening. decide returns the action bound to the key, or nil.
//
// The listener is a plain JS function, so it runs while the browser still waits on
// the event: a bound key's default action (scrolling, or a "/" typed into the field
// that the action focuses) is prevented before it happens. go-app's
// Window().AddEventListener would run the handler later, on the UI goroutine, when
// preventDefault no longer has an effect. The action itself runs on the UI
// goroutine through ctx.Dispatch, which also updates the page.
func listenKeys(ctx app.Context, decide func(k keyPress) func(ctx app.Context)) func() {
	fn := app.FuncOf(func(this app.Value, args []app.Value) any {
		if len(args) == 0 {
			return nil
		}
		k := readKeyPress(args[0])
		if decide(k) == nil {
			return nil
		}
		args[0].Call("preventDefault")
		ctx.Dispatch(func(ctx app.Context) {
			// The page may have changed between the key and now: decide again.
			if act := decide(k); act != nil {
				act(ctx)
			}
		})
		return nil
	})
	app.Window().Call("addEventListener", "keydown", fn)
	return func() {
		app.Window().Call("removeEventListener", "keydown", fn)
		fn.Release()
	}
}
