// Loader of Prefer's SIMD kernels (simd.wasm, written by core/simd/module; docs/lm.md).
//
// A Go wasm program built with package core/simd imports the module "prefer_simd".
// The kernel module cannot be instantiated before the Go program: it imports the Go
// program's memory, which exists only once the Go instance does. So the Go program
// gets trampolines (plain functions that forward to the kernels), and once its
// instance exists the kernel module is instantiated over its memory and the
// trampolines are pointed at the kernels. Until then, or when the kernel module is
// absent, refused (a browser without SIMD128) or turned off, "version" answers 0 and
// the Go program runs its own kernels, with the same results.
//
// Used by the page (this script runs before go-app's app.js and wraps
// WebAssembly.instantiateStreaming and WebAssembly.instantiate for the Go
// program), by the training worker (worker.js) and by the Node wrapper of the wasm
// tests (wasm/exec/go_js_wasm_exec).
"use strict";
(function (global) {
  // The kernels and their numbers of (i32) parameters, as simd.wasm exports them
  // (core/simd checks this table against the module).
  const kernels = {
    gemm_acc: 8,
    gemm_dot: 8,
    exp_slice: 2,
    attention_forward: 9,
    attention_backward: 10,
    gather_acc: 6,
    scatter_acc: 6,
    adam_range: 12,
    layernorm_forward: 8,
    layernorm_backward: 10,
    gelu_forward: 4,
    gelu_backward: 5,
    softmax_rows: 7,
    adamw: 13,
  };

  // trampoline returns a function of n parameters that calls target(...), and sets
  // target with its link method.
  function trampoline(n) {
    let target = null;
    let t;
    switch (n) {
      case 0: t = () => target(); break;
      case 1: t = (a) => target(a); break;
      case 2: t = (a, b) => target(a, b); break;
      case 3: t = (a, b, c) => target(a, b, c); break;
      case 4: t = (a, b, c, d) => target(a, b, c, d); break;
      case 5: t = (a, b, c, d, e) => target(a, b, c, d, e); break;
      case 6: t = (a, b, c, d, e, f) => target(a, b, c, d, e, f); break;
      case 7: t = (a, b, c, d, e, f, g) => target(a, b, c, d, e, f, g); break;
      case 8: t = (a, b, c, d, e, f, g, h) => target(a, b, c, d, e, f, g, h); break;
      case 9: t = (a, b, c, d, e, f, g, h, i) => target(a, b, c, d, e, f, g, h, i); break;
      case 10: t = (a, b, c, d, e, f, g, h, i, j) => target(a, b, c, d, e, f, g, h, i, j); break;
      case 11: t = (a, b, c, d, e, f, g, h, i, j, k) => target(a, b, c, d, e, f, g, h, i, j, k); break;
      case 12: t = (a, b, c, d, e, f, g, h, i, j, k, l) => target(a, b, c, d, e, f, g, h, i, j, k, l); break;
      case 13: t = (a, b, c, d, e, f, g, h, i, j, k, l, m) => target(a, b, c, d, e, f, g, h, i, j, k, l, m); break;
      default: throw new Error("simd.js: no trampoline of " + n + " parameters");
    }
    return { fn: t, link: (f) => { target = f; } };
  }

  // prepare adds the import module "prefer_simd" to a Go program's importObject and
  // returns link(instance, module): module is the compiled kernel module, or a
  // promise of it, or null when it is absent; link resolves to true when the
  // kernels are in place, false when the Go kernels will run (the reason is logged).
  function prepare(importObject) {
    let linked = false;
    const imports = { version: () => (linked ? version : 0) };
    const tramps = {};
    for (const name of Object.keys(kernels)) {
      tramps[name] = trampoline(kernels[name]);
      imports[name] = tramps[name].fn;
    }
    let version = 0;
    importObject.prefer_simd = imports;
    return async function link(instance, module) {
      try {
        const m = await module;
        if (!m) {
          return false;
        }
        const mem = instance.exports.mem;
        const k = await WebAssembly.instantiate(m, { env: { memory: mem } });
        for (const name of Object.keys(kernels)) {
          if (typeof k.exports[name] !== "function") {
            throw new Error("simd.wasm lacks the kernel " + name);
          }
        }
        for (const name of Object.keys(kernels)) {
          tramps[name].link(k.exports[name]);
        }
        version = k.exports.version();
        linked = true;
        return true;
      } catch (err) {
        console.warn("Prefer: SIMD kernels not loaded, the Go kernels run instead (same results, slower):", err);
        return false;
      }
    };
  }

  // compile fetches and compiles simd.wasm from url; it resolves to null (and logs
  // why) when the module is missing or refused.
  function compile(url) {
    const fail = (err) => {
      console.warn("Prefer: SIMD kernels not loaded, the Go kernels run instead (same results, slower):", err);
      return null;
    };
    if (typeof WebAssembly.validate === "function" && !supported()) {
      return Promise.resolve(fail(new Error("this browser has no WebAssembly SIMD")));
    }
    return fetch(url)
      .then((r) => {
        if (!r.ok) {
          throw new Error("fetch " + url + ": HTTP " + r.status);
        }
        return r.arrayBuffer();
      })
      .then((b) => WebAssembly.compile(b))
      .catch(fail);
  }

  // supported reports whether the engine validates a module using SIMD128 (a
  // function returning v128.const 0).
  function supported() {
    return WebAssembly.validate(new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0,
      253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
    ]));
  }

  // off reports whether the query string of href turns the kernels off (simd=off).
  function off(href) {
    try {
      return new URL(href).searchParams.get("simd") === "off";
    } catch (e) {
      return false;
    }
  }

  global.preferSIMD = { kernels, prepare, compile, supported, off };

  // In a page: wrap WebAssembly.instantiateStreaming and WebAssembly.instantiate so
  // that go-app's loader (app.js), which instantiates the Go program with a `new
  // Go()`'s importObject, gets the kernels linked before it runs the program.
  if (typeof document !== "undefined" && document.currentScript) {
    const url = new URL("simd.wasm", document.currentScript.src).href;
    const disabled = off(global.location.href);
    const isGo = (importObject) => importObject && importObject.gojs && !importObject.prefer_simd;
    const withKernels = (orig) => async function (source, importObject) {
      if (!isGo(importObject)) {
        return orig.apply(this, arguments);
      }
      const module = disabled ? null : compile(url);
      const link = prepare(importObject);
      const result = await orig.call(this, source, importObject);
      await link(result.instance || result, module);
      return result;
    };
    if (WebAssembly.instantiateStreaming) {
      WebAssembly.instantiateStreaming = withKernels(WebAssembly.instantiateStreaming);
    }
    WebAssembly.instantiate = withKernels(WebAssembly.instantiate);
  }
})(globalThis);
