package lesson

import (
	"fmt"
	"math"
	"sort"

	"github.com/vmihailenco/msgpack/v5"

	"prefer/core/num"
	"prefer/core/policy"
)

// Landscape is what the playground needs to show the KL-regularized optimum of the
// candidate policy at any β at once: every prompt's candidate answers with the
// reference probability π_ref, the lesson's reward model's score (the proxy), the gold
// utility and the parts. The optimum has a closed form,
//
//	π*_β(y|x) = π_ref(y|x) · exp(r(x,y)/β) / Z(x)
//
// (Ziegler et al. 2019; Rafailov et al. 2023 eq. 4; policy.Optimum), so At costs one
// softmax per prompt: the worker builds a Landscape when the panel changes
// (pipeline.NewLandscape: simulate, train — about a second), and the page moves β
// over it without waiting.
type Landscape struct {
	Panel   string   `msgpack:"panel"`    // the panel spec
	HeldAcc float64  `msgpack:"held_acc"` // the reward model's held-out accuracy
	Prompts []Prompt `msgpack:"prompts"`
}

// Prompt is one prompt of a Landscape.
type Prompt struct {
	ID      string   `msgpack:"id"`
	Text    string   `msgpack:"text"`
	Topic   string   `msgpack:"topic"`
	Answers []Answer `msgpack:"answers"`
}

// Answer is one candidate answer of a Prompt.
type Answer struct {
	Text  string   `msgpack:"text"`
	Ref   float64  `msgpack:"ref"`   // π_ref, normalized over the prompt
	Proxy float64  `msgpack:"proxy"` // the reward model's score
	Gold  float64  `msgpack:"gold"`  // the gold utility
	Parts []string `msgpack:"parts"` // demo part tags (polite, filler, refusal, wrong, …)
}

// The β range of the playground's slider, and the curve's resolution.
const (
	MinBeta     = 0.003
	MaxBeta     = 10.0
	CurvePoints = 61
)

// Marshal encodes the landscape (msgpack) for the trip from the worker to the page.
func (l *Landscape) Marshal() ([]byte, error) { return msgpack.Marshal(l) }

// MaxLandscapeBytes bounds what UnmarshalLandscape reads: the lesson's landscape (60
// prompts of 7 answers) is about 40 KB.
const MaxLandscapeBytes = 4 << 20

// UnmarshalLandscape decodes what Marshal wrote, and checks it: every prompt has
// answers and finite numbers.
func UnmarshalLandscape(data []byte) (*Landscape, error) {
	if len(data) > MaxLandscapeBytes {
		return nil, fmt.Errorf("the playground's data is %d bytes, more than the %d a landscape of the lesson needs", len(data), MaxLandscapeBytes)
	}
	var l Landscape
	if err := msgpack.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("decode the playground's data: %w", err)
	}
	if len(l.Prompts) == 0 {
		return nil, fmt.Errorf("the playground's data has no prompts")
	}
	for _, p := range l.Prompts {
		if len(p.Answers) == 0 {
			return nil, fmt.Errorf("prompt %s has no answers", p.ID)
		}
		for _, a := range p.Answers {
			if !finite(a.Ref) || !finite(a.Proxy) || !finite(a.Gold) || a.Ref < 0 {
				return nil, fmt.Errorf("prompt %s: an answer's numbers are not finite", p.ID)
			}
		}
	}
	return &l, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Mix is the share of the policy's answers (probability mass, mean over prompts) that
// carry each part: the seed's failure modes and what they displace.
type Mix struct {
	Polite  float64 `json:"polite"`
	Filler  float64 `json:"filler"` // padded with at least one filler sentence
	Refusal float64 `json:"refusal"`
	Wrong   float64 `json:"wrong"`
	Correct float64 `json:"correct"`
	Unsafe  float64 `json:"unsafe"`
}

// Point is the optimum at one β.
type Point struct {
	Beta   float64
	KL     float64 // KL(π*‖π_ref), mean over prompts (nats)
	SqrtKL float64
	Proxy  float64 // E_π*[r], mean over prompts
	Gold   float64 // E_π*[gold], mean over prompts
	Mix    Mix
}

// Policy writes π*_β of prompt p into dst (len = its answers) and returns it; β =
// +Inf gives π_ref itself.
func (l *Landscape) Policy(dst []float64, p int, beta float64) []float64 {
	as := l.Prompts[p].Answers
	if math.IsInf(beta, 1) {
		for k, a := range as {
			dst[k] = a.Ref
		}
		return dst
	}
	ref, r := make([]float64, len(as)), make([]float64, len(as))
	for k, a := range as {
		ref[k], r[k] = a.Ref, a.Proxy
	}
	return policy.Optimum(dst, ref, r, beta, 0)
}

// At returns the optimum at β (> 0; +Inf: the reference policy): its KL to π_ref,
// expected proxy and gold, and the mix of parts of its answers, each a mean over
// prompts.
func (l *Landscape) At(beta float64) Point {
	pt := Point{Beta: beta}
	var buf, ref []float64
	for i := range l.Prompts {
		as := l.Prompts[i].Answers
		buf = l.Policy(grow(buf, len(as)), i, beta)
		ref = grow(ref, len(as))
		for k, a := range as {
			ref[k] = a.Ref
		}
		pt.KL += policy.ExactKL(buf, ref)
		for k, a := range as {
			pi := buf[k]
			pt.Proxy += float64(pi * a.Proxy)
			pt.Gold += float64(pi * a.Gold)
			for _, part := range a.Parts {
				switch part {
				case "polite":
					pt.Mix.Polite += pi
				case "filler":
					pt.Mix.Filler += pi
				case "refusal":
					pt.Mix.Refusal += pi
				case "wrong":
					pt.Mix.Wrong += pi
				case "correct":
					pt.Mix.Correct += pi
				case "unsafe":
					pt.Mix.Unsafe += pi
				}
			}
		}
	}
	n := float64(len(l.Prompts))
	pt.KL /= n
	pt.Proxy /= n
	pt.Gold /= n
	pt.Mix = Mix{pt.Mix.Polite / n, pt.Mix.Filler / n, pt.Mix.Refusal / n, pt.Mix.Wrong / n, pt.Mix.Correct / n, pt.Mix.Unsafe / n}
	pt.SqrtKL = math.Sqrt(math.Max(pt.KL, 0))
	return pt
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// CurveBetas returns CurvePoints values of β from MaxBeta down to MinBeta, evenly
// spaced in log β: the playground's curve, in the order of increasing KL.
func CurveBetas() []float64 {
	out := make([]float64, CurvePoints)
	lo, hi := num.Log(MinBeta), num.Log(MaxBeta)
	for i := range out {
		out[i] = num.Exp(hi + float64((lo-hi)*float64(i))/float64(CurvePoints-1))
	}
	out[0], out[CurvePoints-1] = MaxBeta, MinBeta
	return out
}

// Curve returns the optimum at every β of betas.
func (l *Landscape) Curve(betas []float64) []Point {
	out := make([]Point, len(betas))
	for i, b := range betas {
		out[i] = l.At(b)
	}
	return out
}

// Showcase returns n prompts worth watching while β moves, in prompt order: those
// whose most likely answer changes most in gold between the large β and the smallest
// one (where reward hacking shows, or where optimization helps), at most one per
// topic while topics last.
func (l *Landscape) Showcase(n int) []int {
	type cand struct {
		p     int
		score float64
		topic string
	}
	var cs []cand
	var buf []float64
	for i, p := range l.Prompts {
		k := len(p.Answers)
		large := num.Argmax(l.Policy(grow(buf, k), i, BetaLarge))
		small := num.Argmax(l.Policy(grow(buf, k), i, MinBeta))
		ref := 0
		for j, a := range p.Answers {
			if a.Ref > p.Answers[ref].Ref {
				ref = j
			}
		}
		score := math.Abs(p.Answers[large].Gold-p.Answers[small].Gold) + float64(math.Abs(p.Answers[ref].Gold-p.Answers[large].Gold)/2)
		cs = append(cs, cand{i, score, p.Topic})
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].score > cs[b].score })
	var out []int
	used := map[string]bool{}
	for pass := 0; pass < 2 && len(out) < n; pass++ {
		for _, c := range cs {
			if len(out) == n {
				break
			}
			if c.score == 0 || (pass == 0 && used[c.topic]) || contains(out, c.p) {
				continue
			}
			used[c.topic] = true
			out = append(out, c.p)
		}
	}
	sort.Ints(out)
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
