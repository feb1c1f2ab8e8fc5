package lm

import (
	"math"

	"prefer/core/num"
)

// The MLP of a block is linear (C → H), GELU, linear (H → C); the linear layers are in
// linear.go, the activation here.

// geluScale is √(2/π).
var geluScale = math.Sqrt(2 / math.Pi)

// geluForward applies GELU with the tanh approximation of GPT-2 (Hendrycks & Gimpel
// 2016):
//
//	gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
//	out (N), inp (N)
func geluForward(out, inp []float32) {
	_ = inp[len(out)-1]
	for i := range out {
		x := float64(inp[i])
		u := geluScale * (x + 0.044715*x*x*x)
		out[i] = float32(0.5 * x * (1 + num.Tanh(u)))
	}
}

// geluBackward accumulates dinp += gelu'(inp)·dout, with u = √(2/π)(x + 0.044715x³):
//
//	gelu'(x) = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
func geluBackward(dinp, inp, dout []float32) {
	_ = inp[len(dout)-1]
	_ = dinp[len(dout)-1]
	for i, d := range dout {
		x := float64(inp[i])
		u := geluScale * (x + 0.044715*x*x*x)
		th := num.Tanh(u)
		g := 0.5*(1+th) + 0.5*x*(1-th*th)*geluScale*(1+3*0.044715*x*x)
		dinp[i] += float32(g) * d
	}
}
