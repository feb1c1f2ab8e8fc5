package lm

// Seq is one training or scoring sequence: the conditioning prompt tokens (BOS …
// SEP, see Vocab.PromptIDs) and the response tokens that follow (ending with EOS
// when the response is complete). Only response tokens are scored.
type Seq struct {
	Prompt   []int32
	Response []int32
}

// batch is a padded (B, T) batch of sequences and where each response token's
// prediction sits in it.
type batch struct {
	B, T    int
	tokens  []int32 // (B, T) inputs
	targets []int32 // (B, T) response tokens at the positions that predict them, −1 elsewhere
	start   []int   // (B) position predicting each sequence's first response token
	n       []int   // (B) response tokens scored (after truncation to the context)
	lens    []int   // (B) positions holding input (the rest is padding): start + n
}

// makeBatch lays out seqs as inputs prompt ‖ response[:−1] with targets shifted by
// one, padding with EOS (targets −1) to the longest sequence. A sequence that does
// not fit the context keeps its prompt and loses its response's tail.
func makeBatch(dst *batch, seqs []Seq, context int) {
	B := len(seqs)
	T := 1
	for _, s := range seqs {
		if n := len(s.Prompt) + len(s.Response) - 1; n > T {
			T = n
		}
	}
	if T > context {
		T = context
	}
	dst.B, dst.T = B, T
	dst.tokens = growInt32(dst.tokens, B*T)
	dst.targets = growInt32(dst.targets, B*T)
	dst.start = growInts(dst.start, B)
	dst.n = growInts(dst.n, B)
	dst.lens = growInts(dst.lens, B)
	for b, s := range seqs {
		row := dst.tokens[b*T : (b+1)*T]
		tg := dst.targets[b*T : (b+1)*T]
		P := len(s.Prompt)
		if P > T {
			panic("lm: prompt longer than the context")
		}
		for t := 0; t < T; t++ {
			switch {
			case t < P:
				row[t] = s.Prompt[t]
			case t-P < len(s.Response):
				row[t] = s.Response[t-P]
			default:
				row[t] = EOSID
			}
			tg[t] = -1
		}
		n := 0
		for j := range s.Response {
			t := P - 1 + j
			if t >= T {
				break
			}
			tg[t] = s.Response[j]
			n++
		}
		dst.start[b] = P - 1
		dst.n[b] = n
		dst.lens[b] = max(P-1+n, 1)
	}
}

func growInt32(x []int32, n int) []int32 {
	if cap(x) < n {
		return make([]int32, n)
	}
	return x[:n]
}

func growInts(x []int, n int) []int {
	if cap(x) < n {
		return make([]int, n)
	}
	return x[:n]
}
