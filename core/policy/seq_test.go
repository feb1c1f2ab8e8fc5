package policy

import (
	"fmt"
	"math"
	"testing"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// seqPolicy is a two-token autoregressive policy over a vocabulary of three tokens:
// a stand-in for the generative language model that exercises the multi-action
// paths of the shared code (per-token KL terms, GAE with γ and λ, per-token
// values). π(y|x) = π(a|x)·π(b|x,a) with free logits for each context, so it can
// represent any distribution over the nine sequences and π* is reachable.
type seqPolicy struct {
	items      []feedback.Item
	th, ref    []float64 // (P, 4, V): context 0 = first token, 1+a = second after a
	val        []float64 // (P, 4) value of each context
	g, vg      []float64
	m, v       []float64 // Adam over th then val
	t          int
	vocab      []string
	tokenTexts map[string][2]int
}

const seqV = 3

func newSeqPolicy(tb testing.TB, nPrompts int, seed uint64) *seqPolicy {
	tb.Helper()
	r := rng.New(seed)
	s := &seqPolicy{vocab: []string{"yes", "no", "maybe"}, tokenTexts: map[string][2]int{}}
	for p := 0; p < nPrompts; p++ {
		s.items = append(s.items, feedback.Item{ID: fmt.Sprintf("s%d", p), Prompt: fmt.Sprintf("seq prompt %d", p)})
	}
	n := nPrompts * 4 * seqV
	s.th, s.ref, s.g = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range s.ref {
		s.ref[i] = float64(0.7 * r.Norm())
	}
	copy(s.th, s.ref)
	s.val, s.vg = make([]float64, nPrompts*4), make([]float64, nPrompts*4)
	s.m, s.v = make([]float64, n+len(s.val)), make([]float64, n+len(s.val))
	for a := 0; a < seqV; a++ {
		for b := 0; b < seqV; b++ {
			s.tokenTexts[s.vocab[a]+" "+s.vocab[b]] = [2]int{a, b}
		}
	}
	return s
}

func (s *seqPolicy) Items() []feedback.Item { return s.items }

// row returns the logits of context c of prompt p.
func (s *seqPolicy) row(th []float64, p, c int) []float64 {
	o := (p*4 + c) * seqV
	return th[o : o+seqV]
}

func softmax3(x []float64) []float64 { return num.Softmax(make([]float64, len(x)), x) }

func (s *seqPolicy) Sample(dst []Sample, r *rng.RNG, p, n int) []Sample {
	for i := 0; i < n; i++ {
		a := r.Categorical(softmax3(s.row(s.th, p, 0)))
		b := r.Categorical(softmax3(s.row(s.th, p, 1+a)))
		dst = append(dst, Sample{Prompt: p, Cand: -1, Tokens: []int{a, b}, Text: s.vocab[a] + " " + s.vocab[b]})
	}
	return dst
}

func (s *seqPolicy) Given(p, k int) Sample { panic("seqPolicy has no given responses") }

func (s *seqPolicy) logProbs(th, dst []float64, ss []Sample) {
	t := 0
	for _, x := range ss {
		ctx := 0
		for _, tok := range x.Tokens {
			row := s.row(th, x.Prompt, ctx)
			dst[t] = row[tok] - num.LogSumExp(row)
			t++
			ctx = 1 + tok
		}
	}
}

func (s *seqPolicy) LogProbs(dst []float64, ss []Sample)    { s.logProbs(s.th, dst, ss) }
func (s *seqPolicy) RefLogProbs(dst []float64, ss []Sample) { s.logProbs(s.ref, dst, ss) }

func (s *seqPolicy) Backward(ss []Sample, w []float64) {
	t := 0
	for _, x := range ss {
		ctx := 0
		for _, tok := range x.Tokens {
			o := (x.Prompt*4 + ctx) * seqV
			pr := softmax3(s.th[o : o+seqV])
			for j := range pr {
				s.g[o+j] -= float64(w[t] * pr[j])
			}
			s.g[o+tok] += w[t]
			t++
			ctx = 1 + tok
		}
	}
}

func (s *seqPolicy) Values(dst []float64, ss []Sample) {
	t := 0
	for _, x := range ss {
		ctx := 0
		for _, tok := range x.Tokens {
			dst[t] = s.val[x.Prompt*4+ctx]
			t++
			ctx = 1 + tok
		}
	}
}

func (s *seqPolicy) BackwardValue(ss []Sample, g []float64) {
	t := 0
	for _, x := range ss {
		ctx := 0
		for _, tok := range x.Tokens {
			s.vg[x.Prompt*4+ctx] += g[t]
			t++
			ctx = 1 + tok
		}
	}
}

func (s *seqPolicy) Step(lr float64) {
	s.t++
	b1, b2 := 0.9, 0.999
	c1, c2 := 1/(1-math.Pow(b1, float64(s.t))), 1/(1-math.Pow(b2, float64(s.t)))
	upd := func(p, g, m, v []float64) {
		for j := range p {
			m[j] = float64(b1*m[j]) + float64((1-b1)*g[j])
			v[j] = float64(b2*v[j]) + float64(float64((1-b2)*g[j])*g[j])
			p[j] -= float64(float64(lr*m[j])*c1) / (math.Sqrt(float64(v[j]*c2)) + 1e-8)
			g[j] = 0
		}
	}
	upd(s.th, s.g, s.m[:len(s.th)], s.v[:len(s.th)])
	upd(s.val, s.vg, s.m[len(s.th):], s.v[len(s.th):])
}

// seqDist returns the distribution over the nine sequences (index 3a+b) of prompt p.
func (s *seqPolicy) seqDist(th []float64, p int) []float64 {
	out := make([]float64, seqV*seqV)
	first := softmax3(s.row(th, p, 0))
	for a := 0; a < seqV; a++ {
		second := softmax3(s.row(th, p, 1+a))
		for b := 0; b < seqV; b++ {
			out[3*a+b] = float64(first[a] * second[b])
		}
	}
	return out
}

// TestMultiTokenPolicy: PPO (per-token k1 penalty, GAE with γ = 1, λ = 0.95, a value
// per context) and RLOO drive a two-token autoregressive policy to the sequence-level
// optimum π*(y) ∝ π_ref(y)·exp(r(y)/β), as they must the language model.
func TestMultiTokenPolicy(t *testing.T) {
	const beta = 0.5
	r := rng.New(9)
	rewards := map[string]float64{}
	for p := 0; p < 4; p++ {
		for a := 0; a < seqV; a++ {
			for b := 0; b < seqV; b++ {
				rewards[fmt.Sprintf("s%d|%d%d", p, a, b)] = r.Norm()
			}
		}
	}
	for _, algo := range []string{"ppo", "rloo"} {
		s := newSeqPolicy(t, 4, 3)
		env := Env{Proxy: func(it *feedback.Item, text string) float64 {
			ab := s.tokenTexts[text]
			return rewards[fmt.Sprintf("%s|%d%d", it.ID, ab[0], ab[1])]
		}}
		var res *Result
		var err error
		if algo == "ppo" {
			res, err = PPO(s, env, PPOConfig{KL: KLConfig{Beta: beta}, Samples: 16, Steps: 600, LR: 0.05})
		} else {
			res, err = RLOO(s, env, RLOOConfig{KL: KLConfig{Beta: beta}, Samples: 16, Steps: 600, LR: 0.05})
		}
		if err != nil {
			t.Fatal(err)
		}
		var tv, kl float64
		for p := 0; p < 4; p++ {
			ref := s.seqDist(s.ref, p)
			rw := make([]float64, 9)
			for y := range rw {
				rw[y] = rewards[fmt.Sprintf("s%d|%d%d", p, y/3, y%3)]
			}
			got := s.seqDist(s.th, p)
			tv += float64(TV(got, Optimum(make([]float64, 9), ref, rw, beta, 0)) / 4)
			kl += float64(ExactKL(got, ref) / 4)
		}
		if tv > 0.03 {
			t.Errorf("%s: mean TV to the sequence-level π* = %.4f, want ≤ 0.03", algo, tv)
		}
		// The sample estimates over the last 200 steps (the policy barely moves) are
		// near the exact KL, and the exact series is NaN: the policy is not Exact.
		mean := func(x []float64) float64 {
			var m float64
			for _, v := range x[len(x)-200:] {
				m += v / 200
			}
			return m
		}
		k1, k3 := mean(res.Run.Series[SeriesKLk1]), mean(res.Run.Series[SeriesKLk3])
		if !math.IsNaN(res.Final.KL) || math.Abs(k1-kl) > 0.05 || math.Abs(k3-kl) > 0.05 {
			t.Errorf("%s: KL %v, k1 %v, k3 %v; exact %v", algo, res.Final.KL, k1, k3, kl)
		}
		t.Logf("%s: TV %.4f, KL exact %.3f k1 %.3f k3 %.3f", algo, tv, kl, k1, k3)
	}
}
