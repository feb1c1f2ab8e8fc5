package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"prefer/core/demo"
	"prefer/core/rng"
)

// writeScaleTRL writes n preference pairs in TRL's standard format — research-scale
// data for the memory benchmarks — to path: one JSON line
// {"prompt", "chosen", "rejected"} per pair, each with a prompt of its own (a prompt
// of the demo grammar numbered "(request i)", so no two pairs share an item, as in
// HH-RLHF) and two of the demo's responses to it, the one of higher gold utility
// chosen. About 300 bytes a line. A pure function of n.
func writeScaleTRL(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	r := rng.New(17)
	const block = 5000
	for lo := 0; lo < n; lo += block {
		items := demo.Prompts(uint64(1+lo/block), block)
		for k := 0; k < block && lo+k < n; k++ {
			it := &items[k]
			a := r.IntN(len(it.Responses))
			b := r.IntN(len(it.Responses) - 1)
			if b >= a {
				b++
			}
			ra, rb := it.Responses[a], it.Responses[b]
			if ra.Gold != nil && rb.Gold != nil && *rb.Gold > *ra.Gold {
				ra, rb = rb, ra
			}
			rec := struct {
				Prompt   string `json:"prompt"`
				Chosen   string `json:"chosen"`
				Rejected string `json:"rejected"`
			}{fmt.Sprintf("%s (request %d)", it.Prompt, lo+k+1), ra.Text, rb.Text}
			if err := enc.Encode(rec); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
