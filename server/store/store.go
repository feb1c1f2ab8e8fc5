// Package store is the persistence of Prefer's server: immutable snapshots, rater
// projects and their append-only event logs, behind one interface with two
// implementations — store/embedded (one bbolt file, the default) and store/postgres
// (PostgreSQL through pgx, for several server replicas sharing one database). The
// conformance suite in store/storetest runs against both.
//
// Contract shared by the implementations:
//   - A write returns only after it is durable (bbolt's fsync on commit, PostgreSQL's
//     commit with synchronous_commit on).
//   - AppendEvents is all or nothing and idempotent by event id: an event whose id is
//     stored with the same body is a duplicate (counted, not stored again); with a
//     different body it is a conflict and nothing of the batch is stored.
//   - Events are read in a fixed order per project, each with a cursor (an opaque
//     string): asking for the events after a cursor returns what was stored since,
//     never skipping an event that commits later than a cursor was handed out.
//   - Ids given to the store are valid UTF-8 without NUL bytes (the API checks them).
//   - The store counts, per project and rater (Event.Rater), the events stored and the
//     bytes of their bodies, in the transaction that stores them (a duplicate is not
//     counted again), so that AppendEvents can enforce a Quota without reading the
//     rater's events; the counts survive a restart (each store says how).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Errors of the store; test with errors.Is.
var (
	// ErrQuota: a batch would take a rater over the Quota; nothing was stored
	// (the error is a *QuotaError).
	ErrQuota    = errors.New("over the rater's storage quota")
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("an event with the same id but different content is stored")
	ErrCursor   = errors.New("malformed cursor")
	// ErrUnavailable wraps a failure to reach the store (connection refused or
	// lost, the database restarting or shutting down): nothing was done, and the
	// same call may succeed later. The API answers it with 503.
	ErrUnavailable = errors.New("the store is unavailable")
)

// Unavailable wraps err as ErrUnavailable, keeping its text.
func Unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// ConflictError lists the events of a batch whose ids are stored with other content.
type ConflictError struct{ IDs []string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: %s", ErrConflict, strings.Join(e.IDs, ", "))
}

func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Quota bounds what one rater may store in a project: at most Events events and
// Bytes bytes of event bodies. A field ≤ 0 sets no bound; the zero Quota none.
type Quota struct {
	Events int64
	Bytes  int64
}

// Usage is what one rater has stored in a project: events and bytes of their bodies.
type Usage struct {
	Events int64
	Bytes  int64
}

// QuotaError says which rater a batch would take over the quota: Stored is what the
// rater had, Adding what the batch would have added (its new events only).
type QuotaError struct {
	Rater  string
	Stored Usage
	Adding Usage
	Quota  Quota
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("%v: rater %q has %d events (%d bytes) stored, the batch would add %d (%d bytes); the quota is %d events and %d bytes",
		ErrQuota, e.Rater, e.Stored.Events, e.Stored.Bytes, e.Adding.Events, e.Adding.Bytes, e.Quota.Events, e.Quota.Bytes)
}

func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// Over reports whether a rater with usage u would exceed q after adding add.
func (q Quota) Over(u, add Usage) bool {
	return q.Events > 0 && u.Events+add.Events > q.Events || q.Bytes > 0 && u.Bytes+add.Bytes > q.Bytes
}

// Snapshot is a stored snapshot: ID names it in links, ContentID is snapshot.ID of
// Data. Created is unix milliseconds when it was first stored.
type Snapshot struct {
	ID        string
	ContentID string
	Data      []byte
	Created   int64
}

// Project is a labeling project: the items of a snapshot assigned to raters. It is
// immutable once created. Token hashes are SHA-256 digests of the secret tokens.
type Project struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Snapshot      string   `json:"snapshot"` // id of the snapshot holding the items
	Created       int64    `json:"created"`  // unix ms
	Overlap       int      `json:"overlap"`
	GoldRate      float64  `json:"gold_rate"`
	Seed          uint64   `json:"seed"`
	LeadTokenHash []byte   `json:"lead_token_hash"`
	Raters        []PRater `json:"raters"`
	Version       int      `json:"version"` // of this record's encoding: 1
}

// PRater is a rater of a project with the hash of the rater's token and queue.
type PRater struct {
	ID        string   `json:"id"`
	Name      string   `json:"name,omitempty"`
	Group     string   `json:"group,omitempty"`
	TokenHash []byte   `json:"token_hash"`
	Queue     []string `json:"queue"` // item ids in labeling order, gold items included
}

// EncodeProject is the stored form of a project (JSON), shared by the implementations.
func EncodeProject(p *Project) ([]byte, error) {
	q := *p
	q.Version = 1
	return json.Marshal(&q)
}

// DecodeProject reads a stored project.
func DecodeProject(data []byte) (*Project, error) {
	var p Project
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode project: %w", err)
	}
	if p.Version != 1 {
		return nil, fmt.Errorf("decode project: record version %d; this program reads version 1", p.Version)
	}
	return &p, nil
}

// Event is a stored judgment: its id, its rater and its canonical encoding (Body, the
// JSON of a wire.Event). Cursor, set by Events, is the position just after it.
type Event struct {
	Cursor string
	ID     string
	Rater  string
	Body   []byte
}

// AppendResult counts what AppendEvents did: events newly stored and events that were
// already stored with the same body.
type AppendResult struct {
	Added      int
	Duplicates int
}

// EventQuery selects events of a project: those after the cursor After ("" is the
// start), of Rater only when it is not empty, at most Limit of them (Limit ≤ 0 means
// no limit) and at most MaxBytes of bodies, in the store's order.
type EventQuery struct {
	After string
	Rater string
	Limit int
	// MaxBytes, when > 0, ends the answer early once the bodies returned add up to
	// MaxBytes or more (the first event is always returned), so that a page of large
	// events stays bounded in memory.
	MaxBytes int
}

// Store is the server's persistence. Implementations are safe for concurrent use.
type Store interface {
	// PutSnapshot stores s unless a snapshot with its ID is stored; created reports
	// whether it was new. Storing a different ContentID under a stored ID is an error.
	PutSnapshot(ctx context.Context, s Snapshot) (created bool, err error)
	// Snapshot returns the stored snapshot with the given id, or ErrNotFound.
	Snapshot(ctx context.Context, id string) (Snapshot, error)

	// CreateProject stores a new project; ErrExists if its id is taken.
	CreateProject(ctx context.Context, p *Project) error
	// Project returns the project with the given id, or ErrNotFound.
	Project(ctx context.Context, id string) (*Project, error)

	// AppendEvents stores a batch of events of one project (ids distinct within the
	// batch), all or nothing: a *ConflictError when some id is stored with another
	// body, a *QuotaError when the batch's new events would take a rater they name
	// over quota (checked in the same transaction, so concurrent batches cannot
	// together exceed it; duplicates add nothing, so a resent batch is always
	// acknowledged), ErrNotFound when the project does not exist.
	AppendEvents(ctx context.Context, project string, evs []Event, quota Quota) (AppendResult, error)
	// Usage returns what rater has stored in project (zero for a rater without
	// events), read from the counts, not from the events; ErrNotFound when the
	// project does not exist.
	Usage(ctx context.Context, project, rater string) (Usage, error)
	// Events returns the events q selects, in order; ErrCursor (wrapped) when
	// q.After is not a cursor of this store.
	Events(ctx context.Context, project string, q EventQuery) ([]Event, error)

	// Secret returns the server's random key (32 bytes), created on first use and
	// the same for every server sharing the store.
	Secret(ctx context.Context) ([]byte, error)

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases the store; writes in flight finish first.
	Close() error
}
