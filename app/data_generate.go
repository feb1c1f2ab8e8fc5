package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/ask"
	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

// generatePanel is the Data page's "Generate answers": the working state's prompts
// are answered K times by a model through this Prefer server — the model server its
// operator configured (`prefer serve --llm-upstream`), or without one the server's
// own models — never a URL typed in the browser. Answers are asked one per request
// (n = 1) with per-answer seeds, as prefer generate asks them, at most genInFlight
// at once; progress shows, Cancel stops asking (what arrived is kept), and the
// answers become responses of their items (a worker job), ready to label. Running it
// again asks only what is missing.
type generatePanel struct {
	info    *wire.LLMInfo
	infoErr string
	model   string
	k       int
	temp    float64
	maxTok  int
	key     string

	running  bool
	cancel   chan struct{}
	done     int
	total    int
	failures int
	msg      string
	bad      bool
}

// errGenCanceled ends a request's retries when the user cancels.
var errGenCanceled = errors.New("cancelled")

// genInFlight bounds the requests the page has in flight.
const genInFlight = 4

func (g *generatePanel) init() {
	if g.k == 0 {
		g.k, g.temp, g.maxTok = 2, 1, 64
	}
}

// load asks the server what "Generate answers" goes to (GET /api/v1/llm).
func (g *generatePanel) load(p *dataPage) {
	reply, err := browser.Fetch("GET", appPath("/api/v1/llm"), nil, nil)
	status, body := reply.Status, reply.Body
	var info wire.LLMInfo
	switch {
	case err != nil:
		err = fmt.Errorf("no Prefer server answers (offline, or a static copy of the workbench): generating answers needs one")
	case status != 200:
		err = fmt.Errorf("this server does not offer model generation (HTTP %d)", status)
	default:
		err = json.Unmarshal(body, &info)
	}
	p.ctx.Dispatch(func(ctx app.Context) {
		if err != nil {
			g.infoErr = err.Error()
			return
		}
		g.info = &info
		if len(info.Models) > 0 && g.model == "" {
			g.model = info.Models[0].ID
		}
	})
}

func (g *generatePanel) render(p *dataPage, s *snapshot.Snapshot, busy bool) app.UI {
	g.init()
	var body []app.UI
	switch {
	case g.infoErr != "":
		body = append(body, app.P().Class("muted").ID("gen-unavailable").Text(g.infoErr))
	case g.info == nil:
		body = append(body, app.P().Class("muted").Text("Asking the server which models it offers…"))
	default:
		where := "this Prefer server's own models (no upstream model server is configured)"
		if g.info.Upstream != "" {
			where = "the model server " + g.info.Upstream + ", which this Prefer server's operator configured"
		}
		body = append(body,
			app.P().Class("muted").ID("gen-where").Text(fmt.Sprintf("Answers come from %s, through this server: the browser never names a URL. At most %d answers a request, %d requests at once.", where, g.info.MaxN, genInFlight)),
			app.Div().Class("row").Body(
				app.Label().For("gen-model").Text("Model"),
				app.Select().ID("gen-model").Disabled(g.running).OnChange(func(ctx app.Context, e app.Event) {
					g.model = ctx.JSSrc().Get("value").String()
				}).Body(app.Range(g.info.Models).Slice(func(i int) app.UI {
					m := g.info.Models[i]
					return app.Option().Value(m.ID).Selected(m.ID == g.model).Text(m.ID).Title(m.Description)
				})),
				app.Label().For("gen-k").Text("Answers per prompt"),
				app.Input().Type("number").ID("gen-k").Min(1).Max(16).Value(g.k).Style("width", "4.5rem").Disabled(g.running).
					OnInput(func(ctx app.Context, e app.Event) {
						if v, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil && v >= 1 && v <= 16 {
							g.k = v
						}
					}),
				app.Label().For("gen-temp").Text("Temperature"),
				app.Input().Type("number").ID("gen-temp").Min(0).Max(2).Step(0.1).Value(g.temp).Style("width", "5.5rem").Disabled(g.running).
					OnInput(func(ctx app.Context, e app.Event) {
						if v, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64); err == nil && v >= 0 && v <= 2 {
							g.temp = v
						}
					}),
				app.Label().For("gen-max").Text("Max tokens"),
				app.Input().Type("number").ID("gen-max").Min(1).Max(g.info.MaxTokens).Value(g.maxTok).Style("width", "5rem").Disabled(g.running).
					OnInput(func(ctx app.Context, e app.Event) {
						if v, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil && v >= 1 {
							g.maxTok = v
						}
					}),
			),
			app.If(g.info.KeyRequired, app.Div().Class("row").Body(
				app.Label().For("gen-key").Text("This server's access key"),
				app.Input().Type("password").ID("gen-key").Value(g.key).AutoComplete(false).Style("flex", "1").
					OnInput(func(ctx app.Context, e app.Event) { g.key = ctx.JSSrc().Get("value").String() }),
			)),
			app.Div().Class("row").Body(
				app.Button().Class("primary").ID("gen-btn").Disabled(g.running || busy || len(s.Items) == 0 || g.model == "").
					Text("Generate answers").OnClick(func(ctx app.Context, e app.Event) { g.start(p) }),
				app.If(g.running, app.Button().ID("gen-cancel").Text("Cancel").OnClick(func(ctx app.Context, e app.Event) {
					if g.cancel != nil {
						close(g.cancel)
						g.cancel = nil
					}
				})),
			),
			when(g.running && g.total > 0, func() app.UI {
				return app.Div().ID("gen-progress").Body(
					progressBar(100*g.done/g.total, "Generating answers"),
					app.P().Class("muted").Text(fmt.Sprintf("%d of %d answers", g.done, g.total)),
				)
			}),
			app.If(len(s.Items) == 0, app.P().Class("muted").Text("The working state has no prompts yet: import a dataset or open a snapshot first.")),
		)
	}
	if g.msg != "" {
		body = append(body, app.Div().Class(noticeClass(g.bad)).Role("status").ID("gen-msg").Text(g.msg))
	}
	return app.Section().Class("panel stack").Aria("label", "Generate answers").ID("generate").Body(
		append([]app.UI{
			app.H2().Text("Generate answers"),
			app.P().Class("muted").Text("Sample candidate answers to the prompts of the working state, to label them: real RLHF data starts from the model being aligned."),
		}, body...)...,
	)
}

// genAnswer is one answer that arrived.
type genAnswer struct {
	item   string
	text   string
	origin feedback.Origin
}

// start plans the missing answers and asks them.
func (g *generatePanel) start(p *dataPage) {
	v := wb.view()
	if g.running || g.info == nil || !v.Ready {
		return
	}
	host := g.info.Upstream
	if host == "" {
		host = app.Window().Get("location").Get("host").String()
	}
	maxTok := min(g.maxTok, g.info.MaxTokens)
	temp := g.temp
	src := ask.Source{Endpoint: host, Model: g.model, API: "chat", Temperature: temp, MaxTokens: maxTok}
	items := v.Snap.Items
	slots := ask.Missing(items, src, g.k, 1)
	if len(slots) == 0 {
		g.msg, g.bad = fmt.Sprintf("Every prompt already has %d answers from %s with these settings.", g.k, g.model), false
		return
	}
	g.running, g.done, g.total, g.failures, g.msg, g.bad = true, 0, len(slots), 0, "", false
	g.cancel = make(chan struct{})
	cancel := g.cancel
	key := g.key
	model := g.model
	prompts := make([]string, len(slots))
	ids := make([]string, len(slots))
	for i, sl := range slots {
		prompts[i], ids[i] = items[sl.Item].Prompt, items[sl.Item].ID
	}
	p.ctx.Async(func() {
		var mu sync.Mutex
		var got []genAnswer
		var firstErr string
		work := make(chan int)
		var wg sync.WaitGroup
		for range min(genInFlight, len(slots)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					sl := slots[i]
					text, finish, err := askAnswer(model, prompts[i], temp, maxTok, sl.Seed, key, cancel)
					mu.Lock()
					if err != nil {
						if firstErr == "" && err != errGenCanceled {
							firstErr = err.Error()
						}
					} else {
						got = append(got, genAnswer{item: ids[i], text: text, origin: src.Origin(sl.K, sl.Seed, true, finish)})
					}
					n, fails := len(got), 0
					if err != nil && err != errGenCanceled {
						fails = 1
					}
					mu.Unlock()
					p.ctx.Dispatch(func(ctx app.Context) { g.done = n; g.failures += fails })
				}
			}()
		}
	feed:
		for i := range slots {
			mu.Lock()
			stop := firstErr != ""
			mu.Unlock()
			if stop {
				break
			}
			select {
			case work <- i:
			case <-cancel:
				break feed
			}
		}
		close(work)
		wg.Wait()
		canceled := false
		select {
		case <-cancel:
			canceled = true
		default:
		}
		msg, bad := g.record(got, len(slots))
		switch {
		case firstErr != "":
			msg, bad = fmt.Sprintf("%s Stopped: %s", msg, firstErr), true
		case canceled:
			msg = "Cancelled. " + msg
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			g.running, g.cancel = false, nil
			g.msg, g.bad = msg, bad
		})
	})
}

// record stores the answers that arrived in the working state (a worker job) and
// says what happened.
func (g *generatePanel) record(got []genAnswer, total int) (string, bool) {
	if len(got) == 0 {
		return fmt.Sprintf("No answer arrived (0 of %d).", total), true
	}
	byItem := map[string]*feedback.Item{}
	var order []string
	for _, a := range got {
		it := byItem[a.item]
		if it == nil {
			it = &feedback.Item{ID: a.item}
			byItem[a.item] = it
			order = append(order, a.item)
		}
		ask.Record(it, a.text, a.origin)
	}
	d := &snapshot.Snapshot{}
	for _, id := range order {
		d.Items = append(d.Items, *byItem[id])
	}
	data, err := snapshot.Marshal(d)
	if err != nil {
		return err.Error(), true
	}
	res, err := wb.Run("Adding the answers", jobs.Request{Kind: jobs.KindAddAnswers, AddAnswers: &jobs.AddAnswersParams{Data: data}}, nil)
	if err != nil {
		return "The answers could not be added: " + err.Error(), true
	}
	missing := total - len(got)
	msg := fmt.Sprintf("Added %d answers to %d prompts: label them on the Label page.", int(res.Summary["answers"]), int(res.Summary["items"]))
	if missing > 0 {
		msg += fmt.Sprintf(" %d of %d are missing: press Generate answers again to ask only those.", missing, total)
	}
	return msg, false
}

// genSleep waits d unless cancel is closed first (then false); tests replace it to
// see the waits without taking them.
var genSleep = func(d time.Duration, cancel chan struct{}) bool {
	select {
	case <-time.After(d):
		return true
	case <-cancel:
		return false
	}
}

// askAnswer asks the server for one answer (POST /api/v1/llm/chat/completions),
// waiting and asking again when the server is busy (429) or failing (5xx, network)
// — at most 5 tries, waiting 1, 2, 4, 8 s or the server's Retry-After when longer —
// unless cancel is closed.
func askAnswer(model, prompt string, temp float64, maxTok int, seed int64, key string, cancel chan struct{}) (string, string, error) {
	// The few fields of wire.ChatRequest the page sends, and below of
	// wire.ChatCompletion and wire.APIError it reads: the full types' JSON code
	// costs the UI binary ~22 kB it is short of (its 2.0 MB budget).
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	req := struct {
		Model       string  `json:"model"`
		Messages    []msg   `json:"messages"`
		N           int     `json:"n"`
		Temperature float64 `json:"temperature"`
		MaxTokens   int     `json:"max_tokens"`
		Seed        int64   `json:"seed"`
	}{model, []msg{{"user", prompt}}, 1, temp, maxTok, seed}
	body, err := json.Marshal(&req)
	if err != nil {
		return "", "", err
	}
	hdr := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		hdr["Authorization"] = "Bearer " + key
	}
	wait := time.Second
	for try := 1; ; try++ {
		reply, err := browser.Fetch("POST", appPath("/api/v1/llm/chat/completions"), body, hdr)
		status, data := reply.Status, reply.Body
		if err == nil && status == 200 {
			var out struct {
				Choices []struct {
					Message struct {
						Content string `json:"content"`
					} `json:"message"`
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(data, &out); err != nil || len(out.Choices) == 0 {
				return "", "", fmt.Errorf("the server's answer is not a chat completion")
			}
			return out.Choices[0].Message.Content, out.Choices[0].FinishReason, nil
		}
		retry := err != nil || status == 429 || status >= 500
		why := ""
		if err != nil {
			why = "the server cannot be reached"
		} else {
			var e struct {
				Error struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
				why = e.Error.Message
			} else {
				why = fmt.Sprintf("HTTP %d", status)
			}
		}
		if !retry || try == 5 {
			return "", "", fmt.Errorf("%s", strings.TrimSuffix(why, "."))
		}
		// The server's Retry-After (429: every generation slot taken), when it
		// sent one, is the least wait; the doubling goes on from there.
		wait = max(wait, reply.RetryAfter)
		if !genSleep(wait, cancel) {
			return "", "", errGenCanceled
		}
		wait *= 2
	}
}
