package formats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPrompts(t *testing.T) {
	items, kind, err := ReadPrompts([]byte("{\"prompt\": \"What do bees make?\"}\n\n\"How do I plant a seed?\"\n{\"id\": \"c1\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}\n{\"prompt\": \"What do bees make?\"}\n"))
	if err != nil || kind != "prompts" {
		t.Fatal(kind, err)
	}
	if len(items) != 3 || items[0].ID != ItemID("What do bees make?") || items[1].Prompt != "How do I plant a seed?" ||
		items[2].ID != "c1" || items[2].Prompt != "\n\nHuman: Hi\n\nAssistant: " {
		t.Fatalf("%+v", items)
	}
	for _, bad := range []string{`{"text": "x"}`, `{"prompt": ""}`, `not json`, ""} {
		if _, _, err := ReadPrompts([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// A preference dataset gives its items' prompts, not their responses.
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hh-rlhf", "harmless-base-test.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	items, kind, err = ReadPrompts(data)
	if err != nil || kind != "hh-rlhf" || len(items) == 0 {
		t.Fatalf("hh: %d items, %q, %v", len(items), kind, err)
	}
	for _, it := range items {
		if len(it.Responses) != 0 || !strings.HasPrefix(it.Prompt, "\n\nHuman:") {
			t.Fatalf("hh item %+v", it)
		}
	}
	trl, err := os.ReadFile(filepath.Join("testdata", "trl-standard.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if items, kind, err = ReadPrompts(trl); err != nil || kind != "trl" || len(items) == 0 || len(items[0].Responses) != 0 {
		t.Fatalf("trl: %v %q %v", items, kind, err)
	}
}
