//go:build js && wasm

// Command ui is the workbench's UI binary (app.wasm): it installs the browser bridge
// (fetch, IndexedDB, the training worker, files) and runs the go-app components of
// package app.
package main

import (
	"encoding/json"
	"runtime/debug"
	"syscall/js"

	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app"
)

func main() {
	// Go's wasm garbage collector stops the page while it marks. Collecting when the
	// heap has grown fourfold instead of twofold halves the number of pauses; the
	// heap of the whole lesson stays far below the memory budget.
	debug.SetGCPercent(400)
	app.SetBrowser(newBrowser())
	// preferStats() returns the workbench's measurements as JSON (end-to-end tests).
	js.Global().Set("preferStats", js.FuncOf(func(js.Value, []js.Value) any {
		b, _ := json.Marshal(app.Stats())
		return string(b)
	}))
	app.Routes()
	goapp.RunWhenOnBrowser()
}
