package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/server/client"
	"prefer/server/store/teststore"
)

// Load of BenchmarkSyncLoad: raters syncing at once, each sending its events in
// batches (the bounded load test).
const (
	loadRaters    = 200
	loadEvents    = 500 // per rater
	loadBatch     = 20
	loadItems     = 100
	loadBatchesPR = loadEvents / loadBatch
)

// BenchmarkSyncLoad runs a prefer serve process per store on loopback and has 200
// simulated raters each sync 500 events in batches of 20, all at once. It reports
// the server's throughput (events/s), the latency of a batch (p50_ms, p99_ms) and
// the server's peak resident memory (peak_rss_MB, VmHWM), and fails if an event is
// lost or stored twice. The PostgreSQL half needs PREFER_TEST_PG_DSN.
func BenchmarkSyncLoad(b *testing.B) {
	bin := preferBinary(b)
	for _, kind := range teststore.Kinds {
		b.Run(kind, func(b *testing.B) {
			var res loadResult
			for range b.N {
				res = runLoad(b, bin, kind)
			}
			b.ReportMetric(res.eventsPerSec, "events/s")
			b.ReportMetric(res.p50.Seconds()*1000, "p50_ms")
			b.ReportMetric(res.p99.Seconds()*1000, "p99_ms")
			b.ReportMetric(res.peakRSS, "peak_rss_MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

type loadResult struct {
	eventsPerSec float64
	p50, p99     time.Duration
	peakRSS      float64 // MB
}

func runLoad(b *testing.B, bin, kind string) loadResult {
	b.StopTimer()
	p := startProcess(b, bin, storeArgs(b, kind)...)
	ctx := context.Background()
	proj := openProject(b, p.URL, loadItems, loadRaters)
	httpc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: loadRaters}}

	// Every rater's batches, made before the clock starts.
	batches := make([][][]feedback.Judgment, loadRaters)
	for r := range batches {
		for k := range loadBatchesPR {
			js := make([]feedback.Judgment, loadBatch)
			for e := range js {
				n := k*loadBatch + e
				j := feedback.Judgment{ID: fmt.Sprintf("r%d-e%d", r, n), Item: fmt.Sprintf("q%d", n%loadItems),
					Time: 1767225600000 + int64(n)*1000, MS: 4000}
				switch n % 3 {
				case 0:
					j.Kind, j.A, j.B, j.Choice, j.Left = feedback.KindCompare, "a", "b", feedback.ChoiceA, "b"
				case 1:
					j.Kind, j.Response, j.Axis, j.Score = feedback.KindRate, "c", feedback.AxisHelpful, 5
				default:
					j.Kind, j.Response, j.Score = feedback.KindThumb, "b", -1
				}
				js[e] = j
			}
			batches[r] = append(batches[r], js)
		}
	}

	lat := make([][]time.Duration, loadRaters)
	errs := make(chan error, loadRaters)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for r := range loadRaters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := client.New(p.URL, proj.Raters[r].Token)
			rc.HTTP = httpc
			<-start
			for _, js := range batches[r] {
				t0 := time.Now()
				res, err := rc.SendEvents(ctx, proj.ID, js)
				lat[r] = append(lat[r], time.Since(t0))
				if err != nil || res.Accepted != len(js) {
					errs <- fmt.Errorf("rater %d: %+v, %v", r, res, err)
					return
				}
			}
		}()
	}
	b.StartTimer()
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	rss := peakRSS(b, p.cmd.Process.Pid)

	all, _, err := client.New(p.URL, proj.LeadToken).AllEvents(ctx, proj.ID, "", "")
	if err != nil {
		b.Fatal(err)
	}
	seen := make(map[string]bool, len(all))
	for _, j := range all {
		if seen[j.ID] {
			b.Fatalf("event %s stored twice", j.ID)
		}
		seen[j.ID] = true
	}
	if want := loadRaters * loadEvents; len(seen) != want {
		b.Fatalf("%d events stored, want %d", len(seen), want)
	}
	var flat []time.Duration
	for _, l := range lat {
		flat = append(flat, l...)
	}
	sort.Slice(flat, func(i, j int) bool { return flat[i] < flat[j] })
	res := loadResult{
		eventsPerSec: float64(loadRaters*loadEvents) / elapsed.Seconds(),
		p50:          flat[len(flat)/2],
		p99:          flat[len(flat)*99/100],
		peakRSS:      rss,
	}
	b.Logf("%s: %d events in %v: %.0f events/s, p50 %v, p99 %v, peak RSS %.1f MB",
		kind, len(seen), elapsed.Round(time.Millisecond), res.eventsPerSec, res.p50, res.p99, res.peakRSS)
	return res
}

// peakRSS reads a process's peak resident set size (VmHWM) in MB.
func peakRSS(tb testing.TB, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Logf("peak RSS unknown: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}
