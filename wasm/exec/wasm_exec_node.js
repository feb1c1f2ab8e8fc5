// Go's wasm_exec_node.js (Go 1.26, misc/wasm) with Prefer's SIMD kernels linked: see
// go_js_wasm_exec beside this file and static/web/simd.js.
"use strict";

if (process.argv.length < 3) {
  console.error("usage: go_js_wasm_exec [wasm binary] [arguments]");
  process.exit(1);
}

globalThis.require = require;
globalThis.fs = require("fs");
globalThis.path = require("path");
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.performance ??= require("performance");
globalThis.crypto ??= require("crypto");

const goroot = process.env.PREFER_GOROOT;
require(path.join(goroot, "lib", "wasm", "wasm_exec"));
const web = path.join(__dirname, "..", "..", "static", "web");
require(path.join(web, "simd.js"));

// The kernel module: static/web/simd.wasm, another file (PREFER_SIMD_WASM), or none
// (PREFER_SIMD=off). A missing or invalid file is reported and the Go kernels run.
function kernelModule() {
  if (process.env.PREFER_SIMD === "off") {
    return null;
  }
  const file = process.env.PREFER_SIMD_WASM || path.join(web, "simd.wasm");
  try {
    return WebAssembly.compile(fs.readFileSync(file));
  } catch (err) {
    return Promise.reject(err);
  }
}

const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({ TMPDIR: require("os").tmpdir() }, process.env);
go.exit = process.exit;
const link = preferSIMD.prepare(go.importObject);
WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject).then(async (result) => {
  await link(result.instance, kernelModule());
  process.on("exit", (code) => { // Node.js exits if no event handler is pending
    if (code === 0 && !go.exited) {
      // deadlock, make Go print error and stack traces
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  return go.run(result.instance);
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
