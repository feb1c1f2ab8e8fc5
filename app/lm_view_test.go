package app

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/snapshot"
)

// rawHTML returns the markup of a raw node.
func rawHTML(tb testing.TB, ui app.UI) string {
	tb.Helper()
	var b strings.Builder
	app.PrintHTML(&b, ui)
	return b.String()
}

// lmRun is an optimize-lm run as the worker records it (app/work).
func lmRun() *snapshot.Run {
	sample := map[string]any{"item": "q1", "prompt": "What is <b>2+2</b>?",
		"ref_text": "It is 5 & more.", "ref_kind": "wrong", "ref_parts": []any{"wrong"}, "ref_gold": -2.0, "ref_proxy": 1.5,
		"text": "It is 4.", "kind": "good", "parts": []any{"correct"}, "gold": 2.0, "proxy": 2.5}
	return &snapshot.Run{Name: "policy-lm-1", Kind: "optimize",
		Config: map[string]any{"policy": "lm", "algo": "ppo", "beta": 0.5, "samples": []any{sample},
			"mix_before": map[string]any{"n": int64(60), "correct": 0.35, "wrong": 0.27, "gold": -0.58, "words": 12.6},
			"mix_after":  map[string]any{"n": int64(60), "correct": 0.5, "wrong": 0.1, "gold": 0.25, "words": 9.2}},
		Series:  map[string][]float64{"reward": {1, 2}, "gold": {-1, 0}, "kl_k1": {0, 1}, "entropy": {8, 7}},
		Summary: map[string]float64{"reward_before": 1.73, "reward_after": 3.2, "gold_before": -0.58, "gold_after": 0.25, "beta": 0.5}}
}

func TestLMViews(t *testing.T) {
	r := lmRun()
	if !isLMRun(r) || isLMRun(&snapshot.Run{Kind: "optimize"}) {
		t.Fatal("isLMRun")
	}
	got := rawHTML(t, lmAnswers("x", samplesOfRun(r), 8, lmCol("Reference", r, "ref_"), lmCol("Trained", r, "")))
	for _, want := range []string{"What is &lt;b&gt;2+2&lt;/b&gt;?", "It is 5 &amp; more.", "Reference — wrong", "Trained — good",
		`<span class="tag good">correct</span>`, "gold -2 · proxy 1.5", "gold 2 · proxy 2.5"} {
		if !strings.Contains(got, want) {
			t.Errorf("answers lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<b>2") {
		t.Error("the prompt was not escaped")
	}
	table := rawHTML(t, lmMixTable("m", []string{"reference", "trained"}, []map[string]any{mixOf(r, "mix_before"), mixOf(r, "mix_after")}))
	for _, want := range []string{"One sampled answer to each of 60 prompts.", "<td style=\"font-variant-numeric: tabular-nums\">35%</td>",
		"<td style=\"font-variant-numeric: tabular-nums\">50%</td>", "12.6", "—"} {
		if !strings.Contains(table, want) {
			t.Errorf("mix table lacks %q:\n%s", want, table)
		}
	}
	if got := rawHTML(t, lmStats(r, "")); !strings.Contains(got, "1.73 → 3.2") || !strings.Contains(got, "-0.58 → 0.25") {
		t.Errorf("stats: %s", got)
	}
}
