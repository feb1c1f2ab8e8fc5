//go:build !wasm

// Package static holds the workbench's static files (the web directory: the wasm
// binaries and their precompressed copies, CSS, icons, the worker script, the demo
// snapshot), embedded into the prefer binary so that it needs no files beside it.
//
// The built files (app.wasm, worker.wasm, *.br, *.gz) are not committed: make builds
// them before the server. Without them the binary still builds (placeholder.txt keeps
// the directory non-empty) and serves the API; its pages then say the app is not built.
package static

import (
	"embed"
	"io/fs"
)

//go:embed web
var files embed.FS

// Web returns the contents of the web directory ("app.wasm", "app.css", …).
func Web() fs.FS {
	sub, err := fs.Sub(files, "web")
	if err != nil {
		panic("static: " + err.Error()) // "web" is a valid path: never happens
	}
	return sub
}
