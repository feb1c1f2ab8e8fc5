package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"prefer/core/agree"
	"prefer/core/ask"
	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/client"
)

func init() {
	register(&command{
		name: "judge",
		usage: "judge --endpoint URL --model NAME SNAP -o SNAP [--rubric FILE] [--api-key-env NAME] [--pairs human|all] [--max-pairs N]\n" +
			"                [--one-order] [--rank] [--rate AXIS] [--rater ID] [--temperature T] [--seed N] [--concurrency C] [--retries R]\n" +
			"                [--timeout D] [--json]",
		summary: "an AI judge behind an OpenAI-compatible endpoint compares pairs (both orders), ranks or rates, as rater kind ai; resumable",
		run: func(args []string, stdout, stderr io.Writer) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runJudge(ctx, args, stdout, stderr)
		},
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

func runJudge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("judge", stderr)
	endpoint := fs.String("endpoint", "", "base URL of an OpenAI-compatible API (required); prefer serve's own judges: judge-rubric, judge-longer, judge-first")
	model := fs.String("model", "", "the judge model (required)")
	out := fs.String("o", "", "output snapshot (required); when it exists, judging resumes: only unanswered questions are asked")
	rubricFile := fs.String("rubric", "", "`FILE` with the written rubric (default: ask.DefaultRubric, printed by prefer help judge's docs)")
	keyEnv := fs.String("api-key-env", "OPENAI_API_KEY", "environment variable holding the API key (never a flag value)")
	pairs := fs.String("pairs", "human", "which pairs: human (those people compared: the audit's) or all (every pair of every item)")
	maxPairs := fs.Int("max-pairs", 5000, "most pairs to judge")
	oneOrder := fs.Bool("one-order", false, "show each pair in one order only (position bias then goes unmeasured and uncancelled)")
	rank := fs.Bool("rank", false, "also rank the responses of items people ranked (shown in two orders)")
	rate := fs.String("rate", "", "also rate, on this `AXIS` (helpful, harmless, honest), the responses people rated on it")
	raterID := fs.String("rater", "", "rater id of the judge (default: ai- and the model's name)")
	temperature := fs.Float64("temperature", 0, "sampling temperature of the judge (0: its most likely verdict)")
	seed := fs.Uint64("seed", 1, "seed of the run (each question gets one derived from it)")
	concurrency := fs.Int("concurrency", 4, "requests in flight at most")
	retries := fs.Int("retries", 6, "retries of a failed request (429 after its Retry-After; 5xx, timeouts, network errors with backoff)")
	timeout := fs.Duration("timeout", 2*time.Minute, "longest wait for one answer")
	backoff := fs.Duration("backoff", time.Second, "first wait before a retry")
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseInOut(fs, args, out)
	if err != nil {
		return err
	}
	switch {
	case *endpoint == "" || *model == "":
		return usagef("give --endpoint URL and --model NAME")
	case *out == "-":
		return usagef("give -o FILE: it is written as verdicts arrive, and resumed")
	case *pairs != "human" && *pairs != "all":
		return usagef("--pairs %q: use human or all", *pairs)
	case *maxPairs < 1 || *concurrency < 1 || *concurrency > 256 || *retries < 0 || *timeout <= 0:
		return usagef("--max-pairs, --concurrency, --retries and --timeout must be positive")
	case *temperature < 0 || *temperature > 2:
		return usagef("--temperature %g: give 0 to 2", *temperature)
	case !validEnvName(*keyEnv):
		return usagef("--api-key-env %q is not an environment variable name: it names the variable holding the key", *keyEnv)
	}
	base, host, err := client.Endpoint(*endpoint)
	if err != nil {
		return usagef("--endpoint: %v", err)
	}
	rubric := ask.DefaultRubric
	if *rubricFile != "" {
		data, err := os.ReadFile(*rubricFile)
		if err != nil {
			return fmt.Errorf("read the rubric: %w", err)
		}
		if rubric = string(data); len(rubric) == 0 || len(rubric) > 32<<10 {
			return usagef("--rubric %s: give a text of 1 byte to 32 KiB", *rubricFile)
		}
	}
	msg := stdout
	if *asJSON {
		msg = stderr
	}
	path := in
	resumed := false
	if _, err := os.Stat(*out); err == nil {
		path, resumed = *out, true
	}
	state, data, err := readSnapshot(path)
	if err != nil {
		return err
	}
	if !resumed {
		state.Provenance.Parent = snapshot.ID(data)
	}
	rater := *raterID
	if rater == "" {
		rater = ask.AIRaterID(*model)
	}
	found := false
	for _, r := range state.Raters {
		if r.ID == rater {
			if r.Kind != feedback.RaterAI {
				return usagef("rater %q is a %s rater of this snapshot: an AI judge never writes under another rater's id; give --rater", rater, kindName(r.Kind))
			}
			found = true
		}
	}
	if !found {
		state.Raters = append(state.Raters, feedback.Rater{ID: rater, Name: *model + " at " + host, Group: "ai", Kind: feedback.RaterAI,
			Profile: "judge " + *model + " at " + host + ", rubric " + rubricHash(rubric)})
	}

	// The questions.
	var ps []ask.Pair
	if *pairs == "human" {
		ps = ask.HumanPairs(state.Items, state.Raters, state.Judgments)
	} else {
		ps = ask.AllPairs(state.Items, *maxPairs)
	}
	if len(ps) > *maxPairs {
		ps = ps[:*maxPairs]
	}
	var tasks []judgeTask
	text := func(it *feedback.Item, id string) string { return it.Response(id).Text }
	for _, p := range ps {
		it := &state.Items[p.Item]
		for _, firstIsA := range []bool{true, false} {
			if !firstIsA && *oneOrder {
				break
			}
			first, second := p.A, p.B
			if !firstIsA {
				first, second = p.B, p.A
			}
			sys, user := ask.PairMessages(rubric, it.Prompt, text(it, first), text(it, second))
			tasks = append(tasks, judgeTask{id: ask.JudgmentID(rater, feedback.KindCompare, it.ID, []string{first, second}, ""),
				item: p.Item, kind: feedback.KindCompare, pair: p, firstIsA: firstIsA, shown: []string{first, second}, system: sys, user: user})
		}
	}
	if *rank || *rate != "" {
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
			case *rank && j.Kind == feedback.KindRank && len(j.Shown) >= 2 && !seen["rank/"+j.Item]:
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
					sys, user := ask.RankMessages(rubric, it.Prompt, answers)
					tasks = append(tasks, judgeTask{id: ask.JudgmentID(rater, feedback.KindRank, it.ID, order, ""), item: i, kind: feedback.KindRank,
						shown: order, system: sys, user: user})
					if *oneOrder {
						break
					}
				}
			case *rate != "" && j.Kind == feedback.KindRate && j.Axis == *rate && it.Response(j.Response) != nil && !seen["rate/"+j.Item+"/"+j.Response]:
				seen["rate/"+j.Item+"/"+j.Response] = true
				sys, user := ask.RateMessages(rubric, *rate, it.Prompt, text(it, j.Response))
				tasks = append(tasks, judgeTask{id: ask.JudgmentID(rater, feedback.KindRate, it.ID, []string{j.Response}, *rate), item: i,
					kind: feedback.KindRate, shown: []string{j.Response}, axis: *rate, system: sys, user: user})
			}
		}
	}
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
	rep := judgeReport{Output: *out, Rater: rater, Endpoint: host, Model: *model, Tasks: len(tasks), Had: len(tasks) - len(todo), Retries: map[string]int{}}
	if resumed {
		fmt.Fprintf(msg, "resuming %s: %d of %d questions answered; asking the %d left\n", *out, rep.Had, rep.Tasks, len(todo))
	}
	state.Provenance.Tool = toolVersion
	state.Provenance.Command = fmt.Sprintf("prefer judge --endpoint %s --model %s --pairs %s", host, *model, *pairs)
	run := snapshot.Run{Name: "judge-" + rater, Kind: "judge", Seed: *seed, Config: map[string]any{
		"endpoint": host, "model": *model, "rubric": rubric, "temperature": *temperature, "pairs": *pairs, "both_orders": !*oneOrder}}

	c := &client.LLM{Base: base, Key: os.Getenv(*keyEnv), Timeout: *timeout, Retries: *retries, Backoff: *backoff}
	var mu sync.Mutex
	dirty := !resumed
	c.OnRetry = func(attempt int, why string, wait time.Duration) {
		mu.Lock()
		rep.Retries[why]++
		mu.Unlock()
		fmt.Fprintf(stderr, "retry: %s; waiting %s (attempt %d of %d)\n", why, wait.Round(10*time.Millisecond), attempt+1, *retries+1)
	}
	save := func() error {
		mu.Lock()
		defer mu.Unlock()
		if !dirty {
			return nil
		}
		state.PutRun(run)
		state.SetLog(state.Log())
		id, err := writeSnapshot(*out, state, stdout)
		if err == nil {
			rep.OutputID, dirty = id, false
		}
		return err
	}
	if err := save(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var failOnce sync.Once
	var failErr error
	work := make(chan judgeTask)
	prog := newProgress(stderr, *asJSON, "judge", "verdicts", len(todo))
	var wg sync.WaitGroup
	temp := *temperature
	for range min(*concurrency, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				sd := ask.SlotSeed(*seed, t.id, 0)
				res, err := c.Chat(ctx, &wire.ChatRequest{Model: *model, Temperature: &temp, Seed: &sd,
					Messages: []wire.ChatMessage{{Role: "system", Content: wire.Content(t.system)}, {Role: "user", Content: wire.Content(t.user)}}})
				if err != nil {
					if ctx.Err() == nil {
						failOnce.Do(func() { failErr = err; cancel() })
					}
					continue
				}
				answer := string(res.Choices[0].Message.Content)
				mu.Lock()
				it := &state.Items[t.item]
				j, ok := judgmentOf(t, rater, it, answer)
				if ok {
					state.Judgments = append(state.Judgments, j)
					rep.Asked++
					dirty = true
				} else {
					rep.Unparsed++
				}
				done := rep.Asked + rep.Unparsed
				mu.Unlock()
				prog.update(done, "")
			}
		}()
	}
	ticker := time.NewTicker(saveEvery)
	defer ticker.Stop()
feed:
	for _, t := range todo {
		for {
			select {
			case work <- t:
				continue feed
			case <-ticker.C:
				save()
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(work)
	wg.Wait()
	prog.done()
	run.Summary = map[string]float64{"questions": float64(rep.Tasks), "unparsed": float64(rep.Unparsed)}
	dirty = true
	if err := save(); err != nil {
		return err
	}
	rep.Missing = len(todo) - rep.Asked
	rep.Complete = rep.Missing == 0
	for _, a := range agree.AuditAI(state.Items, state.Raters, state.Judgments) {
		if a.Rater == rater {
			a := a
			rep.Audit = &a
		}
	}
	if *asJSON {
		printJSON(stdout, rep)
	} else {
		fmt.Fprintf(msg, "%s judged %d questions (%d now, %d before) → %s (%s)\n", rater, rep.Had+rep.Asked, rep.Asked, rep.Had, *out, shortSnapID(rep.OutputID))
		if rep.Unparsed > 0 {
			fmt.Fprintf(msg, "%d answers had no readable verdict ([[A]], [[B]], [[C]]): not recorded; run again to ask them again\n", rep.Unparsed)
		}
		if a := rep.Audit; a != nil && a.Shared > 0 {
			fmt.Fprintf(msg, "against the people on %d pairs: agreement %.0f%%, Cohen's κ %s; chose the answer shown first %.0f%% of %d; order consistency %.0f%% (prefer agree %s has the whole audit)\n",
				a.Shared, 100*float64(a.Agreement), fmtFloat(a.Kappa), 100*float64(a.FirstShown), a.Decided, 100*float64(a.Consistency), *out)
		}
	}
	if !rep.Complete {
		why := "interrupted"
		if failErr != nil {
			why = failErr.Error()
		} else if rep.Unparsed > 0 {
			why = fmt.Sprintf("%d answers had no readable verdict", rep.Unparsed)
		}
		return fmt.Errorf("%s; %s holds %d of %d verdicts: run the same command again to ask the %d missing", why, *out, rep.Had+rep.Asked, rep.Tasks, rep.Missing)
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
