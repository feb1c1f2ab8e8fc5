package work

import (
	"os"
	"strings"
	"testing"

	"prefer/app/jobs"
	"prefer/core/snapshot"
)

// TestImportNeverReplaces: an import job returns the state it
// made for the page to confirm, never a replacement; an HH-RLHF file read as jsonl
// gives no state at all, the first three errors with their lines and how many more
// (not a wall of 2,312), and says the file looks like hh-rlhf; read with "auto" it
// is recognised and previewed.
func TestImportNeverReplaces(t *testing.T) {
	data, err := os.ReadFile("../../testdata/hh-rlhf/harmless-base-test.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := run(t, nil, jobs.Request{Kind: jobs.KindImport, Import: &jobs.ImportParams{Format: "jsonl", Name: "hh.jsonl.gz", Data: data}})
	info := res.Import
	if res.Replace || len(res.Snapshot) > 0 || len(res.File) > 0 || info == nil {
		t.Fatalf("a failed import gave a state: replace %v, snapshot %d bytes, file %d bytes", res.Replace, len(res.Snapshot), len(res.File))
	}
	if info.Skipped != 2312 || info.Judgments != 0 || info.Looks != "hh-rlhf" || !strings.Contains(info.LooksWhy, "Human") ||
		!strings.HasPrefix(info.Errors, "line 1: \"kind\" is missing") || !strings.HasSuffix(info.Errors, "\n… and 2,309 more") ||
		strings.Count(info.Errors, "\n") != 3 {
		t.Fatalf("import info %+v", info)
	}
	for _, format := range []string{"auto", ""} {
		res, _ = run(t, nil, jobs.Request{Kind: jobs.KindImport, Import: &jobs.ImportParams{Format: format, Name: "hh.jsonl.gz", Data: data}})
		info = res.Import
		if res.Replace || info.Format != "hh-rlhf" || info.Detected == "" || info.Looks != "" || info.Judgments != 2312 || info.Items != 2310 || len(info.Rows) != 5 {
			t.Fatalf("auto: %+v", info)
		}
		s, err := snapshot.Unmarshal(res.File)
		if err != nil || len(s.Judgments) != 2312 {
			t.Fatalf("the imported state: %v", err)
		}
		if r := info.Rows[0]; r.Kind != "compare" || !strings.HasPrefix(r.Prompt, "\n\nHuman: ") || r.Label != "a" || r.A == "" || r.B == "" {
			t.Errorf("first row %+v", r)
		}
	}
	res, _ = run(t, nil, jobs.Request{Kind: jobs.KindImport, Import: &jobs.ImportParams{Format: "auto", Name: "x.json", Data: []byte(`{"foo": 1}`)}})
	if res.Import == nil || len(res.File) > 0 || !strings.Contains(res.Import.Errors, `no format has the keys "foo"`) {
		t.Fatalf("unknown shape: %+v", res.Import)
	}
}
