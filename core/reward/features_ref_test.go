package reward

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"prefer/core/demo"
	"prefer/core/num"
)

// The featurizer as it was before it reused its buffers (issue 17), kept as the
// reference that TestFeaturizeMatchesReference holds the faster one to, bit for bit.

func (f *Featurizer) featurizePairRef(prompt, text string) Sparse {
	c := f.cfg
	toks := tokensRef(text)
	var all, g []hashed
	ngroups := 0
	flush := func() {
		if len(g) == 0 {
			return
		}
		for _, e := range normalizeGroupRef(g) {
			e.grp = int32(ngroups)
			all = append(all, e)
		}
		ngroups++
		g = g[:0]
	}
	if c.WordN > 0 && len(toks) > 0 {
		for n := 1; n <= c.WordN; n++ {
			for i := 0; i+n <= len(toks); i++ {
				h := fnvStart('w')
				for k, t := range toks[i : i+n] {
					if k > 0 {
						h = fnvByte(h, ' ')
					}
					h = fnvString(h, t)
				}
				g = f.add(g, h)
				if f.names != nil {
					f.record(h, 'w', strings.Join(toks[i:i+n], " "))
				}
				if f.keys != nil {
					f.count(h)
				}
			}
		}
		flush()
	}
	if !c.NoSentences && len(toks) > 0 {
		start := 0
		for i := 0; i <= len(toks); i++ {
			if i < len(toks) && !isTerminal(toks[i]) {
				continue
			}
			if i > start {
				sent := toks[start:i]
				h := fnvStart('s')
				for k, t := range sent {
					if k > 0 {
						h = fnvByte(h, ' ')
					}
					h = fnvString(h, t)
				}
				g = f.add(g, h)
				if f.names != nil {
					f.record(h, 's', strings.Join(sent, " "))
				}
				if f.keys != nil {
					f.count(h)
				}
			}
			start = i + 1
		}
		flush()
	}
	if c.Cross && prompt != "" && len(toks) > 0 {
		pw := distinctWordsRef(tokensRef(prompt), CrossPrompt, true)
		rw := distinctWordsRef(toks, CrossResponse, false)
		for _, p := range pw {
			hp := fnvByte(fnvString(fnvStart('x'), p), '|')
			for _, r := range rw {
				h := fnvString(hp, r)
				g = f.add(g, h)
				if f.names != nil {
					f.record(h, 'x', p+"|"+r)
				}
			}
		}
		flush()
	}
	if c.CharMax > 0 {
		norm := " " + strings.Join(strings.Fields(strings.ToLower(text)), " ") + " "
		off := make([]int, 0, len(norm)+1)
		for i := range norm {
			off = append(off, i)
		}
		off = append(off, len(norm))
		nr := len(off) - 1
		if nr > 2 {
			for n := c.CharMin; n <= c.CharMax; n++ {
				for i := 0; i+n <= nr; i++ {
					gram := norm[off[i]:off[i+n]]
					h := fnvString(fnvStart('c'), gram)
					g = f.add(g, h)
					if f.names != nil {
						f.record(h, 'c', gram)
					}
					if f.keys != nil {
						f.count(h)
					}
				}
			}
			flush()
		}
	}
	scale := float32(1)
	if ngroups > 1 {
		scale = float32(1 / math.Sqrt(float64(ngroups)))
	}
	// Merge the groups' entries bucket by bucket, summing in group order.
	slices.SortFunc(all, func(a, b hashed) int {
		if a.b != b.b {
			return int(a.b) - int(b.b)
		}
		return int(a.grp) - int(b.grp)
	})
	out := Sparse{Idx: make([]int32, 0, len(all)+NumLength), Val: make([]float32, 0, len(all)+NumLength)}
	for i := 0; i < len(all); {
		j := i
		var v float64
		for ; j < len(all) && all[j].b == all[i].b; j++ {
			v += all[j].v
		}
		if v != 0 {
			out.Idx = append(out.Idx, all[i].b)
			out.Val = append(out.Val, float32(float32(v)*scale))
		}
		i = j
	}
	if !c.NoLength {
		words := float64(wordsRef(text))
		sent := float64(countSentences(text))
		out.Idx = append(out.Idx, int32(c.Dim), int32(c.Dim+1))
		out.Val = append(out.Val, float32(num.Log(1+words)/math.Ln2/8), float32(num.Log(1+sent)/math.Ln2/4))
	}
	return out
}

func tokensRef(text string) []string {
	text = strings.ToLower(text)
	var out []string
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '\'' && start >= 0)
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, text[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) {
			out = append(out, string(r))
		}
	}
	if start >= 0 {
		out = append(out, text[start:])
	}
	return out
}

func normalizeGroupRef(g []hashed) []hashed {
	// Entries are ±1, whose sums are exact in any order.
	slices.SortFunc(g, func(a, b hashed) int { return int(a.b) - int(b.b) })
	out := make([]hashed, 0, len(g))
	for i := 0; i < len(g); {
		j := i
		var v float64
		for ; j < len(g) && g[j].b == g[i].b; j++ {
			v += g[j].v
		}
		if v != 0 {
			out = append(out, hashed{b: g[i].b, v: v})
		}
		i = j
	}
	var ss float64
	for _, e := range out {
		ss += float64(e.v * e.v)
	}
	if ss == 0 {
		return nil
	}
	inv := 1 / math.Sqrt(ss)
	for i := range out {
		out[i].v = float64(out[i].v * inv)
	}
	return out
}

func wordsRef(text string) int {
	n := 0
	for _, t := range tokensRef(text) {
		r, _ := utf8.DecodeRuneInString(t)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

func distinctWordsRef(toks []string, max int, fromEnd bool) []string {
	seen := make(map[string]bool)
	var out []string
	for k := range toks {
		i := k
		if fromEnd {
			i = len(toks) - 1 - k
		}
		t := toks[i]
		r, _ := utf8.DecodeRuneInString(t)
		if !(unicode.IsLetter(r) || unicode.IsDigit(r)) || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) == max {
			break
		}
	}
	return out
}

// featurizeTexts are texts for TestFeaturizeMatchesReference: the demo grammar's,
// HH-RLHF's real conversations, and edge cases (case, Unicode, invalid UTF-8,
// apostrophes, punctuation and spaces of every kind).
func featurizeTexts(tb testing.TB) (prompts, texts []string) {
	tb.Helper()
	for _, it := range demo.Prompts(3, 40) {
		for _, r := range it.Responses {
			prompts, texts = append(prompts, it.Prompt), append(texts, r.Text)
		}
	}
	if f, err := os.Open("../../testdata/hh-rlhf/harmless-base-test.jsonl.gz"); err == nil {
		zr, err := gzip.NewReader(f)
		if err == nil {
			sc := bufio.NewScanner(zr)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for n := 0; n < 200 && sc.Scan(); n++ {
				var rec struct{ Chosen, Rejected string }
				if json.Unmarshal(sc.Bytes(), &rec) == nil {
					prompts, texts = append(prompts, rec.Chosen), append(texts, rec.Rejected)
				}
			}
		}
		f.Close()
	}
	edge := []string{"", " ", "...", "Hello, WORLD!! İstanbul ÇA naïve café", "don't 'quote' it's", "a\tb\nc\u00a0d\u2003e",
		"\xff\xfe broken \xc3 utf8 \xe2\x82", "ΣΊΣΥΦΟΣ ΣΙΣΥΦΟΣ σίσυφος", "123 4,5 6.7 ½ ² ٣", "?!?", "x", "Why? Because. No!", "emoji 🙂 ok 👍🏽!"}
	for i, e := range edge {
		prompts, texts = append(prompts, edge[(i+3)%len(edge)]), append(texts, e)
	}
	return prompts, texts
}

// TestFeaturizeMatchesReference holds the featurizer to the one before issue 17 —
// the same indices and the same float32 bits — on every configuration the model
// families use.
func TestFeaturizeMatchesReference(t *testing.T) {
	prompts, texts := featurizeTexts(t)
	for _, c := range []FeatureConfig{{}, {WordN: 1, CharMax: -1}, {Cross: true}, {NoSentences: true, NoLength: true},
		{CharMin: 2, CharMax: 4, WordN: 3}, {Dim: 64, Cross: true}, {WordN: -1}} {
		f := NewFeaturizer(c)
		for i, text := range texts {
			got := f.FeaturizePair(prompts[i], text)
			want := f.featurizePairRef(prompts[i], text)
			if !slices.Equal(got.Idx, want.Idx) || len(got.Val) != len(want.Val) {
				t.Fatalf("%+v, text %q: indices %v, want %v", c, text, got.Idx, want.Idx)
			}
			for k := range got.Val {
				if math.Float32bits(got.Val[k]) != math.Float32bits(want.Val[k]) {
					t.Fatalf("%+v, text %q: value %d is %v, want %v", c, text, k, got.Val[k], want.Val[k])
				}
			}
		}
	}
	if len(texts) < 400 {
		t.Errorf("only %d texts to compare", len(texts))
	}
}
