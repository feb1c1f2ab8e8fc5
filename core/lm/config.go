package lm

import "fmt"

// Config is the shape of a model. Every size is a field; zero fields take the default
// given in the comment (see WithDefaults). The defaults make a model of about 100k
// parameters over the demo vocabulary, small enough that tens of PPO steps on a batch
// of prompts take about a minute in a browser tab on a laptop.
type Config struct {
	// Vocab is the vocabulary size V, special tokens included. It comes from the
	// tokenizer (NewVocab); there is no default and 0 is an error.
	Vocab int
	// Context is the maximum sequence length T (prompt, response and the special
	// tokens together). Default 80: the demo grammar's longest padded answer with its
	// prompt fits.
	Context int
	// Layers is the number of transformer blocks L. Default 2.
	Layers int
	// Heads is the number of attention heads NH; Channels must be a multiple of it.
	// Default 4 (head size 12 at the default width).
	Heads int
	// Channels is the embedding width C. Default 48.
	Channels int
	// Hidden is the MLP's inner width. Default 4·Channels, as in GPT-2.
	Hidden int
	// Untied gives the output layer its own (V, C) matrix. Default false: the output
	// layer reuses the token embedding wte (weight tying, as in GPT-2), which saves
	// V·C parameters.
	Untied bool
	// InitStd is the standard deviation of the normal initialization of weight
	// matrices and embeddings. Default 0.02 (GPT-2); the output projections of each
	// block are scaled by 1/√(2L) as in GPT-2.
	InitStd float64
}

// DefaultConfig returns the default configuration for a vocabulary of v tokens.
func DefaultConfig(v int) Config { return Config{Vocab: v}.WithDefaults() }

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Context == 0 {
		c.Context = 80
	}
	if c.Layers == 0 {
		c.Layers = 2
	}
	if c.Heads == 0 {
		c.Heads = 4
	}
	if c.Channels == 0 {
		c.Channels = 48
	}
	if c.Hidden == 0 {
		c.Hidden = 4 * c.Channels
	}
	if c.InitStd == 0 {
		c.InitStd = 0.02
	}
	return c
}

// Validate reports what is wrong with a configuration (after defaults).
func (c Config) Validate() error {
	switch {
	case c.Vocab < 2:
		return fmt.Errorf("lm config: vocabulary size %d is too small; build it with NewVocab", c.Vocab)
	case c.Context < 2 || c.Context > 4096:
		return fmt.Errorf("lm config: context %d out of range [2, 4096]", c.Context)
	case c.Layers < 1 || c.Layers > 64:
		return fmt.Errorf("lm config: layers %d out of range [1, 64]", c.Layers)
	case c.Heads < 1 || c.Channels < 1 || c.Channels%c.Heads != 0:
		return fmt.Errorf("lm config: channels %d must be a positive multiple of heads %d", c.Channels, c.Heads)
	case c.Channels > 4096 || c.Hidden < 1 || c.Hidden > 16384:
		return fmt.Errorf("lm config: channels %d or hidden %d too large", c.Channels, c.Hidden)
	case c.InitStd <= 0:
		return fmt.Errorf("lm config: init std %v must be positive", c.InitStd)
	}
	if n := c.NumParams(); n > 1<<28 {
		return fmt.Errorf("lm config: %d parameters is too many for this engine", n)
	}
	return nil
}

// tensorSpec is one named parameter tensor of the flat parameter vector.
type tensorSpec struct {
	name  string
	shape []int
	decay bool // AdamW weight decay applies (matrices and embeddings, as in nanoGPT)
}

// specs lists the parameter tensors in their order in the flat vector. The names and
// the per-kind stacking over layers follow llm.c's train_gpt2.c.
func (c Config) specs() []tensorSpec {
	V, T, L, C, H := c.Vocab, c.Context, c.Layers, c.Channels, c.Hidden
	s := []tensorSpec{
		{"wte", []int{V, C}, true},         // token embedding (and tied output layer)
		{"wpe", []int{T, C}, true},         // position embedding
		{"ln1w", []int{L, C}, false},       // layer norm before attention: scale
		{"ln1b", []int{L, C}, false},       // … and shift
		{"qkvw", []int{L, C, 3 * C}, true}, // query, key, value projection (input-major)
		{"qkvb", []int{L, 3 * C}, false},
		{"attprojw", []int{L, C, C}, true}, // attention output projection
		{"attprojb", []int{L, C}, false},
		{"ln2w", []int{L, C}, false}, // layer norm before the MLP
		{"ln2b", []int{L, C}, false},
		{"fcw", []int{L, C, H}, true}, // MLP up projection
		{"fcb", []int{L, H}, false},
		{"fcprojw", []int{L, H, C}, true}, // MLP down projection
		{"fcprojb", []int{L, C}, false},
		{"lnfw", []int{C}, false}, // final layer norm
		{"lnfb", []int{C}, false},
	}
	if c.Untied {
		s = append(s, tensorSpec{"lmw", []int{V, C}, true}) // output layer
	}
	// The scalar head reads the final hidden state: the value head of PPO, or the
	// reward head of a reward model.
	s = append(s, tensorSpec{"headw", []int{C}, false}, tensorSpec{"headb", []int{1}, false})
	return s
}

// NumParams returns the number of parameters (all tensors, the scalar head included).
func (c Config) NumParams() int {
	n := 0
	for _, s := range c.specs() {
		k := 1
		for _, d := range s.shape {
			k *= d
		}
		n += k
	}
	return n
}
