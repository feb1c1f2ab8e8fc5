package embedded

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"prefer/server/store"
	"prefer/server/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		Open: func(tb testing.TB) store.Store {
			s, err := Open(tb.TempDir())
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		},
		Reopen: func(tb testing.TB, s store.Store) store.Store {
			return reopen(tb, s, s.(*Store).db.Path())
		},
		Uncount: func(tb testing.TB, s store.Store) store.Store {
			db := s.(*Store).db
			path := db.Path()
			// Remove every project's usage bucket, as in a file from before them.
			err := db.Update(func(tx *bolt.Tx) error {
				evB := tx.Bucket(bucketEvents)
				return evB.ForEach(func(k, v []byte) error {
					if v != nil {
						return nil
					}
					return evB.Bucket(k).DeleteBucket(bucketUsage)
				})
			})
			if err != nil {
				tb.Fatal(err)
			}
			return reopen(tb, s, path)
		},
	})
}

func TestLockedFile(t *testing.T) {
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 100 * time.Millisecond
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt's flock is per open file description, so a second Open in the same
	// process blocks like another process would.
	if _, err := Open(dir); err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
}

func dirOf(path string) string { return path[:len(path)-len(FileName)-1] }

// BenchmarkAppendEvents: a 20-event batch without the fsync (NoSync), so that the
// CPU of the transaction shows, quota counting and check included.
func BenchmarkAppendEvents(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.db.NoSync = true
	s.db.MaxBatchDelay = 0
	storetest.BenchAppend(b, s, store.Quota{Events: 1 << 40, Bytes: 1 << 50})
}

// reopen closes s, whose file is at path, and opens the store again.
func reopen(tb testing.TB, s store.Store, path string) store.Store {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	s2, err := Open(dirOf(path))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s2.Close() })
	return s2
}
