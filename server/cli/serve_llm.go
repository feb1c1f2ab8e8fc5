package cli

import (
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"prefer/core/ask"
	"prefer/core/demo"
	"prefer/core/lm"
	"prefer/core/snapshot"
	"prefer/server/api"
)

// Environment variables of the model endpoints (docs/models.md). Keys come from the
// environment, never from flags, which other users of the machine can read in the
// process list.
const (
	envLLMToken       = "PREFER_LLM_TOKEN"        // required by /v1/… and /api/v1/llm/… when set
	envLLMUpstreamKey = "PREFER_LLM_UPSTREAM_KEY" // default variable of the upstream's key
)

// llmFlags are serve's flags of the OpenAI-compatible endpoints.
type llmFlags struct {
	lms         []string
	upstream    *string
	upstreamEnv *string
	upModels    *string
	concurrency *int
	queue       *int
	maxN        *int
	maxTokens   *int
	upConc      *int
	upTimeout   *time.Duration
}

func addLLMFlags(fs *flag.FlagSet) *llmFlags {
	f := &llmFlags{}
	fs.Func("lm", "also serve the language models of snapshot `FILE` under their names (repeat for several)", func(s string) error {
		f.lms = append(f.lms, s)
		return nil
	})
	f.upstream = fs.String("llm-upstream", "", "OpenAI-compatible base `URL` (e.g. http://127.0.0.1:8000/v1) that the Data page's \"Generate answers\" goes to (default: this server's own models)")
	f.upstreamEnv = fs.String("llm-upstream-key-env", envLLMUpstreamKey, "environment variable holding the upstream's API key (never a flag value)")
	f.upModels = fs.String("llm-upstream-models", "", "comma-separated models of the upstream the Data page may use (default: those its /models lists)")
	f.upConc = fs.Int("llm-upstream-concurrency", 4, "requests in flight to the upstream at most; more get 429")
	f.upTimeout = fs.Duration("llm-upstream-timeout", 2*time.Minute, "longest wait for one upstream answer")
	f.concurrency = fs.Int("llm-concurrency", 2, "generations with this server's own models at once (each takes one core)")
	f.queue = fs.Int("llm-queue", 32, "requests that may wait for a generation slot; more get 429 with Retry-After")
	f.maxN = fs.Int("llm-max-n", 16, "most answers one request may ask for (n, or prompts × n)")
	f.maxTokens = fs.Int("llm-max-tokens", 1024, "largest max_tokens a request may give")
	return f
}

// config checks the flags and returns the endpoints' configuration with the
// server's own models: the shipped reference LM, the built-in judges and the
// --lm files' language models.
func (f *llmFlags) config(web fs.FS) (api.LLMConfig, []string, error) {
	var notes []string
	cfg := api.LLMConfig{Token: os.Getenv(envLLMToken), MaxN: *f.maxN, MaxTokens: *f.maxTokens,
		Concurrency: *f.concurrency, Queue: *f.queue}
	switch {
	case *f.concurrency < 1 || *f.concurrency > 64:
		return cfg, nil, usagef("--llm-concurrency %d: give 1 to 64", *f.concurrency)
	case *f.queue < 0 || *f.queue > 10000:
		return cfg, nil, usagef("--llm-queue %d: give 0 to 10000", *f.queue)
	case *f.maxN < 1 || *f.maxN > 128:
		return cfg, nil, usagef("--llm-max-n %d: give 1 to 128", *f.maxN)
	case *f.maxTokens < 1 || *f.maxTokens > 1<<20:
		return cfg, nil, usagef("--llm-max-tokens %d: give 1 to 1048576", *f.maxTokens)
	}
	if *f.queue == 0 {
		cfg.Queue = -1 // no waiting: busy means 429
	}
	if data, err := fs.ReadFile(web, "ref-lm.snap"); err == nil {
		l, name, err := readLM(data, "ref-lm")
		if err != nil {
			return cfg, nil, fmt.Errorf("the shipped ref-lm.snap: %w", err)
		}
		cfg.Models = append(cfg.Models, api.ServedModel{Name: name, Model: api.NewLMModel(l), Generator: true,
			Description: fmt.Sprintf("the reference language model of the demo domain (%d parameters, pretrained on the demo grammar: it answers demo prompts, often wrongly)", l.Model.Config.NumParams())})
	} else {
		notes = append(notes, "warning: this build has no static/web/ref-lm.snap: /v1/ serves no reference language model")
	}
	cfg.Models = append(cfg.Models, judgeModels()...)
	for _, file := range f.lms {
		s, _, err := readSnapshot(file)
		if err != nil {
			return cfg, nil, err
		}
		n := 0
		for i := range s.Models {
			m := &s.Models[i]
			if m.Family != lm.Family {
				continue
			}
			l, err := lm.FromSnapshot(m)
			if err != nil {
				return cfg, nil, fmt.Errorf("--lm %s: %w", file, err)
			}
			for _, have := range cfg.Models {
				if have.Name == m.Name {
					return cfg, nil, usagef("--lm %s: a model called %q is already served; rename one", file, m.Name)
				}
			}
			cfg.Models = append(cfg.Models, api.ServedModel{Name: m.Name, Model: api.NewLMModel(l), Generator: true,
				Description: fmt.Sprintf("language model %q of %s (%d parameters)", m.Name, file, l.Model.Config.NumParams())})
			n++
		}
		if n == 0 {
			return cfg, nil, usagef("--lm %s holds no language model (family %q)", file, lm.Family)
		}
	}
	if *f.upstream != "" {
		u, err := url.Parse(*f.upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, nil, usagef("--llm-upstream %q: give the base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1", *f.upstream)
		}
		if u.User != nil {
			return cfg, nil, usagef("--llm-upstream: put no credentials in the URL; set the key in $%s", *f.upstreamEnv)
		}
		up := &api.Upstream{URL: *f.upstream, Key: os.Getenv(*f.upstreamEnv), Timeout: *f.upTimeout, Concurrency: *f.upConc}
		for _, m := range strings.Split(*f.upModels, ",") {
			if m = strings.TrimSpace(m); m != "" {
				up.Models = append(up.Models, m)
			}
		}
		if up.Key == "" {
			notes = append(notes, fmt.Sprintf("note: $%s is empty: requests to the upstream carry no key", *f.upstreamEnv))
		}
		cfg.Upstream = up
		notes = append(notes, fmt.Sprintf("\"Generate answers\" goes to the upstream model server %s", u.Host))
	}
	if cfg.Token == "" {
		what := "this server's models"
		if cfg.Upstream != nil {
			what += " and its upstream (at its key's cost)"
		}
		notes = append(notes, fmt.Sprintf("anyone who reaches this server may use %s; set %s to require a key", what, envLLMToken))
	}
	return cfg, notes, nil
}

// readLM reads the language model called name (or the last of family lm when name
// is "") from snapshot bytes.
func readLM(data []byte, name string) (*lm.LM, string, error) {
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		return nil, "", err
	}
	m, err := languageModel(s, name, "the snapshot")
	if err != nil {
		return nil, "", err
	}
	l, err := lm.FromSnapshot(m)
	return l, m.Name, err
}

// plural is "1 model", "3 models".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// judgeModels are the built-in judges (core/ask.Builtins) with the demo domain's
// checklist.
func judgeModels() []api.ServedModel {
	var out []api.ServedModel
	for _, b := range ask.Builtins {
		out = append(out, api.ServedModel{Name: b.Name, Description: b.Description, Model: &api.JudgeModel{Judge: b, Score: demo.ChecklistLines}})
	}
	return out
}
