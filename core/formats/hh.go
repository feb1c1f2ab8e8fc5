package formats

import (
	"fmt"
	"io"
	"strings"
)

type hhRecord struct {
	Chosen   *string `json:"chosen"`
	Rejected *string `json:"rejected"`
}

// ReadHH reads Anthropic's HH-RLHF format: JSON lines (gzipped or not) of
// {"chosen", "rejected"}, each a whole dialogue "\n\nHuman: …\n\nAssistant: …".
//
// The prompt is the longest common prefix of the two dialogues cut back to the end of
// its last "\n\nAssistant:" (and the space after it when both have one); the two
// responses are what follows. Cutting the common prefix, rather than each dialogue at
// its own last "\n\nAssistant:", keeps replies that themselves contain
// "\n\nAssistant:" whole, and gives an empty response for a dialogue that ends with an
// empty Assistant turn. The chosen response wins the comparison.
func ReadHH(r io.Reader, opt Options) (*Dataset, *Report, error) {
	b := newBuilder("hh-rlhf", "hh", opt)
	return b.run(r, func(rec record) error {
		var h hhRecord
		if err := decodeJSON(rec.data, &h); err != nil {
			return err
		}
		if h.Chosen == nil || h.Rejected == nil {
			return fmt.Errorf("a row needs \"chosen\" and \"rejected\", each a whole dialogue")
		}
		prompt, a, bb, err := SplitHH(*h.Chosen, *h.Rejected)
		if err != nil {
			return err
		}
		return b.addPair(prompt, a, bb, rec.line)
	})
}

// SplitHH splits an HH-RLHF pair into the prompt and the two responses (see ReadHH).
func SplitHH(chosen, rejected string) (prompt, a, b string, err error) {
	if chosen == rejected {
		return "", "", "", fmt.Errorf("\"chosen\" and \"rejected\" are the same dialogue; a comparison needs two different replies")
	}
	n := lcp(chosen, rejected)
	k := strings.LastIndex(chosen[:n], hhMarker)
	if k < 0 {
		return "", "", "", fmt.Errorf("the two dialogues share no \"\\n\\nAssistant:\" turn; both must be the same conversation up to the final Assistant reply")
	}
	end := k + len(hhMarker)
	if end < n && chosen[end] == ' ' {
		end++
	}
	return chosen[:end], chosen[end:], rejected[end:], nil
}

type hhRow struct {
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
}

// HHPrompt returns the dialogue form of a prompt for the HH-RLHF export: a prompt
// that ends with "\n\nAssistant:" or AssistantCue is kept; one in dialogue form
// (starting with a role marker) gets the cue; any other prompt becomes
// "\n\nHuman: " + prompt + AssistantCue.
func HHPrompt(prompt string) string {
	switch {
	case strings.HasSuffix(prompt, AssistantCue) || strings.HasSuffix(prompt, hhMarker):
		return prompt
	case hasMarkerPrefix(prompt):
		return prompt + AssistantCue
	}
	return "\n\nHuman: " + prompt + AssistantCue
}

// WriteHH writes the preference pairs of d (as WriteTRL: decided comparisons, the
// pairs of rankings, rewrite ≻ original) in HH-RLHF form: {"chosen", "rejected"} with
// each the whole dialogue HHPrompt(prompt) + response. The format has no place for a
// strength. Ties, both-bad comparisons and other kinds are skipped and counted. Data
// imported from HH-RLHF comes back byte for byte.
func WriteHH(w io.Writer, d *Dataset) (*ExportReport, error) {
	rep := &ExportReport{Format: "hh-rlhf", Skipped: map[string]int{}}
	jw := newJSONWriter(w, rep)
	err := preferencePairs(d, rep, func(p exportPair) error {
		pr := HHPrompt(p.item.Prompt)
		return jw.write(hhRow{Chosen: pr + p.win, Rejected: pr + p.lose})
	}, nil)
	if err != nil {
		return nil, err
	}
	return rep, jw.flush()
}
