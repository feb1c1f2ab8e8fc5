package formats

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
)

// trlInput generates n TRL standard rows with distinct prompts, about 230 bytes each.
func trlInput(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"prompt": "Question %d: what is %d plus %d? Answer briefly and explain.", "chosen": "The answer is %d, because adding %d to %d gives %d.", "rejected": "The answer is %d. I am quite sure about this one."}`+"\n",
			i, i, i+1, 2*i+1, i, i+1, 2*i+1, 2*i+2)
	}
	return b.Bytes()
}

// BenchmarkImportTRL100k imports 100,000 TRL pairs (generated here, ~23 MB) and
// reports pairs per second.
func BenchmarkImportTRL100k(b *testing.B) {
	const n = 100_000
	data := trlInput(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, _, err := ReadTRL(bytes.NewReader(data), Options{})
		if err != nil || len(d.Judgments) != n {
			b.Fatalf("%v, %d judgments", err, len(d.Judgments))
		}
	}
	b.ReportMetric(float64(float64(n)*float64(b.N))/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkImportHHReal imports the real HH-RLHF test split (2,312 gzipped pairs).
func BenchmarkImportHHReal(b *testing.B) {
	data, err := os.ReadFile(hhPath)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d, _, err := ReadHH(bytes.NewReader(data), Options{})
		if err != nil || len(d.Judgments) != 2312 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2312*float64(b.N))/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkExportJSONL100k writes 100,000 comparisons in Prefer's JSON lines.
func BenchmarkExportJSONL100k(b *testing.B) {
	const n = 100_000
	d, _, err := ReadTRL(bytes.NewReader(trlInput(n)), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := WriteJSONL(io.Discard, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(float64(n)*float64(b.N))/b.Elapsed().Seconds(), "pairs/s")
}
