package lm

// The MLP of a block is linear (C → H), GELU, linear (H → C); the linear layers are in
// linear.go, the activation here.

// geluScale is √(2/π).
const geluScale = 0.7978845608028654

// geluChunk is how many activations get their tanh computed per tanhSlice call.
const geluChunk = 256

// geluForward applies GELU with the tanh approximation of GPT-2 (Hendrycks & Gimpel
// 2016):
//
//	gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
//	out (N), inp (N)
func geluForward(out, inp []float32) {
	inp = inp[:len(out)]
	for i := range out {
		x := inp[i]
		out[i] = geluScale * (x + 0.044715*x*x*x)
	}
	tanhSlice(out)
	for i, th := range out {
		out[i] = 0.5 * inp[i] * (1 + th)
	}
}

// geluBackward accumulates dinp += gelu'(inp)·dout, with u = √(2/π)(x + 0.044715x³):
//
//	gelu'(x) = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
func geluBackward(dinp, inp, dout []float32) {
	var buf [geluChunk]float32
	for lo := 0; lo < len(dout); lo += geluChunk {
		hi := min(lo+geluChunk, len(dout))
		x, d, di := inp[lo:hi], dout[lo:hi], dinp[lo:hi]
		th := buf[:len(x)]
		d, di = d[:len(x)], di[:len(x)]
		for i, v := range x {
			th[i] = geluScale * (v + 0.044715*v*v*v)
		}
		tanhSlice(th)
		for i, v := range x {
			t := th[i]
			g := 0.5*(1+t) + 0.5*v*(1-t*t)*geluScale*(1+3*0.044715*v*v)
			di[i] += g * d[i]
		}
	}
}
