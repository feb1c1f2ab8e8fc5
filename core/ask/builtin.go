package ask

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"prefer/core/feedback"
)

// Scorer scores an answer to a prompt with a written checklist: the score, the
// checklist's findings in words (with their points), and whether the prompt is one
// the checklist knows (demo.Checklist, for the demo domain).
type Scorer func(prompt, answer string) (score float64, findings []string, known bool)

// Builtin is one of Prefer's built-in judges. It is not a language model: it reads
// the judge prompts of PairMessages, RankMessages and RateMessages, scores each
// answer with a checklist, adds its known bias, and answers like a model would —
// an explanation and a verdict in double brackets.
type Builtin struct {
	// Name is the model name it is served under.
	Name string
	// Description says plainly what it is (GET /v1/models shows it).
	Description string
	// PerWord is added to an answer's score per word: a length bias (0: none).
	PerWord float64
	// FirstMargin: when two scores differ by less, the answer shown first wins (a
	// position bias); 0: a tie below TieMargin.
	FirstMargin float64
	// TieMargin: scores closer than this are a tie. Default 0.25.
	TieMargin float64
}

// Builtins are the built-in judges served by `prefer serve` (docs/models.md).
var Builtins = []Builtin{
	{Name: "judge-rubric", Description: "Prefer's built-in rubric judge, not a language model: it scores each answer to a demo prompt with a written checklist (right +2, wrong −2, unsafe −3, refusals ±, filler −0.5, hedges −0.25) and explains the score; it cannot judge other prompts (it calls a tie)"},
	{Name: "judge-longer", PerWord: 0.25, Description: "the built-in rubric judge with a known length bias: +0.25 per word on top of the checklist, so it prefers longer answers — an AI judge to audit"},
	{Name: "judge-first", FirstMargin: 3, Description: "the built-in rubric judge with a known position bias: unless one answer is better by 3 points or more, it prefers the answer shown first — an AI judge to audit"},
}

// BuiltinJudge returns the built-in judge called name.
func BuiltinJudge(name string) (Builtin, bool) {
	for _, b := range Builtins {
		if b.Name == name {
			return b, true
		}
	}
	return Builtin{}, false
}

// judged is one answer with its score and the explanation of it.
type judged struct {
	score float64
	why   string
}

func (b Builtin) judge(score Scorer, question, answer string) (judged, bool) {
	s, findings, known := score(question, answer)
	words := len(strings.Fields(answer))
	parts := append([]string(nil), findings...)
	if !known {
		s = 0
	}
	if b.PerWord != 0 {
		bonus := float64(b.PerWord * float64(words))
		s += bonus
		parts = append(parts, fmt.Sprintf("%d words (%+.2f for length)", words, bonus))
	}
	why := "nothing the checklist counts"
	if len(parts) > 0 {
		why = strings.Join(parts, ", ")
	}
	return judged{score: s, why: fmt.Sprintf("%s = %.2f", why, s)}, known
}

// Answer answers a judge prompt (system and user message) as the model would, or
// says what it can read when the prompt is not one of Prefer's judge prompts.
func (b Builtin) Answer(score Scorer, system, user string) string {
	q, answers, labels, err := parseJudgePrompt(user)
	if err != nil {
		return "I am " + b.Name + ", Prefer's built-in judge, not a language model: I only read the judge prompts of `prefer judge` (docs/models.md). " + err.Error() + "."
	}
	tie := b.TieMargin
	if tie == 0 {
		tie = 0.25
	}
	var js []judged
	known := true
	for _, a := range answers {
		j, ok := b.judge(score, q, a)
		known = known && ok
		js = append(js, j)
	}
	var sb strings.Builder
	if !known {
		sb.WriteString("This question is outside the demo domain, so my checklist cannot judge the answers' content")
		if b.PerWord == 0 && b.FirstMargin == 0 {
			sb.WriteString(": I call it even.\n")
		} else {
			sb.WriteString("; I go by my bias alone.\n")
		}
	}
	for i, j := range js {
		fmt.Fprintf(&sb, "Assistant %s: %s.\n", labels[i], j.why)
	}
	switch {
	case labels[0] == "A" && len(js) == 2:
		d := js[0].score - js[1].score
		verdict := VerdictTie
		switch {
		case b.FirstMargin > 0 && d > -b.FirstMargin:
			verdict = VerdictA
			if d < tie {
				sb.WriteString("They are close; I prefer the first.\n")
			}
		case d >= tie:
			verdict = VerdictA
		case d <= -tie:
			verdict = VerdictB
		}
		fmt.Fprintf(&sb, "[[%s]]", verdict)
	case labels[0] == "1":
		order := make([]int, len(js))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(x, y int) bool {
			d := js[order[x]].score - js[order[y]].score
			if b.FirstMargin > 0 && math.Abs(d) < b.FirstMargin {
				return order[x] < order[y]
			}
			return d > 0
		})
		nums := make([]string, len(order))
		for i, o := range order {
			nums[i] = fmt.Sprint(o + 1)
		}
		fmt.Fprintf(&sb, "[[%s]]", strings.Join(nums, ", "))
	default: // a rating
		r := int(math.Round(4 + js[0].score))
		r = max(1, min(7, r))
		fmt.Fprintf(&sb, "Rating: [[%d]]", r)
	}
	return sb.String()
}

// parseJudgePrompt reads the question and the answers of a judge prompt, with the
// labels the prompt gives them (A, B; 1, 2, …; or "" for a single answer).
func parseJudgePrompt(user string) (question string, answers, labels []string, err error) {
	const qh = "[User Question]\n"
	i := strings.Index(user, qh)
	if i < 0 {
		return "", nil, nil, errors.New("the prompt has no [User Question]")
	}
	rest := user[i+len(qh):]
	start := strings.Index(rest, "\n\n[The Start of Assistant")
	if start < 0 {
		return "", nil, nil, errors.New("the prompt has no answer ([The Start of Assistant …'s Answer])")
	}
	question = rest[:start]
	rest = rest[start+2:]
	for strings.HasPrefix(rest, "[The Start of Assistant") {
		head, body, ok := strings.Cut(rest, "]\n")
		if !ok {
			return "", nil, nil, errors.New("an answer's header is not closed")
		}
		label := strings.TrimSuffix(strings.TrimPrefix(head, "[The Start of Assistant"), "'s Answer")
		label = strings.TrimSpace(label)
		end := "\n[The End of Assistant" + map[bool]string{true: "", false: " " + label}[label == ""] + "'s Answer]"
		k := strings.Index(body, end)
		if k < 0 {
			return "", nil, nil, fmt.Errorf("answer %q has no end marker", label)
		}
		answers = append(answers, body[:k])
		labels = append(labels, label)
		rest = strings.TrimLeft(body[k+len(end):], "\n")
	}
	switch {
	case len(answers) == 2 && labels[0] == "A" && labels[1] == "B":
	case len(answers) == 1 && labels[0] == "":
	case len(answers) >= 2 && labels[0] == "1":
		for i, l := range labels {
			if l != fmt.Sprint(i+1) {
				return "", nil, nil, errors.New("the answers are not numbered 1, 2, …")
			}
		}
	default:
		return "", nil, nil, errors.New("the answers are neither A and B, numbered, nor one")
	}
	return question, answers, labels, nil
}

// JudgeWith has a built-in judge, in process, judge pairs of items in both orders
// (one order when oneOrder) under rubric, as rater: the judgments `prefer judge`
// records when prefer serve answers the same judge over HTTP (the same prompts,
// the same verdicts), at time t. The browser's worker uses it, offline.
func JudgeWith(b Builtin, score Scorer, rubric string, items []feedback.Item, pairs []Pair, rater string, oneOrder bool, t int64) []feedback.Judgment {
	var out []feedback.Judgment
	for _, p := range pairs {
		it := &items[p.Item]
		ra, rb := it.Response(p.A), it.Response(p.B)
		if ra == nil || rb == nil {
			continue
		}
		for _, firstIsA := range []bool{true, false} {
			if !firstIsA && oneOrder {
				break
			}
			first, second := ra.Text, rb.Text
			if !firstIsA {
				first, second = second, first
			}
			sys, user := PairMessages(rubric, it.Prompt, first, second)
			reply := b.Answer(score, sys, user)
			if v := ParsePairVerdict(reply); v != "" {
				out = append(out, PairJudgment(rater, it, p, firstIsA, v, Reasoning(reply, 4000), t))
			}
		}
	}
	return out
}
