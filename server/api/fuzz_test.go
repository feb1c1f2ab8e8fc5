package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/core/wire"
	"prefer/server/store"
	"prefer/server/store/teststore"
)

// fuzzSite is an API over an embedded store, driven in-process.
type fuzzSite struct {
	h     http.Handler
	store store.Store
}

func newFuzzSite(tb testing.TB) *fuzzSite {
	st := teststore.Open(tb, "embedded")
	a, err := New(context.Background(), Config{
		Store: st, Now: func() time.Time { return fixedNow }, MaxSnapshotBytes: 1 << 20, MaxBatchBytes: 64 << 10,
	})
	if err != nil {
		tb.Fatal(err)
	}
	assets, err := NewAssets(testAssets, "")
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzSite{h: (&Site{API: a, Assets: assets}).Handler(), store: st}
}

func (s *fuzzSite) do(method, path, token, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// FuzzPostSnapshot posts arbitrary bytes as a snapshot: the answer is a 2xx or a
// 4xx with a JSON error, never a 5xx, and what is accepted reads back unchanged.
func FuzzPostSnapshot(f *testing.F) {
	good := fixtureBytes(f)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x82, 0xa6, 'f', 'o', 'r', 'm', 'a', 't', 0xaf, 'p', 'r', 'e', 'f', 'e', 'r', '.', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x63})
	f.Add([]byte{})
	s := newFuzzSite(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := s.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, data)
		switch rec.Code {
		case 200, 201:
			var res wire.SnapshotCreated
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatalf("answer %s: %v", rec.Body, err)
			}
			get := s.do("GET", "/api/v1/snapshots/"+res.ID, "", "", nil)
			if get.Code != 200 || !bytes.Equal(get.Body.Bytes(), data) {
				t.Fatalf("stored snapshot reads back %d, %d bytes", get.Code, get.Body.Len())
			}
		case 400, 413:
			var e wire.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Message == "" {
				t.Fatalf("error answer %s: %v", rec.Body, err)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzPostEvents posts arbitrary batches (msgpack or JSON) as a rater: the answer
// is a 200 or a 4xx, never a 5xx; a batch is stored whole or not at all, the same
// batch again is all duplicates, and the store stays readable.
func FuzzPostEvents(f *testing.F) {
	good := []feedback.Judgment{compare("e1", "", "q1", "a"), compare("e2", "", "q2", "b")}
	mp, _ := wire.EncodeEventsMsgpack(good)
	js, _ := wire.EncodeEventsJSON(good)
	f.Add(mp, false)
	f.Add(js, true)
	f.Add(mp[:len(mp)/2], false)
	f.Add([]byte(`{"events":[{"id":"x","kind":"rank","item":"q1","shown":["a","b"],"order":[1,1]}]}`), true)
	f.Add([]byte(`{"events":[{"id":"x","kind":"review","target":"e1","verdict":"accept"}]}`), true)
	f.Add([]byte(`{"events":[{"id":"x","kind":"compare","item":"q1","a":"a","b":"b","choice":"a","time":9223372036854775807}]}`), true)
	f.Add([]byte{0xdd, 0x7f, 0xff, 0xff, 0xff}, false)

	s := newFuzzSite(f)
	data, _ := fixtureBytesFor(f)
	rec := s.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, data)
	var snap wire.SnapshotCreated
	json.Unmarshal(rec.Body.Bytes(), &snap)
	body, _ := json.Marshal(wire.NewProject{Snapshot: snap.ID, RaterCount: 2, Overlap: 2})
	rec = s.do("POST", "/api/v1/projects", "", wire.ContentTypeJSON, body)
	var p wire.ProjectCreated
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 201 {
		f.Fatalf("create project: %d %s", rec.Code, rec.Body)
	}
	path := "/api/v1/projects/" + p.ID + "/events"
	tok := p.Raters[0].Token

	f.Fuzz(func(t *testing.T, batch []byte, asJSON bool) {
		ctype := wire.ContentTypeMsgpack
		if asJSON {
			ctype = wire.ContentTypeJSON
		}
		rec := s.do("POST", path, tok, ctype, batch)
		switch rec.Code {
		case 200:
			var res wire.EventsAccepted
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatalf("answer %s: %v", rec.Body, err)
			}
			again := s.do("POST", path, tok, ctype, batch)
			var res2 wire.EventsAccepted
			json.Unmarshal(again.Body.Bytes(), &res2)
			if again.Code != 200 || res2.Accepted != 0 || res2.Duplicates != res.Accepted+res.Duplicates {
				t.Fatalf("resend: %d %+v after %+v", again.Code, res2, res)
			}
		case 400, 403, 409, 413:
			var e wire.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Message == "" {
				t.Fatalf("error answer %s: %v", rec.Body, err)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if _, err := s.store.Events(context.Background(), p.ID, store.EventQuery{Limit: 1}); err != nil {
			t.Fatalf("store unreadable: %v", err)
		}
	})
}

func fixtureBytesFor(tb testing.TB) ([]byte, error) { return fixtureBytes(tb), nil }
