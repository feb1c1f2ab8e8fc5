package lm

import (
	"fmt"
	"math"
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
}

// Generate samples one response for each prompt (the conditioning ids BOS … SEP of
// Vocab.PromptIDs), all prompts decoded together with a key/value cache (see
// decoder: the memory is the cache and one step's rows), and returns
// the response tokens, ending with EOS unless truncated. All randomness comes from r,
// one draw per generated token, sequences in order at each step, so the result is a
// pure function of the model, the prompts, c and r's state.
func (m *Model) Generate(prompts [][]int32, c SampleConfig, r *rng.RNG) [][]int32 {
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
	order := make([]int, V)
	for len(segs) > 0 {
		d.step(m, segs)
		next := segs[:0]
		for i, s := range segs {
			b := s.b
			row := i * V
			var id int32
			if temp == 1 && c.TopK <= 0 {
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
			}
			id = int32(r.Categorical(weights))
			d.tokens[b*T+pos[b]] = id
			out[b] = append(out[b], id)
			pos[b]++
			if id != EOSID && pos[b] < limit[b] {
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

// SeqLogProbs returns, for each sequence, the log-probabilities of its response
// tokens under the model, (Σ_b len(Response_b)) values flat in order, computed in
// batches of at most size sequences (0: all at once). Tokens beyond the context
// get −Inf.
func (m *Model) SeqLogProbs(seqs []Seq, size int) []float64 {
	var out []float64
	var bt batch
	if size <= 0 {
		size = len(seqs)
	}
	for lo := 0; lo < len(seqs); lo += size {
		hi := min(lo+size, len(seqs))
		makeBatch(&bt, seqs[lo:hi], m.Config.Context)
		m.forwardScored(bt.tokens, bt.targets, bt.B, bt.T, bt.lens, true)
		lp := m.LogProbs()
		for i, s := range seqs[lo:hi] {
			for j := range s.Response {
				if j < bt.n[i] {
					out = append(out, float64(lp[i*bt.T+bt.start[i]+j]))
				} else {
					out = append(out, math.Inf(-1))
				}
			}
		}
	}
	return out
}
