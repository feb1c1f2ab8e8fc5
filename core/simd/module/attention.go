package module

// The attention kernels of core/lm (attention.go), head size hs a multiple of
// four. Per query row the Go code's orders are kept:
//
//   - a dot product of two head vectors (a score q·k, or dout·v) is 0 + Σ blocks,
//     each block four products summed left to right, the blocks in order. Four keys
//     are scored at once, one per lane: four key vectors' blocks are loaded and
//     transposed in registers (eight shuffles), so lane m holds key m's elements;
//   - sums over keys (the softmax's normalizer, Σ att·datt) are sequential, scalar;
//   - accumulations over keys (out += att·v, dq += dpre·k) run in key order with
//     the head's elements in lanes; keys whose dpre is exactly 0 are skipped, as in
//     the Go code (adding ±0 could turn a −0 into +0).

// transpose4 sets w[m] to (w0[m], w1[m], w2[m], w3[m]) for m < 4, using t as scratch.
func transpose4(f *fn, w, t [4]local) {
	f.set(t[0], shuffle(get(w[0]), get(w[1]), [4]byte{0, 4, 1, 5}))
	f.set(t[1], shuffle(get(w[0]), get(w[1]), [4]byte{2, 6, 3, 7}))
	f.set(t[2], shuffle(get(w[2]), get(w[3]), [4]byte{0, 4, 1, 5}))
	f.set(t[3], shuffle(get(w[2]), get(w[3]), [4]byte{2, 6, 3, 7}))
	f.set(w[0], shuffle(get(t[0]), get(t[2]), [4]byte{0, 1, 4, 5}))
	f.set(w[1], shuffle(get(t[0]), get(t[2]), [4]byte{2, 3, 6, 7}))
	f.set(w[2], shuffle(get(t[1]), get(t[3]), [4]byte{0, 1, 4, 5}))
	f.set(w[3], shuffle(get(t[1]), get(t[3]), [4]byte{2, 3, 6, 7}))
}

// headLocals are the locals the attention kernels share.
type headLocals struct {
	w, t    [4]local // key blocks, transposed
	s, blk  local    // four dot products, the current block
	x       local    // a scalar dot product
	xb      local    // its current block
	i4, hs4 local    // element offset within a head, head size (bytes)
	kp      local    // key pointer
	C34     local    // row stride of qkv (bytes)
}

func newHeadLocals(f *fn) *headLocals {
	h := &headLocals{}
	for i := range h.w {
		h.w[i] = f.local(v128)
		h.t[i] = f.local(v128)
	}
	h.s, h.blk = f.local(v128), f.local(v128)
	h.x, h.xb = f.local(f32), f.local(f32)
	h.i4, h.hs4, h.kp, h.C34 = f.local(i32), f.local(i32), f.local(i32), f.local(i32)
	return h
}

// dot4 sets h.s to the four dot products of the head vector at q with the head
// vectors at k, k + C3, k + 2·C3, k + 3·C3 (bytes: h.C34).
func (h *headLocals) dot4(f *fn, q, k local) {
	f.set(h.s, vconst(0))
	f.set(h.i4, ci(0))
	f.while(lts(get(h.i4), get(h.hs4)), func() {
		f.set(h.kp, add(get(k), get(h.i4)))
		for m := range 4 {
			f.set(h.w[m], loadV(get(h.kp), 0))
			if m < 3 {
				f.incBy(h.kp, get(h.C34))
			}
		}
		transpose4(f, h.w, h.t)
		for m := uint32(0); m < 4; m++ {
			p := vmul(splatLoad(add(get(q), get(h.i4)), 4*m), get(h.w[m]))
			if m == 0 {
				f.set(h.blk, p)
			} else {
				f.set(h.blk, vadd(get(h.blk), p))
			}
		}
		f.set(h.s, vadd(get(h.s), get(h.blk)))
		f.inc(h.i4, 16)
	})
}

// dot1 sets h.x to the dot product of the head vectors at q and k, in the same order.
func (h *headLocals) dot1(f *fn, q, k local) {
	f.set(h.x, cf(0))
	f.set(h.i4, ci(0))
	f.while(lts(get(h.i4), get(h.hs4)), func() {
		for m := uint32(0); m < 4; m++ {
			p := fmul(loadF32(add(get(q), get(h.i4)), 4*m), loadF32(add(get(k), get(h.i4)), 4*m))
			if m == 0 {
				f.set(h.xb, p)
			} else {
				f.set(h.xb, fadd(get(h.xb), p))
			}
		}
		f.set(h.x, fadd(get(h.x), get(h.xb)))
		f.inc(h.i4, 16)
	})
}

// attentionFwd writes attention_forward(out, att, qkv, B, T, C, NH, t0, t1):
//
//	att[b,h,t,:] = softmax_{t2 ≤ t}( q[b,t,h]·k[b,t2,h] / √hs )
//	out[b,t,h]   = Σ_{t2 ≤ t} att[b,h,t,t2] · v[b,t2,h]
//
//	out (B, T, C), att (B, NH, T, T), qkv (B, T, 3C); query rows t0 ≤ t < t1
func attentionFwd(m *mod, expSlice *fn) {
	f := m.newFn("attention_forward", params(9))
	out, att, qkv, B, T, C, NH, t0, t1 := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5), f.param(6), f.param(7), f.param(8)
	h := newHeadLocals(f)
	scale := f.local(f32)
	b, t, hd := f.local(i32), f.local(i32), f.local(i32)
	q, k0, v0, row, t2, n := f.local(i32), f.local(i32), f.local(i32), f.local(i32), f.local(i32), f.local(i32)
	maxv, sum, inv := f.local(f32), f.local(f32), f.local(f32)
	mv := f.local(v128)
	acc := f.local(v128)
	p, o := f.local(i32), f.local(i32)
	seq := f.local(i32) // &qkv[b,0,0]
	hsz := f.local(i32)

	f.set(hsz, divs(get(C), get(NH)))
	f.set(h.hs4, shl(get(hsz), ci(2)))
	f.set(h.C34, mul(get(C), ci(12)))
	// float32(1 / math.Sqrt(float64(hs))): f64.sqrt is IEEE, as Go's math.Sqrt.
	f.set(scale, demote(ddiv(cd(1), dsqrt(dconvI(get(hsz))))))
	f.set(b, ci(0))
	f.while(lts(get(b), get(B)), func() {
		f.set(seq, add(get(qkv), mul(mul(get(b), get(T)), get(h.C34))))
		f.set(t, get(t0))
		f.while(lts(get(t), get(t1)), func() {
			f.set(hd, ci(0))
			f.while(lts(get(hd), get(NH)), func() {
				f.set(q, add(add(get(seq), mul(get(t), get(h.C34))), mul(get(hd), get(h.hs4))))
				f.set(k0, add(add(get(seq), shl(get(C), ci(2))), mul(get(hd), get(h.hs4))))
				f.set(v0, add(get(k0), shl(get(C), ci(2))))
				f.set(row, add(get(att), shl(mul(add(mul(add(mul(get(b), get(NH)), get(hd)), get(T)), get(t)), get(T)), ci(2))))
				f.set(n, add(get(t), ci(1))) // keys in the row
				// Scores, four keys at a time, then one at a time; the running maximum
				// per lane (v > m ? v : m, as max32), lanes combined in order.
				f.set(mv, vconst(negInf))
				f.set(t2, ci(0))
				f.set(p, get(k0))
				f.while(les(add(get(t2), ci(4)), get(n)), func() {
					h.dot4(f, q, p)
					f.set(h.s, vmul(get(h.s), vsplat(get(scale))))
					f.storeV(add(get(row), shl(get(t2), ci(2))), 0, get(h.s))
					f.set(mv, vbitselect(get(h.s), get(mv), vgt(get(h.s), get(mv))))
					f.incBy(p, shl(get(h.C34), ci(2)))
					f.inc(t2, 4)
				})
				f.set(maxv, cf(negInf))
				for l := byte(0); l < 4; l++ {
					f.set(h.x, lane(get(mv), l))
					f.when(fgt(get(h.x), get(maxv)), func() { f.set(maxv, get(h.x)) })
				}
				f.while(lts(get(t2), get(n)), func() {
					h.dot1(f, q, p)
					f.set(h.x, fmul(get(h.x), get(scale)))
					f.storeF32(add(get(row), shl(get(t2), ci(2))), 0, get(h.x))
					f.when(fgt(get(h.x), get(maxv)), func() { f.set(maxv, get(h.x)) })
					f.incBy(p, get(h.C34))
					f.inc(t2, 1)
				})
				// row −= max, exp, normalize.
				subScalar(f, row, n, maxv, p, mv)
				f.do(call(expSlice, get(row), get(n)))
				f.set(sum, cf(0))
				f.set(p, get(row))
				f.set(o, add(get(row), shl(get(n), ci(2))))
				f.while(ltu(get(p), get(o)), func() {
					f.set(sum, fadd(get(sum), loadF32(get(p), 0)))
					f.inc(p, 4)
				})
				f.set(inv, fdiv(cf(1), get(sum)))
				mulScalar(f, row, n, inv, p, mv)
				// clear(att[row+t+1 : row+T])
				f.set(p, add(get(row), shl(get(n), ci(2))))
				f.set(o, add(get(row), shl(get(T), ci(2))))
				f.while(ltu(get(p), get(o)), func() {
					f.storeF32(get(p), 0, cf(0))
					f.inc(p, 4)
				})
				// out[b,t,h] = Σ_t2 att[t2]·v[t2], four elements of the head at a time.
				f.set(o, add(get(out), shl(add(mul(add(mul(get(b), get(T)), get(t)), get(C)), mul(get(hd), get(hsz))), ci(2))))
				f.set(h.i4, ci(0))
				f.while(lts(get(h.i4), get(h.hs4)), func() {
					f.set(acc, vconst(0))
					f.set(p, add(get(v0), get(h.i4)))
					f.set(t2, ci(0))
					f.while(lts(get(t2), get(n)), func() {
						f.set(acc, vadd(get(acc), vmul(splatLoad(add(get(row), shl(get(t2), ci(2))), 0), loadV(get(p), 0))))
						f.incBy(p, get(h.C34))
						f.inc(t2, 1)
					})
					f.storeV(add(get(o), get(h.i4)), 0, get(acc))
					f.inc(h.i4, 16)
				})
				f.inc(hd, 1)
			})
			f.inc(t, 1)
		})
		f.inc(b, 1)
	})
}

// subScalar and mulScalar are one loop with another operation, written out on
// purpose (vector body, scalar tail in the Go kernel's order).

// subScalar computes x[i] −= s for the n float32 at x (p, v scratch).
func subScalar(f *fn, x, n, s, p, v local) { scalarOp(f, x, n, s, p, v, vsub, fsub) }

// mulScalar computes x[i] *= s for the n float32 at x (p, v scratch).
func mulScalar(f *fn, x, n, s, p, v local) { scalarOp(f, x, n, s, p, v, vmul, fmul) }

// scalarOp computes x[i] = op(x[i], s) for the n float32 at x: four at a time with
// the vector op vop, the tail one at a time with the scalar op sop (p, v scratch).
func scalarOp(f *fn, x, n, s, p, v local, vop, sop func(a, b E) E) {
	f.set(v, vsplat(get(s)))
	f.set(p, get(x))
	end := add(get(x), shl(get(n), ci(2)))
	f.while(leu(add(get(p), ci(16)), end), func() {
		f.storeV(get(p), 0, vop(loadV(get(p), 0), get(v)))
		f.inc(p, 16)
	})
	f.while(ltu(get(p), end), func() {
		f.storeF32(get(p), 0, sop(loadF32(get(p), 0), get(s)))
		f.inc(p, 4)
	})
}

// attentionBwd writes attention_backward(dqkv, dout, qkv, att, scratch, B, T, C, NH, t1):
//
//	datt[t2] = dout[t]·v[t2]                 dv[t2] += att[t,t2]·dout[t]
//	dpre[t2] = att[t2]·(datt[t2] − Σ_j att[j]·datt[j])·(1/√hs)
//	dq[t]   += Σ_{t2} dpre[t2]·k[t2]         dk[t2] += dpre[t2]·q[t]
//
//	dqkv (B, T, 3C), dout (B, T, C), qkv (B, T, 3C), att (B, NH, T, T); scratch
//	holds T values; query rows t < t1
func attentionBwd(m *mod) {
	f := m.newFn("attention_backward", params(10))
	dqkv, dout, qkv, att, scratch, B, T, C, NH, t1 := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5), f.param(6), f.param(7), f.param(8), f.param(9)
	h := newHeadLocals(f)
	scale := f.local(f32)
	b, t, hd := f.local(i32), f.local(i32), f.local(i32)
	d, q, k0, row, t2, n, p, o := f.local(i32), f.local(i32), f.local(i32), f.local(i32), f.local(i32), f.local(i32), f.local(i32), f.local(i32)
	off := f.local(i32) // byte offset of a head vector from qkv (the same in dqkv)
	s, a, dp := f.local(f32), f.local(f32), f.local(f32)
	sv, acc, qv := f.local(v128), f.local(v128), f.local(v128)
	seq := f.local(i32)
	hsz := f.local(i32)

	f.set(hsz, divs(get(C), get(NH)))
	f.set(h.hs4, shl(get(hsz), ci(2)))
	f.set(h.C34, mul(get(C), ci(12)))
	f.set(scale, demote(ddiv(cd(1), dsqrt(dconvI(get(hsz))))))
	f.set(b, ci(0))
	f.while(lts(get(b), get(B)), func() {
		f.set(seq, mul(mul(get(b), get(T)), get(h.C34))) // offset of sequence b in qkv
		f.set(t, ci(0))
		f.while(lts(get(t), get(t1)), func() {
			f.set(hd, ci(0))
			f.while(lts(get(hd), get(NH)), func() {
				f.set(row, add(get(att), shl(mul(add(mul(add(mul(get(b), get(NH)), get(hd)), get(T)), get(t)), get(T)), ci(2))))
				f.set(n, add(get(t), ci(1)))
				f.set(d, add(get(dout), shl(add(mul(add(mul(get(b), get(T)), get(t)), get(C)), mul(get(hd), get(hsz))), ci(2))))
				// v of key 0 of this head, as an offset from qkv (and dqkv).
				f.set(off, add(add(get(seq), shl(get(C), ci(3))), mul(get(hd), get(h.hs4))))
				// datt = dout·v, four keys at a time, then one at a time.
				f.set(t2, ci(0))
				f.set(p, add(get(qkv), get(off)))
				f.while(les(add(get(t2), ci(4)), get(n)), func() {
					h.dot4(f, d, p)
					f.storeV(add(get(scratch), shl(get(t2), ci(2))), 0, get(h.s))
					f.incBy(p, shl(get(h.C34), ci(2)))
					f.inc(t2, 4)
				})
				f.while(lts(get(t2), get(n)), func() {
					h.dot1(f, d, p)
					f.storeF32(add(get(scratch), shl(get(t2), ci(2))), 0, get(h.x))
					f.incBy(p, get(h.C34))
					f.inc(t2, 1)
				})
				// dv[t2] += att[t2]·dout; s = Σ att·datt in order of t2.
				f.set(s, cf(0))
				f.set(t2, ci(0))
				f.set(p, add(get(dqkv), get(off)))
				f.while(lts(get(t2), get(n)), func() {
					f.set(a, loadF32(add(get(row), shl(get(t2), ci(2))), 0))
					f.set(sv, vsplat(get(a)))
					f.set(h.i4, ci(0))
					f.while(lts(get(h.i4), get(h.hs4)), func() {
						f.set(o, add(get(p), get(h.i4)))
						f.storeV(get(o), 0, vadd(loadV(get(o), 0), vmul(get(sv), loadV(add(get(d), get(h.i4)), 0))))
						f.inc(h.i4, 16)
					})
					f.set(s, fadd(get(s), fmul(get(a), loadF32(add(get(scratch), shl(get(t2), ci(2))), 0))))
					f.incBy(p, get(h.C34))
					f.inc(t2, 1)
				})
				// dpre = att·(datt − s)·scale, in scratch.
				f.set(sv, vsplat(get(s)))
				f.set(qv, vsplat(get(scale)))
				f.set(t2, ci(0))
				f.while(les(add(get(t2), ci(4)), get(n)), func() {
					f.set(o, add(get(scratch), shl(get(t2), ci(2))))
					f.storeV(get(o), 0, vmul(vmul(loadV(add(get(row), shl(get(t2), ci(2))), 0), vsub(loadV(get(o), 0), get(sv))), get(qv)))
					f.inc(t2, 4)
				})
				f.while(lts(get(t2), get(n)), func() {
					f.set(o, add(get(scratch), shl(get(t2), ci(2))))
					f.storeF32(get(o), 0, fmul(fmul(loadF32(add(get(row), shl(get(t2), ci(2))), 0), fsub(loadF32(get(o), 0), get(s))), get(scale)))
					f.inc(t2, 1)
				})
				// dq[t] += Σ dpre·k[t2] (keys with dpre = 0 skipped), four elements at a time.
				f.set(q, add(add(get(seq), mul(get(t), get(h.C34))), mul(get(hd), get(h.hs4)))) // offset of q[t]
				f.set(k0, add(add(get(seq), shl(get(C), ci(2))), mul(get(hd), get(h.hs4))))     // offset of k[0]
				f.set(h.i4, ci(0))
				f.while(lts(get(h.i4), get(h.hs4)), func() {
					f.set(o, add(add(get(dqkv), get(q)), get(h.i4)))
					f.set(acc, loadV(get(o), 0))
					f.set(p, add(add(get(qkv), get(k0)), get(h.i4)))
					f.set(t2, ci(0))
					f.while(lts(get(t2), get(n)), func() {
						f.set(dp, loadF32(add(get(scratch), shl(get(t2), ci(2))), 0))
						f.when(fne(get(dp), cf(0)), func() {
							f.set(acc, vadd(get(acc), vmul(vsplat(get(dp)), loadV(get(p), 0))))
						})
						f.incBy(p, get(h.C34))
						f.inc(t2, 1)
					})
					f.storeV(get(o), 0, get(acc))
					f.inc(h.i4, 16)
				})
				// dk[t2] += dpre·q[t].
				f.set(t2, ci(0))
				f.set(p, add(get(dqkv), get(k0)))
				f.while(lts(get(t2), get(n)), func() {
					f.set(dp, loadF32(add(get(scratch), shl(get(t2), ci(2))), 0))
					f.when(fne(get(dp), cf(0)), func() {
						f.set(sv, vsplat(get(dp)))
						f.set(h.i4, ci(0))
						f.while(lts(get(h.i4), get(h.hs4)), func() {
							f.set(o, add(get(p), get(h.i4)))
							f.storeV(get(o), 0, vadd(loadV(get(o), 0), vmul(get(sv), loadV(add(add(get(qkv), get(q)), get(h.i4)), 0))))
							f.inc(h.i4, 16)
						})
					})
					f.incBy(p, get(h.C34))
					f.inc(t2, 1)
				})
				f.inc(hd, 1)
			})
			f.inc(t, 1)
		})
		f.inc(b, 1)
	})
}
