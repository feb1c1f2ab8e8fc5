package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"prefer/core/wire"
)

// openaiClientDir is where make deps installs the official openai npm package.
func openaiClientDir(tb testing.TB) string {
	tb.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "openai"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai")); err != nil {
		msg := "the openai npm package is not installed: run `npm ci --prefix testdata/openai` (make test does)"
		if os.Getenv("PREFER_REQUIRE_INTEROP") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return dir
}

// TestOpenAIClientInterop checks the protocol with a client nobody here wrote: the
// official openai JavaScript library talks to prefer serve (docs/models.md).
func TestOpenAIClientInterop(t *testing.T) {
	dir := openaiClientDir(t)
	const key = "sk-interop-test-key"
	t.Setenv(envLLMToken, key)
	ts := startServe(t, "--data", t.TempDir())
	out, err := exec.Command("node", filepath.Join(dir, "client.mjs"), ts.URL+"/v1", key).CombinedOutput()
	if err != nil {
		t.Fatalf("the openai client failed: %v\n%s", err, out)
	}
	var got struct {
		Models []string
		Chat   struct {
			Object           string
			Texts            []string
			Roles            []string
			Finish           []string
			LogprobTokens    []int `json:"logprob_tokens"`
			LogprobsNegative bool  `json:"logprobs_negative"`
			Usage            wire.Usage
			Fingerprint      string
			SameSeed         bool `json:"same_seed_same_text"`
		}
		Stream struct {
			Texts  []string
			Finish []string
			Usage  *wire.Usage
			Chunks int
		}
		Stop struct {
			Text   string
			Finish string
		}
		Completions struct {
			Object  string
			Indexes []int
			Texts   []string
			Tokens  []int
			Usage   wire.Usage
		}
		Errors map[string]struct {
			Thrown  bool
			Class   string
			Status  int
			Param   *string
			Code    *string
			Message string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client output: %v\n%s", err, out)
	}
	if !slices.Contains(got.Models, "ref-lm") {
		t.Errorf("models %v lack ref-lm", got.Models)
	}
	c := got.Chat
	if c.Object != "chat.completion" || len(c.Texts) != 2 || c.Roles[0] != "assistant" || !c.SameSeed || !c.LogprobsNegative ||
		!strings.HasPrefix(c.Fingerprint, "fp_") || c.Usage.TotalTokens != c.Usage.PromptTokens+c.Usage.CompletionTokens ||
		c.Usage.CompletionTokens != c.LogprobTokens[0]+c.LogprobTokens[1] {
		t.Errorf("chat as the client saw it: %+v", c)
	}
	// The stream (the same request and seed, without log-probabilities, which do not
	// change the draws) gives the same texts and usage.
	s := got.Stream
	if len(s.Texts) != 2 || s.Texts[0] != c.Texts[0] || s.Texts[1] != c.Texts[1] || s.Usage == nil || *s.Usage != c.Usage ||
		s.Finish[0] != c.Finish[0] || s.Chunks < 4 {
		t.Errorf("stream %+v, unstreamed %+v", s, c)
	}
	if strings.Contains(got.Stop.Text, ".") || got.Stop.Finish == "" {
		t.Errorf("stop: %+v", got.Stop)
	}
	if cp := got.Completions; cp.Object != "text_completion" || len(cp.Texts) != 4 || cp.Indexes[3] != 3 || cp.Usage.PromptTokens == 0 {
		t.Errorf("completions: %+v", cp)
	}
	for name, want := range map[string]struct {
		class  string
		status int
	}{
		"too_many":      {"BadRequestError", 400},
		"unknown_model": {"NotFoundError", 404},
		"bad_key":       {"AuthenticationError", 401},
	} {
		e := got.Errors[name]
		if !e.Thrown || e.Class != want.class || e.Status != want.status {
			t.Errorf("%s: %+v, want %s %d", name, e, want.class, want.status)
		}
	}
	if p := got.Errors["too_many"].Param; p == nil || *p != "n" {
		t.Errorf("too_many: param %v, want n", p)
	}
	if code := got.Errors["unknown_model"].Code; code == nil || *code != "model_not_found" {
		t.Errorf("unknown_model: code %v", code)
	}
}

// TestStreamingRawHTTP reads the event stream with curl, byte for byte as it comes
// off the wire: each event is "data: " + one JSON chunk + a blank line, the last
// "data: [DONE]", and the chunks arrive as the text is written (several, not one).
func TestStreamingRawHTTP(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	ts := startServe(t, "--data", t.TempDir())
	body := `{"model":"ref-lm","seed":3,"stream":true,"messages":[{"role":"user","content":"How do I plant a seed?"}]}`
	out, err := exec.Command(curl, "-sS", "-N", "--http1.1", "-D", "-", "-H", "Content-Type: application/json", "-d", body, ts.URL+"/v1/chat/completions").Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	head, events, ok := bytes.Cut(out, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header end: %q", out)
	}
	if !bytes.Contains(head, []byte("HTTP/1.1 200")) || !bytes.Contains(bytes.ToLower(head), []byte("content-type: text/event-stream")) {
		t.Fatalf("header: %s", head)
	}
	var text strings.Builder
	n, done, finish := 0, false, ""
	sc := bufio.NewScanner(bytes.NewReader(events))
	blank := true
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if blank {
				t.Fatalf("two blank lines in a row: %q", events)
			}
			blank = true
			continue
		}
		if !blank {
			t.Fatalf("an event of two lines: %q", line)
		}
		blank = false
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || done {
			t.Fatalf("unexpected line %q (done %v)", line, done)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ch wire.ChatChunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		n++
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	if !done || !blank || n < 3 || finish == "" || text.Len() == 0 {
		t.Errorf("%d chunks, done %v, finish %q, text %q", n, done, finish, text.String())
	}
}
