// Loader of Prefer's training worker (worker.wasm, built from wasm/worker).
// Messages that arrive before Go has installed its handler are buffered and replayed.
// Paths are relative to this script (PREFIX/web/worker.js), so the worker also runs
// on a static site served under a path prefix. The SIMD kernels (simd.js, simd.wasm;
// docs/lm.md) are linked to the Go program before it runs; without them (absent,
// refused, or ?simd=off on this script's URL) the Go kernels run, with the same
// results.
"use strict";
importScripts("../wasm_exec.js", "simd.js");

const pending = [];
self.onmessage = (event) => pending.push(event);
self.goReady = (handler) => {
  self.onmessage = handler;
  for (const event of pending.splice(0)) handler(event);
};

const go = new Go();
const url = new URL("worker.wasm", self.location.href).href;
const kernels = preferSIMD.off(self.location.href) ? null : preferSIMD.compile(new URL("simd.wasm", self.location.href).href);
const link = preferSIMD.prepare(go.importObject);
const start = async (result) => {
  self.goInstance = result.instance;
  await link(result.instance, kernels);
  go.run(result.instance);
};
WebAssembly.instantiateStreaming(fetch(url), go.importObject)
  .catch(() => fetch(url).then((r) => r.arrayBuffer()).then((b) => WebAssembly.instantiate(b, go.importObject)))
  .then(start)
  .catch((err) => self.postMessage(new TextEncoder().encode("e" + "load the training worker: " + err).buffer));
