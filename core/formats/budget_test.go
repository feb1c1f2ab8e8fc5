package formats

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	"prefer/core/feedback"
)

// TestImportCostOfShortRecords checks the importers' memory bound (128× the input
// plus 1 MiB) where it is tightest: many distinct, minimal records (each a new
// item, two responses and a judgment), as a hostile or degenerate file would hold.
func TestImportCostOfShortRecords(t *testing.T) {
	const n = 20000
	lines := map[string]func(i int) string{
		"trl": func(i int) string { return fmt.Sprintf(`{"prompt":"%d","chosen":"a","rejected":"b"}`, i) },
		"hh-rlhf": func(i int) string {
			return fmt.Sprintf(`{"chosen":"\n\nHuman: %d\n\nAssistant: a","rejected":"\n\nHuman: %d\n\nAssistant: b"}`, i, i)
		},
		"jsonl": func(i int) string {
			return fmt.Sprintf(`{"kind":"compare","item":"q%d","prompt":"%d","a":"a","b":"b","choice":"a"}`, i, i)
		},
		"summarize": func(i int) string {
			return fmt.Sprintf(`{"info":{"id":"%d","post":"p%d"},"summaries":[{"text":"a"},{"text":"b"}],"choice":0,"worker":"w"}`, i, i)
		},
	}
	for format, line := range lines {
		var buf bytes.Buffer
		for i := range n {
			buf.WriteString(line(i))
			buf.WriteByte('\n')
		}
		data := buf.Bytes()
		var err error
		var rep *Report
		got := allocatedBytes(func() { _, rep, err = Import(format, bytes.NewReader(data), Options{}) })
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		ratio := float64(got) / float64(len(data))
		t.Logf("%s: %d records, %d bytes: %d allocated (%.1f×, %.0f bytes a judgment)", format, rep.Records, len(data), got, ratio, float64(got)/float64(max(rep.Judgments, 1)))
		if got > uint64(importBudgetFactor*len(data)+importBudgetSlack) {
			t.Errorf("%s: %.1f× its input, more than %d×", format, ratio, importBudgetFactor)
		}
	}
}

// TestImportSizedByInput: given the input's size (Options.InputSize), an import
// grows its items and judgments once to about the count the input implies instead of
// by doubling — the same dataset, arrays within 1/16 (and 64) of the count the
// estimate gave, and less allocated by at least the judgments' final array (the
// copies that doubling makes sum to about one more array, and append's
// 1.25× steps at this size to several).
func TestImportSizedByInput(t *testing.T) {
	const n = 20000
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, `{"prompt":"Question %d: how do bees find their way home?","chosen":"They use the sun as a compass and remember landmarks (%d).","rejected":"Bees do not go home."}`+"\n", i, i)
	}
	data := buf.Bytes()
	var plain, sized *Dataset
	var err1, err2 error
	without := allocatedBytes(func() { plain, _, err1 = Import("trl", bytes.NewReader(data), Options{}) })
	with := allocatedBytes(func() {
		sized, _, err2 = Import("trl", bytes.NewReader(data), Options{InputSize: int64(len(data))})
	})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !reflect.DeepEqual(plain, sized) {
		t.Fatal("the dataset differs when the input's size is given")
	}
	for name, c := range map[string]int{"judgments": cap(sized.Judgments), "items": cap(sized.Items)} {
		if c < n || c > n+n/16+n/64+64 {
			t.Errorf("%s: capacity %d for %d records; want about the count, within 1/16 and the estimate's error", name, c, n)
		}
	}
	array := uint64(n) * uint64(unsafe.Sizeof(feedback.Judgment{}))
	t.Logf("allocated %d bytes without the size, %d with it (the judgments' array: %d)", without, with, array)
	if with > without-array {
		t.Errorf("allocated %d bytes with the input's size, %d without: want at least the judgments' array (%d) less", with, without, array)
	}
}
