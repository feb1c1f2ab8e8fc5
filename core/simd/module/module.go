// Package module writes Prefer's SIMD kernel module: a small WebAssembly module
// whose exported functions are the float32 kernels of core/lm and core/reward,
// written with SIMD128 (f32x4) instructions over the memory of the Go program
// that calls them (imported as "env" "memory"). Its bytes are static/web/simd.wasm;
// package simd is the Go side (docs/lm.md, "SIMD kernels").
//
// Every kernel adds and multiplies in exactly the order of its Go reference (named
// in its comment), lane by lane, with separate multiplies and adds (SIMD128 has no
// fused multiply-add; relaxed SIMD is not used), so its results are bit-identical
// to the Go kernels natively and in wasm.
//
// Calling convention: every parameter is an i32. Slices are passed as the byte
// address of their first element in the Go program's linear memory; sizes and
// strides are counts of elements. The caller checks that every element a kernel
// touches lies inside its slices.
package module

// Version is the interface version of the module: the Go side uses the module only
// when its "version" export returns this number.
const Version = 1

// Bytes returns the module.
func Bytes() []byte { return build().bytes() }

// build writes every function of the module.
func build() *mod {
	m := &mod{}
	f := m.newFn("version", nil, i32)
	f.do(ci(Version))
	gemmAcc(m)
	gemmDot(m)
	exp := expFns(m)
	attentionFwd(m, exp)
	attentionBwd(m)
	gatherAcc(m)
	scatterAcc(m)
	adamRange(m)
	layernormFwd(m)
	layernormBwd(m)
	geluFwd(m, exp)
	geluBwd(m)
	softmaxRows(m, exp)
	adamW(m)
	return m
}

// params returns n i32 parameters.
func params(n int) []valType {
	p := make([]valType, n)
	for i := range p {
		p[i] = i32
	}
	return p
}

// Exports returns the module's exported functions and their numbers of parameters.
func Exports() map[string]int {
	m := build()
	out := map[string]int{}
	for _, f := range m.funcs {
		if f.export {
			out[f.name] = len(f.params)
		}
	}
	return out
}
