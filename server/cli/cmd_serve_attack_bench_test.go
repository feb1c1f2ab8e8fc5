package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot/snaptest"
	"prefer/core/wire"
	"prefer/server/client"
)

// BenchmarkAttackRSS runs a prefer serve process (embedded store) and sends it the
// hostile mix of issue 11, each part bounded in count and time, then reports the
// server's peak resident memory (peak_rss_MB, VmHWM) and how long a normal upload
// took while two slow clients held their uploads open (upload_beside_slow_ms).
// Nothing is asserted: it is a measurement (compare BenchmarkSyncLoad's peak RSS
// under the normal 200-rater load). The parts, all at once where the issue had them
// in parallel:
//
//   - 2 token-less uploads of a snapshot of MB_NIL MiB of nil items (finding 1);
//   - 8 parallel 4 MiB events batches of 262,140 minimal judgments (finding 2);
//   - 100 events with notes at the cap, then 3 parallel reads of the page (finding 3);
//   - 132 token-less GETs over 6 projects (finding 4);
//   - 2 slow uploads (5 bytes of 32 MiB sent) and a normal upload beside them (finding 5);
//   - 120 batches of shared ids in opposite orders (finding 6).
//
// PREFER_ATTACK_MB sets MB_NIL (default 16, the issue's) and PREFER_ATTACK_BATCH_MB
// the size of the events batches (default 4, the server's limit). Against an older
// binary (PREFER_E2E_BIN) it shows the "before" memory; lower both there.
func BenchmarkAttackRSS(b *testing.B) {
	bin := preferBinary(b)
	mbNil := 16
	if v := os.Getenv("PREFER_ATTACK_MB"); v != "" {
		fmt.Sscan(v, &mbNil)
	}
	mbBatch := 4
	if v := os.Getenv("PREFER_ATTACK_BATCH_MB"); v != "" {
		fmt.Sscan(v, &mbBatch)
	}
	for range b.N {
		rss, beside := runAttack(b, bin, mbNil, mbBatch)
		b.ReportMetric(rss, "peak_rss_MB")
		b.ReportMetric(beside.Seconds()*1000, "upload_beside_slow_ms")
		b.ReportMetric(0, "ns/op")
	}
}

func runAttack(b *testing.B, bin string, mbNil, mbBatch int) (rssMB float64, beside time.Duration) {
	b.StopTimer()
	p := startProcess(b, bin, "--data", b.TempDir())
	ctx := context.Background()
	var projects []wire.ProjectCreated
	for range 6 {
		projects = append(projects, openProject(b, p.URL, 100, 3))
	}
	proj := projects[0]
	tok := proj.Raters[0].Token
	httpc := &http.Client{Timeout: 10 * time.Minute}
	// send returns the status of a request (0 when it failed), its body read.
	send := func(method, path, token, ct string, body []byte) int {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequest(method, p.URL+path, rd)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	post := func(path, token, ct string, body []byte) int { return send("POST", path, token, ct, body) }
	get := func(path, token string) int { return send("GET", path, token, "", nil) }
	head := func(key string) []byte { return snaptest.Head(1, key) }
	nNil := mbNil << 20
	nilItems := binary.BigEndian.AppendUint32(append(head("items"), 0xdd), uint32(nNil))
	nilItems = append(nilItems, bytes.Repeat([]byte{0xc0}, nNil)...)
	nJ := (mbBatch<<20 - 64) / 16
	batch := binary.BigEndian.AppendUint32(append(head("judgments"), 0xdd), uint32(nJ))
	batch = append(batch, bytes.Repeat([]byte{0x82, 0xa2, 'i', 'd', 0xa1, 'x', 0xa4, 'k', 'i', 'n', 'd', 0xa4, 'r', 'a', 't', 'e'}, nJ)...)
	// Notes at the cap: the most a rater can store per event.
	var noted []feedback.Judgment
	for i := range 100 {
		noted = append(noted, feedback.Judgment{ID: fmt.Sprintf("note-%d", i), Kind: feedback.KindThumb, Item: fmt.Sprintf("q%d", i),
			Response: "b", Score: 1, Time: 1767225600000, Note: strings.Repeat("n", wire.MaxNoteBytes)})
	}

	b.StartTimer()
	var wg sync.WaitGroup
	run := func(n int, fn func(i int)) {
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); fn(i) }()
		}
	}
	// Finding 5: two slow uploads first, then a normal one beside them.
	var slow []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(c, "POST /api/v1/snapshots HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: %d\r\n\r\n\x83", 32<<20)
		slow = append(slow, c)
	}
	run(1, func(int) {
		_, data := testSnapshot(b, 50)
		t0 := time.Now()
		post("/api/v1/snapshots", "", wire.ContentTypeMsgpack, data)
		beside = time.Since(t0)
	})
	run(2, func(int) { post("/api/v1/snapshots", "", wire.ContentTypeMsgpack, nilItems) })
	run(8, func(int) { post("/api/v1/projects/"+proj.ID+"/events", tok, wire.ContentTypeMsgpack, batch) })
	run(1, func(int) {
		rc := client.New(p.URL, tok)
		rc.SendEvents(ctx, proj.ID, noted)
		var rw sync.WaitGroup
		for range 3 {
			rw.Add(1)
			go func() { defer rw.Done(); get("/api/v1/projects/"+proj.ID+"/events?limit=5000", tok) }()
		}
		rw.Wait()
	})
	run(132, func(i int) { get("/api/v1/projects/"+projects[i%len(projects)].ID+"/tasks", "") })
	run(120, func(i int) {
		var js []feedback.Judgment
		for k := range 20 {
			n := k
			if i%2 == 1 {
				n = 19 - k
			}
			js = append(js, feedback.Judgment{ID: fmt.Sprintf("opp-%d-%d", i/2, n), Kind: feedback.KindThumb,
				Item: fmt.Sprintf("q%d", n), Response: "b", Score: -1, Time: 1767225600000})
		}
		client.New(p.URL, proj.Raters[1].Token).SendEvents(ctx, proj.ID, js)
	})
	wg.Wait()
	b.StopTimer()
	for _, c := range slow {
		c.Close()
	}
	rssMB = peakRSS(b, p.cmd.Process.Pid)
	b.Logf("attack mix (nil items %d MiB, batches %d MiB): peak RSS %.0f MB; an upload beside two slow ones took %v", mbNil, mbBatch, rssMB, beside.Round(time.Millisecond))
	return rssMB, beside
}
