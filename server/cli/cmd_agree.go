package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"prefer/core/agree"
	"prefer/core/feedback"
)

func init() {
	register(&command{
		name: "agree",
		usage: "agree SNAP [--json] [--kind KINDS] [--axis AXIS] [--metric nominal|ordinal|interval|ratio]\n" +
			"             [--level P] [--bucket N] [--windows N] [--min-shared N] [--permutations N] [--seed N]",
		summary: "agreement and rater quality: κ, α, Dawid–Skene, position and length bias, fatigue, drift, groups",
		run:     runAgree,
	})
}

// agreeKinds are the judgment kinds that carry labels agreement can be measured on.
var agreeKinds = []feedback.Kind{feedback.KindCompare, feedback.KindRank, feedback.KindRate, feedback.KindThumb, feedback.KindFlag}

func runAgree(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("agree", stderr)
	asJSON := fs.Bool("json", false, "print the whole report as one JSON object (keys: docs/quality.md)")
	kinds := fs.String("kind", "", "judgment kinds to report, comma-separated: compare, rank, rate, thumb, flag (default all)")
	axis := fs.String("axis", "", "rate judgments: only this axis (default every axis, each separately)")
	def := agree.Options{}.WithDefaults() // one set of defaults: the core's
	metric := fs.String("metric", string(def.Metric), "Krippendorff's α metric for ratings: nominal, ordinal, interval or ratio")
	level := fs.Float64("level", def.Level, "significance level of the bias, fatigue, drift and group flags")
	bucket := fs.Int("bucket", def.Bucket, "fatigue: session positions per bucket")
	windows := fs.Int("windows", def.Windows, "drift: number of equal-count time windows")
	minShared := fs.Int("min-shared", def.MinShared, "fewest shared units for a rater pair's Cohen's κ to be listed")
	perms := fs.Int("permutations", def.Permutations, "permutations of the group-difference test")
	seed := fs.Uint64("seed", 1, "seed of the group-difference permutation test")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one snapshot file (got %d arguments)", len(pos))
	}
	opt := agree.Options{Axis: *axis, Seed: *seed}
	if opt.Metric, err = agree.ParseMetric(*metric); err != nil {
		return usagef("--metric: %v", err)
	}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			k = strings.TrimSpace(k)
			if !slices.Contains(agreeKinds, feedback.Kind(k)) {
				return usagef("--kind: %q is not a kind with labels; use compare, rank, rate, thumb or flag", k)
			}
			opt.Kinds = append(opt.Kinds, feedback.Kind(k))
		}
	}
	if !(*level > 0 && *level < 1) {
		return usagef("--level %v must be between 0 and 1, e.g. 0.01", *level)
	}
	opt.Level = *level
	for _, f := range []struct {
		name string
		v    int
		dst  *int
		max  int
	}{
		{"--bucket", *bucket, &opt.Bucket, 1 << 20},
		{"--windows", *windows, &opt.Windows, 1000},
		{"--min-shared", *minShared, &opt.MinShared, 1 << 30},
		{"--permutations", *perms, &opt.Permutations, 1000000},
	} {
		if f.v < 1 || f.v > f.max {
			return usagef("%s %d is out of range; give 1 to %d", f.name, f.v, f.max)
		}
		*f.dst = f.v
	}
	s, _, err := readSnapshotID(pos[0])
	if err != nil {
		return err
	}
	rep := agree.Analyze(s.Items, s.Raters, s.Judgments, opt)
	if *asJSON {
		return printJSON(stdout, rep)
	}
	if len(rep.Kinds) == 0 {
		fmt.Fprintf(stdout, "%s has no judgments with labels to compare (compare, rank, rate, thumb or flag); import or collect some first.\n", pos[0])
		return nil
	}
	return rep.WriteText(stdout)
}
