package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"prefer/core/feedback"
)

// pairTexts lists each comparison as prompt | a | b | choice.
func pairTexts(d *Dataset) []string {
	items := indexItems(d)
	var out []string
	for _, j := range d.Judgments {
		it := items[j.Item]
		switch j.Kind {
		case feedback.KindCompare:
			out = append(out, it.Prompt+"|"+it.Response(j.A).Text+"|"+it.Response(j.B).Text+"|"+string(j.Choice))
		case feedback.KindThumb:
			s := "down"
			if j.Score > 0 {
				s = "up"
			}
			out = append(out, it.Prompt+"|"+it.Response(j.Response).Text+"|"+s)
		}
	}
	return out
}

func TestTRLStandard(t *testing.T) {
	d, rep := mustRead(t, "trl", readFixture(t, "trl-standard.jsonl"))
	want := []string{
		"The sky is|blue.|green.|a",
		"Convert 3 km to metres.|3 km is 3000 metres.|3 km is 300 metres.|a",
		"Convert 3 km to metres.|3000 m.|3 km is 300 metres.|a",
		"Name a prime number.|7|9|a",
	}
	if got := pairTexts(d); !reflect.DeepEqual(got, want) || rep.Records != 4 || len(d.Items) != 3 || len(d.Items[1].Responses) != 3 {
		t.Fatalf("got %q (records %d, items %d)", got, rep.Records, len(d.Items))
	}
	back, er := roundTrip(t, d, "trl", "trl")
	sameDataset(t, d, back)
	if er.Records != 4 || er.SkippedTotal() != 0 {
		t.Fatalf("export report %+v", er)
	}
}

func TestTRLImplicitArray(t *testing.T) {
	d, rep := mustRead(t, "trl", readFixture(t, "trl-implicit.json"))
	want := []string{
		"The sky is|blue.|green.|a",
		"Q: What is 2+2?\nA:|4|5|a",
		"\n\nHuman: Hi there\n\nAssistant: |Hello! How can I help?|Hello. What?|a",
	}
	if got := pairTexts(d); !reflect.DeepEqual(got, want) || rep.Records != 3 {
		t.Fatalf("got %q", got)
	}
	// Implicit → standard export → import: the same dataset.
	back, _ := roundTrip(t, d, "trl", "trl")
	sameDataset(t, d, back)
	// The sky pair gives the same item and judgment id as in the standard fixture.
	std, _ := mustRead(t, "trl", readFixture(t, "trl-standard.jsonl"))
	if d.Judgments[0].ID != std.Judgments[0].ID || d.Items[0].ID != std.Items[0].ID {
		t.Fatal("implicit and explicit forms of one pair differ")
	}
}

func TestSplitImplicit(t *testing.T) {
	cases := []struct{ chosen, rejected, prompt, a, b, err string }{
		// TRL's documentation example (trl/data_utils.py extract_prompt gives the same).
		{chosen: "The sky is blue.", rejected: "The sky is green.", prompt: "The sky is", a: " blue.", b: " green."},
		{chosen: "cats are nice", rejected: "cats aren't", prompt: "cats", a: " are nice", b: " aren't"},
		{chosen: "Q:\n\nA", rejected: "Q:\n\nB", prompt: "Q:", a: "\n\nA", b: "\n\nB"},
		{chosen: "The sky is", rejected: "The sky is blue", prompt: "The sky is", a: "", b: " blue"},
		{chosen: "Yes please", rejected: "Yes", prompt: "Yes", a: " please", b: ""},
		{chosen: "x\n\nAssistant: yes sir", rejected: "x\n\nAssistant: yes ma'am", prompt: "x\n\nAssistant: ", a: "yes sir", b: "yes ma'am"},
		{chosen: "Yes", rejected: "No", err: "share no prompt"},
		{chosen: "  a", rejected: "  b", err: "share no prompt"},
		{chosen: "same", rejected: "same", err: "same text"},
	}
	for _, c := range cases {
		p, a, b, err := SplitImplicit(c.chosen, c.rejected)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q/%q: err = %v, want %q", c.chosen, c.rejected, err, c.err)
			}
			continue
		}
		if err != nil || p != c.prompt || a != c.a || b != c.b {
			t.Errorf("%q/%q: got %q %q %q %v, want %q %q %q", c.chosen, c.rejected, p, a, b, err, c.prompt, c.a, c.b)
		}
	}
}

func TestTRLConversational(t *testing.T) {
	src := readFixture(t, "trl-conversational.jsonl")
	d, _ := mustRead(t, "trl", src)
	want := []string{
		"\n\nHuman: What color is the sky?\n\nAssistant: |It is blue.|It is green.|a",
		"\n\nSystem: Answer briefly.\n\nHuman: 2+2?\n\nAssistant: |4|Five.|a",
		"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a fact.\n\nAssistant: |Honey never spoils.|Facts are boring.\n\nDo you agree?\n\nHuman: No.\n\nAssistant: Fine.|a",
	}
	if got := pairTexts(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
	// The same conversation in HH-RLHF form is the same item, responses and pair.
	hh, _ := mustRead(t, "hh-rlhf", `{"chosen": "\n\nHuman: What color is the sky?\n\nAssistant: It is blue.", "rejected": "\n\nHuman: What color is the sky?\n\nAssistant: It is green."}`)
	if !sameItem(hh.Items[0], d.Items[0]) {
		t.Fatalf("HH and conversational items differ:\n%+v\n%+v", hh.Items[0], d.Items[0])
	}
	// Export as conversational: explicit rows come back message for message; the
	// implicit row comes back with its prompt made explicit.
	var buf bytes.Buffer
	if _, err := WriteTRLConversational(&buf, d); err != nil {
		t.Fatal(err)
	}
	got := decodeLines[trlChatPair](t, buf.Bytes())
	orig := decodeLines[trlChatPair](t, []byte(src))
	if !reflect.DeepEqual(got[0], orig[0]) || !reflect.DeepEqual(got[2], orig[2]) {
		t.Fatalf("conversational rows changed:\n%+v\n%+v\n%+v\n%+v", got[0], orig[0], got[2], orig[2])
	}
	wantImplicit := trlChatPair{
		Prompt:   []Message{{"system", "Answer briefly."}, {"user", "2+2?"}},
		Chosen:   []Message{{"assistant", "4"}},
		Rejected: []Message{{"assistant", "Five."}},
	}
	if !reflect.DeepEqual(got[1], wantImplicit) {
		t.Fatalf("implicit row: %+v", got[1])
	}
	back, _ := roundTrip(t, d, "trl-conversational", "trl")
	sameDataset(t, d, back)
	// And the HH export of it imports back to the same pairs (under hh- ids).
	back, _ = roundTrip(t, d, "hh-rlhf", "hh-rlhf")
	if !reflect.DeepEqual(pairTexts(back), want) {
		t.Fatalf("via HH-RLHF: %q", pairTexts(back))
	}
}

func decodeLines[T any](tb testing.TB, data []byte) []T {
	tb.Helper()
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("%v: %s", err, sc.Bytes())
		}
		out = append(out, v)
	}
	return out
}

func TestKTO(t *testing.T) {
	d, _ := mustRead(t, "trl", readFixture(t, "trl-kto.jsonl"))
	want := []string{
		"The sky is|blue.|up",
		"The sky is|green.|down",
		"\n\nHuman: What color is the sky?\n\nAssistant: |It is blue.|up",
	}
	if got := pairTexts(d); !reflect.DeepEqual(got, want) || len(d.Items) != 2 {
		t.Fatalf("got %q", got)
	}
	back, er := roundTrip(t, d, "kto", "trl")
	sameDataset(t, d, back)
	if er.Records != 3 {
		t.Fatalf("report %+v", er)
	}
	// From comparisons: chosen → true, rejected → false; ties and other kinds skipped.
	p, _ := mustRead(t, "jsonl", readFixture(t, "prefer.jsonl"))
	var buf bytes.Buffer
	er, err := WriteKTO(&buf, p)
	if err != nil {
		t.Fatal(err)
	}
	rows := decodeLines[ktoRow](t, buf.Bytes())
	// Every preference pair unpaired (as TRL's unpair_preference_dataset does): the
	// comparison, the ranking Canberra ≻ Sydney ≻ refusal as its 3 pairs, the
	// rewrite ≻ original; then the two thumbs. Completions carry the separator.
	const q = "What is the capital of Australia?"
	wantRows := []ktoRow{
		{q, " Canberra.", true}, {q, " Sydney, of course!", false},
		{q, " Canberra.", true}, {q, " Sydney, of course!", false},
		{q, " Canberra.", true}, {q, " I can't help with that.", false},
		{q, " Sydney, of course!", true}, {q, " I can't help with that.", false},
		{q, " Canberra, not Sydney.", true}, {q, " Sydney, of course!", false},
		{"How do I boil an egg?", " Boil it for 9 minutes.", true},
		{"How do I boil an egg?", " Eggs are a good source of protein.", false},
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Fatalf("kto rows %+v", rows)
	}
	wantSkip := map[string]int{"tie": 1, "both-bad": 1, "rate": 1, "flag": 1, "review": 1}
	if !reflect.DeepEqual(er.Skipped, wantSkip) {
		t.Fatalf("skipped %v, want %v", er.Skipped, wantSkip)
	}
}

func TestTRLExportSkips(t *testing.T) {
	d, _ := mustRead(t, "jsonl", readFixture(t, "prefer.jsonl"))
	for _, f := range []string{"trl", "trl-conversational", "hh-rlhf"} {
		var buf bytes.Buffer
		er, err := Export(f, &buf, d)
		if err != nil {
			t.Fatal(err)
		}
		// The compare (strength 2), the ranking's C(3,2) = 3 pairs and the rewrite.
		want := map[string]int{"tie": 1, "both-bad": 1, "rate": 1, "flag": 1, "thumb": 2, "review": 1}
		if er.Records != 5 || !reflect.DeepEqual(er.Skipped, want) || strings.Count(buf.String(), "\n") != 5 {
			t.Errorf("%s: %+v\n%s", f, er, buf.String())
		}
	}
	// choice b exports the other way round.
	d, _ = mustRead(t, "jsonl", `{"kind":"compare","prompt":"p","a":"x","b":"y","choice":"b"}`)
	var buf bytes.Buffer
	WriteTRL(&buf, d)
	if got := strings.TrimSpace(buf.String()); got != `{"prompt":"p","chosen":" y","rejected":" x"}` {
		t.Fatalf("got %s", got)
	}
	// A plain prompt becomes a one-turn dialogue in HH form.
	buf.Reset()
	WriteHH(&buf, d)
	if got := strings.TrimSpace(buf.String()); got != `{"chosen":"\n\nHuman: p\n\nAssistant: y","rejected":"\n\nHuman: p\n\nAssistant: x"}` {
		t.Fatalf("got %s", got)
	}
}

// TestExportStandingVersions: a flat export holds the standing version of each
// judgment only — a rater's revision instead of what it revised, a lead's edit
// applied, a rejected comparison left out — and counts what it left out.
func TestExportStandingVersions(t *testing.T) {
	src := `{"kind":"compare","id":"c1","prompt":"p","a":"x","b":"y","choice":"a","rater":"u","time":1}
{"kind":"compare","id":"c2","prompt":"p","a":"x","b":"y","choice":"b","rater":"u","time":2,"revises":"c1"}
{"kind":"compare","id":"c3","prompt":"q","a":"x","b":"y","choice":"a","rater":"u","time":3}
{"kind":"review","id":"v1","item":"c3","target":"c3","verdict":"edit","choice":"b","rater":"lead","time":4}
{"kind":"compare","id":"c4","prompt":"r","a":"x","b":"y","choice":"a","rater":"u","time":5}
{"kind":"review","id":"v2","target":"c4","verdict":"reject","rater":"lead","time":6}`
	d, _ := mustRead(t, "jsonl", src)
	var buf bytes.Buffer
	rep, err := WriteTRL(&buf, d)
	if err != nil {
		t.Fatal(err)
	}
	// (The completions carry TRL's separator: docs/formats.md.)
	want := `{"prompt":"p","chosen":" y","rejected":" x"}` + "\n" + `{"prompt":"q","chosen":" y","rejected":" x"}` + "\n"
	if buf.String() != want {
		t.Errorf("export:\n%s\nwant\n%s", buf.String(), want)
	}
	if w := map[string]int{"review": 2, "superseded": 2}; !reflect.DeepEqual(rep.Skipped, w) {
		t.Errorf("skipped %v, want %v (two reviews; c1 revised, c4 rejected)", rep.Skipped, w)
	}
}

func TestTRLErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`{"prompt":"p","chosen":"a"}`, `a row needs "chosen" and "rejected"`},
		{`{"prompt":"p","completion":"c"}`, `an unpaired (KTO) row needs "prompt", "completion" and "label"`},
		{`{"prompt":"p","chosen":"a","rejected":"a"}`, `are the same response`},
		{`{"prompt":"p","chosen":[{"role":"assistant","content":"a"}],"rejected":"b"}`, `must both be texts or both be message lists`},
		{`{"prompt":[{"role":"user","content":"p"}],"chosen":"a","rejected":"b"}`, `"prompt" is a message list but "chosen" and "rejected" are texts`},
		{`{"prompt":[{"role":"user","content":"p"}],"chosen":[{"role":"user","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, `must start with an assistant message`},
		{`{"prompt":[{"role":"robot","content":"p"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, `prompt[0] has role "robot"`},
		{`{"prompt":[],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, `"prompt" is an empty list`},
		{`{"prompt":[{"role":"user","content":[{"type":"text"}]}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, `prompt[0].content[0] is a "text" part; Prefer reads text parts`},
		{`{"prompt":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, `is a "image_url" part`},
		{`{"prompt":[{"content":"p"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, `prompt[0] has no "role"`},
		{`{"prompt":"p","completion":"c","label":2}`, `"label" must be true or 1 (desirable), false or 0 (undesirable), not 2`},
		{`{"prompt":"p","chosen":"a","rejected":"b","margin":-1}`, `"margin" -1 must be a number ≥ 0`},
		{`{"chosen":[{"role":"user","content":"a"}],"rejected":[{"role":"user","content":"b"}]}`, `share no messages before an assistant turn`},
		{`{"chosen":[{"role":"user","content":"a"},{"role":"assistant","content":"x"}],"rejected":[{"role":"user","content":"a"},{"role":"assistant","content":"x"}]}`, `same conversation`},
		{`{"chosen":"Yes","rejected":"No"}`, `share no prompt`},
		{`{"prompt":"p","completion":[{"role":"assistant","content":"a"}],"label":true}`, `must both be texts or both be message lists`},
		{`{"prompt":[{"role":"user","content":"p"}],"completion":[{"role":"user","content":"a"}],"label":true}`, `"completion" must start with an assistant message`},
	}
	for _, c := range cases {
		err := readErr(t, "trl", c.src)
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "line 1: ") {
			t.Errorf("%s:\n got %v\nwant …%s…", c.src, err, c.want)
		}
	}
}

func TestChatRendering(t *testing.T) {
	msgs := []Message{{"system", "s"}, {"user", "u\n\nstill u"}, {"assistant", ""}, {"tool", "t"}, {"user", "\n\n"}}
	text := RenderChat(msgs)
	if text != "\n\nSystem: s\n\nHuman: u\n\nstill u\n\nAssistant: \n\nTool: t\n\nHuman: \n\n" {
		t.Fatalf("render %q", text)
	}
	if got := splitTurns(text, ""); !reflect.DeepEqual(got, msgs) {
		t.Fatalf("split %+v", got)
	}
	if got := PromptMessages("plain"); !reflect.DeepEqual(got, []Message{{"user", "plain"}}) {
		t.Fatalf("plain prompt %+v", got)
	}
	if got := PromptMessages(AssistantCue); len(got) != 0 || got == nil {
		t.Fatalf("cue-only prompt %+v", got)
	}
	if got := CompletionMessages("a\n\nHuman: b"); !reflect.DeepEqual(got, []Message{{"assistant", "a"}, {"user", "b"}}) {
		t.Fatalf("completion %+v", got)
	}
	// Any dialogue text survives split and render.
	for _, s := range []string{"\n\nHuman: x\n\nAssistant:y\n\nAssistant: ", "\n\nHuman: \n\n\n\nHuman: ", "\n\nTool: a\n\nb\n\nSystem: "} {
		if got := RenderChat(splitTurns(s, "")); got != s {
			t.Errorf("%q → %q", s, got)
		}
	}
}
