package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Message is one turn of a conversation in TRL's conversational format.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Dialogue rendering. A conversation becomes text in the style of Anthropic's
// HH-RLHF: every message is "\n\n" + its role's label + ": " + its content, with the
// labels below. A prompt whose completions are assistant messages ends with the cue
// "\n\nAssistant: ", and the response text is the assistant's content, so a
// conversational TRL pair and the same pair in HH-RLHF form import as the same item
// and responses.
var roleLabels = []struct{ role, marker string }{
	{"user", "\n\nHuman: "},
	{"assistant", "\n\nAssistant: "},
	{"system", "\n\nSystem: "},
	{"tool", "\n\nTool: "},
}

// AssistantCue ends a rendered prompt whose completion is an assistant turn.
const AssistantCue = "\n\nAssistant: "

func roleMarker(role string) (string, bool) {
	for _, r := range roleLabels {
		if r.role == role {
			return r.marker, true
		}
	}
	return "", false
}

// wireMessage is a message as datasets write it: {"role", "content"} (TRL, OpenAI)
// or ShareGPT's {"from", "value"}; content is a text or a list of content parts.
type wireMessage struct {
	Role    *string         `json:"role"`
	From    *string         `json:"from"`
	Content json.RawMessage `json:"content"`
	Value   json.RawMessage `json:"value"`
}

// contentPart is one part of a message's content: {"type": "text", "text": …}.
type contentPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

// roleAliases are ShareGPT's role names.
var roleAliases = map[string]string{"human": "user", "gpt": "assistant"}

// decodeMessages reads a list of messages. A message is {"role", "content"} or
// ShareGPT's {"from", "value"} (roles human and gpt read as user and assistant, as
// TRL's maybe_convert_to_chatml does); its content is a text or a list of content
// parts [{"type": "text", "text": …}, …], whose texts are concatenated in order (as
// chat templates render them). Parts of another type (images, audio) are an error:
// Prefer reads text.
func decodeMessages(field string, raw json.RawMessage) ([]Message, error) {
	var wire []wireMessage
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, fmt.Errorf("%q must be a list of {\"role\": …, \"content\": …} messages", field)
	}
	msgs := make([]Message, len(wire))
	for i, w := range wire {
		where := fmt.Sprintf("%s[%d]", field, i)
		role, content := w.Role, w.Content
		if role == nil {
			role, content = w.From, w.Value
		}
		if role == nil {
			return nil, fmt.Errorf("%s has no \"role\"; a message is {\"role\": …, \"content\": …}", where)
		}
		r := *role
		if a, ok := roleAliases[r]; ok {
			r = a
		}
		text, err := messageText(where, content)
		if err != nil {
			return nil, err
		}
		msgs[i] = Message{Role: r, Content: text}
	}
	if err := checkMessages(field, msgs); err != nil {
		return nil, err
	}
	return msgs, nil
}

// messageText reads a message's content: a text, or a list of text parts.
func messageText(where string, raw json.RawMessage) (string, error) {
	s := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case len(s) > 0 && s[0] == '"':
		var t string
		if err := json.Unmarshal(s, &t); err != nil {
			return "", fmt.Errorf("%s.content is not a valid JSON string", where)
		}
		return t, nil
	case len(s) > 0 && s[0] == '[':
		var parts []contentPart
		if err := json.Unmarshal(s, &parts); err != nil {
			return "", fmt.Errorf("%s.content must be a text or a list of {\"type\": \"text\", \"text\": …} parts", where)
		}
		var sb strings.Builder
		for k, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return "", fmt.Errorf("%s.content[%d] is a %q part; Prefer reads text parts ({\"type\": \"text\", \"text\": …}) only", where, k, p.Type)
			}
			sb.WriteString(*p.Text)
		}
		return sb.String(), nil
	}
	return "", fmt.Errorf("%s needs \"content\": a text or a list of text parts", where)
}

// checkMessages checks roles and that there is at least one message.
func checkMessages(field string, msgs []Message) error {
	if len(msgs) == 0 {
		return fmt.Errorf("%q is an empty list of messages", field)
	}
	for i, m := range msgs {
		if _, ok := roleMarker(m.Role); !ok {
			return fmt.Errorf("%s[%d] has role %q; use user, assistant, system or tool", field, i, m.Role)
		}
	}
	return nil
}

// RenderChat renders messages as dialogue text: "\n\nHuman: …\n\nAssistant: …".
// Roles must be user, assistant, system or tool.
func RenderChat(msgs []Message) string {
	var sb strings.Builder
	for _, m := range msgs {
		mk, _ := roleMarker(m.Role)
		sb.WriteString(mk)
		sb.WriteString(m.Content)
	}
	return sb.String()
}

// renderCompletion renders completion messages whose first message is the
// assistant's: its content bare (it follows the prompt's cue), the rest as turns.
func renderCompletion(msgs []Message) string {
	return msgs[0].Content + RenderChat(msgs[1:])
}

// splitTurns splits dialogue text at the role markers. The text before the first
// marker becomes a message with role first (dropped when first is ""). A marker of
// the role already speaking does not start a new message: it stays in the content,
// so a reply that itself contains "\n\nAssistant: " is one assistant message (strict
// chat templates reject two in a row; 5 replies of the HH-RLHF harmless-base test
// split do this). It is the inverse of RenderChat: RenderChat(splitTurns(s, "")) == s
// for any s that starts with a marker, and splitTurns(RenderChat(m), "") == m when no
// content contains a marker and no two messages in a row have the same role.
func splitTurns(s, first string) []Message {
	var out []Message
	role, start := first, 0
	emit := func(end int) {
		if role != "" {
			out = append(out, Message{Role: role, Content: s[start:end]})
		}
	}
	for i := 0; i+2 < len(s); {
		k := strings.Index(s[i:], "\n\n")
		if k < 0 {
			break
		}
		at := i + k
		matched := false
		for _, r := range roleLabels {
			if strings.HasPrefix(s[at:], r.marker) && r.role != role {
				emit(at)
				role, start = r.role, at+len(r.marker)
				i = start
				matched = true
				break
			}
		}
		if !matched {
			i = at + 1
		}
	}
	emit(len(s))
	return out
}

// hasMarkerPrefix reports whether s starts with a role marker.
func hasMarkerPrefix(s string) bool {
	for _, r := range roleLabels {
		if strings.HasPrefix(s, r.marker) {
			return true
		}
	}
	return false
}

// PromptMessages turns a prompt back into messages for the conversational export.
// A prompt in dialogue form (starting with a role marker) is split at the markers,
// without the final assistant cue; any other prompt is one user message.
func PromptMessages(prompt string) []Message {
	if !hasMarkerPrefix(prompt) {
		return []Message{{Role: "user", Content: prompt}}
	}
	msgs := splitTurns(strings.TrimSuffix(prompt, AssistantCue), "")
	if msgs == nil {
		msgs = []Message{}
	}
	return msgs
}

// CompletionMessages turns a response back into messages: its text up to the first
// role marker is the assistant's message, and any further turns follow.
func CompletionMessages(text string) []Message {
	return splitTurns(text, "assistant")
}
