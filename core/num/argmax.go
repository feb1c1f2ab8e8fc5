package num

// Argmax returns the index of the largest value of xs, the first of equal maxima
// (0 for an empty slice). Comparisons with NaN are false: a NaN after the first
// element is never chosen, and a NaN first is always returned (nothing compares
// greater than it).
func Argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}
