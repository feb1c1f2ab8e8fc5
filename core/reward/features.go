package reward

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"prefer/core/num"
)

// FeatureConfig configures the hashed text features of the linear and MLP models.
// The zero value gives the defaults on each field.
type FeatureConfig struct {
	// Dim is the number of hash buckets D (default 4096). Collisions are unbiased
	// thanks to a sign hash (Weinberger et al. 2009).
	Dim int
	// WordN is the longest word n-gram (default 2: unigrams and bigrams; negative:
	// no word features).
	WordN int
	// CharMin and CharMax bound the character n-grams (default 3 and 3; CharMax
	// negative: no character features).
	CharMin, CharMax int
	// NoSentences drops the sentence features: by default each sentence (its
	// lower-cased tokens, split at . ! ?) is hashed as one feature, the identity of a
	// whole statement, which n-grams only approximate ("2 meters is 300
	// centimeters" is wrong although each of its bigrams appears in right answers).
	NoSentences bool
	// Cross adds prompt–response interaction features: one per pair of a word of the
	// prompt (its last CrossPrompt distinct words, nearest the response) and a word of
	// the response (its first CrossResponse distinct words). They let a linear model
	// check an answer against its question, which response n-grams cannot.
	Cross bool
	// NoLength drops the two length features (log₂(1+words)/8, log₂(1+sentences)/4).
	NoLength bool
}

// Caps of the cross features.
const (
	CrossPrompt   = 24
	CrossResponse = 48
)

// NumLength is the number of dense length features appended after the D buckets.
const NumLength = 2

func (c FeatureConfig) withDefaults() FeatureConfig {
	if c.Dim <= 0 {
		c.Dim = 4096
	}
	if c.WordN == 0 {
		c.WordN = 2
	}
	if c.CharMin <= 0 {
		c.CharMin = 3
	}
	if c.CharMax == 0 {
		c.CharMax = 3
	}
	if c.CharMax > 0 && c.CharMax < c.CharMin {
		c.CharMax = c.CharMin
	}
	return c
}

// Width returns the length of a feature vector: D buckets plus the length features.
func (c FeatureConfig) Width() int {
	c = c.withDefaults()
	if c.NoLength {
		return c.Dim
	}
	return c.Dim + NumLength
}

func (c FeatureConfig) check() error {
	c = c.withDefaults()
	switch {
	case c.Dim > 1<<24:
		return fmt.Errorf("feature dimension %d is too large (at most %d)", c.Dim, 1<<24)
	case c.WordN > 4:
		return fmt.Errorf("word n-grams up to %d: at most 4 are supported", c.WordN)
	case c.CharMax > 8:
		return fmt.Errorf("character n-grams up to %d: at most 8 are supported", c.CharMax)
	case c.WordN < 0 && c.CharMax < 0:
		return fmt.Errorf("no word and no character features: enable one")
	}
	return nil
}

// Sparse is a sparse feature vector: Idx strictly increasing, Val the values.
type Sparse struct {
	Idx []int32
	Val []float32
}

// Featurizer turns texts into hashed feature vectors. It is safe for concurrent use
// (except the one made inside Explain).
type Featurizer struct {
	cfg FeatureConfig
	// names, when non-nil, records how often each n-gram string fell in each bucket
	// (for Explain).
	names map[int32]map[string]int
	// keys, when non-nil, counts the word, sentence and character n-grams by hash
	// (not the cross features, as Explain), noting the first row seen: what the top
	// features of a linear model need, gathered while training's features are made.
	keys map[uint64]keyCount
	row  int32 // the first training row of the text being featurized, for keys
	mult int32 // how many training rows have that text (0: one)
	// arena, when non-nil, holds the rows' indices and values (dataset.featurize):
	// one allocation per block of rows instead of two per row.
	arena *sparseArena
}

// sparseArena hands out the index and value slices of feature rows from large
// blocks: a row costs its entries (8 bytes each), not two heap objects rounded up to
// their size classes. A block's unused tail is at most one row.
type sparseArena struct {
	idx []int32
	val []float32
}

// arenaBlock is the entries of one block (2 MiB of indices and values).
const arenaBlock = 1 << 18

// take returns empty index and value slices with room for n entries each; their
// capacity is exactly n, so appending past it never reaches another row.
func (a *sparseArena) take(n int) Sparse {
	if a == nil {
		return Sparse{Idx: make([]int32, 0, n), Val: make([]float32, 0, n)}
	}
	if cap(a.idx)-len(a.idx) < n {
		m := max(n, arenaBlock)
		a.idx, a.val = make([]int32, 0, m), make([]float32, 0, m)
	}
	lo := len(a.idx)
	a.idx, a.val = a.idx[:lo+n], a.val[:lo+n]
	return Sparse{Idx: a.idx[lo : lo : lo+n], Val: a.val[lo : lo : lo+n]}
}

// keyCount is how often an n-gram occurred and the first row it occurred in.
type keyCount struct{ n, row int32 }

// count notes one occurrence of the key with hash h in each of the f.mult training
// rows featurized (keys), and the first row it occurred in.
func (f *Featurizer) count(h uint64) {
	k, ok := f.keys[h]
	if !ok || f.row < k.row {
		k.row = f.row
	}
	k.n += max(f.mult, 1)
	f.keys[h] = k
}

// NewFeaturizer returns a featurizer for cfg (zero fields take their defaults).
func NewFeaturizer(cfg FeatureConfig) *Featurizer {
	return &Featurizer{cfg: cfg.withDefaults()}
}

// Config returns the featurizer's configuration with defaults filled in.
func (f *Featurizer) Config() FeatureConfig { return f.cfg }

// fnv1a is the 64-bit FNV-1a hash of a prefix byte and s.
func fnv1a(prefix byte, s string) uint64 {
	return fnvString(fnvStart(prefix), s)
}

// tokens splits lower-cased text into words (runs of letters and digits, with inner
// apostrophes) and single punctuation marks; spaces separate.
func tokens(text string) []string { return tokensInto(nil, strings.ToLower(text)) }

// tokensInto appends the tokens of already lower-cased text to dst: substrings of
// text, no copies (an invalid byte is the replacement character, as string(r)).
func tokensInto(dst []string, text string) []string {
	start := -1
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '\'' && start >= 0)
		if word {
			if start < 0 {
				start = i
			}
			i += size
			continue
		}
		if start >= 0 {
			dst = append(dst, text[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) {
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, string(utf8.RuneError))
			} else {
				dst = append(dst, text[i:i+size])
			}
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, text[start:])
	}
	return dst
}

// distinctWords returns up to max distinct word tokens (letters or digits first),
// from the end of toks when fromEnd, in a fixed order.
func distinctWords(toks []string, max int, fromEnd bool) []string {
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

// countSentences counts runs of text ended by . ! ? or the end of text.
func countSentences(text string) int {
	n := 0
	inSentence := false
	for _, r := range text {
		switch {
		case r == '.' || r == '!' || r == '?':
			if inSentence {
				n++
			}
			inSentence = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			inSentence = true
		}
	}
	if inSentence {
		n++
	}
	return n
}

// Words returns the number of words of text, as the length features count them.
func Words(text string) int {
	sc := scratchPool.Get().(*featScratch)
	defer scratchPool.Put(sc)
	sc.toks = tokensInto(sc.toks[:0], strings.ToLower(text))
	n := 0
	for _, t := range sc.toks {
		r, _ := utf8.DecodeRuneInString(t)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// Featurize returns the feature vector of text:
//
//	φ(y) = [ Σ_groups u_g/‖u_g‖·s,  log₂(1+words)/8,  log₂(1+sentences)/4 ]
//
// where for each group g (word n-grams, sentences, prompt×response word pairs,
// character n-grams of the lower-cased text with collapsed spaces) u_g[h(k)] +=
// sign(k) for every key k of the group, h is 64-bit FNV-1a modulo D, sign is the
// hash's top bit, and s = 1/√(number of groups present), so the hashed part has unit
// norm. Idx is sorted.
func (f *Featurizer) Featurize(text string) Sparse { return f.FeaturizePair("", text) }

// FeaturizePair is Featurize with the prompt, for the cross features (Cross); without
// them the prompt is ignored.
func (f *Featurizer) FeaturizePair(prompt, text string) Sparse {
	c := f.cfg
	sc := scratchPool.Get().(*featScratch)
	defer scratchPool.Put(sc)
	lower := strings.ToLower(text)
	toks := tokensInto(sc.toks[:0], lower)
	sc.toks = toks
	all, g := sc.all[:0], sc.g[:0]
	ngroups := 0
	flush := func() {
		if len(g) == 0 {
			return
		}
		sc.norm, sc.keys = normalizeGroupInto(sc.norm[:0], g, sc.keys)
		for _, e := range sc.norm {
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
		ptoks := tokensInto(sc.ptoks[:0], strings.ToLower(prompt))
		sc.ptoks = ptoks
		pw := distinctWords(ptoks, CrossPrompt, true)
		rw := distinctWords(toks, CrossResponse, false)
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
		// " " + the lower-cased words joined by single spaces + " ", and where each
		// of its characters starts.
		norm := append(sc.text[:0], ' ')
		for w := range strings.FieldsSeq(lower) {
			norm = append(norm, w...)
			norm = append(norm, ' ')
		}
		if len(norm) == 1 {
			norm = append(norm, ' ')
		}
		sc.text = norm
		off := sc.off[:0]
		for i := range string(norm) {
			off = append(off, i)
		}
		off = append(off, len(norm))
		sc.off = off
		nr := len(off) - 1
		if nr > 2 {
			for n := c.CharMin; n <= c.CharMax; n++ {
				for i := 0; i+n <= nr; i++ {
					gram := norm[off[i]:off[i+n]]
					h := fnvBytes(fnvStart('c'), gram)
					g = f.add(g, h)
					if f.names != nil {
						f.record(h, 'c', string(gram))
					}
					if f.keys != nil {
						f.count(h)
					}
				}
			}
			flush()
		}
	}
	sc.all, sc.g = all, g
	scale := float32(1)
	if ngroups > 1 {
		scale = float32(1 / math.Sqrt(float64(ngroups)))
	}
	// Merge the groups' entries bucket by bucket, summing in group order: sort
	// (bucket, group, index) packed in one integer — a bucket appears once per group.
	keys := sc.keys[:0]
	for i, e := range all {
		keys = append(keys, uint64(uint32(e.b))<<40|uint64(uint32(e.grp))<<32|uint64(i))
	}
	slices.Sort(keys)
	sc.keys = keys
	n := 0
	for i := 0; i < len(keys); {
		b := keys[i] >> 40
		j := i
		for ; j < len(keys) && keys[j]>>40 == b; j++ {
		}
		n++
		i = j
	}
	out := f.arena.take(n + NumLength)
	for i := 0; i < len(keys); {
		b := keys[i] >> 40
		j := i
		var v float64
		for ; j < len(keys) && keys[j]>>40 == b; j++ {
			v += all[uint32(keys[j])].v
		}
		if v != 0 {
			out.Idx = append(out.Idx, int32(b))
			out.Val = append(out.Val, float32(float32(v)*scale))
		}
		i = j
	}
	if !c.NoLength {
		words := 0
		for _, t := range toks {
			if r, _ := utf8.DecodeRuneInString(t); unicode.IsLetter(r) || unicode.IsDigit(r) {
				words++
			}
		}
		sent := float64(countSentences(text))
		out.Idx = append(out.Idx, int32(c.Dim), int32(c.Dim+1))
		out.Val = append(out.Val, float32(num.Log(1+float64(words))/math.Ln2/8), float32(num.Log(1+sent)/math.Ln2/4))
	}
	return out
}

// hashed is one signed count in a bucket.
type hashed struct {
	b   int32
	grp int32 // group order, so merged sums are taken in a fixed order
	v   float64
}

// normalizeGroupInto merges a group's entries by bucket and scales them to unit
// norm, appending to out; keys is scratch.
func normalizeGroupInto(out, g []hashed, keys []uint64) ([]hashed, []uint64) {
	// Entries are ±1, whose sums are exact in any order: sort bucket and sign packed
	// in one integer (much faster than sorting the structs with a comparator).
	keys = keys[:0]
	for _, e := range g {
		k := uint64(uint32(e.b)) << 1
		if e.v < 0 {
			k |= 1
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i := 0; i < len(keys); {
		b := keys[i] >> 1
		j := i
		var v float64
		for ; j < len(keys) && keys[j]>>1 == b; j++ {
			if keys[j]&1 == 1 {
				v--
			} else {
				v++
			}
		}
		if v != 0 {
			out = append(out, hashed{b: int32(b), v: v})
		}
		i = j
	}
	var ss float64
	for _, e := range out {
		ss += float64(e.v * e.v)
	}
	if ss == 0 {
		return out[:0], keys
	}
	inv := 1 / math.Sqrt(ss)
	for i := range out {
		out[i].v = float64(out[i].v * inv)
	}
	return out, keys
}

// featScratch holds FeaturizePair's working buffers, reused through scratchPool.
type featScratch struct {
	toks, ptoks  []string
	all, g, norm []hashed
	keys         []uint64
	text         []byte
	off          []int
}

var scratchPool = sync.Pool{New: func() any { return new(featScratch) }}

const fnvPrime = 1099511628211

func fnvStart(kind byte) uint64 { return fnvByte(14695981039346656037, kind) }

func fnvByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

func fnvBytes(h uint64, s []byte) uint64 {
	for _, c := range s {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// add appends the signed count of the key with hash h.
func (f *Featurizer) add(g []hashed, h uint64) []hashed {
	b := int32(h % uint64(f.cfg.Dim))
	s := 1.0
	if h>>63 == 1 {
		s = -1
	}
	return append(g, hashed{b: b, v: s})
}

// record notes that key (of the given kind) fell in h's bucket (Explain).
func (f *Featurizer) record(h uint64, kind byte, key string) {
	b := int32(h % uint64(f.cfg.Dim))
	m := f.names[b]
	if m == nil {
		m = make(map[string]int)
		f.names[b] = m
	}
	m[string(kind)+":"+key]++
}

// Bucket returns the bucket index and sign of a word n-gram ("w:") or character
// n-gram ("c:") key, as Featurize hashes it.
func (f *Featurizer) Bucket(kind byte, gram string) (int, float64) {
	h := fnv1a(kind, gram)
	if h>>63 == 1 {
		return int(h % uint64(f.cfg.Dim)), -1
	}
	return int(h % uint64(f.cfg.Dim)), 1
}

// DescribeFeature turns a feature key of Dictionary.Names into words a reader
// recognizes: "w:go to" → `the words “go to”`, "c:. 7" → `the characters “. 7”`
// (a character 3-gram: here the end of one sentence and a 7), "s:a spider has eight
// legs" → `the sentence “a spider has eight legs”`, "x:legs|eight" → `“eight” in
// answer to “legs”`, "len:words" → "the number of words". Unknown keys come back
// as they are.
func DescribeFeature(key string) string {
	kind, gram, ok := strings.Cut(key, ":")
	if !ok {
		return key
	}
	q := func(s string) string { return "“" + s + "”" }
	switch kind {
	case "w":
		if strings.Contains(gram, " ") {
			return "the words " + q(gram)
		}
		return "the word " + q(gram)
	case "c":
		return "the characters " + q(gram)
	case "s":
		return "the sentence " + q(gram)
	case "x":
		if p, r, ok := strings.Cut(gram, "|"); ok {
			return q(r) + " in answer to " + q(p)
		}
	case "len":
		switch gram {
		case "words":
			return "the number of words"
		case "sentences":
			return "the number of sentences"
		}
	}
	return key
}

// Dictionary maps hash buckets back to the n-grams seen in a set of texts.
type Dictionary struct {
	names map[int32]map[string]int
	dim   int
}

// Explain featurizes texts once more, recording which n-grams fall in which bucket,
// and returns the resulting dictionary.
func (f *Featurizer) Explain(texts []string) *Dictionary {
	g := &Featurizer{cfg: f.cfg, names: make(map[int32]map[string]int)}
	for _, t := range texts {
		g.Featurize(t)
	}
	return &Dictionary{names: g.names, dim: f.cfg.Dim}
}

// Names returns the n-grams seen in bucket i, most frequent first (ties in byte
// order), at most max of them. Keys are "w:" (word n-gram) or "c:" (character
// n-gram) followed by the n-gram; bucket D is "len:words", D+1 "len:sentences".
func (d *Dictionary) Names(i, max int) []string {
	switch i {
	case d.dim:
		return []string{"len:words"}
	case d.dim + 1:
		return []string{"len:sentences"}
	}
	m := d.names[int32(i)]
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(a, b int) bool {
		if m[out[a]] != m[out[b]] {
			return m[out[a]] > m[out[b]]
		}
		return out[a] < out[b]
	})
	if len(out) > max {
		out = out[:max]
	}
	return out
}

func isTerminal(t string) bool { return t == "." || t == "!" || t == "?" }
