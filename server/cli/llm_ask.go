package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"prefer/core/snapshot"
	"prefer/server/client"
)

// What prefer generate and prefer judge share: the flags that say where an
// OpenAI-compatible API is and how it is asked, the client that asks it, and the
// worker pool that asks many questions at once, saving the output as answers come.

// endpointFlags are the flags of a command that asks an OpenAI-compatible API.
type endpointFlags struct {
	endpoint, model, keyEnv *string
	concurrency, retries    *int
	timeout, backoff        *time.Duration
	asJSON                  *bool
}

// addEndpointFlags declares them on fs; endpointHelp and modelHelp say what the
// command wants there.
func addEndpointFlags(fs *flag.FlagSet, endpointHelp, modelHelp string) *endpointFlags {
	return &endpointFlags{
		endpoint:    fs.String("endpoint", "", endpointHelp),
		model:       fs.String("model", "", modelHelp),
		keyEnv:      fs.String("api-key-env", "OPENAI_API_KEY", "environment variable holding the API key (the key itself is never a flag, nor written anywhere)"),
		concurrency: fs.Int("concurrency", 4, "requests in flight at most"),
		retries:     fs.Int("retries", 6, "retries of a failed request (429 after its Retry-After; 5xx, timeouts and network errors with exponential backoff)"),
		timeout:     fs.Duration("timeout", 2*time.Minute, "longest wait for one answer"),
		backoff:     fs.Duration("backoff", time.Second, "first wait before a retry (doubling up to a minute)"),
		asJSON:      fs.Bool("json", false, "print one JSON object"),
	}
}

// check refuses missing or out-of-range values.
func (f *endpointFlags) check() error {
	switch {
	case *f.endpoint == "" || *f.model == "":
		return usagef("give --endpoint URL and --model NAME")
	case *f.concurrency < 1 || *f.concurrency > 256:
		return usagef("--concurrency %d: give 1 to 256", *f.concurrency)
	case *f.retries < 0 || *f.retries > 100:
		return usagef("--retries %d: give 0 to 100", *f.retries)
	case *f.timeout <= 0:
		return usagef("--timeout %s: give a positive duration", *f.timeout)
	case !validEnvName(*f.keyEnv):
		return usagef("--api-key-env %q is not an environment variable name (letters, digits, _): it names the variable holding the key, it is not the key", *f.keyEnv)
	}
	return nil
}

// asking is a run of questions to an endpoint: its client, and the snapshot the
// answers go into, written as they come and resumed from.
type asking struct {
	c       *client.LLM
	host    string         // the endpoint's host: the only part of its URL shown or recorded
	retries map[string]int // retries by reason (the report's)

	mu      sync.Mutex // guards state, dirty and the command's report, for the workers
	out     string
	stdout  io.Writer
	state   *snapshot.Snapshot
	prepare func() // called under mu before each write (canonical order, the run record)
	dirty   bool   // state changed since the last write
	id      string // of the last write
}

// start returns the run's client; each retry is counted by its reason and told on
// stderr. The caller sets the state.
func (f *endpointFlags) start(out string, stdout, stderr io.Writer) (*asking, error) {
	base, host, err := client.Endpoint(*f.endpoint)
	if err != nil {
		return nil, usagef("--endpoint: %v", err)
	}
	a := &asking{host: host, retries: map[string]int{}, out: out, stdout: stdout}
	a.c = &client.LLM{Base: base, Key: os.Getenv(*f.keyEnv), Timeout: *f.timeout, Retries: *f.retries, Backoff: *f.backoff}
	a.c.OnRetry = func(attempt int, why string, wait time.Duration) {
		a.mu.Lock()
		a.retries[why]++
		a.mu.Unlock()
		fmt.Fprintf(stderr, "retry: %s; waiting %s (attempt %d of %d)\n", why, wait.Round(10*time.Millisecond), attempt+1, *f.retries+1)
	}
	return a, nil
}

// save writes the state to the output when it changed.
func (a *asking) save() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.dirty {
		return nil
	}
	if a.prepare != nil {
		a.prepare()
	}
	id, err := writeSnapshot(a.out, a.state, a.stdout)
	if err == nil {
		a.id, a.dirty = id, false
	}
	return err
}

// finish writes what is left once the workers are done, and returns the first
// failure to save (saveErr is askAll's).
func (a *asking) finish(saveErr error) error {
	if err := a.save(); err != nil {
		return err
	}
	return saveErr
}

// askAll runs do on every task with at most n in flight, and calls save every
// saveEvery until the last answer is in. The first error of do while ctx is live
// cancels the rest and comes back as failErr; a failed save stops the run too and
// comes back as saveErr. When ctx ends (an interrupt), both stay nil: the caller
// counts what is missing.
func askAll[T any](ctx context.Context, tasks []T, n int, save func() error, do func(context.Context, T) error) (failErr, saveErr error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan T)
	var failOnce sync.Once
	var wg sync.WaitGroup
	for range min(n, max(len(tasks), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				if err := do(ctx, t); err != nil && ctx.Err() == nil {
					failOnce.Do(func() { failErr = err; cancel() })
				}
			}
		}()
	}
	ticker := time.NewTicker(saveEvery)
	defer ticker.Stop()
feed:
	for _, t := range tasks {
		for {
			select {
			case work <- t:
				continue feed
			case <-ticker.C:
				if err := save(); err != nil && saveErr == nil {
					saveErr = err
					cancel()
				}
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(work)
	// The answers in flight may take a while: keep saving until they are in.
	waitDone := make(chan struct{})
	go func() { wg.Wait(); close(waitDone) }()
	for waiting := true; waiting; {
		select {
		case <-waitDone:
			waiting = false
		case <-ticker.C:
			save()
		}
	}
	return failErr, saveErr
}
