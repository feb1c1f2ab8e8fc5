package cli

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"prefer/core/lm"
)

// TestTrainRMHead trains the "head" reward-model family on the shipped reference
// language model, stores it, and uses the stored head to optimize the LM policy.
func TestTrainRMHead(t *testing.T) {
	dir := t.TempDir()
	in := demoSnap(t, dir, "3*expert", 30)
	out := filepath.Join(dir, "head.snap")
	code, stdout, errs := runCLI(t, "train-rm", in, "-o", out, "--model", "head", "--seed", "2", "--json")
	if code != 0 {
		t.Fatalf("train-rm --model head: exit %d: %s", code, errs)
	}
	var rep headReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if rep.Family != lm.FamilyHead || rep.Model != "rm-head" || rep.TrainN == 0 || rep.HeldOutN == 0 {
		t.Fatalf("report: %+v", rep)
	}
	acc := rep.Metrics["heldout_accuracy"]
	// Expert raters agree with gold almost always, and the reference LM's hidden state
	// separates right from wrong answers: the head must beat chance clearly.
	if !acc.Valid() || acc < 0.6 {
		t.Fatalf("held-out accuracy of the head = %v, want ≥ 0.6", acc)
	}
	s, _, err := readSnapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Model("rm-head"); m == nil || m.Family != lm.FamilyHead {
		t.Fatalf("the head is not stored in the output snapshot")
	}
	if r := s.Run("rm-head"); r == nil || len(r.Series["loss"]) == 0 {
		t.Fatalf("the head's run and loss curve are not stored")
	}
	// The stored head is a reward for the generative policy.
	pol := filepath.Join(dir, "pol.snap")
	code, _, errs = runCLI(t, "optimize", out, "-o", pol, "--policy", "lm", "--algo", "ppo", "--reward", "rm-head",
		"--steps", "1", "--prompts", "2", "--samples", "2", "--max-tokens", "12", "--json")
	if code != 0 {
		t.Fatalf("optimize with the stored head: exit %d: %s", code, errs)
	}
}
