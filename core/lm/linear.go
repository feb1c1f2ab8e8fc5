package lm

// The linear layer (a matmul with an optional bias) is where nearly all of the time
// goes. Its kernels are in kernels.go.

// linearForward computes out = inp·Wᵀ + bias for N rows.
//
//	out  (N, OC)
//	inp  (N, C)
//	w    (OC, C)   row-major, one output channel per row (PyTorch's nn.Linear layout)
//	bias (OC) or nil
func linearForward(out, inp, w, bias []float32, N, C, OC int) {
	_ = out[N*OC-1]
	_ = inp[N*C-1]
	_ = w[OC*C-1]
	for n := 0; n < N; n++ {
		matvec(out[n*OC:(n+1)*OC], w, inp[n*C:(n+1)*C], bias, C, OC)
	}
}

// linearBackward accumulates the gradients of a linear layer given dout:
//
//	dinp  (N, C)   += dout · W
//	dw    (OC, C)  += doutᵀ · inp
//	dbias (OC)     += Σ_n dout[n]          (skipped when dbias is nil)
//
// dinp may be nil when the input needs no gradient (never the case inside the model,
// but handy for heads).
func linearBackward(dinp, dw, dbias, dout, inp, w []float32, N, C, OC int) {
	if dinp != nil {
		for n := 0; n < N; n++ {
			matTvecAdd(dinp[n*C:(n+1)*C], w, dout[n*OC:(n+1)*OC], C, OC)
		}
	}
	outerAdd(dw, dout, inp, N, C, OC)
	if dbias != nil {
		for n := 0; n < N; n++ {
			d := dout[n*OC : (n+1)*OC]
			for o := range dbias {
				dbias[o] += d[o]
			}
		}
	}
}
