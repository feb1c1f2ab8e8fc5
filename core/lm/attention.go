package lm

import "math"

// attentionForward is causal multi-head self-attention on the packed query, key and
// value rows of B sequences of length T (Vaswani et al. 2017):
//
//	att[b,h,t,:] = softmax_{t2 ≤ t}( q[b,t,h]·k[b,t2,h] / √hs )
//	out[b,t,h]   = Σ_{t2 ≤ t} att[b,h,t,t2] · v[b,t2,h]
//
//	out (B, T, C), att (B, NH, T, T), qkv (B, T, 3C) holding [q | k | v] per row;
//	hs = C/NH is the head size.
//
// Only the query positions t0 ≤ t < t1 are computed; rows before t0 must already hold
// their keys and values (incremental decoding reuses them as a key/value cache).
// The loops over the head size are written out, unrolled by four, rather than
// calling a kernel: the vectors are short (hs = 12 by default) and calls are
// expensive in wasm.
func attentionForward(out, att, qkv []float32, B, T, C, NH, t0, t1 int) {
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	C3 := 3 * C
	for b := 0; b < B; b++ {
		for t := t0; t < t1; t++ {
			for h := 0; h < NH; h++ {
				q := qkv[(b*T+t)*C3+h*hs : (b*T+t)*C3+(h+1)*hs]
				row := att[((b*NH+h)*T+t)*T : ((b*NH+h)*T+t)*T+t+1]
				maxv := float32(math.Inf(-1))
				for t2 := range row {
					k := qkv[(b*T+t2)*C3+C+h*hs : (b*T+t2)*C3+C+(h+1)*hs]
					s := dotShort(q, k) * scale
					row[t2] = s
					if s > maxv {
						maxv = s
					}
				}
				for t2 := range row {
					row[t2] -= maxv
				}
				expSlice(row)
				var sum float32
				for _, e := range row {
					sum += e
				}
				inv := 1 / sum
				for t2 := range row {
					row[t2] *= inv
				}
				clear(att[((b*NH+h)*T+t)*T+t+1 : ((b*NH+h)*T+t+1)*T])
				o := out[(b*T+t)*C+h*hs : (b*T+t)*C+(h+1)*hs]
				clear(o)
				for t2, a := range row {
					axpyShort(a, qkv[(b*T+t2)*C3+2*C+h*hs:(b*T+t2)*C3+2*C+(h+1)*hs], o)
				}
			}
		}
	}
}

// attentionBackward accumulates dqkv given dout for all B·T positions:
//
//	datt[t2] = dout[t]·v[t2]                 dv[t2] += att[t,t2]·dout[t]
//	dpre[t2] = att[t2]·(datt[t2] − Σ_j att[j]·datt[j])        (softmax backward)
//	dq[t]   += Σ_{t2} dpre[t2]·k[t2]/√hs     dk[t2] += dpre[t2]·q[t]/√hs
//
//	dqkv (B, T, 3C), dout (B, T, C), qkv (B, T, 3C), att (B, NH, T, T)
//
// scratch has room for T values.
func attentionBackward(dqkv, dout, qkv, att, scratch []float32, B, T, C, NH int) {
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	C3 := 3 * C
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			for h := 0; h < NH; h++ {
				row := att[((b*NH+h)*T+t)*T : ((b*NH+h)*T+t)*T+t+1]
				datt := scratch[:len(row)]
				d := dout[(b*T+t)*C+h*hs : (b*T+t)*C+(h+1)*hs]
				var s float32
				for t2, a := range row {
					v := (b*T+t2)*C3 + 2*C + h*hs
					da := dotShort(d, qkv[v:v+hs])
					axpyShort(a, d, dqkv[v:v+hs])
					datt[t2] = da
					s += a * da
				}
				q := qkv[(b*T+t)*C3+h*hs : (b*T+t)*C3+(h+1)*hs]
				dq := dqkv[(b*T+t)*C3+h*hs : (b*T+t)*C3+(h+1)*hs]
				for t2, a := range row {
					dp := a * (datt[t2] - s) * scale
					if dp == 0 {
						continue
					}
					k := (b*T+t2)*C3 + C + h*hs
					axpyShort(dp, qkv[k:k+hs], dq)
					axpyShort(dp, q, dqkv[k:k+hs])
				}
			}
		}
	}
}

// dotShort returns Σ x_i·y_i for short vectors: blocks of four summed left to
// right and added in order, then the tail.
func dotShort(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a := x[i : i+4 : i+4]
		b := y[i : i+4 : i+4]
		s += a[0]*b[0] + a[1]*b[1] + a[2]*b[2] + a[3]*b[3]
	}
	for ; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// axpyShort computes y += a·x for short vectors, unrolled by four.
func axpyShort(a float32, x, y []float32) {
	x = x[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		p := x[i : i+4 : i+4]
		z := y[i : i+4 : i+4]
		z[0] += a * p[0]
		z[1] += a * p[1]
		z[2] += a * p[2]
		z[3] += a * p[3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}
