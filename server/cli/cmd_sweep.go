package cli

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"prefer/core/demo"
	"prefer/core/num"
	"prefer/core/policy"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name: "sweep",
		usage: "sweep SNAP -o OUT [--algo exact|ppo|rloo|bon] [--betas B,B,...] [--ns N,N,...]\n" +
			"                [--reward gold|tabular|linear|mlp|MODEL] [--steps N] [--diversity A] [--seed N] [--name NAME] [--json]",
		summary: "β sweep (or best-of-N over N): proxy reward, gold reward and √KL per setting, with the reward-hacking detector",
		run:     runSweep,
	})
}

type sweepPointJSON struct {
	Beta     num.Float            `json:"beta"` // null in an N sweep
	N        int                  `json:"n,omitempty"`
	KL       num.Float            `json:"kl"`
	SqrtKL   num.Float            `json:"sqrt_kl"`
	Proxy    num.Float            `json:"proxy"`
	Gold     num.Float            `json:"gold"`
	Entropy  num.Float            `json:"entropy"`
	Features map[string]num.Float `json:"features"`
}

type sweepReport struct {
	Output   string               `json:"output"`
	OutputID string               `json:"output_id"`
	Run      string               `json:"run"`
	Algo     string               `json:"algo"`
	Reward   string               `json:"reward"`
	Seed     uint64               `json:"seed"`
	Points   []sweepPointJSON     `json:"points"`
	Summary  map[string]num.Float `json:"summary"`
	Alerts   []alertJSON          `json:"alerts"`
	RunHash  string               `json:"run_hash"`
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep", stderr)
	out := fs.String("o", "", "output snapshot file (required)")
	algo := fs.String("algo", "exact", "exact, ppo or rloo (a β sweep) or bon (best-of-N over N)")
	betas := fs.String("betas", "", "comma-separated β values (default 10,5,2,1,0.5,0.3,0.2,0.1,0.05,0.03,0.02,0.01)")
	ns := fs.String("ns", "", "comma-separated N values for bon (default 1,2,4,…,512)")
	rspec := fs.String("reward", "", "proxy reward: gold, tabular, linear, mlp (trained now) or a stored model's name (default: the last stored reward model)")
	steps := fs.Int("steps", 0, fmt.Sprintf("optimization steps per point for ppo and rloo (default %d)", policy.DefaultSteps))
	diversity := fs.Float64("diversity", 0, "entropy bonus α at every point (controlled diversity)")
	seed := fs.Uint64("seed", 1, "random seed")
	name := fs.String("name", "", "name of the sweep run (default sweep-ALGO)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseInOut(fs, args, out)
	if err != nil {
		return err
	}
	switch *algo {
	case "exact", "ppo", "rloo", "bon":
	default:
		return usagef("unknown --algo %q: use exact, ppo or rloo (β sweep) or bon (N sweep)", *algo)
	}
	if *steps < 0 || *diversity < 0 {
		return usagef("--steps and --diversity must not be negative")
	}
	bs, err := parseFloats(*betas)
	if err != nil {
		return usagef("--betas: %v", err)
	}
	nl, err := parseInts(*ns)
	if err != nil {
		return usagef("--ns: %v", err)
	}
	s, data, err := readSnapshot(in)
	if err != nil {
		return err
	}
	line := newProgress(stderr, *asJSON, "sweep "+*algo, "points", 0)
	res, err := policy.SweepSnapshot(s, *rspec, demo.FeaturesOf(s.Items), policy.SweepConfig{Algo: *algo, Betas: bs, Ns: nl,
		Diversity: *diversity, Seed: *seed, PPO: policy.PPOConfig{Steps: *steps}, RLOO: policy.RLOOConfig{Steps: *steps},
		Progress: func(done, total int) bool {
			line.total = total
			line.update(done, "")
			return true
		}})
	line.done()
	if err != nil {
		return runUsage(err)
	}
	runName := *name
	if runName == "" {
		runName = "sweep-" + *algo
	}
	res.Record(s, runName)
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: snapshot.ID(data), Seed: *seed,
		Command: "prefer sweep " + canonicalArgs(fs, "o", "json")}
	id, err := writeSnapshot(*out, s, stdout)
	if err != nil {
		return err
	}
	rep := sweepReport{Output: *out, OutputID: id, Run: runName, Algo: *algo, Reward: res.Reward.Name, Seed: *seed,
		Summary: num.FloatMap(res.Run.Summary), Alerts: alertsJSON(res.Alerts), RunHash: policy.RunHash(&res.Run)}
	for _, p := range res.Points {
		pj := sweepPointJSON{N: p.N, KL: num.Float(p.KL), SqrtKL: num.Float(p.SqrtKL), Proxy: num.Float(p.Proxy), Gold: num.Float(p.Gold),
			Entropy: num.Float(p.Entropy), Features: num.FloatMap(p.Features)}
		pj.Beta = num.Float(p.Beta)
		rep.Points = append(rep.Points, pj)
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	x := "β"
	if *algo == "bon" {
		x = "N"
	}
	msg := messages(*out, stdout, stderr)
	fmt.Fprintf(msg, "%s: %s sweep on %s (%s)\n%8s %8s %9s %9s\n", outputName(rep.Output), *algo, res.Reward.Name, id, x, "√KL", "proxy", "gold")
	for _, p := range res.Points {
		v := strconv.FormatFloat(p.Beta, 'g', 4, 64)
		if *algo == "bon" {
			v = strconv.Itoa(p.N)
		}
		fmt.Fprintf(msg, "%8s %8.4f %9.4f %9.4f\n", v, p.SqrtKL, p.Proxy, p.Gold)
	}
	for _, note := range res.Run.Notes {
		fmt.Fprintln(msg, note)
	}
	return nil
}

func parseFloats(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a whole number ≥ 1", f)
		}
		out = append(out, v)
	}
	return out, nil
}
