package module

// The reward MLP's kernels (core/reward, nets.go and kernels.go).
//
// Each kernel is a vector loop and a scalar tail that repeat one body on purpose:
// the tail must compute what the Go kernel computes for those lanes, bit for bit.

// gatherAcc writes gather_acc(Y, S, idx, val, n, L), the first layer of the reward
// MLP on a sparse row:
//
//	Y[i] += Σ_k val[k]·S[idx[k]·L + i]      i < L, terms added in order of k
//
// the pattern of gemm_acc with gathered rows: a lane is a column, each k adds one
// product. Columns in groups of 32, 8, 4, then one at a time.
func gatherAcc(m *mod) {
	f := m.newFn("gather_acc", params(6))
	Y, S, idx, val, n, L := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5)
	L4 := f.local(i32)
	i4 := f.local(i32)
	k := f.local(i32)
	row := f.local(i32)
	var acc [8]local
	for i := range acc {
		acc[i] = f.local(v128)
	}
	av := f.local(v128)
	as := f.local(f32)
	accS := f.local(f32)
	f.set(L4, shl(get(L), ci(2)))
	f.set(i4, ci(0))
	group := func(vecs int) {
		width := int32(16 * vecs)
		if vecs == 0 {
			width = 4
		}
		f.while(les(add(get(i4), ci(width)), get(L4)), func() {
			for v := 0; v < vecs; v++ {
				f.set(acc[v], loadV(add(get(Y), get(i4)), uint32(16*v)))
			}
			if vecs == 0 {
				f.set(accS, loadF32(add(get(Y), get(i4)), 0))
			}
			f.set(k, ci(0))
			f.while(lts(get(k), get(n)), func() {
				// row = &S[idx[k]·L + i]
				f.set(row, add(add(get(S), mul(loadI32(add(get(idx), shl(get(k), ci(2))), 0), get(L4))), get(i4)))
				if vecs == 0 {
					f.set(as, loadF32(add(get(val), shl(get(k), ci(2))), 0))
					f.set(accS, fadd(get(accS), fmul(get(as), loadF32(get(row), 0))))
				} else {
					f.set(av, splatLoad(add(get(val), shl(get(k), ci(2))), 0))
					for v := 0; v < vecs; v++ {
						f.set(acc[v], vadd(get(acc[v]), vmul(get(av), loadV(get(row), uint32(16*v)))))
					}
				}
				f.inc(k, 1)
			})
			for v := 0; v < vecs; v++ {
				f.storeV(add(get(Y), get(i4)), uint32(16*v), get(acc[v]))
			}
			if vecs == 0 {
				f.storeF32(add(get(Y), get(i4)), 0, get(accS))
			}
			f.inc(i4, width)
		})
	}
	group(8)
	group(2)
	group(1)
	group(0)
}

// scatterAcc writes scatter_acc(G, D, idx, val, n, L), the first layer's gradient
// of the reward MLP on a sparse row:
//
//	G[idx[k]·L + i] += val[k]·D[i]      k < n in order, i < L
func scatterAcc(m *mod) {
	f := m.newFn("scatter_acc", params(6))
	G, D, idx, val, n, L := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5)
	L4 := f.local(i32)
	i4 := f.local(i32)
	k := f.local(i32)
	row := f.local(i32)
	av := f.local(v128)
	as := f.local(f32)
	f.set(L4, shl(get(L), ci(2)))
	f.set(k, ci(0))
	f.while(lts(get(k), get(n)), func() {
		f.set(row, add(get(G), mul(loadI32(add(get(idx), shl(get(k), ci(2))), 0), get(L4))))
		f.set(as, loadF32(add(get(val), shl(get(k), ci(2))), 0))
		f.set(av, vsplat(get(as)))
		f.set(i4, ci(0))
		f.while(les(add(get(i4), ci(16)), get(L4)), func() {
			f.storeV(add(get(row), get(i4)), 0, vadd(loadV(add(get(row), get(i4)), 0), vmul(get(av), loadV(add(get(D), get(i4)), 0))))
			f.inc(i4, 16)
		})
		f.while(lts(get(i4), get(L4)), func() {
			f.storeF32(add(get(row), get(i4)), 0, fadd(loadF32(add(get(row), get(i4)), 0), fmul(get(as), loadF32(add(get(D), get(i4)), 0))))
			f.inc(i4, 4)
		})
		f.inc(k, 1)
	})
}

// adamRange writes adam_range(p, g, m, v, n, alpha, eps, b1, b2, a1, a2, decay),
// core/reward's adamRange: for every i < n,
//
//	m = b1·m + a1·g,  v = b2·v + a2·(g·g)
//	p = decay·p − alpha·m/(√v + eps)
//
// with f32x4.sqrt (IEEE, as float32(math.Sqrt(float64(v)))). The float32 settings
// are passed as their bits (i32).
func adamRange(m *mod) {
	f := m.newFn("adam_range", params(12))
	p, g, mm, vv, n := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)
	var c [7]local // alpha, eps, b1, b2, a1, a2, decay as f32x4 splats
	var cs [7]local
	for i := range c {
		cs[i] = f.local(f32)
		f.set(cs[i], asF32(get(f.param(5+i))))
		c[i] = f.local(v128)
		f.set(c[i], vsplat(get(cs[i])))
	}
	alpha, eps, b1, b2, a1, a2, decay := 0, 1, 2, 3, 4, 5, 6
	off := f.local(i32)
	end := f.local(i32)
	gv, mv, vv2 := f.local(v128), f.local(v128), f.local(v128)
	gs, ms, vs := f.local(f32), f.local(f32), f.local(f32)
	f.set(end, shl(get(n), ci(2)))
	f.set(off, ci(0))
	f.while(les(add(get(off), ci(16)), get(end)), func() {
		f.set(gv, loadV(add(get(g), get(off)), 0))
		f.set(mv, vadd(vmul(get(c[b1]), loadV(add(get(mm), get(off)), 0)), vmul(get(c[a1]), get(gv))))
		f.set(vv2, vadd(vmul(get(c[b2]), loadV(add(get(vv), get(off)), 0)), vmul(get(c[a2]), vmul(get(gv), get(gv)))))
		f.storeV(add(get(mm), get(off)), 0, get(mv))
		f.storeV(add(get(vv), get(off)), 0, get(vv2))
		f.storeV(add(get(p), get(off)), 0, vsub(vmul(get(c[decay]), loadV(add(get(p), get(off)), 0)),
			vdiv(vmul(get(c[alpha]), get(mv)), vadd(vsqrt(get(vv2)), get(c[eps])))))
		f.inc(off, 16)
	})
	f.while(lts(get(off), get(end)), func() {
		f.set(gs, loadF32(add(get(g), get(off)), 0))
		f.set(ms, fadd(fmul(get(cs[b1]), loadF32(add(get(mm), get(off)), 0)), fmul(get(cs[a1]), get(gs))))
		f.set(vs, fadd(fmul(get(cs[b2]), loadF32(add(get(vv), get(off)), 0)), fmul(get(cs[a2]), fmul(get(gs), get(gs)))))
		f.storeF32(add(get(mm), get(off)), 0, get(ms))
		f.storeF32(add(get(vv), get(off)), 0, get(vs))
		f.storeF32(add(get(p), get(off)), 0, fsub(fmul(get(cs[decay]), loadF32(add(get(p), get(off)), 0)),
			fdiv(fmul(get(cs[alpha]), get(ms)), fadd(fsqrt(get(vs)), get(cs[eps])))))
		f.inc(off, 4)
	})
}

// adamW writes adamw(p, g, m, v, n, scale, b1, b2, c1, c2, eps, lr, wd), core/lm's
// AdamW update of one tensor: for every i < n,
//
//	g' = g·scale,  m = b1·m + (1−b1)·g',  v = b2·v + (1−b2)·g'·g'
//	p −= lr·((m·c1)/(√(v·c2) + eps) + wd·p)
//
// float32 settings passed as their bits.
func adamW(m *mod) {
	f := m.newFn("adamw", params(13))
	p, g, mm, vv, n := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)
	var c [8]local // scale, b1, b2, c1, c2, eps, lr, wd as f32x4 splats
	var cs [8]local
	for i := range c {
		cs[i] = f.local(f32)
		f.set(cs[i], asF32(get(f.param(5+i))))
		c[i] = f.local(v128)
		f.set(c[i], vsplat(get(cs[i])))
	}
	scale, b1, b2, c1, c2, eps, lr, wd := 0, 1, 2, 3, 4, 5, 6, 7
	a1s, a2s := f.local(f32), f.local(f32)
	a1, a2 := f.local(v128), f.local(v128)
	f.set(a1s, fsub(cf(1), get(cs[b1])))
	f.set(a2s, fsub(cf(1), get(cs[b2])))
	f.set(a1, vsplat(get(a1s)))
	f.set(a2, vsplat(get(a2s)))
	off, end := f.local(i32), f.local(i32)
	gv, mv, vv2, pv := f.local(v128), f.local(v128), f.local(v128), f.local(v128)
	gs, ms, vs, ps := f.local(f32), f.local(f32), f.local(f32), f.local(f32)
	f.set(end, shl(get(n), ci(2)))
	f.set(off, ci(0))
	f.while(les(add(get(off), ci(16)), get(end)), func() {
		f.set(gv, vmul(loadV(add(get(g), get(off)), 0), get(c[scale])))
		f.set(mv, vadd(vmul(get(c[b1]), loadV(add(get(mm), get(off)), 0)), vmul(get(a1), get(gv))))
		f.set(vv2, vadd(vmul(get(c[b2]), loadV(add(get(vv), get(off)), 0)), vmul(vmul(get(a2), get(gv)), get(gv))))
		f.storeV(add(get(mm), get(off)), 0, get(mv))
		f.storeV(add(get(vv), get(off)), 0, get(vv2))
		f.set(pv, loadV(add(get(p), get(off)), 0))
		f.storeV(add(get(p), get(off)), 0, vsub(get(pv), vmul(get(c[lr]),
			vadd(vdiv(vmul(get(mv), get(c[c1])), vadd(vsqrt(vmul(get(vv2), get(c[c2]))), get(c[eps]))), vmul(get(c[wd]), get(pv))))))
		f.inc(off, 16)
	})
	f.while(lts(get(off), get(end)), func() {
		f.set(gs, fmul(loadF32(add(get(g), get(off)), 0), get(cs[scale])))
		f.set(ms, fadd(fmul(get(cs[b1]), loadF32(add(get(mm), get(off)), 0)), fmul(get(a1s), get(gs))))
		f.set(vs, fadd(fmul(get(cs[b2]), loadF32(add(get(vv), get(off)), 0)), fmul(fmul(get(a2s), get(gs)), get(gs))))
		f.storeF32(add(get(mm), get(off)), 0, get(ms))
		f.storeF32(add(get(vv), get(off)), 0, get(vs))
		f.set(ps, loadF32(add(get(p), get(off)), 0))
		f.storeF32(add(get(p), get(off)), 0, fsub(get(ps), fmul(get(cs[lr]),
			fadd(fdiv(fmul(get(ms), get(cs[c1])), fadd(fsqrt(fmul(get(vs), get(cs[c2]))), get(cs[eps]))), fmul(get(cs[wd]), get(ps))))))
		f.inc(off, 4)
	})
}
