package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"prefer/core/ask"
	"prefer/core/feedback"
	"prefer/core/formats"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/client"
)

func init() {
	register(&command{
		name: "generate",
		usage: "generate --endpoint URL --model NAME (--prompts FILE | SNAP) -n K -o SNAP [--api-key-env NAME]\n" +
			"                [--api chat|completions] [--system TEXT] [--temperature T] [--top-p P] [--top-k K] [--max-tokens M] [--stop S]...\n" +
			"                [--seed N | --no-seed] [--concurrency C] [--retries R] [--timeout D] [--max-prompts N] [--json]",
		summary: "sample K answers per prompt from any OpenAI-compatible endpoint; resumable",
		run: func(args []string, stdout, stderr io.Writer) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runGenerate(ctx, args, stdout, stderr)
		},
	})
}

// generateReport is prefer generate's JSON output.
type generateReport struct {
	Output    string         `json:"output"`
	OutputID  string         `json:"output_id"`
	Endpoint  string         `json:"endpoint"` // host only
	Model     string         `json:"model"`
	Items     int            `json:"items"`
	Wanted    int            `json:"wanted"`    // items × K
	Had       int            `json:"had"`       // answers the output held already (resume)
	Asked     int            `json:"asked"`     // requests that succeeded this run
	Missing   int            `json:"missing"`   // answers still missing (0 when complete)
	Responses int            `json:"responses"` // distinct new responses added
	Retries   map[string]int `json:"retries"`   // retries by reason: "429", "503", "network error", …
	Tokens    wire.Usage     `json:"usage"`
	Complete  bool           `json:"complete"`
}

// saveEvery is how often a running generate writes what it has.
const saveEvery = 2 * time.Second

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", stderr)
	endpoint := fs.String("endpoint", "", "base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 (required)")
	model := fs.String("model", "", "model name the server knows (required)")
	promptsFile := fs.String("prompts", "", "prompts `FILE`: JSON lines {\"prompt\": …} or {\"messages\": […]}, a TRL/HH-RLHF/Prefer dataset (its prompts) or a snapshot (its items)")
	n := fs.Int("n", 4, "answers per prompt")
	out := fs.String("o", "", "output snapshot (required); when it exists, generation resumes: only missing answers are asked")
	keyEnv := fs.String("api-key-env", "OPENAI_API_KEY", "environment variable holding the API key (the key itself is never a flag, nor written anywhere)")
	api := fs.String("api", "chat", "chat (/chat/completions) or completions (/completions, for base models)")
	system := fs.String("system", "", "a system message sent before each prompt (chat)")
	temperature := fs.Float64("temperature", 1, "sampling temperature (0 to 2; a negative value sends none)")
	topP := fs.Float64("top-p", 0, "nucleus sampling: keep the likeliest tokens adding up to P (0: not sent)")
	topK := fs.Int("top-k", 0, "sample among the K likeliest tokens, where the server supports it (0: not sent)")
	maxTokens := fs.Int("max-tokens", 256, "longest answer in tokens (0: not sent)")
	var stops []string
	fs.Func("stop", "a stop `STRING` (repeat for up to 4)", func(s string) error {
		if s == "" {
			return errors.New("empty stop string")
		}
		stops = append(stops, s)
		return nil
	})
	seed := fs.Uint64("seed", 1, "seed of the run: answer k to prompt p is asked with a seed derived from it, p's id and k")
	noSeed := fs.Bool("no-seed", false, "send no seed (for servers that refuse one)")
	concurrency := fs.Int("concurrency", 4, "requests in flight at most")
	retries := fs.Int("retries", 6, "retries of a failed request (429 after its Retry-After; 5xx, timeouts and network errors with exponential backoff)")
	timeout := fs.Duration("timeout", 2*time.Minute, "longest wait for one answer")
	backoff := fs.Duration("backoff", time.Second, "first wait before a retry (doubling up to a minute)")
	maxPrompts := fs.Int("max-prompts", 100000, "most prompts to read")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *endpoint == "" || *model == "":
		return usagef("give --endpoint URL and --model NAME")
	case *out == "" || *out == "-":
		return usagef("give the output snapshot with -o FILE (a file: it is written as answers arrive, and resumed)")
	case (*promptsFile == "") == (len(pos) == 0) || len(pos) > 1:
		return usagef("give the prompts either with --prompts FILE or as one snapshot argument")
	case *n < 1 || *n > 1000:
		return usagef("-n %d: give 1 to 1000 answers per prompt", *n)
	case *api != "chat" && *api != "completions":
		return usagef("--api %q: use chat or completions", *api)
	case *temperature > 2:
		return usagef("--temperature %g: give 0 to 2", *temperature)
	case *topP < 0 || *topP > 1:
		return usagef("--top-p %g: give 0 to 1", *topP)
	case *topK < 0 || *maxTokens < 0:
		return usagef("--top-k and --max-tokens take 0 (not sent) or a count")
	case len(stops) > 4:
		return usagef("give at most 4 --stop strings")
	case *concurrency < 1 || *concurrency > 256:
		return usagef("--concurrency %d: give 1 to 256", *concurrency)
	case *retries < 0 || *retries > 100:
		return usagef("--retries %d: give 0 to 100", *retries)
	case *timeout <= 0:
		return usagef("--timeout %s: give a positive duration", *timeout)
	case *maxPrompts < 1:
		return usagef("--max-prompts %d: give at least 1", *maxPrompts)
	case *api == "completions" && *system != "":
		return usagef("--system needs --api chat")
	}
	if !validEnvName(*keyEnv) {
		return usagef("--api-key-env %q is not an environment variable name (letters, digits, _): it names the variable holding the key, it is not the key", *keyEnv)
	}
	base, host, err := client.Endpoint(*endpoint)
	if err != nil {
		return usagef("--endpoint: %v", err)
	}
	msg := messages(*out, stdout, stderr)
	if *asJSON {
		msg = stderr // stdout holds the one JSON object
	}

	// The state: the output when it exists (resume), else the input snapshot, else
	// a new snapshot; the prompts are merged into it by item id.
	var state *snapshot.Snapshot
	resumed := false
	if _, err := os.Stat(*out); err == nil {
		if state, _, err = readSnapshot(*out); err != nil {
			return fmt.Errorf("%w (the output exists; generate resumes it: give another -o to start afresh)", err)
		}
		resumed = true
	}
	var prompts []feedback.Item
	var inputID string
	if len(pos) == 1 {
		s, data, err := readSnapshot(pos[0])
		if err != nil {
			return err
		}
		inputID = snapshot.ID(data)
		if state == nil {
			state = s
			state.Provenance.Parent = inputID
		}
		prompts = s.Items
	} else {
		data, err := os.ReadFile(*promptsFile)
		if err != nil {
			return fmt.Errorf("read the prompts: %w", err)
		}
		if s, err := snapshot.Unmarshal(data); err == nil {
			prompts = s.Items
		} else if errors.Is(err, snapshot.ErrNotSnapshot) {
			if prompts, _, err = formats.ReadPrompts(data); err != nil {
				return fmt.Errorf("%s: %w", *promptsFile, err)
			}
		} else {
			return fmt.Errorf("%s: %w", *promptsFile, err)
		}
	}
	if len(prompts) > *maxPrompts {
		fmt.Fprintf(msg, "%d prompts: taking the first %d (--max-prompts)\n", len(prompts), *maxPrompts)
		prompts = prompts[:*maxPrompts]
	}
	if state == nil {
		state = &snapshot.Snapshot{}
	}
	state.Provenance.Tool = toolVersion
	state.Provenance.Command = "prefer generate --endpoint " + host + " --model " + *model + fmt.Sprintf(" -n %d", *n)
	stripped := make([]feedback.Item, len(prompts))
	for i, it := range prompts {
		stripped[i] = feedback.Item{ID: it.ID, Prompt: it.Prompt, Tags: it.Tags}
	}
	if state.Items, err = ask.Merge(state.Items, stripped); err != nil {
		return err
	}

	src := ask.Source{Endpoint: host, Model: *model, API: *api, System: *system, TopP: *topP, TopK: *topK, MaxTokens: *maxTokens, Stop: stops}
	if *temperature >= 0 {
		src.Temperature = *temperature
	} else {
		src.Temperature = 0
	}
	sendTemp := *temperature >= 0
	// Only the prompts asked this run count (the output may hold other items).
	asked := map[string]bool{}
	for _, it := range prompts {
		asked[it.ID] = true
	}
	var runItems []int
	for i := range state.Items {
		if asked[state.Items[i].ID] {
			runItems = append(runItems, i)
		}
	}
	view := make([]feedback.Item, len(runItems))
	for k, i := range runItems {
		view[k] = state.Items[i]
	}
	slots := ask.Missing(view, src, *n, *seed)
	for k := range slots {
		slots[k].Item = runItems[slots[k].Item]
	}
	rep := generateReport{Output: *out, Endpoint: host, Model: *model, Items: len(runItems), Wanted: len(runItems) * *n,
		Retries: map[string]int{}}
	rep.Had = rep.Wanted - len(slots)
	if resumed {
		fmt.Fprintf(msg, "resuming %s: %d of %d answers are there; asking the %d missing\n", *out, rep.Had, rep.Wanted, len(slots))
	}

	c := &client.LLM{Base: base, Key: os.Getenv(*keyEnv), Timeout: *timeout, Retries: *retries, Backoff: *backoff}
	var mu sync.Mutex // guards state, rep, dirty
	dirty := false
	c.OnRetry = func(attempt int, why string, wait time.Duration) {
		mu.Lock()
		rep.Retries[why]++
		mu.Unlock()
		fmt.Fprintf(stderr, "retry: %s; waiting %s (attempt %d of %d)\n", why, wait.Round(10*time.Millisecond), attempt+1, *retries+1)
	}
	save := func() error {
		mu.Lock()
		defer mu.Unlock()
		if !dirty {
			return nil
		}
		for _, i := range runItems {
			ask.Canonical(&state.Items[i])
		}
		id, err := writeSnapshot(*out, state, stdout)
		if err == nil {
			rep.OutputID, dirty = id, false
		}
		return err
	}
	if !resumed {
		dirty = true
		if err := save(); err != nil { // the prompts are there even if no answer comes
			return err
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan ask.Slot)
	var failOnce sync.Once
	var failErr error
	prog := newProgress(stderr, *asJSON, "generate", "answers", len(slots))
	var wg sync.WaitGroup
	for range min(*concurrency, max(len(slots), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sl := range work {
				mu.Lock()
				it := state.Items[sl.Item]
				mu.Unlock()
				text, finish, usage, err := askOne(ctx, c, src, sendTemp, !*noSeed, it.Prompt, sl.Seed)
				if err != nil {
					if ctx.Err() == nil {
						failOnce.Do(func() { failErr = err; cancel() })
					}
					continue
				}
				mu.Lock()
				before := len(state.Items[sl.Item].Responses)
				ask.Record(&state.Items[sl.Item], text, src.Origin(sl.K, sl.Seed, !*noSeed, finish))
				if len(state.Items[sl.Item].Responses) > before {
					rep.Responses++
				}
				rep.Asked++
				rep.Tokens.PromptTokens += usage.PromptTokens
				rep.Tokens.CompletionTokens += usage.CompletionTokens
				dirty = true
				done := rep.Asked
				mu.Unlock()
				prog.update(done, "")
			}
		}()
	}
	ticker := time.NewTicker(saveEvery)
	defer ticker.Stop()
	var saveErr error
feed:
	for _, sl := range slots {
		for {
			select {
			case work <- sl:
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
	prog.done()
	if err := save(); err != nil {
		return err
	}
	if saveErr != nil {
		return saveErr
	}
	if rep.OutputID == "" {
		if data, err := os.ReadFile(*out); err == nil {
			rep.OutputID = snapshot.ID(data)
		}
	}
	rep.Tokens.TotalTokens = rep.Tokens.PromptTokens + rep.Tokens.CompletionTokens
	rep.Missing = len(slots) - rep.Asked
	rep.Complete = rep.Missing == 0
	if !rep.Complete {
		why := "interrupted"
		if failErr != nil {
			why = failErr.Error()
		}
		if *asJSON {
			printJSON(stdout, rep)
		}
		return fmt.Errorf("%s; %s holds %d of %d answers: run the same command again to ask the %d missing", why, *out, rep.Had+rep.Asked, rep.Wanted, rep.Missing)
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(msg, "%d answers from %s at %s (%d new, %d there already; %d distinct new responses) → %s (%s)\n",
		rep.Wanted, *model, host, rep.Asked, rep.Had, rep.Responses, *out, shortSnapID(rep.OutputID))
	if len(rep.Retries) > 0 {
		fmt.Fprintf(msg, "retried: %s\n", retrySummary(rep.Retries))
	}
	return nil
}

// askOne asks for one answer to prompt.
func askOne(ctx context.Context, c *client.LLM, src ask.Source, sendTemp, seeded bool, prompt string, seed int64) (text, finish string, u wire.Usage, err error) {
	one := 1
	var temp, topP *float64
	var topK, maxTok *int
	if sendTemp {
		temp = &src.Temperature
	}
	if src.TopP > 0 {
		topP = &src.TopP
	}
	if src.TopK > 0 {
		topK = &src.TopK
	}
	if src.MaxTokens > 0 {
		maxTok = &src.MaxTokens
	}
	var sd *int64
	if seeded {
		sd = &seed
	}
	if src.API == "completions" {
		res, err := c.Complete(ctx, &wire.CompletionRequest{Model: src.Model, Prompt: wire.Prompts{prompt}, N: &one,
			Temperature: temp, TopP: topP, TopK: topK, MaxTokens: maxTok, Seed: sd, Stop: src.Stop})
		if err != nil {
			return "", "", u, err
		}
		if res.Usage != nil {
			u = *res.Usage
		}
		f := ""
		if res.Choices[0].FinishReason != nil {
			f = *res.Choices[0].FinishReason
		}
		return res.Choices[0].Text, f, u, nil
	}
	var msgs []wire.ChatMessage
	if src.System != "" {
		msgs = append(msgs, wire.ChatMessage{Role: "system", Content: wire.Content(src.System)})
	}
	for _, m := range formats.PromptMessages(prompt) {
		msgs = append(msgs, wire.ChatMessage{Role: m.Role, Content: wire.Content(m.Content)})
	}
	res, err := c.Chat(ctx, &wire.ChatRequest{Model: src.Model, Messages: msgs, N: &one,
		Temperature: temp, TopP: topP, TopK: topK, MaxTokens: maxTok, Seed: sd, Stop: src.Stop})
	if err != nil {
		return "", "", u, err
	}
	if res.Usage != nil {
		u = *res.Usage
	}
	return string(res.Choices[0].Message.Content), res.Choices[0].FinishReason, u, nil
}

// validEnvName reports whether s can name an environment variable.
func validEnvName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func retrySummary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func shortSnapID(id string) string {
	id = strings.TrimPrefix(id, "sha256-")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}
