package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"prefer/server/store"
	"prefer/server/store/storetest"
)

// testDSN returns the DSN of the test database or skips: the test suite needs a
// PostgreSQL server (server/store/testdata/start-postgres.sh starts one).
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("PREFER_TEST_PG_DSN")
	if dsn == "" {
		tb.Skip("PREFER_TEST_PG_DSN is not set: skipping the PostgreSQL store " +
			"(export PREFER_TEST_PG_DSN=\"$(server/store/testdata/start-postgres.sh start)\")")
	}
	return dsn
}

// OpenTest opens a store in a fresh schema that is dropped when the test ends.
func openTest(tb testing.TB) (*Store, Config) {
	tb.Helper()
	var b [6]byte
	rand.Read(b[:])
	cfg := Config{DSN: testDSN(tb), Schema: "t_" + hex.EncodeToString(b[:])}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close()
		conn, err := pgx.Connect(context.Background(), cfg.DSN)
		if err != nil {
			tb.Log(err)
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{cfg.Schema}.Sanitize()+" CASCADE")
	})
	return s, cfg
}

func TestConformance(t *testing.T) {
	var cfgs = map[store.Store]Config{}
	storetest.Run(t, storetest.Factory{
		Open: func(tb testing.TB) store.Store {
			s, cfg := openTest(tb)
			cfgs[s] = cfg
			return s
		},
		Reopen: func(tb testing.TB, s store.Store) store.Store {
			s.Close()
			s2, err := Open(context.Background(), cfgs[s])
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s2.Close() })
			return s2
		},
	})
}

func TestBadConfig(t *testing.T) {
	if _, err := Open(context.Background(), Config{DSN: "postgres://x@127.0.0.1:1/db", Schema: "Bad-Name"}); err == nil {
		t.Fatal("bad schema name accepted")
	}
	if _, err := Open(context.Background(), Config{DSN: "::not a dsn::"}); err == nil {
		t.Fatal("bad DSN accepted")
	}
}
