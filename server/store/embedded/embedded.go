// Package embedded is the default store of Prefer's server: one bbolt file
// (go.etcd.io/bbolt, pure Go, no cgo) under the server's data directory.
//
// Why bbolt: a single file that needs no setup; ACID transactions with an fsync on
// every commit, and a file that stays readable after a crash at any point (bbolt
// writes new pages, then a meta page, copy-on-write); DB.Batch folds concurrent writes
// into one transaction and one fsync, which is what many raters syncing at once need;
// a key–value model fits the data (snapshots by id, events by sequence number); and a
// small dependency, unlike an SQL engine translated from C.
//
// Layout: bucket "meta" holds the server secret; "snapshots" maps an id to the content
// id, a newline and the bytes; "projects" maps an id to the project record (JSON);
// "events" holds one bucket per project with two buckets: "seq" (8-byte big-endian
// sequence number → event record: id, rater and body, each after its uvarint length)
// and "id" (event id → sequence number), and "usage" (rater → 16 bytes: events and
// bytes of bodies stored, big-endian), whose bucket sequence is the last event
// sequence number counted. The counts are updated in the transaction that stores the
// events; Open (and every append) first counts any events past that mark, so a file
// written before the counts existed, or by an older program, is counted once, in full.
// Only one process may open the file at a time.
package embedded

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"prefer/server/store"
)

// FileName is the name of the database file inside the data directory.
const FileName = "prefer.db"

var (
	bucketMeta      = []byte("meta")
	bucketSnapshots = []byte("snapshots")
	bucketProjects  = []byte("projects")
	bucketEvents    = []byte("events")
	bucketSeq       = []byte("seq")
	bucketID        = []byte("id")
	bucketUsage     = []byte("usage")
	keySecret       = []byte("secret")
	keyFormat       = []byte("format")
	formatValue     = []byte("prefer.store 1")
)

// lockTimeout is how long Open waits for another process to release the file.
var lockTimeout = 3 * time.Second

// Store is the bbolt store.
type Store struct {
	db *bolt.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in directory dir. It fails after a few
// seconds with a clear error when another process holds the file.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: the file is locked by another process (is another 'prefer serve' using this --data directory?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Batches of concurrent event writes share one commit; a short delay keeps a
	// lone writer fast.
	db.MaxBatchDelay = 2 * time.Millisecond
	db.MaxBatchSize = 256
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketSnapshots, bucketProjects, bucketEvents} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if f := meta.Get(keyFormat); f == nil {
			if err := meta.Put(keyFormat, formatValue); err != nil {
				return err
			}
		} else if !bytes.Equal(f, formatValue) {
			return fmt.Errorf("the file has format %q; this program reads %q", f, formatValue)
		}
		// Count the events of every project not yet counted (a file from before
		// the counts, or written by an older program).
		evB := tx.Bucket(bucketEvents)
		var projects [][]byte
		if err := evB.ForEach(func(k, v []byte) error {
			if v == nil {
				projects = append(projects, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, p := range projects {
			if _, err := countTail(evB.Bucket(p)); err != nil {
				return fmt.Errorf("count the events of project %s: %w", p, err)
			}
		}
		if meta.Get(keySecret) == nil {
			secret := make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				return err
			}
			return meta.Put(keySecret, secret)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file after the transactions in flight.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the file can be read.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store has no meta bucket")
		}
		return nil
	})
}

// Secret returns the server secret.
func (s *Store) Secret(ctx context.Context) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bucketMeta).Get(keySecret))
		return nil
	})
	if err == nil && len(out) == 0 {
		err = errors.New("store has no secret")
	}
	return out, err
}

// PutSnapshot stores a snapshot under its id.
func (s *Store) PutSnapshot(ctx context.Context, snap store.Snapshot) (created bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots)
		if old := b.Get([]byte(snap.ID)); old != nil {
			if cid, _, _ := bytes.Cut(old, []byte{'\n'}); string(cid) != snap.ContentID {
				return fmt.Errorf("put snapshot %s: stored with content %s, not %s", snap.ID, cid, snap.ContentID)
			}
			return nil
		}
		created = true
		v := make([]byte, 0, len(snap.ContentID)+9+len(snap.Data))
		v = append(v, snap.ContentID...)
		v = append(v, '\n')
		v = binary.BigEndian.AppendUint64(v, uint64(snap.Created))
		v = append(v, snap.Data...)
		return b.Put([]byte(snap.ID), v)
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// Snapshot returns a stored snapshot.
func (s *Store) Snapshot(ctx context.Context, id string) (store.Snapshot, error) {
	out := store.Snapshot{ID: id}
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSnapshots).Get([]byte(id))
		if v == nil {
			return store.ErrNotFound
		}
		cid, rest, ok := bytes.Cut(v, []byte{'\n'})
		if !ok || len(rest) < 8 {
			return fmt.Errorf("snapshot %s: damaged record", id)
		}
		out.ContentID = string(cid)
		out.Created = int64(binary.BigEndian.Uint64(rest))
		out.Data = bytes.Clone(rest[8:])
		return nil
	})
	return out, err
}

// CreateProject stores a new project.
func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	data, err := store.EncodeProject(p)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProjects)
		if b.Get([]byte(p.ID)) != nil {
			return store.ErrExists
		}
		if err := b.Put([]byte(p.ID), data); err != nil {
			return err
		}
		pb, err := tx.Bucket(bucketEvents).CreateBucketIfNotExists([]byte(p.ID))
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketSeq, bucketID, bucketUsage} {
			if _, err := pb.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// Project returns a stored project.
func (s *Store) Project(ctx context.Context, id string) (*store.Project, error) {
	var data []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketProjects).Get([]byte(id))
		if v == nil {
			return store.ErrNotFound
		}
		data = bytes.Clone(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return store.DecodeProject(data)
}

// AppendEvents stores a batch in one transaction shared with concurrent batches
// (bolt's Batch: one commit and one fsync for all of them).
func (s *Store) AppendEvents(ctx context.Context, project string, evs []store.Event, quota store.Quota) (store.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return store.AppendResult{}, err
	}
	var res store.AppendResult
	err := s.batch(func(tx *bolt.Tx) error {
		res = store.AppendResult{} // Batch may run fn more than once
		pb := tx.Bucket(bucketEvents).Bucket([]byte(project))
		if pb == nil {
			return store.ErrNotFound
		}
		seqB, idB := pb.Bucket(bucketSeq), pb.Bucket(bucketID)
		us, err := countTail(pb)
		if err != nil {
			return err
		}
		var conflicts []string
		fresh := make([]bool, len(evs))
		adding := map[string]store.Usage{}
		for i, e := range evs {
			if k := idB.Get([]byte(e.ID)); k != nil {
				_, _, body, ok := decodeRecord(seqB.Get(k))
				if ok && bytes.Equal(body, e.Body) {
					res.Duplicates++
				} else {
					conflicts = append(conflicts, e.ID)
				}
				continue
			}
			fresh[i] = true
			u := adding[e.Rater]
			u.Events++
			u.Bytes += int64(len(e.Body))
			adding[e.Rater] = u
		}
		if len(conflicts) > 0 {
			return &store.ConflictError{IDs: conflicts}
		}
		raters := slices.Sorted(maps.Keys(adding))
		for _, r := range raters {
			if u := getUsage(us, r); quota.Over(u, adding[r]) {
				return &store.QuotaError{Rater: r, Stored: u, Adding: adding[r], Quota: quota}
			}
		}
		for i, e := range evs {
			if !fresh[i] {
				continue
			}
			n, err := seqB.NextSequence()
			if err != nil {
				return err
			}
			k := binary.BigEndian.AppendUint64(nil, n)
			if err := seqB.Put(k, encodeRecord(e)); err != nil {
				return err
			}
			if err := idB.Put([]byte(e.ID), k); err != nil {
				return err
			}
			res.Added++
		}
		for _, r := range raters {
			u, a := getUsage(us, r), adding[r]
			if err := putUsage(us, r, store.Usage{Events: u.Events + a.Events, Bytes: u.Bytes + a.Bytes}); err != nil {
				return err
			}
		}
		return us.SetSequence(seqB.Sequence())
	})
	return res, err
}

// countTail adds the events of project bucket pb stored past the usage bucket's mark
// to the counts (creating the usage bucket if needed) and moves the mark to the last
// event; it returns the usage bucket. Once the counts are current it reads nothing
// but two sequence numbers.
func countTail(pb *bolt.Bucket) (*bolt.Bucket, error) {
	us, err := pb.CreateBucketIfNotExists(bucketUsage)
	if err != nil {
		return nil, err
	}
	seqB := pb.Bucket(bucketSeq)
	from, last := us.Sequence(), seqB.Sequence()
	if last <= from {
		return us, nil
	}
	add := map[string]store.Usage{}
	c := seqB.Cursor()
	for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, from+1)); k != nil; k, v = c.Next() {
		_, rater, body, ok := decodeRecord(v)
		if !ok {
			return nil, fmt.Errorf("damaged event record %x", k)
		}
		u := add[string(rater)]
		u.Events++
		u.Bytes += int64(len(body))
		add[string(rater)] = u
	}
	for r, a := range add {
		u := getUsage(us, r)
		if err := putUsage(us, r, store.Usage{Events: u.Events + a.Events, Bytes: u.Bytes + a.Bytes}); err != nil {
			return nil, err
		}
	}
	return us, us.SetSequence(last)
}

// usageKey is a rater's key in the usage bucket: "r" and the id (bbolt refuses an
// empty key, and the lead's events may name no rater).
func usageKey(rater string) []byte { return append([]byte{'r'}, rater...) }

func getUsage(us *bolt.Bucket, rater string) store.Usage {
	v := us.Get(usageKey(rater))
	if len(v) != 16 {
		return store.Usage{}
	}
	return store.Usage{Events: int64(binary.BigEndian.Uint64(v)), Bytes: int64(binary.BigEndian.Uint64(v[8:]))}
}

func putUsage(us *bolt.Bucket, rater string, u store.Usage) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(u.Events))
	return us.Put(usageKey(rater), binary.BigEndian.AppendUint64(v, uint64(u.Bytes)))
}

// Usage returns what a rater has stored in a project, from the counts (and any
// events not yet counted, which a read-only transaction adds up without keeping).
func (s *Store) Usage(ctx context.Context, project, rater string) (store.Usage, error) {
	var out store.Usage
	err := s.view(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketEvents).Bucket([]byte(project))
		if pb == nil {
			return store.ErrNotFound
		}
		var from uint64
		if us := pb.Bucket(bucketUsage); us != nil {
			out, from = getUsage(us, rater), us.Sequence()
		}
		seqB := pb.Bucket(bucketSeq)
		if seqB.Sequence() <= from {
			return nil
		}
		c := seqB.Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, from+1)); k != nil; k, v = c.Next() {
			if _, r, body, ok := decodeRecord(v); ok && string(r) == rater {
				out.Events++
				out.Bytes += int64(len(body))
			}
		}
		return nil
	})
	return out, err
}

// encodeRecord is the stored form of an event: id, rater and body, each preceded by
// its length as a uvarint.
func encodeRecord(e store.Event) []byte {
	rec := make([]byte, 0, 3*binary.MaxVarintLen64+len(e.ID)+len(e.Rater)+len(e.Body))
	for _, f := range [][]byte{[]byte(e.ID), []byte(e.Rater), e.Body} {
		rec = binary.AppendUvarint(rec, uint64(len(f)))
		rec = append(rec, f...)
	}
	return rec
}

// decodeRecord splits a stored event record; ok is false when it is damaged.
// The slices point into rec.
func decodeRecord(rec []byte) (id, rater, body []byte, ok bool) {
	var fs [3][]byte
	for i := range fs {
		n, k := binary.Uvarint(rec)
		if k <= 0 || uint64(len(rec)-k) < n {
			return nil, nil, nil, false
		}
		fs[i], rec = rec[k:k+int(n)], rec[k+int(n):]
	}
	return fs[0], fs[1], fs[2], len(rec) == 0
}

// Events returns the selected events of a project.
//
// A cursor is the decimal sequence number of the last event seen.
func (s *Store) Events(ctx context.Context, project string, q store.EventQuery) ([]store.Event, error) {
	var after uint64
	if q.After != "" {
		n, err := strconv.ParseUint(q.After, 10, 63)
		if err != nil {
			return nil, fmt.Errorf("%w %q: want the cursor of an earlier answer", store.ErrCursor, q.After)
		}
		after = n
	}
	var out []store.Event
	size := 0
	err := s.view(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketEvents).Bucket([]byte(project))
		if pb == nil {
			return store.ErrNotFound
		}
		c := pb.Bucket(bucketSeq).Cursor()
		start := binary.BigEndian.AppendUint64(nil, after+1)
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			id, rater, body, ok := decodeRecord(v)
			if !ok {
				return fmt.Errorf("project %s: damaged event record %x", project, k)
			}
			if q.Rater != "" && string(rater) != q.Rater {
				continue
			}
			out = append(out, store.Event{
				Cursor: strconv.FormatUint(binary.BigEndian.Uint64(k), 10),
				ID:     string(id),
				Rater:  string(rater),
				Body:   bytes.Clone(body),
			})
			size += len(body)
			if q.Limit > 0 && len(out) >= q.Limit || q.MaxBytes > 0 && size >= q.MaxBytes {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// view, update and batch run a bbolt transaction and mark a closed database as
// store.ErrUnavailable (the server is shutting down), so the API answers 503.
func (s *Store) view(fn func(*bolt.Tx) error) error   { return avail(s.db.View(fn)) }
func (s *Store) update(fn func(*bolt.Tx) error) error { return avail(s.db.Update(fn)) }
func (s *Store) batch(fn func(*bolt.Tx) error) error  { return avail(s.db.Batch(fn)) }

func avail(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return store.Unavailable(err)
	}
	return err
}
