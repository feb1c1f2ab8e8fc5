package agree

import (
	"math"
	"slices"

	"prefer/core/feedback"
)

// MinFlagN is the fewest observations a flag is raised on: a rater's fatigue flags
// need that many labels (or timed judgments) with a session position, the length
// effect that many comparisons with gold (else the plain test of ½ is used), a drift
// flag that many labels in every window, the "lowest Dawid–Skene accuracy" finding
// that many pairable units, the speed, chance-level and straight-lining flags that
// many (timed) labels. Below it the statistics are still reported.
const MinFlagN = 20

// WatchLevel is the significance level of the second tier of per-rater findings: a
// rater whose position-bias test reaches it but not Options.Level "may" favour one
// side, and the finding says how many raters would reach it by chance.
const WatchLevel = 0.05

// Thresholds of the rater findings that have no test (docs/quality.md gives the
// reasons):
const (
	// TooFastRatio: a rater is too fast when their median time per judgment is below
	// this share of the median of the other raters' medians …
	TooFastRatio = 1.0 / 3
	// TooFastSeconds: … or below this many seconds whatever the others do.
	TooFastSeconds = 2.0
	// ChanceKappa: agreement with the consensus is at chance level when Cohen's κ of
	// the rater against the consensus is below this ("slight" or worse in Landis &
	// Koch 1977) and the one-sided binomial test of beating chance has p ≥ WatchLevel.
	ChanceKappa = 0.2
	// StraightShare: a rater straight-lines when one label makes up at least this
	// share of their labels …
	StraightShare = 0.9
	// StraightOthers: … while the other raters give that label at most this share of
	// the time (a label everyone uses that often is the data, not the rater).
	StraightOthers = 0.6
	// DSGap: the "lowest Dawid–Skene accuracy" finding names a rater only when their
	// accuracy is at least this far below the median of the others'.
	DSGap = 0.1
)

// Options chooses what Analyze computes. The zero value means the defaults.
type Options struct {
	// Kinds limits the report to these judgment kinds. Nil means every kind that
	// carries a label: compare, rank, rate, thumb and flag.
	Kinds []feedback.Kind
	// Axis limits rate judgments to one rating axis. "" reports every axis separately.
	Axis string
	// Metric is the difference function of Krippendorff's α for ratings. Default
	// ordinal: Likert scores are ordered but their spacing is unknown. The other kinds
	// are always nominal. (Every metric is reported for ratings in alpha_by_metric.)
	Metric Metric
	// Level is the significance level at which a test flags a finding (position or
	// length bias, fatigue, drift, group difference). Default 0.01. p-values are
	// reported unadjusted; with many raters expect about Level·raters false flags.
	Level float64
	// Bucket is the width, in judgments, of a session-position bucket of the fatigue
	// table. Default 10.
	Bucket int
	// Windows is the number of equal-count time windows of the drift table. Default 5.
	Windows int
	// MinShared is the fewest units two raters must share for their Cohen's κ to be
	// listed and averaged. Default 10.
	MinShared int
	// Permutations is the number of random relabelings of the group-difference test.
	// Default 999 (p-values down to 0.001).
	Permutations int
	// Seed seeds the permutation test. Any value, 0 included, is a valid seed.
	Seed uint64
	// Disputed is how many units with the largest group difference to list. Default 10.
	Disputed int
	// DawidSkene configures the EM fit; nil means its defaults.
	DawidSkene *DSConfig
}

// WithDefaults returns o with every unset field at its default: what Analyze
// runs, and what `prefer agree` shows as its flags' defaults.
func (o Options) WithDefaults() Options { return o.withDefaults() }

func (o Options) withDefaults() Options {
	if o.Metric == "" {
		o.Metric = Ordinal
	}
	if o.Level <= 0 || o.Level >= 1 {
		o.Level = 0.01
	}
	if o.Bucket <= 0 {
		o.Bucket = 10
	}
	if o.Windows <= 0 {
		o.Windows = 5
	}
	if o.MinShared <= 0 {
		o.MinShared = 10
	}
	if o.Permutations <= 0 {
		o.Permutations = 999
	}
	if o.Disputed <= 0 {
		o.Disputed = 10
	}
	return o
}

// Report is the whole feedback-quality report: agreement, rater reliability, biases,
// fatigue, drift and group differences. It is what `prefer agree --json` prints and
// what the Quality page shows. Undefined statistics are null (see Float).
type Report struct {
	// Judgments is the number of judgments given, of every kind.
	Judgments int `json:"judgments"`
	// Raters is the number of distinct raters among them.
	Raters int `json:"raters"`
	// Items is the number of distinct items judged.
	Items int `json:"items"`
	// Metric is the difference function of Krippendorff's α used for ratings.
	Metric Metric `json:"metric"`
	// Level is the significance level of every flag in the report.
	Level float64 `json:"level"`
	// Kinds has one entry per judgment kind that carries labels (and per rating axis),
	// in the order compare, rank, rate, thumb, flag.
	Kinds []KindReport `json:"kinds"`
	// Position is the position bias of comparisons; null without decided comparisons
	// whose left side is known.
	Position *PositionBias `json:"position_bias"`
	// Length is the length bias of comparisons; null without decided comparisons of
	// responses whose texts are known and differ in length.
	Length *LengthBias `json:"length_bias"`
	// Findings are the notable results in plain words, most important first.
	Findings []string `json:"findings"`
	// AI audits each AI rater (kind "ai") against the human consensus: agreement,
	// Cohen's κ, position and length bias, the pairs they disagree on most (ai.go).
	// Left out without AI raters (so reports of people alone keep their bytes).
	AI []AIAudit `json:"ai_audit,omitempty"`
}

// KindReport is the quality of the labels of one judgment kind (and rating axis).
type KindReport struct {
	// Kind is the judgment kind: compare, rank, rate, thumb or flag.
	Kind feedback.Kind `json:"kind"`
	// Axis is the rating axis (rate only).
	Axis string `json:"axis,omitempty"`
	// Metric is the difference function of krippendorff_alpha: nominal for every kind
	// but rate, which uses Options.Metric.
	Metric Metric `json:"metric"`
	// Labels names the label categories in the order used by every label_mix, prior,
	// posterior and confusion matrix of this kind: first, second, tie, both-bad for
	// compare (first/second are the unit's responses in sorted-id order); first,
	// second for rank (pairs derived from each ranking); the scores that occur for
	// rate; down, up for thumb; the categories for flag.
	Labels []string `json:"labels"`
	// Units is the number of units with at least one label.
	Units int `json:"units"`
	// PairableUnits is the number of units labeled by at least two raters.
	PairableUnits int `json:"pairable_units"`
	// Observations is the number of labels: one per judgment, C(K,2) per ranking of K.
	Observations int `json:"observations"`
	// Repeats is the number of labels superseded by a later label of the same rater on
	// the same unit. Agreement statistics use each rater's latest label per unit.
	Repeats int `json:"repeats"`
	// Agreement holds the agreement coefficients.
	Agreement Agreement `json:"agreement"`
	// Raters holds per-rater reliability, sorted by rater id.
	Raters []RaterStats `json:"raters"`
	// DawidSkene is the EM fit of rater confusion matrices and label posteriors; null
	// when it could not be fitted.
	DawidSkene *DSReport `json:"dawid_skene"`
	// Fatigue is quality and time against position in the session; null when no
	// judgment has a session position (Seq).
	Fatigue *Fatigue `json:"fatigue"`
	// Drift is agreement and label mix per time window; null when the judgments carry
	// fewer than two distinct times.
	Drift *Drift `json:"drift"`
	// Groups compares rater groups; null with fewer than two groups.
	Groups *GroupDiff `json:"groups"`
	// Notes say in plain words which figures of this kind the data cannot give and
	// why (one rater per unit, too few shared units, no gold, no times).
	Notes []string `json:"notes"`
}

// Agreement holds the agreement coefficients of one kind. All but
// krippendorff_alpha treat labels as nominal categories.
type Agreement struct {
	// Percent is the percent agreement: the mean over pairable units of the share of
	// rater pairs that gave the same label (Fleiss' P̄), in [0, 1].
	Percent Float `json:"percent"`
	// FleissKappa is Fleiss' κ over all pairable units (varying raters per unit
	// allowed).
	FleissKappa Float `json:"fleiss_kappa"`
	// FleissChance is the chance agreement P̄e = Σ_j p_j² of Fleiss' κ.
	FleissChance Float `json:"fleiss_chance"`
	// Alpha is Krippendorff's α with the kind's metric.
	Alpha Float `json:"krippendorff_alpha"`
	// AlphaByMetric gives α with each of the four metrics (rate only).
	AlphaByMetric *AlphaByMetric `json:"alpha_by_metric,omitempty"`
	// AlphaValues is the number of pairable values α was computed from.
	AlphaValues int `json:"alpha_values"`
	// Cohen is Cohen's κ of the two raters when exactly two raters labeled this kind.
	Cohen *Cohen `json:"cohen"`
	// CohenPairs lists Cohen's κ of every pair of raters sharing at least
	// Options.MinShared units, sorted by the pair's ids.
	CohenPairs []Cohen `json:"cohen_pairs"`
	// CohenMean is the mean of the pairwise κ over cohen_pairs (Light's κ).
	CohenMean Float `json:"cohen_mean"`
	// SelfAgreement is the share of agreeing pairs among repeated labels of the same
	// unit by the same rater (intra-rater consistency).
	SelfAgreement Float `json:"self_agreement"`
	// SelfPairs is the number of such pairs.
	SelfPairs int `json:"self_pairs"`
}

// AlphaByMetric is Krippendorff's α of the same data with each metric.
type AlphaByMetric struct {
	Nominal  Float `json:"nominal"`  // labels as unordered categories
	Ordinal  Float `json:"ordinal"`  // ordered, spacing from the value frequencies
	Interval Float `json:"interval"` // equal spacing
	Ratio    Float `json:"ratio"`    // equal spacing and a true zero
}

// Cohen is Cohen's κ of two raters on the units both labeled.
type Cohen struct {
	RaterA string `json:"rater_a"` // the first rater (rows of table)
	RaterB string `json:"rater_b"` // the second rater (columns of table)
	Units  int    `json:"units"`   // units both labeled
	Kappa  Float  `json:"kappa"`   // (p_o − p_e)/(1 − p_e)
	SE     Float  `json:"se"`      // large-sample standard error (Fleiss, Cohen & Everitt 1969)
	SE0    Float  `json:"se0"`     // standard error under κ = 0
	Z      Float  `json:"z"`       // κ / se0
	P      Float  `json:"p"`       // two-sided p-value of κ = 0
	Po     Float  `json:"po"`      // observed agreement
	Pe     Float  `json:"pe"`      // chance agreement
	// Table is the contingency table, labels × labels (only for the two-rater cohen).
	Table [][]int `json:"table,omitempty"`
}

// RaterStats is the reliability of one rater on one kind.
type RaterStats struct {
	Rater string `json:"rater"`           // rater id
	Group string `json:"group,omitempty"` // rater group, if known
	// Labels is the number of the rater's labels; Units the distinct units labeled.
	Labels int `json:"labels"`
	Units  int `json:"units"`
	// Consensus is the share of the rater's labels equal to the leave-one-out
	// consensus: the most frequent label of the other raters' latest labels on the unit
	// (units where that is tied are skipped), or for ratings their mean, rounded.
	Consensus Float `json:"consensus_agreement"`
	// ConsensusN is the number of labels compared with a consensus.
	ConsensusN int `json:"consensus_n"`
	// ConsensusMAE is the mean absolute difference between the rater's score and the
	// mean score of the others (rate only).
	ConsensusMAE Float `json:"consensus_mae"`
	// ConsensusCorr is the Pearson correlation of the rater's score with the mean score
	// of the others (rate only).
	ConsensusCorr Float `json:"consensus_corr"`
	// GoldAccuracy is the share of the rater's labels on units with a known answer that
	// give that answer (pairwise kinds: the item's GoldBest, or the response with the
	// higher gold utility; ties and both-bad count as wrong). GoldN is their number.
	GoldAccuracy Float `json:"gold_accuracy"`
	GoldN        int   `json:"gold_n"`
	// GoldCorr is the Pearson correlation of the rater's scores with the rated
	// responses' gold utilities (rate only).
	GoldCorr Float `json:"gold_corr"`
	// ConsensusChance is the agreement with the consensus that chance alone would
	// give: Σ_v p_rater(v)·p_consensus(v) over the labels compared with a consensus
	// (the rater's own label mix against the consensus's). ConsensusKappa is Cohen's κ
	// of the rater against the consensus, (consensus − chance)/(1 − chance);
	// ConsensusP the one-sided exact binomial p-value of agreeing at least this often
	// by chance. AtChance is true when agreement is at chance level: at least
	// MinFlagN labels with a consensus, κ < ChanceKappa and p ≥ WatchLevel.
	ConsensusChance Float `json:"consensus_chance"`
	ConsensusKappa  Float `json:"consensus_kappa"`
	ConsensusP      Float `json:"consensus_p"`
	AtChance        bool  `json:"at_chance"`
	// DSAccuracy is the Dawid–Skene accuracy Σ_k π_k θ[k][k]: the probability that the
	// rater's label is the true class. Null when the rater shares no unit with another
	// rater, or when the kind has too few shared units to fit the model (see Notes).
	DSAccuracy Float `json:"ds_accuracy"`
	// SelfAgreement is the share of agreeing pairs among the rater's repeated labels of
	// the same unit.
	SelfAgreement Float `json:"self_agreement"`
	// Seconds is the mean time spent per judgment, in seconds (judgments with a time);
	// SecondsMedian the median; PanelSeconds the median of the other raters' medians.
	// TooFast is true when the median is below TooFastRatio of the panel's, or below
	// TooFastSeconds, over at least MinFlagN timed judgments: too fast to have read
	// what was judged.
	Seconds       Float `json:"seconds"`
	SecondsMedian Float `json:"seconds_median"`
	PanelSeconds  Float `json:"panel_seconds_median"`
	TooFast       bool  `json:"too_fast"`
	// TopLabel is the rater's most frequent label and TopShare its share of their
	// labels; OthersShare is the other raters' share of that label. StraightLines is
	// true when TopShare ≥ StraightShare over at least MinFlagN labels while
	// OthersShare ≤ StraightOthers (or no one else labeled): the same answer whatever
	// the question. Compare labels first and second (which response id sorts first)
	// and all rank labels carry no meaning of their own and are not counted.
	TopLabel      string `json:"top_label"`
	TopShare      Float  `json:"top_share"`
	OthersShare   Float  `json:"others_share"`
	StraightLines bool   `json:"straight_lines"`
	// QualitySlope is the least-squares change of quality (1 when a label matches the
	// gold answer, or failing that the consensus, else 0) per 100 positions in the
	// session; QualityP its two-sided p-value.
	QualitySlope Float `json:"quality_slope_per_100"`
	QualityP     Float `json:"quality_p"`
	// SecondsSlope is the change of seconds per judgment per 100 positions; SecondsP
	// its two-sided p-value.
	SecondsSlope Float `json:"seconds_slope_per_100"`
	SecondsP     Float `json:"seconds_p"`
	// QualityFalls is true when quality falls with position (slope < 0, p < level);
	// Slows when the time per judgment grows with it. Fatigued is either: the two signs
	// of fatigue within a session. Each needs MinFlagN points.
	QualityFalls bool `json:"quality_falls"`
	Slows        bool `json:"slows"`
	Fatigued     bool `json:"fatigued"`
}

// DSReport is the Dawid–Skene fit of one kind.
type DSReport struct {
	Iterations int   `json:"iterations"` // EM iterations run
	Converged  bool  `json:"converged"`  // whether EM met its tolerance
	LogLik     Float `json:"loglik"`     // log-likelihood of the labels
	// Prior is the estimated share of each true label (in the order of labels).
	Prior []Float `json:"prior"`
	// MajorityAgreement is the share of units with a unique majority label where the
	// Dawid–Skene label equals it.
	MajorityAgreement Float `json:"majority_agreement"`
	// GoldAccuracy and MajorityGoldAccuracy are the accuracies of the Dawid–Skene and
	// of the majority labels on units with a known answer (pairwise kinds).
	GoldAccuracy         Float `json:"gold_accuracy"`
	MajorityGoldAccuracy Float `json:"majority_gold_accuracy"`
	// Raters gives each rater's confusion matrix, sorted by rater id.
	Raters []DSRater `json:"raters"`
	// Units gives every unit's label posterior, in the order units first appear.
	Units []UnitPosterior `json:"units"`
}

// DSRater is one rater's Dawid–Skene estimates.
type DSRater struct {
	Rater    string `json:"rater"`
	Accuracy Float  `json:"accuracy"` // Σ_k π_k θ[k][k]
	// Confusion[k][l] is P(the rater says label l | the true label is k).
	Confusion [][]Float `json:"confusion"`
}

// UnitPosterior is one unit's labels and the posterior of its true label.
type UnitPosterior struct {
	Unit
	N         int     `json:"n"`              // raters who labeled it (latest labels)
	Majority  string  `json:"majority"`       // the unique most frequent label, "" if tied
	Label     string  `json:"label"`          // the Dawid–Skene label (posterior mode)
	Posterior []Float `json:"posterior"`      // P(true label = k), in the order of labels
	Gold      string  `json:"gold,omitempty"` // the known label, if any
}

// PositionBias says whether raters favour the response shown on the left.
type PositionBias struct {
	PositionStats
	// Raters gives the same per rater, sorted by rater id.
	Raters []PositionStats `json:"raters"`
}

// PositionStats counts decided comparisons (choice a or b) with a known left side.
type PositionStats struct {
	Rater     string `json:"rater,omitempty"` // "" for the whole panel
	Decided   int    `json:"decided"`         // decided comparisons with a known left side
	LeftWins  int    `json:"left_wins"`       // how many the left response won
	LeftShare Float  `json:"left_share"`      // left_wins / decided
	// P is the two-sided exact binomial p-value of left_share = ½.
	P Float `json:"p"`
	// Biased is true when p < level; Possible when level ≤ p < WatchLevel (a weaker
	// sign, which the findings word as such).
	Biased   bool `json:"biased"`
	Possible bool `json:"possible"`
}

// LengthBias says whether raters favour the longer response.
type LengthBias struct {
	LengthStats
	// Raters gives the same per rater, sorted by rater id.
	Raters []LengthStats `json:"raters"`
}

// LengthStats counts decided comparisons of two responses of different length (in
// words).
type LengthStats struct {
	Rater string `json:"rater,omitempty"` // "" for the whole panel
	// Decided is the number of decided comparisons whose responses differ in length.
	Decided     int   `json:"decided"`
	LongerWins  int   `json:"longer_wins"`  // how many the longer response won
	LongerShare Float `json:"longer_share"` // longer_wins / decided
	// P is the two-sided exact binomial p-value of longer_share = ½.
	P Float `json:"p"`
	// Corr is the point-biserial correlation between "A won" and the length difference
	// words(A) − words(B), each comparison counted in both orientations so the value
	// does not depend on which response is called A.
	Corr Float `json:"corr"`
	// GoldLongerShare is, on the same comparisons where the gold answer is known, the
	// share in which the better response is the longer one: what an unbiased rater's
	// longer_share would be. GoldN is the number of such comparisons.
	GoldLongerShare Float `json:"gold_longer_share"`
	GoldN           int   `json:"gold_n"`
	// Excess is longer_share − gold_longer_share on the comparisons with gold.
	Excess Float `json:"excess"`
	// Effect is the length effect at a fixed gold difference (null with fewer than
	// MinFlagN comparisons with gold): the coefficient b_len of
	// the logistic regression (no intercept, ridge λ = 1)
	//
	//	logit P(A chosen) = b_gold·(gold(A) − gold(B)) + b_len·log₂(words(A)/words(B))
	//
	// over the comparisons with gold (gold difference ±1 when only the item's GoldBest
	// is known): the change in log-odds of choosing a response per doubling of its
	// length. It separates a taste for length from length that goes with quality.
	// EffectSE is its standard error and EffectP the two-sided Wald p-value.
	Effect   Float `json:"effect_per_doubling"`
	EffectSE Float `json:"effect_se"`
	EffectP  Float `json:"effect_p"`
	// Biased is true when the length of the responses sways the choice at the report's
	// level: effect_p < level when there are at least MinFlagN gold comparisons,
	// otherwise p < level (longer_share differs from ½).
	Biased bool `json:"biased"`
}

// Fatigue is quality and time against position in the session (Judgment.Seq).
type Fatigue struct {
	// Bucket is the width of a bucket in positions.
	Bucket int `json:"bucket"`
	// Buckets are the positions 1..bucket, bucket+1..2·bucket, … that hold judgments.
	Buckets []FatigueBucket `json:"buckets"`
	// QualitySlope is the least-squares change of quality per 100 positions over all
	// labels with a reference; QualityP its two-sided p-value.
	QualitySlope Float `json:"quality_slope_per_100"`
	QualityP     Float `json:"quality_p"`
	// SecondsSlope is the change of seconds per judgment per 100 positions; SecondsP
	// its p-value.
	SecondsSlope Float `json:"seconds_slope_per_100"`
	SecondsP     Float `json:"seconds_p"`
}

// FatigueBucket is one range of session positions.
type FatigueBucket struct {
	From int `json:"from"` // first position (1-based)
	To   int `json:"to"`   // last position
	// Quality is the share of labels matching the gold answer, or failing that the
	// leave-one-out consensus; QualityN the number of labels with such a reference.
	Quality  Float `json:"quality"`
	QualityN int   `json:"quality_n"`
	// Judgments is the number of judgments; Seconds their mean time in seconds.
	Judgments int   `json:"judgments"`
	Seconds   Float `json:"seconds"`
}

// Drift is agreement and label mix over time.
type Drift struct {
	// Windows are equal-count windows of judgments in time order.
	Windows []DriftWindow `json:"windows"`
	// MixChi2, MixDF and MixP are Pearson's χ² test of label × window: does the label
	// mix change over time?
	MixChi2 Float `json:"mix_chi2"`
	MixDF   int   `json:"mix_df"`
	MixP    Float `json:"mix_p"`
	// Drifting is true when mix_p < level and every window holds at least MinFlagN
	// labels.
	Drifting bool `json:"drifting"`
}

// DriftWindow is one time window.
type DriftWindow struct {
	From      int64 `json:"from"`      // time of its first judgment (unix ms)
	To        int64 `json:"to"`        // time of its last judgment (unix ms)
	Judgments int   `json:"judgments"` // judgments in the window
	Labels    int   `json:"labels"`    // labels in the window
	// Agreement is the percent agreement among the labels inside the window (units
	// labeled by at least two raters within it); null when there are none.
	Agreement Float `json:"agreement"`
	// Quality is the share of labels matching the gold answer or the consensus.
	Quality Float `json:"quality"`
	// LabelMix is the share of each label (in the order of labels).
	LabelMix []Float `json:"label_mix"`
}

// GroupDiff compares how rater groups label the same units.
type GroupDiff struct {
	// Groups describes each group, sorted by name. Raters without a group are left out.
	Groups []GroupStats `json:"groups"`
	// SharedUnits is the number of units labeled by at least two groups; the test and
	// the label mixes use only these.
	SharedUnits int `json:"shared_units"`
	// Within and Between are the shares of agreeing label pairs on shared units between
	// two raters of the same group and of different groups.
	Within  Float `json:"within_agreement"`
	Between Float `json:"between_agreement"`
	// Chi2 is the unit-stratified statistic Σ_units χ²(group × label); P its
	// permutation p-value: group tags are shuffled among the labels of each unit
	// (seeded), so only differences on the same units count. Permutations is the
	// number run: Options.Permutations, or fewer when 20 of them already reached the
	// observed statistic (Besag & Clifford 1991; then p = 20/permutations).
	Chi2         Float `json:"chi2"`
	P            Float `json:"p"`
	Permutations int   `json:"permutations"`
	// Differ is true when p < level.
	Differ bool `json:"differ"`
	// Disputed lists the shared units where the groups' label distributions differ the
	// most (total variation distance), largest first.
	Disputed []DisputedUnit `json:"disputed"`
}

// GroupStats is one rater group on the shared units.
type GroupStats struct {
	Group  string `json:"group"`
	Raters int    `json:"raters"` // raters of the group who labeled this kind
	Labels int    `json:"labels"` // their latest labels on shared units
	// LabelMix is the share of each label on shared units.
	LabelMix []Float `json:"label_mix"`
	// Consensus is the share of the group's labels (all units) equal to the
	// leave-one-out consensus; GoldAccuracy the share giving the known answer.
	Consensus    Float `json:"consensus_agreement"`
	GoldAccuracy Float `json:"gold_accuracy"`
	// LongerShare is how often the group chose the longer response (compare only).
	LongerShare Float `json:"longer_share"`
}

// DisputedUnit is a unit where groups disagree.
type DisputedUnit struct {
	Unit
	// Distance is the largest total variation distance between two groups' label
	// distributions on the unit, in [0, 1].
	Distance Float `json:"distance"`
	// Counts[g][l] is how many raters of group g (in the order of groups) gave label l.
	Counts [][]int `json:"counts"`
}

// Analyze computes the feedback-quality report of judgments js on items by raters.
// Items and raters are optional: without items there is no length bias and no gold;
// without raters there are no groups. Judgments are taken in canonical order (time,
// then id) whatever order they are given in, so the result depends only on the set.
// Only the standing version of each judgment counts (feedback.Current): a revised,
// rejected or withdrawn version is not a label, a lead's edit is.
func Analyze(items []feedback.Item, raters []feedback.Rater, js []feedback.Judgment, opt Options) *Report {
	opt = opt.withDefaults()
	js = feedback.Current(js)
	sorted := sortedJudgments(js)
	group := make(map[string]string, len(raters))
	for _, r := range raters {
		group[r.ID] = r.Group
	}
	rep := &Report{
		Judgments: len(js),
		Raters:    len(feedback.RaterIDs(js)),
		Items:     len(feedback.ItemIDs(js)),
		Metric:    opt.Metric,
		Level:     opt.Level,
		Kinds:     []KindReport{},
		Findings:  []string{},
	}
	c := &context{js: sorted, group: group, opt: opt, items: items}
	c.index()
	for _, t := range buildTables(items, raters, sorted, &opt) {
		rep.Kinds = append(rep.Kinds, c.kindReport(t))
	}
	if c.wantKind(feedback.KindCompare) {
		rep.Position = c.positionBias()
		rep.Length = c.lengthBias()
	}
	rep.Findings = findings(rep)
	rep.AI = AuditAI(items, raters, js)
	rep.Findings = append(rep.Findings, aiFindings(rep.AI, opt.Level)...)
	return rep
}

// context carries what the analyses of one report share.
type context struct {
	js    []feedback.Judgment
	group map[string]string
	opt   Options
	items []feedback.Item
	ix    map[string]*feedback.Item
	words map[string][]int // item id → word count of each response, in item order
}

func (c *context) index() {
	c.ix = make(map[string]*feedback.Item, len(c.items))
	c.words = make(map[string][]int, len(c.items))
	for i := range c.items {
		it := &c.items[i]
		c.ix[it.ID] = it
		wc := make([]int, len(it.Responses))
		for k := range it.Responses {
			wc[k] = words(it.Responses[k].Text)
		}
		c.words[it.ID] = wc
	}
}

func (c *context) wantKind(k feedback.Kind) bool { return c.opt.wants(k) }

// wants reports whether the report covers judgments of kind k (Kinds).
func (o *Options) wants(k feedback.Kind) bool {
	return len(o.Kinds) == 0 || slices.Contains(o.Kinds, k)
}

// seconds returns the time spent on judgment j in seconds, NaN when unknown.
func (c *context) seconds(j int) float64 {
	if ms := c.js[j].MS; ms > 0 {
		return float64(ms) / 1000
	}
	return math.NaN()
}

func share(k, n int) Float {
	if n == 0 {
		return NaN
	}
	return Float(float64(k) / float64(n))
}
