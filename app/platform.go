package app

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Browser is what the workbench needs from the browser beyond the DOM: HTTP, durable
// storage, the training worker, files and the clipboard. The UI binary (wasm/ui)
// implements it with syscall/js; tests use a fake. Methods that wait for the browser
// block the calling goroutine: call them from ctx.Async, never from a render.
type Browser interface {
	// Fetch performs an HTTP request with window.fetch. A non-2xx status is not an
	// error; a network failure (offline) is.
	Fetch(method, url string, body []byte, header map[string]string) (Reply, error)
	// OpenDB opens the workbench's IndexedDB database.
	OpenDB() (KV, error)
	// StartWorker starts the training Web Worker (wasm/worker).
	StartWorker() (Worker, error)
	// ReadFile reads a File object (from an <input type=file> or a drop).
	ReadFile(file app.Value) (name string, data []byte, err error)
	// Download offers data to the user as a file.
	Download(name, mime string, data []byte)
	// CopyText puts text on the clipboard.
	CopyText(text string) error
	// Memory returns the JS heap in use and the size of the UI's wasm linear memory.
	Memory() (jsHeap, wasm int64)
}

// Reply is an HTTP answer: its status, its body, and the one header the workbench
// reads — Retry-After, which the server sends with 429 and 503 (busy: every slot is
// taken) to say when to ask again.
type Reply struct {
	Status int
	Body   []byte
	// RetryAfter is the Retry-After header in seconds (RFC 9110 §10.2.3; the
	// HTTP-date form is not used by Prefer's server), 0 when absent or invalid.
	RetryAfter time.Duration
}

// ParseRetryAfter reads a Retry-After header's delay-seconds: 0 when empty or not a
// non-negative integer, at most a day (a longer wait is a server's mistake).
func ParseRetryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, 24*time.Hour)
}

// KV is a small transactional key-value store with named object stores (IndexedDB).
// Values are bytes (msgpack); keys are strings.
type KV interface {
	Get(store, key string) (value []byte, ok bool, err error)
	// All returns every record of a store in key order.
	All(store string) ([]Record, error)
	// Count returns the number of records of a store.
	Count(store string) (int, error)
	// Apply runs ops in one read-write transaction over the stores they touch and
	// returns once it is durable (the transaction completed with strict durability).
	Apply(ops ...Op) error
}

// Record is one key and its value.
type Record struct {
	Key   string
	Value []byte
}

// Op is a write: Put Value at Key in Store, or Delete Key (Value ignored).
type Op struct {
	Store  string
	Key    string
	Value  []byte
	Delete bool
}

// Worker is the training worker: a second Go wasm binary running package jobs.
// Run posts a request and blocks until the result; progress is called with each
// progress message as it arrives (on the calling goroutine). Cancel stops the
// running job (the worker is terminated and restarted): Run then returns
// ErrCanceled.
type Worker interface {
	Run(req []byte, progress func(msg []byte)) (result []byte, err error)
	Cancel()
	Close()
}

// browser is the Browser the UI binary installed with SetBrowser; nil on the server
// and in prerendering.
var browser Browser

// SetBrowser installs the browser bridge. wasm/ui calls it before Routes.
func SetBrowser(b Browser) { browser = b }

// ErrCanceled is returned by Worker.Run when the job was canceled.
var ErrCanceled = errors.New("canceled")

// Stores are the IndexedDB object stores of the workbench (wasm/ui/idb.go opens
// them).
var Stores = []string{storeState, storeEvents, storeOutbox, storeLibrary, storeMeta, storeHeld}

// Object stores of the IndexedDB database.
const (
	storeState   = "state"   // "current": the working snapshot (encoded)
	storeEvents  = "events"  // judgment id → judgment made since the last full save
	storeOutbox  = "outbox"  // judgment id → judgment not yet accepted by the server
	storeLibrary = "library" // snapshot id → snapshot opened or saved earlier
	storeMeta    = "meta"    // settings: rater, project, sync cursor, theme, lesson step
	// storeHeld (syncer.go): judgment id → a judgment the server refused, with why
)
