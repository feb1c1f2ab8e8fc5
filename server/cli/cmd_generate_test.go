package cli

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"prefer/core/ask"
	"prefer/core/demo"
	"prefer/core/formats"
	"prefer/core/snapshot"
)

// syncBuffer is a bytes.Buffer safe for a process's output and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveProc is a prefer serve child process with its output kept (the access log
// is on), listening on a fixed address so that it can be restarted there.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	out  *syncBuffer
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startServeProc(tb testing.TB, bin, addr string, env []string, args ...string) *serveProc {
	tb.Helper()
	p := &serveProc{addr: addr, out: &syncBuffer{}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", tb.TempDir()}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(p.out.String(), "OpenAI-compatible endpoints"); {
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			tb.Fatalf("serve did not start:\n%s", p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// requests counts the chat requests the server answered with status.
func (p *serveProc) requests(status int) int {
	return strings.Count(p.out.String(), fmt.Sprintf("path=/v1/chat/completions status=%d", status))
}

func (p *serveProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// promptsFile writes n demo prompts as JSON lines.
func promptsFile(tb testing.TB, n int) string {
	tb.Helper()
	var b strings.Builder
	for _, it := range demo.Prompts(3, n) {
		line, _ := json.Marshal(map[string]string{"prompt": it.Prompt})
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(tb.TempDir(), "prompts.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// generateProc runs prefer generate as a child process with env added.
func generateProc(bin string, env []string, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	cmd := exec.Command(bin, append([]string{"generate"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, errb := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errb
	return cmd, out, errb
}

func answersIn(tb testing.TB, path string) (int, *snapshot.Snapshot) {
	tb.Helper()
	s, _, err := readSnapshot(path)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, it := range s.Items {
		for _, r := range it.Responses {
			n += len(r.Origins)
		}
	}
	return n, s
}

// TestGenerateAgainstServe runs prefer generate against a prefer serve that
// requires a key, both as separate processes: the answers are recorded with their
// source, a second run gives the same bytes (per-answer seeds), and the key appears
// nowhere — not in the snapshot, either process's output, nor either command line.
func TestGenerateAgainstServe(t *testing.T) {
	bin := preferBinary(t)
	key := "sk-prefer-" + randomHex(t)
	srv := startServeProc(t, bin, freeAddr(t), []string{envLLMToken + "=" + key})
	prompts := promptsFile(t, 6)
	dir := t.TempDir()
	out1, out2 := filepath.Join(dir, "one.snap"), filepath.Join(dir, "two.snap")
	args := func(out string) []string {
		return []string{"--endpoint", "http://" + srv.addr + "/v1", "--model", "ref-lm", "--prompts", prompts, "-n", "3",
			"--api-key-env", "MY_MODEL_KEY", "--temperature", "0.8", "-o", out, "--json"}
	}
	cmd, stdout, stderr := generateProc(bin, []string{"MY_MODEL_KEY=" + key}, args(out1)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
	serveCmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", srv.cmd.Process.Pid))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("generate: %v\n%s%s", err, stdout, stderr)
	}
	var rep generateReport
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if rep.Wanted != 18 || rep.Asked != 18 || !rep.Complete || rep.Endpoint != srv.addr || rep.Tokens.CompletionTokens == 0 {
		t.Errorf("report %+v", rep)
	}
	n, s := answersIn(t, out1)
	if n != 18 || len(s.Items) != 6 {
		t.Fatalf("%d answers in %d items, want 18 in 6", n, len(s.Items))
	}
	for _, it := range s.Items {
		for _, r := range it.Responses {
			for _, o := range r.Origins {
				if o.Endpoint != srv.addr || o.Model != "ref-lm" || o.API != "chat" || o.Temperature != 0.8 || o.MaxTokens != 256 ||
					!o.Seeded || o.Seed != ask.SlotSeed(1, it.ID, o.K) || o.Finish == "" {
					t.Fatalf("origin %+v", o)
				}
			}
		}
	}
	// The same run again: the same bytes.
	cmd2, stdout2, stderr2 := generateProc(bin, []string{"MY_MODEL_KEY=" + key}, args(out2)...)
	if err := cmd2.Run(); err != nil {
		t.Fatalf("generate again: %v\n%s%s", err, stdout2, stderr2)
	}
	a, _ := os.ReadFile(out1)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Error("the same seeded run gave different snapshots")
	}
	// A wrong key is refused at once (401 is not retried).
	cmd3, stdout3, stderr3 := generateProc(bin, []string{"MY_MODEL_KEY=wrong"}, args(filepath.Join(dir, "three.snap"))...)
	if err := cmd3.Run(); err == nil || !strings.Contains(stderr3.String(), "401") {
		t.Errorf("wrong key: %v\n%s%s", err, stdout3, stderr3)
	}
	for what, text := range map[string]string{
		"snapshot": string(a), "generate's output": stdout.String() + stderr.String() + stdout2.String() + stderr2.String() + stdout3.String() + stderr3.String(),
		"the server's log": srv.out.String(), "generate's command line": string(cmdline), "serve's command line": string(serveCmdline),
	} {
		if strings.Contains(text, key) {
			t.Errorf("the key appears in %s", what)
		}
	}
	// What the process list shows is the argv the process was started with. Read from
	// /proc while it runs, it must be exactly that; a fast run may have exited before
	// the read (a finished process's cmdline is empty), so the argv is checked itself.
	argv := strings.Join(cmd.Args, "\x00") + "\x00"
	if len(cmdline) > 0 && string(cmdline) != argv {
		t.Errorf("the process list shows %q, not the argv %q", cmdline, argv)
	}
	if strings.Contains(argv, key) || !strings.Contains(argv, "MY_MODEL_KEY") {
		t.Errorf("generate's argv %q: want the variable's name and not the key", argv)
	}
	// 401 is final: each request in flight (4 at most) is refused once, none retried.
	if srv.requests(200) != 36 || srv.requests(401) < 1 || srv.requests(401) > 4 {
		t.Errorf("the server answered %d requests with 200 and %d with 401; want 36 and 1 to 4:\n%s", srv.requests(200), srv.requests(401), srv.out)
	}
}

func randomHex(tb testing.TB) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// TestGenerateResumeAfterServerKilled kills the model server in the middle of a
// run: generate saves what it has and says to run again; with the server back, the
// same command asks exactly the missing answers (counted at the server), and the
// result is the snapshot an uninterrupted run writes.
func TestGenerateResumeAfterServerKilled(t *testing.T) {
	bin := preferBinary(t)
	addr := freeAddr(t)
	srv := startServeProc(t, bin, addr, nil)
	prompts := promptsFile(t, 100)
	dir := t.TempDir()
	out := filepath.Join(dir, "resumed.snap")
	items, _, err := formats.ReadPrompts(must(os.ReadFile(prompts)))
	if err != nil {
		t.Fatal(err)
	}
	total := 5 * len(items) // demo prompts repeat: fewer distinct items than lines
	args := func(out string, json bool) []string {
		a := []string{"--endpoint", "http://" + addr + "/v1", "--model", "ref-lm", "--prompts", prompts, "-n", "5", "-o", out,
			"--concurrency", "2", "--retries", "2", "--backoff", "50ms", "--timeout", "20s"}
		if json {
			a = append(a, "--json")
		}
		return a
	}
	cmd, stdout, stderr := generateProc(bin, nil, args(out, false)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); srv.requests(200) < 60; {
		if time.Now().After(deadline) {
			t.Fatalf("the run did not get going:\n%s%s", stdout, stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.kill()
	err = cmd.Wait()
	if err == nil || !strings.Contains(stderr.String(), "run the same command again") {
		t.Fatalf("generate after the server died: %v\n%s%s", err, stdout, stderr)
	}
	had, _ := answersIn(t, out)
	// The server's log counts an answer once it is written; with --concurrency 2, at
	// most two of those can still be on their way to the client when the server dies.
	answered := srv.requests(200)
	if had < answered-2 || had >= total {
		t.Fatalf("%d answers saved before the server died; want at least %d (the %d it answered, less the 2 that may have been in flight) and fewer than %d",
			had, answered-2, answered, total)
	}

	srv2 := startServeProc(t, bin, addr, nil)
	cmd, stdout, stderr = generateProc(bin, nil, args(out, true)...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("resume: %v\n%s%s", err, stdout, stderr)
	}
	var rep generateReport
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if rep.Had != had || rep.Asked != total-had || !rep.Complete || srv2.requests(200) != total-had {
		t.Errorf("resume: had %d (saved %d), asked %d, the server answered %d; want %d asked", rep.Had, had, rep.Asked, srv2.requests(200), total-had)
	}
	if n, _ := answersIn(t, out); n != total {
		t.Errorf("%d answers after the resume, want %d", n, total)
	}
	// An uninterrupted run writes the same snapshot.
	whole := filepath.Join(dir, "whole.snap")
	if msg, err := exec.Command(bin, append([]string{"generate"}, args(whole, false)...)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, msg)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(whole)
	if !bytes.Equal(a, b) {
		t.Error("the resumed run's snapshot differs from an uninterrupted run's")
	}
	// Run once more: nothing is missing, nothing is asked.
	before := srv2.requests(200)
	if msg, err := exec.Command(bin, append([]string{"generate"}, args(out, false)...)...).CombinedOutput(); err != nil || srv2.requests(200) != before {
		t.Errorf("a complete run asked %d more: %v\n%s", srv2.requests(200)-before, err, msg)
	}
}

// TestGenerate429RetryAfter: a server that allows one generation at a time and no
// queue answers the other concurrent requests with 429 and Retry-After: 1; generate
// waits the second it says (its own backoff is 10 ms), and completes.
func TestGenerate429RetryAfter(t *testing.T) {
	bin := preferBinary(t)
	srv := startServeProc(t, bin, freeAddr(t), nil, "--llm-concurrency", "1", "--llm-queue", "0")
	out := filepath.Join(t.TempDir(), "g.snap")
	cmd, stdout, stderr := generateProc(bin, nil, "--endpoint", "http://"+srv.addr+"/v1", "--model", "ref-lm",
		"--prompts", promptsFile(t, 12), "-n", "2", "-o", out, "--concurrency", "4", "--retries", "30", "--backoff", "10ms", "--json")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	var rep generateReport
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || rep.Retries["429"] == 0 || rep.Retries["429"] != srv.requests(429) {
		t.Errorf("report %+v; the server answered 429 %d times", rep, srv.requests(429))
	}
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	waits := 0
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "retry: 429;") {
			if !strings.Contains(line, "waiting 1s") {
				t.Errorf("a 429 was not waited out as its Retry-After says: %q", line)
			}
			waits++
		}
	}
	if waits != rep.Retries["429"] {
		t.Errorf("%d retry lines for %d retries", waits, rep.Retries["429"])
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
