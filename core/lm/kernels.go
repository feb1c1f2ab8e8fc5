package lm

import "prefer/core/num"

// The kernels below are the inner loops of the linear layers, where nearly all the
// time goes. Go does not vectorize, and plain float loops run several times slower in
// wasm than natively. Two things recover most of it (measured here on both):
//
//   - unrolling the contiguous inner loop by eight on a subslice s[i:i+8:i+8], so one
//     bounds check covers eight elements and the loop overhead is paid once per eight;
//   - register tiling: each loaded value feeds several multiply-adds (two output rows
//     times four coefficients), which halves the loads per multiply-add.
//
// Every output element is still a sum in one fixed order whatever tile it falls in,
// so results do not depend on the batch shape (incremental decoding gives the same
// logits as a full forward pass) and are bit-identical natively and in wasm.
//
// The tiles and their tails repeat one loop body by hand on purpose (unrolled; every
// copy must add the same products in the same order), so they are not factored out.
//
// There are two patterns. gemmAcc accumulates scaled rows ("axpy" form):
//
//	Y[r,:] += Σ_k A[r,k]·S[k,:]          (terms added in order of k)
//
// and gemmDot takes dot products of rows ("dot" form):
//
//	Y[r,j] = Y[r,j]·acc + Σ_l X[r,l]·W[j,l]    (blocks of eight added in order of l)

// gemmAccGo computes Y[r,:] += Σ_k A[r·ars + k·aks]·S[k,:] for r < R, adding the terms
// in order of k. It is gemmAcc's Go kernel (kernels_wasm.go calls the SIMD kernel
// instead when it is linked).
//
//	Y (R, L), S (K, L), A addressed by strides (ars, aks)
func gemmAccGo(Y, A []float32, ars, aks int, S []float32, R, K, L int) {
	r := 0
	for ; r+2 <= R; r += 2 {
		y0 := Y[r*L : r*L+L : r*L+L]
		y1 := Y[(r+1)*L : (r+1)*L+L : (r+1)*L+L]
		n := len(y0) // L, spelled so that the compiler drops most bounds checks
		y1 = y1[:n:n]
		k := 0
		for ; k+4 <= K; k += 4 {
			a := r*ars + k*aks
			b := a + ars
			a0, a1, a2, a3 := A[a], A[a+aks], A[a+2*aks], A[a+3*aks]
			b0, b1, b2, b3 := A[b], A[b+aks], A[b+2*aks], A[b+3*aks]
			s0 := S[k*L : k*L+n : k*L+n]
			s1 := S[(k+1)*L : (k+1)*L+n : (k+1)*L+n]
			s2 := S[(k+2)*L : (k+2)*L+n : (k+2)*L+n]
			s3 := S[(k+3)*L : (k+3)*L+n : (k+3)*L+n]
			s0, s1, s2, s3 = s0[:n:n], s1[:n:n], s2[:n:n], s3[:n:n]
			i := 0
			for ; i+8 <= n; i += 8 {
				// The four values of S are read into locals once for both rows
				// (the compiler would read them again after the store to z, which
				// might alias them).
				p := s0[i : i+8 : i+8]
				q := s1[i : i+8 : i+8]
				u := s2[i : i+8 : i+8]
				v := s3[i : i+8 : i+8]
				z := y0[i : i+8 : i+8]
				w := y1[i : i+8 : i+8]
				p0, q0, u0, v0 := p[0], q[0], u[0], v[0]
				z[0] = z[0] + float32(a0*p0) + float32(a1*q0) + float32(a2*u0) + float32(a3*v0)
				w[0] = w[0] + float32(b0*p0) + float32(b1*q0) + float32(b2*u0) + float32(b3*v0)
				p1, q1, u1, v1 := p[1], q[1], u[1], v[1]
				z[1] = z[1] + float32(a0*p1) + float32(a1*q1) + float32(a2*u1) + float32(a3*v1)
				w[1] = w[1] + float32(b0*p1) + float32(b1*q1) + float32(b2*u1) + float32(b3*v1)
				p2, q2, u2, v2 := p[2], q[2], u[2], v[2]
				z[2] = z[2] + float32(a0*p2) + float32(a1*q2) + float32(a2*u2) + float32(a3*v2)
				w[2] = w[2] + float32(b0*p2) + float32(b1*q2) + float32(b2*u2) + float32(b3*v2)
				p3, q3, u3, v3 := p[3], q[3], u[3], v[3]
				z[3] = z[3] + float32(a0*p3) + float32(a1*q3) + float32(a2*u3) + float32(a3*v3)
				w[3] = w[3] + float32(b0*p3) + float32(b1*q3) + float32(b2*u3) + float32(b3*v3)
				p4, q4, u4, v4 := p[4], q[4], u[4], v[4]
				z[4] = z[4] + float32(a0*p4) + float32(a1*q4) + float32(a2*u4) + float32(a3*v4)
				w[4] = w[4] + float32(b0*p4) + float32(b1*q4) + float32(b2*u4) + float32(b3*v4)
				p5, q5, u5, v5 := p[5], q[5], u[5], v[5]
				z[5] = z[5] + float32(a0*p5) + float32(a1*q5) + float32(a2*u5) + float32(a3*v5)
				w[5] = w[5] + float32(b0*p5) + float32(b1*q5) + float32(b2*u5) + float32(b3*v5)
				p6, q6, u6, v6 := p[6], q[6], u[6], v[6]
				z[6] = z[6] + float32(a0*p6) + float32(a1*q6) + float32(a2*u6) + float32(a3*v6)
				w[6] = w[6] + float32(b0*p6) + float32(b1*q6) + float32(b2*u6) + float32(b3*v6)
				p7, q7, u7, v7 := p[7], q[7], u[7], v[7]
				z[7] = z[7] + float32(a0*p7) + float32(a1*q7) + float32(a2*u7) + float32(a3*v7)
				w[7] = w[7] + float32(b0*p7) + float32(b1*q7) + float32(b2*u7) + float32(b3*v7)
			}
			for ; i < L; i++ {
				y0[i] = y0[i] + float32(a0*s0[i]) + float32(a1*s1[i]) + float32(a2*s2[i]) + float32(a3*s3[i])
				y1[i] = y1[i] + float32(b0*s0[i]) + float32(b1*s1[i]) + float32(b2*s2[i]) + float32(b3*s3[i])
			}
		}
		for ; k < K; k++ {
			s := S[k*L : k*L+L]
			axpySeq(A[r*ars+k*aks], s, y0)
			axpySeq(A[(r+1)*ars+k*aks], s, y1)
		}
	}
	for ; r < R; r++ {
		y := Y[r*L : r*L+L : r*L+L]
		n := len(y)
		k := 0
		for ; k+4 <= K; k += 4 {
			a := r*ars + k*aks
			a0, a1, a2, a3 := A[a], A[a+aks], A[a+2*aks], A[a+3*aks]
			s0 := S[k*L : k*L+n : k*L+n]
			s1 := S[(k+1)*L : (k+1)*L+n : (k+1)*L+n]
			s2 := S[(k+2)*L : (k+2)*L+n : (k+2)*L+n]
			s3 := S[(k+3)*L : (k+3)*L+n : (k+3)*L+n]
			s0, s1, s2, s3 = s0[:n:n], s1[:n:n], s2[:n:n], s3[:n:n]
			i := 0
			for ; i+8 <= n; i += 8 {
				p := s0[i : i+8 : i+8]
				q := s1[i : i+8 : i+8]
				u := s2[i : i+8 : i+8]
				v := s3[i : i+8 : i+8]
				z := y[i : i+8 : i+8]
				z[0] = z[0] + float32(a0*p[0]) + float32(a1*q[0]) + float32(a2*u[0]) + float32(a3*v[0])
				z[1] = z[1] + float32(a0*p[1]) + float32(a1*q[1]) + float32(a2*u[1]) + float32(a3*v[1])
				z[2] = z[2] + float32(a0*p[2]) + float32(a1*q[2]) + float32(a2*u[2]) + float32(a3*v[2])
				z[3] = z[3] + float32(a0*p[3]) + float32(a1*q[3]) + float32(a2*u[3]) + float32(a3*v[3])
				z[4] = z[4] + float32(a0*p[4]) + float32(a1*q[4]) + float32(a2*u[4]) + float32(a3*v[4])
				z[5] = z[5] + float32(a0*p[5]) + float32(a1*q[5]) + float32(a2*u[5]) + float32(a3*v[5])
				z[6] = z[6] + float32(a0*p[6]) + float32(a1*q[6]) + float32(a2*u[6]) + float32(a3*v[6])
				z[7] = z[7] + float32(a0*p[7]) + float32(a1*q[7]) + float32(a2*u[7]) + float32(a3*v[7])
			}
			for ; i < L; i++ {
				y[i] = y[i] + float32(a0*s0[i]) + float32(a1*s1[i]) + float32(a2*s2[i]) + float32(a3*s3[i])
			}
		}
		for ; k < K; k++ {
			axpySeq(A[r*ars+k*aks], S[k*L:k*L+L], y)
		}
	}
}

// axpySeq computes y += a·x over the first len(y) values of x: num.Axpy32, whose
// per-element products and sums are the same on every platform.
func axpySeq(a float32, x, y []float32) { num.Axpy32(a, x[:len(y)], y) }

// gemmDot computes Y[r,j] = base + Σ_l X[r,l]·W[j,l] for r < R, j < J, where base
// is Y[r,j] when acc is true, else bias[j] (0 when bias is nil). The sum runs over
// blocks of eight products (each block summed left to right, the blocks added in
// order) and then the remaining products one by one.
//
//	Y (R, J), X (R, L), W (J, L), bias (J) or nil
//
// gemmDot24 tiles two rows by four columns, which is fastest natively
// (kernels_other.go); the wasm build's gemmDot (kernels_wasm.go) adds the same
// products in the same order, bit for bit, over four rows by two columns and
// sixteen products per iteration, which suits Go's wasm code (16 float32
// registers, a jump-table dispatch on every loop back-edge) better.
func gemmDot24(Y, X, W, bias []float32, acc bool, R, J, L int) {
	r := 0
	for ; r+2 <= R; r += 2 {
		x0 := X[r*L : r*L+L : r*L+L]
		n := len(x0) // L, spelled so that the compiler drops most bounds checks
		x1 := X[(r+1)*L : (r+1)*L+n : (r+1)*L+n]
		x1 = x1[:n:n]
		j := 0
		for ; j+4 <= J; j += 4 {
			w0 := W[j*L : j*L+n : j*L+n]
			w1 := W[(j+1)*L : (j+1)*L+n : (j+1)*L+n]
			w2 := W[(j+2)*L : (j+2)*L+n : (j+2)*L+n]
			w3 := W[(j+3)*L : (j+3)*L+n : (j+3)*L+n]
			w0, w1, w2, w3 = w0[:n:n], w1[:n:n], w2[:n:n], w3[:n:n]
			var s0, s1, s2, s3, t0, t1, t2, t3 float32
			l := 0
			for ; l+8 <= n; l += 8 {
				p := x0[l : l+8 : l+8]
				q := x1[l : l+8 : l+8]
				a := w0[l : l+8 : l+8]
				b := w1[l : l+8 : l+8]
				c := w2[l : l+8 : l+8]
				d := w3[l : l+8 : l+8]
				s0 += float32(p[0]*a[0]) + float32(p[1]*a[1]) + float32(p[2]*a[2]) + float32(p[3]*a[3]) + float32(p[4]*a[4]) + float32(p[5]*a[5]) + float32(p[6]*a[6]) + float32(p[7]*a[7])
				s1 += float32(p[0]*b[0]) + float32(p[1]*b[1]) + float32(p[2]*b[2]) + float32(p[3]*b[3]) + float32(p[4]*b[4]) + float32(p[5]*b[5]) + float32(p[6]*b[6]) + float32(p[7]*b[7])
				s2 += float32(p[0]*c[0]) + float32(p[1]*c[1]) + float32(p[2]*c[2]) + float32(p[3]*c[3]) + float32(p[4]*c[4]) + float32(p[5]*c[5]) + float32(p[6]*c[6]) + float32(p[7]*c[7])
				s3 += float32(p[0]*d[0]) + float32(p[1]*d[1]) + float32(p[2]*d[2]) + float32(p[3]*d[3]) + float32(p[4]*d[4]) + float32(p[5]*d[5]) + float32(p[6]*d[6]) + float32(p[7]*d[7])
				t0 += float32(q[0]*a[0]) + float32(q[1]*a[1]) + float32(q[2]*a[2]) + float32(q[3]*a[3]) + float32(q[4]*a[4]) + float32(q[5]*a[5]) + float32(q[6]*a[6]) + float32(q[7]*a[7])
				t1 += float32(q[0]*b[0]) + float32(q[1]*b[1]) + float32(q[2]*b[2]) + float32(q[3]*b[3]) + float32(q[4]*b[4]) + float32(q[5]*b[5]) + float32(q[6]*b[6]) + float32(q[7]*b[7])
				t2 += float32(q[0]*c[0]) + float32(q[1]*c[1]) + float32(q[2]*c[2]) + float32(q[3]*c[3]) + float32(q[4]*c[4]) + float32(q[5]*c[5]) + float32(q[6]*c[6]) + float32(q[7]*c[7])
				t3 += float32(q[0]*d[0]) + float32(q[1]*d[1]) + float32(q[2]*d[2]) + float32(q[3]*d[3]) + float32(q[4]*d[4]) + float32(q[5]*d[5]) + float32(q[6]*d[6]) + float32(q[7]*d[7])
			}
			for ; l < L; l++ {
				s0 += float32(x0[l] * w0[l])
				s1 += float32(x0[l] * w1[l])
				s2 += float32(x0[l] * w2[l])
				s3 += float32(x0[l] * w3[l])
				t0 += float32(x1[l] * w0[l])
				t1 += float32(x1[l] * w1[l])
				t2 += float32(x1[l] * w2[l])
				t3 += float32(x1[l] * w3[l])
			}
			y0 := Y[r*J+j : r*J+j+4 : r*J+j+4]
			y1 := Y[(r+1)*J+j : (r+1)*J+j+4 : (r+1)*J+j+4]
			switch {
			case acc:
				y0[0], y0[1], y0[2], y0[3] = y0[0]+s0, y0[1]+s1, y0[2]+s2, y0[3]+s3
				y1[0], y1[1], y1[2], y1[3] = y1[0]+t0, y1[1]+t1, y1[2]+t2, y1[3]+t3
			case bias != nil:
				b := bias[j : j+4 : j+4]
				y0[0], y0[1], y0[2], y0[3] = b[0]+s0, b[1]+s1, b[2]+s2, b[3]+s3
				y1[0], y1[1], y1[2], y1[3] = b[0]+t0, b[1]+t1, b[2]+t2, b[3]+t3
			default:
				y0[0], y0[1], y0[2], y0[3] = s0, s1, s2, s3
				y1[0], y1[1], y1[2], y1[3] = t0, t1, t2, t3
			}
		}
		for ; j < J; j++ {
			w := W[j*L : j*L+L]
			Y[r*J+j] = dotBase(Y[r*J+j], x0, w, bias, j, acc)
			Y[(r+1)*J+j] = dotBase(Y[(r+1)*J+j], x1, w, bias, j, acc)
		}
	}
	for ; r < R; r++ {
		x := X[r*L : r*L+L : r*L+L]
		n := len(x)
		j := 0
		for ; j+4 <= J; j += 4 {
			w0 := W[j*L : j*L+n : j*L+n]
			w1 := W[(j+1)*L : (j+1)*L+n : (j+1)*L+n]
			w2 := W[(j+2)*L : (j+2)*L+n : (j+2)*L+n]
			w3 := W[(j+3)*L : (j+3)*L+n : (j+3)*L+n]
			w0, w1, w2, w3 = w0[:n:n], w1[:n:n], w2[:n:n], w3[:n:n]
			var s0, s1, s2, s3 float32
			l := 0
			for ; l+8 <= n; l += 8 {
				p := x[l : l+8 : l+8]
				a := w0[l : l+8 : l+8]
				b := w1[l : l+8 : l+8]
				c := w2[l : l+8 : l+8]
				d := w3[l : l+8 : l+8]
				s0 += float32(p[0]*a[0]) + float32(p[1]*a[1]) + float32(p[2]*a[2]) + float32(p[3]*a[3]) + float32(p[4]*a[4]) + float32(p[5]*a[5]) + float32(p[6]*a[6]) + float32(p[7]*a[7])
				s1 += float32(p[0]*b[0]) + float32(p[1]*b[1]) + float32(p[2]*b[2]) + float32(p[3]*b[3]) + float32(p[4]*b[4]) + float32(p[5]*b[5]) + float32(p[6]*b[6]) + float32(p[7]*b[7])
				s2 += float32(p[0]*c[0]) + float32(p[1]*c[1]) + float32(p[2]*c[2]) + float32(p[3]*c[3]) + float32(p[4]*c[4]) + float32(p[5]*c[5]) + float32(p[6]*c[6]) + float32(p[7]*c[7])
				s3 += float32(p[0]*d[0]) + float32(p[1]*d[1]) + float32(p[2]*d[2]) + float32(p[3]*d[3]) + float32(p[4]*d[4]) + float32(p[5]*d[5]) + float32(p[6]*d[6]) + float32(p[7]*d[7])
			}
			for ; l < n; l++ {
				s0 += float32(x[l] * w0[l])
				s1 += float32(x[l] * w1[l])
				s2 += float32(x[l] * w2[l])
				s3 += float32(x[l] * w3[l])
			}
			y := Y[r*J+j : r*J+j+4 : r*J+j+4]
			y[0] = dotTo(y[0], s0, bias, j, acc)
			y[1] = dotTo(y[1], s1, bias, j+1, acc)
			y[2] = dotTo(y[2], s2, bias, j+2, acc)
			y[3] = dotTo(y[3], s3, bias, j+3, acc)
		}
		for ; j < J; j++ {
			Y[r*J+j] = dotBase(Y[r*J+j], x, W[j*L:j*L+L], bias, j, acc)
		}
	}
}

// dotTo returns base + s, base as in gemmDot.
func dotTo(y, s float32, bias []float32, j int, acc bool) float32 {
	switch {
	case acc:
		return y + s
	case bias != nil:
		return bias[j] + s
	}
	return s
}

// dotBase returns base + dot8(x, w), base as in gemmDot.
func dotBase(y float32, x, w, bias []float32, j int, acc bool) float32 {
	s := dot8(x, w)
	switch {
	case acc:
		return y + s
	case bias != nil:
		return bias[j] + s
	}
	return s
}

// dot8 returns Σ_l x_l·w_l summed in blocks of eight (the order of gemmDot); it is
// not num.Dot32, whose eight lanes add in another order, on purpose.
func dot8(x, w []float32) float32 {
	w = w[:len(x)]
	var s float32
	l := 0
	for ; l+8 <= len(x); l += 8 {
		p := x[l : l+8 : l+8]
		q := w[l : l+8 : l+8]
		s += float32(p[0]*q[0]) + float32(p[1]*q[1]) + float32(p[2]*q[2]) + float32(p[3]*q[3]) + float32(p[4]*q[4]) + float32(p[5]*q[5]) + float32(p[6]*q[6]) + float32(p[7]*q[7])
	}
	for ; l < len(x); l++ {
		s += float32(x[l] * w[l])
	}
	return s
}

// dot returns Σ a_i·b_i summed as dot8.
func dot(a, b []float32) float32 { return dot8(a, b) }

// axpy computes y += alpha·x.
func axpy(alpha float32, x, y []float32) { axpySeq(alpha, x, y) }
