package formats

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"prefer/core/feedback"
)

// MaxPromptFile bounds a prompts file once decompressed.
const MaxPromptFile = 256 << 20

// PromptLine is one line of a prompts file in JSON lines: a prompt, or a chat
// conversation to continue, with an optional id.
//
//	{"prompt": "What do bees make?"}
//	{"id": "q7", "prompt": "…"}
//	{"id": "q8", "messages": [{"role": "user", "content": "…"}]}
//
// A line that is a JSON string is a prompt too.
type PromptLine struct {
	ID       string         `json:"id"`
	Prompt   *string        `json:"prompt"`
	Messages []Message      `json:"messages"`
	Extra    map[string]any `json:"-"`
}

// ReadPrompts reads the prompts of a file (prefer generate's --prompts) and says which
// kind it was: "prompts" (JSON lines of PromptLine), or a preference dataset this
// package reads (its
// items' prompts are taken, not their responses or judgments): "trl", "hh-rlhf",
// "jsonl" (Prefer's), "labelstudio", "summarize". Gzip is undone first. Items get
// the dataset's ids, or ItemID of their prompt, so the same file gives the
// same items every time.
func ReadPrompts(data []byte) ([]feedback.Item, string, error) {
	if IsGzip(data) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, "", fmt.Errorf("read the gzip prompts file: %w", err)
		}
		raw, err := io.ReadAll(io.LimitReader(zr, MaxPromptFile+1))
		if err != nil {
			return nil, "", fmt.Errorf("read the gzip prompts file: %w", err)
		}
		if len(raw) > MaxPromptFile {
			return nil, "", fmt.Errorf("the prompts file is more than %d MiB decompressed; split it", MaxPromptFile>>20)
		}
		data = raw
	}
	kind := sniff(data)
	if kind != "prompts" {
		d, _, err := Import(kind, bytes.NewReader(data), Options{})
		if err != nil {
			return nil, kind, fmt.Errorf("read the prompts of this %s file: %w", kind, err)
		}
		items := make([]feedback.Item, 0, len(d.Items))
		for _, it := range d.Items {
			items = append(items, feedback.Item{ID: it.ID, Prompt: it.Prompt, Tags: it.Tags})
		}
		return items, kind, nil
	}
	var items []feedback.Item
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), DefaultMaxRecord)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		it, err := promptItem(b)
		if err != nil {
			return nil, kind, fmt.Errorf("line %d: %w", line, err)
		}
		if seen[it.ID] {
			continue // the same prompt twice is one item
		}
		seen[it.ID] = true
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, kind, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(items) == 0 {
		return nil, kind, errors.New("the prompts file holds no prompt: write one JSON object per line, {\"prompt\": \"…\"}")
	}
	return items, kind, nil
}

func promptItem(b []byte) (feedback.Item, error) {
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return feedback.Item{}, err
		}
		b, _ = json.Marshal(map[string]string{"prompt": s})
	}
	var pl PromptLine
	if err := json.Unmarshal(b, &pl); err != nil {
		return feedback.Item{}, fmt.Errorf("not a JSON object with a prompt: %v", err)
	}
	var prompt string
	switch {
	case pl.Prompt != nil:
		prompt = *pl.Prompt
	case len(pl.Messages) > 0:
		prompt = RenderChat(pl.Messages) + AssistantCue
	default:
		return feedback.Item{}, errors.New(`no "prompt" (or "messages"): write {"prompt": "…"}`)
	}
	if strings.TrimSpace(prompt) == "" {
		return feedback.Item{}, errors.New("the prompt is empty")
	}
	if !utf8.ValidString(prompt) || !utf8.ValidString(pl.ID) {
		return feedback.Item{}, errors.New("the prompt is not valid UTF-8")
	}
	id := pl.ID
	if id == "" {
		id = ItemID(prompt)
	}
	return feedback.Item{ID: id, Prompt: prompt}, nil
}

// sniff names the kind of a JSON-lines (or JSON) file from its first record.
func sniff(data []byte) string {
	b := bytes.TrimSpace(data)
	if len(b) > 0 && b[0] == '[' {
		return "labelstudio" // a JSON array: Label Studio's export
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	var rec map[string]json.RawMessage
	if json.Unmarshal(line, &rec) != nil {
		return "prompts"
	}
	has := func(k string) bool { _, ok := rec[k]; return ok }
	switch {
	case has("kind") && has("item") || has("kind") && has("prompt") && (has("a") || has("responses") || has("response")):
		return "jsonl"
	case has("chosen") && has("rejected") && !has("prompt"):
		if bytes.Contains(rec["chosen"], []byte(`Human:`)) {
			return "hh-rlhf"
		}
		return "trl"
	case has("chosen") || has("rejected") || has("completion") && has("label"):
		return "trl"
	case has("summaries") || has("summary") && has("info"):
		return "summarize"
	}
	return "prompts"
}
