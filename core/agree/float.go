package agree

import (
	"math"
	"strconv"
)

// Float is a float64 that is written to JSON as null when it is not a finite number.
//
// Many statistics are undefined on some data (κ when everyone used one category, a
// correlation with no variation, an accuracy with no gold questions); they are NaN in
// Go and null in JSON, because encoding/json refuses NaN.
type Float float64

// NaN is the undefined value of a statistic.
var NaN = Float(math.NaN())

// Valid reports whether f is a finite number.
func (f Float) Valid() bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// MarshalJSON writes the shortest decimal that reads back to the same float64, or null.
func (f Float) MarshalJSON() ([]byte, error) {
	if !f.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = NaN
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// String formats f with four decimals, or "–" when undefined.
func (f Float) String() string {
	if !f.Valid() {
		return "–"
	}
	return strconv.FormatFloat(float64(f), 'f', 4, 64)
}
