package lm_test

import (
	"fmt"

	"prefer/core/lm"
	"prefer/core/rng"
)

// The default model over the demo vocabulary.
func ExampleDefaultConfig() {
	v := lm.DemoVocab()
	c := lm.DefaultConfig(v.Size())
	fmt.Printf("V=%d T=%d L=%d C=%d heads=%d hidden=%d: %d parameters\n",
		c.Vocab, c.Context, c.Layers, c.Channels, c.Heads, c.Hidden, c.NumParams())
	// Output:
	// V=462 T=80 L=2 C=48 heads=4 hidden=192: 82705 parameters
}

// Text becomes word ids and back; a prompt is wrapped in BOS … SEP.
func ExampleVocab() {
	v := lm.DemoVocab()
	ids := v.PromptIDs("What is the capital of France?", 40)
	fmt.Println(len(ids), ids[0] == lm.BOSID, ids[len(ids)-1] == lm.SEPID)
	resp := v.Encode(nil, "The capital of France is Paris.")
	fmt.Println(v.Decode(append(resp, lm.EOSID)))
	fmt.Println(v.Decode(v.Encode(nil, "The capital of Atlantis is Paris.")))
	// Output:
	// 9 true true
	// The capital of France is Paris.
	// The capital of is Paris.
}

// Pretraining on the demo grammar, here for a few steps only (the shipped reference
// takes 1000), then sampling an answer.
func ExamplePretrainDemo() {
	res, err := lm.PretrainDemo(lm.PretrainConfig{Seed: 1, Steps: 3, Batch: 4, Warmup: 1}, 50, 10, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	loss := res.Run.Series["loss"]
	fmt.Printf("%d steps, loss fell: %v\n", len(loss), loss[2] < loss[0])
	l := res.LM
	out := l.Model.Generate([][]int32{l.Vocab.PromptIDs("What do bees make?", 40)}, lm.SampleConfig{MaxTokens: 5}, rng.New(1))
	fmt.Println(len(out[0]) <= 5)
	// Output:
	// 3 steps, loss fell: true
	// true
}
