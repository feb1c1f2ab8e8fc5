package formats

import (
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
// marker becomes a message with role first (dropped when first is ""). It is the
// inverse of RenderChat: RenderChat(splitTurns(s, "")) == s for any s that starts with
// a marker, and splitTurns(RenderChat(m), "") == m when no content contains a marker.
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
			if strings.HasPrefix(s[at:], r.marker) {
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
