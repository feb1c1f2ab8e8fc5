// Package api is the HTTP side of Prefer's server: a thin adapter between HTTP and
// the store (package store) that decodes and checks requests with package core,
// maps every error to a status, and serves the embedded workbench.
//
// API serves /api/v1/ (the protocol is documented in docs/server.md): snapshots
// stored under unguessable share ids (ShareID), rater projects with hashed bearer
// tokens, queues assigned with overlap and gold items, and judgments synced as
// idempotent batches read back with cursors. Bad input of any kind gets a 4xx with
// a JSON body (wire.Error) that says what to fix; a 5xx means a fault of the server
// and is logged. Nothing is acknowledged before the store made it durable.
//
// Assets serves the static files of the workbench, precompressed by Accept-Encoding,
// and is the go-app handler's resource provider; Site puts the API, the assets and
// the go-app handler behind one handler with the Content-Security-Policy (CSP) and an
// access log that never records tokens or ids.
//
// Package wire holds the request and answer bodies; the browser client imports it.
package api
