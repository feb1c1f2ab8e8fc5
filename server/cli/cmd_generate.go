package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
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
		run:     untilInterrupted(runGenerate),
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

// generateOptions are prefer generate's flags.
type generateOptions struct {
	*endpointFlags
	promptsFile, out, api, system  string
	pos                            []string // the input snapshot, if given
	n, topK, maxTokens, maxPrompts int
	temperature, topP              float64
	stops                          []string
	seed                           uint64
	noSeed                         bool
}

func parseGenerate(args []string, stderr io.Writer) (*generateOptions, error) {
	fs := newFlags("generate", stderr)
	o := &generateOptions{endpointFlags: addEndpointFlags(fs,
		"base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 (required)",
		"model name the server knows (required)")}
	fs.StringVar(&o.promptsFile, "prompts", "", "prompts `FILE`: JSON lines {\"prompt\": …} or {\"messages\": […]}, a TRL/HH-RLHF/Prefer dataset (its prompts) or a snapshot (its items)")
	fs.IntVar(&o.n, "n", 4, "answers per prompt")
	fs.StringVar(&o.out, "o", "", "output snapshot (required); when it exists, generation resumes: only missing answers are asked")
	fs.StringVar(&o.api, "api", "chat", "chat (/chat/completions) or completions (/completions, for base models)")
	fs.StringVar(&o.system, "system", "", "a system message sent before each prompt (chat)")
	fs.Float64Var(&o.temperature, "temperature", 1, "sampling temperature (0 to 2; a negative value sends none)")
	fs.Float64Var(&o.topP, "top-p", 0, "nucleus sampling: keep the likeliest tokens adding up to P (0: not sent)")
	fs.IntVar(&o.topK, "top-k", 0, "sample among the K likeliest tokens, where the server supports it (0: not sent)")
	fs.IntVar(&o.maxTokens, "max-tokens", 256, "longest answer in tokens (0: not sent)")
	fs.Func("stop", "a stop `STRING` (repeat for up to 4)", func(s string) error {
		if s == "" {
			return errors.New("empty stop string")
		}
		o.stops = append(o.stops, s)
		return nil
	})
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the run: answer k to prompt p is asked with a seed derived from it, p's id and k")
	fs.BoolVar(&o.noSeed, "no-seed", false, "send no seed (for servers that refuse one)")
	fs.IntVar(&o.maxPrompts, "max-prompts", 100000, "most prompts to read")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	o.pos = pos
	if err := o.check(); err != nil {
		return nil, err
	}
	switch {
	case o.out == "" || o.out == "-":
		return nil, usagef("give the output snapshot with -o FILE (a file: it is written as answers arrive, and resumed)")
	case (o.promptsFile == "") == (len(pos) == 0) || len(pos) > 1:
		return nil, usagef("give the prompts either with --prompts FILE or as one snapshot argument")
	case o.n < 1 || o.n > 1000:
		return nil, usagef("-n %d: give 1 to 1000 answers per prompt", o.n)
	case o.api != "chat" && o.api != "completions":
		return nil, usagef("--api %q: use chat or completions", o.api)
	case o.temperature > 2:
		return nil, usagef("--temperature %g: give 0 to 2", o.temperature)
	case o.topP < 0 || o.topP > 1:
		return nil, usagef("--top-p %g: give 0 to 1", o.topP)
	case o.topK < 0 || o.maxTokens < 0:
		return nil, usagef("--top-k and --max-tokens take 0 (not sent) or a count")
	case len(o.stops) > 4:
		return nil, usagef("give at most 4 --stop strings")
	case o.maxPrompts < 1:
		return nil, usagef("--max-prompts %d: give at least 1", o.maxPrompts)
	case o.api == "completions" && o.system != "":
		return nil, usagef("--system needs --api chat")
	}
	return o, nil
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseGenerate(args, stderr)
	if err != nil {
		return err
	}
	a, err := o.start(o.out, stdout, stderr)
	if err != nil {
		return err
	}
	host := a.host
	msg := messages(o.out, stdout, stderr)
	if *o.asJSON {
		msg = stderr // stdout holds the one JSON object
	}
	state, prompts, resumed, err := generateState(o, host, msg)
	if err != nil {
		return err
	}

	src := ask.Source{Endpoint: host, Model: *o.model, API: o.api, System: o.system, TopP: o.topP, TopK: o.topK, MaxTokens: o.maxTokens, Stop: o.stops}
	if o.temperature >= 0 {
		src.Temperature = o.temperature
	} else {
		src.Temperature = 0
	}
	sendTemp := o.temperature >= 0
	runItems, slots := generateSlots(state, prompts, src, o.n, o.seed)
	rep := generateReport{Output: o.out, Endpoint: host, Model: *o.model, Items: len(runItems), Wanted: len(runItems) * o.n,
		Retries: a.retries}
	rep.Had = rep.Wanted - len(slots)
	if resumed {
		fmt.Fprintf(msg, "resuming %s: %d of %d answers are there; asking the %d missing\n", o.out, rep.Had, rep.Wanted, len(slots))
	}

	a.state = state
	a.prepare = func() {
		for _, i := range runItems {
			ask.Canonical(&state.Items[i])
		}
	}
	if !resumed {
		a.dirty = true
		if err := a.save(); err != nil { // the prompts are there even if no answer comes
			return err
		}
	}

	prog := newProgress(stderr, *o.asJSON, "generate", "answers", len(slots))
	failErr, saveErr := askAll(ctx, slots, *o.concurrency, a.save, func(ctx context.Context, sl ask.Slot) error {
		a.mu.Lock()
		it := state.Items[sl.Item]
		a.mu.Unlock()
		text, finish, usage, err := askOne(ctx, a.c, src, sendTemp, !o.noSeed, it.Prompt, sl.Seed)
		if err != nil {
			return err
		}
		a.mu.Lock()
		before := len(state.Items[sl.Item].Responses)
		ask.Record(&state.Items[sl.Item], text, src.Origin(sl.K, sl.Seed, !o.noSeed, finish))
		if len(state.Items[sl.Item].Responses) > before {
			rep.Responses++
		}
		rep.Asked++
		rep.Tokens.PromptTokens += usage.PromptTokens
		rep.Tokens.CompletionTokens += usage.CompletionTokens
		a.dirty = true
		done := rep.Asked
		a.mu.Unlock()
		prog.update(done, "")
		return nil
	})
	prog.done()
	if err := a.finish(saveErr); err != nil {
		return err
	}
	if rep.OutputID = a.id; rep.OutputID == "" {
		if data, err := os.ReadFile(o.out); err == nil {
			rep.OutputID = snapshot.ID(data)
		}
	}
	rep.Tokens.TotalTokens = rep.Tokens.PromptTokens + rep.Tokens.CompletionTokens
	rep.Missing = len(slots) - rep.Asked
	rep.Complete = rep.Missing == 0
	return generateDone(o, &rep, failErr, stdout, msg)
}

// generateState returns the state the answers go into — the output when it exists
// (resume), else the input snapshot, else a new snapshot — with the prompts merged
// into it by item id, and the prompts of this run.
func generateState(o *generateOptions, host string, msg io.Writer) (state *snapshot.Snapshot, prompts []feedback.Item, resumed bool, err error) {
	if _, err := os.Stat(o.out); err == nil {
		if state, _, err = readSnapshot(o.out); err != nil {
			return nil, nil, false, fmt.Errorf("%w (the output exists; generate resumes it: give another -o to start afresh)", err)
		}
		resumed = true
	}
	if len(o.pos) == 1 {
		s, data, err := readSnapshot(o.pos[0])
		if err != nil {
			return nil, nil, false, err
		}
		if state == nil {
			state = s
			state.Provenance.Parent = snapshot.ID(data)
		}
		prompts = s.Items
	} else {
		data, err := os.ReadFile(o.promptsFile)
		if err != nil {
			return nil, nil, false, fmt.Errorf("read the prompts: %w", err)
		}
		if s, err := snapshot.Unmarshal(data); err == nil {
			prompts = s.Items
		} else if errors.Is(err, snapshot.ErrNotSnapshot) {
			if prompts, _, err = formats.ReadPrompts(data); err != nil {
				return nil, nil, false, fmt.Errorf("%s: %w", o.promptsFile, err)
			}
		} else {
			return nil, nil, false, fmt.Errorf("%s: %w", o.promptsFile, err)
		}
	}
	if len(prompts) > o.maxPrompts {
		fmt.Fprintf(msg, "%d prompts: taking the first %d (--max-prompts)\n", len(prompts), o.maxPrompts)
		prompts = prompts[:o.maxPrompts]
	}
	if state == nil {
		state = &snapshot.Snapshot{}
	}
	state.Provenance.Tool = toolVersion
	state.Provenance.Command = "prefer generate --endpoint " + host + " --model " + *o.model + fmt.Sprintf(" -n %d", o.n)
	stripped := make([]feedback.Item, len(prompts))
	for i, it := range prompts {
		stripped[i] = feedback.Item{ID: it.ID, Prompt: it.Prompt, Tags: it.Tags}
	}
	if state.Items, err = ask.Merge(state.Items, stripped); err != nil {
		return nil, nil, false, err
	}
	return state, prompts, resumed, nil
}

// generateSlots returns the indexes in state.Items of this run's prompts (the
// output may hold other items) and the answers still missing among them.
func generateSlots(state *snapshot.Snapshot, prompts []feedback.Item, src ask.Source, n int, seed uint64) (runItems []int, slots []ask.Slot) {
	asked := map[string]bool{}
	for _, it := range prompts {
		asked[it.ID] = true
	}
	for i := range state.Items {
		if asked[state.Items[i].ID] {
			runItems = append(runItems, i)
		}
	}
	view := make([]feedback.Item, len(runItems))
	for k, i := range runItems {
		view[k] = state.Items[i]
	}
	slots = ask.Missing(view, src, n, seed)
	for k := range slots {
		slots[k].Item = runItems[slots[k].Item]
	}
	return runItems, slots
}

// generateDone prints the report, or says what is missing and how to resume.
func generateDone(o *generateOptions, rep *generateReport, failErr error, stdout, msg io.Writer) error {
	if !rep.Complete {
		why := "interrupted"
		if failErr != nil {
			why = failErr.Error()
		}
		if *o.asJSON {
			printJSON(stdout, rep)
		}
		return fmt.Errorf("%s; %s holds %d of %d answers: run the same command again to ask the %d missing", why, o.out, rep.Had+rep.Asked, rep.Wanted, rep.Missing)
	}
	if *o.asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(msg, "%d answers from %s at %s (%d new, %d there already; %d distinct new responses) → %s (%s)\n",
		rep.Wanted, *o.model, rep.Endpoint, rep.Asked, rep.Had, rep.Responses, o.out, shortSnapID(rep.OutputID))
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
