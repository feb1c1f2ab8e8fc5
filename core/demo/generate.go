package demo

import (
	"fmt"

	"prefer/core/feedback"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

// Epoch is the simulated clock's start: 2024-01-01T00:00:00Z in unix milliseconds.
// Simulated judgments are timed from it, so nothing comes from the real clock.
const Epoch int64 = 1704067200000

// Config says what Generate simulates. The zero value (apart from Seed) gives the
// default dataset.
type Config struct {
	Seed uint64 // everything is a pure function of it

	// Items is the number of prompts; default 60 (about 10 should-refuse, 8 sensitive).
	Items int
	// Raters is the panel; default ParseProfiles(DefaultPanel), 14 raters.
	Raters []Profile
	// Overlap is how many raters see each item; default 3 (enough for agreement
	// statistics); at most len(Raters).
	Overlap int
	// Kinds are the judgment kinds to simulate; default all of feedback.Kinds. They
	// are mixed by fixed weights, mostly compare (see kindWeight); reviews are made by
	// the panel's lead (its least noisy non-spammer) on the others' flags.
	Kinds []feedback.Kind
	// PerItem is the number of judgments a rater makes on each assigned item; default 5.
	PerItem int
	// SessionLen is the number of judgments in a session before a break (fatigue
	// restarts); default 40.
	SessionLen int
}

// kindWeight is the mix of judgment kinds per assignment.
var kindWeight = map[feedback.Kind]float64{
	feedback.KindCompare: 0.70, feedback.KindRank: 0.10, feedback.KindRate: 0.08,
	feedback.KindThumb: 0.05, feedback.KindFlag: 0.04, feedback.KindRewrite: 0.03,
}

// Limits of Config.
const (
	MaxItems   = 20000
	MaxPerItem = 1000
)

// Dataset is a simulated feedback dataset: items with candidate responses (gold
// utilities known), the simulated raters, their judgments in canonical log order, and
// the labeling guideline.
type Dataset struct {
	Items      []feedback.Item
	Raters     []feedback.Rater
	Judgments  []feedback.Judgment
	Guidelines []feedback.Guideline
}

// Snapshot returns the dataset as a snapshot with empty provenance.
func (d *Dataset) Snapshot() *snapshot.Snapshot {
	return &snapshot.Snapshot{Items: d.Items, Raters: d.Raters, Judgments: d.Judgments, Guidelines: d.Guidelines}
}

// Guideline is the labeling guideline of the demo domain (version 1).
const Guideline = `Labeling guideline, version 1.

1. Correct first. A response that answers the request correctly beats one that does
   not, however it is worded. Check facts and numbers (for conversions, do the
   arithmetic). Mark wrong answers "factually wrong"; flag them "misleading".
2. Refuse only what should be refused. Requests for help with harm to others (breaking
   into homes, stealing, weapons, cheating, reading other people's messages) should be
   refused; a refusal is then the best response, and any instructions are "unsafe" and
   must be flagged "harmful". Safety questions (a pan fire, a burn, a kitchen knife)
   deserve a correct answer: refusing them is "over-cautious".
3. Short beats padded. Sentences that say nothing ("many people ask about this") make a
   response worse, not better: tag "too long". Hedges without reason ("i may be wrong")
   make it slightly worse.
4. Politeness is nice, not a substitute. Prefer a polite correct answer to a curt
   correct one, but never a polite wrong answer to a curt correct one.
5. Left or right does not matter. Judge content, not position. Use "tie" when two
   responses are equally good and "both bad" when neither is acceptable.
6. Take breaks. Quality drops in long sessions; stop when the break reminder appears.`

// Generate simulates a feedback dataset, a pure function of cfg: Prompts(cfg.Seed,
// Items) judged by the panel. Each item goes to Overlap raters (a balanced rotation of
// a shuffled panel); each rater works through its items in its own shuffled order,
// making PerItem judgments on each, kinds drawn by kindWeight among cfg.Kinds:
// compare (two random candidates), rank (four), rate (a random axis), thumb, flag (the
// first candidate the rater objects to, or a thumb if none) and rewrite (of a poor
// candidate). Times run on the simulated clock from Epoch, with a break of 1–3 hours
// every SessionLen judgments. Judgment ids are "s<seed>-<rater>-<counter>".
func Generate(cfg Config) (*Dataset, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	items := Prompts(cfg.Seed, cfg.Items)
	d := &Dataset{Items: items, Guidelines: []feedback.Guideline{{Version: 1, Text: Guideline, Time: Epoch}}}
	sims := make([]*Rater, len(cfg.Raters))
	for i, p := range cfg.Raters {
		id := fmt.Sprintf("r%02d", i+1)
		d.Raters = append(d.Raters, feedback.Rater{ID: id, Name: p.Name, Group: p.Group, Kind: feedback.RaterSimulated, Profile: p.String()})
		sims[i] = NewRater(p, id, cfg.Seed)
	}
	root := rng.New(cfg.Seed).Split("generate")
	panel := root.Perm(len(sims))
	assigned := make([][]int, len(sims)) // rater → item indices
	for i := range items {
		for k := 0; k < cfg.Overlap; k++ {
			r := panel[(i*cfg.Overlap+k)%len(sims)]
			assigned[r] = append(assigned[r], i)
		}
	}
	var kinds []feedback.Kind
	var weights []float64
	review := false
	for _, k := range cfg.Kinds {
		if k == feedback.KindReview {
			review = true
			continue
		}
		kinds = append(kinds, k)
		weights = append(weights, kindWeight[k])
	}
	var all []feedback.Judgment
	var last int64
	for ri, sim := range sims {
		r := root.Split("rater/" + sim.ID)
		order := r.Perm(len(assigned[ri]))
		clock := Epoch + int64(ri)*11*60000 // raters start eleven minutes apart
		session := 1
		for _, oi := range order {
			it := &items[assigned[ri][oi]]
			for k := 0; k < cfg.PerItem && len(kinds) > 0; k++ {
				if sim.Seq >= cfg.SessionLen {
					session++
					sim.StartSession(fmt.Sprintf("%s-%d", sim.ID, session))
					clock += 3600000 + int64(r.IntN(7200000))
				}
				clock += 1000 + int64(r.IntN(3000)) // between items
				j := simulate(sim, r, it, kinds[r.Categorical(weights)], clock)
				clock = j.Time
				all = append(all, j)
			}
		}
		last = max(last, clock)
	}
	if review {
		all = append(all, reviews(d, sims, all, last)...)
	}
	d.Judgments = append([]feedback.Judgment(nil), feedback.NewLog(all...).All()...)
	return d, nil
}

// Defaults of Config (and of `prefer demo`'s flags).
const (
	DefaultItems   = 60 // prompts
	DefaultOverlap = 3  // raters per item (at most the panel's size)
)

func withDefaults(cfg Config) (Config, error) {
	if cfg.Items == 0 {
		cfg.Items = DefaultItems
	}
	if cfg.Items < 0 || cfg.Items > MaxItems {
		return cfg, fmt.Errorf("demo: %d items is out of range 1..%d", cfg.Items, MaxItems)
	}
	if len(cfg.Raters) == 0 {
		ps, err := ParseProfiles(DefaultPanel)
		if err != nil {
			return cfg, err
		}
		cfg.Raters = ps
	}
	for i, p := range cfg.Raters {
		if err := p.Check(); err != nil {
			return cfg, fmt.Errorf("demo: rater %d: %w", i+1, err)
		}
	}
	if cfg.Overlap == 0 {
		cfg.Overlap = min(DefaultOverlap, len(cfg.Raters))
	}
	if cfg.Overlap < 0 || cfg.Overlap > len(cfg.Raters) {
		return cfg, fmt.Errorf("demo: overlap %d needs at least that many raters, and the panel has %d; lower the overlap or add raters",
			cfg.Overlap, len(cfg.Raters))
	}
	if len(cfg.Kinds) == 0 {
		cfg.Kinds = feedback.Kinds
	}
	for _, k := range cfg.Kinds {
		if _, ok := kindWeight[k]; !ok && k != feedback.KindReview {
			return cfg, fmt.Errorf("demo: unknown judgment kind %q (kinds: %v)", k, feedback.Kinds)
		}
	}
	if cfg.PerItem == 0 {
		cfg.PerItem = 5
	}
	if cfg.PerItem < 0 || cfg.PerItem > MaxPerItem {
		return cfg, fmt.Errorf("demo: %d judgments per item is out of range 1..%d", cfg.PerItem, MaxPerItem)
	}
	if cfg.SessionLen <= 0 {
		cfg.SessionLen = 40
	}
	return cfg, nil
}

// simulate makes one judgment of the given kind by sim on it, shown at time t.
func simulate(sim *Rater, r *rng.RNG, it *feedback.Item, kind feedback.Kind, t int64) feedback.Judgment {
	n := len(it.Responses)
	pick := func() string { return it.Responses[r.IntN(n)].ID }
	if n < 2 && kind != feedback.KindThumb {
		kind = feedback.KindThumb // nothing to compare; a thumb still works
	}
	switch kind {
	case feedback.KindCompare:
		p := r.Perm(n)
		return sim.Compare(it, it.Responses[p[0]].ID, it.Responses[p[1]].ID, t)
	case feedback.KindRank:
		p := r.Perm(n)[:min(4, n)]
		ids := make([]string, len(p))
		for k, idx := range p {
			ids[k] = it.Responses[idx].ID
		}
		return sim.Rank(it, ids, t)
	case feedback.KindRate:
		return sim.Rate(it, pick(), feedback.Axes[r.IntN(len(feedback.Axes))], t)
	case feedback.KindFlag:
		for _, idx := range r.Perm(n) {
			if j, ok := sim.Flag(it, it.Responses[idx].ID, t); ok {
				return j
			}
		}
		return sim.Thumb(it, pick(), t)
	case feedback.KindRewrite:
		var poor []string
		for _, resp := range it.Responses {
			if resp.Gold != nil && *resp.Gold < 1 {
				poor = append(poor, resp.ID)
			}
		}
		if len(poor) == 0 {
			return sim.Rewrite(it, pick(), t)
		}
		return sim.Rewrite(it, poor[r.IntN(len(poor))], t)
	}
	return sim.Thumb(it, pick(), t)
}

// reviews has the panel's lead (the least noisy non-spammer) review every flag made by
// someone else, in log order, in a session that starts an hour after the last judgment.
func reviews(d *Dataset, sims []*Rater, js []feedback.Judgment, after int64) []feedback.Judgment {
	lead := -1
	for i, s := range sims {
		if !s.Profile.Spammer && (lead < 0 || s.Profile.Noise < sims[lead].Profile.Noise) {
			lead = i
		}
	}
	if lead < 0 {
		return nil
	}
	sim := sims[lead]
	sim.StartSession(sim.ID + "-review")
	ix := feedback.NewIndex(d.Items, nil)
	var out []feedback.Judgment
	clock := after + 3600000
	for _, f := range feedback.NewLog(js...).All() {
		if f.Kind != feedback.KindFlag || f.Rater == sim.ID {
			continue
		}
		j := sim.Review(ix.Items[f.Item], f, clock)
		clock = j.Time + 1000
		out = append(out, j)
	}
	return out
}
