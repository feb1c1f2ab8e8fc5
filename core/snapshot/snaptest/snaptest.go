// Package snaptest builds hand-made snapshot bytes for the tests of several packages
// (the decoder's budgets, prefer verify, the server's event batches): the start of a
// snapshot with a header a test chooses, which no encoder would write.
package snaptest

// Head returns the start of a snapshot map of 2+extra entries — "format":
// "prefer.snapshot", "version": 1 — whose next entry is key; the caller appends
// key's value (and the other extra entries).
func Head(extra int, key string) []byte {
	b := []byte{byte(0x80 | (2 + extra)), 0xa6}
	b = append(b, "format"...)
	b = append(b, 0xaf)
	b = append(b, "prefer.snapshot"...)
	b = append(b, 0xa7)
	b = append(b, "version"...)
	b = append(b, 0x01, byte(0xa0|len(key)))
	return append(b, key...)
}

// Array32 is a msgpack array header (array 32) of n elements, whatever follows.
func Array32(n int) []byte {
	return []byte{0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}
