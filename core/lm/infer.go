package lm

import "math"

// inferRows bounds the packed rows of one inference-only pass: scoring any number
// of sequences holds one layer's activations for this many rows (about 2 MB for the
// default model) and the logits of outChunk rows.
const inferRows = 512

// seqRows is the number of rows makeBatch computes for s, at most context.
func seqRows(s Seq, context int) int {
	return max(min(len(s.Prompt)+len(s.Response)-1, context), 1)
}

// inferSeqs runs the inference-only forward pass (infer) on seqs in groups of
// consecutive sequences of at most inferRows rows (a longer sequence alone), each
// group laid out by lay (makeBatch, or scoreBatch for scores), with the output
// layer when logits. After each group it calls emit with the index of the group's
// first sequence and the group's batch, while m.LogProbs and m.Values hold the
// group's outputs. A sequence's results do not depend on its group.
func (m *Model) inferSeqs(seqs []Seq, bt *batch, lay func(*batch, []Seq, int), logits bool, emit func(lo int, bt *batch)) {
	T := m.Config.Context
	for lo := 0; lo < len(seqs); {
		hi, rows := lo, 0
		for hi < len(seqs) && (hi == lo || rows+seqRows(seqs[hi], T) <= inferRows) {
			rows += seqRows(seqs[hi], T)
			hi++
		}
		lay(bt, seqs[lo:hi], T)
		m.infer(bt.tokens, bt.targets, bt.B, bt.T, bt.lens, logits)
		emit(lo, bt)
		lo = hi
	}
}

// inferTokens writes, for every response token of seqs in order, its
// log-probability under m to logp (−Inf for a token beyond the context) and, when
// values is not nil, the head's value at the position predicting it. Both hold
// Σ len(Response) values.
func (m *Model) inferTokens(bt *batch, seqs []Seq, logp, values []float64) {
	k := 0
	m.inferSeqs(seqs, bt, makeBatch, true, func(lo int, bt *batch) {
		lp, v := m.LogProbs(), m.Values()
		for i, s := range seqs[lo : lo+bt.B] {
			base := i*bt.T + bt.start[i]
			for j := range s.Response {
				if j < bt.n[i] {
					logp[k] = float64(lp[base+j])
					if values != nil {
						values[k] = float64(v[base+j])
					}
				} else {
					logp[k] = math.Inf(-1)
					if values != nil {
						values[k] = math.NaN()
					}
				}
				k++
			}
		}
	})
}

// responseTokens returns Σ len(Response) over seqs.
func responseTokens(seqs []Seq) int {
	n := 0
	for _, s := range seqs {
		n += len(s.Response)
	}
	return n
}
