package demo

import (
	"fmt"
	"sort"

	"prefer/core/feedback"
	"prefer/core/rng"
)

// CandidatesPerItem is how many candidate responses Prompts gives every item.
const CandidatesPerItem = 7

// plan is the composition of one response: which answer, and what surrounds it.
type plan struct {
	answer  string // PartCorrect, PartWrong, PartRefusal, PartUnsafe, or "" for none
	open    bool   // an opening politeness phrase
	close   bool   // a closing politeness phrase
	fillers int    // filler sentences
	hedge   bool   // one hedge next to the answer
}

// The reference distribution: how "a pretrained model" (π_ref) answers. It is often
// wrong, padded and needlessly polite, refuses some answerable requests (more of the
// sensitive ones) and complies with about half of the harmful ones.
var (
	answerKinds = []string{PartCorrect, PartWrong, PartRefusal, ""}
	refAnswer   = []float64{0.45, 0.30, 0.10, 0.15} // answerable prompts
	refAnswerS  = []float64{0.40, 0.20, 0.30, 0.10} // sensitive prompts
	refuseKinds = []string{PartUnsafe, PartRefusal, ""}
	refRefuse   = []float64{0.45, 0.40, 0.15} // should-refuse prompts
	refOpen     = 0.40
	refClose    = 0.35
	refFillers  = []float64{0.40, 0.25, 0.17, 0.11, 0.07} // P(0..4 fillers); no answer: 1 + this
	refHedge    = 0.20                                    // with an answer or unsafe compliance
)

func answerDist(q *question) ([]string, []float64) {
	switch {
	case q.refuse():
		return refuseKinds, refRefuse
	case q.sensitive():
		return answerKinds, refAnswerS
	}
	return answerKinds, refAnswer
}

func hasContent(answer string) bool {
	return answer == PartCorrect || answer == PartWrong || answer == PartUnsafe
}

// sampleRef draws a plan from the reference distribution.
func sampleRef(r *rng.RNG, q *question) plan {
	kinds, w := answerDist(q)
	p := plan{answer: kinds[r.Categorical(w)]}
	p.open = r.Bernoulli(refOpen)
	p.close = r.Bernoulli(refClose)
	p.fillers = r.Categorical(refFillers)
	if p.answer == "" {
		p.fillers++
	}
	if hasContent(p.answer) {
		p.hedge = r.Bernoulli(refHedge)
	}
	return p
}

// refProb is the reference probability of a plan (its structure, not its wording).
func refProb(q *question, p plan) float64 {
	kinds, w := answerDist(q)
	prob := 0.0
	for i, k := range kinds {
		if k == p.answer {
			prob = w[i]
		}
	}
	bern := func(x bool, p float64) float64 {
		if x {
			return p
		}
		return 1 - p
	}
	prob = float64(prob * (float64(bern(p.open, refOpen) * bern(p.close, refClose))))
	k := p.fillers
	if p.answer == "" {
		k--
	}
	if k < 0 || k >= len(refFillers) {
		return 0
	}
	prob = float64(prob * refFillers[k])
	if hasContent(p.answer) {
		prob = float64(prob * bern(p.hedge, refHedge))
	} else if p.hedge {
		return 0
	}
	return prob
}

// compose renders a plan for q, drawing the wording from r. The order is: opening,
// fillers, hedge, answer, more fillers, closing.
func compose(r *rng.RNG, q *question, p plan) string {
	var s []string
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	if p.open {
		s = append(s, pick(openings))
	}
	fill := r.Perm(len(fillers))[:p.fillers]
	before := 0
	for range fill {
		if r.Bernoulli(0.6) {
			before++
		}
	}
	for _, i := range fill[:before] {
		s = append(s, fillers[i])
	}
	hedgeFirst := r.Bernoulli(0.5)
	if p.hedge && hedgeFirst {
		s = append(s, pick(hedges))
	}
	switch p.answer {
	case PartCorrect:
		s = append(s, pick(q.correct))
	case PartWrong:
		s = append(s, pick(q.wrong))
	case PartUnsafe:
		s = append(s, pick(q.unsafe))
	case PartRefusal:
		s = append(s, pick(refusals))
	}
	if p.hedge && !hedgeFirst {
		s = append(s, pick(hedges))
	}
	for _, i := range fill[before:] {
		s = append(s, fillers[i])
	}
	if p.close {
		s = append(s, pick(closings))
	}
	return render(s)
}

// The filler sentences of the padded required candidates. A right answer padded with
// PaddedFillers fillers has gold 2 − 0.5·4 = 0: below the reference policy's mean
// (about 0.4), so a reward model that pays for length can drag the policy below where
// it started — the verbosity story at full strength. A padded refusal keeps three
// (gold 0.5), still far below a concise refusal's 2.
const (
	PaddedFillers        = 4
	PaddedRefusalFillers = 3
)

// requiredPlans are the candidates every item gets, so that each failure mode can be
// observed on every item: a concise right answer, a polite wrong one, a right one
// padded with filler, and a refusal; for should-refuse prompts, the analogues (a
// concise refusal, unsafe compliance plain and polite, a padded refusal).
func requiredPlans(q *question) []plan {
	if q.refuse() {
		return []plan{
			{answer: PartRefusal},
			{answer: PartUnsafe},
			{answer: PartUnsafe, open: true, close: true},
			{answer: PartRefusal, fillers: PaddedRefusalFillers},
		}
	}
	return []plan{
		{answer: PartCorrect},
		{answer: PartWrong, open: true, close: true},
		{answer: PartCorrect, fillers: PaddedFillers},
		{answer: PartRefusal},
	}
}

// Prompts returns n items of the demo domain, a pure function of seed: a prompt, its
// topic tags, CandidatesPerItem candidate responses (the required ones plus draws from
// the reference distribution, in shuffled order) each with its Gold, Parts and RefProb
// (the reference probability of its composition, normalized over the item), and
// GoldBest. Item ids are "q001", "q002", ….
func Prompts(seed uint64, n int) []feedback.Item {
	base := rng.New(seed).Split("prompts")
	deck := newDeck(base.Split("deck"))
	items := make([]feedback.Item, 0, max(n, 0))
	width := max(3, len(fmt.Sprint(n)))
	for i := 0; i < n; i++ {
		r := base.Split("item")
		q := deck.next(r)
		items = append(items, makeItem(r, fmt.Sprintf("q%0*d", width, i+1), q))
	}
	return items
}

// deck draws questions topic by topic without repeating one until its topic is used up.
type deck struct {
	r     *rng.RNG
	cards map[string][]*question
}

func newDeck(r *rng.RNG) *deck { return &deck{r: r, cards: map[string][]*question{}} }

func (d *deck) next(r *rng.RNG) *question {
	topic := Topics[d.r.Categorical(topicWeight)]
	if len(d.cards[topic]) == 0 {
		all := byTopic[topic]
		perm := d.r.Perm(len(all))
		cards := make([]*question, len(all))
		for i, p := range perm {
			cards[i] = all[p]
		}
		d.cards[topic] = cards
	}
	q := d.cards[topic][0]
	d.cards[topic] = d.cards[topic][1:]
	return q
}

func makeItem(r *rng.RNG, id string, q *question) feedback.Item {
	it := feedback.Item{ID: id, Prompt: render([]string{q.prompt}), Tags: []string{q.topic}}
	if q.refuse() {
		it.Tags = append(it.Tags, TagShouldRefuse)
	}
	if q.sensitive() {
		it.Tags = append(it.Tags, TagSensitive)
	}
	sort.Strings(it.Tags)
	plans := requiredPlans(q)
	var texts []string
	var probs []float64
	seen := map[string]bool{}
	add := func(p plan) {
		t := compose(r, q, p)
		if seen[t] {
			return
		}
		seen[t] = true
		texts = append(texts, t)
		probs = append(probs, refProb(q, p))
	}
	for _, p := range plans {
		add(p)
	}
	for tries := 0; len(texts) < CandidatesPerItem && tries < 100; tries++ {
		add(sampleRef(r, q))
	}
	order := r.Perm(len(texts))
	var total float64
	for _, p := range probs {
		total += p
	}
	bestGold := 0.0
	for k, idx := range order {
		text := texts[idx]
		f := Analyze(&it, text)
		g := f.Gold()
		it.Responses = append(it.Responses, feedback.Response{
			ID:      feedback.ResponseID(text),
			Text:    text,
			Source:  feedback.SourceReference,
			Gold:    &g,
			Parts:   f.Parts(),
			RefProb: probs[idx] / total,
		})
		if k == 0 || g > bestGold {
			bestGold = g
			it.GoldBest = it.Responses[k].ID
		}
	}
	return it
}

// Example is one prompt and response of the demo grammar, for language-model
// pretraining, with its gold utility and part tags.
type Example struct {
	Prompt   string
	Response string
	Gold     float64
	Parts    []string
}

// Corpus returns n examples drawn from the reference distribution (topics by their
// weights, prompts uniformly within a topic, responses from the reference policy), a
// pure function of seed. It is the pretraining text of the reference language model.
func Corpus(seed uint64, n int) []Example {
	r := rng.New(seed).Split("corpus")
	out := make([]Example, 0, max(n, 0))
	for i := 0; i < n; i++ {
		list := byTopic[Topics[r.Categorical(topicWeight)]]
		q := list[r.IntN(len(list))]
		text := compose(r, q, sampleRef(r, q))
		it := feedback.Item{Prompt: render([]string{q.prompt})}
		f := Analyze(&it, text)
		out = append(out, Example{Prompt: it.Prompt, Response: text, Gold: f.Gold(), Parts: f.Parts()})
	}
	return out
}

// Ideal returns the ideal response to a demo item: concise, right and polite (an
// opening phrase and the first right answer), or a plain refusal for a should-refuse
// prompt. It returns "" for an item whose prompt is not from the demo domain.
func Ideal(it *feedback.Item) string {
	q := lookup(it.Prompt)
	switch {
	case q == nil:
		return ""
	case q.refuse():
		return render([]string{refusals[0]})
	}
	return render([]string{openings[0], q.correct[0]})
}
