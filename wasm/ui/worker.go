//go:build js && wasm

package main

import (
	"errors"
	"sync"
	"syscall/js"
	"time"

	"prefer/app"
)

// workerURL is the loader of the training worker binary (static/web/worker.js),
// under the site's path prefix; with ?simd=off when the page has it (the worker then
// runs the Go kernels instead of the SIMD kernels, docs/lm.md).
func workerURL() string {
	u := app.SitePath("/web/worker.js")
	if s := js.Global().Get("preferSIMD"); s.Truthy() && s.Call("off", js.Global().Get("location").Get("href")).Bool() {
		u += "?simd=off"
	}
	return u
}

// worker is app.Worker over a dedicated Web Worker. Messages in both directions are
// ArrayBuffers, transferred (not copied). A message from the worker starts with one
// byte: 'p' progress, 'r' result, 'e' error (UTF-8 text follows).
type worker struct {
	w       js.Value
	onMsg   js.Func
	onError js.Func
	run     sync.Mutex // one job at a time

	mu     sync.Mutex
	queue  []reply       // replies not yet taken by Run
	notify chan struct{} // signalled (never blocking) when queue grows
}

type reply struct {
	kind byte
	data []byte
}

func startWorker() (*worker, error) {
	w := &worker{notify: make(chan struct{}, 1)}
	w.onMsg = js.FuncOf(func(_ js.Value, args []js.Value) any {
		w.deliver(reply{kind: 0, data: bytesFromJS(arg0(args).Get("data"))})
		return nil
	})
	w.onError = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "the training worker failed"
		if e := arg0(args); e.Type() == js.TypeObject && e.Get("message").Type() == js.TypeString {
			msg += ": " + e.Get("message").String()
		}
		w.deliver(reply{kind: 'e', data: []byte(msg)})
		return nil
	})
	if err := w.spawn(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *worker) spawn() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("start the training worker: this browser refused it")
		}
	}()
	w.w = js.Global().Get("Worker").New(workerURL())
	w.w.Call("addEventListener", "message", w.onMsg)
	w.w.Call("addEventListener", "error", w.onError)
	return nil
}

// deliver queues a reply. It runs in a JS callback and so must never block.
func (w *worker) deliver(r reply) {
	if r.kind == 0 {
		if len(r.data) == 0 {
			return
		}
		r.kind, r.data = r.data[0], r.data[1:]
	}
	w.mu.Lock()
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *worker) take() []reply {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue = nil
	return q
}

func (w *worker) Run(req []byte, progress func([]byte)) ([]byte, error) {
	w.run.Lock()
	defer w.run.Unlock()
	w.take() // drop anything left from a canceled job
	u8 := bytesToJS(req)
	buf := u8.Get("buffer")
	w.w.Call("postMessage", buf, []any{buf})
	for {
		<-w.notify
		// Progress messages that arrived together are taken in slices of a few
		// milliseconds, with the page running in between (no long task).
		slice := time.Now()
		for _, r := range w.take() {
			switch r.kind {
			case 'p':
				if progress != nil {
					progress(r.data)
				}
				if time.Since(slice) > 8*time.Millisecond {
					time.Sleep(time.Millisecond)
					slice = time.Now()
				}
			case 'r':
				return r.data, nil
			case 'c':
				return nil, app.ErrCanceled
			case 'e':
				return nil, errors.New(string(r.data))
			default:
				return nil, errors.New("the training worker sent an unknown message")
			}
		}
	}
}

// Cancel terminates the worker (a Go wasm loop cannot be interrupted from outside)
// and starts a fresh one; the running Run returns app.ErrCanceled.
func (w *worker) Cancel() {
	w.w.Call("terminate")
	_ = w.spawn()
	w.deliver(reply{kind: 'c'})
}

func (w *worker) Close() {
	w.w.Call("terminate")
	w.onMsg.Release()
	w.onError.Release()
}
