package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestImportWrongFormat in Chromium: the
// HH-RLHF file imported with "jsonl" selected leaves the working state as it was,
// shows the first three errors with their lines and how many more, and says the
// file looks like hh-rlhf; "Read it as hh-rlhf" previews the first rows, and only
// "Replace the working state" replaces it.
func TestImportWrongFormat(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t)
	b.nav(s.url("/data"))
	b.ready()
	b.wait("the state", `document.querySelector("#main .grid-4")`, 30*time.Second)
	// A working state to keep: the golden v1 snapshot.
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#upload-snap"), []string{filepath.Join(repoRoot(t), "testdata", "snapshot", "v1.snap")}))
	b.wait("the snapshot", `(document.querySelector("#data-msg") || {}).innerText?.startsWith("Opened")`, time.Minute)
	before := b.stats()["judgments"]
	if before == 0 {
		b.fail("the snapshot has no judgments")
	}
	b.wait("the import controls", `document.querySelector("#import-format")`, 30*time.Second)
	eval[bool](b, `(document.querySelector("#import-format").value = "jsonl", document.querySelector("#import-format").dispatchEvent(new Event("change")), true)`)
	file := filepath.Join(repoRoot(t), "testdata", "hh-rlhf", "harmless-base-test.jsonl.gz")
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}))
	b.wait("the preview", `document.querySelector("#import-looks")`, 2*time.Minute)
	if looks := b.text("#import-looks"); !strings.Contains(looks, "This looks like hh-rlhf, not jsonl") {
		b.fail("looks: %q", looks)
	}
	errs := b.text("#import-errors")
	if !strings.HasPrefix(errs, `line 1: "kind" is missing`) || !strings.Contains(errs, "line 3:") || strings.Contains(errs, "line 4:") ||
		!strings.HasSuffix(strings.TrimSpace(errs), "… and 2,309 more") {
		b.fail("errors shown: %q", errs)
	}
	if got := b.stats()["judgments"]; got != before {
		b.fail("the working state changed: %v judgments, %v before", got, before)
	}
	if eval[bool](b, `!document.querySelector("#import-apply").disabled`) {
		b.fail("nothing was read, yet the import can be applied")
	}
	b.shot("import-wrong-format")
	b.click("#import-as")
	b.wait("the preview as hh-rlhf", `(document.querySelector("#import-how") || {}).innerText?.includes("read as hh-rlhf") && document.querySelectorAll("#import-rows tbody tr").length === 5`, 2*time.Minute)
	if got := b.stats()["judgments"]; got != before {
		b.fail("the preview replaced the working state: %v judgments", got)
	}
	b.shot("import-preview")
	b.click("#import-apply")
	b.wait("the import", `(document.querySelector("#data-msg") || {}).innerText?.startsWith("Imported")`, time.Minute)
	b.wait("the new state", `preferStats().includes('"judgments":2312')`, 30*time.Second)
}
