package cli

import (
	"fmt"
	"io"
	"strings"

	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/lm"
	"prefer/core/num"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name: "sample",
		usage: "sample SNAP [--model NAME] [--prompt TEXT]... [--prompts N] [--n K] [--temperature T] [--top-k K]\n" +
			"                [--max-tokens M] [--seed N] [--json]",
		summary: "let a stored language model (the pretrained reference or an optimized policy) answer prompts",
		run:     runSample,
	})
}

// maxSampleAnswers bounds one call's answers (≈ 20 s natively at the default size).
const maxSampleAnswers = 20000

// sampleAnswer is one sampled answer. Gold and parts are known when the prompt is
// one of the demo domain's (demo.Known).
type sampleAnswer struct {
	Text  string    `json:"text"`
	Gold  num.Float `json:"gold"` // null when the prompt is not a demo prompt
	Parts []string  `json:"parts,omitempty"`
}

type samplePrompt struct {
	Prompt  string         `json:"prompt"`
	Unknown []string       `json:"unknown_words,omitempty"` // words the model's vocabulary lacks (read as <unk>)
	Answers []sampleAnswer `json:"answers"`
}

type sampleReport struct {
	Model       string               `json:"model"`
	Params      int                  `json:"params"`
	Temperature float64              `json:"temperature"`
	TopK        int                  `json:"top_k"`
	MaxTokens   int                  `json:"max_tokens"`
	Seed        uint64               `json:"seed"`
	Prompts     []samplePrompt       `json:"prompts"`
	Mix         map[string]num.Float `json:"mix,omitempty"` // the answers to demo prompts by part (lm.Mix)
}

// runSample is "prefer sample": the model answers each prompt K times. Prompts are
// the --prompt texts, else the snapshot's items, else demo prompts drawn with the
// seed. The answers are a pure function of the model, the prompts and the flags.
func runSample(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", stderr)
	model := fs.String("model", "", "the language model to sample (default: the snapshot's last model of family lm)")
	var texts []string
	fs.Func("prompt", "the `TEXT` of a prompt to answer (repeat for several; default: the snapshot's items, else demo prompts)", func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("empty prompt")
		}
		texts = append(texts, s)
		return nil
	})
	nPrompts := fs.Int("prompts", 8, "how many of the snapshot's items (or demo prompts) to answer when no --prompt is given")
	n := fs.Int("n", 3, "answers per prompt")
	temperature := fs.Float64("temperature", 1, "divides the logits before the softmax: below 1 sharpens, above 1 flattens")
	topK := fs.Int("top-k", 0, "sample among the K most likely tokens only (0: all)")
	maxTokens := fs.Int("max-tokens", 0, "longest answer in tokens (0: up to the model's context)")
	seed := fs.Uint64("seed", 1, "random seed of the sampling (and of the demo prompts)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseIn(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *nPrompts < 1 || *nPrompts > 10000:
		return usagef("--prompts %d is out of range; give 1 to 10000", *nPrompts)
	case *n < 1 || *n > 1000:
		return usagef("--n %d is out of range; give 1 to 1000 answers per prompt", *n)
	case !(*temperature > 0 && *temperature <= 100):
		return usagef("--temperature %g is out of range; give a number above 0 (1 samples the model as it is)", *temperature)
	case *topK < 0:
		return usagef("--top-k %d is negative; give 0 (all tokens) or a count", *topK)
	case *maxTokens < 0:
		return usagef("--max-tokens %d is negative; give 0 (up to the context) or a count", *maxTokens)
	}
	s, _, err := readSnapshot(in)
	if err != nil {
		return err
	}
	sm, err := languageModel(s, *model, in)
	if err != nil {
		return err
	}
	l, err := lm.FromSnapshot(sm)
	if err != nil {
		return err
	}

	items := make([]feedback.Item, 0, max(len(texts), *nPrompts))
	switch {
	case len(texts) > 0:
		for _, t := range texts {
			items = append(items, feedback.Item{Prompt: t})
		}
	case len(s.Items) > 0:
		items = append(items, s.Items[:min(*nPrompts, len(s.Items))]...)
	default:
		items = demo.Prompts(rng.New(*seed).Split("sample/prompts").Uint64(), *nPrompts)
	}
	if len(items)**n > maxSampleAnswers {
		return usagef("%d prompts × %d answers is more than %d answers; ask for fewer", len(items), *n, maxSampleAnswers)
	}
	// Each prompt K times in a row: one batch, one seeded stream.
	asked := make([]feedback.Item, 0, len(items)**n)
	for _, it := range items {
		for range *n {
			asked = append(asked, it)
		}
	}
	cfg := lm.SampleConfig{Temperature: *temperature, TopK: *topK, MaxTokens: *maxTokens}
	answers := l.SampleTexts(asked, cfg, rng.New(*seed).Split("sample"))

	rep := sampleReport{Model: sm.Name, Params: l.Model.Config.NumParams(), Temperature: *temperature,
		TopK: *topK, MaxTokens: *maxTokens, Seed: *seed}
	var known []feedback.Item
	var knownTexts []string
	for i, it := range items {
		p := samplePrompt{Prompt: it.Prompt, Unknown: unknownWords(l.Vocab, it.Prompt)}
		for _, text := range answers[i**n : (i+1)**n] {
			a := sampleAnswer{Text: text, Gold: num.NaN}
			if demo.Known(&it) {
				f := demo.Analyze(&it, text)
				a.Gold, a.Parts = num.Float(f.Gold()), f.Parts()
				known, knownTexts = append(known, it), append(knownTexts, text)
			}
			p.Answers = append(p.Answers, a)
		}
		rep.Prompts = append(rep.Prompts, p)
	}
	if len(known) > 0 {
		rep.Mix = mixJSON(lm.MixOf(known, knownTexts))
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	printSamples(stdout, rep)
	return nil
}

// languageModel returns the snapshot's model called name, or its last model of
// family lm when name is empty.
func languageModel(s *snapshot.Snapshot, name, file string) (*snapshot.Model, error) {
	var last *snapshot.Model
	for i := range s.Models {
		m := &s.Models[i]
		if name != "" && m.Name == name {
			return m, nil
		}
		if m.Family == lm.Family {
			last = m
		}
	}
	if name != "" {
		return nil, fmt.Errorf("%s has no model %q; 'prefer inspect %s' lists its models", file, name, file)
	}
	if last == nil {
		return nil, fmt.Errorf("%s holds no language model (family %q): pretrain one with 'prefer pretrain -o ref.snap', or use the shipped static/web/ref-lm.snap", file, lm.Family)
	}
	return last, nil
}

// unknownWords returns the words of text that v lacks, once each.
func unknownWords(v *lm.Vocab, text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range demo.Tokenize(text) {
		if v.ID(w) == lm.UNKID && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func printSamples(w io.Writer, rep sampleReport) {
	fmt.Fprintf(w, "model %s (%d parameters), temperature %g, top-k %d, seed %d\n", rep.Model, rep.Params, rep.Temperature, rep.TopK, rep.Seed)
	for _, p := range rep.Prompts {
		fmt.Fprintf(w, "%s\n", p.Prompt)
		if len(p.Unknown) > 0 {
			fmt.Fprintf(w, "  (outside the model's vocabulary, read as %s: %s)\n", lm.UNK, strings.Join(p.Unknown, ", "))
		}
		for i, a := range p.Answers {
			fmt.Fprintf(w, "  %d. %s", i+1, a.Text)
			if a.Gold.Valid() {
				fmt.Fprintf(w, "   [gold %.1f; %s]", float64(a.Gold), strings.Join(a.Parts, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	if m := rep.Mix; m != nil {
		fmt.Fprintf(w, "%g answers to demo prompts: mean gold %.3f; correct %.0f%%, wrong %.0f%%, refusal %.0f%%, unsafe %.0f%%, polite %.0f%%, filler %.0f%%, garbled %.0f%%; %.1f words\n",
			float64(m["n"]), float64(m["gold"]), 100*float64(m["correct"]), 100*float64(m["wrong"]), 100*float64(m["refusal"]),
			100*float64(m["unsafe"]), 100*float64(m["polite"]), 100*float64(m["filler"]), 100*float64(m["unknown"]), float64(m["words"]))
	}
}
