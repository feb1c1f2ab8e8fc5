package module

import "math"

// The exponential of core/lm (math32.go, expSlice and expSlow), operation for
// operation:
//
//	t = v·log2e,  k = int32(t) rounded to nearest by ±1 when |t − k| > ½
//	r = (v − k·ln2Hi) − k·ln2Lo
//	e**v = p(r)·2**k,  p(r) = 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r/720)))))
//
// four lanes at a time when all four are in the common range [−87.33, 88], else one
// at a time with the special cases (NaN unchanged, +Inf above 88.72, 0 below
// −87.33, 2**k split in two above k = 127). All constants are the float32 values
// Go's compiler gives the untyped constants of math32.go.
var (
	log2e = float32(1.44269504088896341)
	ln2Hi = float32(0.693145751953125)
	ln2Lo = float32(1.428606765330187045e-06)
	expLo = float32(-87.33)
	expHi = float32(88)
	expOv = float32(88.72)
	// negInf is −Inf, the start of a running maximum.
	negInf = float32(math.Inf(-1))
	poly   = [...]float32{1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1, 1}
)

// expFns adds the helpers exp1 (one float32, with the special cases) and exp_slice
// (p, n): x[i] = e**x[i] for the n float32 at byte address p; exp_slice is also
// exported. It returns exp_slice.
func expFns(m *mod) *fn {
	exp1 := m.helper("exp1", []valType{f32}, f32)
	{
		f := exp1
		v := f.param(0)
		t := f.local(f32)
		k := f.local(i32)
		kf := f.local(f32)
		r := f.local(f32)
		p := f.local(f32)
		fr := f.local(f32)
		f.when(fne(get(v), get(v)), func() { f.do(get(v)); f.byte(0x0F) })
		f.when(fgt(get(v), cf(expOv)), func() { f.do(cf(float32(math.Inf(1)))); f.byte(0x0F) })
		f.when(flt(get(v), cf(expLo)), func() { f.do(cf(0)); f.byte(0x0F) })
		f.set(t, fmul(get(v), cf(log2e)))
		f.set(k, truncF(get(t)))
		f.set(fr, fsub(get(t), convI(get(k))))
		f.whenElse(fgt(get(fr), cf(0.5)), func() { f.inc(k, 1) }, func() {
			f.when(flt(get(fr), cf(-0.5)), func() { f.inc(k, -1) })
		})
		f.set(kf, convI(get(k)))
		f.set(r, fsub(fsub(get(v), fmul(get(kf), cf(ln2Hi))), fmul(get(kf), cf(ln2Lo))))
		f.set(p, polyScalar(get(r)))
		f.when(gts(get(k), ci(127)), func() {
			f.do(fmul(fmul(get(p), asF32(shl(add(get(k), ci(126)), ci(23)))), cf(2)))
			f.byte(0x0F)
		})
		f.do(fmul(get(p), asF32(shl(add(get(k), ci(127)), ci(23)))))
	}
	f := m.newFn("exp_slice", params(2))
	p, n := f.param(0), f.param(1)
	end := f.local(i32)
	v := f.local(v128)
	f.set(end, add(get(p), shl(get(n), ci(2))))
	f.while(les(add(get(p), ci(16)), get(end)), func() {
		f.set(v, loadV(get(p), 0))
		f.whenElse(vallTrue(vand(vge(get(v), vconst(expLo)), vle(get(v), vconst(expHi)))), func() {
			f.storeV(get(p), 0, expVec(f, get(v)))
		}, func() {
			for i := uint32(0); i < 4; i++ {
				f.storeF32(get(p), 4*i, call(exp1, loadF32(get(p), 4*i)))
			}
		})
		f.inc(p, 16)
	})
	f.while(lts(get(p), get(end)), func() {
		f.storeF32(get(p), 0, call(exp1, loadF32(get(p), 0)))
		f.inc(p, 4)
	})
	return f
}

// polyScalar and polyVec are one polynomial on purpose in two types: scalar tail
// and vector lanes must give the same bits.

// polyScalar is p(r) in float32.
func polyScalar(r E) E {
	e := fmul(r, cf(poly[0]))
	for i, c := range poly[1:] {
		e = fadd(cf(c), e)
		if i < len(poly)-2 {
			e = fmul(r, e)
		}
	}
	return e
}

// polyVec is p(r) in f32x4.
func polyVec(r E) E {
	e := vmul(r, vconst(poly[0]))
	for i, c := range poly[1:] {
		e = vadd(vconst(c), e)
		if i < len(poly)-2 {
			e = vmul(r, e)
		}
	}
	return e
}

// expVec is e**v of four lanes all in the common range. It needs locals of f for
// k and r, so it is written into f directly.
func expVec(f *fn, v E) E {
	return func(g *fn) {
		x := g.local(v128)
		t := g.local(v128)
		k := g.local(v128)
		kf := g.local(v128)
		r := g.local(v128)
		fr := g.local(v128)
		g.set(x, v)
		g.set(t, vmul(get(x), vconst(log2e)))
		g.set(k, itrunc(get(t)))
		g.set(fr, vsub(get(t), iconv(get(k))))
		// k − (fr > ½) + (fr < −½): a true comparison is −1 in every bit.
		g.set(k, iadd(isub(get(k), vgt(get(fr), vconst(0.5))), vlt(get(fr), vconst(-0.5))))
		g.set(kf, iconv(get(k)))
		g.set(r, vsub(vsub(get(x), vmul(get(kf), vconst(ln2Hi))), vmul(get(kf), vconst(ln2Lo))))
		vmul(polyVec(get(r)), ishl(iadd(get(k), ivconst(127)), ci(23)))(g)
	}
}
