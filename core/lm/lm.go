package lm

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"prefer/core/snapshot"
)

// Family is the snapshot model family of a language model.
const Family = "lm"

// LM is a language model with its vocabulary: what a snapshot stores and what the
// policy, the reward head and sampling work with.
type LM struct {
	Model *Model
	Vocab *Vocab
}

// Clone returns an LM with a deep copy of the parameters and the same vocabulary.
func (l *LM) Clone() *LM { return &LM{Model: l.Model.Clone(), Vocab: l.Vocab} }

// Hash returns a short hex digest of the configuration and the parameters' IEEE
// bits: equal models give equal hashes on every platform.
func (l *LM) Hash() string { return ParamsHash(l.Model) }

// ParamsHash returns the first 16 hex digits of the SHA-256 of the model's shape and
// parameters (little-endian float32 bits).
func ParamsHash(m *Model) string {
	h := sha256.New()
	c := m.Config
	for _, v := range []int{c.Vocab, c.Context, c.Layers, c.Heads, c.Channels, c.Hidden} {
		binary.Write(h, binary.LittleEndian, int64(v))
	}
	var b [4]byte
	for _, p := range m.Params {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(p))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// ToSnapshot returns the model as a snapshot model of family "lm": every parameter
// tensor under its llm.c-style name (wte, wpe, ln1w, …, headw, headb), the
// configuration with the vocabulary as a list of words, and the given metrics.
func (l *LM) ToSnapshot(name string, metrics map[string]float64) snapshot.Model {
	c := l.Model.Config
	words := make([]any, len(l.Vocab.Words))
	for i, w := range l.Vocab.Words {
		words[i] = w
	}
	sm := snapshot.Model{
		Name:   name,
		Family: Family,
		Config: map[string]any{
			"vocab_size": int64(c.Vocab),
			"context":    int64(c.Context),
			"layers":     int64(c.Layers),
			"heads":      int64(c.Heads),
			"channels":   int64(c.Channels),
			"hidden":     int64(c.Hidden),
			"untied":     c.Untied,
			"init_std":   c.InitStd,
			"vocab":      words,
			"params":     int64(c.NumParams()),
		},
		Tensors: map[string]snapshot.Tensor{},
		Metrics: metrics,
	}
	t := views(c, l.Model.Params)
	for _, s := range c.specs() {
		sm.Tensors[s.name] = snapshot.Tensor{Shape: append([]int(nil), s.shape...), Data: append([]float32(nil), tensorOf(&t, s.name)...)}
	}
	return sm
}

// FromSnapshot rebuilds a language model from a snapshot model of family "lm". It
// checks the configuration, the vocabulary and every tensor's shape, and says what
// is wrong otherwise.
func FromSnapshot(sm *snapshot.Model) (*LM, error) {
	if sm.Family != Family {
		return nil, fmt.Errorf("model %q is of family %q, not a language model (%q)", sm.Name, sm.Family, Family)
	}
	var c Config
	ints := []struct {
		key string
		dst *int
	}{
		{"vocab_size", &c.Vocab}, {"context", &c.Context}, {"layers", &c.Layers},
		{"heads", &c.Heads}, {"channels", &c.Channels}, {"hidden", &c.Hidden},
	}
	for _, f := range ints {
		v, ok := configInt(sm.Config[f.key])
		if !ok {
			return nil, fmt.Errorf("language model %q: config %q missing or not an integer", sm.Name, f.key)
		}
		*f.dst = v
	}
	if u, ok := sm.Config["untied"].(bool); ok {
		c.Untied = u
	}
	if s, ok := sm.Config["init_std"].(float64); ok {
		c.InitStd = s
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("language model %q: %w", sm.Name, err)
	}
	list, ok := sm.Config["vocab"].([]any)
	if !ok {
		return nil, fmt.Errorf("language model %q: config has no vocabulary list", sm.Name)
	}
	words := make([]string, len(list))
	for i, w := range list {
		s, ok := w.(string)
		if !ok {
			return nil, fmt.Errorf("language model %q: vocabulary entry %d is not a string", sm.Name, i)
		}
		words[i] = s
	}
	if len(words) != c.Vocab {
		return nil, fmt.Errorf("language model %q: vocabulary has %d words, config says %d", sm.Name, len(words), c.Vocab)
	}
	v, err := vocabFromWords(words)
	if err != nil {
		return nil, fmt.Errorf("language model %q: %w", sm.Name, err)
	}
	// Check every tensor before allocating: their data bound the model's size.
	for _, s := range c.specs() {
		t, ok := sm.Tensors[s.name]
		if !ok {
			return nil, fmt.Errorf("language model %q: tensor %q missing", sm.Name, s.name)
		}
		if !slices.Equal(t.Shape, s.shape) || len(t.Data) != t.Size() {
			return nil, fmt.Errorf("language model %q: tensor %q has shape %v, want %v", sm.Name, s.name, t.Shape, s.shape)
		}
	}
	m := newModel(c)
	for _, s := range c.specs() {
		copy(tensorOf(&m.P, s.name), sm.Tensors[s.name].Data)
	}
	for _, p := range m.Params {
		if math.IsNaN(float64(p)) || math.IsInf(float64(p), 0) {
			return nil, fmt.Errorf("language model %q: parameters hold non-finite values", sm.Name)
		}
	}
	return &LM{Model: m, Vocab: v}, nil
}

func configInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		return int(x), x >= math.MinInt32 && x <= math.MaxInt32
	case uint64:
		return int(x), x <= math.MaxInt32
	case int:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<31 {
			return int(x), true
		}
	}
	return 0, false
}

// tensorOf returns the named tensor of t ("lmw" only when untied).
func tensorOf(t *Tensors, name string) []float32 {
	switch name {
	case "wte":
		return t.Wte
	case "wpe":
		return t.Wpe
	case "ln1w":
		return t.Ln1w
	case "ln1b":
		return t.Ln1b
	case "qkvw":
		return t.Qkvw
	case "qkvb":
		return t.Qkvb
	case "attprojw":
		return t.Attprojw
	case "attprojb":
		return t.Attprojb
	case "ln2w":
		return t.Ln2w
	case "ln2b":
		return t.Ln2b
	case "fcw":
		return t.Fcw
	case "fcb":
		return t.Fcb
	case "fcprojw":
		return t.Fcprojw
	case "fcprojb":
		return t.Fcprojb
	case "lnfw":
		return t.Lnfw
	case "lnfb":
		return t.Lnfb
	case "lmw":
		return t.Lmw
	case "headw":
		return t.Headw
	case "headb":
		return t.Headb
	}
	panic("lm: unknown tensor " + name)
}
