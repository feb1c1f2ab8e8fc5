// Package num holds the numeric primitives every other core package uses, written so
// that the same inputs give bit-identical results natively (amd64) and in wasm.
//
// Why not the standard library's math.Exp and math.Log: on amd64 they are assembly
// routines, in wasm they are the portable Go code, and the two can differ in the last
// bit. Every result that reaches a snapshot or a test of determinism must use Exp and
// Log from this package, which are the portable algorithms (FreeBSD msun, as in Go's
// math package) compiled the same way everywhere. Sqrt, Abs, Floor and the IEEE
// arithmetic operators are exact and may be used from math directly.
//
// The float32 kernels (Dot, Axpy, Scale) are the inner loops of the reward models and
// the language model. They are unrolled by eight: measured here, plain Go float loops
// run up to 7× slower in wasm than natively and unrolling recovers most of the gap.
// Their summation order is fixed, so results are the same on every platform.
//
// Build note: the compiler must not fuse a*b+c into one FMA instruction. It does not on
// amd64 with the default GOAMD64=v1 nor in wasm; do not build core with GOAMD64=v3.
package num
