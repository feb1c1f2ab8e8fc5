package lm

// The linear layers are where nearly all of the time goes; their kernels are in
// kernels.go. Weights of the blocks are stored input-major, (C, OC), so that the
// forward pass — run far more often than the backward pass, by sampling and scoring —
// uses the faster "axpy" kernel.

// linearForward computes out = inp·W + bias for N rows.
//
//	out  (N, OC)
//	inp  (N, C)
//	w    (C, OC)   input-major: row i holds the weights from input channel i
//	bias (OC) or nil
//
// Each output is bias[o] + Σ_i inp[n,i]·w[i,o] summed in order of i.
func linearForward(out, inp, w, bias []float32, N, C, OC int) {
	_ = out[N*OC-1]
	_ = inp[N*C-1]
	_ = w[C*OC-1]
	for n := 0; n < N; n++ {
		if bias != nil {
			copy(out[n*OC:(n+1)*OC], bias)
		} else {
			clear(out[n*OC : (n+1)*OC])
		}
	}
	gemmAcc(out, inp, C, 1, w, N, C, OC)
}

// linearBackward accumulates the gradients of a linear layer given dout:
//
//	dinp  (N, C)   += dout · Wᵀ
//	dw    (C, OC)  += inpᵀ · dout
//	dbias (OC)     += Σ_n dout[n]          (skipped when dbias is nil)
func linearBackward(dinp, dw, dbias, dout, inp, w []float32, N, C, OC int) {
	gemmDot(dinp, dout, w, nil, true, N, C, OC)
	gemmAcc(dw, inp, 1, C, dout, C, N, OC)
	if dbias != nil {
		for n := 0; n < N; n++ {
			axpySeq(1, dout[n*OC:(n+1)*OC], dbias)
		}
	}
}

// unembedForward computes the logits of N hidden states against the output matrix,
// which is stored like the token embedding, one row per token:
//
//	logits (N, V) = h (N, C) · wᵀ,   w (V, C)
func unembedForward(logits, h, w []float32, N, C, V int) {
	gemmDot(logits, h, w, nil, false, N, V, C)
}

// unembedBackward accumulates
//
//	dh (N, C) += dlogits (N, V) · w (V, C)
//	dw (V, C) += dlogitsᵀ · h
func unembedBackward(dh, dw, dlogits, h, w []float32, N, C, V int) {
	gemmAcc(dh, dlogits, V, 1, w, N, V, C)
	gemmAcc(dw, dlogits, 1, V, h, V, N, C)
}
