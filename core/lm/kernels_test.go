package lm

import (
	"testing"

	"prefer/core/rng"
)

// TestKernelOrder checks the matrix kernels against plain loops that add the terms
// in the documented order, bit for bit, on shapes that exercise every tile and tail
// (the native and wasm builds have differently shaped kernels that must agree).
func TestKernelOrder(t *testing.T) {
	r := rng.New(11)
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.Norm())
		}
		return x
	}
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {7, 13, 45}, {5, 48, 192}, {4, 462, 48}, {9, 31, 24}, {2, 7, 33}}
	for _, s := range shapes {
		R, K, L := s[0], s[1], s[2]
		// gemmAcc with A row-major (R, K) and column-major (K, R).
		for _, colMajor := range []bool{false, true} {
			A, S, Y := fill(R*K), fill(K*L), fill(R*L)
			ars, aks := K, 1
			if colMajor {
				ars, aks = 1, R
			}
			want := append([]float32(nil), Y...)
			for i := 0; i < R; i++ {
				for j := 0; j < L; j++ {
					c := want[i*L+j]
					for k := 0; k < K; k++ {
						c += float32(A[i*ars+k*aks] * S[k*L+j])
					}
					want[i*L+j] = c
				}
			}
			gemmAcc(Y, A, ars, aks, S, R, K, L)
			for i := range Y {
				if Y[i] != want[i] {
					t.Fatalf("gemmAcc %v colMajor=%v: element %d = %v, want %v", s, colMajor, i, Y[i], want[i])
				}
			}
		}
		// gemmDot: Y (R, K) = base + X (R, L) · W (K, L)ᵀ, blocks of eight.
		X, W, bias := fill(R*L), fill(K*L), fill(K)
		for mode := 0; mode < 3; mode++ {
			Y := fill(R * K)
			want := append([]float32(nil), Y...)
			var b []float32
			if mode == 1 {
				b = bias
			}
			for i := 0; i < R; i++ {
				for j := 0; j < K; j++ {
					var acc float32
					l := 0
					for ; l+8 <= L; l += 8 {
						var blk float32
						for m := l; m < l+8; m++ {
							if m == l {
								blk = float32(X[i*L+m] * W[j*L+m])
							} else {
								blk += float32(X[i*L+m] * W[j*L+m])
							}
						}
						acc += blk
					}
					for ; l < L; l++ {
						acc += float32(X[i*L+l] * W[j*L+l])
					}
					switch mode {
					case 1:
						want[i*K+j] = bias[j] + acc
					case 2:
						want[i*K+j] += acc
					default:
						want[i*K+j] = acc
					}
				}
			}
			gemmDot(Y, X, W, b, mode == 2, R, K, L)
			for i := range Y {
				if Y[i] != want[i] {
					t.Fatalf("gemmDot %v mode %d: element %d = %v, want %v", s, mode, i, Y[i], want[i])
				}
			}
		}
	}
}
