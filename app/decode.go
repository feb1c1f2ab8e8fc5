package app

import (
	"time"

	"prefer/core/snapshot"
)

// Decoding a whole state on the page's main thread in one go (the lesson's state
// takes 30–50 ms to decode in the browser) blocks the page for that long.
// decodeState decodes it with snapshot.UnmarshalPaced, which lets the browser run
// after about every pieceBytes of input, so no stretch of the decoding is a long
// task. The result is exactly snapshot.Unmarshal's.

// pieceBytes is about the most msgpack bytes decoded between two yields (a few ms
// of decoding in the browser).
const pieceBytes = 24 << 10

// decodeState decodes an encoded snapshot, calling yield (yieldToBrowser on the
// page; nil for none) between pieces of about pieceBytes.
func decodeState(data []byte, yield func()) (*snapshot.Snapshot, error) {
	return snapshot.UnmarshalPaced(data, pieceBytes, yield)
}

// yieldToBrowser lets the browser run (input, rendering, other tasks) before the
// calling goroutine goes on: Go's wasm scheduler hands control back to the page
// while every goroutine waits.
func yieldToBrowser() { time.Sleep(time.Millisecond) }
