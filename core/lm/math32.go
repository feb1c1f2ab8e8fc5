package lm

import "prefer/core/num"

// exp32 returns e**x rounded to float32, bit-identical on every platform (it goes
// through num.Exp, never math.Exp).
func exp32(x float32) float32 { return float32(num.Exp(float64(x))) }
