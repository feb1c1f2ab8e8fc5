package lm

import (
	"fmt"
	"sort"

	"prefer/core/demo"
)

// Special tokens. A training sequence is
//
//	BOS prompt… SEP response… EOS
//
// and generation starts after SEP and stops at EOS. Words outside the vocabulary
// (imported text) become UNK.
const (
	BOS = "<bos>" // start of the prompt
	SEP = "<sep>" // end of the prompt, start of the response
	EOS = "<eos>" // end of the response
	UNK = "<unk>" // a word outside the vocabulary
)

// Vocab is a word-level vocabulary: the special tokens (ids 0–3: BOS, SEP, EOS,
// UNK) followed by words in sorted order. Text is split into words by
// demo.Tokenize and rendered back by demo.Detokenize.
type Vocab struct {
	Words []string // id → word
	index map[string]int32
}

// Special token ids.
const (
	BOSID int32 = 0
	SEPID int32 = 1
	EOSID int32 = 2
	UNKID int32 = 3
)

// NewVocab returns the vocabulary of the special tokens and the given words
// (deduplicated and sorted; special-token spellings among them are dropped).
func NewVocab(words []string) *Vocab {
	set := map[string]bool{}
	for _, w := range words {
		set[w] = true
	}
	for _, s := range []string{BOS, SEP, EOS, UNK} {
		delete(set, s)
	}
	sorted := make([]string, 0, len(set))
	for w := range set {
		sorted = append(sorted, w)
	}
	sort.Strings(sorted)
	v := &Vocab{Words: append([]string{BOS, SEP, EOS, UNK}, sorted...)}
	v.buildIndex()
	return v
}

// DemoVocab returns the vocabulary of the demo grammar (demo.Vocabulary).
func DemoVocab() *Vocab { return NewVocab(demo.Vocabulary()) }

// vocabFromWords rebuilds a vocabulary stored in a snapshot (ids as given).
func vocabFromWords(words []string) (*Vocab, error) {
	if len(words) < 5 {
		return nil, fmt.Errorf("vocabulary of %d words is too small", len(words))
	}
	for i, s := range []string{BOS, SEP, EOS, UNK} {
		if words[i] != s {
			return nil, fmt.Errorf("vocabulary token %d is %q, want %q", i, words[i], s)
		}
	}
	v := &Vocab{Words: append([]string(nil), words...)}
	v.buildIndex()
	if len(v.index) != len(words) {
		return nil, fmt.Errorf("vocabulary has duplicate words")
	}
	return v, nil
}

func (v *Vocab) buildIndex() {
	v.index = make(map[string]int32, len(v.Words))
	for i, w := range v.Words {
		v.index[w] = int32(i)
	}
}

// Size returns the number of tokens, special tokens included.
func (v *Vocab) Size() int { return len(v.Words) }

// ID returns the id of a word, or UNKID.
func (v *Vocab) ID(word string) int32 {
	if id, ok := v.index[word]; ok {
		return id
	}
	return UNKID
}

// Encode tokenizes text (demo.Tokenize) and appends the ids to dst.
func (v *Vocab) Encode(dst []int32, text string) []int32 {
	for _, w := range demo.Tokenize(text) {
		dst = append(dst, v.ID(w))
	}
	return dst
}

// Decode renders ids as text (demo.Detokenize), stopping at EOS and skipping the
// other special tokens.
func (v *Vocab) Decode(ids []int32) string {
	words := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == EOSID {
			break
		}
		if id <= UNKID || int(id) >= len(v.Words) {
			continue
		}
		words = append(words, v.Words[id])
	}
	return demo.Detokenize(words)
}

// PromptIDs returns the conditioning tokens of a prompt: BOS, the prompt's words,
// SEP. A prompt longer than maxLen tokens keeps its last words.
func (v *Vocab) PromptIDs(prompt string, maxLen int) []int32 {
	words := v.Encode(nil, prompt)
	if maxLen < 3 {
		maxLen = 3
	}
	if len(words) > maxLen-2 {
		words = words[len(words)-(maxLen-2):]
	}
	ids := make([]int32, 0, len(words)+2)
	ids = append(ids, BOSID)
	ids = append(ids, words...)
	return append(ids, SEPID)
}
