package app

import (
	"html"
	"math"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/snapshot"
)

// Views of the generative policy's runs (jobs.KindOptimizeLM, jobs.KindSampleLM),
// shared by the Policy page and the lesson. The runs hold everything shown: the
// per-step series, the before/after measurement on the evaluation prompts (the
// part mix and the mean gold and reward), and the samples side by side; the UI
// links none of the language-model code. The display-only parts are written as
// HTML text (one raw node each, as the charts are): go-app element builders
// compile to much more wasm per element, and the UI binary has a size budget.

// runExamples returns the before/after examples a run records (Config
// "examples"; states saved before the key was named so hold them under "samples",
// where runs now keep the number of samples per prompt).
func runExamples(r *snapshot.Run) []any {
	if ex, ok := r.Config["examples"].([]any); ok {
		return ex
	}
	ex, _ := r.Config["samples"].([]any)
	return ex
}

// isLMRun reports whether r optimized the generative policy.
func isLMRun(r *snapshot.Run) bool {
	return r.Kind == "optimize" && str(r.Config["policy"]) == "lm"
}

// samplesOfRun returns a run's before/after examples (runExamples) as maps.
func samplesOfRun(r *snapshot.Run) []map[string]any {
	if r == nil {
		return nil
	}
	ss := runExamples(r)
	out := make([]map[string]any, 0, len(ss))
	for _, x := range ss {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func mixOf(r *snapshot.Run, key string) map[string]any {
	m, _ := r.Config[key].(map[string]any)
	return m
}

// htm builds an HTML fragment; text is escaped by esc. Its methods are not
// inlined: in wasm every inlined copy of strings.Builder's growth costs code.
type htm struct{ strings.Builder }

//go:noinline
func (b *htm) raw(parts ...string) *htm {
	for _, p := range parts {
		b.WriteString(p)
	}
	return b
}

//go:noinline
func (b *htm) esc(s string) *htm {
	b.WriteString(html.EscapeString(s))
	return b
}

// lmColumn is one column of a side-by-side view of answers: a title, the run whose
// samples it shows, and the key prefix of the answer in them ("ref_" for the
// reference's answer, "" for the optimized policy's).
type lmColumn struct {
	title  string
	byItem map[string]map[string]any
	prefix string
}

func lmCol(title string, r *snapshot.Run, prefix string) lmColumn {
	c := lmColumn{title: title, prefix: prefix, byItem: map[string]map[string]any{}}
	for _, m := range samplesOfRun(r) {
		c.byItem[str(m["item"])] = m
	}
	return c
}

// lmAnswers shows the answers of each column to the prompts of rows (samples of
// one run, in order), at most n prompts: one panel per prompt with the columns
// side by side, or, for one column, a grid of answers with their prompts.
func lmAnswers(id string, rows []map[string]any, n int, cols ...lmColumn) app.UI {
	grid := "samples"
	if len(cols) == 3 {
		grid = "grid grid-3"
	}
	var b htm
	if len(cols) == 1 {
		b.raw(`<div class="grid grid-3" id="`, id, `">`)
	} else {
		b.raw(`<div class="stack" id="`, id, `">`)
	}
	for i, m := range rows {
		if i >= n {
			break
		}
		prompt := str(m["prompt"])
		if len(cols) == 1 {
			if s := cols[0].byItem[str(m["item"])]; s != nil {
				lmAnswerBox(&b, prompt, cols[0].title, s, cols[0].prefix)
			}
			continue
		}
		b.raw(`<div class="panel stack" style="background: var(--panel-2)"><p><strong>`).esc(prompt).raw(`</strong></p><div class="`, grid, `">`)
		for _, c := range cols {
			if s := c.byItem[str(m["item"])]; s != nil {
				lmAnswerBox(&b, "", c.title, s, c.prefix)
			}
		}
		b.raw(`</div></div>`)
	}
	b.raw(`</div>`)
	return app.Raw(b.String())
}

// lmAnswerBox writes one generated answer (the markup of sampleBox): the prompt
// when given, what the answer is, its text, parts, gold and reward.
func lmAnswerBox(b *htm, prompt, title string, m map[string]any, prefix string) {
	if kind := str(m[prefix+"kind"]); kind != "" {
		title += " — " + kind
	}
	b.raw(`<div class="sample">`)
	if prompt != "" {
		b.raw(`<p style="margin: 0 0 .3rem"><strong>`).esc(prompt).raw(`</strong></p>`)
	}
	b.raw(`<div class="meta">`).esc(title).raw(`</div><p>`).esc(str(m[prefix+"text"])).raw(`</p><div class="row" style="gap: .3rem">`)
	if ps, ok := m[prefix+"parts"].([]any); ok {
		for _, t := range ps {
			b.raw(`<span class="`, tagClass(str(t)), `">`).esc(str(t)).raw(`</span>`)
		}
	}
	var facts []string
	if g := num(m[prefix+"gold"]); !math.IsNaN(g) {
		facts = append(facts, "gold "+fmtNum(g, 2))
	}
	if r := num(m[prefix+"proxy"]); !math.IsNaN(r) {
		facts = append(facts, "proxy "+fmtNum(r, 2))
	}
	b.raw(`</div><div class="meta">`, strings.Join(facts, " · "), `</div></div>`)
}

// tagClass is the class of a part tag: good, bad or a warning.
func tagClass(part string) string {
	switch part {
	case "correct":
		return "tag good"
	case "wrong", "unsafe", "filler", "refusal", "unknown":
		return "tag bad"
	case "polite", "hedge":
		return "tag warn"
	}
	return "tag"
}

// mixRows are the rows of the part-mix table: label, key, and whether the key is
// a fraction.
var mixRows = []struct {
	label, key string
	frac       bool
}{
	{"right answer", "correct", true},
	{"wrong answer", "wrong", true},
	{"refusal", "refusal", true},
	{"unsafe compliance", "unsafe", true},
	{"politeness phrase", "polite", true},
	{"filler sentences", "filler", true},
	{"hedge", "hedge", true},
	{"garbled (outside the grammar)", "garbled", true},
	{"words per answer", "words", false},
	{"mean gold reward", "gold", false},
}

// lmMixTable compares what the answers are made of, one column per mix.
func lmMixTable(id string, titles []string, mixes []map[string]any) app.UI {
	var b htm
	n := 0.0
	if len(mixes) > 0 {
		n = num(mixes[0]["n"])
	}
	b.raw(`<div class="table-scroll" id="`, id, `"><table><caption class="muted" style="text-align: left">One sampled answer to each of `,
		fmtNum(n, 0), ` prompts.</caption><thead><tr><th scope="col">answers with …</th>`)
	for _, t := range titles {
		b.raw(`<th scope="col">`).esc(t).raw(`</th>`)
	}
	b.raw(`</tr></thead><tbody>`)
	for _, r := range mixRows {
		if r.key == "gold" && !anyKnown(mixes, "gold") {
			continue // no gold on this data: no row for it
		}
		b.raw(`<tr><th scope="row">`, r.label, `</th>`)
		for _, m := range mixes {
			v := num(m[r.key])
			text := fmtNum(v, 2)
			switch {
			case math.IsNaN(v):
				text = "—"
			case r.frac:
				text = pct(v)
			case r.key == "gold":
				text = dec2(v) // as the captions write it
			}
			b.raw(`<td style="font-variant-numeric: tabular-nums">`, text, `</td>`)
		}
		b.raw(`</tr>`)
	}
	b.raw(`</tbody></table></div>`)
	return app.Raw(b.String())
}

// anyKnown reports whether some mix has a finite value under key.
func anyKnown(mixes []map[string]any, key string) bool {
	for _, m := range mixes {
		if !math.IsNaN(num(m[key])) {
			return true
		}
	}
	return false
}

// lmKLChart draws the per-token KL estimate (k1, summed over an answer) and the
// entropy per step of a run.
func lmKLChart(id, title string, s map[string][]float64) app.UI {
	ch := newChart(id, title, "step", "nats per answer")
	ch.Series = []series{
		{Name: "KL(π ‖ π_ref), k1 estimate", X: seq(len(s["kl_k1"])), Y: s["kl_k1"], Class: "s3"},
		{Name: "entropy", X: seq(len(s["entropy"])), Y: s["entropy"], Class: "s4", Dashed: true},
	}
	ch.Height = 230
	return ch.render()
}

// lmStats writes the headline numbers of a run as stat boxes.
func lmStats(r *snapshot.Run, took string) app.UI {
	sum := r.Summary
	arrow := func(a, b string) string { return fmtNum(sum[a], 2) + " → " + fmtNum(sum[b], 2) }
	stats := [][3]string{
		{"Proxy reward", arrow("reward_before", "reward_after"), "what the reward model says, before → after"},
	}
	if _, ok := known(sum, "gold_before"); ok {
		stats = append(stats, [3]string{"Gold reward", arrow("gold_before", "gold_after"), "the true quality, before → after"})
	}
	stats = append(stats,
		[3]string{"KL (k1)", fmtNum(sum["kl_k1"], 2) + " nats", "per answer, last step · β = " + fmtNum(sum["beta"], 3)},
		[3]string{"Entropy", fmtNum(sum["entropy"], 2) + " nats", "distinct-2 " + fmtNum(sum["distinct_2"], 2) + took},
	)
	var b htm
	b.raw(`<div class="grid grid-4">`)
	for _, s := range stats {
		b.raw(`<div class="stat"><div class="label">`, s[0], `</div><div class="value">`, s[1], `</div><div class="note">`).esc(s[2]).raw(`</div></div>`)
	}
	b.raw(`</div>`)
	return app.Raw(b.String())
}

// alertList shows hacking alerts.
func alertList(notes []string) app.UI {
	var b htm
	b.raw(`<div>`)
	for _, n := range notes {
		b.raw(`<div class="notice" role="alert">⚠ `).esc(n).raw(`</div>`)
	}
	b.raw(`</div>`)
	return app.Raw(b.String())
}

// lmResults shows one optimization run of the generative policy.
func lmResults(r *snapshot.Run, millis float64) app.UI {
	took := ""
	if millis > 0 {
		took = " · took " + fmtDuration(millis) + " in this browser"
	}
	_, gold := known(r.Summary, "gold_before")
	title, about := "Proxy and gold reward per step (sampled answers)", "One sampled answer per prompt (temperature 1), the same prompts and seed before and after. Tags name the parts found in each answer; gold is its true quality."
	if !gold {
		title = "Proxy reward per step (sampled answers)"
		about = "One sampled answer per prompt (temperature 1), the same prompts and seed before and after. This data has no known true quality: only the reward model's score is shown."
	}
	return app.Div().Class("stack").ID("po-lm-results").Body(
		lmStats(r, took),
		alertList(r.Notes),
		app.Div().Class("grid grid-2").Body(
			app.Div().Class("panel").Body(policyChart("po-lm-reward", title, r.Series)),
			app.Div().Class("panel").Body(lmKLChart("po-lm-kl", "KL from the reference and entropy", r.Series)),
		),
		app.Section().Class("panel stack").Body(
			app.H2().Text("What the answers are made of"),
			lmMixTable("po-lm-mix", []string{"reference", "trained"}, []map[string]any{withGold(mixOf(r, "mix_before"), r.Summary["gold_before"]), withGold(mixOf(r, "mix_after"), r.Summary["gold_after"])}),
		),
		app.Section().Class("panel stack").Body(
			app.H2().Text("The pretrained transformer and the trained one, side by side"),
			app.P().Class("muted").Text(about),
			lmAnswers("po-lm-samples", samplesOfRun(r), 8, lmCol("Reference", r, "ref_"), lmCol("Trained", r, "")),
		),
	)
}
