package cli

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/reward"
)

func init() {
	register(&command{
		name:    "rank",
		usage:   "rank SNAP [--position-effect] [--bootstrap N] [--seed N] [--ridge R] [--reference RESPONSE] [--level L] [--both-bad-tie] [--json]",
		summary: "tabular Bradley–Terry leaderboard: a score per response with standard errors and bootstrap intervals",
		run:     runRank,
	})
}

// rankReport is the JSON of prefer rank. Numbers that do not exist (the standard
// error of a response never compared, intervals without --bootstrap) are null.
type rankReport struct {
	Input          string      `json:"input"`
	InputID        string      `json:"input_id"`
	Pairs          int         `json:"pairs"`
	Items          []rankItem  `json:"items"`
	PositionEffect bool        `json:"position_effect"`
	Alpha          *num.Float  `json:"alpha,omitempty"` // with --position-effect only
	AlphaSE        *num.Float  `json:"alpha_se,omitempty"`
	AlphaCI        []num.Float `json:"alpha_ci,omitempty"`
	Ties           bool        `json:"ties"`
	Eta            *num.Float  `json:"eta,omitempty"` // when there are ties only
	EtaSE          *num.Float  `json:"eta_se,omitempty"`
	LogLik         float64     `json:"log_likelihood"`
	Deviance       float64     `json:"deviance"`
	DF             int         `json:"df"`
	Ridge          float64     `json:"ridge"`
	PriorItems     []string    `json:"prior_items"` // items whose groups needed the automatic prior
	Iterations     int         `json:"iterations"`
	Bootstrap      int         `json:"bootstrap"`
	Separated      int         `json:"bootstrap_separated"`
	Level          float64     `json:"level"`
	Seed           uint64      `json:"seed"`
	Notes          []string    `json:"notes"`
	TieModel       string      `json:"tie_model"`
	Reference      string      `json:"reference,omitempty"`
	Unranked       int         `json:"unranked"`
}

type rankItem struct {
	ID        string         `json:"id"`
	Prompt    string         `json:"prompt"`
	Responses []rankResponse `json:"responses"`
}

type rankResponse struct {
	ID        string    `json:"id"`
	Text      string    `json:"text"`
	Score     float64   `json:"score"`
	SE        num.Float `json:"se"`
	CILow     num.Float `json:"ci_low"`
	CIHigh    num.Float `json:"ci_high"`
	Wins      int       `json:"wins"`
	Losses    int       `json:"losses"`
	Ties      int       `json:"ties"`
	Ranked    bool      `json:"ranked"`
	Reference bool      `json:"reference,omitempty"`
}

func runRank(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rank", stderr)
	position := fs.Bool("position-effect", false, "fit a left-position effect α: logit P(left wins) = λ_left − λ_right + α")
	boot := fs.Int("bootstrap", 0, "bootstrap resamples of the judgments for confidence intervals (0: none; 200 typical)")
	seed := fs.Uint64("seed", 1, "seed of the bootstrap resampling")
	ridge := fs.Float64("ridge", 0, "precision of a N(0, 1/ridge) prior on the scores; 0 = none when the maximum-likelihood scores exist, else 0.1")
	ref := fs.String("reference", "", "response (id or text) fixed at score 0 in each group containing it (default: the first compared response)")
	level := fs.Float64("level", 0.95, "confidence level of the bootstrap intervals")
	bothBad := fs.Bool("both-bad-tie", false, "count \"both bad\" comparisons as ties (default: dropped)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseIn(fs, args)
	if err != nil {
		return err
	}
	if *boot < 0 || *boot > 100000 {
		return usagef("--bootstrap %d: give 0 to 100000 resamples", *boot)
	}
	if *ridge < 0 || math.IsNaN(*ridge) || math.IsInf(*ridge, 0) {
		return usagef("--ridge %v: give 0 (automatic) or a positive precision", *ridge)
	}
	if !(*level > 0 && *level < 1) {
		return usagef("--level %v: give a confidence level between 0 and 1, e.g. 0.95", *level)
	}
	s, inputID, err := readSnapshotID(in) // the input's bytes are not held while fitting
	if err != nil {
		return err
	}
	opt := feedback.PairOptions{}
	if *bothBad {
		opt.BothBad = feedback.BothBadTie
	}
	pairs := feedback.Pairs(s.Items, s.Judgments, opt)
	groups := feedback.Groups(s.Judgments)
	lb, err := reward.FitTabular(s.Items, pairs, groups, reward.TabularConfig{
		PositionEffect: *position, Bootstrap: *boot, Seed: *seed, Ridge: *ridge, Reference: *ref, Level: *level,
	})
	if err != nil {
		return err
	}
	rep := rankReportOf(lb, inputID, *seed, *level, *ref)
	rep.Input = in
	if *asJSON {
		items := rep.Items
		rep.Items = nil
		return printJSONList(stdout, rep, "items", items)
	}
	printLeaderboard(stdout, rep)
	return nil
}

func rankReportOf(lb *reward.Leaderboard, id string, seed uint64, level float64, ref string) rankReport {
	rep := rankReport{
		InputID: id, Pairs: lb.Pairs, PositionEffect: lb.PositionEffect, Ties: lb.Ties,
		LogLik: lb.LogLik, Deviance: lb.Deviance, DF: lb.DF, Ridge: lb.Ridge, PriorItems: lb.PriorItems, Iterations: lb.Iterations,
		Bootstrap: lb.Bootstrap, Separated: lb.Separated, Level: level, Seed: seed, Notes: lb.Notes,
		TieModel: "rao-kupper", Reference: ref,
	}
	if rep.PriorItems == nil {
		rep.PriorItems = []string{}
	}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	if lb.PositionEffect {
		rep.Alpha, rep.AlphaSE = numPtr(lb.Alpha), numPtr(lb.AlphaSE)
		if lb.Bootstrap > 0 {
			rep.AlphaCI = []num.Float{num.Float(lb.AlphaCI[0]), num.Float(lb.AlphaCI[1])}
		}
	}
	if lb.Ties {
		rep.Eta, rep.EtaSE = numPtr(lb.Eta), numPtr(lb.EtaSE)
	}
	for _, it := range lb.Items {
		ri := rankItem{ID: it.ID, Prompt: it.Prompt}
		for _, st := range it.Responses {
			if !st.Ranked {
				rep.Unranked++
			}
			ri.Responses = append(ri.Responses, rankResponse{
				ID: st.ID, Text: st.Text, Score: st.Score, SE: num.Float(st.SE), CILow: num.Float(st.CILow), CIHigh: num.Float(st.CIHigh),
				Wins: st.Wins, Losses: st.Losses, Ties: st.Ties, Ranked: st.Ranked, Reference: st.Reference,
			})
		}
		rep.Items = append(rep.Items, ri)
	}
	return rep
}

// numPtr returns x as a figure of an optional section (null when unknown).
func numPtr(x float64) *num.Float { f := num.Float(x); return &f }

// printLeaderboard writes the leaderboard as text tables, one per item with
// comparisons.
func printLeaderboard(w io.Writer, rep rankReport) {
	f := func(p num.Float) string {
		if !p.Valid() {
			return "—"
		}
		return fmt.Sprintf("%.3f", float64(p))
	}
	for _, it := range rep.Items {
		ranked := 0
		for _, r := range it.Responses {
			if r.Ranked {
				ranked++
			}
		}
		if ranked == 0 {
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", it.ID, rmOneLine(it.Prompt, 70))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tscore\tse\tci\tW-L-T\tresponse")
		k := 0
		for _, r := range it.Responses {
			if !r.Ranked {
				continue
			}
			k++
			ci := "—"
			if r.CILow.Valid() && r.CIHigh.Valid() {
				ci = fmt.Sprintf("[%.2f, %.2f]", float64(r.CILow), float64(r.CIHigh))
			}
			ref := ""
			if r.Reference {
				ref = " (reference)"
			}
			fmt.Fprintf(tw, "  %d\t%.3f\t%s\t%s\t%d-%d-%d\t%s%s\n", k, r.Score, f(r.SE), ci, r.Wins, r.Losses, r.Ties, rmOneLine(r.Text, 50), ref)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\n%d comparisons; deviance %.3f on %d df; %d Newton iterations", rep.Pairs, rep.Deviance, rep.DF, rep.Iterations)
	if rep.Ridge > 0 {
		fmt.Fprintf(w, "; prior precision %g", rep.Ridge)
	}
	fmt.Fprintln(w)
	if rep.PositionEffect && rep.Alpha != nil && rep.Alpha.Valid() {
		fmt.Fprintf(w, "position effect α = %.3f (se %s): raters favour the left response by that many logits\n", float64(*rep.Alpha), f(*rep.AlphaSE))
	}
	if rep.Ties && rep.Eta != nil && rep.Eta.Valid() {
		fmt.Fprintf(w, "tie threshold η = %.3f (se %s), Rao–Kupper\n", float64(*rep.Eta), f(*rep.EtaSE))
	}
	if rep.Bootstrap > 0 {
		fmt.Fprintf(w, "%.0f%% intervals from %d bootstrap resamples (%d separated, kept finite by a vanishing prior)\n", 100*rep.Level, rep.Bootstrap, rep.Separated)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// rmOneLine shortens text to one line of at most n runes.
func rmOneLine(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return text
}
