package formats

import (
	"bytes"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// trlConcat is what TRL's RewardTrainer trains on for a standard row with an explicit
// prompt: the prompt and the completion concatenated as they are
// (trl/trainer/reward_trainer.py, tokenize_fn: example["chosen"] =
// example["prompt"] + example["chosen"]; the same for "rejected").
func trlConcat(prompt, completion string) string { return prompt + completion }

// trlExtractPrompt is TRL's extract_prompt (trl/data_utils.py) for text rows, line
// for line: the longest common prefix, with a space before the first difference
// moved to the completions.
func trlExtractPrompt(chosen, rejected string) (prompt, c, r string) {
	idx := 0
	for idx = 0; idx < min(len(chosen), len(rejected)); idx++ {
		if chosen[idx] != rejected[idx] {
			if idx > 0 && chosen[idx-1] == ' ' {
				idx--
			}
			break
		}
	}
	return chosen[:idx], chosen[idx:], rejected[idx:]
}

// TestTRLExportConcatenates: the TRL export of plain prompts (the demo's and Label
// Studio's) gives rows that TRL's concatenation turns into prompt, one space, answer
// — not "…neighbour?I am not able…" — and that TRL's own extract_prompt splits back
// into the same explicit row; importing the export gives the same items and
// responses.
func TestTRLExportConcatenates(t *testing.T) {
	d, _ := mustRead(t, "jsonl", `{"kind":"compare","prompt":"Can you tell me the name of my neighbour?","a":"I am not able to share personal information.","b":"Your neighbour is called Bob.","choice":"a","strength":3}
{"kind":"compare","prompt":"TL;DR:","a":" keeps its own space","b":"no space","choice":"b"}
{"kind":"compare","prompt":"\n\nHuman: hi\n\nAssistant: ","a":"Hello!","b":"Go away.","choice":"a"}
{"kind":"compare","prompt":"Question:\n","a":"Yes","b":"No","choice":"a"}
`)
	var buf bytes.Buffer
	if _, err := WriteTRL(&buf, d); err != nil {
		t.Fatal(err)
	}
	rows := decodeLines[trlPair](t, buf.Bytes())
	want := []struct{ chosen, rejected string }{
		{"Can you tell me the name of my neighbour? I am not able to share personal information.", "Can you tell me the name of my neighbour? Your neighbour is called Bob."},
		{"TL;DR: no space", "TL;DR: keeps its own space"},
		{"\n\nHuman: hi\n\nAssistant: Hello!", "\n\nHuman: hi\n\nAssistant: Go away."},
		{"Question:\nYes", "Question:\nNo"},
	}
	for i, r := range rows {
		if c, rj := trlConcat(r.Prompt, r.Chosen), trlConcat(r.Prompt, r.Rejected); c != want[i].chosen || rj != want[i].rejected {
			t.Errorf("row %d: TRL trains on %q / %q, want %q / %q", i, c, rj, want[i].chosen, want[i].rejected)
		}
		// The same pair written with an implicit prompt, split by TRL, is this row.
		if i == 0 {
			p, c, rj := trlExtractPrompt(trlConcat(r.Prompt, r.Chosen), trlConcat(r.Prompt, r.Rejected))
			if p != r.Prompt || c != r.Chosen || rj != r.Rejected {
				t.Errorf("row %d: TRL's extract_prompt gives %q %q %q, the export %q %q %q", i, p, c, rj, r.Prompt, r.Chosen, r.Rejected)
			}
		}
	}
	// Strength 3 → margin 1 (StrengthMargin); a column on every row.
	if rows[0].Margin == nil || *rows[0].Margin != 1 || rows[1].Margin == nil || *rows[1].Margin != 0 {
		t.Errorf("margins %v %v, want 1 and 0", rows[0].Margin, rows[1].Margin)
	}
	// Importing the export gives the same items and responses, except a response
	// that starts with a single space after such a prompt (the "TL;DR:" row: a
	// summarize-from-feedback summary keeps its leading space, which is the
	// separator, so it comes back without it; docs/formats.md).
	back, _ := roundTrip(t, d, "trl", "trl")
	if r := back.Items[1].Responses[1].Text; r != "keeps its own space" {
		t.Errorf("the TL;DR: response came back as %q", r)
	}
	for _, i := range []int{0, 2, 3} {
		if !sameItem(d.Items[i], back.Items[i]) {
			t.Errorf("item %d changed on the way back: %+v → %+v", i, d.Items[i], back.Items[i])
		}
	}
	if back.Judgments[0].Strength != 3 {
		t.Errorf("strength %d after the round trip, want 3", back.Judgments[0].Strength)
	}
	// KTO rows carry the separator too.
	buf.Reset()
	WriteKTO(&buf, d)
	if k := decodeLines[ktoRow](t, buf.Bytes()); trlConcat(k[0].Prompt, k[0].Completion) != want[0].chosen {
		t.Errorf("kto row %+v", k[0])
	}
}

// TestExportRankingsRewritesStrength: a ranking of K exports as its C(K,2) pairs,
// best first; a rewrite as rewrite ≻ original; strength as TRL's margin, and the
// margin reads back as the strength (MarginStrength).
func TestExportRankingsRewritesStrength(t *testing.T) {
	d, _ := mustRead(t, "jsonl", `{"kind":"rank","prompt":"p","responses":["w","x","y","z"],"order":[2,0,3,1]}
{"kind":"rewrite","prompt":"p","response":"x","text":"x, but better"}
{"kind":"compare","prompt":"p","a":"w","b":"x","choice":"b","strength":1}
`)
	var buf bytes.Buffer
	rep, err := WriteTRL(&buf, d)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range decodeLines[trlPair](t, buf.Bytes()) {
		got = append(got, strings.TrimPrefix(r.Chosen, " ")+">"+strings.TrimPrefix(r.Rejected, " ")+"@"+strconv.FormatFloat(*r.Margin, 'g', 6, 64))
	}
	// Order y ≻ w ≻ z ≻ x: (y,w) (y,z) (y,x) (w,z) (w,x) (z,x); then the rewrite, then
	// the comparison x ≻ w at strength 1 (margin 1/3).
	want := []string{"y>w@0", "y>z@0", "y>x@0", "w>z@0", "w>x@0", "z>x@0", "x, but better>x@0", "x>w@0.333333"}
	if !reflect.DeepEqual(got, want) || rep.Records != 8 || rep.SkippedTotal() != 0 {
		t.Fatalf("rows %q (report %+v), want %q", got, rep, want)
	}
	back, _, err := ReadTRL(bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := back.Judgments[len(back.Judgments)-1].Strength; s != 1 {
		t.Errorf("margin 1/3 read back as strength %d, want 1", s)
	}
	for _, c := range []struct {
		m    float64
		want int
	}{{0, 0}, {0.1, 1}, {1.0 / 3, 1}, {0.5, 2}, {2.0 / 3, 2}, {1, 3}, {2.5, 3}} {
		m := c.m
		if s, err := MarginStrength(&m); err != nil || s != c.want {
			t.Errorf("MarginStrength(%v) = %d, %v; want %d", c.m, s, err, c.want)
		}
	}
}

// TestHHConversationalRoles: the conversational export of the real HH-RLHF file
// never puts two messages of one role in a row (strict chat templates reject that;
// 5 replies of the harmless-base test split contain "\n\nAssistant:" themselves, and
// 4 prompts an assistant turn that does), and reading it back gives the same items,
// responses and pairs.
func TestHHConversationalRoles(t *testing.T) {
	f, err := os.Open(hhPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, _, err := ReadHH(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := WriteTRLConversational(&buf, d); err != nil {
		t.Fatal(err)
	}
	rows := decodeLines[trlChatPair](t, buf.Bytes())
	if len(rows) != 2312 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		for name, msgs := range map[string][]Message{"prompt": r.Prompt, "chosen": append(append([]Message(nil), r.Prompt...), r.Chosen...), "rejected": append(append([]Message(nil), r.Prompt...), r.Rejected...)} {
			for k := 1; k < len(msgs); k++ {
				if msgs[k].Role == msgs[k-1].Role {
					t.Errorf("row %d %s: messages %d and %d are both %s", i, name, k-1, k, msgs[k].Role)
				}
			}
		}
	}
	back, _, err := ReadTRL(bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := pairTexts(back), pairTexts(d)
	sort.Strings(a)
	sort.Strings(b)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the conversational export does not read back as the same pairs")
	}
}
