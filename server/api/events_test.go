package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/client"
	"prefer/server/store"
	"prefer/server/store/teststore"
)

// setup creates a project of 2 raters who both see every item.
func setupProject(t *testing.T, e *env) (p wire.ProjectCreated, r1, r2 *client.Client, lead *client.Client) {
	t.Helper()
	p = e.project(wire.NewProject{RaterCount: 2, Overlap: 2, Seed: 1})
	return p, e.client(p.Raters[0].Token), e.client(p.Raters[1].Token), e.client(p.LeadToken)
}

func eventIDs(js []feedback.Judgment) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func TestEventsIdempotent(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		p, r1, r2, lead := setupProject(t, e)
		ctx := t.Context()
		batch := []feedback.Judgment{compare("e1", "", "q1", "a"), compare("e2", "r1", "q2", "tie"), compare("e3", "", "q3", "b")}

		res, err := r1.SendEvents(ctx, p.ID, batch)
		if err != nil || res != (wire.EventsAccepted{Accepted: 3}) {
			t.Fatalf("first send: %+v, %v", res, err)
		}
		// The same batch again (its answer was lost): stored once.
		res, err = r1.SendEvents(ctx, p.ID, batch)
		if err != nil || res != (wire.EventsAccepted{Duplicates: 3}) {
			t.Fatalf("resend: %+v, %v", res, err)
		}
		// Out of order, overlapping, and in JSON.
		body := jsonBatch(t, compare("e4", "", "q4", "a"), batch[2], batch[0])
		a := e.do("POST", "/api/v1/projects/"+p.ID+"/events", p.Raters[0].Token, "application/json; charset=utf-8", body)
		wantStatus(t, a, 200)
		json.Unmarshal(a.body, &res)
		if res != (wire.EventsAccepted{Accepted: 1, Duplicates: 2}) {
			t.Fatalf("json batch: %+v", res)
		}
		// The same id twice in one batch with the same content is one event.
		res, err = r2.SendEvents(ctx, p.ID, []feedback.Judgment{compare("f1", "", "q1", "b"), compare("f1", "", "q1", "b")})
		if err != nil || res != (wire.EventsAccepted{Accepted: 1, Duplicates: 1}) {
			t.Fatalf("in-batch duplicate: %+v, %v", res, err)
		}

		all, cursor, err := lead.AllEvents(ctx, p.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := eventIDs(all), []string{"e1", "e2", "e3", "e4", "f1"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("lead sees %v, want %v", got, want)
		}
		if all[0].Rater != "r1" || all[4].Rater != "r2" {
			t.Fatal("the rater was not filled in from the token")
		}
		want := batch[0]
		want.Rater = "r1"
		if !reflect.DeepEqual(all[0], want) {
			t.Fatalf("stored %+v\nwant %+v", all[0], want)
		}
		// Nothing new after the cursor; then one new event.
		page, err := lead.Events(ctx, p.ID, cursor, "", 0)
		if err != nil || len(page.Events) != 0 || page.Cursor != cursor || page.More {
			t.Fatalf("after the cursor: %+v, %v", page, err)
		}
		if _, err := r2.SendEvents(ctx, p.ID, []feedback.Judgment{compare("f2", "", "q2", "a")}); err != nil {
			t.Fatal(err)
		}
		page, err = lead.Events(ctx, p.ID, cursor, "", 0)
		if err != nil || len(page.Events) != 1 || page.Events[0].ID != "f2" || page.Cursor == cursor {
			t.Fatalf("since the cursor: %+v, %v", page, err)
		}
		// Raters read only their own; the lead may filter.
		mine, _, err := r1.AllEvents(ctx, p.ID, "", "")
		if err != nil || !reflect.DeepEqual(eventIDs(mine), []string{"e1", "e2", "e3", "e4"}) {
			t.Fatalf("r1 reads %v, %v", eventIDs(mine), err)
		}
		theirs, _, err := lead.AllEvents(ctx, p.ID, "", "r2")
		if err != nil || !reflect.DeepEqual(eventIDs(theirs), []string{"f1", "f2"}) {
			t.Fatalf("lead reads r2: %v, %v", eventIDs(theirs), err)
		}
		if _, err := r1.Events(ctx, p.ID, "", "r2", 0); client.StatusOf(err) != 403 {
			t.Fatalf("r1 reading r2: %v, want 403", err)
		}
		// Paging with a limit.
		var got []string
		for since, n := "", 0; ; n++ {
			page, err := lead.Events(ctx, p.ID, since, "", 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Events {
				got = append(got, ev.ID)
			}
			since = page.Cursor
			if !page.More || n > 10 {
				break
			}
		}
		if !reflect.DeepEqual(got, []string{"e1", "e2", "e3", "e4", "f1", "f2"}) {
			t.Fatalf("paged: %v", got)
		}
		// The msgpack page.
		a = e.do("GET", "/api/v1/projects/"+p.ID+"/events?limit=2", p.LeadToken, "", nil, "Accept", wire.ContentTypeMsgpack)
		wantStatus(t, a, 200)
		s, err := snapshot.Unmarshal(a.body)
		if err != nil || len(s.Judgments) != 2 || a.header.Get(wire.HeaderMore) != "true" || a.header.Get(wire.HeaderCursor) == "" {
			t.Fatalf("msgpack page: %v, %d judgments, headers %v", err, len(s.Judgments), a.header)
		}
	})
}

func TestEventsRejected(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, func(c *Config) { c.MaxBatchEvents = 7; c.MaxBatchBytes = 4096 })
		p, r1, _, lead := setupProject(t, e)
		ctx := t.Context()
		if _, err := r1.SendEvents(ctx, p.ID, []feedback.Judgment{compare("e1", "", "q1", "a")}); err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/projects/" + p.ID + "/events"
		tok := p.Raters[0].Token
		future := compare("skew", "", "q2", "a")
		future.Time = fixedNow.Add(48 * time.Hour).UnixMilli()
		slightlyAhead := compare("ahead", "", "q2", "a")
		slightlyAhead.Time = fixedNow.Add(time.Hour).UnixMilli()
		badUTF8 := compare("utf", "", "q2", "a")
		badUTF8.Note = "bad \xff byte"
		var six []feedback.Judgment
		for i := range 8 {
			six = append(six, compare(fmt.Sprint("six", i), "", "q1", "a"))
		}
		cases := []struct {
			name, ctype string
			body        []byte
			status      int
			code        string
			badIDs      []string
		}{
			{"wrong content type", "text/plain", msgpackBatch(t, compare("x", "", "q1", "a")), 415, codeContentType, nil},
			{"malformed msgpack", wire.ContentTypeMsgpack, []byte{0x81, 0xa1}, 400, codeBadRequest, nil},
			{"truncated", wire.ContentTypeMsgpack, msgpackBatch(t, compare("x", "", "q1", "a"))[:20], 400, codeBadRequest, nil},
			{"huge length prefix", wire.ContentTypeMsgpack, []byte{0xdd, 0x7f, 0xff, 0xff, 0xff, 0x80}, 400, codeBadRequest, nil},
			{"snapshot with items", wire.ContentTypeMsgpack, fixtureBytes(t)[:0:0], 400, codeBadRequest, nil},
			{"malformed json", "application/json", []byte(`{"events":[{"id":`), 400, codeBadRequest, nil},
			{"json without events", "application/json", []byte(`{"judgments":[]}`), 400, codeBadRequest, nil},
			{"json wrong type", "application/json", []byte(`{"events":[{"id":"x","kind":"compare","time":"soon"}]}`), 400, codeBadRequest, nil},
			{"json huge number", "application/json", []byte(`{"events":[{"id":"x","kind":"compare","time":1e999}]}`), 400, codeBadRequest, nil},
			{"too many events", wire.ContentTypeMsgpack, msgpackBatch(t, six...), 413, codeTooLarge, nil},
			{"too many bytes", "application/json", []byte(`{"events":[` + strings.Repeat(" ", 5000) + `]}`), 413, codeTooLarge, nil},
			{"invalid events", wire.ContentTypeMsgpack, msgpackBatch(t,
				compare("ok", "", "q2", "a"),
				compare("unknown-item", "", "q99", "a"),
				compare("bad-choice", "", "q2", "left"),
				compare("ctl\x01id", "", "q2", "a"),
				future, badUTF8), 400, codeBadEvents, []string{"unknown-item", "bad-choice", "ctl\x01id", "skew", "utf"}},
			{"json empty id", "application/json", jsonBatch(t, compare("", "", "q2", "a")), 400, codeBadEvents, []string{""}},
			{"other rater", wire.ContentTypeMsgpack, msgpackBatch(t, compare("x", "r2", "q2", "a")), 403, codeForbidden, []string{"x"}},
			{"rater reviews", wire.ContentTypeMsgpack, msgpackBatch(t, feedback.Judgment{ID: "rv", Kind: feedback.KindReview, Target: "e1", Verdict: "accept"}), 403, codeForbidden, []string{"rv"}},
			{"conflict with stored", wire.ContentTypeMsgpack, msgpackBatch(t, compare("new", "", "q2", "a"), compare("e1", "", "q1", "b")), 409, codeConflict, []string{"e1"}},
			{"conflict in batch", wire.ContentTypeMsgpack, msgpackBatch(t, compare("d", "", "q2", "a"), compare("d", "", "q2", "b")), 409, codeConflict, []string{"d"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				body := c.body
				if c.name == "snapshot with items" {
					body = fixtureBytes(t)
				}
				got := wantStatus(t, e.do("POST", path, tok, c.ctype, body), c.status)
				if got.Code != c.code {
					t.Fatalf("code %q, want %q: %s", got.Code, c.code, got.Message)
				}
				var ids []string
				for _, ev := range got.Events {
					ids = append(ids, ev.ID)
					if ev.Error == "" {
						t.Errorf("event %q without a reason", ev.ID)
					}
				}
				if c.badIDs != nil && !reflect.DeepEqual(ids, c.badIDs) {
					t.Fatalf("named events %q, want %q", ids, c.badIDs)
				}
			})
		}
		// Nothing of the rejected batches was stored.
		all, _, err := lead.AllEvents(ctx, p.ID, "", "")
		if err != nil || !reflect.DeepEqual(eventIDs(all), []string{"e1"}) || all[0].Choice != "a" {
			t.Fatalf("after the rejected batches: %v, %v", eventIDs(all), err)
		}
		// An hour of skew is tolerated; the lead may review.
		if _, err := r1.SendEvents(ctx, p.ID, []feedback.Judgment{slightlyAhead}); err != nil {
			t.Fatal(err)
		}
		if _, err := lead.SendEvents(ctx, p.ID, []feedback.Judgment{{ID: "rv", Kind: feedback.KindReview, Target: "e1", Verdict: "reject"}}); err != nil {
			t.Fatal(err)
		}
		// Bad cursors and limits.
		for _, q := range []string{"since=abc", "since=-1", "since=" + strings.Repeat("9", 100), "limit=0", "limit=x", "limit=999999"} {
			wantStatus(t, e.do("GET", path+"?"+q, p.LeadToken, "", nil), 400)
		}
		wantStatus(t, e.do("PUT", path, tok, "", nil), 405)
		wantStatus(t, e.do("POST", path, "", wire.ContentTypeMsgpack, msgpackBatch(t, compare("x", "", "q1", "a"))), 401)
	})
}

// TestShutdownRefusesWrites checks that once shutdown began new writes get a 503
// (retry later) while reads go on.
func TestShutdownRefusesWrites(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), nil)
	p, r1, _, _ := setupProject(t, e)
	e.api.StartShutdown()
	_, err := r1.SendEvents(t.Context(), p.ID, []feedback.Judgment{compare("e1", "", "q1", "a")})
	if client.StatusOf(err) != 503 {
		t.Fatalf("write during shutdown: %v, want 503", err)
	}
	if _, err := r1.Tasks(t.Context(), p.ID, ""); err != nil {
		t.Fatal(err)
	}
}

// TestRedactPath checks that access logs never carry ids.
func TestRedactPath(t *testing.T) {
	for in, want := range map[string]string{
		"/s/0123456789abcdef0123456789abcdef":                "/s/{id}",
		"/api/v1/snapshots/0123456789abcdef0123456789abcdef": "/api/v1/snapshots/{id}",
		"/api/v1/projects/abc/events":                        "/api/v1/projects/{p}/events",
		"/web/app.css":                                       "/web/app.css",
		"/":                                                  "/",
		"/api/v1/projects":                                   "/api/v1/projects",
		"/api/v1/projects/" + strconv.Itoa(12) + "/tasks/x/y": "/api/v1/projects/{p}/tasks/x/y",
	} {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// flakyNet is a client transport that can be offline, or deliver a request and lose
// its answer.
type flakyNet struct {
	base     http.RoundTripper
	offline  bool
	loseNext bool
}

func (f *flakyNet) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.offline {
		return nil, errors.New("network is down")
	}
	resp, err := f.base.RoundTrip(r)
	if err == nil && f.loseNext {
		f.loseNext = false
		resp.Body.Close()
		return nil, errors.New("connection reset before the answer")
	}
	return resp, err
}

// TestJ2Protocol plays journey J2 at the protocol level, as the browser's outbox
// does: 20 judgments labeled online, 10 offline, a reload (the outbox is all that
// survives), back online with the first answer lost. The server must end with
// exactly the rater's 30 judgments, once each.
func TestJ2Protocol(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		p := e.project(wire.NewProject{RaterCount: 1})
		net := &flakyNet{base: e.srv.Client().Transport}
		rater := client.New(e.srv.URL, p.Raters[0].Token)
		rater.HTTP = &http.Client{Transport: net}
		var outbox []feedback.Judgment
		flush := func() error {
			for len(outbox) > 0 {
				n := min(len(outbox), 7)
				if _, err := rater.SendEvents(t.Context(), p.ID, outbox[:n]); err != nil {
					return err
				}
				outbox = outbox[n:]
			}
			return nil
		}
		label := func(i int) {
			outbox = append(outbox, compare(fmt.Sprintf("j2-%02d", i), "", fmt.Sprintf("q%d", 1+i%8), feedback.ChoiceB))
		}
		for i := range 20 {
			label(i)
			if err := flush(); err != nil {
				t.Fatal(err)
			}
		}
		net.offline = true
		for i := 20; i < 30; i++ {
			label(i)
			if err := flush(); err == nil {
				t.Fatal("sent while offline")
			}
		}
		saved := append([]feedback.Judgment(nil), outbox...) // the reload: IndexedDB keeps the outbox
		outbox = saved
		net.offline, net.loseNext = false, true
		if err := flush(); err == nil {
			t.Fatal("the lost answer went unnoticed")
		}
		if err := flush(); err != nil { // the retry resends the batch whose answer was lost
			t.Fatal(err)
		}
		all, _, err := e.client(p.LeadToken).AllEvents(t.Context(), p.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, j := range all {
			seen[j.ID]++
			if j.Rater != "r1" {
				t.Fatalf("event %s of rater %q", j.ID, j.Rater)
			}
		}
		if len(all) != 30 || len(seen) != 30 {
			t.Fatalf("server holds %d judgments (%d distinct), want 30", len(all), len(seen))
		}
	})
}
