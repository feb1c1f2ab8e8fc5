package agree

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// kindName names a kind report in prose: "compare", "rate (helpful)".
func (k *KindReport) name() string {
	if k.Axis != "" {
		return fmt.Sprintf("%s (%s)", k.Kind, k.Axis)
	}
	return string(k.Kind)
}

func pct(f Float) string {
	if !f.Valid() {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", float64(100*float64(f)))
}

func pval(f Float) string {
	if !f.Valid() {
		return "–"
	}
	return fmt.Sprintf("%.2g", float64(f))
}

// findings lists the notable results of r in plain words, most important first: what
// the data cannot say, raters whose labels look like noise (too fast, at chance,
// straight-lining), position and length bias, fatigue, the least accurate rater by
// Dawid–Skene, drift and group differences, then the agreement figures.
func findings(r *Report) []string {
	out := []string{}
	for i := range r.Kinds {
		k := &r.Kinds[i]
		if k.PairableUnits == 0 && (k.Kind == "compare" || k.Kind == "rank") {
			out = append(out, fmt.Sprintf("%s: no unit was labeled by two raters, so agreement, agreement with the consensus and Dawid–Skene cannot be computed on these %d labels.", k.name(), k.Observations))
		}
	}
	for i := range r.Kinds {
		k := &r.Kinds[i]
		for _, rs := range k.Raters {
			if f := noiseFinding(k, &rs); f != "" {
				out = append(out, f)
			}
		}
	}
	if p := r.Position; p != nil {
		if p.Biased {
			out = append(out, fmt.Sprintf("The panel favours the %s response: the left one wins %s of %d decided comparisons (p = %s).",
				side(p.LeftShare), pct(p.LeftShare), p.Decided, pval(p.P)))
		}
		for _, s := range p.Raters {
			if s.Biased {
				out = append(out, fmt.Sprintf("Rater %s favours the %s response: the left one wins %s of %d decided comparisons (p = %s).",
					s.Rater, side(s.LeftShare), pct(s.LeftShare), s.Decided, pval(s.P)))
			}
		}
		var possible []string
		for _, s := range p.Raters {
			if s.Possible {
				possible = append(possible, fmt.Sprintf("rater %s (left wins %s of %d, p = %s)", s.Rater, pct(s.LeftShare), s.Decided, pval(s.P)))
			}
		}
		if len(possible) > 0 {
			out = append(out, fmt.Sprintf("May favour one side (p below %g but not %g; of %d raters about %.1f would get there by chance): %s.",
				WatchLevel, r.Level, len(p.Raters), float64(WatchLevel*float64(len(p.Raters))), strings.Join(possible, "; ")))
		}
	}
	if l := r.Length; l != nil {
		for _, s := range append([]LengthStats{l.LengthStats}, l.Raters...) {
			if !s.Biased {
				continue
			}
			who := "The panel"
			if s.Rater != "" {
				who = "Rater " + s.Rater
			}
			var msg string
			if s.EffectP.Valid() {
				lean := "longer"
				if s.Effect < 0 {
					lean = "shorter"
				}
				msg = fmt.Sprintf("%s favours %s responses beyond their quality: %+.2f log-odds per doubling of length (p = %s); picks the longer in %s of %d decided comparisons, gold in %s",
					who, lean, float64(s.Effect), pval(s.EffectP), pct(s.LongerShare), s.Decided, pct(s.GoldLongerShare))
			} else {
				msg = fmt.Sprintf("%s picks the longer response in %s of %d decided comparisons (p = %s; no gold to tell a taste for length from length that goes with quality)", who, pct(s.LongerShare), s.Decided, pval(s.P))
			}
			out = append(out, msg+".")
		}
	}
	for i := range r.Kinds {
		k := &r.Kinds[i]
		for _, rs := range k.Raters {
			var signs []string
			if rs.QualityFalls {
				signs = append(signs, fmt.Sprintf("quality changes by %+.2f per 100 judgments (p = %s)", float64(rs.QualitySlope), pval(rs.QualityP)))
			}
			if rs.Slows {
				signs = append(signs, fmt.Sprintf("time per judgment grows by %+.1f s per 100 judgments (p = %s)", float64(rs.SecondsSlope), pval(rs.SecondsP)))
			}
			if len(signs) > 0 {
				out = append(out, fmt.Sprintf("%s: rater %s tires during a session: %s.", k.name(), rs.Rater, strings.Join(signs, "; ")))
			}
		}
		if f := lowestDS(k); f != "" {
			out = append(out, f)
		}
		if d := k.Drift; d != nil && d.Drifting {
			out = append(out, fmt.Sprintf("%s: the label mix changes over time (χ² = %.1f, df %d, p = %s).",
				k.name(), float64(d.MixChi2), d.MixDF, pval(d.MixP)))
		}
		if g := k.Groups; g != nil && g.Differ {
			names := make([]string, len(g.Groups))
			for j, gs := range g.Groups {
				names[j] = gs.Group
			}
			out = append(out, fmt.Sprintf("%s: groups %s label the same units differently (agreement within groups %s, between %s; permutation p = %s on %d shared units).",
				k.name(), strings.Join(names, ", "), pct(g.Within), pct(g.Between), pval(g.P), g.SharedUnits))
		}
	}
	for i := range r.Kinds {
		k := &r.Kinds[i]
		a := &k.Agreement
		if k.PairableUnits == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s: percent agreement %s, Fleiss' κ %s, Krippendorff's α (%s) %s on %d units labeled by two or more raters.",
			k.name(), pct(a.Percent), a.FleissKappa, k.Metric, a.Alpha, k.PairableUnits))
	}
	return out
}

// noiseFinding describes a rater whose labels look like noise on one kind: too fast
// to have read, at chance against the consensus, or the same label whatever the
// question; "" when none of these holds. Each figure that backs it is given, and the
// consensus figures only when the rater shares enough units to have them.
func noiseFinding(k *KindReport, rs *RaterStats) string {
	var signs []string
	if rs.TooFast {
		s := fmt.Sprintf("takes %s s per judgment (median)", sec(rs.SecondsMedian))
		if rs.PanelSeconds.Valid() {
			s += fmt.Sprintf(" where the other raters take %s s", sec(rs.PanelSeconds))
		}
		signs = append(signs, s+": too fast to have read what was judged")
	}
	if rs.AtChance {
		signs = append(signs, fmt.Sprintf("agrees with the other raters' consensus %s of %d times, where chance alone gives %s (κ %s, p = %s)",
			pct(rs.Consensus), rs.ConsensusN, pct(rs.ConsensusChance), fmt2(rs.ConsensusKappa), pval(rs.ConsensusP)))
	} else if len(signs) > 0 && rs.ConsensusN > 0 {
		signs = append(signs, fmt.Sprintf("agrees with the consensus %s of %d times (chance %s)", pct(rs.Consensus), rs.ConsensusN, pct(rs.ConsensusChance)))
	}
	if rs.StraightLines {
		signs = append(signs, fmt.Sprintf("answers %q %s of the time, where the others do %s", rs.TopLabel, pct(rs.TopShare), pct(rs.OthersShare)))
	}
	if len(signs) == 0 {
		return ""
	}
	if len(signs) > 1 && rs.GoldAccuracy.Valid() {
		signs = append(signs, fmt.Sprintf("gold accuracy %s of %d", pct(rs.GoldAccuracy), rs.GoldN))
	}
	return fmt.Sprintf("%s: rater %s %s — check their labels before training on them.", k.name(), rs.Rater, strings.Join(signs, "; "))
}

// lowestDS names the rater with the lowest Dawid–Skene accuracy on a kind when it
// stands out: three or more raters, at least MinFlagN shared units, at least ten
// labels of the rater compared with a consensus, and an accuracy at least DSGap
// below the median of the others' (raters who all agree give no finding).
func lowestDS(k *KindReport) string {
	if len(k.Raters) < 3 || k.DawidSkene == nil || k.PairableUnits < MinFlagN {
		return ""
	}
	worst := -1
	for j, rs := range k.Raters {
		if rs.ConsensusN < 10 {
			continue // too few shared units to single anyone out
		}
		if rs.DSAccuracy.Valid() && (worst < 0 || rs.DSAccuracy < k.Raters[worst].DSAccuracy) {
			worst = j
		}
	}
	if worst < 0 {
		return ""
	}
	var others []float64
	for j, rs := range k.Raters {
		if j != worst && rs.DSAccuracy.Valid() {
			others = append(others, float64(rs.DSAccuracy))
		}
	}
	m := median(others)
	if math.IsNaN(m) || float64(k.Raters[worst].DSAccuracy) > m-DSGap {
		return ""
	}
	return fmt.Sprintf("%s: rater %s has the lowest Dawid–Skene accuracy, %s where the other raters' median is %s.",
		k.name(), k.Raters[worst].Rater, pct(k.Raters[worst].DSAccuracy), pct(Float(m)))
}

func sec(f Float) string {
	if !f.Valid() {
		return "–"
	}
	if f < 10 {
		return fmt.Sprintf("%.1f", float64(f))
	}
	return fmt.Sprintf("%.0f", float64(f))
}

func fmt2(f Float) string {
	if !f.Valid() {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(f))
}

func side(leftShare Float) string {
	if leftShare < 0.5 {
		return "right"
	}
	return "left"
}

// WriteText writes r as a readable summary: the findings, then per kind the agreement,
// the raters, fatigue, drift and groups, then position and length bias.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	p := ew.printf
	who := fmt.Sprintf("by %d raters", r.Raters)
	if r.Raters == 0 {
		who = "without rater ids"
	}
	p("Feedback quality: %d judgments %s on %d items (significance level %g).\n", r.Judgments, who, r.Items, r.Level)
	if len(r.Findings) > 0 {
		p("\nFindings\n")
		for _, f := range r.Findings {
			p("  - %s\n", f)
		}
	}
	for i := range r.Kinds {
		k := &r.Kinds[i]
		a := &k.Agreement
		p("\n== %s: %d labels on %d units (%d pairable, %d repeats); labels %s\n",
			k.name(), k.Observations, k.Units, k.PairableUnits, k.Repeats, strings.Join(k.Labels, ", "))
		p("percent agreement %s   Fleiss' κ %s   Krippendorff's α (%s) %s\n", a.Percent, a.FleissKappa, k.Metric, a.Alpha)
		if m := a.AlphaByMetric; m != nil {
			p("α by metric: nominal %s, ordinal %s, interval %s, ratio %s\n", m.Nominal, m.Ordinal, m.Interval, m.Ratio)
		}
		if c := a.Cohen; c != nil {
			p("Cohen's κ (%s vs %s, %d units) %s, SE %s, p %s\n", c.RaterA, c.RaterB, c.Units, c.Kappa, c.SE, pval(c.P))
		} else if len(a.CohenPairs) > 0 {
			p("mean pairwise Cohen's κ %s over %d rater pairs\n", a.CohenMean, len(a.CohenPairs))
		}
		if a.SelfPairs > 0 {
			p("self-agreement on repeated units %s (%d pairs)\n", a.SelfAgreement, a.SelfPairs)
		}
		for _, n := range k.Notes {
			p("note: %s\n", n)
		}
		if len(k.Raters) > 0 {
			tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "rater\tgroup\tlabels\tconsensus\tchance\tgold\tDS acc\tseconds\tquality/100\t\n")
			for _, rs := range k.Raters {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", rs.Rater, rs.Group, rs.Labels, rs.Consensus,
					rs.ConsensusChance, rs.GoldAccuracy, rs.DSAccuracy, rs.SecondsMedian, rs.QualitySlope)
			}
			tw.Flush()
		}
		if f := k.Fatigue; f != nil {
			p("fatigue: quality %+.3f per 100 positions (p %s), seconds %+.2f per 100 (p %s)\n",
				float64(f.QualitySlope), pval(f.QualityP), float64(f.SecondsSlope), pval(f.SecondsP))
		}
		if d := k.Drift; d != nil {
			p("drift over %d windows: agreement", len(d.Windows))
			for _, w := range d.Windows {
				p(" %s", w.Agreement)
			}
			p("; label mix χ² p %s\n", pval(d.MixP))
		}
		if g := k.Groups; g != nil {
			p("groups:")
			for _, gs := range g.Groups {
				p(" %s (%d raters, consensus %s)", gs.Group, gs.Raters, gs.Consensus)
			}
			p("; on %d shared units agreement within %s, between %s, p %s\n", g.SharedUnits, g.Within, g.Between, pval(g.P))
		}
	}
	if pb := r.Position; pb != nil {
		p("\nposition bias: left wins %s of %d decided comparisons (p %s)\n", pct(pb.LeftShare), pb.Decided, pval(pb.P))
	}
	if lb := r.Length; lb != nil {
		p("length bias: longer wins %s of %d (p %s), correlation %s", pct(lb.LongerShare), lb.Decided, pval(lb.P), lb.Corr)
		if lb.GoldN > 0 {
			p("; gold prefers the longer in %s", pct(lb.GoldLongerShare))
		}
		p("\n")
	}
	writeAI(p, r.AI)
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
