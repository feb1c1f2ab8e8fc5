package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/store"
	"prefer/server/store/teststore"
)

func TestSnapshotRoundTrip(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		data := fixtureBytes(t)
		a := e.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, data)
		wantStatus(t, a, http.StatusCreated)
		var res wire.SnapshotCreated
		if err := json.Unmarshal(a.body, &res); err != nil {
			t.Fatal(err)
		}
		secret, _ := st.Secret(t.Context())
		if res.ID != ShareID(secret, data) || res.ContentID != snapshot.ID(data) || res.Size != int64(len(data)) {
			t.Fatalf("answer %+v", res)
		}
		if want := e.srv.URL + "/s/" + res.ID; res.URL != want {
			t.Fatalf("url %q, want %q", res.URL, want)
		}
		if res.ID == strings.TrimPrefix(res.ContentID, "sha256-")[:32] {
			t.Fatal("share id is the plain content hash: it must be keyed with the server secret")
		}
		// The same bytes again: 200 and the same id.
		a = e.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, data)
		wantStatus(t, a, http.StatusOK)
		var again wire.SnapshotCreated
		json.Unmarshal(a.body, &again)
		if again != res {
			t.Fatalf("second upload %+v, want %+v", again, res)
		}

		g := e.do("GET", "/api/v1/snapshots/"+res.ID, "", "", nil)
		wantStatus(t, g, http.StatusOK)
		if !bytes.Equal(g.body, data) {
			t.Fatal("downloaded bytes differ")
		}
		if got := g.header.Get("ETag"); got != `"`+res.ContentID+`"` {
			t.Fatalf("ETag %q", got)
		}
		if got := g.header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Fatalf("Cache-Control %q, want immutable", got)
		}
		if got := g.header.Get("Content-Type"); got != wire.ContentTypeMsgpack {
			t.Fatalf("Content-Type %q", got)
		}
		nm := e.do("GET", "/api/v1/snapshots/"+res.ID, "", "", nil, "If-None-Match", g.header.Get("ETag"))
		if nm.status != http.StatusNotModified || len(nm.body) != 0 {
			t.Fatalf("If-None-Match: status %d, %d bytes", nm.status, len(nm.body))
		}
		if h := e.do("HEAD", "/api/v1/snapshots/"+res.ID, "", "", nil); h.status != 200 || len(h.body) != 0 {
			t.Fatalf("HEAD: %d", h.status)
		}
		// The Go client verifies what it downloads.
		got, s, err := e.client("").Snapshot(t.Context(), res.ID)
		if err != nil || !bytes.Equal(got, data) || len(s.Items) != 8 {
			t.Fatalf("client download: %v", err)
		}
	})
}

func TestSnapshotBadInput(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		good := fixtureBytes(t)
		unsound := fixture()
		unsound.Judgments = []feedback.Judgment{{ID: "j1", Kind: feedback.KindCompare, Item: "nope", A: "a", B: "b", Choice: "a"}}
		unsoundData, _ := snapshot.Marshal(unsound)
		cases := []struct {
			name   string
			ctype  string
			body   []byte
			status int
			code   string
		}{
			{"wrong content type", "text/plain", good, 415, codeContentType},
			{"no content type", "", good, 415, codeContentType},
			{"json", "application/json", []byte(`{"format":"prefer.snapshot"}`), 415, codeContentType},
			{"empty body", wire.ContentTypeMsgpack, []byte{}, 400, codeBadSnapshot},
			{"not msgpack", wire.ContentTypeMsgpack, []byte("hello, world"), 400, codeBadSnapshot},
			{"truncated", wire.ContentTypeMsgpack, good[:len(good)/2], 400, codeBadSnapshot},
			{"trailing bytes", wire.ContentTypeMsgpack, append(append([]byte{}, good...), 0xc0), 400, codeBadSnapshot},
			// A map32 header announcing 4 billion entries in a 5-byte body.
			{"huge length prefix", wire.ContentTypeMsgpack, []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, 400, codeBadSnapshot},
			{"array32 header", wire.ContentTypeMsgpack, []byte{0xdd, 0xff, 0xff, 0xff, 0xf0, 0x01}, 400, codeBadSnapshot},
			{"unsound", wire.ContentTypeMsgpack, unsoundData, 400, codeBadSnapshot},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := e.do("POST", "/api/v1/snapshots", "", c.ctype, c.body)
				if got := wantStatus(t, a, c.status); got.Code != c.code {
					t.Fatalf("code %q, want %q (%s)", got.Code, c.code, got.Message)
				}
			})
		}
		bad := []struct {
			path   string
			status int
		}{
			{"/api/v1/snapshots/0123456789abcdef0123456789abcdef", 404},
			{"/api/v1/snapshots/0123456789ABCDEF0123456789ABCDEF", 400},
			{"/api/v1/snapshots/sha256-abc", 400},
			{"/api/v1/snapshots/..%2F..%2F..%2Fetc%2Fpasswd", 400},
			{"/api/v1/snapshots/%00", 400},
			{"/api/v1/snapshots/" + strings.Repeat("a", 4000), 400},
		}
		for _, c := range bad {
			wantStatus(t, e.do("GET", c.path, "", "", nil), c.status)
		}
		wantStatus(t, e.do("GET", "/api/v1/snapshots", "", "", nil), 405)
		wantStatus(t, e.do("DELETE", "/api/v1/snapshots/0123456789abcdef0123456789abcdef", "", "", nil), 405)
		wantStatus(t, e.do("GET", "/api/v1/nothing", "", "", nil), 404)
		// Nothing of the above was stored: the good snapshot still uploads as new.
		wantStatus(t, e.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, good), 201)
	})
}

// TestSnapshotTooLarge checks the 413 of an oversized body, both when
// Content-Length announces it (answered before the body is read) and when a chunked
// body turns out too long.
func TestSnapshotTooLarge(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, func(c *Config) { c.MaxSnapshotBytes = 1000 })
		big := bytes.Repeat([]byte{0xc0}, 5000)
		wantStatus(t, e.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, big), 413)

		// Announced length: the server must answer without waiting for the body.
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/snapshots", &neverEnding{})
		req.ContentLength = 64 << 20
		req.Header.Set("Content-Type", wire.ContentTypeMsgpack)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("announced 64 MiB: status %d, want 413", resp.StatusCode)
		}

		// Chunked (no length): cut off at the limit.
		req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/snapshots", struct{ *bytes.Reader }{bytes.NewReader(big)})
		req.Header.Set("Content-Type", wire.ContentTypeMsgpack)
		resp, err = e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 || req.ContentLength != 0 {
			t.Fatalf("chunked: status %d (length %d), want 413", resp.StatusCode, req.ContentLength)
		}
	})
}

// neverEnding is a body that stops after a few MiB; the server must not need it.
type neverEnding struct{ n int }

func (r *neverEnding) Read(p []byte) (int, error) {
	if r.n > 4<<20 {
		return 0, http.ErrBodyReadAfterClose
	}
	r.n += len(p)
	return len(p), nil
}

func TestPrivateUploads(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, func(c *Config) { c.AdminToken = "prf_admin-secret"; c.PrivateUploads = true })
		data := fixtureBytes(t)
		wantStatus(t, e.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, data), 401)
		wantStatus(t, e.do("POST", "/api/v1/snapshots", "prf_wrong", wire.ContentTypeMsgpack, data), 403)
		wantStatus(t, e.do("POST", "/api/v1/snapshots", "prf_admin-secret", wire.ContentTypeMsgpack, data), 201)
	})
}
