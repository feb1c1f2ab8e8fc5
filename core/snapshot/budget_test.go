package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot/snaptest"
)

// maxDecodeAlloc is the documented bound: BudgetFactor × input + BudgetSlack, with
// 25% for what the accounting rounds (Go's size classes) and the decoder's own state.
func maxDecodeAlloc(n int) uint64 {
	return uint64(BudgetFactor*n+BudgetSlack) * 5 / 4
}

// TestDecodeBudgetNearEmptyRecords: a 16 MB array of nil or empty-map elements once
// decoded into one 88–96-byte struct each (~400× the input; a
// 4 MiB upload took 1.34 GB). Every record array, filled with each of the cheapest
// elements, must now cost at most BudgetFactor × its size: refused (no id) or kept
// within the bound.
func TestDecodeBudgetNearEmptyRecords(t *testing.T) {
	const n = 1 << 18 // elements: inputs of 256 KiB to 4 MiB
	elems := map[string][]byte{
		"nil":       {0xc0},
		"empty map": {0x80},
		"id only":   {0x81, 0xa2, 'i', 'd', 0xa1, 'x'},
		"judgment":  {0x82, 0xa2, 'i', 'd', 0xa1, 'x', 0xa4, 'k', 'i', 'n', 'd', 0xa4, 'r', 'a', 't', 'e'},
		"guideline": {0x81, 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01},
	}
	for _, key := range []string{"items", "raters", "judgments", "guidelines", "models", "runs"} {
		for name, el := range elems {
			data := append(snaptest.Head(1, key), snaptest.Array32(n)...)
			data = append(data, bytes.Repeat(el, n)...)
			var err error
			got := allocated(func() { _, err = Unmarshal(data) })
			if limit := maxDecodeAlloc(len(data)); got > limit {
				t.Errorf("%s of %d × %s (%d bytes): allocated %d bytes (%.0f×), more than %d (err %v)",
					key, n, name, len(data), got, float64(got)/float64(len(data)), limit, err)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s of %s: error %v does not wrap ErrCorrupt", key, name, err)
			}
		}
	}
	// Responses inside one item, and the string arrays of a judgment.
	item := []byte{0x82, 0xa2, 'i', 'd', 0xa1, 'q', 0xa9}
	item = append(item, "responses"...)
	data := append(snaptest.Head(1, "items"), 0x91)
	data = append(append(data, item...), snaptest.Array32(n)...)
	data = append(data, bytes.Repeat([]byte{0x80}, n)...)
	var err error
	if got := allocated(func() { _, err = Unmarshal(data) }); got > maxDecodeAlloc(len(data)) || err == nil {
		t.Errorf("responses of %d empty maps: allocated %d bytes for %d, err %v", n, got, len(data), err)
	}
	j := []byte{0x83, 0xa2, 'i', 'd', 0xa1, 'x', 0xa4, 'k', 'i', 'n', 'd', 0xa4, 'r', 'a', 'n', 'k', 0xa5}
	j = append(j, "shown"...)
	data = append(snaptest.Head(1, "judgments"), 0x91)
	data = append(append(data, j...), snaptest.Array32(4*n)...)
	data = append(data, bytes.Repeat([]byte{0xa0}, 4*n)...)
	if got := allocated(func() { _, err = Unmarshal(data) }); got > maxDecodeAlloc(len(data)) {
		t.Errorf("shown of %d empty strings: allocated %d bytes for %d (%.0f×), err %v", 4*n, got, len(data), float64(got)/float64(len(data)), err)
	}
}

// TestDecodeRefusesArraysTheInputCannotHold: an array header is checked against the
// bytes that remain, at the size of the smallest record that can be accepted, before
// anything is allocated.
func TestDecodeRefusesArraysTheInputCannotHold(t *testing.T) {
	data := append(snaptest.Head(1, "judgments"), snaptest.Array32(1000)...)
	data = append(data, bytes.Repeat([]byte{0x80}, 1000)...) // 1000 bytes: room for 62 judgments at most
	var err error
	got := allocated(func() { _, err = Unmarshal(data) })
	if err == nil || !strings.Contains(err.Error(), "records but only") {
		t.Fatalf("err = %v, want the array refused for its claimed count", err)
	}
	if got > 16<<10 {
		t.Errorf("allocated %d bytes before refusing", got)
	}
}

// TestDecodeDuplicateKeysRefused is part of finding 8: the format is canonical, so a
// map with a repeated key (which two readers could resolve differently) is refused.
func TestDecodeDuplicateKeysRefused(t *testing.T) {
	cases := map[string][]byte{
		"top level": func() []byte {
			b := snaptest.Head(1, "version")
			return append(b, 0x01)
		}(),
		"in a record": append(append(snaptest.Head(1, "raters"), 0x91),
			0x82, 0xa2, 'i', 'd', 0xa1, 'u', 0xa2, 'i', 'd', 0xa1, 'v'),
		"in a large map": func() []byte {
			b := append(snaptest.Head(1, "models"), 0x91, 0x82, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'm', 0xa6)
			b = append(b, "config"...)
			b = append(b, 0xde, 0x00, 20)
			for i := 0; i < 19; i++ {
				b = append(b, 0xa2, 'k', byte('a'+i), 0x01)
			}
			return append(b, 0xa2, 'k', 'a', 0x02)
		}(),
	}
	for name, data := range cases {
		_, err := Unmarshal(data)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "appears twice") {
			t.Errorf("%s: err = %v, want a duplicate-key error", name, err)
		}
	}
	// A sound snapshot still decodes.
	good, _ := Marshal(sample())
	if _, err := Unmarshal(good); err != nil {
		t.Fatal(err)
	}
}

// TestCheckListsAtMostMaxProblems is the second half of finding 1: Check wrote one
// problem string per bad record (millions for a small hostile file). It lists
// MaxProblems and says how many more there were.
func TestCheckListsAtMostMaxProblems(t *testing.T) {
	s := &Snapshot{}
	const bad = 20000
	for i := range bad {
		// An unknown item: one problem each.
		s.Judgments = append(s.Judgments, feedback.Judgment{ID: fmt.Sprintf("e%d", i), Kind: feedback.KindThumb, Item: "nowhere", Response: "r", Score: 1})
	}
	ps := Check(s)
	if len(ps) != MaxProblems+1 {
		t.Fatalf("Check listed %d problems, want %d and a summary", len(ps), MaxProblems+1)
	}
	last := ps[len(ps)-1]
	want := fmt.Sprintf("%d more problems not listed (%d in all", bad-MaxProblems, bad)
	if last.Where != "snapshot" || !strings.HasPrefix(last.What, want) {
		t.Fatalf("summary = %+v, want %q…", last, want)
	}
	_, total := CheckCount(s)
	if total != bad {
		t.Fatalf("CheckCount total = %d, want %d", total, bad)
	}
}

// TestDecodeCostOfRealSnapshots reports what real snapshots cost to decode, as a
// multiple of their size, and checks that they are far from the budget: the demo,
// the reference language model, and the large synthetic state of the benchmarks.
func TestDecodeCostOfRealSnapshots(t *testing.T) {
	inputs := map[string][]byte{}
	for _, name := range []string{"demo.snap", "ref-lm.snap"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "static", "web", name))
		if err != nil {
			t.Fatal(err)
		}
		inputs[name] = data
	}
	big, err := Marshal(bigSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	inputs["bigSnapshot"] = big
	for name, data := range inputs {
		var err error
		got := allocated(func() { _, err = Unmarshal(data) })
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ratio := float64(got) / float64(len(data))
		t.Logf("%s: %d bytes decode with %d bytes allocated (%.2f×)", name, len(data), got, ratio)
		if ratio > BudgetFactor/2 {
			t.Errorf("%s decodes at %.1f× its size, too near the budget of %d×", name, ratio, BudgetFactor)
		}
	}
}
