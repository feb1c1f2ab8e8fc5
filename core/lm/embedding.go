package lm

// encoderForward writes the sum of token and position embeddings for the positions
// t0 … t0+N−1 of one sequence:
//
//	out[n] = wte[tokens[n]] + wpe[t0+n]
//
//	out (N, C), tokens (N), wte (V, C), wpe (T, C)
func encoderForward(out []float32, tokens []int32, wte, wpe []float32, N, C, t0 int) {
	for n := 0; n < N; n++ {
		o := out[n*C : (n+1)*C : (n+1)*C]
		e := wte[int(tokens[n])*C : int(tokens[n]+1)*C : int(tokens[n]+1)*C]
		p := wpe[(t0+n)*C : (t0+n+1)*C : (t0+n+1)*C]
		for i := range o {
			o[i] = e[i] + p[i]
		}
	}
}

// encoderBackward accumulates the embedding gradients of positions t0 … t0+N−1:
//
//	dwte[tokens[n]] += dout[n],  dwpe[t0+n] += dout[n]
//
//	dwte (V, C), dwpe (T, C), dout (N, C), tokens (N)
func encoderBackward(dwte, dwpe, dout []float32, tokens []int32, N, C, t0 int) {
	for n := 0; n < N; n++ {
		d := dout[n*C : (n+1)*C : (n+1)*C]
		e := dwte[int(tokens[n])*C : int(tokens[n]+1)*C : int(tokens[n]+1)*C]
		p := dwpe[(t0+n)*C : (t0+n+1)*C : (t0+n+1)*C]
		for i, v := range d {
			e[i] += v
			p[i] += v
		}
	}
}

// residualForward computes out = a + b elementwise; all (N·C).
func residualForward(out, a, b []float32) {
	_ = a[len(out)-1]
	_ = b[len(out)-1]
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// residualBackward accumulates da += dout and db += dout.
func residualBackward(da, db, dout []float32) {
	_ = da[len(dout)-1]
	_ = db[len(dout)-1]
	for i, d := range dout {
		da[i] += d
		db[i] += d
	}
}
