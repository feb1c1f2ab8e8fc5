package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"prefer/core/wire"
	"prefer/server/store"
)

// Error codes of wire.Error (docs/server.md lists them with their statuses).
const (
	codeBadRequest   = "bad_request"    // 400: a malformed parameter or body
	codeBadSnapshot  = "bad_snapshot"   // 400: the body is not a readable snapshot
	codeBadEvents    = "invalid_events" // 400: some events of the batch are invalid
	codeBadCursor    = "bad_cursor"     // 400: since is not a cursor of this server
	codeUnauthorized = "unauthorized"   // 401: no bearer token
	codeForbidden    = "forbidden"      // 403: the token does not grant this
	codeNotFound     = "not_found"      // 404
	codeMethod       = "method_not_allowed"
	codeConflict     = "conflict"             // 409: an event id is stored with other content
	codeTooLarge     = "too_large"            // 413
	codeQuota        = wire.CodeQuotaExceeded // 413: the rater's storage quota in the project is full
	codeContentType  = "unsupported_type"     // 415
	codeUnavailable  = "unavailable"          // 503: shutting down or store unreachable
	codeBusy         = "busy"                 // 503: every upload or decode slot is taken; Retry-After
	codeTimeout      = "timeout"              // 408: the body arrived too slowly
	codeInternal     = "internal"             // 500: a fault of the server, logged
)

// apiError is an error with the status and body to answer it with.
type apiError struct {
	status     int
	body       wire.Error
	retryAfter int // seconds, for a Retry-After header; 0 sends none
}

func (e *apiError) Error() string { return e.body.Error() }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, body: wire.Error{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"code":"internal","error":"encode the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// fail answers err: an *apiError as it says, a store error by its kind, anything
// else as a 500 that is logged (without the request's headers or body).
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ce *store.ConflictError
	var qe *store.QuotaError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ce):
		ae = errorf(http.StatusConflict, codeConflict,
			"%d event id(s) are already stored with different content; nothing of this batch was stored: give changed events new ids", len(ce.IDs))
		for _, id := range ce.IDs {
			ae.body.Events = append(ae.body.Events, wire.EventError{ID: id, Error: "stored with different content"})
		}
	case errors.As(err, &qe):
		ae = quotaError(qe)
	case errors.Is(err, store.ErrNotFound):
		ae = errorf(http.StatusNotFound, codeNotFound, "not found")
	case errors.Is(err, store.ErrCursor):
		ae = errorf(http.StatusBadRequest, codeBadCursor, "%v", err)
	case errors.Is(err, errShuttingDown):
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down: retry in a moment")
		ae.retryAfter = 5
	case errors.Is(err, store.ErrUnavailable):
		a.log.Warn("store unavailable", slog.String("method", r.Method), slog.String("route", routeOf(r)), slog.Any("err", err))
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "the store does not answer; nothing of this request was stored: retry in a few seconds")
		ae.retryAfter = 5
	case r.Context().Err() != nil:
		// The client went away; nothing useful can be written.
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "request cancelled")
	default:
		a.log.Error("request failed", slog.String("method", r.Method), slog.String("route", routeOf(r)), slog.Any("err", err))
		ae = errorf(http.StatusInternalServerError, codeInternal, "the server failed to answer; it has been logged: retry later")
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="prefer"`)
	}
	writeJSON(w, ae.status, ae.body)
}

// quotaError is the answer to a batch the store refused for the rater's quota: 413
// (like the other limits: the request as it is will never be taken; the project
// lead can raise the quota, then the same events go through).
func quotaError(qe *store.QuotaError) *apiError {
	what := fmt.Sprintf("%d events", qe.Quota.Events)
	if qe.Quota.Bytes > 0 && qe.Stored.Bytes+qe.Adding.Bytes > qe.Quota.Bytes {
		what = fmt.Sprintf("%s of events", sizeText(qe.Quota.Bytes))
	}
	return errorf(http.StatusRequestEntityTooLarge, codeQuota,
		"rater %q has reached the storage quota of this project: %d events (%s) are stored and this batch adds %d (%s), over the quota of %s per rater; "+
			"nothing of this batch was stored. Keep the events and ask the project lead to raise the quota "+
			"(prefer serve --max-rater-events, --max-rater-bytes), then send them again",
		qe.Rater, qe.Stored.Events, sizeText(qe.Stored.Bytes), qe.Adding.Events, sizeText(qe.Adding.Bytes), what)
}

// sizeText writes a byte count for people: 512 B, 3.1 KiB, 12.0 MiB.
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

var errShuttingDown = errors.New("shutting down")
