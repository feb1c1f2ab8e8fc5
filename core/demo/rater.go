package demo

import (
	"fmt"
	"math"
	"sort"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// Rater is a simulated rater: a Profile, an id, its own random stream, and the state
// of its labeling session (fatigue grows with Seq). Every method makes one judgment
// (and advances Seq), with a unique deterministic id, simulated times and the
// guideline version in force. A Rater is a pure function of its profile, id, seed and
// the sequence of calls; it is not safe for concurrent use.
//
// Responses are named by id (a response of the item) or, for a text that is not one
// of the item's responses, by the text itself: the judgment then records
// feedback.ResponseID(text), the id Item.AddResponse gives that text.
//
// The t argument of every method is the simulated time (unix ms) at which the item was
// shown; the judgment's Time is t + MS.
type Rater struct {
	Profile   Profile
	ID        string
	Session   string // current session id
	Seq       int    // judgments made in the current session
	Guideline int    // guideline version recorded in judgments (default 1)

	r      *rng.RNG
	prefix string
	n      int // judgments made in all
}

// NewRater returns a rater with profile p and id, drawing from a stream derived from
// seed and id. Its first session is id + "-1".
func NewRater(p Profile, id string, seed uint64) *Rater {
	return &Rater{
		Profile:   p,
		ID:        id,
		Session:   id + "-1",
		Guideline: 1,
		r:         rng.New(seed).Split("rater/" + id),
		prefix:    fmt.Sprintf("s%d-%s-", seed, id),
	}
}

// StartSession begins a new labeling session: Seq restarts, and so does fatigue.
func (r *Rater) StartSession(id string) {
	r.Session = id
	r.Seq = 0
}

// begin starts a judgment: it counts it and returns the common fields.
func (r *Rater) begin(kind feedback.Kind, item string) feedback.Judgment {
	r.n++
	r.Seq++
	return feedback.Judgment{
		ID:        fmt.Sprintf("%s%06d", r.prefix, r.n),
		Kind:      kind,
		Item:      item,
		Rater:     r.ID,
		Session:   r.Session,
		Seq:       r.Seq,
		Guideline: r.Guideline,
	}
}

// finish sets the simulated duration and time of j.
func (r *Rater) finish(j *feedback.Judgment, t int64, words int) {
	j.MS = r.duration(j.Kind, words)
	j.Time = t + j.MS
}

// baseMS is the mean time (ms) of each judgment kind before reading.
var baseMS = map[feedback.Kind]float64{
	feedback.KindCompare: 2500, feedback.KindRank: 3000, feedback.KindRate: 1500,
	feedback.KindRewrite: 8000, feedback.KindFlag: 3000, feedback.KindThumb: 600,
	feedback.KindReview: 3000,
}

const (
	msPerWord = 200  // reading, about 300 words a minute
	msPerType = 600  // writing a rewrite, per word
	msSigma   = 0.35 // log-normal spread of durations
)

// duration draws the milliseconds spent on a judgment: log-normal with mean
//
//	Pace·(base(kind) + 200·words)·(1 + Fatigue·(seq−1))
//
// (spammers do not read: their mean is Pace·base). Words counts what was read (and
// written, for rewrites, at 600 ms a word).
func (r *Rater) duration(kind feedback.Kind, words int) int64 {
	p := r.Profile
	pace := p.Pace
	if pace <= 0 {
		pace = 1
	}
	mean := baseMS[kind]
	if !p.Spammer {
		mean += float64(msPerWord * float64(words))
	}
	mean = float64(mean * (float64(pace * (1 + float64(p.Fatigue*float64(r.Seq-1))))))
	ms := r.r.LogNormal(num.Log(mean)-msSigma*msSigma/2, msSigma)
	return int64(math.Max(200, math.Floor(ms)))
}

// resolve returns the id and text of a response named by id or by text.
func resolve(it *feedback.Item, x string) (id, text string) {
	if resp := it.Response(x); resp != nil {
		return resp.ID, resp.Text
	}
	return feedback.ResponseID(x), x
}

// bias is the rater's systematic distortion of gold (see Profile).
func (r *Rater) bias(f Features) float64 {
	p := r.Profile
	b := float64(-p.AccuracyLoss*f.Accuracy()) + float64(p.Verbosity*float64(f.Filler+f.Repeats))
	if f.Polite {
		b += p.Politeness
	}
	if f.Sensitive || f.ShouldRefuse {
		if f.Refusal {
			b += p.Caution
		}
		if f.Risky {
			b -= p.Caution
		}
	}
	return b
}

// noise draws the perception noise at the current point of the session.
func (r *Rater) noise() float64 {
	p := r.Profile
	return float64(float64(p.Noise*(1+float64(p.Fatigue*float64(max(r.Seq-1, 0))))) * r.r.Norm())
}

// perceive returns the rater's perceived utility u' of features f (with fresh noise).
// A spammer's u' ignores the content: N(0, 2²).
func (r *Rater) perceive(f Features) float64 {
	if r.Profile.Spammer {
		return float64(2 * r.r.Norm())
	}
	return f.Gold() + r.bias(f) + r.noise()
}

// Utility returns the rater's perceived utility of text as a response to it: gold
// plus the profile's biases plus noise (see Profile). It draws noise but makes no
// judgment.
func (r *Rater) Utility(it *feedback.Item, text string) float64 {
	return r.perceive(Analyze(it, text))
}

// Compare judges two responses. The left/right order is drawn at random and recorded
// in Left; Position is added to the left one's u'. The choice is "both-bad" when both
// u' are below BothBadBelow, a tie when |Δu'| < TieMargin, else the higher u', with
// Strength 1 (|Δu'| < 1), 2 (< 2.5) or 3. Reasons describe the loser as the rater
// sees it. A spammer picks a side at random.
func (r *Rater) Compare(it *feedback.Item, a, b string, t int64) feedback.Judgment {
	j := r.begin(feedback.KindCompare, it.ID)
	var ta, tb string
	j.A, ta = resolve(it, a)
	j.B, tb = resolve(it, b)
	j.Left = "a"
	if r.r.Bernoulli(0.5) {
		j.Left = "b"
	}
	fa, fb := Analyze(it, ta), Analyze(it, tb)
	p := r.Profile
	if p.Spammer {
		switch k := r.r.IntN(20); {
		case k == 0:
			j.Choice = feedback.ChoiceTie
		case k <= 10:
			j.Choice = feedback.ChoiceA
		default:
			j.Choice = feedback.ChoiceB
		}
		if j.Choice != feedback.ChoiceTie {
			j.Strength = 1 + r.r.IntN(3)
		}
		r.finish(&j, t, 0)
		return j
	}
	ua, ub := r.perceive(fa), r.perceive(fb)
	if j.Left == "a" {
		ua += p.Position
	} else {
		ub += p.Position
	}
	d := math.Abs(ua - ub)
	switch {
	case ua < p.BothBadBelow && ub < p.BothBadBelow:
		j.Choice = feedback.ChoiceBothBad
		j.Reasons = r.reasons(fa, fb)
	case d < p.TieMargin:
		j.Choice = feedback.ChoiceTie
	default:
		j.Choice = feedback.ChoiceA
		loser := fb
		if ub > ua {
			j.Choice = feedback.ChoiceB
			loser = fa
		}
		switch {
		case d < 1:
			j.Strength = 1
		case d < 2.5:
			j.Strength = 2
		default:
			j.Strength = 3
		}
		j.Reasons = r.reasons(loser)
	}
	r.finish(&j, t, fa.Words+fb.Words+promptWords(it))
	return j
}

// Rank orders responses best first. They are shown in a random order (recorded in
// Shown) and sorted by u', with Position added to the first one shown. A spammer
// returns a random order.
func (r *Rater) Rank(it *feedback.Item, responses []string, t int64) feedback.Judgment {
	j := r.begin(feedback.KindRank, it.ID)
	perm := r.r.Perm(len(responses))
	j.Shown = make([]string, len(responses))
	u := make([]float64, len(responses))
	words := promptWords(it)
	for k, idx := range perm {
		var text string
		j.Shown[k], text = resolve(it, responses[idx])
		f := Analyze(it, text)
		words += f.Words
		u[k] = r.perceive(f)
	}
	if len(u) > 0 {
		u[0] += r.Profile.Position
	}
	if r.Profile.Spammer {
		j.Order = r.r.Perm(len(responses))
	} else {
		j.Order = make([]int, len(responses))
		for k := range j.Order {
			j.Order[k] = k
		}
		sort.SliceStable(j.Order, func(x, y int) bool { return u[j.Order[x]] > u[j.Order[y]] })
	}
	r.finish(&j, t, words)
	return j
}

// axisGold is the gold utility of one rating axis:
//
//	helpful:  like gold, but unsafe compliance counts 0 (it does what was asked) and a
//	          refusal of an answerable prompt −2
//	harmless: 2, or −3 for unsafe compliance, less 0.5 per unknown sentence
//	honest:   +2 right, −2 wrong (−1 when hedged), −1 both, +1 a refusal, 0 otherwise,
//	          −0.2 per hedge on a right answer, −1 per unknown sentence
//
// Any other axis uses gold.
func axisGold(f Features, axis string) float64 {
	switch axis {
	case feedback.AxisHelpful:
		g := f.Gold()
		switch {
		case f.ShouldRefuse && f.Unsafe:
			g -= goldUnsafe
		case !f.ShouldRefuse && f.Refusal && !f.Correct && !f.Wrong:
			g += -2 - goldOverRefusal
		}
		return g
	case feedback.AxisHarmless:
		if f.Unsafe {
			return goldUnsafe
		}
		return 2 - float64(0.5*float64(f.Unknown))
	case feedback.AxisHonest:
		var h float64
		switch {
		case f.Correct && f.Wrong:
			h = -1
		case f.Correct:
			h = 2 + float64(goldHedge*float64(f.Hedges))
		case f.Wrong && f.Hedge:
			h = -1
		case f.Wrong:
			h = -2
		case f.Refusal:
			h = 1
		}
		return h + float64(goldUnknown*float64(f.Unknown+f.Offtopic))
	}
	return f.Gold()
}

// Rate scores a response on an axis (helpful, harmless, honest; see axisGold) on the
// 1..7 Likert scale: score = round(4 + 1.5·u'), clamped, where u' is the axis utility
// plus the rater's biases and noise. A spammer scores uniformly at random.
func (r *Rater) Rate(it *feedback.Item, response, axis string, t int64) feedback.Judgment {
	j := r.begin(feedback.KindRate, it.ID)
	var text string
	j.Response, text = resolve(it, response)
	j.Axis = axis
	f := Analyze(it, text)
	if r.Profile.Spammer {
		j.Score = feedback.ScoreMin + r.r.IntN(feedback.ScoreMax-feedback.ScoreMin+1)
	} else {
		u := axisGold(f, axis) + r.bias(f) + r.noise()
		j.Score = int(math.Max(feedback.ScoreMin, math.Min(feedback.ScoreMax, math.Floor(4+float64(1.5*u)+0.5))))
	}
	r.finish(&j, t, f.Words+promptWords(it))
	return j
}

// Thumb gives a thumbs up (+1) when u' > 0, else down (−1) with reasons. A spammer
// picks at random.
func (r *Rater) Thumb(it *feedback.Item, response string, t int64) feedback.Judgment {
	j := r.begin(feedback.KindThumb, it.ID)
	var text string
	j.Response, text = resolve(it, response)
	f := Analyze(it, text)
	j.Score = -1
	if r.perceive(f) > 0 {
		j.Score = 1
	}
	if j.Score < 0 {
		j.Reasons = r.reasons(f)
	}
	r.finish(&j, t, f.Words+promptWords(it))
	return j
}

// Flag reports a response the rater finds harmful or misleading. ok is false (and the
// judgment zero, no counter used) when the rater sees nothing to flag. Unsafe
// compliance is flagged "harmful" (missed now and then by noisy raters); a cautious
// rater (Caution ≥ 1) also flags risky but right answers as harmful; a wrong answer is
// flagged "misleading" with probability 0.8·(1 − AccuracyLoss). A spammer flags at
// random.
func (r *Rater) Flag(it *feedback.Item, response string, t int64) (j feedback.Judgment, ok bool) {
	id, text := resolve(it, response)
	f := Analyze(it, text)
	p := r.Profile
	var cat, note, reason string
	switch {
	case p.Spammer:
		cat = feedback.FlagCategories[r.r.IntN(len(feedback.FlagCategories))]
	case f.Unsafe && r.r.Bernoulli(1/(1+float64(0.1*p.Noise))):
		cat, note, reason = feedback.FlagHarmful, "it helps with a request that should be refused", "unsafe"
	case f.Risky && p.Caution >= 1:
		cat, note, reason = feedback.FlagHarmful, "it describes something risky", "unsafe"
	case f.Wrong && !f.Correct && r.r.Bernoulli(float64(0.8*(1-p.AccuracyLoss))):
		cat, note, reason = feedback.FlagMisleading, "the answer is wrong", "factually wrong"
	default:
		return feedback.Judgment{}, false
	}
	j = r.begin(feedback.KindFlag, it.ID)
	j.Response, j.Category, j.Note = id, cat, note
	if reason != "" {
		j.Reasons = []string{reason}
	}
	r.finish(&j, t, f.Words+promptWords(it))
	return j, true
}

// Rewrite writes a better response from the grammar (a demonstration). The ideal is
// concise, right and polite (see Ideal), but raters write in their own style: a
// politeness-biased one adds a closing phrase, a verbosity-biased one two fillers, a
// cautious one refuses sensitive prompts, a noisy one sometimes gets the answer wrong
// (probability Noise/(Noise+4)), and a spammer writes a random reference response.
// For an item outside the demo domain the rater copies the response it likes best.
func (r *Rater) Rewrite(it *feedback.Item, response string, t int64) feedback.Judgment {
	j := r.begin(feedback.KindRewrite, it.ID)
	var text string
	j.Response, text = resolve(it, response)
	j.Text = r.rewriteText(it, text)
	written := Analyze(it, j.Text).Words
	r.finish(&j, t, Analyze(it, text).Words+promptWords(it)+written*msPerType/msPerWord)
	return j
}

func (r *Rater) rewriteText(it *feedback.Item, original string) string {
	q := lookup(it.Prompt)
	p := r.Profile
	if q == nil {
		best, bestU := original, math.Inf(-1)
		for _, resp := range it.Responses {
			if u := r.Utility(it, resp.Text); u > bestU {
				best, bestU = resp.Text, u
			}
		}
		return best
	}
	if p.Spammer {
		return compose(r.r, q, sampleRef(r.r, q))
	}
	pick := func(list []string) string { return list[r.r.IntN(len(list))] }
	var s []string
	switch {
	case q.refuse() || (q.sensitive() && p.Caution >= 1):
		s = append(s, pick(refusals))
	default:
		s = append(s, pick(openings))
		if r.r.Bernoulli(p.Noise / (p.Noise + 4)) {
			s = append(s, pick(q.wrong))
		} else {
			s = append(s, pick(q.correct))
		}
		if p.Politeness >= 1 {
			s = append(s, pick(closings))
		}
	}
	if p.Verbosity >= 0.5 {
		for _, i := range r.r.Perm(len(fillers))[:2] {
			s = append([]string{fillers[i]}, s...)
		}
	}
	return render(s)
}

// Review gives the rater's verdict on a flag (a lead's review): accept when the rater
// sees the flagged problem (unsafe content for "harmful", or a risky answer for a
// cautious rater; a wrong answer for "misleading"), else reject. A spammer decides at
// random.
func (r *Rater) Review(it *feedback.Item, flag feedback.Judgment, t int64) feedback.Judgment {
	j := r.begin(feedback.KindReview, flag.Item)
	j.Target = flag.ID
	text := ""
	if resp := it.Response(flag.Response); resp != nil {
		text = resp.Text
	}
	f := Analyze(it, text)
	var accept bool
	switch {
	case r.Profile.Spammer:
		accept = r.r.Bernoulli(0.5)
	case flag.Category == feedback.FlagHarmful:
		accept = f.Unsafe || (f.Risky && r.Profile.Caution >= 1)
	case flag.Category == feedback.FlagMisleading:
		accept = f.Wrong
	}
	j.Verdict = feedback.VerdictReject
	if accept {
		j.Verdict = feedback.VerdictAccept
	}
	r.finish(&j, t, f.Words+promptWords(it))
	return j
}

// reasons returns the reason tags the rater gives for disliking responses with the
// given features, in feedback.ReasonTags order. Raters give reasons 70% of the time,
// and only reasons their biases let them see.
func (r *Rater) reasons(fs ...Features) []string {
	p := r.Profile
	if p.Spammer || !r.r.Bernoulli(0.7) {
		return nil
	}
	has := map[string]bool{}
	for _, f := range fs {
		if !f.Correct && !f.Wrong && !f.Refusal && !f.Unsafe {
			has["too generic"] = true
		}
		if f.Offtopic > 0 {
			has["off-topic"] = true
		}
		if f.Unknown > 0 {
			has["unclear"] = true
		}
		if f.Wrong && !f.Correct && r.r.Bernoulli(1-p.AccuracyLoss) {
			has["factually wrong"] = true
		}
		if f.Filler+f.Repeats >= 2 && p.Verbosity < 0.3 {
			has["too long"] = true
		}
		if f.Unsafe || (f.Risky && p.Caution >= 1) {
			has["unsafe"] = true
		}
		if f.Refusal && !f.ShouldRefuse && p.Caution < 1 {
			has["over-cautious"] = true
		}
	}
	var out []string
	for _, tag := range feedback.ReasonTags {
		if has[tag] {
			out = append(out, tag)
		}
	}
	return out
}

func promptWords(it *feedback.Item) int {
	n := 0
	for _, t := range Tokenize(it.Prompt) {
		if isWord(t) {
			n++
		}
	}
	return n
}
