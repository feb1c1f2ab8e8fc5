// Package postgres is the PostgreSQL store of Prefer's server (through pgx), for
// teams that outgrow one machine: many raters, several server replicas behind a load
// balancer sharing one database.
//
// Tables (in the schema chosen by Config.Schema, created on Open under an advisory
// lock so replicas starting together do not race):
//
//	prefer_meta      (key text primary key, value bytea)             the server secret
//	prefer_snapshots (id text primary key, content_id text, data bytea, created bigint)
//	prefer_projects  (id text primary key, doc bytea, created bigint)
//	prefer_events    (project text, id text, rater text, body bytea,
//	                  xid bigint, seq bigint, primary key (project, id))
//	prefer_usage     (project text, rater text, events bigint, bytes bigint,
//	                  primary key (project, rater))             what each rater stored
//
// prefer_usage is updated in the transaction that stores the events (so it is as
// durable as they are, and concurrent batches of a rater, on any replica, queue on
// its row); when Open creates it, it fills it from prefer_events in the same
// transaction.
//
// Batches are stored concurrently — no lock is held across a commit, so many
// raters' batches share WAL flushes — and read in (xid, seq) order with a watermark
// (see Events) that keeps cursors exact. Every write is acknowledged after its
// commit, which waits for the WAL flush (synchronous_commit on, PostgreSQL's
// default).
package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"prefer/server/store"
)

// Config says where the store lives.
type Config struct {
	// DSN is a PostgreSQL connection string
	// ("postgres://user:pass@host:5432/db?sslmode=disable" or "host=… dbname=…").
	DSN string
	// Schema is the schema that holds the tables, created if missing; "" means the
	// DSN's search_path parameter when it names one schema, else the connection's
	// default (usually public). Tests use a fresh schema each.
	Schema string
	// MaxConns bounds the connection pool; 0 means the DSN's pool_max_conns, or 32.
	// Many connections let concurrent batches share PostgreSQL's WAL flushes.
	MaxConns int32
}

// Store is the PostgreSQL store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// migrationLock is the advisory lock key held while creating tables.
const migrationLock = 0x70726566 // "pref"

// Open connects, creates the schema and tables if needed, and the server secret.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: parse DSN: %w", err)
	}
	if sp := pc.ConnConfig.RuntimeParams["search_path"]; cfg.Schema == "" && schemaName.MatchString(sp) {
		cfg.Schema = sp
	}
	if cfg.Schema != "" {
		if !schemaName.MatchString(cfg.Schema) {
			return nil, fmt.Errorf("open postgres store: schema name %q: use lower-case letters, digits and _", cfg.Schema)
		}
		pc.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	} else if !strings.Contains(cfg.DSN, "pool_max_conns") {
		pc.MaxConns = 32
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx, cfg.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context, schema string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if schema != "" {
			if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
				return err
			}
		}
		var hadUsage bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('prefer_usage') IS NOT NULL`).Scan(&hadUsage); err != nil {
			return err
		}
		for _, q := range []string{
			`CREATE TABLE IF NOT EXISTS prefer_meta (key text PRIMARY KEY, value bytea NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS prefer_snapshots (
				id text PRIMARY KEY, content_id text NOT NULL, data bytea NOT NULL, created bigint NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS prefer_projects (id text PRIMARY KEY, doc bytea NOT NULL, created bigint NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS prefer_events (
				project text NOT NULL REFERENCES prefer_projects (id),
				id text NOT NULL, rater text NOT NULL, body bytea NOT NULL,
				xid bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
				seq bigint GENERATED ALWAYS AS IDENTITY,
				PRIMARY KEY (project, id))`,
			`CREATE INDEX IF NOT EXISTS prefer_events_order ON prefer_events (project, xid, seq)`,
			`CREATE INDEX IF NOT EXISTS prefer_events_rater ON prefer_events (project, rater, xid, seq)`,
			`CREATE TABLE IF NOT EXISTS prefer_usage (
				project text NOT NULL REFERENCES prefer_projects (id), rater text NOT NULL,
				events bigint NOT NULL, bytes bigint NOT NULL,
				PRIMARY KEY (project, rater))`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		if !hadUsage {
			// A database from before the counts: count what it holds, once. The
			// advisory lock keeps other replicas' migrations out meanwhile (replicas
			// of an older program must not write while one is upgraded).
			if _, err := tx.Exec(ctx, `INSERT INTO prefer_usage (project, rater, events, bytes)
				SELECT project, rater, count(*), coalesce(sum(octet_length(body)), 0) FROM prefer_events GROUP BY project, rater`); err != nil {
				return err
			}
		}
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO prefer_meta (key, value) VALUES ('secret', $1) ON CONFLICT (key) DO NOTHING`, secret)
		return err
	})
}

// Close waits for the connections in use and closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks the connection.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Secret returns the server secret shared by every replica.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM prefer_meta WHERE key = 'secret'`).Scan(&v)
	if err != nil {
		return nil, wrap("read secret", err)
	}
	return v, nil
}

// PutSnapshot stores a snapshot under its id.
func (s *Store) PutSnapshot(ctx context.Context, snap store.Snapshot) (bool, error) {
	tag, err := s.pool.Exec(ctx,
		`INSERT INTO prefer_snapshots (id, content_id, data, created) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (id) DO NOTHING`, snap.ID, snap.ContentID, snap.Data, snap.Created)
	if err != nil {
		return false, wrap("put snapshot", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var cid string
	if err := s.pool.QueryRow(ctx, `SELECT content_id FROM prefer_snapshots WHERE id = $1`, snap.ID).Scan(&cid); err != nil {
		return false, wrap("put snapshot", err)
	}
	if cid != snap.ContentID {
		return false, fmt.Errorf("put snapshot %s: stored with content %s, not %s", snap.ID, cid, snap.ContentID)
	}
	return false, nil
}

// Snapshot returns a stored snapshot.
func (s *Store) Snapshot(ctx context.Context, id string) (store.Snapshot, error) {
	out := store.Snapshot{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT content_id, data, created FROM prefer_snapshots WHERE id = $1`, id).
		Scan(&out.ContentID, &out.Data, &out.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, store.ErrNotFound
	}
	if err != nil {
		return out, wrap("get snapshot", err)
	}
	return out, nil
}

// CreateProject stores a new project.
func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	doc, err := store.EncodeProject(p)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO prefer_projects (id, doc, created) VALUES ($1, $2, $3)`, p.ID, doc, p.Created)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return store.ErrExists
	}
	if err != nil {
		return wrap("create project", err)
	}
	return nil
}

// Project returns a stored project.
func (s *Store) Project(ctx context.Context, id string) (*store.Project, error) {
	var doc []byte
	err := s.pool.QueryRow(ctx, `SELECT doc FROM prefer_projects WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap("get project", err)
	}
	return store.DecodeProject(doc)
}

// AppendEvents stores a batch in one transaction. New events are inserted with ON
// CONFLICT DO NOTHING; the ids that were already there (or that a concurrent
// transaction just committed: the unique index makes the insert wait for it) are
// compared by body, and any difference rolls the whole batch back.
//
// Rows are inserted in id order, so that two batches sharing ids lock them in the
// same order and cannot deadlock each other; a transaction that PostgreSQL still
// aborts as a deadlock (40P01) or serialization failure (40001) is retried once.
//
// The new rows' raters and sizes (RETURNING) are added to prefer_usage in the same
// transaction, raters in sorted order (so batches naming several raters lock their
// rows in one order too); a rater whose count would pass quota rolls it all back.
func (s *Store) AppendEvents(ctx context.Context, project string, evs []store.Event, quota store.Quota) (store.AppendResult, error) {
	evs = slices.Clone(evs)
	slices.SortFunc(evs, func(a, b store.Event) int { return strings.Compare(a.ID, b.ID) })
	res, err := s.appendEvents(ctx, project, evs, quota)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
		res, err = s.appendEvents(ctx, project, evs, quota)
	}
	return res, err
}

// addUsage adds the usage of the rows a batch inserted to prefer_usage and checks
// the quota against the new totals.
func addUsage(ctx context.Context, tx pgx.Tx, project string, adding map[string]store.Usage, quota store.Quota) error {
	if len(adding) == 0 {
		return nil
	}
	raters := slices.Sorted(maps.Keys(adding))
	evN := make([]int64, len(raters))
	byN := make([]int64, len(raters))
	for i, r := range raters {
		evN[i], byN[i] = adding[r].Events, adding[r].Bytes
	}
	rows, err := tx.Query(ctx,
		`INSERT INTO prefer_usage AS u (project, rater, events, bytes)
		 SELECT $1, r, e, b FROM unnest($2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS t (r, e, b, n) ORDER BY n
		 ON CONFLICT (project, rater) DO UPDATE SET events = u.events + excluded.events, bytes = u.bytes + excluded.bytes
		 RETURNING rater, events, bytes`, project, raters, evN, byN)
	if err != nil {
		return err
	}
	var over *store.QuotaError
	for rows.Next() {
		var r string
		var total store.Usage
		if err := rows.Scan(&r, &total.Events, &total.Bytes); err != nil {
			rows.Close()
			return err
		}
		a := adding[r]
		before := store.Usage{Events: total.Events - a.Events, Bytes: total.Bytes - a.Bytes}
		if over == nil && quota.Over(before, a) {
			over = &store.QuotaError{Rater: r, Stored: before, Adding: a, Quota: quota}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if over != nil {
		return over
	}
	return nil
}

// Usage returns what a rater has stored in a project.
func (s *Store) Usage(ctx context.Context, project, rater string) (store.Usage, error) {
	var u store.Usage
	var exists bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM prefer_projects WHERE id = $1),
		        coalesce((SELECT events FROM prefer_usage WHERE project = $1 AND rater = $2), 0),
		        coalesce((SELECT bytes FROM prefer_usage WHERE project = $1 AND rater = $2), 0)`, project, rater).
		Scan(&exists, &u.Events, &u.Bytes)
	if err != nil {
		return store.Usage{}, wrap("read usage", err)
	}
	if !exists {
		return store.Usage{}, store.ErrNotFound
	}
	return u, nil
}

func (s *Store) appendEvents(ctx context.Context, project string, evs []store.Event, quota store.Quota) (store.AppendResult, error) {
	var res store.AppendResult
	ids := make([]string, len(evs))
	raters := make([]string, len(evs))
	bodies := make([][]byte, len(evs))
	for i, e := range evs {
		ids[i], raters[i], bodies[i] = e.ID, e.Rater, e.Body
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = store.AppendResult{}
		rows, err := tx.Query(ctx,
			`INSERT INTO prefer_events (project, id, rater, body)
			 SELECT $1, i, r, b FROM unnest($2::text[], $3::text[], $4::bytea[]) WITH ORDINALITY AS t (i, r, b, n) ORDER BY n
			 ON CONFLICT (project, id) DO NOTHING RETURNING id, rater, octet_length(body)`, project, ids, raters, bodies)
		if err != nil {
			return err
		}
		isNew := make(map[string]bool, len(evs))
		adding := map[string]store.Usage{}
		for rows.Next() {
			var id, r string
			var n int64
			if err := rows.Scan(&id, &r, &n); err != nil {
				rows.Close()
				return err
			}
			isNew[id] = true
			u := adding[r]
			u.Events++
			u.Bytes += n
			adding[r] = u
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		res.Added = len(isNew)
		if res.Added == len(evs) {
			return addUsage(ctx, tx, project, adding, quota)
		}
		var old []string
		want := map[string][]byte{}
		for _, e := range evs {
			if !isNew[e.ID] {
				old = append(old, e.ID)
				want[e.ID] = e.Body
			}
		}
		var conflicts []string
		rows, err = tx.Query(ctx, `SELECT id, body FROM prefer_events WHERE project = $1 AND id = ANY($2)`, project, old)
		if err != nil {
			return err
		}
		stored := map[string][]byte{}
		for rows.Next() {
			var id string
			var body []byte
			if err := rows.Scan(&id, &body); err != nil {
				rows.Close()
				return err
			}
			stored[id] = body
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range old {
			if bytes.Equal(stored[id], want[id]) {
				res.Duplicates++
			} else {
				conflicts = append(conflicts, id)
			}
		}
		if len(conflicts) > 0 {
			return &store.ConflictError{IDs: conflicts}
		}
		return addUsage(ctx, tx, project, adding, quota)
	})
	var pe *pgconn.PgError
	var ce *store.ConflictError
	var qe *store.QuotaError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &pe) && pe.Code == "23503": // foreign_key_violation: no such project
		return store.AppendResult{}, store.ErrNotFound
	case errors.As(err, &ce), errors.As(err, &qe):
		return store.AppendResult{}, err
	}
	return store.AppendResult{}, wrap("append events", err)
}

// wrap names the operation of err and marks a failure to reach PostgreSQL (no
// connection, a lost one, the server starting or shutting down) as
// store.ErrUnavailable, so that the API answers 503 rather than 500.
func wrap(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("%s: %w", op, store.Unavailable(err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // admin or crash shutdown, cannot connect now
			pe.Code == "53300": // too many connections
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

// Events returns the selected events of a project.
//
// Events are ordered by (xid, seq): the id of the transaction that stored them, then
// a sequence number within it. Only events of transactions older than every
// transaction still running (xid < xmin of the query's snapshot) are returned, so an
// event that commits later always sorts after a cursor already handed out. The
// cursor is "xid.seq" of the last event seen. (A transaction left open elsewhere in
// the cluster holds xmin back and so delays what readers see — never what is stored.)
func (s *Store) Events(ctx context.Context, project string, q store.EventQuery) ([]store.Event, error) {
	var ax, as int64
	if q.After != "" {
		x, sq, ok := strings.Cut(q.After, ".")
		var err1, err2 error
		ax, err1 = strconv.ParseInt(x, 10, 64)
		as, err2 = strconv.ParseInt(sq, 10, 64)
		if !ok || err1 != nil || err2 != nil || ax < 0 || as < 0 {
			return nil, fmt.Errorf("%w %q: want the cursor of an earlier answer", store.ErrCursor, q.After)
		}
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM prefer_projects WHERE id = $1)`, project).Scan(&exists); err != nil {
		return nil, wrap("list events", err)
	}
	if !exists {
		return nil, store.ErrNotFound
	}
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx,
		`SELECT xid, seq, id, rater, body FROM prefer_events
		 WHERE project = $1 AND ($4 = '' OR rater = $4) AND (xid, seq) > ($2, $3)
		   AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
		 ORDER BY xid, seq LIMIT $5`, project, ax, as, q.Rater, limit)
	if err != nil {
		return nil, wrap("list events", err)
	}
	// Rows stream in; reading stops at MaxBytes of bodies.
	defer rows.Close()
	var out []store.Event
	size := 0
	for rows.Next() {
		var e store.Event
		var x, sq int64
		if err := rows.Scan(&x, &sq, &e.ID, &e.Rater, &e.Body); err != nil {
			return nil, wrap("list events", err)
		}
		e.Cursor = strconv.FormatInt(x, 10) + "." + strconv.FormatInt(sq, 10)
		out = append(out, e)
		if size += len(e.Body); q.MaxBytes > 0 && size >= q.MaxBytes {
			break
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("list events", err)
	}
	return out, nil
}
