// Package app is Prefer's browser workbench: go-app v9 components, one file per
// component, and the handler that serves them.
//
// Routes registers every page and NewHandler returns the configured go-app handler;
// both the UI binary (wasm/ui) and the server call them. The app owns no math: it
// calls package core directly for small things and runs long work (training,
// optimization, simulation) in a Web Worker through package app/jobs. Everything the
// browser provides beyond the DOM (fetch, IndexedDB, the worker, files) comes through
// the Browser interface, which wasm/ui implements with syscall/js.
package app
