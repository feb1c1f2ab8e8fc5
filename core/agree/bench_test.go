package agree

import (
	"testing"
)

// BenchmarkAnalyze measures the whole report on a simulated panel of 7 raters and
// 1000 items (7000 comparisons).
func BenchmarkAnalyze(b *testing.B) {
	items, raters, js := simulate(1, 1000, panel)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Analyze(items, raters, js, Options{})
	}
	b.ReportMetric(float64(float64(len(js))*float64(b.N))/b.Elapsed().Seconds(), "judgments/s")
}
