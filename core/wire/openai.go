package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The OpenAI-compatible protocol (docs/models.md): the bodies of GET /v1/models,
// POST /v1/chat/completions and POST /v1/completions as OpenAI's API and the model
// servers that copy it (vLLM, llama.cpp's server, Ollama, TGI) exchange them.
// `prefer serve` answers them with its own models; `prefer generate`, `prefer
// judge` and the Data page ask them of any such server. Fields this protocol
// defines and Prefer does not use are left out; a request's unknown fields are
// ignored, and the known ones Prefer's models cannot honour are refused
// (Unsupported).

// ChatRequest is the body of POST /v1/chat/completions. Pointer fields are optional:
// nil means the server's default.
type ChatRequest struct {
	Model       string        `json:"model"`
	Messages    []ChatMessage `json:"messages"`
	N           *int          `json:"n,omitempty"`
	Temperature *float64      `json:"temperature,omitempty"`
	TopP        *float64      `json:"top_p,omitempty"`
	// TopK is not in OpenAI's API; vLLM, llama.cpp and Ollama's OpenAI endpoints
	// take it as an extra field.
	TopK                *int           `json:"top_k,omitempty"`
	MaxTokens           *int           `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int           `json:"max_completion_tokens,omitempty"`
	Seed                *int64         `json:"seed,omitempty"`
	Stop                Stop           `json:"stop,omitempty"`
	Logprobs            bool           `json:"logprobs,omitempty"`
	TopLogprobs         *int           `json:"top_logprobs,omitempty"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *StreamOptions `json:"stream_options,omitempty"`
	User                string         `json:"user,omitempty"`

	// Fields of the API that Prefer's models cannot honour; a request that uses
	// them is refused (Unsupported), never silently half-answered.
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
	LogitBias        map[string]any  `json:"logit_bias,omitempty"`
	Tools            json.RawMessage `json:"tools,omitempty"`
	Functions        json.RawMessage `json:"functions,omitempty"`
	ResponseFormat   *ResponseFormat `json:"response_format,omitempty"`
}

// ResponseFormat is a chat request's response_format; only "text" is served.
type ResponseFormat struct {
	Type string `json:"type"`
}

// StreamOptions asks a streamed answer for a last chunk with the usage counts.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is one message of a conversation. Content is a string, or in a
// request also an array of content parts of which the text parts are read.
type ChatMessage struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
	Name    string  `json:"name,omitempty"`
}

// Content is a message's text. It decodes from a string, null, or an array of
// content parts ({"type": "text", "text": …}; other part types are an error), and
// encodes as a string.
type Content string

func (c Content) MarshalJSON() ([]byte, error) { return json.Marshal(string(c)) }

func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = Content(s)
		return nil
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		var sb strings.Builder
		for i, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return fmt.Errorf("content part %d is of type %q: only text parts are read", i, p.Type)
			}
			if sb.Len() > 0 {
				sb.WriteByte('\n')
			}
			sb.WriteString(*p.Text)
		}
		*c = Content(sb.String())
		return nil
	}
	return errors.New("content must be a string or an array of text parts")
}

// Stop is a request's stop: a string or an array of strings.
type Stop []string

func (s *Stop) UnmarshalJSON(b []byte) error {
	return stringOrStrings((*[]string)(s), b, "stop must be a string or an array of strings")
}

// stringOrStrings decodes a string (as a list of one), null (nil) or an array of
// strings into *out; wrong is the error for anything else.
func stringOrStrings(out *[]string, b []byte, wrong string) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*out = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New(wrong)
	}
	*out = many
	return nil
}

// CompletionRequest is the body of POST /v1/completions (the legacy API, for base
// models). Prompt is a string or an array of strings (a batch: each prompt gets N
// answers, choice index = prompt index × N + answer).
type CompletionRequest struct {
	Model         string         `json:"model"`
	Prompt        Prompts        `json:"prompt"`
	N             *int           `json:"n,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	TopK          *int           `json:"top_k,omitempty"`
	MaxTokens     *int           `json:"max_tokens,omitempty"`
	Seed          *int64         `json:"seed,omitempty"`
	Stop          Stop           `json:"stop,omitempty"`
	Logprobs      *int           `json:"logprobs,omitempty"` // 0–5: the alternatives per token; null: none
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	User          string         `json:"user,omitempty"`

	Echo             bool           `json:"echo,omitempty"`
	Suffix           *string        `json:"suffix,omitempty"`
	BestOf           *int           `json:"best_of,omitempty"`
	FrequencyPenalty *float64       `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64       `json:"presence_penalty,omitempty"`
	LogitBias        map[string]any `json:"logit_bias,omitempty"`
}

// Prompts is a completion request's prompt: a string or an array of strings.
type Prompts []string

func (p *Prompts) UnmarshalJSON(b []byte) error {
	return stringOrStrings((*[]string)(p), b, "prompt must be a string or an array of strings (token arrays are not read)")
}

// Unsupported names the first field of r that Prefer's models cannot honour, and
// why, or returns "" when there is none.
func (r *ChatRequest) Unsupported() (param, why string) {
	if param, why = unsupportedSampling(r.FrequencyPenalty, r.PresencePenalty, r.LogitBias); param != "" {
		return param, why
	}
	switch {
	case len(r.Tools) > 0 && string(r.Tools) != "null" && string(r.Tools) != "[]":
		return "tools", "tool calls are not supported"
	case len(r.Functions) > 0 && string(r.Functions) != "null" && string(r.Functions) != "[]":
		return "functions", "function calls are not supported"
	case r.ResponseFormat != nil && r.ResponseFormat.Type != "" && r.ResponseFormat.Type != "text":
		return "response_format", "only text answers are supported"
	}
	return "", ""
}

// Unsupported is ChatRequest.Unsupported for the completions API.
func (r *CompletionRequest) Unsupported() (param, why string) {
	switch {
	case r.Echo:
		return "echo", "echo is not supported"
	case r.Suffix != nil && *r.Suffix != "":
		return "suffix", "suffix (insertion) is not supported"
	case r.BestOf != nil && *r.BestOf > 1:
		return "best_of", "best_of is not supported: ask for n answers and choose"
	}
	return unsupportedSampling(r.FrequencyPenalty, r.PresencePenalty, r.LogitBias)
}

// unsupportedSampling is Unsupported for the sampling fields both APIs share.
func unsupportedSampling(frequency, presence *float64, logitBias map[string]any) (param, why string) {
	switch {
	case frequency != nil && *frequency != 0:
		return "frequency_penalty", "penalties are not supported"
	case presence != nil && *presence != 0:
		return "presence_penalty", "penalties are not supported"
	case len(logitBias) > 0:
		return "logit_bias", "logit_bias is not supported"
	}
	return "", ""
}

// ResponseHead is the first fields of every answer of the completion APIs (a chat
// completion, each of its streamed chunks, a completion), in their JSON order.
type ResponseHead struct {
	ID                string `json:"id"`
	Object            string `json:"object"` // "chat.completion", "chat.completion.chunk", "text_completion"
	Created           int64  `json:"created"`
	Model             string `json:"model"`
	SystemFingerprint string `json:"system_fingerprint,omitempty"`
}

// ChatCompletion is the answer of POST /v1/chat/completions.
type ChatCompletion struct {
	ResponseHead              // Object "chat.completion"
	Choices      []ChatChoice `json:"choices"`
	Usage        *Usage       `json:"usage,omitempty"`
}

// ChatChoice is one answer of a chat completion.
type ChatChoice struct {
	Index        int          `json:"index"`
	Message      ChatMessage  `json:"message"`
	Logprobs     *ChatLogprob `json:"logprobs"`
	FinishReason string       `json:"finish_reason"` // "stop" or "length"
}

// ChatLogprob holds the log-probabilities of a chat answer's tokens.
type ChatLogprob struct {
	Content []TokenLogprob `json:"content"`
}

// TokenLogprob is one token with its log-probability and the most likely
// alternatives of its step.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is an alternative token of a step.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// ChatChunk is one server-sent event of a streamed chat completion.
type ChatChunk struct {
	ResponseHead               // Object "chat.completion.chunk"
	Choices      []ChunkChoice `json:"choices"`
	Usage        *Usage        `json:"usage,omitempty"`
}

// ChunkChoice is a piece of one answer of a streamed chat completion.
type ChunkChoice struct {
	Index        int          `json:"index"`
	Delta        ChatDelta    `json:"delta"`
	Logprobs     *ChatLogprob `json:"logprobs"`
	FinishReason *string      `json:"finish_reason"`
}

// ChatDelta is the new text of a streamed answer (Role on its first chunk).
type ChatDelta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

// Completion is the answer of POST /v1/completions, and each streamed event of it.
type Completion struct {
	ResponseHead                    // Object "text_completion"
	Choices      []CompletionChoice `json:"choices"`
	Usage        *Usage             `json:"usage,omitempty"`
}

// CompletionChoice is one answer of a completion (or a piece of it, streamed).
type CompletionChoice struct {
	Text         string              `json:"text"`
	Index        int                 `json:"index"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
}

// CompletionLogprobs is the legacy API's log-probability record: parallel arrays
// of the tokens, their log-probabilities, the alternatives of each step
// (token → log-probability) and each token's offset in the text.
type CompletionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// Usage counts the tokens of a request: the prompt as the model read it and the
// answers' tokens (EOS included).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ModelList is the answer of GET /v1/models.
type ModelList struct {
	Object string      `json:"object"` // "list"
	Data   []ModelInfo `json:"data"`
}

// ModelInfo describes a model a server answers with. Description is Prefer's
// addition: what the model is, in a sentence (clients ignore unknown fields).
type ModelInfo struct {
	ID          string `json:"id"`
	Object      string `json:"object"` // "model"
	Created     int64  `json:"created"`
	OwnedBy     string `json:"owned_by"`
	Description string `json:"description,omitempty"`
}

// APIError is OpenAI's error body: {"error": {"message", "type", "param", "code"}}.
type APIError struct {
	Error APIErrorBody `json:"error"`
}

// APIErrorBody is the error itself. Type is "invalid_request_error",
// "authentication_error", "rate_limit_error" (429), "server_error" or
// "service_unavailable"; Code a stable word ("model_not_found",
// "rate_limit_exceeded", …) or null.
type APIErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// LLMInfo is the answer of GET /api/v1/llm: what the Data page's "Generate answers"
// goes to. Upstream is the host of the model server the operator configured
// (`prefer serve --llm-upstream`), "" when the server's own models answer; Models
// are the names the page may ask for (the first is the default); KeyRequired says
// the server wants its access key (PREFER_LLM_TOKEN) as a bearer token; the limits
// are those every request is checked against.
type LLMInfo struct {
	Upstream    string      `json:"upstream"`
	Models      []ModelInfo `json:"models"`
	KeyRequired bool        `json:"key_required"`
	MaxN        int         `json:"max_n"`
	MaxTokens   int         `json:"max_tokens"`
	Concurrency int         `json:"concurrency"`
}
