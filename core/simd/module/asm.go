package module

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// A small WebAssembly binary writer: just what the kernels need (one imported
// memory, functions over i32/f32/f64/v128 locals, structured control flow,
// SIMD128). Instructions are written as expression trees (type E) that emit
// themselves in postfix order, so a kernel reads like
//
//	f.Set(acc, v4add(f.Get(acc), v4mul(splat(pa, 0), load(ps, 16))))
//
// Encodings follow the WebAssembly core specification 2.0 (§5 Binary format) and
// its SIMD opcode table.

// valType is a WebAssembly value type.
type valType byte

const (
	i32  valType = 0x7F
	i64  valType = 0x7E
	f32  valType = 0x7D
	f64  valType = 0x7C
	v128 valType = 0x7B
)

// A local is a parameter or local variable of the function being written.
type local struct {
	idx uint32
	t   valType
}

// E is an expression: it appends its code (leaving one value, or none for a
// statement) to the function.
type E func(f *fn)

// fn is a function being written.
type fn struct {
	name    string
	idx     uint32 // function index in the module
	export  bool
	params  []valType
	results []valType
	locals  []valType
	code    bytes.Buffer
	depth   int // open blocks, to check that every block is closed
}

// param returns the i-th parameter.
func (f *fn) param(i int) local { return local{uint32(i), f.params[i]} }

// local declares a new local of type t.
func (f *fn) local(t valType) local {
	f.locals = append(f.locals, t)
	return local{uint32(len(f.params) + len(f.locals) - 1), t}
}

func (f *fn) byte(b ...byte) { f.code.Write(b) }

func (f *fn) u32(v uint32) {
	var b [binary.MaxVarintLen64]byte
	f.code.Write(b[:binary.PutUvarint(b[:], uint64(v))])
}

func (f *fn) s32(v int32) { f.code.Write(sleb(int64(v))) }

// sleb is the signed LEB128 encoding of v.
func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

// simd writes a SIMD instruction's prefix and opcode.
func (f *fn) simd(op uint32) { f.byte(0xFD); f.u32(op) }

// memarg writes the alignment (log2) and offset of a memory access.
func (f *fn) memarg(align, offset uint32) { f.u32(align); f.u32(offset) }

// ---------------------------------------------------------------- statements

// do emits expressions (statements, or values left for the next instruction).
func (f *fn) do(es ...E) {
	for _, e := range es {
		e(f)
	}
}

// set stores e in l.
func (f *fn) set(l local, e E) { e(f); f.byte(0x21); f.u32(l.idx) }

// get reads l.
func get(l local) E { return func(f *fn) { f.byte(0x20); f.u32(l.idx) } }

// tee stores e in l and leaves it on the stack.
func tee(l local, e E) E { return func(f *fn) { e(f); f.byte(0x22); f.u32(l.idx) } }

// inc adds the i32 constant c to l.
func (f *fn) inc(l local, c int32) { f.set(l, add(get(l), ci(c))) }

// incBy adds the i32 value e to l.
func (f *fn) incBy(l local, e E) { f.set(l, add(get(l), e)) }

// block/loop/if open a structured block (no results); end closes it.
func (f *fn) block() { f.byte(0x02, 0x40); f.depth++ }
func (f *fn) loop()  { f.byte(0x03, 0x40); f.depth++ }
func (f *fn) ifThen(cond E) {
	cond(f)
	f.byte(0x04, 0x40)
	f.depth++
}
func (f *fn) els() { f.byte(0x05) }
func (f *fn) end() { f.byte(0x0B); f.depth-- }
func (f *fn) br(depth uint32) {
	f.byte(0x0C)
	f.u32(depth)
}
func (f *fn) brIf(depth uint32, cond E) { cond(f); f.byte(0x0D); f.u32(depth) }

// when runs body if cond holds.
func (f *fn) when(cond E, body func()) {
	f.ifThen(cond)
	body()
	f.end()
}

// whenElse runs then if cond holds, else otherwise.
func (f *fn) whenElse(cond E, then, otherwise func()) {
	f.ifThen(cond)
	then()
	f.els()
	otherwise()
	f.end()
}

// while runs body as long as cond holds (tested before each pass).
func (f *fn) while(cond E, body func()) {
	f.ifThen(cond)
	f.loop()
	body()
	f.brIf(0, cond)
	f.end()
	f.end()
}

// store writes e to memory at addr+offset with the store opcode op.
func (f *fn) store(op byte, align uint32, addr E, offset uint32, e E) {
	addr(f)
	e(f)
	f.byte(op)
	f.memarg(align, offset)
}

func (f *fn) storeF32(addr E, offset uint32, e E) { f.store(0x38, 2, addr, offset, e) }
func (f *fn) storeF64(addr E, offset uint32, e E) { f.store(0x39, 3, addr, offset, e) }
func (f *fn) storeV(addr E, offset uint32, e E) {
	addr(f)
	e(f)
	f.simd(0x0B)
	f.memarg(4, offset)
}

// ---------------------------------------------------------------- expressions

func op(code byte, args ...E) E {
	return func(f *fn) {
		for _, a := range args {
			a(f)
		}
		f.byte(code)
	}
}

func simdOp(code uint32, args ...E) E {
	return func(f *fn) {
		for _, a := range args {
			a(f)
		}
		f.simd(code)
	}
}

// Constants.
func ci(v int32) E { return func(f *fn) { f.byte(0x41); f.s32(v) } }
func cf(v float32) E {
	return func(f *fn) {
		f.byte(0x43)
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		f.byte(b[:]...)
	}
}
func cd(v float64) E {
	return func(f *fn) {
		f.byte(0x44)
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		f.byte(b[:]...)
	}
}

// The instruction constructors below are a table, one line an opcode, on purpose.

// i32 arithmetic and comparisons.
func add(a, b E) E        { return op(0x6A, a, b) }
func sub(a, b E) E        { return op(0x6B, a, b) }
func mul(a, b E) E        { return op(0x6C, a, b) }
func and(a, b E) E        { return op(0x71, a, b) }
func shl(a, b E) E        { return op(0x74, a, b) }
func eqz(a E) E           { return op(0x45, a) }
func eq(a, b E) E         { return op(0x46, a, b) }
func ne(a, b E) E         { return op(0x47, a, b) }
func lts(a, b E) E        { return op(0x48, a, b) }
func gts(a, b E) E        { return op(0x4A, a, b) }
func les(a, b E) E        { return op(0x4C, a, b) }
func ges(a, b E) E        { return op(0x4E, a, b) }
func ltu(a, b E) E        { return op(0x49, a, b) }
func geu(a, b E) E        { return op(0x4F, a, b) }
func leu(a, b E) E        { return op(0x4D, a, b) }
func divs(a, b E) E       { return op(0x6D, a, b) }
func or(a, b E) E         { return op(0x72, a, b) }
func selectE(a, b, c E) E { return op(0x1B, a, b, c) }

// f32 arithmetic, comparisons and conversions.
func fadd(a, b E) E { return op(0x92, a, b) }
func fsub(a, b E) E { return op(0x93, a, b) }
func fmul(a, b E) E { return op(0x94, a, b) }
func fdiv(a, b E) E { return op(0x95, a, b) }
func fsqrt(a E) E   { return op(0x91, a) }
func feq(a, b E) E  { return op(0x5B, a, b) }
func fne(a, b E) E  { return op(0x5C, a, b) }
func flt(a, b E) E  { return op(0x5D, a, b) }
func fgt(a, b E) E  { return op(0x5E, a, b) }
func fle(a, b E) E  { return op(0x5F, a, b) }
func fge(a, b E) E  { return op(0x60, a, b) }

// i32.trunc_sat_f32_s: Go's int32(float32) for values in range.
func truncF(a E) E { return func(f *fn) { a(f); f.byte(0xFC); f.u32(0) } }

// f32.convert_i32_s.
func convI(a E) E { return op(0xB2, a) }

// f32.reinterpret_i32 and i32.reinterpret_f32.
func asF32(a E) E { return op(0xBE, a) }
func asI32(a E) E { return op(0xBC, a) }

// f64 arithmetic and conversions.
func dadd(a, b E) E { return op(0xA0, a, b) }
func dsub(a, b E) E { return op(0xA1, a, b) }
func dmul(a, b E) E { return op(0xA2, a, b) }
func ddiv(a, b E) E { return op(0xA3, a, b) }
func dsqrt(a E) E   { return op(0x9F, a) }
func promote(a E) E { return op(0xBB, a) } // f64.promote_f32
func dconvI(a E) E  { return op(0xB7, a) } // f64.convert_i32_s
func demote(a E) E  { return op(0xB6, a) } // f32.demote_f64

// Memory reads: address + constant byte offset.
func loadOp(code byte, align uint32, addr E, offset uint32) E {
	return func(f *fn) {
		addr(f)
		f.byte(code)
		f.memarg(align, offset)
	}
}
func loadI32(addr E, offset uint32) E { return loadOp(0x28, 2, addr, offset) }
func loadF32(addr E, offset uint32) E { return loadOp(0x2A, 2, addr, offset) }
func loadF64(addr E, offset uint32) E { return loadOp(0x2B, 3, addr, offset) }

// v128.load and v128.load32_splat.
func loadV(addr E, offset uint32) E {
	return func(f *fn) { addr(f); f.simd(0x00); f.memarg(4, offset) }
}
func splatLoad(addr E, offset uint32) E {
	return func(f *fn) { addr(f); f.simd(0x09); f.memarg(2, offset) }
}

// SIMD: f32x4 arithmetic (IEEE, lane by lane: no fused multiply-add exists in
// SIMD128, and relaxed SIMD is never used).
func vadd(a, b E) E             { return simdOp(0xE4, a, b) }
func vsub(a, b E) E             { return simdOp(0xE5, a, b) }
func vmul(a, b E) E             { return simdOp(0xE6, a, b) }
func vdiv(a, b E) E             { return simdOp(0xE7, a, b) }
func vsqrt(a E) E               { return simdOp(0xE3, a) }
func vsplat(a E) E              { return simdOp(0x13, a) } // f32x4.splat
func vgt(a, b E) E              { return simdOp(0x44, a, b) }
func vlt(a, b E) E              { return simdOp(0x43, a, b) }
func vge(a, b E) E              { return simdOp(0x46, a, b) }
func vle(a, b E) E              { return simdOp(0x45, a, b) }
func vand(a, b E) E             { return simdOp(0x4E, a, b) }
func vor(a, b E) E              { return simdOp(0x50, a, b) }
func vbitselect(a, b, mask E) E { return simdOp(0x52, a, b, mask) }
func vallTrue(a E) E            { return simdOp(0xA3, a) }    // i32x4.all_true
func vanyTrue(a E) E            { return simdOp(0x53, a) }    // v128.any_true
func itrunc(a E) E              { return simdOp(0xF8, a) }    // i32x4.trunc_sat_f32x4_s
func iconv(a E) E               { return simdOp(0xFA, a) }    // f32x4.convert_i32x4_s
func iadd(a, b E) E             { return simdOp(0xAE, a, b) } // i32x4.add
func isub(a, b E) E             { return simdOp(0xB1, a, b) } // i32x4.sub
func ishl(a, b E) E             { return simdOp(0xAB, a, b) } // i32x4.shl by an i32
func isplat(a E) E              { return simdOp(0x11, a) }    // i32x4.splat

// lane reads lane i of an f32x4; replace sets it.
func lane(a E, i byte) E {
	return func(f *fn) { a(f); f.simd(0x1F); f.byte(i) }
}
func replace(a E, i byte, v E) E {
	return func(f *fn) { a(f); v(f); f.simd(0x20); f.byte(i) }
}

// shuffle is i8x16.shuffle with 32-bit lanes: lane k of the result is lane
// idx[k] of a‖b (0–3 from a, 4–7 from b).
func shuffle(a, b E, idx [4]byte) E {
	return func(f *fn) {
		a(f)
		b(f)
		f.simd(0x0D)
		for _, l := range idx {
			f.byte(4*l, 4*l+1, 4*l+2, 4*l+3)
		}
	}
}

// vconst is a v128 constant of four float32.
func vconst(v float32) E {
	return func(f *fn) {
		f.simd(0x0C)
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		for range 4 {
			f.byte(b[:]...)
		}
	}
}

// ivconst is a v128 constant of four int32.
func ivconst(v int32) E {
	return func(f *fn) {
		f.simd(0x0C)
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		for range 4 {
			f.byte(b[:]...)
		}
	}
}

// ---------------------------------------------------------------- module

// mod is a module: one imported memory ("env" "memory") and exported functions.
type mod struct {
	funcs []*fn
}

// newFn adds a function exported under name.
func (m *mod) newFn(name string, params []valType, results ...valType) *fn {
	f := m.helper(name, params, results...)
	f.export = true
	return f
}

// helper adds a function that only the module's own functions call.
func (m *mod) helper(name string, params []valType, results ...valType) *fn {
	f := &fn{name: name, idx: uint32(len(m.funcs)), params: params, results: results}
	m.funcs = append(m.funcs, f)
	return f
}

// call calls g with args (leaving its result, if any).
func call(g *fn, args ...E) E {
	return func(f *fn) {
		for _, a := range args {
			a(f)
		}
		f.byte(0x10)
		f.u32(g.idx)
	}
}

// bytes encodes the module.
func (m *mod) bytes() []byte {
	var out bytes.Buffer
	out.Write([]byte{0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00})
	section := func(id byte, body []byte) {
		out.WriteByte(id)
		out.Write(uleb(uint64(len(body))))
		out.Write(body)
	}
	// Types: one per function (duplicates are harmless and keep this simple).
	var types bytes.Buffer
	types.Write(uleb(uint64(len(m.funcs))))
	for _, f := range m.funcs {
		types.WriteByte(0x60)
		types.Write(uleb(uint64(len(f.params))))
		for _, p := range f.params {
			types.WriteByte(byte(p))
		}
		types.Write(uleb(uint64(len(f.results))))
		for _, r := range f.results {
			types.WriteByte(byte(r))
		}
	}
	section(1, types.Bytes())
	// Imports: the memory of the Go program, no minimum, no maximum.
	var imports bytes.Buffer
	imports.Write(uleb(1))
	imports.Write(name("env"))
	imports.Write(name("memory"))
	imports.Write([]byte{0x02, 0x00, 0x00})
	section(2, imports.Bytes())
	var funcs bytes.Buffer
	funcs.Write(uleb(uint64(len(m.funcs))))
	for i := range m.funcs {
		funcs.Write(uleb(uint64(i)))
	}
	section(3, funcs.Bytes())
	var exports bytes.Buffer
	n := 0
	for _, f := range m.funcs {
		if f.export {
			n++
		}
	}
	exports.Write(uleb(uint64(n)))
	for i, f := range m.funcs {
		if f.export {
			exports.Write(name(f.name))
			exports.WriteByte(0x00)
			exports.Write(uleb(uint64(i)))
		}
	}
	section(7, exports.Bytes())
	var code bytes.Buffer
	code.Write(uleb(uint64(len(m.funcs))))
	for _, f := range m.funcs {
		if f.depth != 0 {
			panic(fmt.Sprintf("module: %s: %d unclosed blocks", f.name, f.depth))
		}
		var body bytes.Buffer
		// Locals, run-length encoded by type.
		var groups [][2]uint64
		for _, t := range f.locals {
			if n := len(groups); n > 0 && groups[n-1][1] == uint64(t) {
				groups[n-1][0]++
			} else {
				groups = append(groups, [2]uint64{1, uint64(t)})
			}
		}
		body.Write(uleb(uint64(len(groups))))
		for _, g := range groups {
			body.Write(uleb(g[0]))
			body.WriteByte(byte(g[1]))
		}
		body.Write(f.code.Bytes())
		body.WriteByte(0x0B)
		code.Write(uleb(uint64(body.Len())))
		code.Write(body.Bytes())
	}
	section(10, code.Bytes())
	// The name section (custom section "name", function names): profilers and
	// stack traces then name the kernels.
	var names bytes.Buffer
	names.Write(uleb(uint64(len(m.funcs))))
	for i, f := range m.funcs {
		names.Write(uleb(uint64(i)))
		names.Write(name(f.name))
	}
	var custom bytes.Buffer
	custom.Write(name("name"))
	custom.WriteByte(1) // subsection: function names
	custom.Write(uleb(uint64(names.Len())))
	custom.Write(names.Bytes())
	section(0, custom.Bytes())
	return out.Bytes()
}

func uleb(v uint64) []byte {
	var b [binary.MaxVarintLen64]byte
	return b[:binary.PutUvarint(b[:], v)]
}

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }
