package demo

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenize splits text into the word-level tokens of the demo grammar: lower-case runs
// of letters and digits, and every other non-space character as a token of its own
// (so "Sure! It is 300 meters." gives sure ! it is 300 meters .). It works on any
// text; tokens outside Vocabulary simply do not occur in the grammar.
func Tokenize(text string) []string {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(unicode.ToLower(r))
		case unicode.IsSpace(r):
			flush()
		default:
			flush()
			toks = append(toks, string(r))
		}
	}
	flush()
	return toks
}

// Detokenize renders tokens as display text: punctuation attached to the word before
// it, the first word of each sentence and the proper nouns of the domain capitalized.
// For every text the grammar produces, Detokenize(Tokenize(text)) == text.
func Detokenize(toks []string) string {
	var b strings.Builder
	start := true
	for i, t := range toks {
		if i > 0 && !isPunct(t) {
			b.WriteByte(' ')
		}
		w := t
		if p, ok := properNouns[t]; ok {
			w = p
		} else if start {
			w = capitalize(t)
		}
		b.WriteString(w)
		if isTerminal(t) {
			start = true
		} else if !isPunct(t) {
			start = false
		}
	}
	return b.String()
}

// render turns token-form sentences into display text.
func render(sentences []string) string {
	var toks []string
	for _, s := range sentences {
		toks = append(toks, strings.Fields(s)...)
	}
	return Detokenize(toks)
}

func capitalize(t string) string {
	r, n := utf8.DecodeRuneInString(t)
	if n == 0 || r == utf8.RuneError {
		return t
	}
	return string(unicode.ToUpper(r)) + t[n:]
}

func isTerminal(t string) bool { return t == "." || t == "!" || t == "?" }

func isPunct(t string) bool { return t == "." || t == "!" || t == "?" || t == "," }

func isWord(t string) bool {
	for _, r := range t {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// Vocabulary returns every token the grammar can produce — in prompts, responses and
// rewrites — sorted, the same on every call and platform.
func Vocabulary() []string {
	seen := map[string]bool{}
	add := func(s string) {
		for _, t := range Tokenize(s) {
			seen[t] = true
		}
	}
	for _, list := range [][]string{openings, closings, fillers, hedges, refusals} {
		for _, s := range list {
			add(s)
		}
	}
	for _, q := range questions {
		add(q.prompt)
		for _, list := range [][]string{q.correct, q.wrong, q.unsafe} {
			for _, s := range list {
				add(s)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// atoi parses a non-negative decimal token; ok is false for anything else.
func atoi(t string) (int, bool) {
	if t == "" || len(t) > 9 {
		return 0, false
	}
	for _, r := range t {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(t)
	return n, err == nil
}
