package lm

// The MLP of a block is linear (C → H), GELU, linear (H → C); the linear layers are in
// linear.go, the activation here.

// geluScale is √(2/π).
const geluScale = 0.7978845608028654

// geluForwardGo (geluForward's Go kernel; kernels_wasm.go) applies GELU with the
// tanh approximation of GPT-2 (Hendrycks & Gimpel
// 2016):
//
//	gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
//	out (N), th (N) receives the tanh for the backward pass, inp (N)
func geluForwardGo(out, th, inp []float32) {
	n := len(out)
	out, th, inp = out[:n:n], th[:n:n], inp[:n:n]
	// tanh u = 1 − 2/(e**(2u) + 1) with u clamped to ±9, as tanhSlice, fused with
	// the rest and four elements at a time.
	i := 0
	for ; i+4 <= n; i += 4 {
		x, u := inp[i:i+4:i+4], th[i:i+4:i+4]
		x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
		u[0] = float32(2 * clamp9(float32(geluScale*(x0+float32(float32(float32(0.044715*x0)*x0)*x0)))))
		u[1] = float32(2 * clamp9(float32(geluScale*(x1+float32(float32(float32(0.044715*x1)*x1)*x1)))))
		u[2] = float32(2 * clamp9(float32(geluScale*(x2+float32(float32(float32(0.044715*x2)*x2)*x2)))))
		u[3] = float32(2 * clamp9(float32(geluScale*(x3+float32(float32(float32(0.044715*x3)*x3)*x3)))))
	}
	for ; i < n; i++ {
		x := inp[i]
		th[i] = float32(2 * clamp9(float32(geluScale*(x+float32(float32(float32(0.044715*x)*x)*x)))))
	}
	expSlice(th)
	i = 0
	for ; i+4 <= n; i += 4 {
		x, u, o := inp[i:i+4:i+4], th[i:i+4:i+4], out[i:i+4:i+4]
		t0, t1, t2, t3 := 1-2/(u[0]+1), 1-2/(u[1]+1), 1-2/(u[2]+1), 1-2/(u[3]+1)
		u[0], u[1], u[2], u[3] = t0, t1, t2, t3
		o[0] = float32(float32(0.5*x[0]) * (1 + t0))
		o[1] = float32(float32(0.5*x[1]) * (1 + t1))
		o[2] = float32(float32(0.5*x[2]) * (1 + t2))
		o[3] = float32(float32(0.5*x[3]) * (1 + t3))
	}
	for ; i < n; i++ {
		t := 1 - 2/(th[i]+1)
		th[i] = t
		out[i] = float32(float32(0.5*inp[i]) * (1 + t))
	}
}

// clamp9 clamps v to [−9, 9] (tanh is ±1 in float32 beyond).
func clamp9(v float32) float32 {
	if v > 9 {
		return 9
	} else if v < -9 {
		return -9
	}
	return v
}

// geluBackwardGo (geluBackward's Go kernel) accumulates dinp += gelu'(inp)·dout,
// with u = √(2/π)(x + 0.044715x³)
// and th = tanh u as kept by geluForward:
//
//	gelu'(x) = ½(1 + tanh u) + ½·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
func geluBackwardGo(dinp, inp, th, dout []float32) {
	inp = inp[:len(dout)]
	th = th[:len(dout)]
	dinp = dinp[:len(dout)]
	for i, v := range inp {
		t := th[i]
		g := float32(0.5*(1+t)) + float32(float32(float32(float32(0.5*v)*(1-float32(t*t)))*geluScale)*(1+float32(float32(3*0.044715*v)*v)))
		dinp[i] += float32(g * dout[i])
	}
}

// geluRecompute writes GELU's output from its input and the tanh that geluForward
// kept, with geluForward's expression, so bit for bit the same values:
//
//	out = ½·x·(1 + th)
func geluRecompute(out, inp, th []float32) {
	n := len(out)
	out, inp, th = out[:n:n], inp[:n:n], th[:n:n]
	for i, x := range inp {
		out[i] = float32(float32(0.5*x) * (1 + th[i]))
	}
}
