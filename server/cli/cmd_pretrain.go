package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"prefer/core/demo"
	"prefer/core/lm"
	"prefer/core/num"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name:    "pretrain",
		usage:   "pretrain -o SNAP [--seed N] [--steps N] [--examples N] [--samples N] [--json]",
		summary: "pretrain the reference language model (the generative policy's π_ref) on the demo grammar",
		run:     runPretrain,
	})
}

// refModelName is the name of the pretrained reference language model in a snapshot.
const refModelName = "ref-lm"

type pretrainReport struct {
	Output     string                 `json:"output"`
	OutputID   string                 `json:"output_id"`
	Seed       uint64                 `json:"seed"`
	Steps      int                    `json:"steps"`
	Params     int                    `json:"params"`
	ParamsHash string                 `json:"params_hash"`
	Summary    map[string]num.Float   `json:"summary"`
	Mix        map[string]num.Float   `json:"mix"`
	GrammarMix map[string]num.Float   `json:"grammar_mix"`
	Samples    []pretrainSample       `json:"samples"`
	Loss       []num.Float            `json:"loss"`
	Heldout    map[string][]num.Float `json:"heldout"`
	Config     map[string]float64     `json:"config"`
}

type pretrainSample struct {
	Prompt   string    `json:"prompt"`
	Response string    `json:"response"`
	Gold     num.Float `json:"gold"`
}

func mixJSON(m lm.Mix) map[string]num.Float {
	return map[string]num.Float{
		"n": num.Float(m.N), "gold": num.Float(m.Gold), "correct": num.Float(m.Correct), "wrong": num.Float(m.Wrong),
		"refusal": num.Float(m.Refusal), "unsafe": num.Float(m.Unsafe), "polite": num.Float(m.Polite),
		"filler": num.Float(m.Filler), "hedge": num.Float(m.Hedge), "unknown": num.Float(m.Unknown), "words": num.Float(m.Words),
	}
}

func runPretrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pretrain", stderr)
	out := fs.String("o", "", "output snapshot file (required; - for standard output)")
	seed := fs.Uint64("seed", 1, "random seed: corpus, initialization and batch order; the output is a pure function of it and the other flags")
	steps := fs.Int("steps", 0, "optimizer steps (default 1000)")
	examples := fs.Int("examples", 0, "training examples drawn from the demo grammar (default 20000)")
	nSamples := fs.Int("samples", 400, "responses sampled after training to compare with the grammar's mix")
	asJSON := fs.Bool("json", false, "print one JSON object")
	quiet := fs.Bool("quiet", false, "no progress line on stderr (there is none anyway when stderr is not a terminal, or with --json)")
	if err := parseOut(fs, args, out); err != nil {
		return err
	}
	if *steps < 0 || *steps > 1000000 {
		return usagef("--steps %d is out of range; give 1 to 1000000 (0 for the default)", *steps)
	}
	if *examples < 0 || *examples > 10000000 {
		return usagef("--examples %d is out of range; give 1 to 10000000 (0 for the default)", *examples)
	}
	if *nSamples < 0 || *nSamples > 100000 {
		return usagef("--samples must be between 0 and 100000")
	}
	cfg := lm.PretrainConfig{Seed: *seed, Steps: *steps}
	total := *steps
	if total == 0 {
		total = 1000 // lm.PretrainConfig's default Steps (shown, not set)
	}
	line := newProgress(stderr, *quiet || *asJSON, "pretrain", "steps", total)
	progress := func(step int, loss float64) bool {
		line.update(step, fmt.Sprintf("loss %.4f", loss))
		return true
	}
	res, err := lm.PretrainDemo(cfg, *examples, 0, progress)
	line.done()
	if err != nil {
		return err
	}
	// What the model writes, next to the grammar's own mix.
	items := demo.Prompts(rng.New(*seed).Split("pretrain/eval").Uint64(), max(*nSamples, 1))[:*nSamples]
	texts := res.LM.SampleTexts(items, lm.SampleConfig{}, rng.New(*seed).Split("pretrain/sample"))
	mix := lm.MixOf(items, texts)
	grammar := lm.CorpusMix(rng.New(*seed).Split("pretrain/grammar").Uint64(), 4000)

	metrics := map[string]float64{}
	for k, v := range res.Run.Summary {
		metrics[k] = v
	}
	metrics["sample_gold"] = mix.Gold
	metrics["sample_unknown"] = mix.Unknown
	metrics["grammar_gold"] = grammar.Gold
	sm := res.LM.ToSnapshot(refModelName, metrics)
	sm.Run = res.Run.Name
	sm.Config["params_hash"] = res.LM.Hash()
	res.Run.Summary["sample_gold"] = mix.Gold
	res.Run.Summary["sample_unknown"] = mix.Unknown
	res.Run.Summary["grammar_gold"] = grammar.Gold

	stepsUsed := int(res.Run.Summary["steps"])
	examplesUsed := *examples
	if examplesUsed == 0 {
		examplesUsed = lm.DefaultExamples
	}
	s := &snapshot.Snapshot{
		Provenance: snapshot.Provenance{
			Tool: toolVersion,
			Command: strings.Join([]string{"prefer pretrain", "--seed", strconv.FormatUint(*seed, 10),
				"--steps", strconv.Itoa(stepsUsed), "--examples", strconv.Itoa(examplesUsed),
				"--samples", strconv.Itoa(*nSamples)}, " "),
			Seed: *seed,
			Note: "reference language model of the demo domain (π_ref of the generative policy)",
		},
		Models: []snapshot.Model{sm},
		Runs:   []snapshot.Run{res.Run},
	}
	id, err := writeSnapshot(*out, s, stdout)
	if err != nil {
		return err
	}
	if !*asJSON {
		msg := messages(*out, stdout, stderr)
		fmt.Fprintf(msg, "wrote %s (%s)\n", outputName(*out), id)
		fmt.Fprintf(msg, "model %q: %d parameters, %d steps, held-out perplexity %.3f (loss %.4f)\n",
			refModelName, res.LM.Model.Config.NumParams(), stepsUsed, res.Run.Summary["heldout_ppl"], res.Run.Summary["heldout_loss"])
		fmt.Fprintf(msg, "samples: mean gold %.3f (grammar %.3f), %.1f%% garbled; correct %.0f%% wrong %.0f%% refusal %.0f%% polite %.0f%% filler %.0f%%\n",
			mix.Gold, grammar.Gold, 100*mix.Unknown, 100*mix.Correct, 100*mix.Wrong, 100*mix.Refusal, 100*mix.Polite, 100*mix.Filler)
		for i := 0; i < min(5, len(texts)); i++ {
			fmt.Fprintf(msg, "  %s → %s\n", items[i].Prompt, texts[i])
		}
		return nil
	}
	rep := pretrainReport{
		Output: *out, OutputID: id, Seed: *seed, Steps: stepsUsed, Params: res.LM.Model.Config.NumParams(),
		ParamsHash: res.LM.Hash(), Summary: num.FloatMap(res.Run.Summary), Mix: mixJSON(mix), GrammarMix: mixJSON(grammar),
		Loss: num.Floats(res.Run.Series["loss"]),
		Heldout: map[string][]num.Float{
			"step": num.Floats(res.Run.Series["eval_step"]),
			"loss": num.Floats(res.Run.Series["heldout_loss"]),
		},
		Config:  map[string]float64{"examples": float64(examplesUsed), "heldout": float64(lm.DefaultHeldout)},
		Samples: []pretrainSample{},
	}
	for i := 0; i < min(12, len(texts)); i++ {
		rep.Samples = append(rep.Samples, pretrainSample{Prompt: items[i].Prompt, Response: texts[i], Gold: num.Float(demo.Gold(&items[i], texts[i]))})
	}
	return printJSON(stdout, rep)
}
