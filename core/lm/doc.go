// Package lm is Prefer's generative policy: a small decoder-only transformer language
// model (GPT-2 shaped) over the word-level vocabulary of the demo domain, pretrained
// on the demo grammar as the reference policy π_ref and fine-tuned with the
// optimizers of package policy under a per-token KL penalty.
//
// # Model
//
// Token and position embeddings, L pre-norm blocks of causal multi-head
// self-attention and a GELU MLP with residual connections, a final layer norm, an
// output layer tied to the token embedding (or untied, Config.Untied), and a scalar
// head on the final hidden state (the value head of PPO, or the reward head of a
// reward model). All sizes are fields of Config; the defaults (V = 462, T = 80,
// L = 2, C = 48, 4 heads, MLP 192) give 82,705 parameters.
//
// Every layer is an explicit forward and backward function on flat float32 slices
// with its shapes in comments, as in Karpathy's llm.c (train_gpt2.c): embedding.go,
// layernorm.go, attention.go, mlp.go, linear.go, output.go. Backward functions
// accumulate gradients with +=; ZeroGrad clears them; AdamW (Loshchilov & Hutter
// 2019) with global-norm clipping updates the flat parameter vector. Every backward
// is checked against central finite differences, per layer and for the whole model.
//
// A loss reaches the network through Model.Backward's three inputs — the derivative
// with respect to each position's target log-probability, entropy and head output —
// which covers cross-entropy pretraining, policy gradients, value losses and the
// Bradley–Terry loss of the reward head.
//
// # Portability and speed
//
// All arithmetic is float32 in a fixed order with the portable exponential of this
// package (expSlice) and num.Log, so training and sampling are bit-identical natively
// and in wasm (pinned hashes in the tests, which also run under wasm). The matmul
// kernels (kernels.go) are register-tiled and unrolled by eight; each output element
// is summed in the same order whatever tile it falls in, so incremental decoding with
// the key/value cache (Generate) gives exactly the logits of a full forward pass. A
// training batch is split into Workers fixed parts whose gradients are added in
// order: natively the parts run on separate cores, in wasm one after the other, with
// the same result.
//
// # Use
//
//	res, _ := lm.PretrainDemo(lm.PretrainConfig{Seed: 1}, 0, 0, nil) // π_ref
//	p, _ := lm.NewPolicy(res.LM, items, lm.PolicyConfig{})          // policy.Valued
//	out, _ := policy.PPO(p, env, policy.PPOConfig{LR: 1e-3, Prompts: 16})
//
// Policy implements policy.Policy and policy.Valued: an action is a response token
// (EOS included), the KL penalty is per token, GAE runs over tokens, the value is the
// scalar head at the position predicting each token. RewardHead (family "head") is a
// reward model: the language model fine-tuned with the Bradley–Terry loss on its last
// hidden state (TrainHead). LM.ToSnapshot and FromSnapshot store a model as a
// snapshot model of family "lm" with its vocabulary.
package lm
