package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"prefer/core/ask"
	"prefer/core/lm"
	"prefer/core/rng"
	"prefer/core/wire"
)

// Model is a model the OpenAI-compatible endpoints answer with: a language model
// (LMModel) or a built-in judge. Answer answers a conversation — for
// /v1/completions, one user message holding the prompt — c.N times. onDelta, when not
// nil, gets the text as it is written (streaming); it returns true when the client
// has gone, and the model then stops. Answers must be a pure function of the
// messages, c and the seed.
type Model interface {
	Answer(ctx context.Context, msgs []wire.ChatMessage, c lm.CompleteConfig, seed uint64, onDelta func(lm.Delta) bool) (promptTokens int, answers []lm.Answer, err error)
	// Fingerprint identifies the model's weights (system_fingerprint).
	Fingerprint() string
}

// ServedModel is a model under the name clients ask for, with its description for
// GET /v1/models.
type ServedModel struct {
	Name        string
	Description string
	Model       Model
	// Generator marks a model that writes answers (the Data page lists those);
	// judges are not.
	Generator bool
}

// LMModel serves a language model of package lm. A model is not safe for
// concurrent use, so each generation takes a replica from a pool (at most the
// server's concurrency are ever made).
type LMModel struct {
	lm   *lm.LM
	fp   string
	mu   sync.Mutex
	free []*lm.LM
}

// NewLMModel serves l.
func NewLMModel(l *lm.LM) *LMModel { return &LMModel{lm: l, fp: "fp_" + l.Hash()} }

// Fingerprint is "fp_" and the model's parameter hash (lm.ParamsHash).
func (m *LMModel) Fingerprint() string { return m.fp }

// Prompt is what a language model of the demo domain reads of a conversation: the
// last user message. It was trained on single prompts; the system message and
// earlier turns are not read (docs/models.md says so).
func Prompt(msgs []wire.ChatMessage) (string, error) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			if strings.TrimSpace(string(msgs[i].Content)) == "" {
				return "", errors.New("the last user message is empty")
			}
			return string(msgs[i].Content), nil
		}
	}
	return "", errors.New("no user message: the model answers the last user message")
}

// Answer answers the last user message.
func (m *LMModel) Answer(ctx context.Context, msgs []wire.ChatMessage, c lm.CompleteConfig, seed uint64, onDelta func(lm.Delta) bool) (int, []lm.Answer, error) {
	prompt, err := Prompt(msgs)
	if err != nil {
		return 0, nil, &badParam{param: "messages", msg: err.Error()}
	}
	l := m.take()
	defer m.give(l)
	stop := func(d lm.Delta) bool {
		if ctx.Err() != nil {
			return true
		}
		return onDelta != nil && onDelta(d)
	}
	n, answers := l.Complete(prompt, c, rng.New(seed), stop)
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	return n, answers, nil
}

func (m *LMModel) take() *lm.LM {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := len(m.free); k > 0 {
		l := m.free[k-1]
		m.free = m.free[:k-1]
		return l
	}
	return m.lm.Clone()
}

func (m *LMModel) give(l *lm.LM) {
	m.mu.Lock()
	m.free = append(m.free, l)
	m.mu.Unlock()
}

// badParam is a request the model cannot answer, naming the parameter at fault.
type badParam struct {
	param, msg string
}

func (e *badParam) Error() string { return fmt.Sprintf("%s: %s", e.param, e.msg) }

// JudgeModel serves one of Prefer's built-in judges (package ask): it reads the
// judge prompt of `prefer judge` and answers with an explanation and a verdict.
// It is deterministic: every answer of a request is the same.
type JudgeModel struct {
	Judge ask.Builtin
	Score ask.Scorer
}

// Fingerprint names the judge.
func (m *JudgeModel) Fingerprint() string { return "fp_" + m.Judge.Name }

// Answer judges the conversation's system and last user message.
func (m *JudgeModel) Answer(ctx context.Context, msgs []wire.ChatMessage, c lm.CompleteConfig, seed uint64, onDelta func(lm.Delta) bool) (int, []lm.Answer, error) {
	var system, user string
	for _, msg := range msgs {
		switch msg.Role {
		case "system", "developer":
			system = string(msg.Content)
		case "user":
			user = string(msg.Content)
		}
	}
	if user == "" {
		return 0, nil, &badParam{param: "messages", msg: "no user message: the judge reads the judge prompt in the last user message"}
	}
	text := m.Judge.Answer(m.Score, system, user)
	promptTokens := len(strings.Fields(system)) + len(strings.Fields(user))
	n := max(c.N, 1)
	answers := make([]lm.Answer, n)
	for i := range answers {
		answers[i] = lm.Answer{Text: text, Tokens: len(strings.Fields(text)), Finish: "stop"}
		if onDelta != nil && onDelta(lm.Delta{Choice: i, Text: text, Finish: "stop"}) {
			break
		}
	}
	return promptTokens, answers, nil
}
