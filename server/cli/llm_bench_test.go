package cli

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"prefer/core/demo"
	"prefer/core/wire"
	"prefer/server/client"
)

// Load of BenchmarkServeLLM: clients asking at once, each a fixed number of chat
// completions of the reference LM.
const (
	llmClients  = 8
	llmRequests = 25 // per client
)

// BenchmarkServeLLM measures the served reference LM as the issue asks: 8 clients
// at once, each sending 25 chat completions (one answer to a demo prompt, seeded,
// up to the model's context) to a prefer serve in this process with its default
// limits (2 generations at once, the others queued). It reports the generated
// tokens per second (tokens/s, EOS included), requests per second, and the latency
// of a request as a client sees it (p50_ms, p99_ms, queueing included). Every
// request must succeed.
func BenchmarkServeLLM(b *testing.B) {
	ts := startServe(b, "--data", b.TempDir())
	prompts := demo.Prompts(9, 64)
	var tokensPerSec, reqPerSec float64
	var p50, p99 time.Duration
	for range b.N {
		c := &client.LLM{Base: ts.URL + "/v1", Timeout: time.Minute}
		var mu sync.Mutex
		var lat []time.Duration
		tokens := 0
		var wg sync.WaitGroup
		var failed error
		start := time.Now()
		for w := range llmClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range llmRequests {
					seed := int64(w*1000 + r)
					p := prompts[(w*llmRequests+r)%len(prompts)].Prompt
					t0 := time.Now()
					res, err := c.Chat(context.Background(), &wire.ChatRequest{Model: "ref-lm", Seed: &seed,
						Messages: []wire.ChatMessage{{Role: "user", Content: wire.Content(p)}}})
					d := time.Since(t0)
					mu.Lock()
					if err != nil && failed == nil {
						failed = err
					}
					if err == nil {
						lat = append(lat, d)
						tokens += res.Usage.CompletionTokens
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		wall := time.Since(start)
		if failed != nil {
			b.Fatal(failed)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p50, p99 = lat[len(lat)/2], lat[(len(lat)*99)/100]
		tokensPerSec = float64(tokens) / wall.Seconds()
		reqPerSec = float64(len(lat)) / wall.Seconds()
	}
	b.ReportMetric(tokensPerSec, "tokens/s")
	b.ReportMetric(reqPerSec, "requests/s")
	b.ReportMetric(p50.Seconds()*1000, "p50_ms")
	b.ReportMetric(p99.Seconds()*1000, "p99_ms")
	b.ReportMetric(0, "ns/op")
}
