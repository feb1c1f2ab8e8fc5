// Package simd is the Go side of Prefer's SIMD kernel module (static/web/simd.wasm,
// written by package module): in wasm it calls the module's f32x4 kernels through
// //go:wasmimport; natively, and in wasm when the module is absent or refused, On
// reports false and callers run their Go kernels, which give the same results bit
// for bit (docs/lm.md, "SIMD kernels").
//
// The loaders link the module: the page's (static/web/simd.js before go-app's
// app.js), the training worker's (static/web/worker.js) and the Node wrapper of the
// wasm tests (wasm/exec/go_js_wasm_exec). Each gives the Go program the import
// module "prefer_simd", whose functions forward to the kernel module once it is
// instantiated over the Go program's memory; its "version" answers 0 when the
// kernel module could not be loaded.
package simd
