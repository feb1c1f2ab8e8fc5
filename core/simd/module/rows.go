package module

// Row kernels of core/lm: layer norm (layernorm.go), GELU (mlp.go), the softmax of
// the output layer (output.go) and AdamW (adamw.go), each in its Go kernel's order.
// Elementwise parts run four columns per f32x4; sums along a row are sequential in
// the Go code, so they stay scalar, with four rows interleaved where the rows are
// independent (four dependency chains instead of one). The interleaved, vector
// and scalar passes repeat one body on purpose: each must give the Go kernel's bits.

// f32 constants of core/lm, as Go's compiler rounds the untyped constants.
var (
	lnEps     = float32(1e-5)
	geluScale = float32(0.7978845608028654)
	geluCube  = float32(0.044715)
	geluCube3 = float32(3 * 0.044715)
)

// layernormFwd writes layernorm_forward(out, mean, rstd, inp, w, b, N, C):
//
//	μ = Σx/C (left to right),  σ² = Σ(x−μ)²/C,  r = float32(1/√float64(σ² + ε))
//	out = (x − μ)·r·w + b
func layernormFwd(m *mod) {
	f := m.newFn("layernorm_forward", params(8))
	out, mean, rstd, inp, w, b, N, C := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5), f.param(6), f.param(7)
	C4 := f.local(i32)
	Cf := f.local(f32)
	n := f.local(i32)
	i4 := f.local(i32)
	var x [4]local // row pointers
	var s, v2, mu, r [4]local
	for k := range x {
		x[k], s[k], v2[k], mu[k], r[k] = f.local(i32), f.local(f32), f.local(f32), f.local(f32), f.local(f32)
	}
	d := f.local(f32)
	mv, rv := f.local(v128), f.local(v128)
	o := f.local(i32)
	f.set(C4, shl(get(C), ci(2)))
	f.set(Cf, convI(get(C)))
	f.set(n, ci(0))
	rows := func(R int) {
		f.while(les(add(get(n), ci(int32(R))), get(N)), func() {
			for k := 0; k < R; k++ {
				f.set(x[k], add(get(inp), mul(add(get(n), ci(int32(k))), get(C4))))
				f.set(s[k], cf(0))
				f.set(v2[k], cf(0))
			}
			f.set(i4, ci(0))
			f.while(lts(get(i4), get(C4)), func() {
				for k := 0; k < R; k++ {
					f.set(s[k], fadd(get(s[k]), loadF32(add(get(x[k]), get(i4)), 0)))
				}
				f.inc(i4, 4)
			})
			for k := 0; k < R; k++ {
				f.set(mu[k], fdiv(get(s[k]), get(Cf)))
			}
			f.set(i4, ci(0))
			f.while(lts(get(i4), get(C4)), func() {
				for k := 0; k < R; k++ {
					f.set(d, fsub(loadF32(add(get(x[k]), get(i4)), 0), get(mu[k])))
					f.set(v2[k], fadd(get(v2[k]), fmul(get(d), get(d))))
				}
				f.inc(i4, 4)
			})
			for k := 0; k < R; k++ {
				f.set(r[k], demote(ddiv(cd(1), dsqrt(promote(fadd(fdiv(get(v2[k]), get(Cf)), cf(lnEps)))))))
				// out = (x − μ)·r·w + b, four columns at a time.
				f.set(o, add(get(out), mul(add(get(n), ci(int32(k))), get(C4))))
				f.set(mv, vsplat(get(mu[k])))
				f.set(rv, vsplat(get(r[k])))
				f.set(i4, ci(0))
				f.while(les(add(get(i4), ci(16)), get(C4)), func() {
					f.storeV(add(get(o), get(i4)), 0, vadd(vmul(vmul(vsub(loadV(add(get(x[k]), get(i4)), 0), get(mv)), get(rv)),
						loadV(add(get(w), get(i4)), 0)), loadV(add(get(b), get(i4)), 0)))
					f.inc(i4, 16)
				})
				f.while(lts(get(i4), get(C4)), func() {
					f.storeF32(add(get(o), get(i4)), 0, fadd(fmul(fmul(fsub(loadF32(add(get(x[k]), get(i4)), 0), get(mu[k])), get(r[k])),
						loadF32(add(get(w), get(i4)), 0)), loadF32(add(get(b), get(i4)), 0)))
					f.inc(i4, 4)
				})
				f.storeF32(add(get(mean), shl(add(get(n), ci(int32(k))), ci(2))), 0, get(mu[k]))
				f.storeF32(add(get(rstd), shl(add(get(n), ci(int32(k))), ci(2))), 0, get(r[k]))
			}
			f.inc(n, int32(R))
		})
	}
	rows(4)
	rows(1)
}

// layernormBwd writes layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, N, C):
// with x̂ = (x−μ)·r and g = dout·w,
//
//	gm = Σg/C, gxm = Σ g·x̂/C (left to right)
//	db += dout,  dw += x̂·dout,  dinp += (g − gm − x̂·gxm)·r
//
// rows in order (dw and db accumulate over rows).
func layernormBwd(m *mod) {
	f := m.newFn("layernorm_backward", params(10))
	dinp, dw, db, dout, inp, w, mean, rstd, N, C := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5), f.param(6), f.param(7), f.param(8), f.param(9)
	C4 := f.local(i32)
	Cf := f.local(f32)
	n := f.local(i32)
	i4 := f.local(i32)
	var x, d [4]local // row pointers of inp and dout
	var mu, r, gm, gx [4]local
	for k := range x {
		x[k], d[k] = f.local(i32), f.local(i32)
		mu[k], r[k], gm[k], gx[k] = f.local(f32), f.local(f32), f.local(f32), f.local(f32)
	}
	xh, g, dv := f.local(f32), f.local(f32), f.local(f32)
	xv, gv, dvv := f.local(v128), f.local(v128), f.local(v128)
	muv, rv, gmv, gxv := f.local(v128), f.local(v128), f.local(v128), f.local(v128)
	di := f.local(i32)
	f.set(C4, shl(get(C), ci(2)))
	f.set(Cf, convI(get(C)))
	f.set(n, ci(0))
	rows := func(R int) {
		f.while(les(add(get(n), ci(int32(R))), get(N)), func() {
			for k := 0; k < R; k++ {
				row := add(get(n), ci(int32(k)))
				f.set(x[k], add(get(inp), mul(row, get(C4))))
				f.set(d[k], add(get(dout), mul(add(get(n), ci(int32(k))), get(C4))))
				f.set(mu[k], loadF32(add(get(mean), shl(add(get(n), ci(int32(k))), ci(2))), 0))
				f.set(r[k], loadF32(add(get(rstd), shl(add(get(n), ci(int32(k))), ci(2))), 0))
				f.set(gm[k], cf(0))
				f.set(gx[k], cf(0))
			}
			f.set(i4, ci(0))
			f.while(lts(get(i4), get(C4)), func() {
				for k := 0; k < R; k++ {
					f.set(xh, fmul(fsub(loadF32(add(get(x[k]), get(i4)), 0), get(mu[k])), get(r[k])))
					f.set(g, fmul(loadF32(add(get(d[k]), get(i4)), 0), loadF32(add(get(w), get(i4)), 0)))
					f.set(gm[k], fadd(get(gm[k]), get(g)))
					f.set(gx[k], fadd(get(gx[k]), fmul(get(g), get(xh))))
				}
				f.inc(i4, 4)
			})
			for k := 0; k < R; k++ {
				f.set(gm[k], fdiv(get(gm[k]), get(Cf)))
				f.set(gx[k], fdiv(get(gx[k]), get(Cf)))
				f.set(di, add(get(dinp), mul(add(get(n), ci(int32(k))), get(C4))))
				f.set(muv, vsplat(get(mu[k])))
				f.set(rv, vsplat(get(r[k])))
				f.set(gmv, vsplat(get(gm[k])))
				f.set(gxv, vsplat(get(gx[k])))
				f.set(i4, ci(0))
				f.while(les(add(get(i4), ci(16)), get(C4)), func() {
					f.set(xv, vmul(vsub(loadV(add(get(x[k]), get(i4)), 0), get(muv)), get(rv)))
					f.set(dvv, loadV(add(get(d[k]), get(i4)), 0))
					f.set(gv, vmul(get(dvv), loadV(add(get(w), get(i4)), 0)))
					f.storeV(add(get(db), get(i4)), 0, vadd(loadV(add(get(db), get(i4)), 0), get(dvv)))
					f.storeV(add(get(dw), get(i4)), 0, vadd(loadV(add(get(dw), get(i4)), 0), vmul(get(xv), get(dvv))))
					f.storeV(add(get(di), get(i4)), 0, vadd(loadV(add(get(di), get(i4)), 0),
						vmul(vsub(vsub(get(gv), get(gmv)), vmul(get(xv), get(gxv))), get(rv))))
					f.inc(i4, 16)
				})
				f.while(lts(get(i4), get(C4)), func() {
					f.set(xh, fmul(fsub(loadF32(add(get(x[k]), get(i4)), 0), get(mu[k])), get(r[k])))
					f.set(dv, loadF32(add(get(d[k]), get(i4)), 0))
					f.set(g, fmul(get(dv), loadF32(add(get(w), get(i4)), 0)))
					f.storeF32(add(get(db), get(i4)), 0, fadd(loadF32(add(get(db), get(i4)), 0), get(dv)))
					f.storeF32(add(get(dw), get(i4)), 0, fadd(loadF32(add(get(dw), get(i4)), 0), fmul(get(xh), get(dv))))
					f.storeF32(add(get(di), get(i4)), 0, fadd(loadF32(add(get(di), get(i4)), 0),
						fmul(fsub(fsub(get(g), get(gm[k])), fmul(get(xh), get(gx[k]))), get(r[k]))))
					f.inc(i4, 4)
				})
			}
			f.inc(n, int32(R))
		})
	}
	rows(4)
	rows(1)
}

// clampVec is v clamped to [−9, 9] as clamp9 (NaN stays NaN).
func clampVec(v E) E {
	return func(g *fn) {
		x := g.local(v128)
		g.set(x, v)
		g.set(x, vbitselect(vconst(9), get(x), vgt(get(x), vconst(9))))
		vbitselect(vconst(-9), get(x), vlt(get(x), vconst(-9)))(g)
	}
}

// clampScalar is clamp9.
func clampScalar(f *fn, v local) {
	f.whenElse(fgt(get(v), cf(9)), func() { f.set(v, cf(9)) }, func() {
		f.when(flt(get(v), cf(-9)), func() { f.set(v, cf(-9)) })
	})
}

// geluFwd writes gelu_forward(out, th, inp, n):
//
//	th = tanh(√(2/π)·(x + 0.044715·x·x·x)) as 1 − 2/(e**(2·clamp9(u)) + 1)
//	out = 0.5·x·(1 + th)
func geluFwd(m *mod, expSlice *fn) {
	f := m.newFn("gelu_forward", params(4))
	out, th, inp, n := f.param(0), f.param(1), f.param(2), f.param(3)
	off, end := f.local(i32), f.local(i32)
	xv, tv := f.local(v128), f.local(v128)
	x, t := f.local(f32), f.local(f32)
	f.set(end, shl(get(n), ci(2)))
	f.set(off, ci(0))
	f.while(les(add(get(off), ci(16)), get(end)), func() {
		f.set(xv, loadV(add(get(inp), get(off)), 0))
		f.storeV(add(get(th), get(off)), 0, vmul(vconst(2), clampVec(vmul(vconst(geluScale),
			vadd(get(xv), vmul(vmul(vmul(vconst(geluCube), get(xv)), get(xv)), get(xv)))))))
		f.inc(off, 16)
	})
	f.while(lts(get(off), get(end)), func() {
		f.set(x, loadF32(add(get(inp), get(off)), 0))
		f.set(t, fmul(cf(geluScale), fadd(get(x), fmul(fmul(fmul(cf(geluCube), get(x)), get(x)), get(x)))))
		clampScalar(f, t)
		f.storeF32(add(get(th), get(off)), 0, fmul(cf(2), get(t)))
		f.inc(off, 4)
	})
	f.do(call(expSlice, get(th), get(n)))
	f.set(off, ci(0))
	f.while(les(add(get(off), ci(16)), get(end)), func() {
		f.set(tv, vsub(vconst(1), vdiv(vconst(2), vadd(loadV(add(get(th), get(off)), 0), vconst(1)))))
		f.storeV(add(get(th), get(off)), 0, get(tv))
		f.storeV(add(get(out), get(off)), 0, vmul(vmul(vconst(0.5), loadV(add(get(inp), get(off)), 0)), vadd(vconst(1), get(tv))))
		f.inc(off, 16)
	})
	f.while(lts(get(off), get(end)), func() {
		f.set(t, fsub(cf(1), fdiv(cf(2), fadd(loadF32(add(get(th), get(off)), 0), cf(1)))))
		f.storeF32(add(get(th), get(off)), 0, get(t))
		f.storeF32(add(get(out), get(off)), 0, fmul(fmul(cf(0.5), loadF32(add(get(inp), get(off)), 0)), fadd(cf(1), get(t))))
		f.inc(off, 4)
	})
}

// geluBwd writes gelu_backward(dinp, inp, th, dout, n):
//
//	g = 0.5·(1 + t) + 0.5·x·(1 − t·t)·√(2/π)·(1 + 3·0.044715·x·x);  dinp += g·dout
func geluBwd(m *mod) {
	f := m.newFn("gelu_backward", params(5))
	dinp, inp, th, dout, n := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)
	off, end := f.local(i32), f.local(i32)
	xv, tv := f.local(v128), f.local(v128)
	x, t := f.local(f32), f.local(f32)
	f.set(end, shl(get(n), ci(2)))
	f.set(off, ci(0))
	grad := func(x, t E, k func(float32) E, add2, sub2, mul2 func(a, b E) E) E {
		// 0.5*(1+t) + 0.5*x*(1-t*t)*geluScale*(1+3*0.044715*x*x)
		left := mul2(k(0.5), add2(k(1), t))
		right := mul2(mul2(mul2(mul2(k(0.5), x), sub2(k(1), mul2(t, t))), k(geluScale)),
			add2(k(1), mul2(mul2(k(geluCube3), x), x)))
		return add2(left, right)
	}
	f.while(les(add(get(off), ci(16)), get(end)), func() {
		f.set(xv, loadV(add(get(inp), get(off)), 0))
		f.set(tv, loadV(add(get(th), get(off)), 0))
		f.storeV(add(get(dinp), get(off)), 0, vadd(loadV(add(get(dinp), get(off)), 0),
			vmul(grad(get(xv), get(tv), vconst, vadd, vsub, vmul), loadV(add(get(dout), get(off)), 0))))
		f.inc(off, 16)
	})
	f.while(lts(get(off), get(end)), func() {
		f.set(x, loadF32(add(get(inp), get(off)), 0))
		f.set(t, loadF32(add(get(th), get(off)), 0))
		f.storeF32(add(get(dinp), get(off)), 0, fadd(loadF32(add(get(dinp), get(off)), 0),
			fmul(grad(get(x), get(t), cf, fadd, fsub, fmul), loadF32(add(get(dout), get(off)), 0))))
		f.inc(off, 4)
	})
}

// softmaxRows writes softmax_rows(probs, logits, N, V, zs, pls, ms), the part of
// core/lm's softmaxForward before its logarithm: for each row,
//
//	m = max_v l_v (max32 from l_0),  p_v = e**(l_v − m)
//	z = Σ float64(p_v) (left to right),  p_v *= float32(1/z)
//	pl = Σ float64(p_v)·float64(l_v − m) (left to right)
//
// written to probs, zs (float64), pls (float64) and ms (float32). The sums of four
// rows are interleaved (independent chains). The caller takes the logarithm.
func softmaxRows(m *mod, expSlice *fn) {
	f := m.newFn("softmax_rows", params(7))
	probs, logits, N, V, zs, pls, ms := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5), f.param(6)
	V4 := f.local(i32)
	n := f.local(i32)
	i4 := f.local(i32)
	var l, p [4]local
	var mx [4]local
	var z, pl [4]local
	for k := range l {
		l[k], p[k] = f.local(i32), f.local(i32)
		mx[k] = f.local(f32)
		z[k], pl[k] = f.local(f64), f.local(f64)
	}
	mv, v, inv := f.local(v128), f.local(v128), f.local(v128)
	x := f.local(f32)
	invs := f.local(f32)
	e := f.local(f32)
	f.set(V4, shl(get(V), ci(2)))
	f.set(n, ci(0))
	rows := func(R int) {
		f.while(les(add(get(n), ci(int32(R))), get(N)), func() {
			for k := 0; k < R; k++ {
				f.set(l[k], add(get(logits), mul(add(get(n), ci(int32(k))), get(V4))))
				f.set(p[k], add(get(probs), mul(add(get(n), ci(int32(k))), get(V4))))
				// The maximum: per lane v > m ? v : m from l_0, lanes then the tail in order.
				f.set(mv, vsplat(loadF32(get(l[k]), 0)))
				f.set(i4, ci(0))
				f.while(les(add(get(i4), ci(16)), get(V4)), func() {
					f.set(v, loadV(add(get(l[k]), get(i4)), 0))
					f.set(mv, vbitselect(get(v), get(mv), vgt(get(v), get(mv))))
					f.inc(i4, 16)
				})
				f.set(mx[k], lane(get(mv), 0))
				for ln := byte(1); ln < 4; ln++ {
					f.set(x, lane(get(mv), ln))
					f.when(fgt(get(x), get(mx[k])), func() { f.set(mx[k], get(x)) })
				}
				f.while(lts(get(i4), get(V4)), func() {
					f.set(x, loadF32(add(get(l[k]), get(i4)), 0))
					f.when(fgt(get(x), get(mx[k])), func() { f.set(mx[k], get(x)) })
					f.inc(i4, 4)
				})
				// p = l − m, then e**p.
				f.set(mv, vsplat(get(mx[k])))
				f.set(i4, ci(0))
				f.while(les(add(get(i4), ci(16)), get(V4)), func() {
					f.storeV(add(get(p[k]), get(i4)), 0, vsub(loadV(add(get(l[k]), get(i4)), 0), get(mv)))
					f.inc(i4, 16)
				})
				f.while(lts(get(i4), get(V4)), func() {
					f.storeF32(add(get(p[k]), get(i4)), 0, fsub(loadF32(add(get(l[k]), get(i4)), 0), get(mx[k])))
					f.inc(i4, 4)
				})
				f.do(call(expSlice, get(p[k]), get(V)))
				f.set(z[k], cd(0))
				f.set(pl[k], cd(0))
			}
			// z, the rows interleaved.
			f.set(i4, ci(0))
			f.while(lts(get(i4), get(V4)), func() {
				for k := 0; k < R; k++ {
					f.set(z[k], dadd(get(z[k]), promote(loadF32(add(get(p[k]), get(i4)), 0))))
				}
				f.inc(i4, 4)
			})
			// p *= float32(1/z).
			for k := 0; k < R; k++ {
				f.set(invs, demote(ddiv(cd(1), get(z[k]))))
				f.set(inv, vsplat(get(invs)))
				f.set(i4, ci(0))
				f.while(les(add(get(i4), ci(16)), get(V4)), func() {
					f.storeV(add(get(p[k]), get(i4)), 0, vmul(loadV(add(get(p[k]), get(i4)), 0), get(inv)))
					f.inc(i4, 16)
				})
				f.while(lts(get(i4), get(V4)), func() {
					f.storeF32(add(get(p[k]), get(i4)), 0, fmul(loadF32(add(get(p[k]), get(i4)), 0), get(invs)))
					f.inc(i4, 4)
				})
			}
			// pl, the rows interleaved.
			f.set(i4, ci(0))
			f.while(lts(get(i4), get(V4)), func() {
				for k := 0; k < R; k++ {
					f.set(e, loadF32(add(get(p[k]), get(i4)), 0))
					f.set(pl[k], dadd(get(pl[k]), dmul(promote(get(e)), promote(fsub(loadF32(add(get(l[k]), get(i4)), 0), get(mx[k]))))))
				}
				f.inc(i4, 4)
			})
			for k := 0; k < R; k++ {
				row := add(get(n), ci(int32(k)))
				f.storeF64(add(get(zs), shl(row, ci(3))), 0, get(z[k]))
				f.storeF64(add(get(pls), shl(add(get(n), ci(int32(k))), ci(3))), 0, get(pl[k]))
				f.storeF32(add(get(ms), shl(add(get(n), ci(int32(k))), ci(2))), 0, get(mx[k]))
			}
			f.inc(n, int32(R))
		})
	}
	rows(4)
	rows(1)
}
