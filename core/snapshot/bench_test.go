package snapshot

import (
	"fmt"
	"runtime"
	"testing"

	"prefer/core/feedback"
)

// bigSnapshot is a realistic large state: 1,000 items × 6 responses, 50,000
// comparisons, and a model with 1M float32 weights (4 MB of tensor data).
func bigSnapshot() *Snapshot {
	s := &Snapshot{Provenance: Provenance{Tool: "bench"}}
	for i := 0; i < 1000; i++ {
		it := feedback.Item{ID: fmt.Sprintf("q%d", i), Prompt: fmt.Sprintf("How many centimeters are in %d inches?", i)}
		for r := 0; r < 6; r++ {
			it.AddResponse(fmt.Sprintf("Great question! %d inches is %d centimeters. I hope this helps. (%d)", i, i*254/100, r), feedback.SourceReference)
		}
		s.Items = append(s.Items, it)
	}
	for k := 0; k < 50000; k++ {
		it := &s.Items[k%1000]
		s.Judgments = append(s.Judgments, feedback.Judgment{
			ID: fmt.Sprintf("e%06d", k), Kind: feedback.KindCompare, Item: it.ID, Rater: fmt.Sprintf("u%d", k%20),
			Time: int64(1700000000000 + k*1000), Session: "s", Seq: k % 100, MS: 4000,
			A: it.Responses[k%6].ID, B: it.Responses[(k+1)%6].ID, Choice: feedback.ChoiceA, Left: "a",
		})
	}
	w := make([]float32, 1<<20)
	for i := range w {
		w[i] = float32(float32(i%1000) * 0.001)
	}
	s.Models = []Model{{Name: "rm", Family: "linear", Tensors: map[string]Tensor{"w": {Shape: []int{1024, 1024}, Data: w}}}}
	return s
}

func BenchmarkEncode(b *testing.B) {
	s := bigSnapshot()
	data, _ := Marshal(s)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode reports decode throughput (MB/s) and alloc/byte: the bytes
// allocated while decoding divided by the file size. Peak memory while decoding is
// at most the input plus what is allocated, so alloc/byte bounds it.
func BenchmarkDecode(b *testing.B) {
	data, _ := Marshal(bigSnapshot())
	b.SetBytes(int64(len(data)))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(len(data)), "alloc/byte")
	b.ReportMetric(float64(float64(len(data))/(1<<20)), "file_MB")
}
