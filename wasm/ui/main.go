//go:build js && wasm

// Command ui is the workbench's UI binary (app.wasm): it installs the browser bridge
// (fetch, IndexedDB, the training worker, files) and runs the go-app components of
// package app.
package main

import (
	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app"
)

func main() {
	app.SetBrowser(newBrowser())
	app.Routes()
	goapp.RunWhenOnBrowser()
}
