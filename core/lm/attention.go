package lm

import (
	"math"

	"prefer/core/num"
)

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
func attentionForward(out, att, qkv []float32, B, T, C, NH, t0, t1 int) {
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	C3 := 3 * C
	for b := 0; b < B; b++ {
		for t := t0; t < t1; t++ {
			for h := 0; h < NH; h++ {
				q := qkv[(b*T+t)*C3+h*hs : (b*T+t)*C3+(h+1)*hs]
				row := att[((b*NH+h)*T+t)*T : ((b*NH+h)*T+t+1)*T]
				maxv := float32(math.Inf(-1))
				for t2 := 0; t2 <= t; t2++ {
					k := qkv[(b*T+t2)*C3+C+h*hs : (b*T+t2)*C3+C+(h+1)*hs]
					v := num.Dot32(q, k) * scale
					row[t2] = v
					if v > maxv {
						maxv = v
					}
				}
				var sum float32
				for t2 := 0; t2 <= t; t2++ {
					e := exp32(row[t2] - maxv)
					row[t2] = e
					sum += e
				}
				inv := 1 / sum
				for t2 := 0; t2 <= t; t2++ {
					row[t2] *= inv
				}
				for t2 := t + 1; t2 < T; t2++ {
					row[t2] = 0
				}
				o := out[(b*T+t)*C+h*hs : (b*T+t)*C+(h+1)*hs]
				clear(o)
				for t2 := 0; t2 <= t; t2++ {
					v := qkv[(b*T+t2)*C3+2*C+h*hs : (b*T+t2)*C3+2*C+(h+1)*hs]
					num.Axpy32(row[t2], v, o)
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
	datt := scratch[:T]
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			for h := 0; h < NH; h++ {
				row := att[((b*NH+h)*T+t)*T : ((b*NH+h)*T+t+1)*T]
				d := dout[(b*T+t)*C+h*hs : (b*T+t)*C+(h+1)*hs]
				var s float32
				for t2 := 0; t2 <= t; t2++ {
					v := qkv[(b*T+t2)*C3+2*C+h*hs : (b*T+t2)*C3+2*C+(h+1)*hs]
					dv := dqkv[(b*T+t2)*C3+2*C+h*hs : (b*T+t2)*C3+2*C+(h+1)*hs]
					da := num.Dot32(d, v)
					datt[t2] = da
					s += row[t2] * da
					num.Axpy32(row[t2], d, dv)
				}
				q := qkv[(b*T+t)*C3+h*hs : (b*T+t)*C3+(h+1)*hs]
				dq := dqkv[(b*T+t)*C3+h*hs : (b*T+t)*C3+(h+1)*hs]
				for t2 := 0; t2 <= t; t2++ {
					dp := row[t2] * (datt[t2] - s) * scale
					if dp == 0 {
						continue
					}
					k := qkv[(b*T+t2)*C3+C+h*hs : (b*T+t2)*C3+C+(h+1)*hs]
					dk := dqkv[(b*T+t2)*C3+C+h*hs : (b*T+t2)*C3+C+(h+1)*hs]
					num.Axpy32(dp, k, dq)
					num.Axpy32(dp, q, dk)
				}
			}
		}
	}
}
