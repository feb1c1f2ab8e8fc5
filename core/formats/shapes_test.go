package formats

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"prefer/core/feedback"
)

// TestUltraFeedbackBinarized: rows of HuggingFaceH4/ultrafeedback_binarized (a text
// "prompt" and "chosen"/"rejected" message lists that repeat it) import as TRL does
// them: the conversations' shared prefix is the prompt (maybe_extract_prompt), so the
// item is the same as the conversational form with an explicit prompt.
func TestUltraFeedbackBinarized(t *testing.T) {
	d, rep := mustRead(t, "trl", readFixture(t, "ultrafeedback-binarized.jsonl"))
	want := []string{
		"\n\nHuman: Which is heavier, a kilogram of feathers or a kilogram of steel?\n\nAssistant: |Neither: both weigh one kilogram.|The steel, because it is denser.|a",
		"\n\nHuman: Name a prime number greater than 10.\n\nAssistant: |11 is a prime number greater than 10.|15.|a",
	}
	if got := pairTexts(d); !reflect.DeepEqual(got, want) || rep.Records != 2 || rep.Skipped != 0 {
		t.Fatalf("got %q (%+v)", got, rep)
	}
	explicit, _ := mustRead(t, "trl", `{"prompt": [{"role": "user", "content": "Name a prime number greater than 10."}], "chosen": [{"role": "assistant", "content": "11 is a prime number greater than 10."}], "rejected": [{"role": "assistant", "content": "15."}]}`)
	if !sameItem(explicit.Items[0], d.Items[1]) {
		t.Fatalf("explicit conversational form gives another item")
	}
	if det, err := Detect(strings.NewReader(readFixture(t, "ultrafeedback-binarized.jsonl")), Options{}); err != nil || det.Format != "trl" {
		t.Fatalf("detect: %v %v", det, err)
	}
}

// TestContentPartsShareGPTAndKTO01: message content as a list of text parts (the
// multimodal chat format), ShareGPT's {"from", "value"} messages, and KTO labels
// written 1/0 import like their plain forms.
func TestContentPartsShareGPTAndKTO01(t *testing.T) {
	d, rep := mustRead(t, "trl", readFixture(t, "trl-parts.jsonl"))
	want := []string{
		"\n\nHuman: What color is the sky?\n\nAssistant: |It is blue.|It is green.|a",
		"\n\nHuman: 2+2?\n\nAssistant: |4|5|a",
		"Is water wet?|Yes.|up",
		"Is water wet?|No.|down",
	}
	if got := pairTexts(d); !reflect.DeepEqual(got, want) || rep.Skipped != 0 {
		t.Fatalf("got %q", got)
	}
	plain, _ := mustRead(t, "trl", readFixture(t, "trl-conversational.jsonl"))
	if !sameItem(plain.Items[0], d.Items[0]) {
		t.Fatal("content parts give another item than plain content")
	}
}

// TestSHP: Stanford Human Preferences rows: labels 1 → human_ref_A wins, 0 → B; the
// same post is one item; domain and post id become tags.
func TestSHP(t *testing.T) {
	src := readFixture(t, "shp.jsonl")
	d, rep := mustRead(t, "shp", src)
	if rep.Records != 3 || len(d.Items) != 2 || len(d.Items[0].Responses) != 3 || len(d.Judgments) != 3 {
		t.Fatalf("%+v, %d items", rep, len(d.Items))
	}
	items := indexItems(d)
	for k, wantWinner := range []string{
		"Salt seasons the pasta from the inside while it cooks; you cannot fix that later.",
		"Salt seasons the pasta from the inside while it cooks; you cannot fix that later.",
		"The Moon's gravity pulls the oceans into two bulges that the Earth rotates through.",
	} {
		j := d.Judgments[k]
		if got := items[j.Item].Response(j.Winner()).Text; got != wantWinner {
			t.Errorf("row %d: winner %q", k, got)
		}
	}
	if !reflect.DeepEqual(d.Items[0].Tags, []string{"domain:askculinary_train", "post:x1a2b3"}) {
		t.Errorf("tags %v", d.Items[0].Tags)
	}
	if det, err := Detect(strings.NewReader(src), Options{}); err != nil || det.Format != "shp" {
		t.Fatalf("detect: %v %v", det, err)
	}
	if err := readErr(t, "shp", `{"history":"h","human_ref_A":"a","human_ref_B":"b","labels":2}`); !strings.Contains(err.Error(), `"labels" must be 1`) {
		t.Errorf("bad label: %v", err)
	}
}

// TestLabelStudioPairwiseAndMin: the generic Pairwise template (text1/text2, with or
// without a prompt) and the JSON_MIN export (one flat record per annotation, the
// pairwise result under the control's name) import like the RLHF template's JSON.
func TestLabelStudioPairwiseAndMin(t *testing.T) {
	d, rep := mustRead(t, "labelstudio", readFixture(t, "labelstudio-pairwise.json"))
	want := []string{
		"|The meeting moved to Tuesday at 10.|Meeting Tuesday.|a",
		"Summarize: the shop opens at 9 and closes at 5.|Open 9 to 5.|The shop is a shop.|a",
		"Summarize: the shop opens at 9 and closes at 5.|Open 9 to 5.|The shop is a shop.|b",
	}
	if got := pairTexts(d); !reflect.DeepEqual(got, want) || rep.Records != 2 {
		t.Fatalf("got %q", got)
	}
	if d.Items[0].ID != "ls-7" || d.Judgments[0].MS != 4500 || d.Judgments[0].Rater != "3" {
		t.Errorf("task without a prompt: item %q, judgment %+v", d.Items[0].ID, d.Judgments[0])
	}

	m, rep := mustRead(t, "labelstudio", readFixture(t, "labelstudio-min.json"))
	want = []string{
		"Explain photosynthesis in one sentence.|Plants turn light, water and CO2 into sugar and oxygen.|Photosynthesis is a process.|a",
		"Explain photosynthesis in one sentence.|Plants turn light, water and CO2 into sugar and oxygen.|Photosynthesis is a process.|b",
		"|The meeting moved to Tuesday at 10.|Meeting Tuesday.|b",
	}
	if got := pairTexts(m); !reflect.DeepEqual(got, want) || rep.Records != 3 {
		t.Fatalf("JSON_MIN: got %q", got)
	}
	j := m.Judgments[0]
	if j.Rater != "1" || j.MS != 12300 || j.Time != 1714558830123 || j.Left != "a" {
		t.Errorf("JSON_MIN judgment %+v", j)
	}
	if m.Judgments[1].Rater != "rater@example.com" || m.Raters[1].Name != "rater@example.com" {
		t.Errorf("an email annotator: %+v, %+v", m.Judgments[1], m.Raters)
	}
	// The RLHF template's JSON export and its JSON_MIN export are the same item.
	full, _ := mustRead(t, "labelstudio", readFixture(t, "labelstudio.json"))
	if full.Items[0].ID != m.Items[0].ID {
		t.Errorf("JSON and JSON_MIN give items %s and %s", full.Items[0].ID, m.Items[0].ID)
	}
	for _, f := range []string{"labelstudio-pairwise.json", "labelstudio-min.json", "labelstudio.json"} {
		if det, err := Detect(strings.NewReader(readFixture(t, f)), Options{}); err != nil || det.Format != "labelstudio" {
			t.Errorf("detect %s: %v %v", f, det, err)
		}
	}
}

// TestFieldMap: --map FIELD=PATH reads datasets whose fields are named otherwise;
// a record without the path is an error naming it.
func TestFieldMap(t *testing.T) {
	src := `{"question": "2+2?", "good": "4", "bad": "5"}
{"question": "3+3?", "good": "6", "bad": "7"}
`
	var maps []FieldMap
	for _, s := range []string{"prompt=question", "chosen=good", "rejected=bad"} {
		m, err := ParseFieldMap(s)
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, m)
	}
	d, rep, err := ImportAuto(strings.NewReader(src), Options{Rewrite: MapFields(maps)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != "trl" || !reflect.DeepEqual(pairTexts(d), []string{"2+2?|4|5|a", "3+3?|6|7|a"}) {
		t.Fatalf("%+v %q", rep, pairTexts(d))
	}
	// A nested path, into a Label Studio task's data.
	m, _ := ParseFieldMap("data.prompt=data.question")
	ls := `[{"id": 1, "data": {"question": "q?", "answer1": "x", "answer2": "y"}, "annotations": [{"result": [{"type": "pairwise", "value": {"selected": "right"}}]}]}]`
	d, _, err = Import("labelstudio", strings.NewReader(ls), Options{Rewrite: MapFields([]FieldMap{m})})
	if err != nil || !reflect.DeepEqual(pairTexts(d), []string{"q?|x|y|b"}) {
		t.Fatalf("nested map: %v %q", err, pairTexts(d))
	}
	_, _, err = Import("trl", strings.NewReader(`{"good": "4", "bad": "5"}`), Options{Rewrite: MapFields(maps)})
	if err == nil || err.Error() != `line 1: --map prompt=question: the record has no "question"` {
		t.Fatalf("missing path: %v", err)
	}
	for _, bad := range []string{"prompt", "=x", "a..b=c"} {
		if _, err := ParseFieldMap(bad); err == nil {
			t.Errorf("ParseFieldMap(%q) accepted", bad)
		}
	}
}

// TestDetect: every fixture and the real HH-RLHF file are recognised from their
// first record; an unknown shape names its keys and what to do.
func TestDetect(t *testing.T) {
	for file, want := range map[string]string{
		"prefer.jsonl": "jsonl", "trl-standard.jsonl": "trl", "trl-implicit.json": "trl", "trl-conversational.jsonl": "trl",
		"trl-kto.jsonl": "trl", "trl-parts.jsonl": "trl", "labelstudio.json": "labelstudio",
		"summarize-comparisons.jsonl": "summarize", "summarize-axis.jsonl": "summarize", "shp.jsonl": "shp",
		"ultrafeedback-binarized.jsonl": "trl",
	} {
		det, err := Detect(strings.NewReader(readFixture(t, file)), Options{})
		if err != nil || det.Format != want || det.Why == "" {
			t.Errorf("%s: %+v %v, want %s", file, det, err, want)
		}
		// ImportAuto gives what the named importer gives.
		a, rep, err := ImportAuto(strings.NewReader(readFixture(t, file)), Options{})
		if err != nil || rep.Format != want || rep.Detected != det.Why {
			t.Errorf("%s: ImportAuto %v %+v", file, err, rep)
			continue
		}
		b, _ := mustRead(t, want, readFixture(t, file))
		sameDataset(t, a, b)
	}
	f, err := os.Open(hhPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, rep, err := ImportAuto(f, Options{})
	if err != nil || rep.Format != "hh-rlhf" || len(d.Judgments) != 2312 {
		t.Fatalf("the real HH-RLHF file (gzipped): %v %+v", err, rep)
	}
	_, err = Detect(strings.NewReader(`{"foo": 1, "bar": 2}`), Options{})
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), `"bar", "foo"`) || !strings.Contains(err.Error(), "--map") {
		t.Errorf("unknown: %v", err)
	}
	if _, err := Detect(bytes.NewReader(nil), Options{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("empty: %v", err)
	}
	// What the builder imported is well formed.
	checkValid(t, d)
	if d.Judgments[0].Kind != feedback.KindCompare {
		t.Error("not a comparison")
	}
}
