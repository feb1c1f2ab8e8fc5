// Package teststore opens throwaway stores of both kinds for tests of the packages
// above the store (api, the server's commands), so that their suites run against
// the embedded and the PostgreSQL store alike.
//
// The PostgreSQL half needs PREFER_TEST_PG_DSN (server/store/testdata/
// start-postgres.sh starts a server and prints it); without it that half is skipped
// with a message saying how to run it, or fails when PREFER_REQUIRE_PG is set.
package teststore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"prefer/server/store"
	"prefer/server/store/embedded"
	"prefer/server/store/postgres"
)

// EnvDSN names the environment variable holding the test database's DSN.
const EnvDSN = "PREFER_TEST_PG_DSN"

// Kinds are the store kinds, in the order Each runs them.
var Kinds = []string{"embedded", "postgres"}

// Open opens an empty store of the given kind that is closed (and, for PostgreSQL,
// dropped) when the test ends. It skips the test when the kind is postgres and no
// database is configured.
func Open(tb testing.TB, kind string) store.Store {
	tb.Helper()
	switch kind {
	case "embedded":
		s, err := embedded.Open(tb.TempDir())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	case "postgres":
		cfg := PostgresConfig(tb)
		s, err := postgres.Open(context.Background(), cfg)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}
	tb.Fatalf("teststore: unknown kind %q", kind)
	return nil
}

// DSN returns the test database's DSN, or skips the test (fails it when
// PREFER_REQUIRE_PG is set, as make test does).
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" && os.Getenv("PREFER_REQUIRE_PG") != "" {
		tb.Fatal(EnvDSN + " is not set but PREFER_REQUIRE_PG is: start PostgreSQL with " +
			"server/store/testdata/start-postgres.sh start and export its DSN")
	}
	if dsn == "" {
		tb.Skip(EnvDSN + " is not set: skipping the PostgreSQL store " +
			"(export " + EnvDSN + "=\"$(server/store/testdata/start-postgres.sh start)\")")
	}
	return dsn
}

// PostgresConfig returns a config with a fresh schema, dropped when the test ends.
func PostgresConfig(tb testing.TB) postgres.Config {
	tb.Helper()
	var b [6]byte
	rand.Read(b[:])
	cfg := postgres.Config{DSN: DSN(tb), Schema: "t_" + hex.EncodeToString(b[:])}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), cfg.DSN)
		if err != nil {
			tb.Log(err)
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{cfg.Schema}.Sanitize()+" CASCADE")
	})
	return cfg
}

// Each runs fn as a subtest per store kind.
func Each(t *testing.T, fn func(t *testing.T, s store.Store)) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, Open(t, kind)) })
	}
}

// Reopenable opens an empty store of the given kind, as Open, and returns with it a
// function that closes the store it last returned and opens the same one again (a
// server restart).
func Reopenable(tb testing.TB, kind string) (store.Store, func() store.Store) {
	tb.Helper()
	var cur store.Store
	var open func() store.Store
	switch kind {
	case "embedded":
		dir := tb.TempDir()
		open = func() store.Store {
			s, err := embedded.Open(dir)
			if err != nil {
				tb.Fatal(err)
			}
			return s
		}
	case "postgres":
		cfg := PostgresConfig(tb)
		open = func() store.Store {
			s, err := postgres.Open(context.Background(), cfg)
			if err != nil {
				tb.Fatal(err)
			}
			return s
		}
	default:
		tb.Fatalf("teststore: unknown kind %q", kind)
	}
	cur = open()
	tb.Cleanup(func() { cur.Close() })
	return cur, func() store.Store {
		cur.Close()
		cur = open()
		return cur
	}
}
