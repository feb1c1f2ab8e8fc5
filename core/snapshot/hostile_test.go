package snapshot

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"prefer/core/snapshot/snaptest"
)

var update = flag.Bool("update", false, "rewrite the golden snapshot file")

// goldenPath is the pinned version-1 file: any change to the encoding that alters
// these bytes breaks every published snapshot id, so it must be deliberate.
var goldenPath = filepath.Join("..", "..", "testdata", "snapshot", "v1.snap")

func TestGoldenV1(t *testing.T) {
	data, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./core/snapshot -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("encoding of the sample changed: %s now, golden %s", ID(data), ID(want))
	}
	got, err := Unmarshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sample()) {
		t.Fatal("golden file no longer decodes to the sample")
	}
}

func TestEveryTruncationFails(t *testing.T) {
	data, _ := Marshal(sample())
	for n := 0; n < len(data); n++ {
		_, err := Unmarshal(data[:n])
		if err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotSnapshot) {
			t.Fatalf("truncated to %d bytes: error %v is neither ErrCorrupt nor ErrNotSnapshot", n, err)
		}
	}
}

func TestCorruptedBytesNeverPanic(t *testing.T) {
	data, _ := Marshal(sample())
	for i := range data {
		for _, b := range []byte{0x00, 0xff, 0xdd, 0xc6, 0x7f} {
			c := append([]byte(nil), data...)
			c[i] = b
			Unmarshal(c) // must not panic; errors are expected
		}
	}
}

// allocated returns the bytes allocated while fn runs.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// allocatedBytes is allocated without the GC before (fast enough for fuzzing):
// runtime/metrics' cumulative count of heap bytes allocated.
func allocatedBytes(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	fn()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

func TestHugeLengthPrefixes(t *testing.T) {
	// {"format": "prefer.snapshot", "version": 1, key: value}
	doc := func(key string, value []byte) []byte { return append(snaptest.Head(1, key), value...) }
	cases := []struct {
		name string
		data []byte
	}{
		{"array of 2^32-1 items", doc("items", []byte{0xdd, 0xff, 0xff, 0xff, 0xff})},
		{"map of 2^32-1 entries", doc("provenance", []byte{0xdf, 0xff, 0xff, 0xff, 0xff})},
		{"str of 2^32-1 bytes", doc("note", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'x'})},
		{"bin of 2^32-1 bytes", doc("blob", []byte{0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2})},
		{"judgments of 2^32-1", doc("judgments", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x80})},
		{"deep nesting", doc("extra", bytes.Repeat([]byte{0x91}, 100000))},
		{"extension type", doc("ext", []byte{0xd4, 0x01, 0x00})},
	}
	for _, c := range cases {
		var err error
		n := allocated(func() { _, err = Unmarshal(c.data) })
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", c.name, err)
		}
		// Allocation must be justified by the input, not by the claimed length.
		if n > 64<<10 {
			t.Errorf("%s: allocated %d bytes for a %d-byte input", c.name, n, len(c.data))
		}
	}
}

func TestUnknownKeysKeptOrIgnored(t *testing.T) {
	s := sample()
	// A newer writer's top-level key is kept through a round trip, in place.
	s.Extra = map[string][]byte{"zz_future": {0x92, 0x01, 0xa1, 'x'}}
	data, _ := Marshal(s)
	got, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Extra["zz_future"], s.Extra["zz_future"]) {
		t.Fatalf("unknown top-level key lost: %v", got.Extra)
	}
	again, _ := Marshal(got)
	if !bytes.Equal(again, data) {
		t.Fatal("unknown key changed the bytes on a round trip")
	}
	// An unknown key inside a record is ignored: splice {"zz": [1]} into the first
	// response map by bumping its size and appending the pair at its end is not
	// trivial in place, so encode a judgment map with an extra key by hand.
	raw := snaptest.Head(1, "raters")
	raw = append(raw, 0x91, 0x82, 0xa2, 'i', 'd', 0xa1, 'u', 0xa4, 'm', 'o', 'o', 'd', 0x81, 0xa1, 'k', 0xc3)
	got, err = Unmarshal(raw)
	if err != nil {
		t.Fatalf("unknown nested key was fatal: %v", err)
	}
	if len(got.Raters) != 1 || got.Raters[0].ID != "u" {
		t.Fatalf("raters = %+v", got.Raters)
	}
}

func TestNotASnapshot(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("{\"json\": true}"), {0x81, 0xa6, 'f', 'o', 'r', 'm', 'a', 't', 0xa3, 'x', 'y', 'z'}} {
		_, err := Unmarshal(in)
		if !errors.Is(err, ErrNotSnapshot) && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: err = %v", in, err)
		}
		if err != nil && !strings.Contains(err.Error(), "snapshot") {
			t.Errorf("message does not say what is wrong: %v", err)
		}
	}
}

func TestTensorShapeMismatchIsAnError(t *testing.T) {
	s := &Snapshot{Models: []Model{{Name: "m", Family: "x", Tensors: map[string]Tensor{"w": {Shape: []int{3}, Data: []float32{1}}}}}}
	if _, err := Marshal(s); err == nil {
		t.Fatal("Marshal accepted a tensor whose data does not match its shape")
	}
}

func FuzzUnmarshal(f *testing.F) {
	data, _ := Marshal(sample())
	f.Add(data)
	f.Add(data[:len(data)/2])
	empty, _ := Marshal(&Snapshot{})
	f.Add(empty)
	withPos := sample() // a judgment with its import position, key "pos"
	withPos.Judgments[2].Pos = 3
	posData, _ := Marshal(withPos)
	f.Add(posData)
	f.Fuzz(func(t *testing.T, in []byte) {
		// The decoding budget: whatever the input, decoding allocates at
		// most BudgetFactor (k = 24) × its size plus BudgetSlack, within the 25% that
		// maxDecodeAlloc allows for size classes. TotalAlloc bounds the peak heap.
		// The count is process-wide: the fuzzing engine's own goroutines allocate now
		// and then, so an excess is measured again and the least of three counts.
		var s *Snapshot
		var err error
		got := allocatedBytes(func() { s, err = Unmarshal(in) })
		for try := 0; try < 2 && got > maxDecodeAlloc(len(in)); try++ {
			got = min(got, allocatedBytes(func() { s, err = Unmarshal(in) }))
		}
		if got > maxDecodeAlloc(len(in)) {
			t.Fatalf("decoding %d bytes allocated %d (%.1f×), more than the budget (err %v)", len(in), got, float64(got)/float64(len(in)), err)
		}
		if err != nil {
			return
		}
		// prefer verify runs Check on whatever decodes: it must not panic either.
		for _, p := range Check(s) {
			if p.Where == "" || p.What == "" {
				t.Fatalf("problem without a place or a description: %+v", p)
			}
		}
		// Whatever decodes must encode, and decode again to the same value.
		out, err := Marshal(s)
		if err != nil {
			// Decoded configs hold only encodable types; anything else is a bug.
			t.Fatalf("decoded snapshot does not encode: %v", err)
		}
		s2, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("re-encoded snapshot does not decode: %v", err)
		}
		out2, _ := Marshal(s2)
		if !bytes.Equal(out, out2) {
			t.Fatal("encoding is not stable after one round trip")
		}
	})
}
