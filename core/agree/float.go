package agree

import "prefer/core/num"

// Float is a statistic that may be undefined on some data (κ when everyone used one
// category, a correlation with no variation, an accuracy with no gold questions): NaN
// in Go and null in JSON, by the one rule of num.Float.
type Float = num.Float

// NaN is the undefined value of a statistic.
var NaN = num.NaN
