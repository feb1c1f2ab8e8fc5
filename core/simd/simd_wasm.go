//go:build wasm

package simd

import (
	"math"
	"unsafe"
)

// Every kernel import is //go:noescape: a kernel keeps no pointer after it returns,
// so callers may pass arrays on their stack (softmaxForward's per-row sums).

//go:wasmimport prefer_simd version
func version() int32

//go:noescape
//go:wasmimport prefer_simd gemm_acc
func gemmAcc(y, a unsafe.Pointer, ars, aks int32, s unsafe.Pointer, r, k, l int32)

// linked: the loader linked a kernel module of this version; enabled: not turned off
// by SetEnabled.
var (
	linked  = version() == moduleVersion
	enabled = linked
)

// Linked reports whether the kernel module is loaded (of the version this program
// was built with).
func Linked() bool { return linked }

// On reports whether callers should use the SIMD kernels.
func On() bool { return enabled }

// SetEnabled turns the kernels on or off (on only if linked) and returns the
// previous setting; tests and benchmarks compare both paths with it.
func SetEnabled(on bool) bool {
	prev := enabled
	enabled = on && linked
	return prev
}

// ptr returns the address of x[0] (x non-empty).
func ptr(x []float32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(x)) }

// GemmAcc computes Y[r,i] += Σ_k A[r·ars + k·aks]·S[k,i] for r < R, i < L, adding
// the terms in order of k (core/lm's gemmAcc).
//
//	Y (R, L), S (K, L), A addressed by strides (ars, aks)
func GemmAcc(Y, A []float32, ars, aks int, S []float32, R, K, L int) {
	if R <= 0 || L <= 0 || K <= 0 {
		return
	}
	if len(Y) < R*L || len(S) < K*L || ars < 0 || aks < 0 || len(A) <= (R-1)*ars+(K-1)*aks {
		panic("simd: GemmAcc: slices shorter than their shapes")
	}
	gemmAcc(ptr(Y), ptr(A), int32(ars), int32(aks), ptr(S), int32(R), int32(K), int32(L))
}

//go:noescape
//go:wasmimport prefer_simd gemm_dot
func gemmDot(y, x, w, bias unsafe.Pointer, mode, r, j, l int32)

// GemmDot computes Y[r,j] = base + Σ_l X[r,l]·W[j,l] for r < R, j < J, where base
// is Y[r,j] when acc is true, else bias[j] (0 when bias is nil), summed as core/lm's
// gemmDot (blocks of eight products, then the rest one by one).
//
//	Y (R, J), X (R, L), W (J, L), bias (J) or nil
func GemmDot(Y, X, W, bias []float32, acc bool, R, J, L int) {
	if R <= 0 || J <= 0 {
		return
	}
	if L < 0 || len(Y) < R*J || len(X) < R*L || len(W) < J*L || (bias != nil && !acc && len(bias) < J) {
		panic("simd: GemmDot: slices shorter than their shapes")
	}
	var mode int32
	var b unsafe.Pointer
	switch {
	case acc:
		mode = 2
	case bias != nil:
		mode, b = 1, ptr(bias)
	}
	gemmDot(ptr(Y), ptr(X), ptr(W), b, mode, int32(R), int32(J), int32(L))
}

//go:noescape
//go:wasmimport prefer_simd exp_slice
func expSlice(x unsafe.Pointer, n int32)

// ExpSlice replaces every x_i by e**x_i exactly as core/lm's expSlice.
func ExpSlice(x []float32) {
	if len(x) == 0 {
		return
	}
	expSlice(ptr(x), int32(len(x)))
}

//go:noescape
//go:wasmimport prefer_simd attention_forward
func attentionForward(out, att, qkv unsafe.Pointer, b, t, c, nh, t0, t1 int32)

//go:noescape
//go:wasmimport prefer_simd attention_backward
func attentionBackward(dqkv, dout, qkv, att, scratch unsafe.Pointer, b, t, c, nh, t1 int32)

// AttentionOK reports whether the attention kernels take a head size of C/NH:
// C divisible by NH into heads of a multiple of four.
func AttentionOK(C, NH int) bool { return NH > 0 && C%NH == 0 && (C/NH)%4 == 0 }

// AttentionForward is core/lm's attentionForward (see there), for the query rows
// t0 ≤ t < t1 of B sequences of length T; AttentionOK(C, NH) must hold.
//
//	out (B, T, C), att (B, NH, T, T), qkv (B, T, 3C)
func AttentionForward(out, att, qkv []float32, B, T, C, NH, t0, t1 int) {
	if B <= 0 || t1 <= t0 {
		return
	}
	// The last row read or written is query row t1−1 of sequence B−1 (and its row
	// of weights up to T).
	rows := (B-1)*T + t1
	if !AttentionOK(C, NH) || t0 < 0 || t1 > T || len(out) < rows*C || len(att) < ((B*NH-1)*T+t1)*T || len(qkv) < rows*3*C {
		panic("simd: AttentionForward: bad shapes")
	}
	attentionForward(ptr(out), ptr(att), ptr(qkv), int32(B), int32(T), int32(C), int32(NH), int32(t0), int32(t1))
}

// AttentionBackward is core/lm's attentionBackward (see there); scratch holds T
// values; AttentionOK(C, NH) must hold.
//
//	dqkv (B, T, 3C), dout (B, T, C), qkv (B, T, 3C), att (B, NH, T, T)
func AttentionBackward(dqkv, dout, qkv, att, scratch []float32, B, T, C, NH, t1 int) {
	if B <= 0 || t1 <= 0 {
		return
	}
	rows := (B-1)*T + t1
	if !AttentionOK(C, NH) || t1 > T || len(dqkv) < rows*3*C || len(dout) < rows*C || len(qkv) < rows*3*C || len(att) < ((B*NH-1)*T+t1-1)*T+t1 || len(scratch) < t1 {
		panic("simd: AttentionBackward: bad shapes")
	}
	attentionBackward(ptr(dqkv), ptr(dout), ptr(qkv), ptr(att), ptr(scratch), int32(B), int32(T), int32(C), int32(NH), int32(t1))
}

//go:noescape
//go:wasmimport prefer_simd gather_acc
func gatherAcc(y, s, idx, val unsafe.Pointer, n, l int32)

//go:noescape
//go:wasmimport prefer_simd scatter_acc
func scatterAcc(g, d, idx, val unsafe.Pointer, n, l int32)

//go:noescape
//go:wasmimport prefer_simd adam_range
func adamRange(p, g, m, v unsafe.Pointer, n, alpha, eps, b1, b2, a1, a2, decay int32)

// rowsOK reports whether every idx[k] names a row of S (L values per row).
func rowsOK(S []float32, idx []int32, L int) bool {
	rows := len(S) / L
	for _, j := range idx {
		if j < 0 || int(j) >= rows {
			return false
		}
	}
	return true
}

// The exported kernels share one shape on purpose (check the shapes, then call the
// linked function with raw pointers): each is the checked door to one kernel.

// GatherAcc computes Y[i] += Σ_k val[k]·S[idx[k]·L + i] for i < L, adding the terms
// in order of k (the first layer of core/reward's MLP on a sparse row).
func GatherAcc(Y, S []float32, idx []int32, val []float32, L int) {
	if len(idx) == 0 || L <= 0 {
		return
	}
	if len(val) != len(idx) || len(Y) < L || !rowsOK(S, idx, L) {
		panic("simd: GatherAcc: bad shapes or rows")
	}
	gatherAcc(ptr(Y), ptr(S), unsafe.Pointer(unsafe.SliceData(idx)), ptr(val), int32(len(idx)), int32(L))
}

// ScatterAcc computes G[idx[k]·L + i] += val[k]·D[i] for k in order and i < L (the
// first layer's gradient of core/reward's MLP).
func ScatterAcc(G, D []float32, idx []int32, val []float32, L int) {
	if len(idx) == 0 || L <= 0 {
		return
	}
	if len(val) != len(idx) || len(D) < L || !rowsOK(G, idx, L) {
		panic("simd: ScatterAcc: bad shapes or rows")
	}
	scatterAcc(ptr(G), ptr(D), unsafe.Pointer(unsafe.SliceData(idx)), ptr(val), int32(len(idx)), int32(L))
}

// AdamRange is core/reward's adamRange: for every i,
//
//	m = b1·m + a1·g,  v = b2·v + a2·(g·g),  p = decay·p − alpha·m/(√v + eps)
func AdamRange(p, g, m, v []float32, alpha, eps, b1, b2, a1, a2, decay float32) {
	n := len(p)
	if n == 0 {
		return
	}
	if len(g) < n || len(m) < n || len(v) < n {
		panic("simd: AdamRange: slices shorter than p")
	}
	b := func(x float32) int32 { return int32(math.Float32bits(x)) }
	adamRange(ptr(p), ptr(g), ptr(m), ptr(v), int32(n), b(alpha), b(eps), b(b1), b(b2), b(a1), b(a2), b(decay))
}

//go:noescape
//go:wasmimport prefer_simd layernorm_forward
func layernormForward(out, mean, rstd, inp, w, b unsafe.Pointer, n, c int32)

//go:noescape
//go:wasmimport prefer_simd layernorm_backward
func layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd unsafe.Pointer, n, c int32)

//go:noescape
//go:wasmimport prefer_simd gelu_forward
func geluForward(out, th, inp unsafe.Pointer, n int32)

//go:noescape
//go:wasmimport prefer_simd gelu_backward
func geluBackward(dinp, inp, th, dout unsafe.Pointer, n int32)

//go:noescape
//go:wasmimport prefer_simd softmax_rows
func softmaxRows(probs, logits unsafe.Pointer, n, v int32, zs, pls, ms unsafe.Pointer)

// LayernormForward is core/lm's layernormForward (see there).
//
//	out (N, C), mean (N), rstd (N), inp (N, C), w (C), b (C)
func LayernormForward(out, mean, rstd, inp, w, b []float32, N, C int) {
	if N <= 0 || C <= 0 {
		return
	}
	if len(out) < N*C || len(inp) < N*C || len(mean) < N || len(rstd) < N || len(w) < C || len(b) < C {
		panic("simd: LayernormForward: slices shorter than their shapes")
	}
	layernormForward(ptr(out), ptr(mean), ptr(rstd), ptr(inp), ptr(w), ptr(b), int32(N), int32(C))
}

// LayernormBackward is core/lm's layernormBackward (see there).
//
//	dinp (N, C), dw (C), db (C), dout (N, C), inp (N, C), w (C), mean (N), rstd (N)
func LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	if N <= 0 || C <= 0 {
		return
	}
	if len(dinp) < N*C || len(dout) < N*C || len(inp) < N*C || len(mean) < N || len(rstd) < N || len(w) < C || len(dw) < C || len(db) < C {
		panic("simd: LayernormBackward: slices shorter than their shapes")
	}
	layernormBackward(ptr(dinp), ptr(dw), ptr(db), ptr(dout), ptr(inp), ptr(w), ptr(mean), ptr(rstd), int32(N), int32(C))
}

// GeluForward is core/lm's geluForward (see there) on len(out) values.
func GeluForward(out, th, inp []float32) {
	n := len(out)
	if n == 0 {
		return
	}
	if len(th) < n || len(inp) < n {
		panic("simd: GeluForward: slices shorter than out")
	}
	geluForward(ptr(out), ptr(th), ptr(inp), int32(n))
}

// GeluBackward is core/lm's geluBackward (see there) on len(dout) values.
func GeluBackward(dinp, inp, th, dout []float32) {
	n := len(dout)
	if n == 0 {
		return
	}
	if len(dinp) < n || len(inp) < n || len(th) < n {
		panic("simd: GeluBackward: slices shorter than dout")
	}
	geluBackward(ptr(dinp), ptr(inp), ptr(th), ptr(dout), int32(n))
}

// SoftmaxRows is the part of core/lm's softmaxForward before its logarithm, for N
// rows of V logits: probs (normalized), and per row z = Σ e**(l−m) and
// pl = Σ p·(l−m) in float64 and the maximum m.
//
//	probs (N, V), logits (N, V), zs (N), pls (N), ms (N)
func SoftmaxRows(probs, logits []float32, N, V int, zs, pls []float64, ms []float32) {
	if N <= 0 || V <= 0 {
		return
	}
	if len(probs) < N*V || len(logits) < N*V || len(zs) < N || len(pls) < N || len(ms) < N {
		panic("simd: SoftmaxRows: slices shorter than their shapes")
	}
	softmaxRows(ptr(probs), ptr(logits), int32(N), int32(V),
		unsafe.Pointer(unsafe.SliceData(zs)), unsafe.Pointer(unsafe.SliceData(pls)), ptr(ms))
}

//go:noescape
//go:wasmimport prefer_simd adamw
func adamW(p, g, m, v unsafe.Pointer, n, scale, b1, b2, c1, c2, eps, lr, wd int32)

// AdamW is core/lm's AdamW update of one tensor: for every i,
//
//	g' = g·scale,  m = b1·m + (1−b1)·g',  v = b2·v + (1−b2)·g'·g'
//	p −= lr·((m·c1)/(√(v·c2) + eps) + wd·p)
func AdamW(p, g, m, v []float32, scale, b1, b2, c1, c2, eps, lr, wd float32) {
	n := len(p)
	if n == 0 {
		return
	}
	if len(g) < n || len(m) < n || len(v) < n {
		panic("simd: AdamW: slices shorter than p")
	}
	b := func(x float32) int32 { return int32(math.Float32bits(x)) }
	adamW(ptr(p), ptr(g), ptr(m), ptr(v), int32(n), b(scale), b(b1), b(b2), b(c1), b(c2), b(eps), b(lr), b(wd))
}
