package lm

import (
	"fmt"
	"sort"

	"prefer/core/rng"
)

// SampleConfig sets how responses are drawn. The zero value samples from the model's
// own distribution (temperature 1, no truncation), which is what policy-gradient
// methods need: their log-probabilities must be those of the distribution sampled.
type SampleConfig struct {
	// Temperature divides the logits before the softmax: below 1 sharpens, above 1
	// flattens. Default 1; values ≤ 0 mean 1.
	Temperature float64
	// TopK keeps only the K most likely tokens at each step (ties broken towards the
	// lower token id). Default 0: all tokens.
	TopK int
	// MaxTokens bounds the response length in tokens, EOS included. Default 0: up to
	// the context. A response that reaches the bound ends without EOS (truncated).
	MaxTokens int
	// TopP keeps, at each step, the most likely tokens whose probabilities (after the
	// temperature and top-k) add up to at least TopP, and renormalizes: nucleus
	// sampling (Holtzman et al. 2020). Default 0 (or ≥ 1): no truncation.
	TopP float64
	// LogProbs makes GenerateEach report each chosen token's log-probability and the
	// whole row of the step (Token.LogP, Token.Row). Default false: not computed.
	LogProbs bool
}

// Token is one generated token as GenerateEach reports it.
type Token struct {
	Seq int   // the prompt it continues: an index into GenerateEach's prompts
	ID  int32 // the token chosen
	// LogP is the model's own log-probability of ID — temperature 1, before top-k
	// and top-p — which is what a KL penalty or a likelihood needs; Row holds that
	// of every token of the vocabulary (V values, valid during the call only). Both
	// are set only with SampleConfig.LogProbs.
	LogP float32
	Row  []float32
}

// Generate samples one response for each prompt (the conditioning ids BOS … SEP of
// Vocab.PromptIDs), all prompts decoded together with a key/value cache (see
// decoder: the memory is the cache and one step's rows), and returns
// the response tokens, ending with EOS unless truncated. All randomness comes from r,
// one draw per generated token, sequences in order at each step, so the result is a
// pure function of the model, the prompts, c and r's state.
func (m *Model) Generate(prompts [][]int32, c SampleConfig, r *rng.RNG) [][]int32 {
	return m.GenerateEach(prompts, c, r, nil)
}

// GenerateEach is Generate calling each (when not nil) with every token as it is
// chosen, sequences in order at each step. When each returns true the sequence
// ends there (the token is kept): a stop string was met, or the caller is gone.
// The random draws are those of Generate, so the same prompts, c and r's state
// give the same tokens whatever each does, until a sequence is ended early.
func (m *Model) GenerateEach(prompts [][]int32, c SampleConfig, r *rng.RNG, each func(Token) bool) [][]int32 {
	B := len(prompts)
	if B == 0 {
		return nil
	}
	T := m.Config.Context
	V := m.Config.Vocab
	temp := c.Temperature
	if temp <= 0 {
		temp = 1
	}
	d := m.decoder(B)
	for i := range d.tokens {
		d.tokens[i] = EOSID
	}
	pos := make([]int, B) // next position to fill
	limit := make([]int, B)
	out := make([][]int32, B)
	segs := make([]segment, 0, B)
	for b, p := range prompts {
		if len(p) < 1 || len(p) >= T {
			panic(fmt.Sprintf("lm: prompt of %d tokens for context %d", len(p), T))
		}
		for _, id := range p {
			if id < 0 || int(id) >= V {
				panic(fmt.Sprintf("lm: prompt token %d outside the vocabulary of %d", id, V))
			}
		}
		copy(d.tokens[b*T:], p)
		pos[b] = len(p)
		limit[b] = T
		if c.MaxTokens > 0 && len(p)+c.MaxTokens < T {
			limit[b] = len(p) + c.MaxTokens
		}
		segs = append(segs, segment{b, 0, len(p)})
	}
	weights := make([]float64, V)
	logp := make([]float32, V)
	var raw []float32 // the model's log-probabilities (temperature 1), for LogProbs
	if c.LogProbs {
		raw = make([]float32, V)
	}
	order := make([]int, V)
	nucleus := c.TopP > 0 && c.TopP < 1
	for len(segs) > 0 {
		d.step(m, segs)
		next := segs[:0]
		for i, s := range segs {
			b := s.b
			row := i * V
			var id int32
			if temp == 1 && c.TopK <= 0 && !nucleus {
				probs := d.probs[row : row+V]
				for i, p := range probs {
					weights[i] = float64(p)
				}
			} else {
				logSoftmaxRow(logp, d.logits[row:row+V], temp)
				expSlice(logp)
				for i, p := range logp {
					weights[i] = float64(p)
				}
				if c.TopK > 0 && c.TopK < V {
					keepTopK(weights, order, c.TopK)
				}
				if nucleus {
					keepTopP(weights, order, c.TopP)
				}
			}
			id = int32(r.Categorical(weights))
			d.tokens[b*T+pos[b]] = id
			out[b] = append(out[b], id)
			pos[b]++
			stop := false
			if each != nil {
				t := Token{Seq: b, ID: id}
				if raw != nil {
					logSoftmaxRow(raw, d.logits[row:row+V], 1)
					t.LogP, t.Row = raw[id], raw
				}
				stop = each(t)
			}
			if !stop && id != EOSID && pos[b] < limit[b] {
				next = append(next, segment{b, pos[b] - 1, pos[b]})
			}
		}
		segs = next
	}
	return out
}

// keepTopK zeroes every weight outside the k largest (ties towards lower index);
// order is scratch of the same length.
func keepTopK(w []float64, order []int, k int) {
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return w[order[a]] > w[order[b]] })
	for _, i := range order[k:] {
		w[i] = 0
	}
}

// keepTopP zeroes every weight outside the nucleus: the fewest largest weights
// (ties towards lower index) whose sum reaches p of the total. order is scratch of
// the same length. The sums are float64 in a fixed order, so the nucleus is the
// same natively and in wasm.
func keepTopP(w []float64, order []int, p float64) {
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return w[order[a]] > w[order[b]] })
	var total float64
	for _, i := range order {
		total += w[i]
	}
	var cum float64
	for k, i := range order {
		cum += w[i]
		if cum >= float64(p*total) {
			for _, j := range order[k+1:] {
				w[j] = 0
			}
			return
		}
	}
}

// SeqLogProbs returns, for each sequence, the log-probabilities of its response
// tokens under the model, (Σ_b len(Response_b)) values flat in order, computed by
// the inference-only forward pass (no activations kept: memory for inferRows rows
// whatever the number of sequences). Tokens beyond the context get −Inf.
func (m *Model) SeqLogProbs(seqs []Seq) []float64 {
	out := make([]float64, responseTokens(seqs))
	var bt batch
	m.inferTokens(&bt, seqs, out, nil)
	return out
}
