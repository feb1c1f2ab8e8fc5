package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"prefer/server/store"
	"prefer/server/store/postgres"
	"prefer/server/store/storetest"
	"prefer/server/store/teststore"
)

func TestConformance(t *testing.T) {
	cfgs := map[store.Store]postgres.Config{}
	storetest.Run(t, storetest.Factory{
		Open: func(tb testing.TB) store.Store {
			cfg := teststore.PostgresConfig(tb)
			s, err := postgres.Open(context.Background(), cfg)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			cfgs[s] = cfg
			return s
		},
		Reopen: func(tb testing.TB, s store.Store) store.Store {
			s.Close()
			s2, err := postgres.Open(context.Background(), cfgs[s])
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s2.Close() })
			return s2
		},
		Uncount: func(tb testing.TB, s store.Store) store.Store {
			// Drop the counts table, as in a database from before it.
			cfg := cfgs[s]
			s.Close()
			conn, err := pgx.Connect(context.Background(), cfg.DSN)
			if err != nil {
				tb.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), `DROP TABLE `+pgx.Identifier{cfg.Schema, "prefer_usage"}.Sanitize()); err != nil {
				tb.Fatal(err)
			}
			s2, err := postgres.Open(context.Background(), cfg)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s2.Close() })
			return s2
		},
	})
}

func TestBadConfig(t *testing.T) {
	if _, err := postgres.Open(context.Background(), postgres.Config{DSN: "postgres://x@127.0.0.1:1/db", Schema: "Bad-Name"}); err == nil {
		t.Fatal("bad schema name accepted")
	}
	if _, err := postgres.Open(context.Background(), postgres.Config{DSN: "::not a dsn::"}); err == nil {
		t.Fatal("bad DSN accepted")
	}
}

// BenchmarkAppendEvents: a 20-event batch, committed (the WAL flush included), with
// the quota's upsert of the rater's counts.
func BenchmarkAppendEvents(b *testing.B) {
	s, err := postgres.Open(context.Background(), teststore.PostgresConfig(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchAppend(b, s, store.Quota{Events: 1 << 40, Bytes: 1 << 50})
}
