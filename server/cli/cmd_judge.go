package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"prefer/core/agree"
	"prefer/core/ask"
	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

func init() {
	register(&command{
		name: "judge",
		usage: "judge --endpoint URL --model NAME SNAP -o SNAP [--rubric FILE] [--api-key-env NAME] [--pairs human|all] [--max-pairs N]\n" +
			"                [--one-order] [--rank] [--rate AXIS] [--rater ID] [--temperature T] [--seed N] [--concurrency C] [--retries R]\n" +
			"                [--timeout D] [--json]",
		summary: "an AI judge behind an OpenAI-compatible endpoint compares pairs (both orders), ranks or rates, as rater kind ai; resumable",
		run:     untilInterrupted(runJudge),
	})
}

type judgeReport struct {
	Output   string         `json:"output"`
	OutputID string         `json:"output_id"`
	Rater    string         `json:"rater"`
	Endpoint string         `json:"endpoint"`
	Model    string         `json:"model"`
	Tasks    int            `json:"tasks"`    // questions of this run (a pair in one order is one)
	Had      int            `json:"had"`      // answered by an earlier run (resume)
	Asked    int            `json:"asked"`    // answered now
	Unparsed int            `json:"unparsed"` // answers without a readable verdict (not recorded; asked again next run)
	Missing  int            `json:"missing"`
	Retries  map[string]int `json:"retries"`
	Audit    *agree.AIAudit `json:"audit"` // the rater against the people (prefer agree shows it too)
	Complete bool           `json:"complete"`
}

// judgeTask is one question to the judge.
type judgeTask struct {
	id           string
	item         int
	kind         feedback.Kind
	shown        []string // response ids in the order shown
	pair         ask.Pair
	firstIsA     bool
	axis         string
	system, user string
}

// judgeOptions are prefer judge's flags.
type judgeOptions struct {
	*endpointFlags
	in, out, pairs, rate, raterID string
	rubric                        string // the rubric's text (--rubric's file, or ask.DefaultRubric)
	maxPairs                      int
	oneOrder, rank                bool
	temperature                   float64
	seed                          uint64
}

func parseJudge(args []string, stderr io.Writer) (*judgeOptions, error) {
	fs := newFlags("judge", stderr)
	o := &judgeOptions{endpointFlags: addEndpointFlags(fs,
		"base URL of an OpenAI-compatible API (required); prefer serve's own judges: judge-rubric, judge-longer, judge-first",
		"the judge model (required)")}
	fs.StringVar(&o.out, "o", "", "output snapshot (required); when it exists, judging resumes: only unanswered questions are asked")
	rubricFile := fs.String("rubric", "", "`FILE` with the written rubric (default: ask.DefaultRubric, printed by prefer help judge's docs)")
	fs.StringVar(&o.pairs, "pairs", "human", "which pairs: human (those people compared: the audit's) or all (every pair of every item)")
	fs.IntVar(&o.maxPairs, "max-pairs", 5000, "most pairs to judge")
	fs.BoolVar(&o.oneOrder, "one-order", false, "show each pair in one order only (position bias then goes unmeasured and uncancelled)")
	fs.BoolVar(&o.rank, "rank", false, "also rank the responses of items people ranked (shown in two orders)")
	fs.StringVar(&o.rate, "rate", "", "also rate, on this `AXIS` (helpful, harmless, honest), the responses people rated on it")
	fs.StringVar(&o.raterID, "rater", "", "rater id of the judge (default: ai- and the model's name)")
	fs.Float64Var(&o.temperature, "temperature", 0, "sampling temperature of the judge (0: its most likely verdict)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the run (each question gets one derived from it)")
	in, err := parseInOut(fs, args, &o.out)
	if err != nil {
		return nil, err
	}
	o.in = in
	if err := o.check(); err != nil {
		return nil, err
	}
	switch {
	case o.out == "-":
		return nil, usagef("give -o FILE: it is written as verdicts arrive, and resumed")
	case o.pairs != "human" && o.pairs != "all":
		return nil, usagef("--pairs %q: use human or all", o.pairs)
	case o.maxPairs < 1:
		return nil, usagef("--max-pairs %d: give at least 1", o.maxPairs)
	case o.temperature < 0 || o.temperature > 2:
		return nil, usagef("--temperature %g: give 0 to 2", o.temperature)
	}
	o.rubric = ask.DefaultRubric
	if *rubricFile != "" {
		data, err := os.ReadFile(*rubricFile)
		if err != nil {
			return nil, fmt.Errorf("read the rubric: %w", err)
		}
		if o.rubric = string(data); len(o.rubric) == 0 || len(o.rubric) > 32<<10 {
			return nil, usagef("--rubric %s: give a text of 1 byte to 32 KiB", *rubricFile)
		}
	}
	return o, nil
}

func runJudge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseJudge(args, stderr)
	if err != nil {
		return err
	}
	a, err := o.start(o.out, stdout, stderr)
	if err != nil {
		return err
	}
	host := a.host
	msg := stdout
	if *o.asJSON {
		msg = stderr
	}
	state, path, resumed, rater, err := judgeState(o, host)
	if err != nil {
		return err
	}
	tasks := judgeTasks(o, state, rater)
	if len(tasks) == 0 {
		return fmt.Errorf("%s has nothing to judge: no pair people compared (give --pairs all to judge every pair of every item)", path)
	}
	have := map[string]bool{}
	for _, j := range state.Judgments {
		have[j.ID] = true
	}
	var todo []judgeTask
	for _, t := range tasks {
		if !have[t.id] {
			todo = append(todo, t)
		}
	}
	rep := judgeReport{Output: o.out, Rater: rater, Endpoint: host, Model: *o.model, Tasks: len(tasks), Had: len(tasks) - len(todo), Retries: a.retries}
	if resumed {
		fmt.Fprintf(msg, "resuming %s: %d of %d questions answered; asking the %d left\n", o.out, rep.Had, rep.Tasks, len(todo))
	}
	state.Provenance.Tool = toolVersion
	state.Provenance.Command = fmt.Sprintf("prefer judge --endpoint %s --model %s --pairs %s", host, *o.model, o.pairs)
	run := snapshot.Run{Name: "judge-" + rater, Kind: "judge", Seed: o.seed, Config: map[string]any{
		"endpoint": host, "model": *o.model, "rubric": o.rubric, "temperature": o.temperature, "pairs": o.pairs, "both_orders": !o.oneOrder}}

	a.state, a.dirty = state, !resumed
	a.prepare = func() {
		state.PutRun(run)
		state.SetLog(state.Log())
	}
	if err := a.save(); err != nil {
		return err
	}
	prog := newProgress(stderr, *o.asJSON, "judge", "verdicts", len(todo))
	temp := o.temperature
	failErr, saveErr := askAll(ctx, todo, *o.concurrency, a.save, func(ctx context.Context, t judgeTask) error {
		sd := ask.SlotSeed(o.seed, t.id, 0)
		res, err := a.c.Chat(ctx, &wire.ChatRequest{Model: *o.model, Temperature: &temp, Seed: &sd,
			Messages: []wire.ChatMessage{{Role: "system", Content: wire.Content(t.system)}, {Role: "user", Content: wire.Content(t.user)}}})
		if err != nil {
			return err
		}
		answer := string(res.Choices[0].Message.Content)
		a.mu.Lock()
		it := &state.Items[t.item]
		j, ok := judgmentOf(t, rater, it, answer)
		if ok {
			state.Judgments = append(state.Judgments, j)
			rep.Asked++
			a.dirty = true
		} else {
			rep.Unparsed++
		}
		done := rep.Asked + rep.Unparsed
		a.mu.Unlock()
		prog.update(done, "")
		return nil
	})
	prog.done()
	run.Summary = map[string]float64{"questions": float64(rep.Tasks), "unparsed": float64(rep.Unparsed)}
	a.dirty = true
	if err := a.finish(saveErr); err != nil {
		return err
	}
	rep.OutputID = a.id
	rep.Missing = len(todo) - rep.Asked
	rep.Complete = rep.Missing == 0
	for _, a := range agree.AuditAI(state.Items, state.Raters, state.Judgments) {
		if a.Rater == rater {
			a := a
			rep.Audit = &a
		}
	}
	return judgeDone(o, &rep, failErr, stdout, msg)
}

// judgeState reads the output when it exists (resume), else the input, and adds
// the judge's rater (kind ai) when it is not there; an id of a person's rater is
// refused.
func judgeState(o *judgeOptions, host string) (state *snapshot.Snapshot, path string, resumed bool, rater string, err error) {
	path = o.in
	if _, err := os.Stat(o.out); err == nil {
		path, resumed = o.out, true
	}
	state, data, err := readSnapshot(path)
	if err != nil {
		return nil, "", false, "", err
	}
	if !resumed {
		state.Provenance.Parent = snapshot.ID(data)
	}
	rater = o.raterID
	if rater == "" {
		rater = ask.AIRaterID(*o.model)
	}
	found := false
	for _, r := range state.Raters {
		if r.ID == rater {
			if r.Kind != feedback.RaterAI {
				return nil, "", false, "", usagef("rater %q is a %s rater of this snapshot: an AI judge never writes under another rater's id; give --rater", rater, kindName(r.Kind))
			}
			found = true
		}
	}
	if !found {
		state.Raters = append(state.Raters, feedback.Rater{ID: rater, Name: *o.model + " at " + host, Group: "ai", Kind: feedback.RaterAI,
			Profile: "judge " + *o.model + " at " + host + ", rubric " + rubricHash(o.rubric)})
	}
	return state, path, resumed, rater, nil
}

// judgeTasks lists the questions: the pairs (in both orders unless --one-order),
// then with --rank and --rate the rankings and ratings people gave.
func judgeTasks(o *judgeOptions, state *snapshot.Snapshot, rater string) []judgeTask {
	var ps []ask.Pair
	if o.pairs == "human" {
		ps = ask.HumanPairs(state.Items, state.Raters, state.Judgments)
	} else {
		ps = ask.AllPairs(state.Items, o.maxPairs)
	}
	if len(ps) > o.maxPairs {
		ps = ps[:o.maxPairs]
	}
	var tasks []judgeTask
	text := func(it *feedback.Item, id string) string { return it.Response(id).Text }
	for _, p := range ps {
		it := &state.Items[p.Item]
		for _, firstIsA := range []bool{true, false} {
			if !firstIsA && o.oneOrder {
				break
			}
			first, second := p.A, p.B
			if !firstIsA {
				first, second = p.B, p.A
			}
			sys, user := ask.PairMessages(o.rubric, it.Prompt, text(it, first), text(it, second))
			tasks = append(tasks, judgeTask{id: ask.JudgmentID(rater, feedback.KindCompare, it.ID, []string{first, second}, ""),
				item: p.Item, kind: feedback.KindCompare, pair: p, firstIsA: firstIsA, shown: []string{first, second}, system: sys, user: user})
		}
	}
	if !o.rank && o.rate == "" {
		return tasks
	}
	index := map[string]int{}
	for i := range state.Items {
		index[state.Items[i].ID] = i
	}
	seen := map[string]bool{}
	for _, j := range feedback.Current(state.Judgments) {
		i, ok := index[j.Item]
		if !ok || isAI(state.Raters, j.Rater) {
			continue
		}
		it := &state.Items[i]
		switch {
		case o.rank && j.Kind == feedback.KindRank && len(j.Shown) >= 2 && !seen["rank/"+j.Item]:
			seen["rank/"+j.Item] = true
			shown := make([]string, 0, len(it.Responses))
			for _, r := range it.Responses {
				shown = append(shown, r.ID)
			}
			sort.Strings(shown)
			for _, order := range [][]string{shown, reversed(shown)} {
				answers := make([]string, len(order))
				for k, id := range order {
					answers[k] = text(it, id)
				}
				sys, user := ask.RankMessages(o.rubric, it.Prompt, answers)
				tasks = append(tasks, judgeTask{id: ask.JudgmentID(rater, feedback.KindRank, it.ID, order, ""), item: i, kind: feedback.KindRank,
					shown: order, system: sys, user: user})
				if o.oneOrder {
					break
				}
			}
		case o.rate != "" && j.Kind == feedback.KindRate && j.Axis == o.rate && it.Response(j.Response) != nil && !seen["rate/"+j.Item+"/"+j.Response]:
			seen["rate/"+j.Item+"/"+j.Response] = true
			sys, user := ask.RateMessages(o.rubric, o.rate, it.Prompt, text(it, j.Response))
			tasks = append(tasks, judgeTask{id: ask.JudgmentID(rater, feedback.KindRate, it.ID, []string{j.Response}, o.rate), item: i,
				kind: feedback.KindRate, shown: []string{j.Response}, axis: o.rate, system: sys, user: user})
		}
	}
	return tasks
}

// judgeDone prints the report (with the audit against the people), or says what
// is missing and how to resume.
func judgeDone(o *judgeOptions, rep *judgeReport, failErr error, stdout, msg io.Writer) error {
	if *o.asJSON {
		printJSON(stdout, rep)
	} else {
		fmt.Fprintf(msg, "%s judged %d questions (%d now, %d before) → %s (%s)\n", rep.Rater, rep.Had+rep.Asked, rep.Asked, rep.Had, o.out, shortSnapID(rep.OutputID))
		if rep.Unparsed > 0 {
			fmt.Fprintf(msg, "%d answers had no readable verdict ([[A]], [[B]], [[C]]): not recorded; run again to ask them again\n", rep.Unparsed)
		}
		if a := rep.Audit; a != nil && a.Shared > 0 {
			fmt.Fprintf(msg, "against the people on %d pairs: agreement %.0f%%, Cohen's κ %s; chose the answer shown first %.0f%% of %d; order consistency %.0f%% (prefer agree %s has the whole audit)\n",
				a.Shared, 100*float64(a.Agreement), fmtFloat(a.Kappa), 100*float64(a.FirstShown), a.Decided, 100*float64(a.Consistency), o.out)
		}
	}
	if !rep.Complete {
		why := "interrupted"
		if failErr != nil {
			why = failErr.Error()
		} else if rep.Unparsed > 0 {
			why = fmt.Sprintf("%d answers had no readable verdict", rep.Unparsed)
		}
		return fmt.Errorf("%s; %s holds %d of %d verdicts: run the same command again to ask the %d missing", why, o.out, rep.Had+rep.Asked, rep.Tasks, rep.Missing)
	}
	return nil
}

// judgmentOf turns the judge's answer to a task into a judgment; ok is false when
// the answer has no readable verdict.
func judgmentOf(t judgeTask, rater string, it *feedback.Item, answer string) (feedback.Judgment, bool) {
	note := ask.Reasoning(answer, 4000)
	now := time.Now().UnixMilli()
	switch t.kind {
	case feedback.KindCompare:
		v := ask.ParsePairVerdict(answer)
		if v == "" {
			return feedback.Judgment{}, false
		}
		return ask.PairJudgment(rater, it, t.pair, t.firstIsA, v, note, now), true
	case feedback.KindRank:
		order := ask.ParseRanking(answer, len(t.shown))
		if order == nil {
			return feedback.Judgment{}, false
		}
		return feedback.Judgment{ID: t.id, Kind: feedback.KindRank, Item: it.ID, Rater: rater, Time: now, Shown: t.shown, Order: order,
			Note: note, Session: "judge:" + rater}, true
	case feedback.KindRate:
		score := ask.ParseRating(answer)
		if score == 0 {
			return feedback.Judgment{}, false
		}
		return feedback.Judgment{ID: t.id, Kind: feedback.KindRate, Item: it.ID, Rater: rater, Time: now, Response: t.shown[0], Axis: t.axis,
			Score: score, Note: note, Session: "judge:" + rater}, true
	}
	return feedback.Judgment{}, false
}

func isAI(raters []feedback.Rater, id string) bool {
	for _, r := range raters {
		if r.ID == id {
			return r.Kind == feedback.RaterAI
		}
	}
	return false
}

func kindName(k feedback.RaterKind) string {
	if k == "" {
		return "human"
	}
	return string(k)
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func rubricHash(r string) string {
	sum := sha256.Sum256([]byte(r))
	return hex.EncodeToString(sum[:6])
}

func fmtFloat(f agree.Float) string {
	if !f.Valid() {
		return "undefined"
	}
	return fmt.Sprintf("%.2f", float64(f))
}
