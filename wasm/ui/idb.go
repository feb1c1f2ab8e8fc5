//go:build js && wasm

package main

import (
	"errors"
	"sort"
	"syscall/js"

	"prefer/app"
)

// idb is app.KV over IndexedDB. Each call is one transaction; writes resolve when the
// transaction completes with strict durability (flushed to disk), so a judgment is
// on disk before the UI acknowledges it.
type idb struct {
	db js.Value
}

const dbName = "prefer"

// dbVersion is bumped when app.Stores changes: the upgrade creates missing stores.
const dbVersion = 2 // 2: store "held" (judgments the server refused)

func openDB() (*idb, error) {
	factory := js.Global().Get("indexedDB")
	if factory.IsUndefined() || factory.IsNull() {
		return nil, errors.New("this browser has no IndexedDB (private mode?): your work cannot be saved")
	}
	req := factory.Call("open", dbName, dbVersion)
	upgrade := js.FuncOf(func(js.Value, []js.Value) any {
		db := req.Get("result")
		names := db.Get("objectStoreNames")
		for _, s := range app.Stores {
			if !names.Call("contains", s).Bool() {
				db.Call("createObjectStore", s)
			}
		}
		return nil
	})
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	v, err := request(req)
	if err != nil {
		return nil, errors.New("open the browser database: " + err.Error())
	}
	return &idb{db: v}, nil
}

// request waits for an IDBRequest and returns its result.
func request(req js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	// Callbacks must never block (they run on the JS event loop): send at most once.
	send := func(r result) {
		select {
		case ch <- r:
		default:
		}
	}
	ok := js.FuncOf(func(js.Value, []js.Value) any {
		send(result{v: req.Get("result")})
		return nil
	})
	fail := js.FuncOf(func(js.Value, []js.Value) any {
		send(result{err: domError(req.Get("error"))})
		return nil
	})
	blocked := js.FuncOf(func(js.Value, []js.Value) any {
		send(result{err: errors.New("the database is open in an older tab; close other Prefer tabs and reload")})
		return nil
	})
	req.Set("onsuccess", ok)
	req.Set("onerror", fail)
	if !req.Get("onblocked").IsUndefined() {
		req.Set("onblocked", blocked)
	}
	r := <-ch
	ok.Release()
	fail.Release()
	blocked.Release()
	return r.v, r.err
}

func domError(e js.Value) error {
	if e.IsNull() || e.IsUndefined() {
		return errors.New("unknown storage error")
	}
	return errors.New(e.Get("name").String() + ": " + e.Get("message").String())
}

func (d *idb) store(name, mode string) (js.Value, js.Value) {
	tx := d.db.Call("transaction", name, mode)
	return tx, tx.Call("objectStore", name)
}

func (d *idb) Get(store, key string) ([]byte, bool, error) {
	_, s := d.store(store, "readonly")
	v, err := request(s.Call("get", key))
	if err != nil {
		return nil, false, err
	}
	if v.IsUndefined() || v.IsNull() {
		return nil, false, nil
	}
	return bytesFromJS(v), true, nil
}

func (d *idb) All(store string) ([]app.Record, error) {
	_, s := d.store(store, "readonly")
	keys, err := request(s.Call("getAllKeys"))
	if err != nil {
		return nil, err
	}
	_, s = d.store(store, "readonly")
	vals, err := request(s.Call("getAll"))
	if err != nil {
		return nil, err
	}
	n := keys.Length()
	if vals.Length() != n {
		return nil, errors.New("the database changed while reading; try again")
	}
	out := make([]app.Record, n)
	for i := range n {
		out[i] = app.Record{Key: keys.Index(i).String(), Value: bytesFromJS(vals.Index(i))}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out, nil
}

func (d *idb) Count(store string) (int, error) {
	_, s := d.store(store, "readonly")
	v, err := request(s.Call("count"))
	if err != nil {
		return 0, err
	}
	return v.Int(), nil
}

func (d *idb) Apply(ops ...app.Op) error {
	if len(ops) == 0 {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, op := range ops {
		if !seen[op.Store] {
			seen[op.Store] = true
			names = append(names, op.Store)
		}
	}
	jsNames := make([]any, len(names))
	for i, n := range names {
		jsNames[i] = n
	}
	tx := d.db.Call("transaction", jsNames, "readwrite", map[string]any{"durability": "strict"})
	ch := make(chan error, 1)
	send := func(err error) {
		select {
		case ch <- err:
		default:
		}
	}
	done := js.FuncOf(func(js.Value, []js.Value) any { send(nil); return nil })
	fail := js.FuncOf(func(js.Value, []js.Value) any { send(domError(tx.Get("error"))); return nil })
	defer done.Release()
	defer fail.Release()
	tx.Set("oncomplete", done)
	tx.Set("onerror", fail)
	tx.Set("onabort", fail)
	for _, op := range ops {
		s := tx.Call("objectStore", op.Store)
		if op.Delete {
			s.Call("delete", op.Key)
		} else {
			s.Call("put", bytesToJS(op.Value), op.Key)
		}
	}
	if err := <-ch; err != nil {
		return errors.New("save to the browser database: " + err.Error())
	}
	return nil
}
