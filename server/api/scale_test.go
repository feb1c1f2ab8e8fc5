package api

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"prefer/core/feedback"
	"prefer/core/formats"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/store/teststore"
)

// hhScaled returns a snapshot of n items made from the real HH-RLHF harmless test
// split (testdata/hh-rlhf, 2,310 items), replicated with distinct prompts: what a
// teacher's 60k-item labeling project looks like.
func hhScaled(tb testing.TB, n int) *snapshot.Snapshot {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "hh-rlhf", "harmless-base-test.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	d, _, err := formats.ReadHH(f, formats.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	s := &snapshot.Snapshot{Provenance: snapshot.Provenance{Tool: "test", Note: "HH-RLHF harmless-base test, replicated"}}
	s.Items = make([]feedback.Item, 0, n)
	for i := 0; len(s.Items) < n; i++ {
		src := d.Items[i%len(d.Items)]
		it := feedback.Item{Prompt: fmt.Sprintf("%s\n\n(copy %d)", src.Prompt, i/len(d.Items)), Responses: src.Responses}
		it.ID = formats.ItemID(it.Prompt)
		s.Items = append(s.Items, it)
	}
	return s
}

// TestScaledHHSnapshotStillWorks is the "nothing gets worse" check of issue 11: a
// real 60,000-item snapshot (HH-RLHF scaled, ~55 MB) is sound, uploads under the
// default limits (64 MiB, decoded at ≤ 8× its size), becomes a 30-rater project, and
// a rater's queue opens.
func TestScaledHHSnapshotStillWorks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 55 MB snapshot")
	}
	s := hhScaled(t, 60000)
	data, err := snapshot.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s = nil
	t.Logf("60,000 items: %d bytes", len(data))
	back, err := snapshot.Unmarshal(data)
	if err != nil {
		t.Fatalf("the scaled snapshot does not decode: %v", err)
	}
	if ps, total := snapshot.CheckCount(back); total != 0 {
		t.Fatalf("the scaled snapshot is not sound: %d problems, first %v", total, ps[0])
	}
	back = nil
	e := newEnv(t, teststore.Open(t, "embedded"), func(c *Config) { c.MaxSnapshotBytes = 64 << 20 })
	var a answer
	got := allocated(func() { a = e.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, data) })
	wantStatus(t, a, http.StatusCreated)
	t.Logf("upload: %d bytes allocated (%.1f× the snapshot)", got, float64(got)/float64(len(data)))
	snap, _, err := e.client("").PushSnapshot(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.client("").CreateProject(context.Background(), wire.NewProject{Snapshot: snap.ID, RaterCount: 30, Seed: 1})
	if err != nil {
		t.Fatalf("create a project of the scaled snapshot: %v", err)
	}
	tasks, err := e.client(p.Raters[0].Token).Tasks(context.Background(), p.ID, "")
	if err != nil {
		t.Fatalf("a rater's queue: %v", err)
	}
	if len(tasks.Items) != 2000 {
		t.Fatalf("rater r1 has %d items, want 60,000 / 30 = 2,000", len(tasks.Items))
	}
}
