package num

import (
	"math"
	"strconv"
)

// Float is a float64 that says "unknown" in JSON: it is written as null when it is
// not a finite number (NaN or ±Inf), and null reads back as NaN.
//
// This is Prefer's one rule for unknown figures in JSON (every --json output of the
// prefer command, and the JSON the app and worker exchange): a figure the data cannot
// give — a κ when everyone used one label, an accuracy with no gold, a gold reward on
// imported data — is null, and its key is present all the same, so a reader checks
// for null instead of guessing whether a missing key or a 0 means "unknown". In a
// snapshot (msgpack), where every float must be finite, an unknown figure is left out
// instead: its key is absent from the metrics, summary or series map.
type Float float64

// NaN is the unknown value.
var NaN = Float(math.NaN())

// Valid reports whether f is a finite number.
func (f Float) Valid() bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// MarshalJSON writes the shortest decimal that reads back to the same float64, or
// null when f is not finite.
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

// String formats f with four decimals, or "–" when unknown.
func (f Float) String() string {
	if !f.Valid() {
		return "–"
	}
	return strconv.FormatFloat(float64(f), 'f', 4, 64)
}

// Floats converts float64s to Floats.
func Floats(xs []float64) []Float {
	out := make([]Float, len(xs))
	for i, x := range xs {
		out[i] = Float(x)
	}
	return out
}

// FloatMap converts a map of named float64s to Floats (NaN and ±Inf become null).
func FloatMap(m map[string]float64) map[string]Float {
	out := make(map[string]Float, len(m))
	for k, v := range m {
		out[k] = Float(v)
	}
	return out
}
