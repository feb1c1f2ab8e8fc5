// Package e2e drives the real prefer server binary with Debian Chromium (chromedp):
// the user journeys of docs/ui.md (J1 lesson, J3 researcher, and the offline half of
// J2) and the browser measurements of `make bench` (wasm sizes, time to interactive,
// the longest main-thread task while training, memory, worker vs native speed).
//
// The server binary is PREFER_E2E_BIN (the Makefile's bin/prefer); without it the
// tests build the wasm and the server themselves. Screenshots of every page go to a
// folder the tests print (PREFER_E2E_SHOTS, default a temporary folder). Without
// chromium the tests skip, unless PREFER_REQUIRE_BROWSER=1 (make test), which turns
// a missing browser into a failure.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// repoRoot is the module root (two levels up from this package).
func repoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// chromium returns the browser's path, or skips (fails under PREFER_REQUIRE_BROWSER).
func chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("PREFER_REQUIRE_BROWSER") != "" {
		tb.Fatal("chromium is not installed: apt-get install -y chromium (make test installs it)")
	}
	tb.Skip("chromium is not installed: apt-get install -y chromium to run the browser tests")
	return ""
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// serverBinary returns PREFER_E2E_BIN, or builds the wasm and the server once.
func serverBinary(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv("PREFER_E2E_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			tb.Fatalf("PREFER_E2E_BIN=%s: %v (run make build)", bin, err)
		}
		return bin
	}
	buildOnce.Do(func() {
		root := repoRoot(tb)
		dir, err := os.MkdirTemp("", "prefer-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		steps := [][]string{
			{"env", "GOOS=js", "GOARCH=wasm", "go", "build", "-trimpath", "-ldflags=-s -w", "-o", "static/web/app.wasm", "./wasm/ui"}, // as the Makefile does
			{"env", "GOOS=js", "GOARCH=wasm", "go", "build", "-trimpath", "-ldflags=-s -w", "-o", "static/web/worker.wasm", "./wasm/worker"},
			{"go", "build", "-trimpath", "-o", filepath.Join(dir, "prefer"), "./server"},
		}
		for _, s := range steps {
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("%s: %v\n%s", strings.Join(s, " "), err, out)
				return
			}
		}
		builtBin = filepath.Join(dir, "prefer")
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtBin
}

// server is the real prefer binary serving on a fixed local port with its own data
// directory, so it can be stopped (the network cut) and started again.
type server struct {
	tb   testing.TB
	bin  string
	addr string
	data string
	cmd  *exec.Cmd
	log  *strings.Builder
	args []string // more flags of serve
	env  []string // more environment
}

func startServer(tb testing.TB) *server { tb.Helper(); return startServerWith(tb, nil, nil) }

// startServerWith starts a server with more flags and environment variables.
func startServerWith(tb testing.TB, args, env []string) *server {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{tb: tb, bin: serverBinary(tb), addr: addr, data: tb.TempDir(), log: &strings.Builder{}, args: args, env: env}
	s.start()
	tb.Cleanup(s.stop)
	return s
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

func (s *server) start() {
	s.tb.Helper()
	s.cmd = exec.Command(s.bin, append([]string{"serve", "--addr", s.addr, "--data", s.data, "--quiet"}, s.args...)...)
	s.cmd.Env = append(append(os.Environ(), "PREFER_ADMIN_TOKEN="+adminToken), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start %s serve: %v", s.bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			s.cmd = nil
			s.tb.Fatalf("%s serve exited: %v\n%s", s.bin, err, s.log.String())
		default:
		}
		if resp, err := http.Get(s.url("/")); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("%s serve did not answer on %s within 30 s\n%s", s.bin, s.addr, s.log.String())
}

// stop cuts the network: the server process is killed.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			time.Sleep(50 * time.Millisecond)
			continue
		}
		break
	}
	s.cmd = nil
}

// adminToken is the server's admin token in the tests (creates projects).
const adminToken = "prf_e2e-admin-token-0123456789abcdef"

// api calls the server's HTTP API and decodes a JSON answer into out (may be nil).
func (s *server) api(method, path, token, contentType string, body []byte, out any) int {
	s.tb.Helper()
	req, err := http.NewRequest(method, s.url(path), bytes.NewReader(body))
	if err != nil {
		s.tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			s.tb.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	if resp.StatusCode >= 300 {
		s.tb.Logf("%s %s: HTTP %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

// shotsDir is where screenshots go; printed once.
var (
	shotsOnce sync.Once
	shots     string
)

func shotsDir(tb testing.TB) string {
	shotsOnce.Do(func() {
		shots = os.Getenv("PREFER_E2E_SHOTS")
		if shots == "" {
			shots = filepath.Join(os.TempDir(), "prefer-e2e-shots")
		}
		os.MkdirAll(shots, 0o755)
		fmt.Printf("e2e screenshots: %s\n", shots)
	})
	return shots
}

// browser is one fresh Chromium profile with one tab.
type browser struct {
	tb     testing.TB
	ctx    context.Context
	cancel func()
	mu     sync.Mutex
	logs   []string

	footprintPeak, rssPeak float64 // MB, the highest private footprint and resident memory watchMemory saw

	beforeLesson func() // runLesson calls it (when set) right before "Run all steps"
}

// newBrowser starts Chromium with a new profile and a 1280×720 window.
func newBrowser(tb testing.TB) *browser {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(tb)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("enable-precise-memory-info", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 720),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{tb: tb, ctx: ctx, cancel: func() { cancel(); acancel() }}
	tb.Cleanup(b.close)
	if err := chromedp.Listen(ctx, b.onEvent); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdpruntime.Enable, cdp.Empty{})
		return err
	}))
	b.viewport(1280, 720)
	return b
}

func (b *browser) onEvent(ev any) {
	var line string
	switch e := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
	case *cdpruntime.EventExceptionThrown:
		line = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			line += " " + e.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	b.mu.Lock()
	b.logs = append(b.logs, line)
	b.mu.Unlock()
}

func (b *browser) close() {
	b.mu.Lock()
	logs := b.logs
	b.mu.Unlock()
	if b.tb.Failed() {
		for _, l := range logs {
			b.tb.Log(l)
		}
	}
	b.cancel()
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail("%v", err)
	}
}

func (b *browser) fail(format string, args ...any) {
	b.tb.Helper()
	b.shot("failure-" + strings.ReplaceAll(b.tb.Name(), "/", "-"))
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	b.tb.Fatalf(format+"\npage text:\n%s", append(args, text)...)
}

func (b *browser) viewport(w, h int64) {
	b.tb.Helper()
	b.do(chromedp.EmulateViewport(w, h))
}

// theme emulates prefers-color-scheme.
func (b *browser) theme(scheme string) {
	b.tb.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	}))
}

// offline sets navigator.onLine (the server is stopped separately: the real cut).
func (b *browser) offline(off bool) {
	b.tb.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

func (b *browser) nav(url string) {
	b.tb.Helper()
	b.do(chromedp.Navigate(url))
}

func (b *browser) reload() {
	b.tb.Helper()
	b.do(chromedp.Reload())
}

// eval evaluates a JavaScript expression (promises awaited) into T.
func eval[T any](b *browser, expr string) T {
	b.tb.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("eval %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript condition until it is true.
func (b *browser) wait(what, cond string, timeout time.Duration) {
	b.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.fail("timed out after %v waiting for %s (%s); last error %v", timeout, what, cond, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready waits until the wasm runs and the workbench has loaded its state.
func (b *browser) ready() {
	b.tb.Helper()
	b.wait("the workbench to load", `performance.getEntriesByName("prefer-ready").length > 0 && typeof preferStats === "function"`, 90*time.Second)
}

// click clicks the element matching a CSS selector (by script: no layout races).
func (b *browser) click(sel string) {
	b.tb.Helper()
	b.wait(sel+" to be enabled", fmt.Sprintf(`document.querySelector(%q) && !document.querySelector(%q).disabled`, sel, sel), 60*time.Second)
	eval[bool](b, fmt.Sprintf(`(document.querySelector(%q).click(), true)`, sel))
}

// key presses a key on the page.
func (b *browser) key(k string) {
	b.tb.Helper()
	b.do(chromedp.KeyEvent(k))
}

// stats returns preferStats().
func (b *browser) stats() map[string]float64 {
	b.tb.Helper()
	var m map[string]float64
	if err := json.Unmarshal([]byte(eval[string](b, "preferStats()")), &m); err != nil {
		b.fail("preferStats: %v", err)
	}
	return m
}

// shot saves a full-page screenshot as NAME.png in the screenshot folder.
func (b *browser) shot(name string) string {
	dir := shotsDir(b.tb)
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.tb.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, name+".png")
	os.WriteFile(path, buf, 0o644)
	return path
}

// text returns the text of the element matching sel ("" if absent).
func (b *browser) text(sel string) string {
	b.tb.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel))
}
