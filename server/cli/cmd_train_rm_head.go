package cli

import (
	"fmt"
	"io"
	"math"
	"strings"

	"prefer/core/lm"
	"prefer/core/num"
	"prefer/core/snapshot"
)

// headReport is the JSON of `prefer train-rm --model head --json`.
type headReport struct {
	Output   string               `json:"output"`
	OutputID string               `json:"output_id"`
	Model    string               `json:"model"`
	Family   string               `json:"family"`
	Seed     uint64               `json:"seed"`
	Ref      string               `json:"ref"`
	Metrics  map[string]num.Float `json:"metrics"`
	Loss     []num.Float          `json:"train_loss"`
	TrainN   int                  `json:"train_pairs"`
	HeldOutN int                  `json:"heldout_pairs"`
}

// trainHeadRM trains the reward-model family "head": a Bradley–Terry reward head on
// the last hidden state of the reference language model (core/lm). It lives here
// rather than in core/reward because core/reward cannot import core/lm.
func trainHeadRM(s *snapshot.Snapshot, parentID, out, name, refPath string, seed uint64, holdout float64, args []string, asJSON bool, stdout, stderr io.Writer) error {
	ref, where, err := loadRefLM(s, refPath)
	if err != nil {
		return err
	}
	res, err := lm.TrainHead(ref, s.Items, s.Judgments, lm.HeadConfig{Seed: seed, Holdout: headHoldout(holdout)})
	if err != nil {
		return fmt.Errorf("train reward head: %w", err)
	}
	if name == "" {
		name = "rm-" + lm.FamilyHead
	}
	sm := res.Head.ToSnapshot(name, res.Run.Summary)
	sm.Run = name
	run := res.Run
	run.Name = name
	run.Seed = seed
	s.PutModel(sm)
	s.PutRun(run)
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: parentID, Seed: seed,
		Command: "prefer train-rm " + strings.Join(args, " ")}
	id, err := writeSnapshot(out, s, stdout)
	if err != nil {
		return err
	}
	rep := headReport{Output: out, OutputID: id, Model: name, Family: lm.FamilyHead, Seed: seed, Ref: where,
		Metrics: map[string]num.Float{}, Loss: num.Floats(res.LossCurve), TrainN: res.NTrain, HeldOutN: res.NHeld}
	for k, v := range res.Run.Summary {
		rep.Metrics[k] = num.Float(v)
	}
	if asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(messages(out, stdout, stderr), "%s: head model %q on %s, held-out accuracy %s, training accuracy %s (%d train / %d held-out pairs, seed %d)\n",
		outputName(out), name, where, pct(res.HeldAcc), pct(res.TrainAcc), res.NTrain, res.NHeld, seed)
	return nil
}

// headHoldout maps the CLI's --holdout (0 = none) to HeadConfig's convention
// (0 = default, negative = none).
func headHoldout(h float64) float64 {
	if h == 0 || math.IsNaN(h) {
		return -1
	}
	return h
}
