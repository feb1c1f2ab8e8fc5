package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// virtualList renders only the rows in view of a fixed-height scrolling box, so
// lists of many thousands of rows stay smooth (go-app lists have no keys: rendering
// every row would rewrite thousands of nodes on each change).
type virtualList struct {
	ID     string
	Label  string // accessible name
	Rows   int
	RowH   int // pixels
	Height int // pixels of the scrolling box
	Header []string
	Widths []string // CSS flex of each column
	Cell   func(row, col int) string
	// OnOpen, when set, makes the rows buttons: a click, Enter or Space on a row
	// calls it with the row. Selected is the row shown as open (−1: none).
	OnOpen   func(ctx app.Context, row int)
	Selected int
	top      int // first row in view
}

// overscan is how many rows are rendered beyond the visible ones on each side.
const overscan = 8

func (v *virtualList) render() app.UI {
	first := max(0, v.top-overscan)
	last := min(v.Rows, v.top+v.Height/v.RowH+overscan)
	rows := make([]app.UI, 0, last-first+1)
	head := make([]app.UI, len(v.Header))
	for c, h := range v.Header {
		head[c] = app.Span().Role("columnheader").Style("flex", v.Widths[c]).Text(h)
	}
	rows = append(rows, app.Div().Class("vrow vhead").Role("row").Style("position", "sticky").Style("height", px(v.RowH)).Body(head...))
	for r := first; r < last; r++ {
		cells := make([]app.UI, len(v.Header))
		for c := range v.Header {
			text := v.Cell(r, c)
			cells[c] = app.Span().Role("cell").Style("flex", v.Widths[c]).Title(text).Text(text)
		}
		row := app.Div().Class("vrow").Role("row").Aria("rowindex", r+2).
			Style("top", px((r+1)*v.RowH)).Style("height", px(v.RowH))
		if v.OnOpen != nil {
			r, open := r, v.OnOpen
			row = row.Class("clickable").TabIndex(0).Aria("selected", r == v.Selected).
				OnClick(func(ctx app.Context, e app.Event) { open(ctx, r) }, r).
				OnKeyDown(func(ctx app.Context, e app.Event) {
					if k := e.Get("key").String(); k == "Enter" || k == " " {
						e.PreventDefault()
						open(ctx, r)
					}
				}, r)
			if r == v.Selected {
				row = row.Class("selected")
			}
		}
		rows = append(rows, row.Body(cells...))
	}
	return app.Div().Class("vlist").ID(v.ID).Role("table").Aria("label", v.Label).Aria("rowcount", v.Rows+1).
		Style("height", px(v.Height)).
		OnScroll(func(ctx app.Context, e app.Event) {
			top := ctx.JSSrc().Get("scrollTop").Int() / v.RowH
			if top != v.top {
				v.top = top
			}
		}).
		Body(app.Div().Style("height", px((v.Rows+1)*v.RowH)).Style("position", "relative").Body(rows...))
}

func px(n int) string { return fmt.Sprintf("%dpx", n) }
