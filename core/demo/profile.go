package demo

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Profile describes a simulated rater: how much noise and which biases it has. A
// rater's perceived utility of a response is
//
//	u' = gold − AccuracyLoss·accuracy + Politeness·[polite] + Verbosity·(filler + repeats)
//	     + Caution·[sensitive or should-refuse prompt]·([refusal] − [risky])
//	     + Noise·(1 + Fatigue·(seq−1))·z,   z ~ N(0,1)
//
// where accuracy is the right/wrong part of gold (±2, Features.Accuracy) and seq is
// the position of the judgment in the rater's session. Caution acts only on prompts
// that sound risky: refusing to name a capital is not cautious, just unhelpful. In a comparison Position is
// added to the response shown on the left. See Rater for how u' becomes judgments.
type Profile struct {
	Name  string // display name, e.g. the preset name; "custom" when built from settings only
	Group string // rater group, for group-difference analyses ("expert", "crowd", …)

	Noise   float64 // standard deviation of the perception noise, in gold units (expert 0.15, crowd 0.5)
	Fatigue float64 // noise grows by this fraction per judgment in a session (tired 0.05: doubled after 20)

	Verbosity    float64 // bonus per filler (or redundant) sentence; gold charges −0.5 each (verbose 1.5, crowd 1)
	Position     float64 // bonus to the response shown on the left, or first in a ranking (position 1.5)
	Politeness   float64 // bonus for a polite response; gold gives +0.1 (polite 2)
	AccuracyLoss float64 // fraction of the right/wrong part of gold the rater misses, 0..1 (polite 0.75)
	Caution      float64 // on risky-sounding prompts: bonus for a refusal, penalty for an answer (cautious 2.5)

	Spammer bool // answers at random, fast, ignoring the content

	TieMargin    float64 // a comparison is a tie when |Δu'| < TieMargin (0.1–0.2)
	BothBadBelow float64 // a comparison is "both bad" when both u' are below this (presets −1.5)
	Pace         float64 // time multiplier for reading and answering; 1 typical, 0 means 1 (spammer 0.25)
}

// Presets are the named rater profiles: "unbiased" (noise only), "expert" (little
// noise), "noisy", "polite" (politeness over accuracy), "verbose", "cautious"
// (over-caution), "position" (prefers the left response), "tired" (fatigue), "spammer"
// (random), and "crowd" (a typical human rater with mild biases of every kind).
// ParseProfiles starts every entry from "unbiased" and applies presets and settings on
// top.
var Presets = map[string]Profile{
	"unbiased": {Name: "unbiased", Group: "crowd", Noise: 0.5, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 1},
	"crowd": {Name: "crowd", Group: "crowd", Noise: 0.6, Fatigue: 0.01, Verbosity: 1.5, Position: 0.3,
		Politeness: 0.8, AccuracyLoss: 0.4, Caution: 2, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 1},
	"expert":   {Name: "expert", Group: "expert", Noise: 0.15, TieMargin: 0.1, BothBadBelow: -1.5, Pace: 1.3},
	"noisy":    {Name: "noisy", Group: "crowd", Noise: 1.5, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 0.8},
	"polite":   {Name: "polite", Group: "crowd", Noise: 0.4, Politeness: 2, AccuracyLoss: 0.75, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 1},
	"verbose":  {Name: "verbose", Group: "crowd", Noise: 0.4, Verbosity: 1.5, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 1},
	"cautious": {Name: "cautious", Group: "crowd", Noise: 0.4, Caution: 2.5, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 1},
	"position": {Name: "position", Group: "crowd", Noise: 0.5, Position: 1.5, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 0.9},
	"tired":    {Name: "tired", Group: "crowd", Noise: 0.4, Fatigue: 0.05, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 1},
	"spammer":  {Name: "spammer", Group: "crowd", Noise: 0.5, Spammer: true, TieMargin: 0.15, BothBadBelow: -1.5, Pace: 0.25},
}

// PresetDescriptions says in one line what each preset does, for pickers and help text.
var PresetDescriptions = map[string]string{
	"unbiased": "sees gold through noise, no bias",
	"expert":   "little noise, no bias, careful and slower",
	"noisy":    "a lot of noise, no bias",
	"polite":   "loves politeness and misses most wrong answers: prefers polite-but-wrong",
	"verbose":  "rewards filler: prefers long answers that say little",
	"cautious": "rewards refusals on risky-sounding prompts: prefers refusing to answering",
	"position": "prefers whatever is shown on the left",
	"tired":    "gets noisier and slower as the session goes on",
	"spammer":  "clicks at random, fast",
	"crowd":    "a typical hurried rater: noisy, pays for length, misses many wrong answers, a little of every other bias",
}

// DefaultPanel is the panel Generate uses when Config.Raters is empty: one expert,
// seven "crowd" raters (a typical hurried human: noisy, biased every way at once, and
// above all by length — each filler sentence adds as much to how good an answer looks
// to them as to a "verbose" rater, as length bias is the strongest bias measured in
// human preference data), and one each of the politeness, verbosity and caution
// biases, the position bias, a tired rater and a spammer. On average this panel
// prefers a right answer padded with filler to a concise one, and a refusal to a
// risky-but-right answer, so a reward model trained on its judgments is hacked: the
// lesson's PPO run at a small β gives back almost all the gold it gained (see
// TestPanelBias, TestRewardHackingHappens and core/lesson).
const DefaultPanel = "expert,7*crowd,polite,verbose,cautious,position,tired,spammer"

// PresetNames returns the preset names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// setting is one key of the --raters syntax.
type setting struct {
	key  string
	help string
	set  func(p *Profile, v string) error
}

var settings = []setting{
	{"name", "display name", func(p *Profile, v string) error { return label(&p.Name, v) }},
	{"group", "rater group", func(p *Profile, v string) error { return label(&p.Group, v) }},
	{"noise", "noise sd ≥ 0", floatSetting(func(p *Profile) *float64 { return &p.Noise }, 0, 100)},
	{"fatigue", "noise growth per judgment ≥ 0", floatSetting(func(p *Profile) *float64 { return &p.Fatigue }, 0, 10)},
	{"verbosity", "bonus per filler sentence", floatSetting(func(p *Profile) *float64 { return &p.Verbosity }, -100, 100)},
	{"position", "bonus for the left response", floatSetting(func(p *Profile) *float64 { return &p.Position }, -100, 100)},
	{"politeness", "bonus for politeness", floatSetting(func(p *Profile) *float64 { return &p.Politeness }, -100, 100)},
	{"accuracy-loss", "fraction of correctness missed, 0..1", floatSetting(func(p *Profile) *float64 { return &p.AccuracyLoss }, 0, 1)},
	{"caution", "bonus for refusals, penalty for risky answers", floatSetting(func(p *Profile) *float64 { return &p.Caution }, -100, 100)},
	{"spammer", "true or false", func(p *Profile, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		p.Spammer = b
		return nil
	}},
	{"tie", "tie margin ≥ 0", floatSetting(func(p *Profile) *float64 { return &p.TieMargin }, 0, 100)},
	{"both-bad", "both-bad threshold", floatSetting(func(p *Profile) *float64 { return &p.BothBadBelow }, -100, 100)},
	{"pace", "time multiplier > 0", floatSetting(func(p *Profile) *float64 { return &p.Pace }, 0.01, 100)},
}

// label sets a name or group: non-empty, without the separators of the syntax.
func label(dst *string, v string) error {
	if v == "" || strings.ContainsAny(v, ",;=*") {
		return fmt.Errorf("%q must be non-empty and without , ; = *", v)
	}
	*dst = v
	return nil
}

func floatSetting(field func(*Profile) *float64, lo, hi float64) func(*Profile, string) error {
	return func(p *Profile, v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%q is not a number", v)
		}
		if x < lo || x > hi {
			return fmt.Errorf("%v is out of range [%v, %v]", x, lo, hi)
		}
		*field(p) = x
		return nil
	}
}

func settingKeys() string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return strings.Join(keys, ", ")
}

// Limits of ParseProfiles.
const (
	MaxRaterCount = 100  // largest COUNT of one entry
	MaxRaters     = 1000 // most raters in one spec
)

// ParseProfiles parses a rater panel spec (the --raters flag):
//
//	SPEC  = ENTRY { "," ENTRY }
//	ENTRY = [ COUNT "*" ] TERM { ";" TERM }
//	TERM  = PRESET | KEY "=" VALUE
//
// Each entry starts from the "unbiased" preset; its terms apply left to right, a
// preset replacing the whole profile and a setting changing one field; COUNT (1–100)
// repeats the entry. Keys: name, group, noise, fatigue, verbosity, position,
// politeness, accuracy-loss, caution, spammer, tie, both-bad, pace. Spaces around
// terms are ignored. Examples:
//
//	expert,2*polite,spammer          one expert, two politeness-biased raters, a spammer
//	3*noise=0.8;verbosity=0.5        three raters with noise 0.8 and a verbosity bias
//	tired;fatigue=0.1;name=night     a very tired rater named "night"
//
// Errors name the entry and say what is wrong.
func ParseProfiles(spec string) ([]Profile, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("rater spec is empty; give presets like %q", DefaultPanel)
	}
	var out []Profile
	for i, entry := range strings.Split(spec, ",") {
		p, count, err := parseEntry(strings.TrimSpace(entry))
		if err != nil {
			return nil, fmt.Errorf("rater entry %d %q: %w", i+1, strings.TrimSpace(entry), err)
		}
		if len(out)+count > MaxRaters {
			return nil, fmt.Errorf("rater spec asks for more than %d raters", MaxRaters)
		}
		for k := 0; k < count; k++ {
			out = append(out, p)
		}
	}
	return out, nil
}

func parseEntry(entry string) (Profile, int, error) {
	if entry == "" {
		return Profile{}, 0, fmt.Errorf("empty entry (two commas in a row?)")
	}
	count := 1
	if star := strings.Index(entry, "*"); star >= 0 {
		c := strings.TrimSpace(entry[:star])
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > MaxRaterCount {
			return Profile{}, 0, fmt.Errorf("count %q must be a whole number from 1 to %d", c, MaxRaterCount)
		}
		count = n
		entry = strings.TrimSpace(entry[star+1:])
	}
	p := Presets["unbiased"]
	named := false
	for _, term := range strings.Split(entry, ";") {
		term = strings.TrimSpace(term)
		if term == "" {
			return Profile{}, 0, fmt.Errorf("empty term (two semicolons in a row?)")
		}
		key, val, isSetting := strings.Cut(term, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !isSetting {
			pre, ok := Presets[key]
			if !ok {
				return Profile{}, 0, fmt.Errorf("unknown preset %q (presets: %s; or KEY=VALUE with keys %s)",
					term, strings.Join(PresetNames(), ", "), settingKeys())
			}
			p = pre
			named = true
			continue
		}
		val = strings.TrimSpace(val)
		found := false
		for _, s := range settings {
			if s.key == key {
				found = true
				if err := s.set(&p, val); err != nil {
					return Profile{}, 0, fmt.Errorf("%s: %w", key, err)
				}
				if key == "name" {
					named = true
				}
			}
		}
		if !found {
			return Profile{}, 0, fmt.Errorf("unknown setting %q (keys: %s)", key, settingKeys())
		}
	}
	if !named {
		p.Name = "custom"
	}
	return p, count, nil
}

// Check reports the first field that is out of range (what ParseProfiles accepts), so
// that a profile built in code fails as clearly as one parsed from a spec.
func (p Profile) Check() error {
	fields := []struct {
		key    string
		v      float64
		lo, hi float64
	}{
		{"noise", p.Noise, 0, 100}, {"fatigue", p.Fatigue, 0, 10}, {"verbosity", p.Verbosity, -100, 100},
		{"position", p.Position, -100, 100}, {"politeness", p.Politeness, -100, 100},
		{"accuracy-loss", p.AccuracyLoss, 0, 1}, {"caution", p.Caution, -100, 100},
		{"tie", p.TieMargin, 0, 100}, {"both-bad", p.BothBadBelow, -100, 100}, {"pace", p.Pace, 0, 100},
	}
	for _, f := range fields {
		if math.IsNaN(f.v) || f.v < f.lo || f.v > f.hi {
			return fmt.Errorf("profile %q: %s %v is out of range [%v, %v]", p.Name, f.key, f.v, f.lo, f.hi)
		}
	}
	return nil
}

// String renders the profile in the ParseProfiles syntax with every field, so that
// ParseProfiles(p.String()) gives p back for every profile ParseProfiles returns.
// feedback.Rater.Profile records it. An empty name or group is left out.
func (p Profile) String() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	var terms []string
	if p.Name != "" {
		terms = append(terms, "name="+p.Name)
	}
	if p.Group != "" {
		terms = append(terms, "group="+p.Group)
	}
	return strings.Join(append(terms,
		"noise="+f(p.Noise), "fatigue="+f(p.Fatigue),
		"verbosity="+f(p.Verbosity), "position="+f(p.Position),
		"politeness="+f(p.Politeness), "accuracy-loss="+f(p.AccuracyLoss),
		"caution="+f(p.Caution), "spammer="+strconv.FormatBool(p.Spammer),
		"tie="+f(p.TieMargin), "both-bad="+f(p.BothBadBelow), "pace="+f(p.Pace),
	), ";")
}
