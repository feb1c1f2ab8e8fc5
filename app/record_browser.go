package app

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
)

// recordBrowser lets a lead search the working state's records and open one item
// with all its judgments side by side: filters by rater, kind, item text,
// disagreement, flags and revisions over a virtualised list of items (thousands of
// rows stay smooth), and per item its responses, every judgment in the words of
// those responses, the state of each (standing, revised, rejected, withdrawn,
// edited) and its history. With Review set, each standing judgment can be accepted,
// rejected or edited; the host decides where the review goes (this browser's state,
// or the project server on the lead's page).
type recordBrowser struct {
	ID string
	// Review records a review event (Kind review, Target, Verdict, and an edit's
	// content) made here; nil shows no review actions.
	Review func(ctx app.Context, j feedback.Judgment)

	query, rater, kind    string
	disagree, flag, revis bool
	open                  string // the item opened
	editing               string // the judgment being edited
	edit                  feedback.Judgment

	list    virtualList
	index   *recordIndex
	matches []int // indices into index.items of the filtered items
}

// recordIndex is what the browser needs of one state version, computed once.
type recordIndex struct {
	version int
	items   []recordItem
	byItem  map[string]int
	raters  []string
	res     *feedback.Revisions
}

// recordItem is one item and its judgments (every event, canonical order).
type recordItem struct {
	item      *feedback.Item
	text      string // lower-cased prompt and responses, for search
	events    []int  // indices into the state's judgments
	standing  int    // standing judgments (reviews excluded)
	raters    []string
	kinds     map[feedback.Kind]bool
	disagree  bool // standing comparisons of one pair disagree
	flagged   bool // a live flag
	revisions bool // a revision or review among its events
}

func buildRecordIndex(v view) *recordIndex {
	ix := &recordIndex{version: v.Version, byItem: map[string]int{}, res: feedback.Resolve(v.Judgments)}
	for i := range v.Snap.Items {
		it := &v.Snap.Items[i]
		var b strings.Builder
		b.WriteString(strings.ToLower(it.ID + " " + it.Prompt))
		for _, r := range it.Responses {
			b.WriteString(" ")
			b.WriteString(strings.ToLower(r.Text))
		}
		ix.byItem[it.ID] = len(ix.items)
		ix.items = append(ix.items, recordItem{item: it, text: b.String(), kinds: map[feedback.Kind]bool{}})
	}
	target := map[string]string{} // judgment id → item id, for reviews that name none
	for i := range v.Judgments {
		target[v.Judgments[i].ID] = v.Judgments[i].Item
	}
	raters := map[string]bool{}
	for i := range v.Judgments {
		j := &v.Judgments[i]
		item := j.Item
		if j.Kind == feedback.KindReview && item == "" {
			item = target[j.Target]
		}
		k, ok := ix.byItem[item]
		if !ok {
			continue
		}
		r := &ix.items[k]
		r.events = append(r.events, i)
		if j.Kind == feedback.KindReview || j.Revises != "" {
			r.revisions = true
		}
		if j.Kind != feedback.KindReview {
			r.kinds[j.Kind] = true
			if j.Rater != "" && !slices.Contains(r.raters, j.Rater) {
				r.raters = append(r.raters, j.Rater)
			}
			raters[j.Rater] = true
		}
	}
	// Disagreement and flags on what stands.
	type pairKey struct{ item, a, b string }
	labels := map[pairKey]string{}
	for _, j := range ix.res.Current() {
		k, ok := ix.byItem[j.Item]
		if !ok {
			continue
		}
		r := &ix.items[k]
		r.standing++
		switch j.Kind {
		case feedback.KindFlag:
			r.flagged = true
		case feedback.KindCompare:
			a, b, label := j.A, j.B, string(j.Choice)
			if b < a {
				a, b = b, a
			}
			if w := j.Winner(); w != "" {
				label = w
			}
			key := pairKey{j.Item, a, b}
			if old, seen := labels[key]; seen && old != label {
				r.disagree = true
			}
			labels[key] = label
		}
	}
	for id := range raters {
		if id != "" {
			ix.raters = append(ix.raters, id)
		}
	}
	slices.Sort(ix.raters)
	return ix
}

// filter recomputes the matching items.
func (b *recordBrowser) filter() {
	q := strings.ToLower(strings.TrimSpace(b.query))
	b.matches = b.matches[:0]
	for k := range b.index.items {
		r := &b.index.items[k]
		switch {
		case q != "" && !strings.Contains(r.text, q),
			b.rater != "" && !slices.Contains(r.raters, b.rater),
			b.kind != "" && !r.kinds[feedback.Kind(b.kind)],
			b.disagree && !r.disagree,
			b.flag && !r.flagged,
			b.revis && !r.revisions,
			len(r.events) == 0 && (b.rater != "" || b.kind != "" || b.disagree || b.flag || b.revis):
			continue
		}
		b.matches = append(b.matches, k)
	}
}

func (b *recordBrowser) render(v view) app.UI {
	if b.index == nil || b.index.version != v.Version {
		b.index = buildRecordIndex(v)
		b.filter()
	}
	if b.list.ID == "" {
		b.list = virtualList{ID: b.ID + "-list", Label: "Items", RowH: 34, Height: 320,
			Header: []string{"Item", "Prompt", "Judgments", "Raters", "Signs"},
			Widths: []string{"0 0 9rem", "1 1 auto", "0 0 6rem", "0 0 6rem", "0 0 11rem"}}
	}
	ix := b.index
	b.list.Rows = len(b.matches)
	b.list.Cell = func(row, col int) string {
		r := &ix.items[b.matches[row]]
		switch col {
		case 0:
			return r.item.ID
		case 1:
			return r.item.Prompt
		case 2:
			return strconv.Itoa(r.standing)
		case 3:
			return strconv.Itoa(len(r.raters))
		}
		var signs []string
		if r.disagree {
			signs = append(signs, "disagreement")
		}
		if r.flagged {
			signs = append(signs, "flagged")
		}
		if r.revisions {
			signs = append(signs, "revised")
		}
		return strings.Join(signs, " · ")
	}
	b.list.Selected = -1
	for row, k := range b.matches {
		if ix.items[k].item.ID == b.open {
			b.list.Selected = row
		}
	}
	b.list.OnOpen = func(ctx app.Context, row int) {
		b.open, b.editing = ix.items[b.matches[row]].item.ID, ""
	}
	refilter := func() { b.filter() }
	return app.Div().Class("stack").ID(b.ID).Body(
		app.Div().Class("row").Role("search").Body(
			app.Input().Type("search").ID(b.ID+"-q").Aria("label", "Search the items' text").Placeholder("search prompts and answers").Value(b.query).
				OnInput(func(ctx app.Context, e app.Event) { b.query = ctx.JSSrc().Get("value").String(); refilter() }),
			app.Select().ID(b.ID+"-rater").Aria("label", "Rater").OnChange(func(ctx app.Context, e app.Event) {
				b.rater = ctx.JSSrc().Get("value").String()
				refilter()
			}).Body(
				app.Option().Value("").Selected(b.rater == "").Text("every rater"),
				app.Range(ix.raters).Slice(func(i int) app.UI {
					return app.Option().Value(ix.raters[i]).Selected(ix.raters[i] == b.rater).Text(ix.raters[i])
				}),
			),
			app.Select().ID(b.ID+"-kind").Aria("label", "Kind").OnChange(func(ctx app.Context, e app.Event) {
				b.kind = ctx.JSSrc().Get("value").String()
				refilter()
			}).Body(
				app.Option().Value("").Selected(b.kind == "").Text("every kind"),
				app.Range(feedback.Kinds[:len(feedback.Kinds)-1]).Slice(func(i int) app.UI {
					k := string(feedback.Kinds[i])
					return app.Option().Value(k).Selected(k == b.kind).Text(k)
				}),
			),
			b.toggle("disagree", "disagreement", &b.disagree),
			b.toggle("flag", "flagged", &b.flag),
			b.toggle("revised", "revised or reviewed", &b.revis),
			app.Span().Class("muted").ID(b.ID+"-count").DataSet("count", len(b.matches)).
				Text(fmt.Sprintf("%d of %d items", len(b.matches), len(ix.items))),
		),
		b.list.render(),
		when(b.open != "", func() app.UI { return b.detail(v) }),
	)
}

func (b *recordBrowser) toggle(id, label string, on *bool) app.UI {
	full := b.ID + "-" + id
	return app.Label().For(full).Class("row").Style("gap", ".3rem").Body(
		app.Input().Type("checkbox").ID(full).Checked(*on).OnChange(func(ctx app.Context, e app.Event) {
			*on = ctx.JSSrc().Get("checked").Bool()
			b.filter()
		}),
		app.Text(label),
	)
}

// letter names the k-th response of an item: A, B, …, Z, AA, …
func letter(k int) string {
	s := ""
	for k >= 0 {
		s = string(rune('A'+k%26)) + s
		k = k/26 - 1
	}
	return s
}

// detail shows one item with all its judgments side by side.
func (b *recordBrowser) detail(v view) app.UI {
	k, ok := b.index.byItem[b.open]
	if !ok {
		return nil
	}
	r := &b.index.items[k]
	it := r.item
	name := map[string]string{}
	var resp []app.UI
	for i, x := range it.Responses {
		name[x.ID] = letter(i)
		resp = append(resp, app.Li().Body(app.Strong().Text(letter(i)+". "), app.Text(x.Text)))
	}
	says := func(j *feedback.Judgment) string { return judgmentWords(j, name) }
	var rows []app.UI
	for _, i := range r.events {
		j := v.Judgments[i]
		state, _ := b.index.res.State(j.ID)
		what := says(&j)
		switch {
		case j.Kind == feedback.KindReview:
			what = reviewWords(&j, name)
		case state == feedback.StateEdited:
			if ed, ok := b.index.res.Standing(j.ID); ok {
				what = says(&ed) + " (edited; the rater said: " + what + ")"
			}
		}
		when := ""
		if j.Time > 0 {
			when = time.UnixMilli(j.Time).UTC().Format("2006-01-02 15:04")
		}
		var actions app.UI
		if b.Review != nil && (state == feedback.StateStanding || state == feedback.StateEdited) {
			id := j.ID
			actions = app.Div().Class("row").Style("gap", ".3rem").Body(
				app.Button().Text("Accept").Aria("label", "Accept judgment "+id).OnClick(func(ctx app.Context, e app.Event) { b.review(ctx, id, feedback.VerdictAccept, nil) }, id),
				app.Button().Text("Reject").Aria("label", "Reject judgment "+id).OnClick(func(ctx app.Context, e app.Event) { b.review(ctx, id, feedback.VerdictReject, nil) }, id),
				app.Button().Text("Edit").Aria("label", "Edit judgment "+id).OnClick(func(ctx app.Context, e app.Event) {
					b.editing = id
					jj, _ := b.index.res.Standing(id)
					b.edit = jj
				}, id),
			)
		}
		rows = append(rows, app.Tr().DataSet("id", j.ID).DataSet("state", string(state)).Body(
			app.Td().Class("mono").Text(cmp.Or(j.Rater, "—")),
			app.Td().Text(string(j.Kind)),
			app.Td().Text(what),
			app.Td().Body(app.Span().Class("tag "+stateClass(state)).Text(string(state))),
			app.Td().Class("num").Text(fmtSeconds(j.MS)),
			app.Td().Class("mono").Text(when),
			app.Td().Body(actions),
		))
		if b.editing == j.ID {
			rows = append(rows, app.Tr().Body(app.Td().ColSpan(7).Body(b.editForm(it, name))))
		}
	}
	return app.Section().Class("panel stack").ID(b.ID+"-detail").DataSet("item", it.ID).Body(
		app.Div().Class("row between").Body(
			app.H3().Text("Item "+it.ID),
			app.Button().Text("Close").Aria("label", "Close the item").OnClick(func(ctx app.Context, e app.Event) { b.open, b.editing = "", "" }),
		),
		app.P().Body(app.Strong().Text(it.Prompt)),
		app.Ol().Class("responses").Style("list-style", "none").Style("padding-left", "0").Body(resp...),
		either(len(rows) == 0, func() app.UI { return app.P().Class("muted").Text("No judgment of this item yet.") }, func() app.UI {
			return app.Div().Class("table-scroll").Body(app.Table().ID(b.ID+"-judgments").Body(
				app.THead().Body(app.Tr().Body(app.Th().Text("rater"), app.Th().Text("kind"), app.Th().Text("says"), app.Th().Text("state"),
					app.Th().Text("time on item"), app.Th().Text("when"), app.Th().Text("review"))),
				app.TBody().Body(rows...),
			))
		}),
		app.P().Class("muted").Text("Every event stays in the log: a revised, rejected or withdrawn version is kept and marked; what stands is what the reward model and every figure use."),
	)
}

func stateClass(s feedback.State) string {
	switch s {
	case feedback.StateStanding:
		return "good"
	case feedback.StateEdited:
		return "warn"
	case feedback.StateReview:
		return ""
	}
	return "bad"
}

func fmtSeconds(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return fmtNum(float64(ms)/1000, 1) + " s"
}

// judgmentWords says what a judgment says, naming responses by their letters.
func judgmentWords(j *feedback.Judgment, name map[string]string) string {
	n := func(id string) string { return cmp.Or(name[id], id) }
	out := ""
	switch j.Kind {
	case feedback.KindCompare:
		switch j.Choice {
		case feedback.ChoiceA, feedback.ChoiceB:
			out = fmt.Sprintf("%s over %s", n(j.Winner()), n(j.Loser()))
			if j.Strength > 0 {
				out += fmt.Sprintf(" (strength %d)", j.Strength)
			}
		case feedback.ChoiceTie:
			out = fmt.Sprintf("%s and %s tie", n(j.A), n(j.B))
		case feedback.ChoiceBothBad:
			out = fmt.Sprintf("%s and %s both bad", n(j.A), n(j.B))
		}
		if j.Left != "" {
			left := j.A
			if j.Left == "b" {
				left = j.B
			}
			out += "; " + n(left) + " shown left"
		}
	case feedback.KindRank:
		var names []string
		for _, id := range j.Ranked() {
			names = append(names, n(id))
		}
		out = strings.Join(names, " > ")
	case feedback.KindRate:
		out = fmt.Sprintf("%s: %s %d of 7", n(j.Response), j.Axis, j.Score)
	case feedback.KindRewrite:
		out = fmt.Sprintf("rewrote %s: %s", n(j.Response), j.Text)
	case feedback.KindFlag:
		out = fmt.Sprintf("flagged %s as %s", n(j.Response), j.Category)
	case feedback.KindThumb:
		out = fmt.Sprintf("%s thumb %s", n(j.Response), map[bool]string{true: "up", false: "down"}[j.Score > 0])
	}
	if j.Revises != "" {
		out += " (revises " + j.Revises + ")"
	}
	if j.Note != "" {
		out += " — " + j.Note
	}
	return out
}

// reviewWords says what a review did.
func reviewWords(j *feedback.Judgment, name map[string]string) string {
	switch j.Verdict {
	case feedback.VerdictEdit:
		return "edited " + j.Target + editWords(j, name)
	case feedback.VerdictWithdraw:
		return "withdrew " + j.Target
	}
	return j.Verdict + "ed " + j.Target
}

// editWords describes an edit's content (whichever fields it carries).
func editWords(j *feedback.Judgment, name map[string]string) string {
	switch {
	case j.Choice != "":
		return ": choice " + string(j.Choice)
	case len(j.Order) > 0:
		return fmt.Sprintf(": order %v", j.Order)
	case j.Score != 0:
		return fmt.Sprintf(": score %d", j.Score)
	case j.Category != "":
		return ": " + j.Category
	case j.Text != "":
		return ": " + j.Text
	}
	return ""
}

// review makes a review event of the judgment id and hands it to the host.
func (b *recordBrowser) review(ctx app.Context, target, verdict string, content *feedback.Judgment) {
	t, ok := b.index.res.Standing(target)
	if !ok {
		return
	}
	j := feedback.Judgment{ID: "w-" + randomID(), Kind: feedback.KindReview, Item: t.Item, Target: target, Verdict: verdict,
		Time: time.Now().UnixMilli()}
	if content != nil {
		j.Choice, j.Strength, j.Order, j.Score, j.Text, j.Category = content.Choice, content.Strength, content.Order, content.Score, content.Text, content.Category
	}
	b.editing = ""
	b.Review(ctx, j)
}

// editForm edits the content of the judgment being edited, by its kind.
func (b *recordBrowser) editForm(it *feedback.Item, name map[string]string) app.UI {
	e := &b.edit
	id := b.editing
	var fields []app.UI
	switch e.Kind {
	case feedback.KindCompare:
		opts := []struct{ v, t string }{
			{"a", cmp.Or(name[e.A], "A") + " is better"}, {"b", cmp.Or(name[e.B], "B") + " is better"},
			{"tie", "tie"}, {"both-bad", "both bad"},
		}
		fields = append(fields, app.Select().ID(b.ID+"-edit-choice").Aria("label", "Corrected choice").OnChange(func(ctx app.Context, ev app.Event) {
			e.Choice = feedback.Choice(ctx.JSSrc().Get("value").String())
		}).Body(app.Range(opts).Slice(func(i int) app.UI {
			return app.Option().Value(opts[i].v).Selected(string(e.Choice) == opts[i].v).Text(opts[i].t)
		})))
	case feedback.KindRank:
		var names []string
		for _, x := range e.Shown {
			names = append(names, name[x])
		}
		cur := make([]string, len(e.Order))
		for k, o := range e.Order {
			cur[k] = strconv.Itoa(o + 1)
		}
		fields = append(fields, app.Label().For(b.ID+"-edit-order").Text("Order, best first, as positions of "+strings.Join(names, ", ")),
			app.Input().ID(b.ID+"-edit-order").Value(strings.Join(cur, " ")).OnInput(func(ctx app.Context, ev app.Event) {
				var order []int
				for _, f := range strings.Fields(ctx.JSSrc().Get("value").String()) {
					if n, err := strconv.Atoi(f); err == nil {
						order = append(order, n-1)
					}
				}
				e.Order = order
			}))
	case feedback.KindRate, feedback.KindThumb:
		lo, hi := feedback.ScoreMin, feedback.ScoreMax
		if e.Kind == feedback.KindThumb {
			lo, hi = -1, 1
		}
		var opts []app.UI
		for s := lo; s <= hi; s++ {
			if e.Kind == feedback.KindThumb && s == 0 {
				continue
			}
			opts = append(opts, app.Option().Value(strconv.Itoa(s)).Selected(s == e.Score).Text(strconv.Itoa(s)))
		}
		fields = append(fields, app.Select().ID(b.ID+"-edit-score").Aria("label", "Corrected score").OnChange(func(ctx app.Context, ev app.Event) {
			e.Score, _ = strconv.Atoi(ctx.JSSrc().Get("value").String())
		}).Body(opts...))
	case feedback.KindRewrite, feedback.KindFlag:
		if e.Kind == feedback.KindFlag {
			fields = append(fields, app.Select().ID(b.ID+"-edit-category").Aria("label", "Corrected category").OnChange(func(ctx app.Context, ev app.Event) {
				e.Category = ctx.JSSrc().Get("value").String()
			}).Body(app.Range(feedback.FlagCategories).Slice(func(i int) app.UI {
				c := feedback.FlagCategories[i]
				return app.Option().Value(c).Selected(c == e.Category).Text(c)
			})))
		}
		fields = append(fields, app.Textarea().ID(b.ID+"-edit-text").Aria("label", "Corrected text").Text(e.Text).
			OnInput(func(ctx app.Context, ev app.Event) { e.Text = ctx.JSSrc().Get("value").String() }))
	}
	return app.Div().Class("row").Body(append(fields,
		app.Button().Class("primary").ID(b.ID+"-edit-save").Text("Save the edit").OnClick(func(ctx app.Context, ev app.Event) {
			c := b.edit
			b.review(ctx, id, feedback.VerdictEdit, &c)
		}),
		app.Button().Text("Cancel").OnClick(func(ctx app.Context, ev app.Event) { b.editing = "" }),
	)...)
}
