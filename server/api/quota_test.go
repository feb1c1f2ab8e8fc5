package api

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/wire"
	"prefer/server/store/teststore"
)

// TestRaterQuota is issue 11 item 3's per-rater quota: a rater may store at most
// MaxRaterEvents events and MaxRaterBytes bytes of them in a project. Before it, the
// second batch below was stored (a rater could fill the disk). A batch over the
// quota is refused whole with 413 quota_exceeded; another rater is not affected;
// the counts survive a restart of the server and its store; a resent batch of
// stored events is still acknowledged at the quota; the lead's token has no quota.
func TestRaterQuota(t *testing.T) {
	for _, kind := range teststore.Kinds {
		t.Run(kind, func(t *testing.T) {
			st, reopen := teststore.Reopenable(t, kind)
			quota := func(c *Config) { c.MaxRaterEvents = 3 }
			e := newEnv(t, st, quota)
			p, r1, r2, lead := setupProject(t, e)
			ctx := t.Context()
			path := "/api/v1/projects/" + p.ID + "/events"

			if res, err := r1.SendEvents(ctx, p.ID, []feedback.Judgment{compare("e1", "", "q1", "a"), compare("e2", "", "q2", "b")}); err != nil || res.Accepted != 2 {
				t.Fatalf("first batch: %+v, %v", res, err)
			}
			// 2 + 2 > 3: refused whole.
			a := e.do("POST", path, p.Raters[0].Token, wire.ContentTypeMsgpack, msgpackBatch(t, compare("e3", "", "q3", "a"), compare("e4", "", "q4", "a")))
			er := wantStatus(t, a, http.StatusRequestEntityTooLarge)
			if er.Code != codeQuota || !strings.Contains(er.Message, `rater "r1"`) || !strings.Contains(er.Message, "2 events") ||
				!strings.Contains(er.Message, "quota of 3 events") || !strings.Contains(er.Message, "raise the quota") {
				t.Fatalf("over the quota: %+v", er)
			}
			if got, _, err := r1.AllEvents(ctx, p.ID, "", ""); err != nil || !slices.Equal(eventIDs(got), []string{"e1", "e2"}) {
				t.Fatalf("after the refusal r1 holds %v, %v; want e1 e2", eventIDs(got), err)
			}
			// r2 has a quota of its own.
			if res, err := r2.SendEvents(ctx, p.ID, []feedback.Judgment{compare("f1", "", "q1", "a"), compare("f2", "", "q2", "a"), compare("f3", "", "q3", "a")}); err != nil || res.Accepted != 3 {
				t.Fatalf("r2 beside r1: %+v, %v", res, err)
			}

			// Restart: a new server over the store opened again.
			e = newEnv(t, reopen(), quota)
			r1, lead = e.client(p.Raters[0].Token), e.client(p.LeadToken)
			if res, err := r1.SendEvents(ctx, p.ID, []feedback.Judgment{compare("e3", "", "q3", "a")}); err != nil || res.Accepted != 1 {
				t.Fatalf("after restart, up to the quota: %+v, %v", res, err)
			}
			a = e.do("POST", path, p.Raters[0].Token, wire.ContentTypeJSON, jsonBatch(t, compare("e4", "", "q4", "a")))
			if er := wantStatus(t, a, http.StatusRequestEntityTooLarge); er.Code != codeQuota {
				t.Fatalf("after restart, over the quota: %+v", er)
			}
			// The lost answer's batch again, at the quota: acknowledged.
			res, err := r1.SendEvents(ctx, p.ID, []feedback.Judgment{compare("e1", "", "q1", "a"), compare("e2", "", "q2", "b"), compare("e3", "", "q3", "a")})
			if err != nil || res != (wire.EventsAccepted{Duplicates: 3}) {
				t.Fatalf("resend at the quota: %+v, %v", res, err)
			}
			// The lead is not limited.
			var reviews []feedback.Judgment
			for i, target := range []string{"e1", "e2", "e3", "f1"} {
				reviews = append(reviews, feedback.Judgment{ID: fmt.Sprintf("rv%d", i), Kind: feedback.KindReview, Target: target, Verdict: "accept", Time: fixedNow.UnixMilli()})
			}
			if res, err := lead.SendEvents(ctx, p.ID, reviews); err != nil || res.Accepted != 4 {
				t.Fatalf("lead's reviews: %+v, %v", res, err)
			}
			u, err := e.store.Usage(ctx, p.ID, "r1")
			if err != nil || u.Events != 3 {
				t.Fatalf("r1's usage %+v, %v; want 3 events", u, err)
			}
			// The lead's progress shows each rater's share and the quota.
			prog, err := lead.Progress(ctx, p.ID)
			if err != nil || prog.QuotaEvents != 3 || prog.QuotaBytes != DefaultRaterBytes {
				t.Fatalf("progress quota %d events, %d bytes, %v; want 3 and %d", prog.QuotaEvents, prog.QuotaBytes, err, DefaultRaterBytes)
			}
			if r := prog.Raters[0]; r.ID != "r1" || r.Events != 3 || r.Bytes != u.Bytes {
				t.Fatalf("progress of r1: %+v; want 3 events and the store's %d bytes", r, u.Bytes)
			}
		})
	}
}

// TestRaterQuotaBytes: the byte quota counts the stored bodies (the events' JSON).
func TestRaterQuotaBytes(t *testing.T) {
	st := teststore.Open(t, "embedded")
	e := newEnv(t, st, func(c *Config) { c.MaxRaterBytes = 2000 })
	p, r1, _, _ := setupProject(t, e)
	ctx := t.Context()
	withNote := func(id, item string) feedback.Judgment {
		j := compare(id, "", item, "a")
		j.Note = strings.Repeat("n", 800)
		return j
	}
	if _, err := r1.SendEvents(ctx, p.ID, []feedback.Judgment{withNote("e1", "q1"), withNote("e2", "q2")}); err != nil {
		t.Fatal(err)
	}
	u, err := st.Usage(ctx, p.ID, "r1")
	if err != nil || u.Events != 2 || u.Bytes < 1600 || u.Bytes > 2000 {
		t.Fatalf("usage %+v, %v: want 2 events of 800-byte notes within 2000 bytes", u, err)
	}
	a := e.do("POST", "/api/v1/projects/"+p.ID+"/events", p.Raters[0].Token, wire.ContentTypeMsgpack, msgpackBatch(t, withNote("e3", "q3")))
	er := wantStatus(t, a, http.StatusRequestEntityTooLarge)
	if er.Code != codeQuota || !strings.Contains(er.Message, "quota of 2.0 KiB of events") {
		t.Fatalf("over the byte quota: %+v", er)
	}
	// A small event still fits.
	if res, err := r1.SendEvents(ctx, p.ID, []feedback.Judgment{compare("e4", "", "q4", "a")}); err != nil || res.Accepted != 1 {
		t.Fatalf("a small event within the byte quota: %+v, %v", res, err)
	}
}

// TestRaterQuotaFromHeader: a rater's batch of more events than the whole quota is
// refused from the msgpack array's header, before an event is decoded: the body
// below claims 4 events and holds none (decoding it would be a 400).
func TestRaterQuotaFromHeader(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), func(c *Config) { c.MaxRaterEvents = 3 })
	p := e.project(wire.NewProject{RaterCount: 1})
	path := "/api/v1/projects/" + p.ID + "/events"
	body := hostileBatch(0)
	body = binary.BigEndian.AppendUint32(body[:len(body)-4], 4) // the array header 0xdd's count: 4
	a := e.do("POST", path, p.Raters[0].Token, wire.ContentTypeMsgpack, body)
	er := wantStatus(t, a, http.StatusRequestEntityTooLarge)
	if er.Code != codeQuota || !strings.Contains(er.Message, "holds 4 events") || !strings.Contains(er.Message, "quota is 3 events") {
		t.Fatalf("header over the quota: %+v", er)
	}
	js := []byte(`{"events":[` + strings.Repeat(`{"id":"x","kind":"rate"},`, 4) + `}`)
	if er := wantStatus(t, e.do("POST", path, p.Raters[0].Token, wire.ContentTypeJSON, js), http.StatusRequestEntityTooLarge); er.Code != codeQuota ||
		!strings.Contains(er.Message, "more than 3 events") {
		t.Fatalf("JSON over the quota: %+v", er)
	}
	// The same body with a 4-event quota is decoded, and is malformed.
	e = newEnv(t, e.store, func(c *Config) { c.MaxRaterEvents = 4 })
	wantStatus(t, e.do("POST", path, p.Raters[0].Token, wire.ContentTypeMsgpack, body), http.StatusBadRequest)
}
