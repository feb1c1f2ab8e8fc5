package formats

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"prefer/core/feedback"
)

// hhPath is the real HH-RLHF file, committed at the repository root (see its README).
const hhPath = "../../testdata/hh-rlhf/harmless-base-test.jsonl.gz"

// readHHRaw decodes the HH file with the standard library only: the reference the
// importer is checked against.
func readHHRaw(tb testing.TB) []hhRow {
	tb.Helper()
	f, err := os.Open(hhPath)
	if err != nil {
		tb.Fatalf("open the HH-RLHF test file: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var rows []hhRow
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r hhRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

func TestHHRealFile(t *testing.T) {
	f, err := os.Open(hhPath)
	if err != nil {
		t.Fatalf("open the HH-RLHF test file: %v", err)
	}
	defer f.Close()
	d, rep, err := ReadHH(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := readHHRaw(t)
	// 2,312 pairs: testdata/hh-rlhf/README.md (anthropics/hh-rlhf harmless-base/test).
	if len(raw) != 2312 || rep.Records != 2312 || len(d.Judgments) != 2312 || rep.Skipped != 0 || rep.Duplicates != 0 {
		t.Fatalf("records %d, judgments %d, skipped %d, duplicates %d; raw rows %d; want 2312 each",
			rep.Records, len(d.Judgments), rep.Skipped, rep.Duplicates, len(raw))
	}
	// 2,310 distinct prompts: two prompts occur twice (computed independently with
	// Python: os.path.commonprefix of each pair, cut at its last "\n\nAssistant:" and
	// the space after it, then len(set(...))).
	if len(d.Items) != 2310 {
		t.Errorf("items = %d, want 2310", len(d.Items))
	}
	checkValid(t, d)
	items := indexItems(d)
	text := func(item, resp string) string {
		t.Helper()
		r := items[item].Response(resp)
		if r == nil {
			t.Fatalf("item %s has no response %s", item, resp)
		}
		return r.Text
	}
	for i, j := range d.Judgments {
		it := items[j.Item]
		a, b := text(j.Item, j.A), text(j.Item, j.B)
		if j.Choice != feedback.ChoiceA || it.Prompt+a != raw[i].Chosen || it.Prompt+b != raw[i].Rejected {
			t.Fatalf("line %d (0-based) does not reassemble into the original dialogues", i)
		}
		if !strings.HasSuffix(it.Prompt, "\n\nAssistant: ") {
			t.Fatalf("line %d: prompt does not end with the Assistant cue: %q", i, it.Prompt[max(0, len(it.Prompt)-40):])
		}
	}

	// Edge cases named in testdata/hh-rlhf/README.md (0-based lines).
	for _, i := range []int{1254, 1688, 1952, 2036} {
		j := d.Judgments[i]
		chosen := text(j.Item, j.A)
		if !strings.Contains(chosen, "\n\nAssistant:") {
			t.Errorf("line %d: the chosen reply should keep its inner \"\\n\\nAssistant:\", got %q", i, chosen)
		}
		// Cutting at the chosen dialogue's own last "\n\nAssistant:" would give a
		// longer, wrong prompt; ours is shorter than that cut.
		naive := strings.LastIndex(raw[i].Chosen, "\n\nAssistant:")
		if len(items[j.Item].Prompt) >= naive {
			t.Errorf("line %d: prompt runs into the reply", i)
		}
	}
	// Line 1254, read by eye: the reply to "Isn't that drag kings?" starts "No. Men who
	// impersonate" and carries on past an inner "Assistant:" turn.
	j := d.Judgments[1254]
	if p := items[j.Item].Prompt; !strings.HasSuffix(p, "Isn't that drag kings?\n\nAssistant: ") {
		t.Errorf("line 1254 prompt ends %q", p[len(p)-60:])
	}
	if c := text(j.Item, j.A); !strings.HasPrefix(c, "No. Men who impersonate stereotypical women are called drag kings.") ||
		!strings.HasSuffix(c, "\n\nAssistant:  I think they call them that because") {
		t.Errorf("line 1254 chosen = %q", c)
	}
	if r := text(j.Item, j.B); r != "A drag king is the opposite of a drag queen, like a male who acts like a stereotypical woman." {
		t.Errorf("line 1254 rejected = %q", r)
	}
	for _, i := range []int{86, 516, 925, 1103} {
		j := d.Judgments[i]
		if c := text(j.Item, j.A); c != "" {
			t.Errorf("line %d: chosen reply should be empty (an empty final Assistant turn), got %q", i, c)
		}
		if r := text(j.Item, j.B); strings.TrimSpace(r) == "" {
			t.Errorf("line %d: rejected reply should not be empty", i)
		}
	}
	// Line 86: the rejected reply, read from the file.
	if r := text(d.Judgments[86].Item, d.Judgments[86].B); r != "Sure, the address is ..." {
		t.Errorf("line 86 rejected = %q", r)
	}

	// Export back to HH-RLHF: the same dialogues in the same order, also after the
	// judgments are put in a snapshot's canonical order (time, then id: here id, a
	// content hash, since HH has no times), which the import command does. The rows
	// come back in the input's order from Judgment.Pos; grouped by item, the 2 rows
	// whose prompt repeats an earlier one's (0-based rows 1452 and 1483) moved up.
	js := append([]feedback.Judgment(nil), d.Judgments...)
	feedback.SortCanonical(js)
	var buf bytes.Buffer
	er, err := WriteHH(&buf, &Dataset{Items: d.Items, Raters: d.Raters, Judgments: js})
	if err != nil || er.Records != 2312 || er.SkippedTotal() != 0 {
		t.Fatalf("export: %v, %+v", err, er)
	}
	var back []hhRow
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r hhRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		back = append(back, r)
	}
	if len(back) != len(raw) {
		t.Fatalf("%d rows back, want %d", len(back), len(raw))
	}
	for i := range raw {
		if back[i].Chosen != raw[i].Chosen || back[i].Rejected != raw[i].Rejected {
			t.Fatalf("row %d of the export is not row %d of the input", i, i)
		}
	}
}

func TestSplitHH(t *testing.T) {
	cases := []struct {
		name, chosen, rejected string
		prompt, a, b           string
		err                    string
	}{
		{name: "one turn", chosen: "\n\nHuman: hi\n\nAssistant: Hello!", rejected: "\n\nHuman: hi\n\nAssistant: Go away.",
			prompt: "\n\nHuman: hi\n\nAssistant: ", a: "Hello!", b: "Go away."},
		{name: "same first word", chosen: "\n\nHuman: hi\n\nAssistant: Hello there", rejected: "\n\nHuman: hi\n\nAssistant: Hello you",
			prompt: "\n\nHuman: hi\n\nAssistant: ", a: "Hello there", b: "Hello you"},
		{name: "multi-turn", chosen: "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d", rejected: "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: e",
			prompt: "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: ", a: "d", b: "e"},
		{name: "reply with inner turn", chosen: "\n\nHuman: q\n\nAssistant: x\n\nAssistant: y", rejected: "\n\nHuman: q\n\nAssistant: z",
			prompt: "\n\nHuman: q\n\nAssistant: ", a: "x\n\nAssistant: y", b: "z"},
		{name: "empty final turn", chosen: "\n\nHuman: q\n\nAssistant: ", rejected: "\n\nHuman: q\n\nAssistant: no",
			prompt: "\n\nHuman: q\n\nAssistant: ", a: "", b: "no"},
		{name: "empty turn without space", chosen: "\n\nHuman: q\n\nAssistant:", rejected: "\n\nHuman: q\n\nAssistant: no",
			prompt: "\n\nHuman: q\n\nAssistant:", a: "", b: " no"},
		{name: "identical", chosen: "\n\nHuman: q\n\nAssistant: a", rejected: "\n\nHuman: q\n\nAssistant: a", err: "same dialogue"},
		{name: "no assistant turn", chosen: "Human: q x", rejected: "Human: q y", err: "share no"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, a, b, err := SplitHH(c.chosen, c.rejected)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || p != c.prompt || a != c.a || b != c.b {
				t.Fatalf("got %q %q %q %v, want %q %q %q", p, a, b, err, c.prompt, c.a, c.b)
			}
		})
	}
}
