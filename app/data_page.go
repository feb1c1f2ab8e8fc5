package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

// dataPage shows the working state's items and judgments (virtualized lists),
// imports and exports the CLI's formats, downloads and uploads snapshots, shares the
// state (a server link, or a link that carries the state in its fragment), and lists
// the states kept in this browser.
type dataPage struct {
	pageBase

	importFormat string
	exportFormat string
	// An import read but not yet applied: the file, what the worker read from it
	// (counts, first errors, first rows) and the state it makes (Result.File).
	pendName string
	pendData []byte
	pending  *jobs.Result
	msg      string
	bad      bool
	shareURL string
	library  []libraryEntry

	records   recordBrowser
	judgments virtualList

	gen generatePanel // "Generate answers" (data_generate.go)
}

// libraryEntry is a state kept in this browser (store "library").
type libraryEntry struct {
	ID        string
	Items     int
	Judgments int
	Note      string
}

func (p *dataPage) OnMount(ctx app.Context) {
	p.importFormat = jobs.FormatAuto
	p.exportFormat = "jsonl"
	p.records = recordBrowser{ID: "records", list: virtualList{ID: "items-list", Label: "Items", RowH: 34, Height: 320,
		Header: []string{"Item", "Prompt", "Judgments", "Raters", "Signs"},
		Widths: []string{"0 0 9rem", "1 1 auto", "0 0 6rem", "0 0 6rem", "0 0 11rem"}}}
	p.judgments = virtualList{ID: "judgments-list", Label: "Judgments", RowH: 34, Height: 300,
		Header: []string{"Time", "Kind", "Item", "Rater", "Label", "State"}, Widths: []string{"0 0 10rem", "0 0 5.5rem", "0 0 9rem", "0 0 8rem", "1 1 auto", "0 0 6.5rem"}}
	p.mount(ctx)
	ctx.Async(func() { p.loadLibrary(ctx) })
	ctx.Async(func() { p.gen.load(p) })
}

func (p *dataPage) OnDismount() { p.dismount() }

func (p *dataPage) loadLibrary(ctx app.Context) {
	waitReady()
	wb.mu.Lock()
	db := wb.db
	wb.mu.Unlock()
	if db == nil {
		return
	}
	recs, err := db.All(storeLibrary)
	if err != nil {
		return
	}
	var lib []libraryEntry
	for _, r := range recs {
		s, err := snapshot.Unmarshal(r.Value)
		if err != nil {
			continue
		}
		lib = append(lib, libraryEntry{ID: r.Key, Items: len(s.Items), Judgments: len(s.Judgments), Note: s.Provenance.Command})
	}
	p.ctx.Dispatch(func(ctx app.Context) { p.library = lib })
}

func (p *dataPage) say(msg string, bad bool) { p.msg, p.bad = msg, bad }

func (p *dataPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathData, app.H1().Text("Data"), loading(v))
	}
	s := v.Snap
	js := v.Judgments
	// A rater's device sends its events to the project, which takes reviews from the
	// lead only; elsewhere reviews are this browser's.
	p.records.Review = nil
	if _, rater := wb.project(); !rater {
		p.records.Review = p.review
	}
	records := p.records.render(v)
	res := p.records.index.res
	p.judgments.Rows = len(js)
	p.judgments.Cell = func(r, c int) string {
		j := &js[r]
		switch c {
		case 0:
			if j.Time == 0 {
				return ""
			}
			return time.UnixMilli(j.Time).UTC().Format("2006-01-02 15:04")
		case 1:
			return string(j.Kind)
		case 2:
			return j.Item
		case 3:
			return j.Rater
		case 4:
			return judgmentLabel(j)
		}
		st, _ := res.State(j.ID)
		return string(st)
	}
	busy := v.Job != nil && !v.Job.Done
	return frame(PathData,
		app.Div().Class("page-head").Body(
			app.Div().Body(
				app.H1().Text("Data"),
				app.P().Text("The working state: its items and judgments, files in and out, and links to share it."),
			),
		),
		app.If(p.msg != "", app.Div().Class(noticeClass(p.bad)).Role("status").ID("data-msg").Text(p.msg)),
		app.Div().Class("grid grid-4").Style("margin", "1rem 0").Body(
			stat("Items", fmt.Sprint(len(s.Items)), ""),
			stat("Judgments", fmt.Sprint(len(js)), ratersNote(len(feedback.RaterIDs(js)))),
			stat("Models", fmt.Sprint(len(s.Models)), ""),
			stat("Runs", fmt.Sprint(len(s.Runs)), ""),
		),
		app.Div().Class("grid grid-2").Body(
			app.Section().Class("panel stack").Aria("label", "Import and export").Body(
				app.H2().Text("Import a dataset"),
				app.P().Class("muted").Text("Read a preference dataset in one of the CLI's formats (plain or gzipped; auto recognises it). You see what was read before it replaces the working state; the current one is then kept below."),
				app.Div().Class("row").Body(
					app.Select().ID("import-format").Aria("label", "Import format").OnChange(func(ctx app.Context, e app.Event) {
						p.importFormat = ctx.JSSrc().Get("value").String()
					}).Body(
						app.Option().Value(jobs.FormatAuto).Selected(p.importFormat == jobs.FormatAuto).Text("auto (recognise it)"),
						app.Range(jobs.ImportFormats).Slice(func(i int) app.UI {
							f := jobs.ImportFormats[i]
							return app.Option().Value(f).Selected(f == p.importFormat).Text(f)
						})),
					app.Input().Type("file").ID("import-file").Aria("label", "Dataset file").Disabled(busy).OnChange(p.onImport),
				),
				p.renderPending(busy),
				app.H2().Text("Export"),
				app.Div().Class("row").Body(
					app.Select().ID("export-format").Aria("label", "Export format").OnChange(func(ctx app.Context, e app.Event) {
						p.exportFormat = ctx.JSSrc().Get("value").String()
					}).Body(app.Range(jobs.ExportFormats).Slice(func(i int) app.UI {
						f := jobs.ExportFormats[i]
						return app.Option().Value(f).Selected(f == p.exportFormat).Text(f)
					})),
					app.Button().ID("export-btn").Disabled(busy || len(js) == 0).Text("Export judgments").OnClick(p.onExport),
				),
			),
			app.Section().Class("panel stack").Aria("label", "Snapshots and sharing").Body(
				app.H2().Text("Snapshot"),
				app.P().Class("muted").Text("One file holds everything: items, judgments, models, training curves and seeds. Opening it anywhere reproduces the same numbers."),
				app.Div().Class("row").Body(
					app.Button().ID("download-snap").Text("Download snapshot").OnClick(p.onDownload),
					app.Label().For("upload-snap").Class("btn").Text("Upload snapshot…"),
					app.Input().Type("file").ID("upload-snap").Class("sr-only").Accept(".snap").OnChange(p.onUpload),
				),
				app.H2().Text("Share"),
				app.P().Class("muted").Text("Uploads the snapshot to this server and gives an immutable link. Without a server (static hosting, offline), a small state travels inside the link itself."),
				app.Button().Class("primary").ID("share-btn").Disabled(len(s.Items) == 0).Text("Share").OnClick(p.onShare),
				app.If(p.shareURL != "", app.Div().Class("row").Body(
					app.Input().Type("text").ID("share-url").ReadOnly(true).Value(p.shareURL).Aria("label", "Share link").Style("flex", "1"),
					app.Button().Text("Copy").OnClick(func(ctx app.Context, e app.Event) {
						url := p.shareURL
						ctx.Async(func() {
							err := browser.CopyText(url)
							p.ctx.Dispatch(func(ctx app.Context) {
								if err != nil {
									p.say(err.Error(), true)
								} else {
									p.say("Link copied.", false)
								}
							})
						})
					}),
				)),
			),
		),
		p.gen.render(p, s, busy),
		app.Section().Class("panel stack").Style("margin-top", "1rem").Body(
			app.H2().Text(fmt.Sprintf("Records: %d items", len(s.Items))),
			app.P().Class("muted").Text("Search the items, filter by rater, kind, disagreement, flags or revisions, and open an item to see all its judgments side by side. Reviews you make here (accept, reject, edit) are new events: nothing is overwritten."),
			records,
		),
		app.Section().Class("panel stack").Body(
			app.H2().Text(fmt.Sprintf("Event log: %d judgments", len(js))),
			p.judgments.render(),
		),
		app.Section().Class("panel stack").Body(
			app.H2().Text("Kept in this browser"),
			either(len(p.library) == 0, func() app.UI {
				return app.P().Class("muted").Text("Earlier working states appear here when you open, import or simulate a new one.")
			}, func() app.UI {
				return app.Table().ID("library").Body(
					app.THead().Body(app.Tr().Body(app.Th().Text("Snapshot"), app.Th().Text("Items"), app.Th().Text("Judgments"), app.Th().Text("Made by"), app.Th())),
					app.TBody().Body(app.Range(p.library).Slice(func(i int) app.UI {
						e := p.library[i]
						return app.Tr().Body(
							app.Td().Class("mono").Text(shortID(e.ID)),
							app.Td().Class("num").Text(fmt.Sprint(e.Items)),
							app.Td().Class("num").Text(fmt.Sprint(e.Judgments)),
							app.Td().Text(e.Note),
							app.Td().Body(app.Button().Text("Open").OnClick(func(ctx app.Context, ev app.Event) { p.openLibrary(ctx, e.ID) }, e.ID)),
						)
					})),
				)
			}),
		),
	)
}

// ratersNote says who made the judgments: "by N raters", or that they carry no
// rater ids (imported datasets such as HH-RLHF).
func ratersNote(n int) string {
	if n == 0 {
		return "no rater ids"
	}
	return fmt.Sprintf("by %d raters", n)
}

// review keeps a review made in the record browser in this browser's state.
func (p *dataPage) review(ctx app.Context, j feedback.Judgment) {
	rater := wb.localRater()
	j.Rater = rater.ID
	ctx.Async(func() {
		err := wb.Record(j, rater)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.say("The review was not saved: "+err.Error(), true)
			} else {
				p.say(fmt.Sprintf("Recorded: %s of %s.", j.Verdict, j.Target), false)
			}
		})
	})
}

// judgmentLabel describes a judgment's label in a few words.
func judgmentLabel(j *feedback.Judgment) string {
	switch j.Kind {
	case feedback.KindCompare:
		if j.Left == "" {
			return string(j.Choice)
		}
		return fmt.Sprintf("%s (left %s)", j.Choice, j.Left)
	case feedback.KindRank:
		return fmt.Sprint(j.Order)
	case feedback.KindRate:
		return fmt.Sprintf("%s %d", j.Axis, j.Score)
	case feedback.KindRewrite:
		return j.Text
	case feedback.KindFlag:
		return j.Category + " " + j.Note
	case feedback.KindThumb:
		if j.Score > 0 {
			return "up"
		}
		return "down"
	case feedback.KindReview:
		return j.Verdict + " " + j.Target
	}
	return ""
}

func (p *dataPage) onImport(ctx app.Context, e app.Event) {
	files := ctx.JSSrc().Get("files")
	if files.Length() == 0 {
		return
	}
	file, format := files.Index(0), p.importFormat
	p.say("Reading the file…", false)
	p.pending = nil
	ctx.Async(func() {
		name, data, err := browser.ReadFile(file)
		if err != nil {
			p.ctx.Dispatch(func(ctx app.Context) { p.say(err.Error(), true) })
			return
		}
		p.read(name, data, format)
	})
}

// read runs the import job on a file and shows what it read; nothing is replaced
// until the user confirms (applyImport). Called from ctx.Async.
func (p *dataPage) read(name string, data []byte, format string) {
	res, err := wb.Run("Reading "+name, jobs.Request{Kind: jobs.KindImport, Import: &jobs.ImportParams{Format: format, Name: name, Data: data}}, nil)
	p.ctx.Dispatch(func(ctx app.Context) {
		if err != nil {
			p.say(err.Error(), true)
			return
		}
		p.pendName, p.pendData, p.pending = name, data, res
		info := res.Import
		switch {
		case len(res.File) == 0:
			p.say(fmt.Sprintf("Nothing in %s could be read; the working state is unchanged.", name), true)
		default:
			p.say(fmt.Sprintf("Read %s as %s: %d items, %d judgments. Check the first rows below, then replace the working state.", name, info.Format, info.Items, info.Judgments), false)
		}
	})
}

// renderPending shows an import read but not applied: the format, counts, the
// first errors with their lines, what the file looks like if it is another format,
// the first rows, and the buttons to apply or drop it.
func (p *dataPage) renderPending(busy bool) app.UI {
	res := p.pending
	if res == nil || res.Import == nil {
		return app.If(false)
	}
	info := res.Import
	how := "as " + info.Format
	if info.Detected != "" {
		how += " — recognised by " + info.Detected
	}
	return app.Div().ID("import-preview").Class("stack").Aria("label", "Import preview").Body(
		app.P().ID("import-how").Text(fmt.Sprintf("%s read %s: %d records, %d items, %d judgments, %d bad.", p.pendName, how, info.Records, info.Items, info.Judgments, info.Skipped)),
		app.If(info.Looks != "", app.Div().Class("notice bad").ID("import-looks").Body(
			app.Text(fmt.Sprintf("This looks like %s, not %s (%s). ", info.Looks, info.Format, info.LooksWhy)),
			app.Button().ID("import-as").Disabled(busy).Text("Read it as "+info.Looks).OnClick(func(ctx app.Context, e app.Event) {
				name, data, format := p.pendName, p.pendData, info.Looks
				p.importFormat = format
				p.say("Reading the file…", false)
				ctx.Async(func() { p.read(name, data, format) })
			}),
		)),
		app.If(info.Errors != "", app.Pre().ID("import-errors").Class("mono").Style("white-space", "pre-wrap").Style("max-height", "11rem").Style("overflow", "auto").Text(info.Errors)),
		app.If(len(info.Rows) > 0, app.Table().ID("import-rows").Body(
			app.THead().Body(app.Tr().Body(app.Th().Text("Kind"), app.Th().Text("Prompt"), app.Th().Text("Response"), app.Th().Text("Other"), app.Th().Text("Label"))),
			app.TBody().Body(app.Range(info.Rows).Slice(func(i int) app.UI {
				r := info.Rows[i]
				return app.Tr().Body(app.Td().Text(r.Kind), app.Td().Text(clip(r.Prompt, 80)), app.Td().Text(clip(r.A, 80)), app.Td().Text(clip(r.B, 80)), app.Td().Text(r.Label))
			})),
		)),
		app.Div().Class("row").Body(
			app.Button().Class("primary").ID("import-apply").Disabled(busy || len(res.File) == 0).
				Title("The current working state is kept on this page").Text("Replace the working state").OnClick(p.applyImport),
			app.Button().ID("import-cancel").Text("Cancel").OnClick(func(ctx app.Context, e app.Event) {
				p.pending, p.pendData = nil, nil
				p.say("Import cancelled; the working state is unchanged.", false)
			}),
		),
	)
}

// applyImport makes the state an import read the working state.
func (p *dataPage) applyImport(ctx app.Context, e app.Event) {
	res, name := p.pending, p.pendName
	if res == nil || len(res.File) == 0 {
		return
	}
	ctx.Async(func() {
		s, err := snapshot.Unmarshal(res.File)
		if err == nil {
			err = wb.Replace(res.File, s)
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.say("Could not use the import: "+err.Error(), true)
				return
			}
			info := res.Import
			msg := fmt.Sprintf("Imported %s: %d items, %d judgments.", name, info.Items, info.Judgments)
			if info.Skipped > 0 {
				msg += fmt.Sprintf(" %d bad records were skipped.", info.Skipped)
			}
			p.pending, p.pendData = nil, nil
			p.say(msg, false)
			p.loadLibraryAsync(ctx)
		})
	})
}

// clip shortens a text for a table cell: whitespace runs become one space, and
// past n runes it ends with "…".
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (p *dataPage) loadLibraryAsync(ctx app.Context) { ctx.Async(func() { p.loadLibrary(ctx) }) }

func (p *dataPage) onExport(ctx app.Context, e app.Event) {
	format := p.exportFormat
	ctx.Async(func() {
		res, err := wb.Run("Exporting", jobs.Request{Kind: jobs.KindExport, Export: &jobs.ExportParams{Format: format}}, nil)
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.say(err.Error(), true)
				return
			}
			ext := ".jsonl"
			browser.Download("prefer-"+format+ext, "application/x-ndjson", res.File)
			msg := fmt.Sprintf("Exported %d records as %s.", int(res.Summary["records"]), format)
			if len(res.Notes) > 0 {
				msg += " " + strings.Join(res.Notes, "; ") + "."
			}
			p.say(msg, false)
		})
	})
}

func (p *dataPage) onDownload(ctx app.Context, e app.Event) {
	data, id, err := wb.Snapshot()
	if err != nil {
		p.say(err.Error(), true)
		return
	}
	browser.Download("prefer-"+strings.TrimPrefix(id, "sha256-")[:12]+".snap", "application/msgpack", data)
	p.say("Downloaded "+shortID(id)+".", false)
}

func (p *dataPage) onUpload(ctx app.Context, e app.Event) {
	files := ctx.JSSrc().Get("files")
	if files.Length() == 0 {
		return
	}
	file := files.Index(0)
	ctx.Async(func() {
		name, data, err := browser.ReadFile(file)
		msg, bad := openBytes(name, data, err)
		p.ctx.Dispatch(func(ctx app.Context) { p.say(msg, bad); p.loadLibraryAsync(ctx) })
	})
}

// onShare uploads the snapshot (POST /api/v1/snapshots) and shows its link; without
// a server it puts a small state in the link's fragment.
func (p *dataPage) onShare(ctx app.Context, e app.Event) {
	p.say("Sharing…", false)
	ctx.Async(func() {
		data, _, err := wb.Snapshot()
		if err != nil {
			p.ctx.Dispatch(func(ctx app.Context) { p.say(err.Error(), true) })
			return
		}
		reply, ferr := browser.Fetch("POST", appPath("/api/v1/snapshots"), data, map[string]string{"Content-Type": "application/msgpack"})
		status, body := reply.Status, reply.Body
		var created wire.SnapshotCreated
		if ferr == nil && (status == 200 || status == 201) && json.Unmarshal(body, &created) == nil && created.ID != "" {
			link := created.URL
			if link == "" {
				link = siteURL(PathSnapshot + created.ID)
			}
			_ = storeInLibrary(created.ID, data)
			p.ctx.Dispatch(func(ctx app.Context) {
				p.shareURL = link
				p.say("Uploaded: anyone with the link opens exactly this state.", false)
			})
			return
		}
		frag, small := encodeFragment(data)
		p.ctx.Dispatch(func(ctx app.Context) {
			switch {
			case small:
				p.shareURL = siteURL(PathHome) + "#" + frag
				p.say("No server to upload to: the link carries the whole state itself.", false)
			case ferr != nil:
				p.say("Offline, and the state is too large for a link: download the snapshot instead.", true)
			default:
				p.say(fmt.Sprintf("The server refused the upload (HTTP %d): %s. Download the snapshot instead.", status, shortBody(body)), true)
			}
		})
	})
}

// storeInLibrary keeps an encoded snapshot in the browser under id.
func storeInLibrary(id string, data []byte) error {
	wb.mu.Lock()
	db := wb.db
	wb.mu.Unlock()
	if db == nil {
		return nil
	}
	return db.Apply(Op{Store: storeLibrary, Key: id, Value: data})
}

func (p *dataPage) openLibrary(ctx app.Context, id string) {
	ctx.Async(func() {
		wb.mu.Lock()
		db := wb.db
		wb.mu.Unlock()
		data, ok, err := db.Get(storeLibrary, id)
		if err == nil && !ok {
			err = fmt.Errorf("snapshot %s is no longer kept here", shortID(id))
		}
		msg, bad := openBytes(shortID(id), data, err)
		p.ctx.Dispatch(func(ctx app.Context) { p.say(msg, bad); p.loadLibraryAsync(ctx) })
	})
}
