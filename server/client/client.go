// Package client is the Go client of Prefer's HTTP API (docs/server.md): prefer push
// and pull, the tests and the load test use it. Every answer other than 2xx becomes
// an *Error carrying the status and the server's message.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

// Client talks to one server.
type Client struct {
	// Base is the server's URL with its path prefix, if any ("http://localhost:8080").
	Base string
	// Token is sent as a bearer token when not empty: the admin token, a project
	// lead's or a rater's.
	Token string
	// HTTP is the client used; nil means one with a 2-minute timeout.
	HTTP *http.Client
}

// New returns a client of the server at base.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimSuffix(base, "/"), Token: token}
}

// Error is an answer with a status other than 2xx.
type Error struct {
	Status int
	Body   wire.Error
}

func (e *Error) Error() string {
	msg := e.Body.Error()
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("server answered %d: %s", e.Status, msg)
}

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

var defaultHTTP = &http.Client{Timeout: 2 * time.Minute}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// do sends a request and returns the answer of a 2xx status; the caller closes it.
func (c *Client) do(ctx context.Context, method, path, ctype string, body []byte, hdr http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotModified {
		defer resp.Body.Close()
		e := &Error{Status: resp.StatusCode}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(data, &e.Body) != nil || e.Body.Message == "" {
			e.Body = wire.Error{Message: strings.TrimSpace(string(data))}
		}
		return nil, e
	}
	return resp, nil
}

// doJSON sends a request and decodes a JSON answer into out.
func (c *Client) doJSON(ctx context.Context, method, path, ctype string, body []byte, out any) (int, error) {
	resp, err := c.do(ctx, method, path, ctype, body, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

// PushSnapshot uploads snapshot bytes. created is false when the server already held
// the same bytes (the same id comes back).
func (c *Client) PushSnapshot(ctx context.Context, data []byte) (res wire.SnapshotCreated, created bool, err error) {
	status, err := c.doJSON(ctx, http.MethodPost, "/api/v1/snapshots", wire.ContentTypeMsgpack, data, &res)
	return res, status == http.StatusCreated, err
}

// Snapshot downloads the snapshot with the given share id and verifies it: its bytes
// must hash to the content id the server names (the ETag) and decode as a snapshot.
func (c *Client) Snapshot(ctx context.Context, id string) ([]byte, *snapshot.Snapshot, error) {
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/snapshots/"+url.PathEscape(id), "", nil, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("download snapshot %s: %w", id, err)
	}
	if etag := strings.Trim(resp.Header.Get("ETag"), `"`); strings.HasPrefix(etag, "sha256-") {
		if got := snapshot.ID(data); got != etag {
			return nil, nil, fmt.Errorf("download snapshot %s: the bytes hash to %s, not %s (damaged in transit): try again", id, got, etag)
		}
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		return nil, nil, fmt.Errorf("download snapshot %s: %w", id, err)
	}
	return data, s, nil
}

// CreateProject creates a project (Token must be the admin token when the server
// has one).
func (c *Client) CreateProject(ctx context.Context, req wire.NewProject) (wire.ProjectCreated, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return wire.ProjectCreated{}, err
	}
	var res wire.ProjectCreated
	_, err = c.doJSON(ctx, http.MethodPost, "/api/v1/projects", wire.ContentTypeJSON, body, &res)
	return res, err
}

// Tasks returns the queue of the token's rater (rater == "") or, with the lead's
// token, of the named rater.
func (c *Client) Tasks(ctx context.Context, project, rater string) (wire.Tasks, error) {
	path := "/api/v1/projects/" + url.PathEscape(project) + "/tasks"
	if rater != "" {
		path += "?rater=" + url.QueryEscape(rater)
	}
	var t wire.Tasks
	_, err := c.doJSON(ctx, http.MethodGet, path, "", nil, &t)
	return t, err
}

// Progress returns the lead's view of a project.
func (c *Client) Progress(ctx context.Context, project string) (wire.Progress, error) {
	var p wire.Progress
	_, err := c.doJSON(ctx, http.MethodGet, "/api/v1/projects/"+url.PathEscape(project), "", nil, &p)
	return p, err
}

// SendEvents sends a batch of judgments (msgpack). Sending the same batch again is
// safe: the answer then counts them as duplicates.
func (c *Client) SendEvents(ctx context.Context, project string, js []feedback.Judgment) (wire.EventsAccepted, error) {
	body, err := wire.EncodeEventsMsgpack(js)
	if err != nil {
		return wire.EventsAccepted{}, err
	}
	var res wire.EventsAccepted
	_, err = c.doJSON(ctx, http.MethodPost, "/api/v1/projects/"+url.PathEscape(project)+"/events", wire.ContentTypeMsgpack, body, &res)
	return res, err
}

// Events returns one page of events stored after the cursor since ("" = from the
// start), at most limit (0 = the server's default), of one rater when rater is set
// (lead token only; a rater's token always reads its own).
func (c *Client) Events(ctx context.Context, project, since, rater string, limit int) (wire.EventsPage, error) {
	q := url.Values{}
	if since != "" {
		q.Set("since", since)
	}
	if rater != "" {
		q.Set("rater", rater)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/api/v1/projects/" + url.PathEscape(project) + "/events"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var p wire.EventsPage
	_, err := c.doJSON(ctx, http.MethodGet, path, "", nil, &p)
	return p, err
}

// AllEvents reads every page after since and returns the judgments and the last
// cursor.
func (c *Client) AllEvents(ctx context.Context, project, since, rater string) ([]feedback.Judgment, string, error) {
	var out []feedback.Judgment
	for {
		p, err := c.Events(ctx, project, since, rater, 5000)
		if err != nil {
			return nil, since, err
		}
		out = append(out, wire.Judgments(p.Events)...)
		since = p.Cursor
		if !p.More {
			return out, since, nil
		}
	}
}

// ParseLink splits a snapshot link into the server's base URL and the share id. It
// takes the app's link (http://host/s/ID, also under a path prefix) and the API's
// (http://host/api/v1/snapshots/ID).
func ParseLink(link string) (base, id string, err error) {
	u, err := url.Parse(link)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", fmt.Errorf("%q is not a link: give http(s)://HOST/s/ID, or an id with --server", link)
	}
	p := strings.TrimSuffix(u.Path, "/")
	for _, marker := range []string{"/api/v1/snapshots/", "/s/"} {
		if i := strings.LastIndex(p, marker); i >= 0 {
			id = p[i+len(marker):]
			base = u.Scheme + "://" + u.Host + p[:i]
			if id != "" && !strings.Contains(id, "/") {
				return base, id, nil
			}
		}
	}
	return "", "", fmt.Errorf("%q is not a snapshot link: it should end in /s/ID", link)
}
