//go:build js && wasm

// Command worker is the workbench's training worker (worker.wasm): a plain Go wasm
// binary, without go-app, that runs in a Web Worker and executes the long jobs of
// package app/work (simulation, reward-model training, policy optimization) on the
// same core as the UI, so that the page stays responsive.
//
// Protocol: the UI posts a transferred ArrayBuffer holding a msgpack jobs.Request.
// The worker answers with transferred ArrayBuffers whose first byte says what
// follows: 'p' a msgpack jobs.Progress, 'r' the msgpack jobs.Result, 'e' an error
// message. One job runs at a time; the UI cancels a job by terminating the worker.
package main

import (
	"runtime/debug"
	"syscall/js"
	"time"

	"prefer/app/work"
)

// memoryLimit is the worker's soft memory limit (debug.SetMemoryLimit) for a job
// with a small request: as the Go heap nears it, the collector runs before the heap
// grows. Go's wasm linear memory never shrinks, so the heap's highest point is what
// the tab keeps for the rest of its life, and with the default GOGC alone the heap
// grows to twice what is live before a collection. The lesson's largest job (PPO
// on the transformer) holds about 46 MB live (docs/ui.md, "Memory"), so 64 MiB
// leaves it room and keeps the worker near half the 128 MB goal of a school
// Chromebook's tab. A job is given 4 bytes more for every byte of its request
// (jobLimit), so that a large import or state is not collected continuously (the
// limit is soft: a heap that needs more grows, with the collector's work capped at
// half the CPU).
const memoryLimit = 64 << 20

// jobLimit is the memory limit for a job whose request has n bytes.
func jobLimit(n int) int64 { return memoryLimit + 4*int64(n) }

func main() {
	debug.SetMemoryLimit(memoryLimit)
	handler := js.FuncOf(func(_ js.Value, args []js.Value) any {
		data := args[0].Get("data")
		u8 := js.Global().Get("Uint8Array").New(data)
		req := make([]byte, u8.Get("length").Int())
		js.CopyBytesToGo(req, u8)
		// The job runs on its own goroutine: a js.FuncOf callback must not block.
		go serve(req)
		return nil
	})
	js.Global().Call("goReady", handler)
	select {}
}

// pageHeadStart is how long a job waits before it takes a core. The page renders
// the job's start (job bar, disabled buttons, live chart) right after posting it;
// a worker that starts computing at once leaves that frame to share the other core
// with everything else, and on a busy 2-core machine it ran 56–83 ms (a long task
// in 6 of 12 lessons, docs/ui.md). Waiting 60 ms first: none in 24.
const pageHeadStart = 60 * time.Millisecond

// serve runs one job and posts its progress and its result.
func serve(req []byte) {
	debug.SetMemoryLimit(jobLimit(len(req)))
	time.Sleep(pageHeadStart)
	progress := func(msg []byte) { post('p', msg) }
	res, err := work.Handle(req, progress, memory)
	if err != nil {
		post('e', []byte(err.Error()))
		return
	}
	post('r', res)
}

// post sends one tagged message, transferring its buffer.
func post(kind byte, payload []byte) {
	u8 := js.Global().Get("Uint8Array").New(len(payload) + 1)
	u8.SetIndex(0, int(kind))
	js.CopyBytesToJS(u8.Call("subarray", 1), payload)
	buf := u8.Get("buffer")
	js.Global().Call("postMessage", buf, []any{buf})
}

// memory returns the size of this worker's wasm linear memory in bytes.
func memory() int64 {
	inst := js.Global().Get("goInstance")
	if inst.IsUndefined() {
		return 0
	}
	return int64(inst.Get("exports").Get("mem").Get("buffer").Get("byteLength").Float())
}
