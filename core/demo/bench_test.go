package demo

import (
	"testing"

	"prefer/core/feedback"
)

// BenchmarkGenerate measures how fast the default dataset (60 items, 14 raters,
// overlap 3, about 900 judgments) is simulated: items/s and judgments/s.
func BenchmarkGenerate(b *testing.B) {
	var judgments int
	for i := 0; i < b.N; i++ {
		d, err := Generate(Config{Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		judgments += len(d.Judgments)
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(60*b.N)/s, "items/s")
	b.ReportMetric(float64(judgments)/s, "judgments/s")
}

// BenchmarkGold measures the gold utility of new text (what scoring a language model's
// samples costs): texts/s.
func BenchmarkGold(b *testing.B) {
	ex := Corpus(1, 1000)
	items := make([]feedback.Item, len(ex))
	for i, e := range ex {
		items[i] = feedback.Item{Prompt: e.Prompt}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(ex)
		Gold(&items[k], ex[k].Response)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}
