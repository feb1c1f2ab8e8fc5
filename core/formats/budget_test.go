package formats

import (
	"bytes"
	"fmt"
	"testing"
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
