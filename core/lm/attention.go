package lm

import "math"

// attentionForwardGo is attentionForward's Go kernel (the wasm build calls the SIMD
// kernel instead when it is linked, kernels_wasm.go): causal multi-head
// self-attention on the packed query, key and value rows of B sequences of length T
// (Vaswani et al. 2017):
//
//	att[b,h,t,:] = softmax_{t2 ≤ t}( q[b,t,h]·k[b,t2,h] / √hs )
//	out[b,t,h]   = Σ_{t2 ≤ t} att[b,h,t,t2] · v[b,t2,h]
//
//	out (B, T, C), att (B, NH, T, T), qkv (B, T, 3C) holding [q | k | v] per row;
//	hs = C/NH is the head size.
//
// Only the query positions t0 ≤ t < t1 are computed; rows before t0 must already hold
// their keys and values (incremental decoding reuses them as a key/value cache).
// The loops over the head size are written out in blocks of four rather than calling
// a kernel: the vectors are short (hs = 12 by default) and calls are expensive in
// wasm. A score q·k is summed in blocks of four (each block left to right, the
// blocks in order, then the tail); an output element is summed in order of t2.
func attentionForwardGo(out, att, qkv []float32, B, T, C, NH, t0, t1 int) {
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	C3 := 3 * C
	for b := 0; b < B; b++ {
		for t := t0; t < t1; t++ {
			for h := 0; h < NH; h++ {
				qo := (b*T+t)*C3 + h*hs
				q := qkv[qo : qo+hs : qo+hs]
				ro := ((b*NH+h)*T + t) * T
				row := att[ro : ro+t+1 : ro+t+1]
				maxv := float32(math.Inf(-1))
				ko := b*T*C3 + C + h*hs
				t2 := 0
				if len(q) == 12 { // the default head size: two keys at a time, written out
					x := q[:12:12]
					x0, x1, x2, x3, x4, x5 := x[0], x[1], x[2], x[3], x[4], x[5]
					x6, x7, x8, x9, x10, x11 := x[6], x[7], x[8], x[9], x[10], x[11]
					for ; t2+2 <= len(row); t2 += 2 {
						y := qkv[ko : ko+12 : ko+12]
						u := qkv[ko+C3 : ko+C3+12 : ko+C3+12]
						ko += 2 * C3
						s := 0 + (float32(x0*y[0]) + float32(x1*y[1]) + float32(x2*y[2]) + float32(x3*y[3])) + (float32(x4*y[4]) + float32(x5*y[5]) + float32(x6*y[6]) + float32(x7*y[7])) + (float32(x8*y[8]) + float32(x9*y[9]) + float32(x10*y[10]) + float32(x11*y[11]))
						r := 0 + (float32(x0*u[0]) + float32(x1*u[1]) + float32(x2*u[2]) + float32(x3*u[3])) + (float32(x4*u[4]) + float32(x5*u[5]) + float32(x6*u[6]) + float32(x7*u[7])) + (float32(x8*u[8]) + float32(x9*u[9]) + float32(x10*u[10]) + float32(x11*u[11]))
						s = float32(s * scale)
						r = float32(r * scale)
						row[t2], row[t2+1] = s, r
						if s > maxv {
							maxv = s
						}
						if r > maxv {
							maxv = r
						}
					}
				}
				for ; t2 < len(row); t2++ {
					k := qkv[ko : ko+len(q) : ko+len(q)]
					ko += C3
					var s float32
					i := 0
					if len(k) == 12 {
						x := q[:12:12]
						y := k[:12:12]
						s = 0 + (float32(x[0]*y[0]) + float32(x[1]*y[1]) + float32(x[2]*y[2]) + float32(x[3]*y[3])) + (float32(x[4]*y[4]) + float32(x[5]*y[5]) + float32(x[6]*y[6]) + float32(x[7]*y[7])) + (float32(x[8]*y[8]) + float32(x[9]*y[9]) + float32(x[10]*y[10]) + float32(x[11]*y[11]))
						i = 12
					}
					for ; i+4 <= len(k); i += 4 {
						x := q[i : i+4 : i+4]
						y := k[i : i+4 : i+4]
						s += float32(x[0]*y[0]) + float32(x[1]*y[1]) + float32(x[2]*y[2]) + float32(x[3]*y[3])
					}
					for ; i < len(k); i++ {
						s += float32(q[i] * k[i])
					}
					s = float32(s * scale)
					row[t2] = s
					if s > maxv {
						maxv = s
					}
				}
				t2 = 0
				for ; t2+4 <= len(row); t2 += 4 {
					z := row[t2 : t2+4 : t2+4]
					z[0], z[1], z[2], z[3] = z[0]-maxv, z[1]-maxv, z[2]-maxv, z[3]-maxv
				}
				for ; t2 < len(row); t2++ {
					row[t2] -= maxv
				}
				expSlice(row)
				var sum float32
				t2 = 0
				for ; t2+4 <= len(row); t2 += 4 {
					z := row[t2 : t2+4 : t2+4]
					sum = sum + z[0] + z[1] + z[2] + z[3]
				}
				for ; t2 < len(row); t2++ {
					sum += row[t2]
				}
				inv := 1 / sum
				t2 = 0
				for ; t2+4 <= len(row); t2 += 4 {
					z := row[t2 : t2+4 : t2+4]
					z[0], z[1], z[2], z[3] = float32(z[0]*inv), float32(z[1]*inv), float32(z[2]*inv), float32(z[3]*inv)
				}
				for ; t2 < len(row); t2++ {
					row[t2] = float32(row[t2] * inv)
				}
				clear(att[ro+t+1 : ro+T])
				oo := (b*T+t)*C + h*hs
				o := out[oo : oo+hs : oo+hs]
				vo := b*T*C3 + 2*C + h*hs
				i := 0
				if len(o) == 12 {
					var c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 float32
					p := vo
					t2 := 0
					for ; t2+2 <= len(row); t2 += 2 {
						a, e := row[t2], row[t2+1]
						v := qkv[p : p+12 : p+12]
						w := qkv[p+C3 : p+C3+12 : p+C3+12]
						p += 2 * C3
						c0 = c0 + float32(a*v[0]) + float32(e*w[0])
						c1 = c1 + float32(a*v[1]) + float32(e*w[1])
						c2 = c2 + float32(a*v[2]) + float32(e*w[2])
						c3 = c3 + float32(a*v[3]) + float32(e*w[3])
						c4 = c4 + float32(a*v[4]) + float32(e*w[4])
						c5 = c5 + float32(a*v[5]) + float32(e*w[5])
						c6 = c6 + float32(a*v[6]) + float32(e*w[6])
						c7 = c7 + float32(a*v[7]) + float32(e*w[7])
						c8 = c8 + float32(a*v[8]) + float32(e*w[8])
						c9 = c9 + float32(a*v[9]) + float32(e*w[9])
						c10 = c10 + float32(a*v[10]) + float32(e*w[10])
						c11 = c11 + float32(a*v[11]) + float32(e*w[11])
					}
					for _, a := range row[t2:] {
						v := qkv[p : p+12 : p+12]
						p += C3
						c0 += float32(a * v[0])
						c1 += float32(a * v[1])
						c2 += float32(a * v[2])
						c3 += float32(a * v[3])
						c4 += float32(a * v[4])
						c5 += float32(a * v[5])
						c6 += float32(a * v[6])
						c7 += float32(a * v[7])
						c8 += float32(a * v[8])
						c9 += float32(a * v[9])
						c10 += float32(a * v[10])
						c11 += float32(a * v[11])
					}
					z := o[:12:12]
					z[0], z[1], z[2], z[3], z[4], z[5] = c0, c1, c2, c3, c4, c5
					z[6], z[7], z[8], z[9], z[10], z[11] = c6, c7, c8, c9, c10, c11
					i = 12
				}
				for ; i+4 <= len(o); i += 4 {
					var c0, c1, c2, c3 float32
					p := vo + i
					for _, a := range row {
						v := qkv[p : p+4 : p+4]
						p += C3
						c0 += float32(a * v[0])
						c1 += float32(a * v[1])
						c2 += float32(a * v[2])
						c3 += float32(a * v[3])
					}
					z := o[i : i+4 : i+4]
					z[0], z[1], z[2], z[3] = c0, c1, c2, c3
				}
				for ; i < len(o); i++ {
					var c float32
					p := vo + i
					for _, a := range row {
						c += float32(a * qkv[p])
						p += C3
					}
					o[i] = c
				}
			}
		}
	}
}

// The loops below are written out by head size and by four on purpose (unrolled;
// the SIMD kernel adds in the same order), so they repeat one body.

// attentionBackwardGo is attentionBackward's Go kernel: it accumulates dqkv given
// dout for all B·T positions:
//
//	datt[t2] = dout[t]·v[t2]                 dv[t2] += att[t,t2]·dout[t]
//	dpre[t2] = att[t2]·(datt[t2] − Σ_j att[j]·datt[j])        (softmax backward)
//	dq[t]   += Σ_{t2} dpre[t2]·k[t2]/√hs     dk[t2] += dpre[t2]·q[t]/√hs
//
//	dqkv (B, T, 3C), dout (B, T, C), qkv (B, T, 3C), att (B, NH, T, T)
//
// scratch has room for T values. Only the query positions t < t1 are taken (later
// ones are padding). Dot products are summed like the scores of attentionForward,
// the accumulations in order of t2.
func attentionBackwardGo(dqkv, dout, qkv, att, scratch []float32, B, T, C, NH, t1 int) {
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	C3 := 3 * C
	for b := 0; b < B; b++ {
		for t := 0; t < t1; t++ {
			for h := 0; h < NH; h++ {
				ro := ((b*NH+h)*T + t) * T
				row := att[ro : ro+t+1 : ro+t+1]
				datt := scratch[:len(row):len(row)]
				do := (b*T+t)*C + h*hs
				d := dout[do : do+hs : do+hs]
				vo := b*T*C3 + 2*C + h*hs
				var s float32
				t2 := 0
				if len(d) == 12 { // the default head size: two values at a time, written out
					x := d[:12:12]
					x0, x1, x2, x3, x4, x5 := x[0], x[1], x[2], x[3], x[4], x[5]
					x6, x7, x8, x9, x10, x11 := x[6], x[7], x[8], x[9], x[10], x[11]
					for ; t2+2 <= len(row); t2 += 2 {
						a, e := row[t2], row[t2+1]
						y := qkv[vo : vo+12 : vo+12]
						u := qkv[vo+C3 : vo+C3+12 : vo+C3+12]
						z := dqkv[vo : vo+12 : vo+12]
						w := dqkv[vo+C3 : vo+C3+12 : vo+C3+12]
						vo += 2 * C3
						da := 0 + (float32(x0*y[0]) + float32(x1*y[1]) + float32(x2*y[2]) + float32(x3*y[3])) + (float32(x4*y[4]) + float32(x5*y[5]) + float32(x6*y[6]) + float32(x7*y[7])) + (float32(x8*y[8]) + float32(x9*y[9]) + float32(x10*y[10]) + float32(x11*y[11]))
						db := 0 + (float32(x0*u[0]) + float32(x1*u[1]) + float32(x2*u[2]) + float32(x3*u[3])) + (float32(x4*u[4]) + float32(x5*u[5]) + float32(x6*u[6]) + float32(x7*u[7])) + (float32(x8*u[8]) + float32(x9*u[9]) + float32(x10*u[10]) + float32(x11*u[11]))
						z[0] += float32(a * x0)
						z[1] += float32(a * x1)
						z[2] += float32(a * x2)
						z[3] += float32(a * x3)
						z[4] += float32(a * x4)
						z[5] += float32(a * x5)
						z[6] += float32(a * x6)
						z[7] += float32(a * x7)
						z[8] += float32(a * x8)
						z[9] += float32(a * x9)
						z[10] += float32(a * x10)
						z[11] += float32(a * x11)
						w[0] += float32(e * x0)
						w[1] += float32(e * x1)
						w[2] += float32(e * x2)
						w[3] += float32(e * x3)
						w[4] += float32(e * x4)
						w[5] += float32(e * x5)
						w[6] += float32(e * x6)
						w[7] += float32(e * x7)
						w[8] += float32(e * x8)
						w[9] += float32(e * x9)
						w[10] += float32(e * x10)
						w[11] += float32(e * x11)
						datt[t2], datt[t2+1] = da, db
						s = s + float32(a*da) + float32(e*db)
					}
				}
				for ; t2 < len(row); t2++ {
					a := row[t2]
					v := qkv[vo : vo+len(d) : vo+len(d)]
					dv := dqkv[vo : vo+len(d) : vo+len(d)]
					vo += C3
					var da float32
					i := 0
					if len(d) == 12 { // the default head size, written out
						x, y, z := d[:12:12], v[:12:12], dv[:12:12]
						da = 0 + (float32(x[0]*y[0]) + float32(x[1]*y[1]) + float32(x[2]*y[2]) + float32(x[3]*y[3])) + (float32(x[4]*y[4]) + float32(x[5]*y[5]) + float32(x[6]*y[6]) + float32(x[7]*y[7])) + (float32(x[8]*y[8]) + float32(x[9]*y[9]) + float32(x[10]*y[10]) + float32(x[11]*y[11]))
						z[0] += float32(a * x[0])
						z[1] += float32(a * x[1])
						z[2] += float32(a * x[2])
						z[3] += float32(a * x[3])
						z[4] += float32(a * x[4])
						z[5] += float32(a * x[5])
						z[6] += float32(a * x[6])
						z[7] += float32(a * x[7])
						z[8] += float32(a * x[8])
						z[9] += float32(a * x[9])
						z[10] += float32(a * x[10])
						z[11] += float32(a * x[11])
						i = 12
					}
					for ; i+4 <= len(d); i += 4 {
						x := d[i : i+4 : i+4]
						y := v[i : i+4 : i+4]
						z := dv[i : i+4 : i+4]
						da += float32(x[0]*y[0]) + float32(x[1]*y[1]) + float32(x[2]*y[2]) + float32(x[3]*y[3])
						z[0] += float32(a * x[0])
						z[1] += float32(a * x[1])
						z[2] += float32(a * x[2])
						z[3] += float32(a * x[3])
					}
					for ; i < len(d); i++ {
						da += float32(d[i] * v[i])
						dv[i] += float32(a * d[i])
					}
					datt[t2] = da
					s += float32(a * da)
				}
				// datt becomes the pre-softmax gradient dpre.
				t2 = 0
				for ; t2+4 <= len(row); t2 += 4 {
					a, z := row[t2:t2+4:t2+4], datt[t2:t2+4:t2+4]
					z[0] = float32(float32(a[0]*(z[0]-s)) * scale)
					z[1] = float32(float32(a[1]*(z[1]-s)) * scale)
					z[2] = float32(float32(a[2]*(z[2]-s)) * scale)
					z[3] = float32(float32(a[3]*(z[3]-s)) * scale)
				}
				for ; t2 < len(row); t2++ {
					datt[t2] = float32(float32(row[t2]*(datt[t2]-s)) * scale)
				}
				qo := (b*T+t)*C3 + h*hs
				q := qkv[qo : qo+hs : qo+hs]
				dq := dqkv[qo : qo+hs : qo+hs]
				ko := b*T*C3 + C + h*hs
				if len(dq) == 12 {
					// The default head size, written out, dq and dk in one pass.
					x, z := q[:12:12], dq[:12:12]
					x0, x1, x2, x3, x4, x5 := x[0], x[1], x[2], x[3], x[4], x[5]
					x6, x7, x8, x9, x10, x11 := x[6], x[7], x[8], x[9], x[10], x[11]
					c0, c1, c2, c3, c4, c5 := z[0], z[1], z[2], z[3], z[4], z[5]
					c6, c7, c8, c9, c10, c11 := z[6], z[7], z[8], z[9], z[10], z[11]
					p := ko
					for _, dp := range datt {
						if dp != 0 {
							k := qkv[p : p+12 : p+12]
							c0 += float32(dp * k[0])
							c1 += float32(dp * k[1])
							c2 += float32(dp * k[2])
							c3 += float32(dp * k[3])
							c4 += float32(dp * k[4])
							c5 += float32(dp * k[5])
							c6 += float32(dp * k[6])
							c7 += float32(dp * k[7])
							c8 += float32(dp * k[8])
							c9 += float32(dp * k[9])
							c10 += float32(dp * k[10])
							c11 += float32(dp * k[11])
							w := dqkv[p : p+12 : p+12]
							w[0] += float32(dp * x0)
							w[1] += float32(dp * x1)
							w[2] += float32(dp * x2)
							w[3] += float32(dp * x3)
							w[4] += float32(dp * x4)
							w[5] += float32(dp * x5)
							w[6] += float32(dp * x6)
							w[7] += float32(dp * x7)
							w[8] += float32(dp * x8)
							w[9] += float32(dp * x9)
							w[10] += float32(dp * x10)
							w[11] += float32(dp * x11)
						}
						p += C3
					}
					z[0], z[1], z[2], z[3], z[4], z[5] = c0, c1, c2, c3, c4, c5
					z[6], z[7], z[8], z[9], z[10], z[11] = c6, c7, c8, c9, c10, c11
					continue
				}
				i := 0
				for ; i+4 <= len(dq); i += 4 {
					z := dq[i : i+4 : i+4]
					c0, c1, c2, c3 := z[0], z[1], z[2], z[3]
					p := ko + i
					for _, dp := range datt {
						if dp != 0 {
							k := qkv[p : p+4 : p+4]
							c0 += float32(dp * k[0])
							c1 += float32(dp * k[1])
							c2 += float32(dp * k[2])
							c3 += float32(dp * k[3])
						}
						p += C3
					}
					z[0], z[1], z[2], z[3] = c0, c1, c2, c3
				}
				for ; i < len(dq); i++ {
					c := dq[i]
					p := ko + i
					for _, dp := range datt {
						if dp != 0 {
							c += float32(dp * qkv[p])
						}
						p += C3
					}
					dq[i] = c
				}
				for _, dp := range datt {
					if dp != 0 {
						dk := dqkv[ko : ko+len(q) : ko+len(q)]
						i := 0
						for ; i+4 <= len(dk); i += 4 {
							x := q[i : i+4 : i+4]
							z := dk[i : i+4 : i+4]
							z[0] += float32(dp * x[0])
							z[1] += float32(dp * x[1])
							z[2] += float32(dp * x[2])
							z[3] += float32(dp * x[3])
						}
						for ; i < len(dk); i++ {
							dk[i] += float32(dp * q[i])
						}
					}
					ko += C3
				}
			}
		}
	}
}
