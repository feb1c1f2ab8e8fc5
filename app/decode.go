package app

import (
	"encoding/binary"
	"time"

	"prefer/core/snapshot"
)

// Decoding a whole state on the page's main thread in one go (snapshot.Unmarshal
// of the lesson's state takes 30–50 ms in the browser) blocks the page for that
// long. decodeState decodes the same bytes in pieces of about pieceBytes each and
// lets the browser run between pieces, so no piece of the work is a long task.
//
// A snapshot is a msgpack map whose top-level keys are independent (core/snapshot
// decodes each on its own). decodeState splits the arrays among them (items,
// raters, judgments, guidelines, models, runs) into runs of whole elements, wraps
// each run in a small snapshot of its own ({"format", "version", key: [elements]}),
// decodes the pieces with snapshot.Unmarshal and joins them in order. The result is
// the snapshot snapshot.Unmarshal gives for the whole (TestDecodeStateMatches);
// bytes it cannot split are decoded whole, so errors are snapshot.Unmarshal's.

// pieceBytes is the most msgpack bytes decoded between two yields (about 5 ms of
// decoding in the browser).
const pieceBytes = 24 << 10

// splitKeys are the top-level arrays decodeState splits, in the order it joins them.
var splitKeys = []string{"items", "raters", "judgments", "guidelines", "models", "runs"}

// decodeState decodes an encoded snapshot in pieces, calling yield between them
// (yieldToBrowser on the page; nil for none).
func decodeState(data []byte, yield func()) (*snapshot.Snapshot, error) {
	pieces, ok := splitSnapshot(data, pieceBytes)
	if !ok || len(pieces) <= 1 {
		return snapshot.Unmarshal(data)
	}
	var out *snapshot.Snapshot
	for i, p := range pieces {
		if i > 0 && yield != nil {
			yield()
		}
		s, err := snapshot.Unmarshal(p)
		if err != nil {
			return snapshot.Unmarshal(data) // the whole gives the error with its path
		}
		if out == nil {
			out = s
			continue
		}
		out.Items = append(out.Items, s.Items...)
		out.Raters = append(out.Raters, s.Raters...)
		out.Judgments = append(out.Judgments, s.Judgments...)
		out.Guidelines = append(out.Guidelines, s.Guidelines...)
		out.Models = append(out.Models, s.Models...)
		out.Runs = append(out.Runs, s.Runs...)
	}
	return out, nil
}

// yieldToBrowser lets the browser run (input, rendering, other tasks) before the
// calling goroutine goes on: Go's wasm scheduler hands control back to the page
// while every goroutine waits.
func yieldToBrowser() { time.Sleep(time.Millisecond) }

// splitSnapshot cuts an encoded snapshot into pieces that are snapshots
// themselves: the first holds every top-level key but the split arrays (and a
// header piece's "format" and "version"), each of the others one run of whole
// elements of one array, at most about limit bytes (a single larger element is
// a piece of its own). ok is false when data is not a map it can walk.
func splitSnapshot(data []byte, limit int) (pieces [][]byte, ok bool) {
	n, off, ok := mapHeader(data, 0)
	if !ok {
		return nil, false
	}
	type entry struct {
		key        string
		start, end int // the whole entry: key and value
		vstart     int // the value
	}
	var head []entry
	arrays := map[string]entry{}
	var format, version []byte // raw entries
	for i := 0; i < n; i++ {
		start := off
		key, voff, ok := readStr(data, off)
		if !ok {
			return nil, false
		}
		end, ok := skipValue(data, voff, 0)
		if !ok {
			return nil, false
		}
		e := entry{key: key, start: start, end: end, vstart: voff}
		off = end
		switch {
		case key == "format":
			format = data[start:end]
			head = append(head, e)
		case key == "version":
			version = data[start:end]
			head = append(head, e)
		case isSplitKey(key):
			if _, dup := arrays[key]; dup {
				return nil, false
			}
			arrays[key] = e
		default:
			head = append(head, e)
		}
	}
	if off != len(data) || format == nil || version == nil {
		return nil, false
	}
	piece := func(entries [][]byte) []byte {
		b := appendMapHeader(nil, len(entries))
		for _, e := range entries {
			b = append(b, e...)
		}
		return b
	}
	var first [][]byte
	for _, e := range head {
		first = append(first, data[e.start:e.end])
	}
	pieces = append(pieces, piece(first))
	for _, key := range splitKeys {
		e, found := arrays[key]
		if !found {
			continue
		}
		count, eoff, ok := arrayHeader(data, e.vstart)
		if !ok {
			return nil, false
		}
		keyBytes := data[e.start:e.vstart]
		for count > 0 {
			from, k := eoff, 0
			for k < count {
				next, ok := skipValue(data, eoff, 0)
				if !ok {
					return nil, false
				}
				if k > 0 && next-from > limit {
					break
				}
				eoff, k = next, k+1
			}
			body := append(appendArrayHeader(append([]byte(nil), keyBytes...), k), data[from:eoff]...)
			pieces = append(pieces, piece([][]byte{format, version, body}))
			count -= k
		}
	}
	return pieces, true
}

func isSplitKey(k string) bool {
	for _, s := range splitKeys {
		if s == k {
			return true
		}
	}
	return false
}

// maxSkipDepth bounds nesting while skipping (as core/snapshot does).
const maxSkipDepth = 64

// mapHeader reads a map header at off: its entry count and the offset after it.
func mapHeader(b []byte, off int) (n, next int, ok bool) {
	if off >= len(b) {
		return 0, 0, false
	}
	c := b[off]
	switch {
	case c >= 0x80 && c <= 0x8f:
		return int(c & 0x0f), off + 1, true
	case c == 0xde && off+3 <= len(b):
		return int(binary.BigEndian.Uint16(b[off+1:])), off + 3, true
	case c == 0xdf && off+5 <= len(b):
		return int(binary.BigEndian.Uint32(b[off+1:])), off + 5, true
	}
	return 0, 0, false
}

// arrayHeader reads an array header at off.
func arrayHeader(b []byte, off int) (n, next int, ok bool) {
	if off >= len(b) {
		return 0, 0, false
	}
	c := b[off]
	switch {
	case c >= 0x90 && c <= 0x9f:
		return int(c & 0x0f), off + 1, true
	case c == 0xdc && off+3 <= len(b):
		return int(binary.BigEndian.Uint16(b[off+1:])), off + 3, true
	case c == 0xdd && off+5 <= len(b):
		return int(binary.BigEndian.Uint32(b[off+1:])), off + 5, true
	case c == 0xc0: // nil reads as an empty array
		return 0, off + 1, true
	}
	return 0, 0, false
}

// readStr reads a string at off.
func readStr(b []byte, off int) (s string, next int, ok bool) {
	if off >= len(b) {
		return "", 0, false
	}
	c := b[off]
	var n, h int
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, h = int(c&0x1f), 1
	case c == 0xd9 && off+2 <= len(b):
		n, h = int(b[off+1]), 2
	case c == 0xda && off+3 <= len(b):
		n, h = int(binary.BigEndian.Uint16(b[off+1:])), 3
	case c == 0xdb && off+5 <= len(b):
		n, h = int(binary.BigEndian.Uint32(b[off+1:])), 5
	default:
		return "", 0, false
	}
	if n > len(b)-off-h {
		return "", 0, false
	}
	return string(b[off+h : off+h+n]), off + h + n, true
}

// skipValue returns the offset after the msgpack value at off.
func skipValue(b []byte, off, depth int) (int, bool) {
	if off >= len(b) || depth > maxSkipDepth {
		return 0, false
	}
	c := b[off]
	fixed := func(n int) (int, bool) {
		if n > len(b)-off {
			return 0, false
		}
		return off + n, true
	}
	sized := func(h, n int) (int, bool) {
		if n < 0 || h > len(b)-off || n > len(b)-off-h {
			return 0, false
		}
		return off + h + n, true
	}
	u8 := func() int {
		if off+2 > len(b) {
			return -1
		}
		return int(b[off+1])
	}
	u16 := func() int {
		if off+3 > len(b) {
			return -1
		}
		return int(binary.BigEndian.Uint16(b[off+1:]))
	}
	u32 := func() int {
		if off+5 > len(b) {
			return -1
		}
		return int(binary.BigEndian.Uint32(b[off+1:]))
	}
	elems := func(h, n, per int) (int, bool) {
		if n < 0 || h > len(b)-off {
			return 0, false
		}
		p := off + h
		for i := 0; i < n*per; i++ {
			var ok bool
			if p, ok = skipValue(b, p, depth+1); !ok {
				return 0, false
			}
		}
		return p, true
	}
	switch {
	case c <= 0x7f || c >= 0xe0: // fixint
		return off + 1, true
	case c >= 0x80 && c <= 0x8f:
		return elems(1, int(c&0x0f), 2)
	case c >= 0x90 && c <= 0x9f:
		return elems(1, int(c&0x0f), 1)
	case c >= 0xa0 && c <= 0xbf:
		return sized(1, int(c&0x1f))
	}
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return off + 1, true
	case 0xc4, 0xd9: // bin8, str8
		return sized(2, u8())
	case 0xc5, 0xda:
		return sized(3, u16())
	case 0xc6, 0xdb:
		return sized(5, u32())
	case 0xc7: // ext8
		return sized(3, u8())
	case 0xc8:
		n := u16()
		return sized(4, n)
	case 0xc9:
		n := u32()
		return sized(6, n)
	case 0xca:
		return fixed(5)
	case 0xcb:
		return fixed(9)
	case 0xcc, 0xd0:
		return fixed(2)
	case 0xcd, 0xd1:
		return fixed(3)
	case 0xce, 0xd2:
		return fixed(5)
	case 0xcf, 0xd3:
		return fixed(9)
	case 0xd4:
		return fixed(3)
	case 0xd5:
		return fixed(4)
	case 0xd6:
		return fixed(6)
	case 0xd7:
		return fixed(10)
	case 0xd8:
		return fixed(18)
	case 0xdc:
		return elems(3, u16(), 1)
	case 0xdd:
		return elems(5, u32(), 1)
	case 0xde:
		return elems(3, u16(), 2)
	case 0xdf:
		return elems(5, u32(), 2)
	}
	return 0, false // 0xc1: never used
}

func appendMapHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x80|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x90|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}
