package reward

import (
	"fmt"
	"math"
	"strings"

	"prefer/core/snapshot"
)

// ToSnapshot stores a model as a snapshot.Model named name with the given metrics:
// family, configuration (feature settings, tie threshold, tabular ids) and float32
// tensors. Tensors per family:
//
//	linear   w (F), b (1)
//	mlp      w1 (F, H), b1 (H), w2 (H), b2 (1)
//	tabular  scores (N), se (N); config items and responses give each entry's ids
//	ensemble the members' tensors prefixed "m<k>/"; config "members" lists their configs
//
// It panics on a Model type this package did not make (a programmer error).
func ToSnapshot(m Model, name string, metrics map[string]float64) snapshot.Model {
	cfg, tensors := encodeModel(m)
	return snapshot.Model{Name: name, Family: m.Family(), Config: cfg, Tensors: tensors, Metrics: metrics}
}

func encodeModel(m Model) (map[string]any, map[string]snapshot.Tensor) {
	switch x := m.(type) {
	case *Linear:
		cfg := featureConfigMap(x.Features)
		cfg["eta"] = x.Eta
		F := x.Features.Width()
		return cfg, map[string]snapshot.Tensor{
			"w": {Shape: []int{F}, Data: append([]float32(nil), x.W...)},
			"b": {Shape: []int{1}, Data: []float32{x.B}},
		}
	case *MLP:
		cfg := featureConfigMap(x.Features)
		cfg["eta"] = x.Eta
		cfg["hidden"] = x.Hidden
		F, H := x.Features.Width(), x.Hidden
		return cfg, map[string]snapshot.Tensor{
			"w1": {Shape: []int{F, H}, Data: append([]float32(nil), x.W1...)},
			"b1": {Shape: []int{H}, Data: append([]float32(nil), x.B1...)},
			"w2": {Shape: []int{H}, Data: append([]float32(nil), x.W2...)},
			"b2": {Shape: []int{1}, Data: []float32{x.B2}},
		}
	case *Tabular:
		cfg := map[string]any{
			"items": append([]string(nil), x.Items...), "responses": append([]string(nil), x.Responses...),
			"eta": x.Eta, "alpha": x.Alpha,
		}
		se := make([]float32, len(x.SE))
		for i, v := range x.SE {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				v = -1 // unknown
			}
			se[i] = v
		}
		return cfg, map[string]snapshot.Tensor{
			"scores": {Shape: []int{len(x.Scores)}, Data: append([]float32(nil), x.Scores...)},
			"se":     {Shape: []int{len(se)}, Data: se},
		}
	case *Ensemble:
		var configs []any
		tensors := map[string]snapshot.Tensor{}
		for k, mm := range x.Members {
			c, ts := encodeModel(mm)
			c["family"] = mm.Family()
			configs = append(configs, c)
			for name, t := range ts {
				tensors[fmt.Sprintf("m%d/%s", k, name)] = t
			}
		}
		return map[string]any{"members": configs, "member_family": x.MemberFamily()}, tensors
	}
	panic(fmt.Sprintf("reward: ToSnapshot of a %T", m))
}

func featureConfigMap(c FeatureConfig) map[string]any {
	c = c.withDefaults()
	return map[string]any{
		"dim": c.Dim, "word_n": c.WordN, "char_min": c.CharMin, "char_max": c.CharMax,
		"sentences": !c.NoSentences, "cross": c.Cross, "length": !c.NoLength,
	}
}

// FromSnapshot rebuilds a model stored by ToSnapshot. It checks every shape against
// the configuration and returns an error naming what is wrong.
func FromSnapshot(sm snapshot.Model) (Model, error) {
	m, err := decodeModel(sm.Family, sm.Config, sm.Tensors, "")
	if err != nil {
		return nil, fmt.Errorf("load reward model %q: %w", sm.Name, err)
	}
	return m, nil
}

// IsReward reports whether a stored model is a reward model of this package.
func IsReward(sm snapshot.Model) bool {
	switch sm.Family {
	case FamilyTabular, FamilyLinear, FamilyMLP, FamilyEnsemble:
		return true
	}
	return false
}

func decodeModel(family string, cfg map[string]any, ts map[string]snapshot.Tensor, prefix string) (Model, error) {
	c := configReader{m: cfg}
	tensor := func(name string, shape ...int) ([]float32, error) {
		t, ok := ts[prefix+name]
		if !ok {
			return nil, fmt.Errorf("tensor %q is missing", prefix+name)
		}
		if len(t.Shape) != len(shape) {
			return nil, fmt.Errorf("tensor %q has shape %v, want %v", prefix+name, t.Shape, shape)
		}
		for i := range shape {
			if t.Shape[i] != shape[i] {
				return nil, fmt.Errorf("tensor %q has shape %v, want %v", prefix+name, t.Shape, shape)
			}
		}
		if len(t.Data) != t.Size() {
			return nil, fmt.Errorf("tensor %q has %d values for shape %v", prefix+name, len(t.Data), t.Shape)
		}
		return t.Data, nil
	}
	switch family {
	case FamilyLinear, FamilyMLP:
		fc := FeatureConfig{
			Dim: c.int("dim"), WordN: c.int("word_n"), CharMin: c.int("char_min"), CharMax: c.int("char_max"),
			NoSentences: !c.bool("sentences", true), Cross: c.bool("cross", false), NoLength: !c.bool("length", true),
		}
		if c.err != nil {
			return nil, c.err
		}
		if fc.Dim <= 0 {
			return nil, fmt.Errorf("feature dimension %d: must be positive", fc.Dim)
		}
		if err := fc.check(); err != nil {
			return nil, err
		}
		F := fc.Width()
		eta := c.float("eta")
		if family == FamilyLinear {
			w, err := tensor("w", F)
			if err != nil {
				return nil, err
			}
			b, err := tensor("b", 1)
			if err != nil {
				return nil, err
			}
			return &Linear{Features: fc, W: w, B: b[0], Eta: eta}, c.err
		}
		H := c.int("hidden")
		if H <= 0 || H > 4096 || F*H > 1<<26 {
			return nil, fmt.Errorf("hidden width %d is out of range", H)
		}
		w1, err := tensor("w1", F, H)
		if err != nil {
			return nil, err
		}
		b1, err := tensor("b1", H)
		if err != nil {
			return nil, err
		}
		w2, err := tensor("w2", H)
		if err != nil {
			return nil, err
		}
		b2, err := tensor("b2", 1)
		if err != nil {
			return nil, err
		}
		return &MLP{Features: fc, Hidden: H, W1: w1, B1: b1, W2: w2, B2: b2[0], Eta: eta}, c.err
	case FamilyTabular:
		items, responses := c.strings("items"), c.strings("responses")
		if c.err != nil {
			return nil, c.err
		}
		if len(items) != len(responses) {
			return nil, fmt.Errorf("config lists %d items but %d responses", len(items), len(responses))
		}
		scores, err := tensor("scores", len(items))
		if err != nil {
			return nil, err
		}
		se, err := tensor("se", len(items))
		if err != nil {
			return nil, err
		}
		se = append([]float32(nil), se...)
		for i, v := range se {
			if v < 0 {
				se[i] = float32(math.NaN())
			}
		}
		t := &Tabular{Items: items, Responses: responses, Scores: scores, SE: se, Eta: c.float("eta"), Alpha: c.float("alpha")}
		t.index()
		return t, c.err
	case FamilyEnsemble:
		list, ok := cfg["members"].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("an ensemble needs a non-empty config list \"members\"")
		}
		if len(list) > 64 {
			return nil, fmt.Errorf("an ensemble of %d members: at most 64", len(list))
		}
		e := &Ensemble{}
		for k, v := range list {
			mc, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("member %d: config is not a map", k)
			}
			fam, _ := mc["family"].(string)
			if fam == FamilyEnsemble {
				return nil, fmt.Errorf("member %d: an ensemble cannot contain an ensemble", k)
			}
			m, err := decodeModel(fam, mc, ts, fmt.Sprintf("%sm%d/", prefix, k))
			if err != nil {
				return nil, fmt.Errorf("member %d: %w", k, err)
			}
			e.Members = append(e.Members, m)
		}
		return e, nil
	}
	return nil, fmt.Errorf("unknown reward model family %q (known: %s)", family, strings.Join(Families, ", "))
}

// configReader reads typed values from a decoded configuration map, keeping the
// first error.
type configReader struct {
	m   map[string]any
	err error
}

func (c *configReader) fail(key, want string, v any) {
	if c.err == nil {
		c.err = fmt.Errorf("config %q is %T, want %s", key, v, want)
	}
}

func (c *configReader) int(key string) int {
	switch v := c.m[key].(type) {
	case int:
		return v
	case int64:
		if v < math.MinInt32 || v > math.MaxInt32 {
			c.fail(key, "a small integer", v)
			return 0
		}
		return int(v)
	case uint64:
		if v > math.MaxInt32 {
			c.fail(key, "a small integer", v)
			return 0
		}
		return int(v)
	case nil:
		return 0
	default:
		c.fail(key, "an integer", v)
		return 0
	}
}

func (c *configReader) float(key string) float64 {
	switch v := c.m[key].(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	case int64:
		return float64(v)
	case int:
		return float64(v)
	case nil:
		return 0
	default:
		c.fail(key, "a number", v)
		return 0
	}
}

func (c *configReader) bool(key string, def bool) bool {
	switch v := c.m[key].(type) {
	case bool:
		return v
	case nil:
		return def
	default:
		c.fail(key, "a boolean", v)
		return def
	}
}

func (c *configReader) strings(key string) []string {
	switch v := c.m[key].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				c.fail(key, "a list of strings", e)
				return nil
			}
			out[i] = s
		}
		return out
	case nil:
		return nil
	default:
		c.fail(key, "a list of strings", v)
		return nil
	}
}
