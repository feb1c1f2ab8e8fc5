package lm

import (
	"math"
	"strings"
	"testing"

	"prefer/core/demo"
	"prefer/core/rng"
)

// TestCompleteDeltas checks what a streaming client relies on: the deltas of each
// answer add up to its text, the last one carries the finish reason, and the same
// seed gives the same answers with or without a listener.
func TestCompleteDeltas(t *testing.T) {
	l := benchRef(t)
	for _, stop := range [][]string{nil, {"."}, {" is", "help"}} {
		c := CompleteConfig{N: 4, Sample: SampleConfig{LogProbs: true}, Stop: stop, TopLogProbs: 3}
		got := make([]strings.Builder, c.N)
		finish := make([]string, c.N)
		var tokens [4]int
		_, answers := l.Complete("What is the capital of Italy?", c, rng.New(7), func(d Delta) bool {
			if finish[d.Choice] != "" {
				t.Errorf("stop %q: choice %d has a delta after its finish", stop, d.Choice)
			}
			got[d.Choice].WriteString(d.Text)
			finish[d.Choice] = d.Finish
			tokens[d.Choice] += len(d.LogProbs)
			return false
		})
		_, quiet := l.Complete("What is the capital of Italy?", c, rng.New(7), nil)
		for i, a := range answers {
			if got[i].String() != a.Text || finish[i] != a.Finish {
				t.Errorf("stop %q answer %d: deltas %q (%s), answer %q (%s)", stop, i, got[i].String(), finish[i], a.Text, a.Finish)
			}
			if a.Text != quiet[i].Text {
				t.Errorf("stop %q answer %d: %q with a listener, %q without", stop, i, a.Text, quiet[i].Text)
			}
			if tokens[i] != a.Tokens || len(a.LogProbs) != a.Tokens {
				t.Errorf("stop %q answer %d: %d tokens, %d log-probs streamed, %d kept", stop, i, a.Tokens, tokens[i], len(a.LogProbs))
			}
			for _, s := range stop {
				if strings.Contains(a.Text, s) {
					t.Errorf("answer %q contains its stop string %q", a.Text, s)
				}
			}
		}
	}
}

// TestCompleteStop checks that a stop string cuts the answer the model would have
// written anyway: with one answer the random draws up to the stop are the same, so
// the text is the unstopped text up to the stop string's first occurrence.
func TestCompleteStop(t *testing.T) {
	l := benchRef(t)
	cut := 0
	for seed := uint64(1); seed <= 20; seed++ {
		prompt := demo.Prompts(seed, 1)[0].Prompt
		_, free := l.Complete(prompt, CompleteConfig{}, rng.New(seed), nil)
		_, stopped := l.Complete(prompt, CompleteConfig{Stop: []string{"is", "!"}}, rng.New(seed), nil)
		want, finish := free[0].Text, free[0].Finish
		i, j := strings.Index(want, "is"), strings.Index(want, "!")
		if j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i >= 0 {
			want, finish = want[:i], "stop"
			cut++
		}
		if stopped[0].Text != want || stopped[0].Finish != finish {
			t.Errorf("seed %d: stopped %q (%s), want %q (%s) from %q", seed, stopped[0].Text, stopped[0].Finish, want, finish, free[0].Text)
		}
	}
	if cut == 0 {
		t.Fatal("no answer contained a stop string: the test checked nothing")
	}
}

// TestCompleteLogProbs checks the reported log-probabilities against the model's
// scoring pass (SeqLogProbs: a full forward over prompt and answer) and that the
// top alternatives are sorted and include the chosen token when it is among them.
func TestCompleteLogProbs(t *testing.T) {
	l := benchRef(t)
	prompt := "How many hours are in 6 days?"
	_, answers := l.Complete(prompt, CompleteConfig{N: 3, Sample: SampleConfig{LogProbs: true, Temperature: 0.7}, TopLogProbs: 5}, rng.New(3), nil)
	for _, a := range answers {
		ids := l.Vocab.Encode(nil, a.Text)
		if a.Finish == "stop" {
			ids = append(ids, EOSID)
		}
		want := l.Model.SeqLogProbs([]Seq{{Prompt: l.Vocab.PromptIDs(prompt, l.Model.Config.Context/2), Response: ids}})
		if len(want) != len(a.LogProbs) {
			t.Fatalf("%q: %d log-probs, %d tokens scored", a.Text, len(a.LogProbs), len(want))
		}
		for k, lp := range a.LogProbs {
			// Incremental decoding gives the logits of the full pass bit for bit
			// (TestIncrementalEqualsFull); the log-softmax is the same formula.
			if math.Abs(float64(lp.LogP)-want[k]) > 1e-5 {
				t.Errorf("%q token %d %q: log-prob %v, scoring pass %v", a.Text, k, lp.Text, lp.LogP, want[k])
			}
			if len(lp.Top) != 5 {
				t.Fatalf("token %d: %d alternatives, want 5", k, len(lp.Top))
			}
			for i := 1; i < len(lp.Top); i++ {
				if lp.Top[i].LogP > lp.Top[i-1].LogP {
					t.Errorf("token %d: alternatives not sorted: %v", k, lp.Top)
				}
			}
			if lp.LogP >= lp.Top[4].LogP {
				found := false
				for _, alt := range lp.Top {
					found = found || (alt.Text == lp.Text && alt.LogP == lp.LogP)
				}
				if !found {
					t.Errorf("token %d %q (%v) is likelier than the 5th alternative but not listed: %v", k, lp.Text, lp.LogP, lp.Top)
				}
			}
		}
	}
}

// TestTopP checks nucleus sampling against its limits: a tiny top-p keeps only the
// most likely token (greedy decoding, the same as top-k 1), and top-p 1 is plain
// sampling.
func TestTopP(t *testing.T) {
	l := benchRef(t)
	prompt := "What do bees make?"
	_, greedy := l.Complete(prompt, CompleteConfig{N: 2, Sample: SampleConfig{TopK: 1}}, rng.New(1), nil)
	_, nucleus := l.Complete(prompt, CompleteConfig{N: 2, Sample: SampleConfig{TopP: 1e-6}}, rng.New(99), nil)
	for i := range greedy {
		if greedy[i].Text != nucleus[i].Text {
			t.Errorf("top-p 1e-6 %q, top-k 1 %q", nucleus[i].Text, greedy[i].Text)
		}
	}
	_, plain := l.Complete(prompt, CompleteConfig{N: 4}, rng.New(5), nil)
	_, full := l.Complete(prompt, CompleteConfig{N: 4, Sample: SampleConfig{TopP: 1}}, rng.New(5), nil)
	for i := range plain {
		if plain[i].Text != full[i].Text {
			t.Errorf("top-p 1 %q, plain %q", full[i].Text, plain[i].Text)
		}
	}
	w := []float64{0.1, 0.5, 0.2, 0.2}
	keepTopP(w, make([]int, 4), 0.75) // 0.5 + 0.2 (index 2, the lower of the tie) = 0.7 < 0.75, + 0.2 → 0.9
	if want := []float64{0, 0.5, 0.2, 0.2}; !equalFloats(w, want) {
		t.Errorf("keepTopP 0.75: %v, want %v", w, want)
	}
	w = []float64{0.1, 0.5, 0.2, 0.2}
	keepTopP(w, make([]int, 4), 0.7) // 0.5 + 0.2 reaches 0.7: index 3 is out (ties towards lower index)
	if want := []float64{0, 0.5, 0.2, 0}; !equalFloats(w, want) {
		t.Errorf("keepTopP 0.7: %v, want %v", w, want)
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHeldBack(t *testing.T) {
	for _, c := range []struct {
		text  string
		stops []string
		want  int
	}{
		{"The capital is", []string{"is R"}, 2},
		{"The capital is ", []string{"is R"}, 3},
		{"The capital", []string{"is R"}, 0},
		{"abc", []string{"c", "bcd"}, 2},
		{"", []string{"xy"}, 0},
	} {
		if got := heldBack(c.text, c.stops); got != c.want {
			t.Errorf("heldBack(%q, %q) = %d, want %d", c.text, c.stops, got, c.want)
		}
	}
}
