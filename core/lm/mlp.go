package lm

// The MLP of a block is linear (C → H), GELU, linear (H → C); the linear layers are in
// linear.go, the activation here.

// geluScale is √(2/π).
const geluScale = 0.7978845608028654

// geluForward applies GELU with the tanh approximation of GPT-2 (Hendrycks & Gimpel
// 2016):
//
//	gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
//	out (N), th (N) receives the tanh for the backward pass, inp (N)
func geluForward(out, th, inp []float32) {
	inp = inp[:len(out)]
	th = th[:len(out)]
	for i := range th {
		x := inp[i]
		th[i] = geluScale * (x + 0.044715*x*x*x)
	}
	tanhSlice(th)
	for i, t := range th {
		out[i] = 0.5 * inp[i] * (1 + t)
	}
}

// geluBackward accumulates dinp += gelu'(inp)·dout, with u = √(2/π)(x + 0.044715x³)
// and th = tanh u as kept by geluForward:
//
//	gelu'(x) = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
func geluBackward(dinp, inp, th, dout []float32) {
	inp = inp[:len(dout)]
	th = th[:len(dout)]
	dinp = dinp[:len(dout)]
	for i, v := range inp {
		t := th[i]
		g := 0.5*(1+t) + 0.5*v*(1-t*t)*geluScale*(1+3*0.044715*v*v)
		dinp[i] += g * dout[i]
	}
}
