package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/snapshot"
)

// homePage is the landing page: three doors — run the lesson, label, open a snapshot.
type homePage struct {
	app.Compo

	demo   string // what the demo snapshot holds, once read
	booted bool   // set in OnMount: the wasm runs
}

func (h *homePage) OnMount(ctx app.Context) {
	h.booted = true
	if browser == nil {
		return
	}
	ctx.Async(func() {
		msg := readDemo()
		ctx.Dispatch(func(ctx app.Context) { h.demo = msg })
	})
}

// readDemo fetches and decodes the demo snapshot and describes it.
func readDemo() string {
	status, data, err := browser.Fetch("GET", "/web/demo.snap", nil, nil)
	if err != nil {
		return "The demo snapshot could not be fetched: " + err.Error()
	}
	if status != 200 {
		return fmt.Sprintf("The demo snapshot is missing (HTTP %d): build it with make.", status)
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		return "The demo snapshot is damaged: " + err.Error()
	}
	return fmt.Sprintf("Demo: %d items, %d raters, %d judgments (%s).",
		len(s.Items), len(s.Raters), len(s.Judgments), snapshot.ID(data)[:19])
}

func (h *homePage) Render() app.UI {
	status := "Starting…"
	if h.booted {
		status = "Ready."
	}
	if h.demo != "" {
		status = h.demo
	}
	return app.Main().ID("home").Body(
		app.H1().Text("Prefer"),
		app.P().Text("The RLHF workbench that runs in a browser tab."),
		app.P().ID("boot-status").Text(status),
	)
}
