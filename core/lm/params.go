package lm

// Tensors are named views into one flat float32 vector, so the optimizer, gradient
// clipping, zeroing and hashing work on a single slice.
type Tensors struct {
	Wte      []float32 // (V, C)
	Wpe      []float32 // (T, C)
	Ln1w     []float32 // (L, C)
	Ln1b     []float32 // (L, C)
	Qkvw     []float32 // (L, C, 3C) input-major, see linearForward
	Qkvb     []float32 // (L, 3C)
	Attprojw []float32 // (L, C, C)
	Attprojb []float32 // (L, C)
	Ln2w     []float32 // (L, C)
	Ln2b     []float32 // (L, C)
	Fcw      []float32 // (L, C, H)
	Fcb      []float32 // (L, H)
	Fcprojw  []float32 // (L, H, C)
	Fcprojb  []float32 // (L, C)
	Lnfw     []float32 // (C)
	Lnfb     []float32 // (C)
	Lmw      []float32 // (V, C); aliases Wte unless Config.Untied
	Headw    []float32 // (C) scalar head: value (PPO) or reward (reward model)
	Headb    []float32 // (1)
}

// views slices flat into the tensors of c, in the order of c.specs().
func views(c Config, flat []float32) Tensors {
	var t Tensors
	off := 0
	for _, s := range c.specs() {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		v := flat[off : off+n : off+n]
		off += n
		switch s.name {
		case "wte":
			t.Wte = v
		case "wpe":
			t.Wpe = v
		case "ln1w":
			t.Ln1w = v
		case "ln1b":
			t.Ln1b = v
		case "qkvw":
			t.Qkvw = v
		case "qkvb":
			t.Qkvb = v
		case "attprojw":
			t.Attprojw = v
		case "attprojb":
			t.Attprojb = v
		case "ln2w":
			t.Ln2w = v
		case "ln2b":
			t.Ln2b = v
		case "fcw":
			t.Fcw = v
		case "fcb":
			t.Fcb = v
		case "fcprojw":
			t.Fcprojw = v
		case "fcprojb":
			t.Fcprojb = v
		case "lnfw":
			t.Lnfw = v
		case "lnfb":
			t.Lnfb = v
		case "lmw":
			t.Lmw = v
		case "headw":
			t.Headw = v
		case "headb":
			t.Headb = v
		}
	}
	if t.Lmw == nil {
		t.Lmw = t.Wte
	}
	return t
}

// layer returns the tensors of block l (each a view of length the per-layer size).
type layerTensors struct {
	ln1w, ln1b, qkvw, qkvb, attprojw, attprojb []float32
	ln2w, ln2b, fcw, fcb, fcprojw, fcprojb     []float32
}

func (t *Tensors) layer(l, C, H int) layerTensors {
	return layerTensors{
		ln1w:     t.Ln1w[l*C : (l+1)*C],
		ln1b:     t.Ln1b[l*C : (l+1)*C],
		qkvw:     t.Qkvw[l*3*C*C : (l+1)*3*C*C],
		qkvb:     t.Qkvb[l*3*C : (l+1)*3*C],
		attprojw: t.Attprojw[l*C*C : (l+1)*C*C],
		attprojb: t.Attprojb[l*C : (l+1)*C],
		ln2w:     t.Ln2w[l*C : (l+1)*C],
		ln2b:     t.Ln2b[l*C : (l+1)*C],
		fcw:      t.Fcw[l*H*C : (l+1)*H*C],
		fcb:      t.Fcb[l*H : (l+1)*H],
		fcprojw:  t.Fcprojw[l*C*H : (l+1)*C*H],
		fcprojb:  t.Fcprojb[l*C : (l+1)*C],
	}
}
