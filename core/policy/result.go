package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"sort"

	"prefer/core/rng"
	"prefer/core/snapshot"
)

// Result is the outcome of an optimization run.
type Result struct {
	Run      snapshot.Run // Kind "optimize": config, seed, per-step series, summary, notes
	Final    Metrics      // the metrics of the last step
	Steps    int          // steps taken
	Canceled bool         // Progress returned false
	Alerts   []Alert      // reward-hacking alerts (also in Run.Notes)

	// Converged is true when the run stopped because its convergence criterion
	// reached Tol (see Convergence, converge.go); Criterion is the criterion's last
	// value (NaN where there is none: a generative policy, DPO without a minimizer).
	// Exact and best-of-N solve in closed form and converge at once.
	Converged bool
	Criterion float64
	Tol       float64
}

// RunHash returns a short content hash of a run's series, keys in sorted order and
// values as IEEE bits: equal curves give equal hashes on every platform.
func RunHash(r *snapshot.Run) string {
	h := sha256.New()
	keys := make([]string, 0, len(r.Series))
	for k := range r.Series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b [8]byte
	for _, k := range keys {
		h.Write([]byte(k))
		for _, v := range r.Series[k] {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// schedule returns the learning rate at step s (0-based) of n: linear decay from lr
// to 0 (the annealing of OpenAI baselines' PPO2), or lr when constant.
func schedule(lr float64, s, n int, constant bool) float64 {
	if constant || n <= 1 {
		return lr
	}
	return float64(lr * (1 - float64(s)/float64(n)))
}

// choosePrompts writes the prompts of one batch into dst: all prompts in order when
// k is 0 or at least the number of prompts, else k distinct prompts drawn uniformly.
func choosePrompts(dst []int, r *rng.RNG, nPrompts, k int) []int {
	dst = dst[:0]
	for p := 0; p < nPrompts; p++ {
		dst = append(dst, p)
	}
	if k <= 0 || k >= nPrompts {
		return dst
	}
	// Partial Fisher–Yates: the first k entries are a uniform sample.
	for i := 0; i < k; i++ {
		j := i + r.IntN(nPrompts-i)
		dst[i], dst[j] = dst[j], dst[i]
	}
	return dst[:k]
}

// grow returns s resized to n, reusing its storage when large enough.
func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func growInt(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// finish fills the run's summary from the last metrics and the recorder.
func finish(res *Result, rec *recorder, name, kind string, seed uint64, config map[string]any) {
	res.Run.Name = name
	res.Run.Kind = kind
	res.Run.Seed = seed
	res.Run.Config = config
	res.Run.Series = rec.series
	f := res.Final
	res.Run.Summary = map[string]float64{
		"steps":      float64(res.Steps),
		"reward":     f.Reward,
		"gold":       f.Gold,
		"kl":         f.KL,
		"kl_k1":      f.KLk1,
		"kl_k3":      f.KLk3,
		"beta":       f.Beta,
		"entropy":    f.Entropy,
		"distinct_1": f.Distinct1,
		"distinct_2": f.Distinct2,
	}
	if !math.IsNaN(f.KL) && f.KL >= 0 {
		res.Run.Summary["sqrt_kl"] = math.Sqrt(f.KL)
	}
	runArc(&res.Run, rec)
	res.Alerts = detectRun(&res.Run, rec.sc)
	for _, a := range res.Alerts {
		res.Run.Notes = append(res.Run.Notes, a.Message)
	}
}
