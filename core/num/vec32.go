package num

// The loops here are unrolled by eight on purpose; core/reward/kernels.go repeats
// them for sparse rows, with the same lane order, also on purpose.

// Dot32 returns Σ_i a_i·b_i over float32 slices of equal length.
//
// Eight partial sums are kept and added in a fixed order at the end, so the result is
// the same on every platform (it differs in the last bits from a naive left-to-right
// sum, by design).
func Dot32(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("num: Dot32 length mismatch")
	}
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	n := len(a) &^ 7
	for i := 0; i < n; i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += float32(aa[0] * bb[0])
		s1 += float32(aa[1] * bb[1])
		s2 += float32(aa[2] * bb[2])
		s3 += float32(aa[3] * bb[3])
		s4 += float32(aa[4] * bb[4])
		s5 += float32(aa[5] * bb[5])
		s6 += float32(aa[6] * bb[6])
		s7 += float32(aa[7] * bb[7])
	}
	for i := n; i < len(a); i++ {
		s0 += float32(a[i] * b[i])
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// Axpy32 computes y += alpha·x over float32 slices of equal length.
func Axpy32(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic("num: Axpy32 length mismatch")
	}
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		xx := x[i : i+8 : i+8]
		yy := y[i : i+8 : i+8]
		yy[0] += float32(alpha * xx[0])
		yy[1] += float32(alpha * xx[1])
		yy[2] += float32(alpha * xx[2])
		yy[3] += float32(alpha * xx[3])
		yy[4] += float32(alpha * xx[4])
		yy[5] += float32(alpha * xx[5])
		yy[6] += float32(alpha * xx[6])
		yy[7] += float32(alpha * xx[7])
	}
	for i := n; i < len(x); i++ {
		y[i] += float32(alpha * x[i])
	}
}

// Scale32 computes x *= alpha.
func Scale32(alpha float32, x []float32) {
	n := len(x) &^ 7
	for i := 0; i < n; i += 8 {
		xx := x[i : i+8 : i+8]
		xx[0] = float32(xx[0] * alpha)
		xx[1] = float32(xx[1] * alpha)
		xx[2] = float32(xx[2] * alpha)
		xx[3] = float32(xx[3] * alpha)
		xx[4] = float32(xx[4] * alpha)
		xx[5] = float32(xx[5] * alpha)
		xx[6] = float32(xx[6] * alpha)
		xx[7] = float32(xx[7] * alpha)
	}
	for i := n; i < len(x); i++ {
		x[i] = float32(x[i] * alpha)
	}
}
