package cli

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"prefer/core/lm"
	"prefer/core/num"
	"runtime/debug"
	"strings"

	"prefer/core/reward"
	"prefer/core/snapshot"
)

func init() {
	register(&command{
		name: "train-rm",
		usage: "train-rm SNAP -o OUT [--model tabular|linear|mlp|ensemble|head] [--ref REF] [--member linear|mlp|tabular] [--members N] " +
			"[--seed N] [--holdout F] [--valid F] [--split item|pair] [--epochs N] [--patience N] [--batch N] [--lr X] " +
			"[--weight-decay X] [--margin M] [--center C] [--dim D] [--word-n N] [--char-n N] [--no-sentences] [--cross] " +
			"[--hidden H] [--both-bad-tie] " +
			"[--ridge R] [--position-effect] [--name NAME] [--personalize] [--json]",
		summary: "train a Bradley–Terry reward model; store it, its learning curves and diagnostics in OUT",
		run:     runTrainRM,
	})
}

// trainRMReport is the JSON of prefer train-rm.
type trainRMReport struct {
	Output      string               `json:"output"`
	OutputID    string               `json:"output_id"`
	Model       string               `json:"model"`
	Family      string               `json:"family"`
	Member      string               `json:"member,omitempty"`
	Seed        uint64               `json:"seed"`
	Split       rmSplit              `json:"split"`
	Metrics     map[string]num.Float `json:"metrics"` // every metric; null when unknown (no gold, no held-out split)
	Curves      rmCurves             `json:"curves"`
	Diagnostics rmDiagnostics        `json:"diagnostics"`
	Groups      *rmPersonal          `json:"personalized,omitempty"`
}

type rmSplit struct {
	By      string  `json:"by"`
	Holdout float64 `json:"holdout"`
	Valid   float64 `json:"valid"`
	Train   int     `json:"train"`
	ValidN  int     `json:"valid_elements"`
	Held    int     `json:"held"`
	Items   int     `json:"held_items"`
}

type rmCurves struct {
	TrainLoss []num.Float `json:"train_loss"`
	ValidLoss []num.Float `json:"valid_loss"`
	HeldLoss  []num.Float `json:"held_loss"`
	HeldAcc   []num.Float `json:"held_acc"`
	BestEpoch int         `json:"best_epoch"`
}

type rmBin struct {
	Lo    float64   `json:"lo"`
	Hi    float64   `json:"hi"`
	Count int       `json:"count"`
	Conf  num.Float `json:"conf"`
	Acc   num.Float `json:"acc"`
}

type rmDisagreement struct {
	Item    string  `json:"item"`
	Prompt  string  `json:"prompt"`
	Chosen  string  `json:"chosen"`
	Other   string  `json:"rejected"`
	Rater   string  `json:"rater"`
	PChosen float64 `json:"p_chosen"`
	Source  string  `json:"judgment"`
}

type rmFeature struct {
	Ngram  string  `json:"ngram"`
	Weight float64 `json:"weight"`
	Count  int     `json:"count"`
}

type rmDiagnostics struct {
	Reliability    []rmBin          `json:"reliability"`
	ECE            num.Float        `json:"ece"`
	LengthSpearman num.Float        `json:"length_spearman"`
	GoldSpearman   num.Float        `json:"gold_spearman"`
	Disagreements  []rmDisagreement `json:"disagreements"`
	TopPositive    []rmFeature      `json:"top_positive,omitempty"`
	TopNegative    []rmFeature      `json:"top_negative,omitempty"`
	Notes          []string         `json:"notes"`
}

type rmPersonal struct {
	Groups     []rmGroup   `json:"groups"`
	Divergence [][]float64 `json:"disagreement"`
	Notes      []string    `json:"notes"`
}

type rmGroup struct {
	Group       string    `json:"group"`
	Model       string    `json:"model"`
	Raters      int       `json:"raters"`
	Pairs       int       `json:"pairs"`
	OwnAcc      num.Float `json:"own_acc"`
	PooledAcc   num.Float `json:"pooled_acc"`
	VsPooled    num.Float `json:"disagreement_with_pooled"`
	HeldPairsOn int       `json:"held_pairs"`
}

func runTrainRM(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train-rm", stderr)
	out := fs.String("o", "", "output snapshot file (required): the input plus the model, its run and diagnostics")
	family := fs.String("model", reward.FamilyLinear, "model family: tabular, linear, mlp, ensemble, or head (a reward head on the reference language model's last hidden state)")
	refPath := fs.String("ref", "", "head: snapshot holding the reference language model (default: an \"lm\" model in SNAP, else the shipped static/web/ref-lm.snap)")
	member := fs.String("member", reward.FamilyLinear, "family of an ensemble's members: linear, mlp or tabular")
	def := reward.Config{}.WithDefaults() // one set of defaults: the core's
	members := fs.Int("members", def.Members, "ensemble size")
	seed := fs.Uint64("seed", 1, "seed of the split, initialisation, batch order and bagging")
	holdout := fs.Float64("holdout", def.Holdout, "fraction held out for the reported metrics (0: none)")
	valid := fs.Float64("valid", def.Valid, "fraction of the rest used for early stopping (0: none, all epochs run)")
	split := fs.String("split", "", "hold out whole items (item, default for feature models) or single comparisons (pair, default for tabular)")
	epochs := fs.Int("epochs", def.Epochs, "maximum epochs (linear: L-BFGS iterations per penalty of the path)")
	patience := fs.Int("patience", def.Patience, "epochs (linear: iterations) without a better validation loss before stopping")
	batch := fs.Int("batch", def.Batch, "mlp: batch elements (pairs, ties or whole rankings) per step")
	lr := fs.Float64("lr", 0, "mlp: AdamW learning rate (default 0.01)")
	wd := fs.Float64("weight-decay", def.WeightDecay, "mlp: AdamW decoupled weight decay")
	l2 := fs.Float64("l2", def.L2, "linear: L2 penalty ½·L2·‖w‖² on the summed loss (scikit-learn's C = 1/L2), lowered to L2/3, /10, /30 while the validation loss improves (0: none)")
	margin := fs.Float64("margin", 0, "TRL margin per unit of rater strength: loss softplus(−(Δ − margin·strength))")
	center := fs.Float64("center", 0, "TRL center_rewards_coefficient (0.01 recommended when used)")
	dim := fs.Int("dim", def.Features.Dim, "hash buckets of the text features")
	hidden := fs.Int("hidden", def.Hidden, "MLP hidden width")
	cross := fs.Bool("cross", false, "add prompt×response word-pair features")
	wordN := fs.Int("word-n", def.Features.WordN, "longest word n-gram of the features (0: no word n-grams)")
	charN := fs.Int("char-n", def.Features.CharMax, "character n-gram length of the features (0: none)")
	noSent := fs.Bool("no-sentences", false, "leave out the whole-sentence features")
	bothBad := fs.Bool("both-bad-tie", false, "count \"both bad\" comparisons as ties (default: dropped)")
	ridge := fs.Float64("ridge", 0, "tabular: prior precision on the scores (0 = automatic)")
	position := fs.Bool("position-effect", false, "tabular: fit a left-position effect")
	name := fs.String("name", "", "model name in the snapshot (default rm-FAMILY)")
	personalize := fs.Bool("personalize", false, "also fit one model per rater group and report how far they diverge")
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseInOut(fs, args, out)
	if err != nil {
		return err
	}
	valid01 := func(flag string, v float64) error {
		if math.IsNaN(v) || v < 0 || v >= 1 {
			return usagef("%s %v: give a fraction in [0, 1)", flag, v)
		}
		return nil
	}
	if err := valid01("--holdout", *holdout); err != nil {
		return err
	}
	if err := valid01("--valid", *valid); err != nil {
		return err
	}
	if *epochs < 1 || *epochs > 100000 || *patience < 1 || *batch < 1 || *batch > 1<<20 {
		return usagef("--epochs, --patience and --batch must be positive (epochs at most 100000)")
	}
	if *members < 1 || *members > 64 {
		return usagef("--members %d: give 1 to 64", *members)
	}
	if *dim < 16 || *dim > 1<<24 || *hidden < 1 || *hidden > 4096 {
		return usagef("--dim must be in 16..16777216 and --hidden in 1..4096")
	}
	if *wordN < 0 || *wordN > 4 || *charN < 0 || *charN > 8 || (*wordN == 0 && *charN == 0) {
		return usagef("--word-n must be 0..4 and --char-n 0..8, not both 0")
	}
	if *lr < 0 || *wd < 0 || *l2 < 0 || *margin < 0 || *center < 0 || *ridge < 0 {
		return usagef("--lr, --weight-decay, --l2, --margin, --center and --ridge cannot be negative")
	}
	// Everything train-rm holds (the snapshot, the feature rows) is kept to the end,
	// and little is allocated once the rows are made: the collector runs at 25%
	// growth of the live heap instead of Go's 100%, which would let garbage grow as
	// large as all of it (300k pairs: 962 → 753 MB peak, the same CPU time). GOGC
	// set in the environment is left alone.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	// The input's bytes are not needed past its id: not held while training.
	s, parent, err := readSnapshotID(in)
	if err != nil {
		return err
	}
	if *family == lm.FamilyHead {
		return trainHeadRM(s, parent, *out, *name, *refPath, *seed, *holdout, rmArgs(fs), *asJSON, stdout, stderr)
	}
	cfg := reward.Config{
		Family: *family, Member: *member, Members: *members, Seed: *seed,
		Holdout: fracFlag(*holdout), Valid: fracFlag(*valid), SplitBy: *split,
		Epochs: *epochs, Patience: *patience, Batch: *batch, LR: *lr, WeightDecay: fracFlag(*wd), L2: fracFlag(*l2),
		Margin: *margin, Center: *center, BothBadTie: *bothBad, Hidden: *hidden,
		Features: reward.FeatureConfig{Dim: *dim, Cross: *cross, WordN: zeroOff(*wordN), CharMin: max(*charN, 1), CharMax: zeroOff(*charN), NoSentences: *noSent},
		Tabular:  reward.TabularConfig{Ridge: *ridge, PositionEffect: *position},
	}
	unit, total := "epochs", *epochs // at most: early stopping may end sooner
	switch {
	case *family == reward.FamilyTabular:
		unit, total = "iterations", 0 // Newton iterations, as many as it takes
	case *family == reward.FamilyLinear || *family == reward.FamilyEnsemble && *member == reward.FamilyLinear:
		unit, total = "iterations", 0 // L-BFGS iterations over up to four penalties
	}
	line := newProgress(stderr, *asJSON, "train-rm "+*family, unit, total)
	cfg.Progress = func(epoch int, trainLoss, heldLoss float64) bool {
		line.update(epoch, fmt.Sprintf("loss %.4f", trainLoss))
		return true
	}
	// The judgments are needed only to derive the pairs (reward.Train's first step):
	// when they can be read again from the file, they are not held through the fit
	// (300k pairs: a 408-byte feedback.Judgment each, 114 MB) but decoded again after.
	reread := in != "-" && len(s.Judgments) > 0
	js := s.Judgments
	if reread {
		s.Judgments = nil
	}
	res, err := reward.Train(s.Items, js, cfg)
	line.done()
	if err != nil {
		return err
	}
	if reread {
		if err := rereadJudgments(s, in, parent); err != nil {
			return err
		}
	}
	modelName := *name
	if modelName == "" {
		modelName = "rm-" + res.Config.Family
	}
	reward.Record(s, res, modelName, modelName)
	rep := trainRMReport{
		Output: *out, Model: modelName, Family: res.Config.Family, Seed: *seed, Metrics: num.FloatMap(res.Metrics.All()),
		Split: rmSplit{By: res.Split.By, Holdout: *holdout, Valid: *valid, Train: res.Split.NTrain, ValidN: res.Split.NValid,
			Held: res.Split.NHeld, Items: len(res.Split.HeldItems)},
		Curves: rmCurves{TrainLoss: num.Floats(res.Curves.TrainLoss), ValidLoss: num.Floats(res.Curves.ValidLoss),
			HeldLoss: num.Floats(res.Curves.HeldLoss), HeldAcc: num.Floats(res.Curves.HeldAcc), BestEpoch: res.Curves.BestEpoch},
		Diagnostics: diagnosticsJSON(res),
	}
	if res.Config.Family == reward.FamilyEnsemble {
		rep.Member = res.Config.Member
	}
	if *personalize {
		p, err := reward.Personalize(s.Items, s.Judgments, s.Raters, cfg)
		if err != nil {
			return fmt.Errorf("personalize: %w", err)
		}
		rep.Groups = personalJSON(p, modelName)
		for _, g := range p.Groups {
			gm := reward.ToSnapshot(g.Model, modelName+"@"+g.Group, g.Metrics.Map())
			gm.Run = modelName + "@personalize"
			s.PutModel(gm)
		}
		s.PutRun(personalRun(modelName, p, *seed, cfg))
	}
	s.Provenance = snapshot.Provenance{Tool: toolVersion, Parent: parent, Seed: *seed,
		Command: "prefer train-rm " + strings.Join(rmArgs(fs), " ")}
	id, err := writeSnapshot(*out, s, stdout)
	if err != nil {
		return err
	}
	rep.OutputID = id
	if *asJSON {
		return printJSON(stdout, rep)
	}
	m := res.Metrics
	msg := messages(*out, stdout, stderr)
	fmt.Fprintf(msg, "%s: %s model %q, held-out accuracy %s, log-loss %s on decided pairs (ln 2 = 0.693 is chance; %s with ties), ECE %s (%d train / %d held-out elements, split by %s, seed %d)\n",
		outputName(*out), res.Config.Family, modelName, pct(m.HeldAcc), num3(m.HeldDecidedLogLoss), num3(m.HeldLogLoss), num3(m.ECE), m.NTrain, m.NHeld, res.Split.By, *seed)
	if !math.IsNaN(m.GoldSpearman) {
		fmt.Fprintf(msg, "reward vs gold Spearman %.3f; reward vs length %.3f\n", m.GoldSpearman, m.LengthSpearman)
	}
	for _, n := range res.Diag.Notes {
		fmt.Fprintln(msg, "note:", n)
	}
	return nil
}

// zeroOff maps a CLI count of 0 ("none") to the FeatureConfig convention (negative).
func zeroOff(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// fracFlag maps a CLI value of 0 ("none") to the Config convention (negative).
func fracFlag(v float64) float64 {
	if v == 0 {
		return -1
	}
	return v
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func num3(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.3f", x)
}

// rmArgs is the command line without the input and output paths: the flags
// that were set, in name order, so equal settings give equal provenance wherever
// the files live.
func rmArgs(fs *flag.FlagSet) []string {
	var out []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "o" || f.Name == "json" {
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return out
}

func diagnosticsJSON(res *reward.Result) rmDiagnostics {
	m, d := res.Metrics, res.Diag
	out := rmDiagnostics{ECE: num.Float(m.ECE), LengthSpearman: num.Float(m.LengthSpearman), GoldSpearman: num.Float(m.GoldSpearman),
		Notes: d.Notes, Disagreements: []rmDisagreement{}, Reliability: []rmBin{}}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, b := range d.Reliability {
		bin := rmBin{Lo: b.Lo, Hi: b.Hi, Count: b.Count, Conf: num.NaN, Acc: num.NaN} // an empty bin has no confidence or accuracy
		if b.Count > 0 {
			bin.Conf, bin.Acc = num.Float(b.Conf), num.Float(b.Acc)
		}
		out.Reliability = append(out.Reliability, bin)
	}
	for _, x := range d.Disagreements {
		out.Disagreements = append(out.Disagreements, rmDisagreement{Item: x.Item, Prompt: x.Prompt, Chosen: x.WinnerText,
			Other: x.LoserText, Rater: x.Rater, PChosen: x.PWinner, Source: x.Source})
	}
	for _, f := range d.TopPositive {
		out.TopPositive = append(out.TopPositive, rmFeature{Ngram: f.Name, Weight: f.Weight, Count: f.Count})
	}
	for _, f := range d.TopNegative {
		out.TopNegative = append(out.TopNegative, rmFeature{Ngram: f.Name, Weight: f.Weight, Count: f.Count})
	}
	return out
}

func personalJSON(p *reward.Personal, name string) *rmPersonal {
	out := &rmPersonal{Divergence: p.Disagreement, Notes: p.Notes}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	n := len(p.Groups)
	for k, g := range p.Groups {
		out.Groups = append(out.Groups, rmGroup{Group: g.Group, Model: name + "@" + g.Group, Raters: len(g.Raters),
			Pairs: g.Train, HeldPairsOn: g.Held, OwnAcc: num.Float(g.OwnAcc), PooledAcc: num.Float(g.PooledAcc),
			VsPooled: num.Float(p.Disagreement[k][n])})
	}
	return out
}

// personalRun records a personalization: per group the accuracies and the
// disagreement with the pooled model as summary keys "<group>/own_acc",
// "<group>/pooled_acc", "<group>/vs_pooled"; the full disagreement matrix in config.
func personalRun(name string, p *reward.Personal, seed uint64, cfg reward.Config) snapshot.Run {
	summary := map[string]float64{"pairs": float64(p.Pairs)}
	var groups []string
	var matrix []any
	n := len(p.Groups)
	for k, g := range p.Groups {
		groups = append(groups, g.Group)
		for key, v := range map[string]float64{"own_acc": g.OwnAcc, "pooled_acc": g.PooledAcc, "vs_pooled": p.Disagreement[k][n]} {
			if !math.IsNaN(v) {
				summary[g.Group+"/"+key] = v
			}
		}
	}
	for _, row := range p.Disagreement {
		matrix = append(matrix, append([]float64(nil), row...))
	}
	return snapshot.Run{Name: name + "@personalize", Kind: "personalize", Seed: seed,
		Config:  map[string]any{"family": cfg.Family, "groups": groups, "disagreement": matrix, "order": "groups, then pooled"},
		Summary: summary, Notes: append([]string(nil), p.Notes...)}
}

// rereadJudgments puts the judgments of the snapshot file path, whose id was id, back
// into s, failing if the file changed since it was read.
func rereadJudgments(s *snapshot.Snapshot, path, id string) error {
	// The fit's feature rows are garbage by now: collected first, or the file's bytes
	// and the decoding pile up on them until the collector's target; and their pages
	// given back to the system, or the process keeps the fit's size while it reads
	// and writes (300k pairs: the peak was here, 607 MB).
	debug.FreeOSMemory()
	data, err := readInput(path)
	if err != nil {
		return fmt.Errorf("read snapshot again for its judgments: %w", err)
	}
	if snapshot.ID(data) != id {
		return fmt.Errorf("%s changed while the model was trained; train again on the file as it is now", inputName(path))
	}
	again, err := snapshot.UnmarshalWith(data, snapshot.Options{OnlyJudgments: true})
	if err != nil {
		return fmt.Errorf("%s: %w", inputName(path), err)
	}
	s.Judgments = again.Judgments
	return nil
}
