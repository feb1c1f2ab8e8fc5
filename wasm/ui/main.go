//go:build js && wasm

// Command ui is the workbench's UI binary (app.wasm): it installs the browser bridge
// (fetch, IndexedDB, the training worker, files) and runs the go-app components of
// package app.
package main

import (
	"encoding/json"
	"syscall/js"

	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app"
)

func main() {
	app.SetBrowser(newBrowser())
	// preferStats() returns the workbench's measurements as JSON (end-to-end tests).
	js.Global().Set("preferStats", js.FuncOf(func(js.Value, []js.Value) any {
		b, _ := json.Marshal(app.Stats())
		return string(b)
	}))
	app.Routes()
	goapp.RunWhenOnBrowser()
}
