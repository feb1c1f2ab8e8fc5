//go:build js && wasm

package main

import (
	"errors"
	"runtime"
	"syscall/js"

	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app"
)

// browser implements app.Browser with syscall/js.
type browser struct{}

func newBrowser() *browser { return &browser{} }

// await blocks until the promise settles and returns its value or its rejection.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg0(args)}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{err: jsError(arg0(args))}
		return nil
	})
	p.Call("then", then, catch)
	r := <-ch
	then.Release()
	catch.Release()
	return r.v, r.err
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// jsError turns a JS error value into a Go error.
func jsError(v js.Value) error {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return errors.New(v.Get("message").String())
	}
	if v.Type() == js.TypeString {
		return errors.New(v.String())
	}
	return errors.New("browser error")
}

// bytesFromJS copies an ArrayBuffer or a typed array into Go.
func bytesFromJS(v js.Value) []byte {
	u8 := js.Global().Get("Uint8Array").New(v)
	out := make([]byte, u8.Get("length").Int())
	js.CopyBytesToGo(out, u8)
	return out
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return u8
}

func (b *browser) Fetch(method, url string, body []byte, header map[string]string) (app.Reply, error) {
	opts := map[string]any{"method": method}
	if len(header) > 0 {
		h := map[string]any{}
		for k, v := range header {
			h[k] = v
		}
		opts["headers"] = h
	}
	if body != nil {
		opts["body"] = bytesToJS(body)
	}
	resp, err := await(js.Global().Call("fetch", url, opts))
	if err != nil {
		return app.Reply{}, errors.New("fetch " + url + ": " + err.Error())
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return app.Reply{}, errors.New("read " + url + ": " + err.Error())
	}
	retry := resp.Get("headers").Call("get", "Retry-After") // null when absent
	r := app.Reply{Status: resp.Get("status").Int(), Body: bytesFromJS(buf)}
	if retry.Type() == js.TypeString {
		r.RetryAfter = app.ParseRetryAfter(retry.String())
	}
	return r, nil
}

func (b *browser) OpenDB() (app.KV, error) { return openDB() }

func (b *browser) StartWorker() (app.Worker, error) { return startWorker() }

func (b *browser) ReadFile(file goapp.Value) (string, []byte, error) {
	f := goapp.JSValue(file)
	buf, err := await(f.Call("arrayBuffer"))
	if err != nil {
		return "", nil, errors.New("read file: " + err.Error())
	}
	return f.Get("name").String(), bytesFromJS(buf), nil
}

func (b *browser) Download(name, mime string, data []byte) {
	blob := js.Global().Get("Blob").New([]any{bytesToJS(data)}, map[string]any{"type": mime})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := js.Global().Get("document").Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	js.Global().Get("document").Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	js.Global().Call("setTimeout", js.FuncOf(func(js.Value, []js.Value) any {
		js.Global().Get("URL").Call("revokeObjectURL", url)
		return nil
	}), 10000)
}

func (b *browser) CopyText(text string) error {
	clip := js.Global().Get("navigator").Get("clipboard")
	if clip.IsUndefined() {
		return errors.New("the clipboard is not available here; copy the link by hand")
	}
	_, err := await(clip.Call("writeText", text))
	return err
}

func (b *browser) Memory() (jsHeap, wasm int64) {
	if m := js.Global().Get("performance").Get("memory"); !m.IsUndefined() {
		jsHeap = int64(m.Get("usedJSHeapSize").Float())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return jsHeap, int64(ms.Sys)
}
