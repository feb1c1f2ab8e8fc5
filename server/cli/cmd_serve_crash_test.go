package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/core/wire"
	"prefer/server/client"
	"prefer/server/store/teststore"
)

// preferBinary returns the prefer binary to run: $PREFER_E2E_BIN when set (make
// test builds it with the real web files), else one built for the test.
func preferBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("PREFER_E2E_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	out := filepath.Join(tb.TempDir(), "prefer")
	cmd := exec.Command("go", "build", "-o", out, "prefer/server")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build prefer: %v\n%s", err, msg)
	}
	return out
}

// process is a prefer serve running as a child process.
type process struct {
	cmd *exec.Cmd
	URL string
}

// startProcess starts bin serve with args on a free loopback port.
// openProject uploads a test snapshot of n items to the server at url and makes a
// project of it in which each of the raters labels every item.
func openProject(tb testing.TB, url string, n, raters int) wire.ProjectCreated {
	tb.Helper()
	ctx := context.Background()
	_, data := testSnapshot(tb, n)
	c := client.New(url, "")
	snap, _, err := c.PushSnapshot(ctx, data)
	if err != nil {
		tb.Fatal(err)
	}
	proj, err := c.CreateProject(ctx, wire.NewProject{Snapshot: snap.ID, RaterCount: raters, Overlap: raters})
	if err != nil {
		tb.Fatal(err)
	}
	return proj
}

func startProcess(tb testing.TB, bin string, args ...string) *process {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--quiet"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &process{cmd: cmd}
	tb.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			tb.Fatal("prefer serve exited before printing its address")
		}
		p.URL = urlRE.FindString(line)
	case <-time.After(60 * time.Second):
		tb.Fatal("prefer serve did not start in 60 s")
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	return p
}

// storeArgs returns the serve flags of a fresh store of the given kind; the same
// flags reopen the same store.
func storeArgs(tb testing.TB, kind string) []string {
	if kind == "postgres" {
		cfg := teststore.PostgresConfig(tb)
		return []string{"--store", "postgres", "--dsn", cfg.DSN + "&search_path=" + cfg.Schema}
	}
	return []string{"--data", tb.TempDir()}
}

// TestCrashSafety kills the server with SIGKILL in the middle of a stream of event
// batches, restarts it on the same store, and checks that every acknowledged event
// is there exactly once and that the store reads and writes on.
func TestCrashSafety(t *testing.T) {
	bin := preferBinary(t)
	for _, kind := range teststore.Kinds {
		t.Run(kind, func(t *testing.T) {
			args := storeArgs(t, kind)
			p := startProcess(t, bin, args...)
			ctx := context.Background()
			const raters, items, batch = 8, 40, 10
			proj := openProject(t, p.URL, items, raters)

			var mu sync.Mutex
			acked := map[string]bool{}
			var sent [][]feedback.Judgment // every batch tried, acknowledged or not
			var senders []string
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for r := range raters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rc := client.New(p.URL, proj.Raters[r].Token)
					for b := 0; ; b++ {
						select {
						case <-stop:
							return
						default:
						}
						js := make([]feedback.Judgment, batch)
						for k := range js {
							js[k] = feedback.Judgment{ID: fmt.Sprintf("r%d-b%d-k%d", r, b, k), Kind: feedback.KindThumb,
								Item: fmt.Sprintf("q%d", (b*batch+k)%items), Response: "a", Score: 1}
						}
						mu.Lock()
						sent = append(sent, js)
						senders = append(senders, proj.Raters[r].Token)
						mu.Unlock()
						if _, err := rc.SendEvents(ctx, proj.ID, js); err != nil {
							return // the server died under this request
						}
						mu.Lock()
						for _, j := range js {
							acked[j.ID] = true
						}
						mu.Unlock()
					}
				}()
			}
			// Let the stream run until well over a hundred batches are acknowledged.
			deadline := time.Now().Add(20 * time.Second)
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 150*batch || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			p.cmd.Wait()
			close(stop)
			wg.Wait()
			t.Logf("killed after %d acknowledged events (%d batches tried)", len(acked), len(sent))
			if len(acked) == 0 {
				t.Fatal("no write was acknowledged before the kill")
			}

			p2 := startProcess(t, bin, args...)
			lead := client.New(p2.URL, proj.LeadToken)
			all, _, err := lead.AllEvents(ctx, proj.ID, "", "")
			if err != nil {
				t.Fatalf("the store is unreadable after the crash: %v", err)
			}
			seen := map[string]int{}
			for _, j := range all {
				seen[j.ID]++
			}
			for id := range acked {
				if seen[id] != 1 {
					t.Fatalf("acknowledged event %s is stored %d times after the crash", id, seen[id])
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("event %s stored %d times", id, n)
				}
			}
			// Every batch sent again: the server takes the lost ones, stores nothing twice.
			total := map[string]bool{}
			for i, js := range sent {
				if _, err := client.New(p2.URL, senders[i]).SendEvents(ctx, proj.ID, js); err != nil {
					t.Fatalf("resend after restart: %v", err)
				}
				for _, j := range js {
					total[j.ID] = true
				}
			}
			all, _, err = lead.AllEvents(ctx, proj.ID, "", "")
			if err != nil || len(all) != len(total) {
				t.Fatalf("after resending: %d events, want %d (%v)", len(all), len(total), err)
			}
			if !strings.HasPrefix(p2.URL, "http://127.0.0.1:") {
				t.Fatalf("server listens on %s", p2.URL)
			}
		})
	}
}
