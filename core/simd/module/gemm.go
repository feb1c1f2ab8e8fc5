package module

// gemmAcc writes gemm_acc(Y, A, ars, aks, S, R, K, L), core/lm's gemmAcc:
//
//	Y[r,i] += Σ_k A[r·ars + k·aks]·S[k,i]      r < R, i < L, terms added in order of k
//
//	Y (R, L), S (K, L) row-major; A addressed by the strides (ars, aks)
//
// Each lane is one column i: the accumulator is Y[r,i] and every k adds one product,
// exactly the scalar sequence. Tiles of 4 rows × 8 columns (eight f32x4
// accumulators kept in registers over all of K), then 4 columns, then single
// columns; leftover rows one at a time. The tiles repeat one body on purpose
// (unrolled; every tile adds in the same order).
func gemmAcc(m *mod) {
	f := m.newFn("gemm_acc", params(8))
	Y, A, ars, aks, S, R, K, L := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5), f.param(6), f.param(7)
	L4 := f.local(i32)   // row stride of Y and S in bytes
	ars4 := f.local(i32) // strides of A in bytes
	aks4 := f.local(i32)
	r := f.local(i32)
	yrow := f.local(i32) // &Y[r,0]
	arow := f.local(i32) // &A[r·ars]
	i4 := f.local(i32)   // column offset in bytes
	k := f.local(i32)
	ps := f.local(i32) // &S[k,i]
	var pa [4]local    // &A[(r+rr)·ars + k·aks]
	for rr := range pa {
		pa[rr] = f.local(i32)
	}
	var acc [4][2]local
	var accS [4]local
	for rr := range acc {
		for v := range acc[rr] {
			acc[rr][v] = f.local(v128)
		}
		accS[rr] = f.local(f32)
	}
	sv := [2]local{f.local(v128), f.local(v128)}
	av := f.local(v128)
	as := f.local(f32)
	ss := f.local(f32)

	f.set(L4, shl(get(L), ci(2)))
	f.set(ars4, shl(get(ars), ci(2)))
	f.set(aks4, shl(get(aks), ci(2)))
	f.set(r, ci(0))

	// yaddr is &Y[r+rr, i].
	yaddr := func(rr int) E {
		if rr == 0 {
			return add(get(yrow), get(i4))
		}
		return add(add(get(yrow), get(i4)), mul(get(L4), ci(int32(rr))))
	}
	// tile handles rows r..r+rows−1 and columns from i4 while vecs·4 columns remain
	// (vecs 0: one column at a time, scalar).
	tile := func(rows, vecs int) {
		width := int32(4 * vecs)
		if vecs == 0 {
			width = 1
		}
		f.while(les(add(get(i4), ci(4*width)), get(L4)), func() {
			for rr := 0; rr < rows; rr++ {
				if vecs == 0 {
					f.set(accS[rr], loadF32(yaddr(rr), 0))
				}
				for v := 0; v < vecs; v++ {
					f.set(acc[rr][v], loadV(yaddr(rr), uint32(16*v)))
				}
				if rr == 0 {
					f.set(pa[0], get(arow))
				} else {
					f.set(pa[rr], add(get(pa[rr-1]), get(ars4)))
				}
			}
			f.set(ps, add(get(S), get(i4)))
			f.set(k, get(K))
			f.while(gts(get(k), ci(0)), func() {
				for v := 0; v < vecs; v++ {
					f.set(sv[v], loadV(get(ps), uint32(16*v)))
				}
				if vecs == 0 {
					f.set(ss, loadF32(get(ps), 0))
				}
				for rr := 0; rr < rows; rr++ {
					if vecs == 0 {
						f.set(as, loadF32(get(pa[rr]), 0))
						f.set(accS[rr], fadd(get(accS[rr]), fmul(get(as), get(ss))))
					} else {
						f.set(av, splatLoad(get(pa[rr]), 0))
						for v := 0; v < vecs; v++ {
							f.set(acc[rr][v], vadd(get(acc[rr][v]), vmul(get(av), get(sv[v]))))
						}
					}
					f.incBy(pa[rr], get(aks4))
				}
				f.incBy(ps, get(L4))
				f.inc(k, -1)
			})
			for rr := 0; rr < rows; rr++ {
				if vecs == 0 {
					f.storeF32(yaddr(rr), 0, get(accS[rr]))
				}
				for v := 0; v < vecs; v++ {
					f.storeV(yaddr(rr), uint32(16*v), get(acc[rr][v]))
				}
			}
			f.inc(i4, 4*width)
		})
	}
	rowTile := func(rows int) {
		f.while(les(add(get(r), ci(int32(rows))), get(R)), func() {
			f.set(yrow, add(get(Y), mul(get(r), get(L4))))
			f.set(arow, add(get(A), mul(get(r), get(ars4))))
			f.set(i4, ci(0))
			tile(rows, 2)
			tile(rows, 1)
			tile(rows, 0)
			f.inc(r, int32(rows))
		})
	}
	rowTile(4)
	rowTile(1)
}

// gemmDot writes gemm_dot(Y, X, W, bias, mode, R, J, L), core/lm's gemmDot:
//
//	Y[r,j] = base + Σ_l X[r,l]·W[j,l]       r < R, j < J
//
//	Y (R, J), X (R, L), W (J, L) row-major; base is 0 (mode 0), bias[j] (mode 1) or
//	Y[r,j] (mode 2)
//
// The sum runs over blocks of eight products, each block summed left to right
// (its first product, plus the second, …), the blocks added in order to a sum that
// starts at +0, then the remaining products one by one; base + sum last. Each lane
// is one column j, so the kernel needs W's columns: it transposes 4×4 blocks of W
// in registers (eight shuffles), each used by a tile of four rows of X. Leftover
// columns are computed one at a time with scalar arithmetic in the same order.
func gemmDot(m *mod) {
	f := m.newFn("gemm_dot", params(8))
	Y, X, W, bias, mode, R, J, L := f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5), f.param(6), f.param(7)
	L4 := f.local(i32)
	J4 := f.local(i32)
	r := f.local(i32)
	j4 := f.local(i32)  // column offset in Y and bias, bytes
	l4 := f.local(i32)  // offset along L, bytes
	var xr, wr [4]local // &X[r+rr, 0], &W[j+c, 0]
	for i := range xr {
		xr[i] = f.local(i32)
		wr[i] = f.local(i32)
	}
	yaddr := f.local(i32)
	var wv, c, blk, s [4]local
	for i := range wv {
		wv[i] = f.local(v128)
		c[i] = f.local(v128)
		blk[i] = f.local(v128)
		s[i] = f.local(v128)
	}
	var bs, ss [4]local // scalar block sums and sums
	for i := range bs {
		bs[i] = f.local(f32)
		ss[i] = f.local(f32)
	}
	w1 := f.local(f32)

	f.set(L4, shl(get(L), ci(2)))
	f.set(J4, shl(get(J), ci(2)))
	f.set(r, ci(0))

	// columns loads W[j..j+3, l..l+3] (byte offset off from l) and transposes it:
	// wv[m] = (W[j,l+m], W[j+1,l+m], W[j+2,l+m], W[j+3,l+m]).
	columns := func(off uint32) {
		for i := range wv {
			f.set(wv[i], loadV(add(get(wr[i]), get(l4)), off))
		}
		transpose4(f, wv, c) // column m = (w0[m] w1[m] w2[m] w3[m])
	}
	// write stores base + sum for the columns at j4 of row rr (vector or scalar).
	write := func(rr int, vector bool) {
		f.set(yaddr, add(add(get(Y), mul(add(get(r), ci(int32(rr))), get(J4))), get(j4)))
		if vector {
			f.whenElse(eq(get(mode), ci(2)), func() {
				f.storeV(get(yaddr), 0, vadd(loadV(get(yaddr), 0), get(s[rr])))
			}, func() {
				f.whenElse(eq(get(mode), ci(1)), func() {
					f.storeV(get(yaddr), 0, vadd(loadV(add(get(bias), get(j4)), 0), get(s[rr])))
				}, func() {
					f.storeV(get(yaddr), 0, get(s[rr]))
				})
			})
			return
		}
		f.whenElse(eq(get(mode), ci(2)), func() {
			f.storeF32(get(yaddr), 0, fadd(loadF32(get(yaddr), 0), get(ss[rr])))
		}, func() {
			f.whenElse(eq(get(mode), ci(1)), func() {
				f.storeF32(get(yaddr), 0, fadd(loadF32(add(get(bias), get(j4)), 0), get(ss[rr])))
			}, func() {
				f.storeF32(get(yaddr), 0, get(ss[rr]))
			})
		})
	}
	rowTile := func(rows int) {
		f.while(les(add(get(r), ci(int32(rows))), get(R)), func() {
			for rr := 0; rr < rows; rr++ {
				if rr == 0 {
					f.set(xr[0], add(get(X), mul(get(r), get(L4))))
				} else {
					f.set(xr[rr], add(get(xr[rr-1]), get(L4)))
				}
			}
			f.set(j4, ci(0))
			// Four columns at a time.
			f.while(les(add(get(j4), ci(16)), get(J4)), func() {
				f.set(wr[0], add(get(W), mul(get(j4), get(L)))) // &W[j,0] = W + j·L·4 = W + j4·L
				for i := 1; i < 4; i++ {
					f.set(wr[i], add(get(wr[i-1]), get(L4)))
				}
				for rr := 0; rr < rows; rr++ {
					f.set(s[rr], vconst(0))
				}
				f.set(l4, ci(0))
				f.while(les(add(get(l4), ci(32)), get(L4)), func() {
					for half := uint32(0); half < 2; half++ {
						columns(16 * half)
						for rr := 0; rr < rows; rr++ {
							for mm := uint32(0); mm < 4; mm++ {
								x := splatLoad(add(get(xr[rr]), get(l4)), 16*half+4*mm)
								if half == 0 && mm == 0 {
									f.set(blk[rr], vmul(x, get(wv[mm])))
								} else {
									f.set(blk[rr], vadd(get(blk[rr]), vmul(x, get(wv[mm]))))
								}
							}
						}
					}
					for rr := 0; rr < rows; rr++ {
						f.set(s[rr], vadd(get(s[rr]), get(blk[rr])))
					}
					f.inc(l4, 32)
				})
				// The remaining products one by one.
				f.while(lts(get(l4), get(L4)), func() {
					f.set(wv[0], vsplat(loadF32(add(get(wr[0]), get(l4)), 0)))
					for i := 1; i < 4; i++ {
						f.set(wv[0], replace(get(wv[0]), byte(i), loadF32(add(get(wr[i]), get(l4)), 0)))
					}
					for rr := 0; rr < rows; rr++ {
						f.set(s[rr], vadd(get(s[rr]), vmul(splatLoad(add(get(xr[rr]), get(l4)), 0), get(wv[0]))))
					}
					f.inc(l4, 4)
				})
				for rr := 0; rr < rows; rr++ {
					write(rr, true)
				}
				f.inc(j4, 16)
			})
			// Leftover columns, one at a time.
			f.while(lts(get(j4), get(J4)), func() {
				f.set(wr[0], add(get(W), mul(get(j4), get(L))))
				for rr := 0; rr < rows; rr++ {
					f.set(ss[rr], cf(0))
				}
				f.set(l4, ci(0))
				f.while(les(add(get(l4), ci(32)), get(L4)), func() {
					for mm := uint32(0); mm < 8; mm++ {
						f.set(w1, loadF32(add(get(wr[0]), get(l4)), 4*mm))
						for rr := 0; rr < rows; rr++ {
							x := fmul(loadF32(add(get(xr[rr]), get(l4)), 4*mm), get(w1))
							if mm == 0 {
								f.set(bs[rr], x)
							} else {
								f.set(bs[rr], fadd(get(bs[rr]), x))
							}
						}
					}
					for rr := 0; rr < rows; rr++ {
						f.set(ss[rr], fadd(get(ss[rr]), get(bs[rr])))
					}
					f.inc(l4, 32)
				})
				f.while(lts(get(l4), get(L4)), func() {
					f.set(w1, loadF32(add(get(wr[0]), get(l4)), 0))
					for rr := 0; rr < rows; rr++ {
						f.set(ss[rr], fadd(get(ss[rr]), fmul(loadF32(add(get(xr[rr]), get(l4)), 0), get(w1))))
					}
					f.inc(l4, 4)
				})
				for rr := 0; rr < rows; rr++ {
					write(rr, false)
				}
				f.inc(j4, 4)
			})
			f.inc(r, int32(rows))
		})
	}
	rowTile(4)
	rowTile(1)
}
