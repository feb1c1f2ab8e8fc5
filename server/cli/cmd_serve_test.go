package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/server/api"
	"prefer/server/client"
	"prefer/server/store/teststore"
	"prefer/static"
)

// testWeb is the embedded web directory with small stand-ins for the built wasm
// files (app.wasm, worker.wasm and their compressed copies), so that the tests do not
// depend on whether make built them; simd.wasm is committed and taken as it is.
var testWeb = sync.OnceValue(func() fs.FS {
	m := fstest.MapFS{}
	err := fs.WalkDir(static.Web(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasPrefix(p, "app.wasm") || strings.HasPrefix(p, "worker.wasm") {
			return err
		}
		data, err := fs.ReadFile(static.Web(), p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		panic(err)
	}
	m["app.wasm"] = &fstest.MapFile{Data: []byte("\x00asm stand-in app")}
	m["app.wasm.br"] = &fstest.MapFile{Data: []byte("stand-in brotli")}
	m["app.wasm.gz"] = &fstest.MapFile{Data: []byte("stand-in gzip")}
	m["worker.wasm"] = &fstest.MapFile{Data: []byte("\x00asm stand-in worker")}
	for _, need := range []string{"worker.js", "demo.snap", "icon.svg", "icon-192.png", "icon-512.png", "app.css"} {
		if m[need] == nil {
			m[need] = &fstest.MapFile{Data: []byte("stand-in " + need)}
		}
	}
	return m
})

func init() { webFS = testWeb }

// lineWriter collects output and signals each line.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 100)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if strings.HasSuffix(l, "\n") {
			select {
			case w.lines <- strings.TrimSpace(l):
			default:
			}
		}
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

var urlRE = regexp.MustCompile(`https?://[^\s/]+`)

// testServer is a prefer serve running in this process.
type testServer struct {
	URL    string
	stdout *lineWriter
	stop   func() error
}

// startServe runs serve with args (plus --addr 127.0.0.1:0 --quiet) until the
// test ends or stop is called.
func startServe(t testing.TB, args ...string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errw := newLineWriter(), newLineWriter()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, append([]string{"--addr", "127.0.0.1:0", "--quiet"}, args...), out, errw)
	}()
	ts := &testServer{stdout: out}
	select {
	case line := <-out.lines:
		ts.URL = urlRE.FindString(line)
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v\n%s%s", err, out, errw)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	var once sync.Once
	var stopErr error
	ts.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { ts.stop() })
	return ts
}

// testSnapshot writes a snapshot with n items (responses a, b, c) to a file.
func testSnapshot(t testing.TB, n int) (string, []byte) {
	t.Helper()
	s := &snapshot.Snapshot{Provenance: snapshot.Provenance{Tool: "test"}}
	for i := range n {
		it := feedback.Item{ID: fmt.Sprintf("q%d", i), Prompt: fmt.Sprintf("question %d", i)}
		for _, r := range []string{"a", "b", "c"} {
			it.Responses = append(it.Responses, feedback.Response{ID: r, Text: "answer " + r})
		}
		s.Items = append(s.Items, it)
	}
	data, err := snapshot.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "items.snap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestServeEndToEnd(t *testing.T) {
	for _, kind := range teststore.Kinds {
		t.Run(kind, func(t *testing.T) {
			args := []string{"--data", t.TempDir()}
			if kind == "postgres" {
				cfg := teststore.PostgresConfig(t)
				args = []string{"--store", "postgres", "--dsn", cfg.DSN + "&search_path=" + cfg.Schema}
			}
			ts := startServe(t, args...)
			// The demo snapshot is stored at start and its link printed.
			waitFor(t, func() bool { return strings.Contains(ts.stdout.String(), "demo snapshot: "+ts.URL+"/s/") })
			demo := regexp.MustCompile(`demo snapshot: (\S+)`).FindStringSubmatch(ts.stdout.String())[1]

			resp, err := http.Get(ts.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != api.CSP || !strings.Contains(string(body), "app.js") {
				t.Fatalf("GET /: %d %v", resp.StatusCode, resp.Header)
			}
			req, _ := http.NewRequest("GET", ts.URL+"/web/app.wasm", nil)
			req.Header.Set("Accept-Encoding", "br, gzip")
			resp, err = http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Header.Get("Content-Encoding") != "br" || string(body) != "stand-in brotli" || resp.Header.Get(api.HeaderRawLength) != "17" {
				t.Fatalf("app.wasm: %v %q", resp.Header, body)
			}

			// pull the demo by its link; push a snapshot and pull it back by id.
			out := filepath.Join(t.TempDir(), "demo.snap")
			if code, _, stderr := runCLI(t, "pull", demo, "-o", out); code != 0 {
				t.Fatalf("pull demo: %s", stderr)
			}
			file, data := testSnapshot(t, 4)
			code, stdout, stderr := runCLI(t, "push", file, "--server", ts.URL, "--json")
			if code != 0 {
				t.Fatalf("push: %s", stderr)
			}
			var rep pushReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || !rep.Created || !strings.HasPrefix(rep.URL, ts.URL+"/s/") {
				t.Fatalf("push report %s: %v", stdout, err)
			}
			if _, stdout, _ := runCLI(t, "push", file, "--server", ts.URL); strings.TrimSpace(stdout) != rep.URL {
				t.Fatalf("second push printed %q, want the same link %q", stdout, rep.URL)
			}
			back := filepath.Join(t.TempDir(), "back.snap")
			if code, stdout, stderr := runCLI(t, "pull", rep.ShareID, "--server", ts.URL, "-o", back, "--json"); code != 0 || !strings.Contains(stdout, rep.InputID) {
				t.Fatalf("pull: %d %s %s", code, stdout, stderr)
			}
			if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
				t.Fatal("pulled bytes differ from pushed ones")
			}

			// push --project prints rater links whose tokens open the queues.
			code, stdout, stderr = runCLI(t, "push", file, "--server", ts.URL, "--project", "round 1", "--raters", "2", "--overlap", "2", "--json")
			if code != 0 {
				t.Fatalf("push --project: %s", stderr)
			}
			json.Unmarshal([]byte(stdout), &rep)
			if rep.Project == nil || len(rep.Project.Raters) != 2 || rep.Project.Raters[1].Assigned != 4 {
				t.Fatalf("project: %s", stdout)
			}
			c := client.New(ts.URL, rep.Project.Raters[0].Token)
			if tasks, err := c.Tasks(t.Context(), rep.Project.ID, ""); err != nil || len(tasks.Items) != 4 {
				t.Fatalf("tasks: %v", err)
			}
			// The lead's link opens the lead page with the lead token; the text
			// output prints it next to the raters' links.
			if want := ts.URL + "/p/" + rep.Project.ID + "/lead#token=" + rep.Project.LeadToken; rep.Project.LeadURL != want {
				t.Fatalf("lead_url %q, want %q", rep.Project.LeadURL, want)
			}
			if _, err := client.New(ts.URL, rep.Project.LeadToken).Progress(t.Context(), rep.Project.ID); err != nil {
				t.Fatalf("the lead token of the lead link: %v", err)
			}
			_, stdout, _ = runCLI(t, "push", file, "--server", ts.URL, "--project", "round 2", "--raters", "1")
			if !regexp.MustCompile(`(?m)^lead \(progress, pull the judgments\): http://\S+/p/[0-9a-f]+/lead#token=prf_\S+$`).MatchString(stdout) ||
				!regexp.MustCompile(`(?m)^rater r1 \(\d+ items\): http://\S+/p/[0-9a-f]+#token=prf_\S+$`).MatchString(stdout) {
				t.Fatalf("push --project does not print the lead's and the rater's links:\n%s", stdout)
			}

			if err := ts.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if !strings.Contains(ts.stdout.String(), "stopped") {
				t.Fatalf("no clean stop: %s", ts.stdout)
			}
		})
	}
}

func TestServeAndClientErrors(t *testing.T) {
	dir := t.TempDir()
	ts := startServe(t, "--data", dir)
	// A second server on the same data directory is refused (the file is locked).
	if err := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", dir}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second server on the same data: %v", err)
	}
	file, _ := testSnapshot(t, 2)
	notSnap := filepath.Join(t.TempDir(), "x.snap")
	os.WriteFile(notSnap, []byte("not a snapshot"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--store", "sqlite"}, 2, "embedded or postgres"},
		{[]string{"serve", "--store", "postgres"}, 2, "--dsn"},
		{[]string{"serve", "--max-snapshot", "0"}, 2, "MiB"},
		{[]string{"serve", "--max-rater-events", "0"}, 2, "number of events"},
		{[]string{"serve", "--max-rater-bytes", "-3"}, 2, "MiB"},
		{[]string{"serve", "extra"}, 2, "no arguments"},
		{[]string{"push", file}, 2, "--server"},
		{[]string{"push", notSnap, "--server", ts.URL}, 1, "snapshot"},
		{[]string{"push", file, "--server", "http://127.0.0.1:1"}, 1, "upload"},
		{[]string{"push", file, "--server", ts.URL, "--project", "x"}, 2, "--raters"},
		{[]string{"push", file, "--server", ts.URL, "--project", "x", "--raters", "2", "--overlap", "5"}, 1, "overlap"},
		{[]string{"pull", "0123456789abcdef0123456789abcdef", "--server", ts.URL, "-o", filepath.Join(t.TempDir(), "y")}, 1, "404"},
		{[]string{"pull", ts.URL + "/s/../../etc", "-o", filepath.Join(t.TempDir(), "y")}, 1, ""},
		{[]string{"pull", "http://example.invalid/nothing", "-o", "y"}, 1, "not a snapshot link"},
		{[]string{"pull", "abc"}, 2, "-o"},
		{[]string{"pull", "abc", "-o", "y"}, 2, "--server"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("prefer %s: exit %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, stderr, c.code, c.want)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in 3 s")
}

// TestGracefulShutdown stops the server while an upload is half sent: the upload
// completes and is stored, and only then does serve return.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	ts := startServe(t, "--data", dir)
	_, data := testSnapshot(t, 3000) // ~150 KB: the first half surely reaches the handler
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/snapshots", pr)
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", "application/msgpack")
	answer := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		answer <- resp
	}()
	half := len(data) / 2
	if _, err := pw.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	// Let the server accept the connection: one still in the listen backlog when
	// Shutdown closes the listener is dropped by design.
	time.Sleep(100 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- ts.stop() }()
	waitFor(t, func() bool { return strings.Contains(ts.stdout.String(), "stopping") })
	select {
	case err := <-stopped:
		t.Fatalf("serve returned with an upload in flight: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := pw.Write(data[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	resp := <-answer
	if resp == nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload during shutdown: %v", resp)
	}
	resp.Body.Close()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	// Reopened, the store holds the snapshot.
	ts2 := startServe(t, "--data", dir)
	var created struct{ ID string }
	resp, err := http.Post(ts2.URL+"/api/v1/snapshots", "application/msgpack", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after restart the same upload is %d, want 200 (already stored)", resp.StatusCode)
	}
}

// TestServeWithoutWasm serves a build without the wasm: pages say so, the API works.
func TestServeWithoutWasm(t *testing.T) {
	defer func(f func() fs.FS) { webFS = f }(webFS)
	webFS = func() fs.FS { return fstest.MapFS{"placeholder.txt": {Data: []byte("x")}} }
	ts := startServe(t, "--data", t.TempDir())
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "make build") {
		t.Fatalf("GET / without wasm: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(ts.stdout.String(), "not built") {
		t.Fatalf("no warning printed: %s", ts.stdout)
	}
	resp, err = http.Get(ts.URL + "/api/v1/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
}
