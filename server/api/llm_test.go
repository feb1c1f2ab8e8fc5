package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"prefer/core/lm"
	"prefer/core/rng"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/store/teststore"
)

// refLM loads the shipped reference language model.
func refLM(tb testing.TB) (*lm.LM, []byte) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "static", "web", "ref-lm.snap"))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := lm.FromSnapshot(s.Model("ref-lm"))
	if err != nil {
		tb.Fatal(err)
	}
	return l, data
}

// llmEnv is a test server with the reference LM served as "ref-lm".
func llmEnv(t *testing.T, mod func(*LLMConfig)) *env {
	t.Helper()
	l, _ := refLM(t)
	return newEnv(t, teststore.Open(t, "embedded"), func(c *Config) {
		c.MaxSnapshotBytes = 4 << 20
		c.LLM.Models = []ServedModel{{Name: "ref-lm", Model: NewLMModel(l), Generator: true, Description: "reference"}}
		if mod != nil {
			mod(&c.LLM)
		}
	})
}

func (e *env) postJSON(path string, v any, token string) answer {
	e.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do("POST", path, token, "application/json", body)
}

// oaiErr checks an answer has the status and OpenAI's error shape, and returns it.
func oaiErr(tb testing.TB, a answer, status int) wire.APIErrorBody {
	tb.Helper()
	if a.status != status {
		tb.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	var e wire.APIError
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		tb.Fatalf("not OpenAI's error shape (%v): %s", err, a.body)
	}
	return e.Error
}

func chatReq(prompt string, seed int64, n int) map[string]any {
	return map[string]any{"model": "ref-lm", "seed": seed, "n": n,
		"messages": []map[string]string{{"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}}}
}

func TestChatCompletions(t *testing.T) {
	e := llmEnv(t, nil)
	a := e.postJSON("/v1/chat/completions", chatReq("What is the capital of Italy?", 7, 3), "")
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var got wire.ChatCompletion
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Object != "chat.completion" || got.Model != "ref-lm" || len(got.Choices) != 3 || got.Usage == nil {
		t.Fatalf("answer: %s", a.body)
	}
	// The same request and seed give the same texts; they are the model's own answers
	// (lm.Complete with the seed).
	l, _ := refLM(t)
	_, want := l.Complete("What is the capital of Italy?", lm.CompleteConfig{N: 3}, rng.New(7), nil)
	completion := 0
	for i, c := range got.Choices {
		if c.Index != i || c.Message.Role != "assistant" || string(c.Message.Content) != want[i].Text || c.FinishReason != want[i].Finish {
			t.Errorf("choice %d: %+v, want %q (%s)", i, c, want[i].Text, want[i].Finish)
		}
		completion += want[i].Tokens
	}
	// Usage: BOS + 6 words + "?" + SEP = 9 prompt tokens ("What is the capital of
	// Italy?" is 7 tokens), and the answers' tokens.
	if got.Usage.PromptTokens != 9 || got.Usage.CompletionTokens != completion || got.Usage.TotalTokens != 9+completion {
		t.Errorf("usage %+v, want 9 prompt and %d completion tokens", *got.Usage, completion)
	}
	if a.header.Get("Prefer-Seed") != "7" {
		t.Errorf("Prefer-Seed %q", a.header.Get("Prefer-Seed"))
	}
	b := e.postJSON("/v1/chat/completions", chatReq("What is the capital of Italy?", 7, 3), "")
	var again wire.ChatCompletion
	json.Unmarshal(b.body, &again)
	for i := range got.Choices {
		if again.Choices[i].Message.Content != got.Choices[i].Message.Content {
			t.Errorf("seed 7 again: choice %d %q, first %q", i, again.Choices[i].Message.Content, got.Choices[i].Message.Content)
		}
	}
	// Logprobs: one entry per generated token.
	req := chatReq("What do bees make?", 1, 1)
	req["logprobs"], req["top_logprobs"] = true, 3
	var lp wire.ChatCompletion
	json.Unmarshal(e.postJSON("/v1/chat/completions", req, "").body, &lp)
	c := lp.Choices[0]
	if c.Logprobs == nil || len(c.Logprobs.Content) != lp.Usage.CompletionTokens {
		t.Fatalf("logprobs %+v for %d tokens", c.Logprobs, lp.Usage.CompletionTokens)
	}
	var text strings.Builder
	for _, tok := range c.Logprobs.Content {
		if !(tok.Logprob <= 0) || len(tok.TopLogprobs) != 3 {
			t.Errorf("token %+v", tok)
		}
		if !strings.HasPrefix(tok.Token, "<") {
			text.WriteString(tok.Token)
		}
	}
	if text.String() != string(c.Message.Content) {
		t.Errorf("tokens spell %q, content %q", text.String(), c.Message.Content)
	}
}

// TestChatStreaming checks the server-sent events against the unstreamed answer of
// the same request: the deltas add up to the same texts, each choice ends with its
// finish reason, usage comes last when asked, then [DONE].
func TestChatStreaming(t *testing.T) {
	e := llmEnv(t, nil)
	req := chatReq("How do I plant a seed?", 11, 2)
	var plain wire.ChatCompletion
	json.Unmarshal(e.postJSON("/v1/chat/completions", req, "").body, &plain)
	req["stream"] = true
	req["stream_options"] = map[string]bool{"include_usage": true}
	a := e.postJSON("/v1/chat/completions", req, "")
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, type %q", a.status, a.header.Get("Content-Type"))
	}
	texts := make([]strings.Builder, 2)
	finish := make([]string, 2)
	var usage *wire.Usage
	done := false
	sc := bufio.NewScanner(bytes.NewReader(a.body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		if done {
			t.Fatalf("event after [DONE]: %q", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ch wire.ChatChunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %q: %v", data, err)
		}
		if ch.Usage != nil {
			usage = ch.Usage
			continue
		}
		for _, c := range ch.Choices {
			if finish[c.Index] != "" {
				t.Errorf("choice %d: delta after its finish", c.Index)
			}
			texts[c.Index].WriteString(c.Delta.Content)
			if c.FinishReason != nil {
				finish[c.Index] = *c.FinishReason
			}
		}
	}
	if !done || usage == nil || *usage != *plain.Usage {
		t.Errorf("done %v, usage %+v (unstreamed %+v)", done, usage, plain.Usage)
	}
	for i := range texts {
		if texts[i].String() != string(plain.Choices[i].Message.Content) || finish[i] != plain.Choices[i].FinishReason {
			t.Errorf("choice %d streamed %q (%s), unstreamed %q (%s)", i, texts[i].String(), finish[i], plain.Choices[i].Message.Content, plain.Choices[i].FinishReason)
		}
	}
}

func TestCompletions(t *testing.T) {
	e := llmEnv(t, nil)
	a := e.postJSON("/v1/completions", map[string]any{"model": "ref-lm", "prompt": []string{"What do bees make?", "How do I plant a seed?"},
		"n": 2, "seed": 5, "logprobs": 2, "max_tokens": 4, "temperature": 0}, "")
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var got wire.Completion
	json.Unmarshal(a.body, &got)
	if got.Object != "text_completion" || len(got.Choices) != 4 {
		t.Fatalf("%s", a.body)
	}
	for i, c := range got.Choices {
		if c.Index != i || c.Logprobs == nil || len(c.Logprobs.Tokens) > 4 || len(c.Logprobs.Tokens) == 0 {
			t.Errorf("choice %d: %+v", i, c)
		}
	}
	// Temperature 0 is greedy: both answers to a prompt are the same.
	if got.Choices[0].Text != got.Choices[1].Text || got.Choices[2].Text != got.Choices[3].Text {
		t.Errorf("temperature 0 gave different answers: %q", []string{got.Choices[0].Text, got.Choices[1].Text, got.Choices[2].Text, got.Choices[3].Text})
	}
	if *got.Choices[0].FinishReason != "length" && *got.Choices[0].FinishReason != "stop" {
		t.Errorf("finish %q", *got.Choices[0].FinishReason)
	}
}

// TestLLMBadRequests checks that wrong requests get OpenAI's error shape and a 4xx
// naming the parameter, before any work.
func TestLLMBadRequests(t *testing.T) {
	e := llmEnv(t, nil)
	user := []map[string]string{{"role": "user", "content": "hi"}}
	for _, c := range []struct {
		name   string
		body   any
		status int
		param  string
	}{
		{"unknown model", map[string]any{"model": "gpt-9", "messages": user}, 404, "model"},
		{"no model", map[string]any{"messages": user}, 400, "model"},
		{"no messages", map[string]any{"model": "ref-lm", "messages": []any{}}, 400, "messages"},
		{"n too large", map[string]any{"model": "ref-lm", "messages": user, "n": 17}, 400, "n"},
		{"n zero", map[string]any{"model": "ref-lm", "messages": user, "n": 0}, 400, "n"},
		{"max_tokens", map[string]any{"model": "ref-lm", "messages": user, "max_tokens": 5000}, 400, "max_tokens"},
		{"temperature", map[string]any{"model": "ref-lm", "messages": user, "temperature": 3}, 400, "temperature"},
		{"top_p", map[string]any{"model": "ref-lm", "messages": user, "top_p": 0}, 400, "top_p"},
		{"stop count", map[string]any{"model": "ref-lm", "messages": user, "stop": []string{"a", "b", "c", "d", "e"}}, 400, "stop"},
		{"top_logprobs without logprobs", map[string]any{"model": "ref-lm", "messages": user, "top_logprobs": 2}, 400, "top_logprobs"},
		{"tools", map[string]any{"model": "ref-lm", "messages": user, "tools": []any{map[string]any{"type": "function"}}}, 400, "tools"},
		{"penalty", map[string]any{"model": "ref-lm", "messages": user, "frequency_penalty": 0.5}, 400, "frequency_penalty"},
		{"bad role", map[string]any{"model": "ref-lm", "messages": []map[string]string{{"role": "robot", "content": "x"}}}, 400, "messages[0].role"},
		{"no user message", map[string]any{"model": "ref-lm", "messages": []map[string]string{{"role": "system", "content": "x"}}}, 400, "messages"},
		{"image part", map[string]any{"model": "ref-lm", "messages": []map[string]any{{"role": "user", "content": []map[string]string{{"type": "image_url"}}}}}, 400, ""},
		{"stored snapshot unknown", map[string]any{"model": strings.Repeat("ab", 16), "messages": user}, 404, "model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := oaiErr(t, e.postJSON("/v1/chat/completions", c.body, ""), c.status)
			if c.param != "" && (got.Param == nil || *got.Param != c.param) {
				t.Errorf("param %v, want %q: %s", got.Param, c.param, got.Message)
			}
		})
	}
	oaiErr(t, e.do("POST", "/v1/chat/completions", "", "application/json", []byte(`{"model": "ref-lm",`)), 400)
	oaiErr(t, e.do("POST", "/v1/chat/completions", "", "application/json", []byte(`{"model":"ref-lm","messages":[{"role":"user","content":"hi"}]} {}`)), 400)
	oaiErr(t, e.do("GET", "/v1/chat/completions", "", "", nil), 405)
	oaiErr(t, e.do("GET", "/v1/embeddings", "", "", nil), 404)
	oaiErr(t, e.postJSON("/v1/completions", map[string]any{"model": "ref-lm", "prompt": []string{"a", "b", "c"}, "n": 6}, ""), 400)
	oaiErr(t, e.postJSON("/v1/completions", map[string]any{"model": "ref-lm", "prompt": "a", "echo": true}, ""), 400)
	// 413 from Content-Length, before the body is read.
	big := bytes.Repeat([]byte(" "), 2<<20)
	oaiErr(t, e.do("POST", "/v1/chat/completions", "", "application/json", big), 413)
}

func TestLLMToken(t *testing.T) {
	e := llmEnv(t, func(c *LLMConfig) { c.Token = "sk-test-key" })
	oaiErr(t, e.do("GET", "/v1/models", "", "", nil), 401)
	oaiErr(t, e.do("GET", "/v1/models", "wrong", "", nil), 401)
	if a := e.do("GET", "/v1/models", "sk-test-key", "", nil); a.status != 200 {
		t.Fatalf("with the key: %d %s", a.status, a.body)
	}
	oaiErr(t, e.postJSON("/v1/chat/completions", chatReq("hi", 1, 1), ""), 401)
	oaiErr(t, e.postJSON("/api/v1/llm/chat/completions", chatReq("hi", 1, 1), "nope"), 401)
}

// blockingModel holds every generation until released: it lets the test fill the
// server's generation slots without racing on timing.
type blockingModel struct {
	started chan struct{}
	release chan struct{}
}

func (m *blockingModel) Fingerprint() string { return "fp_block" }

func (m *blockingModel) Answer(ctx context.Context, msgs []wire.ChatMessage, c lm.CompleteConfig, seed uint64, onDelta func(lm.Delta) bool) (int, []lm.Answer, error) {
	m.started <- struct{}{}
	<-m.release
	return 1, []lm.Answer{{Text: "done", Tokens: 1, Finish: "stop"}}, nil
}

// TestLLMBusy checks the bound on concurrent generations: with 1 slot and a queue
// of 1, a third request gets 429 with Retry-After at once, and the others finish.
func TestLLMBusy(t *testing.T) {
	bm := &blockingModel{started: make(chan struct{}, 4), release: make(chan struct{})}
	e := llmEnv(t, func(c *LLMConfig) {
		c.Concurrency, c.Queue = 1, 1
		c.Models = append(c.Models, ServedModel{Name: "block", Model: bm})
	})
	req := map[string]any{"model": "block", "messages": []map[string]string{{"role": "user", "content": "x"}}}
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.postJSON("/v1/chat/completions", req, "").status
		}()
		if i == 0 {
			<-bm.started // the first holds the slot
		}
	}
	// Wait until the second is queued.
	for deadline := time.Now().Add(10 * time.Second); e.api.llm.queued.Load() != 1; {
		if time.Now().After(deadline) {
			t.Fatal("the second request never queued")
		}
		time.Sleep(5 * time.Millisecond)
	}
	a := e.postJSON("/v1/chat/completions", req, "")
	got := oaiErr(t, a, 429)
	if a.header.Get("Retry-After") != "1" || got.Code == nil || *got.Code != "rate_limit_exceeded" {
		t.Errorf("429 without Retry-After 1 or code: %v %s", a.header, a.body)
	}
	close(bm.release)
	wg.Wait()
	if statuses[0] != 200 || statuses[1] != 200 {
		t.Errorf("held requests: %v", statuses)
	}
}

// TestStoredSnapshotModel serves the language model of an uploaded snapshot under
// its share id.
func TestStoredSnapshotModel(t *testing.T) {
	e := llmEnv(t, nil)
	_, data := refLM(t)
	snap, _, err := e.client("").PushSnapshot(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{snap.ID, snap.ID + "/ref-lm"} {
		req := chatReq("What do bees make?", 3, 2)
		req["model"] = name
		var got, ref wire.ChatCompletion
		a := e.postJSON("/v1/chat/completions", req, "")
		if a.status != 200 {
			t.Fatalf("%s: %d %s", name, a.status, a.body)
		}
		json.Unmarshal(a.body, &got)
		json.Unmarshal(e.postJSON("/v1/chat/completions", chatReq("What do bees make?", 3, 2), "").body, &ref)
		for i := range got.Choices {
			if got.Choices[i].Message.Content != ref.Choices[i].Message.Content {
				t.Errorf("%s: %q, the same model served as ref-lm %q", name, got.Choices[i].Message.Content, ref.Choices[i].Message.Content)
			}
		}
	}
	req := chatReq("x", 1, 1)
	req["model"] = snap.ID + "/policy"
	oaiErr(t, e.postJSON("/v1/chat/completions", req, ""), 404)
}

func TestModelsList(t *testing.T) {
	e := llmEnv(t, nil)
	a := e.do("GET", "/v1/models", "", "", nil)
	var got wire.ModelList
	if err := json.Unmarshal(a.body, &got); err != nil || got.Object != "list" || len(got.Data) != 1 || got.Data[0].ID != "ref-lm" || got.Data[0].Object != "model" {
		t.Fatalf("%d %s", a.status, a.body)
	}
	var info wire.LLMInfo
	json.Unmarshal(e.do("GET", "/api/v1/llm", "", "", nil).body, &info)
	if info.Upstream != "" || len(info.Models) != 1 || info.MaxN != 16 || info.Concurrency != 2 {
		t.Errorf("llm info %+v", info)
	}
}

// FuzzChatCompletions posts arbitrary bodies to the chat endpoint: the answer is a
// 200 or a 4xx in OpenAI's error shape, never a 5xx or a panic. The model is a tiny
// random one over the demo vocabulary, so each run is quick.
func FuzzChatCompletions(f *testing.F) {
	f.Add([]byte(`{"model":"tiny","messages":[{"role":"user","content":"What do bees make?"}],"n":2,"seed":1,"max_tokens":4}`))
	f.Add([]byte(`{"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stop":["."],"logprobs":true,"top_logprobs":5,"max_tokens":3}`))
	f.Add([]byte(`{"model":"tiny","messages":[{"role":"user","content":"x"}],"stream":true,"max_tokens":2,"temperature":0,"top_p":0.5,"top_k":3}`))
	f.Add([]byte(`{"model":"tiny","messages":null,"n":-1}`))
	f.Add([]byte(`{"model":"tiny","messages":[{"role":"user","content":"\xff"}],"stop":"\x00"}`))
	f.Add([]byte(`[]`))
	v := lm.DemoVocab()
	m, err := lm.New(lm.Config{Vocab: v.Size(), Context: 16, Layers: 1, Heads: 1, Channels: 4, Hidden: 8}, 1)
	if err != nil {
		f.Fatal(err)
	}
	st := teststore.Open(f, "embedded")
	a, err := New(context.Background(), Config{Store: st, LLM: LLMConfig{Models: []ServedModel{{Name: "tiny", Model: NewLMModel(&lm.LM{Model: m, Vocab: v})}}}})
	if err != nil {
		f.Fatal(err)
	}
	h := (&Site{API: a}).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
		if rec.Code != 200 {
			var e wire.APIError
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Message == "" {
				t.Fatalf("status %d without OpenAI's error shape: %s", rec.Code, rec.Body.Bytes())
			}
		}
	})
}

// TestRelayUpstream: with an upstream, /api/v1/llm lists the upstream's models and
// the relay forwards a checked request there with the operator's key; a model the
// upstream does not list is refused without asking it.
func TestRelayUpstream(t *testing.T) {
	const key = "sk-operator"
	up := llmEnv(t, func(c *LLMConfig) { c.Token = key })
	e := llmEnv(t, func(c *LLMConfig) { c.Upstream = &Upstream{URL: up.srv.URL + "/v1", Key: key} })
	var info wire.LLMInfo
	json.Unmarshal(e.do("GET", "/api/v1/llm", "", "", nil).body, &info)
	if info.Upstream == "" || len(info.Models) != 1 || info.Models[0].ID != "ref-lm" {
		t.Fatalf("info %+v", info)
	}
	a := e.postJSON("/api/v1/llm/chat/completions", chatReq("What do bees make?", 4, 1), "")
	var got, direct wire.ChatCompletion
	if a.status != 200 || json.Unmarshal(a.body, &got) != nil {
		t.Fatalf("relay: %d %s", a.status, a.body)
	}
	json.Unmarshal(up.postJSON("/v1/chat/completions", chatReq("What do bees make?", 4, 1), key).body, &direct)
	if got.Choices[0].Message.Content != direct.Choices[0].Message.Content {
		t.Errorf("relayed %q, asked directly %q", got.Choices[0].Message.Content, direct.Choices[0].Message.Content)
	}
	req := chatReq("x", 1, 1)
	req["model"] = "gpt-9"
	oaiErr(t, e.postJSON("/api/v1/llm/chat/completions", req, ""), 404)
	// A wrong operator key is the operator's problem: 502, not the user's 401.
	bad := llmEnv(t, func(c *LLMConfig) {
		c.Upstream = &Upstream{URL: up.srv.URL + "/v1", Key: "wrong", Models: []string{"ref-lm"}}
	})
	oaiErr(t, bad.postJSON("/api/v1/llm/chat/completions", chatReq("x", 1, 1), ""), 502)
}
