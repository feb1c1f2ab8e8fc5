package policy

import (
	"fmt"
	"math"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/snapshot"
)

// FamilyCandidate is the snapshot model family of a trained candidate policy.
const FamilyCandidate = "candidate-policy"

// Model returns the candidate policy as a snapshot model of family
// "candidate-policy":
//
//	Tensors["logp"]     (K)   log π(k|x), normalized per item, item after item
//	Tensors["ref_logp"] (K)   log π_ref(k|x)
//	Tensors["offsets"]  (P+1) start of each item's candidates (exact as f32 below 2^24)
//	Config["items"]     []string, the P item ids
//	Config["responses"] []string, the K response ids, item after item
//
// so a reader can show before/after probabilities of every response without the
// optimizer. Metrics are left for the caller (the run's summary).
func (c *Candidate) Model(name, run string) snapshot.Model {
	k := len(c.Logits)
	logp := make([]float32, k)
	ref := make([]float32, k)
	off := make([]float32, len(c.Off))
	ids := make([]string, len(c.items))
	resp := make([]string, 0, k)
	for p := range c.items {
		c.refresh(p)
		for j := c.Off[p]; j < c.Off[p+1]; j++ {
			logp[j] = float32(c.Logits[j] - c.logZ[p])
			ref[j] = float32(c.RefLog[j])
		}
		ids[p] = c.items[p].ID
		for _, r := range c.items[p].Responses {
			resp = append(resp, r.ID)
		}
	}
	for i, o := range c.Off {
		off[i] = float32(o)
	}
	return snapshot.Model{
		Name:   name,
		Family: FamilyCandidate,
		Config: map[string]any{"items": ids, "responses": resp},
		Tensors: map[string]snapshot.Tensor{
			"logp":     {Shape: []int{k}, Data: logp},
			"ref_logp": {Shape: []int{k}, Data: ref},
			"offsets":  {Shape: []int{len(off)}, Data: off},
		},
		Metrics: map[string]float64{},
		Run:     run,
	}
}

// CandidateFromModel rebuilds a candidate policy over items from a saved model
// (see Candidate.Model): items and responses are matched by id, so the items may be
// in another order; an item or response the model does not know is an error. The
// reference is the saved one.
func CandidateFromModel(m *snapshot.Model, items []feedback.Item) (*Candidate, error) {
	if m.Family != FamilyCandidate {
		return nil, fmt.Errorf("model %q is a %q model, not a candidate policy", m.Name, m.Family)
	}
	ids, ok1 := stringList(m.Config["items"])
	resp, ok2 := stringList(m.Config["responses"])
	logp, ref, off := m.Tensors["logp"], m.Tensors["ref_logp"], m.Tensors["offsets"]
	if !ok1 || !ok2 || len(off.Data) != len(ids)+1 || len(logp.Data) != len(resp) || len(ref.Data) != len(resp) {
		return nil, fmt.Errorf("candidate policy %q is malformed: its items, responses and tensors do not match; re-run optimize", m.Name)
	}
	at := make(map[string]int, len(resp))
	for p, id := range ids {
		lo, hi := int(off.Data[p]), int(off.Data[p+1])
		if lo < 0 || hi < lo || hi > len(resp) {
			return nil, fmt.Errorf("candidate policy %q has bad offsets", m.Name)
		}
		for j := lo; j < hi; j++ {
			at[id+"\x00"+resp[j]] = j
		}
	}
	c, err := NewCandidate(items, CandidateConfig{})
	if err != nil {
		return nil, err
	}
	for p := range items {
		for k, r := range items[p].Responses {
			j, ok := at[items[p].ID+"\x00"+r.ID]
			if !ok {
				return nil, fmt.Errorf("candidate policy %q does not know response %s of item %q; optimize again on this data", m.Name, r.ID, items[p].ID)
			}
			lp, lr := float64(logp.Data[j]), float64(ref.Data[j])
			if math.IsNaN(lp) || math.IsNaN(lr) || math.IsInf(lp, 0) || math.IsInf(lr, 0) {
				return nil, fmt.Errorf("candidate policy %q holds non-finite log-probabilities; re-run optimize", m.Name)
			}
			c.Logits[c.Off[p]+k] = lp
			c.RefLog[c.Off[p]+k] = lr
		}
		// Renormalize the reference over the responses present.
		row := c.RefLog[c.Off[p]:c.Off[p+1]]
		z := num.LogSumExp(row)
		for j := range row {
			row[j] -= z
		}
	}
	c.refreshRef()
	c.version++
	return c, nil
}

func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// DumpRow is one line of `prefer optimize --dump`: a response of an item with its
// reference probability, the reward it was optimized against and its final
// probability (`prefer optimize --dump`, docs/policy.md).
type DumpRow struct {
	Item    string  `json:"item"`
	Resp    string  `json:"response"`
	RefProb float64 `json:"ref_prob"`
	Reward  float64 `json:"reward"`
	Prob    float64 `json:"prob"`
}

// Dump returns one row per (item, response) of an Exact policy, with the rewards of
// t (a proxy Table, or ImplicitRewards for DPO). Response is the response id.
func Dump(p Exact, t Table) []DumpRow {
	items := p.Items()
	var out []DumpRow
	for q := range items {
		k := len(items[q].Responses)
		pr := p.Probs(make([]float64, k), q)
		ref := p.RefProbs(make([]float64, k), q)
		row := t.Row(q)
		for j, r := range items[q].Responses {
			out = append(out, DumpRow{Item: items[q].ID, Resp: r.ID, RefProb: ref[j], Reward: row[j], Prob: pr[j]})
		}
	}
	return out
}

// DumpKL returns the mean over items of KL(prob‖ref_prob) of dump rows: what anyone
// can recompute from the --dump file to check the reported KL.
func DumpKL(rows []DumpRow) float64 {
	var kl float64
	items := 0
	for i := 0; i < len(rows); {
		j := i
		var s float64
		for j < len(rows) && rows[j].Item == rows[i].Item {
			if rows[j].Prob > 0 {
				s += float64(rows[j].Prob * (num.Log(rows[j].Prob) - num.Log(rows[j].RefProb)))
			}
			j++
		}
		kl += s
		items++
		i = j
	}
	if items == 0 {
		return Unknown
	}
	return kl / float64(items)
}
