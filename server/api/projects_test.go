package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/wire"
	"prefer/server/store"
	"prefer/server/store/teststore"
)

func TestCreateProject(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		p := e.project(wire.NewProject{Name: "round 1", RaterCount: 3, Overlap: 2, Seed: 1})
		if p.Items != 8 || p.GoldItems != 2 || len(p.Raters) != 3 || len(p.ID) != 24 {
			t.Fatalf("answer %+v", p)
		}
		tokens := map[string]bool{p.LeadToken: true}
		for _, r := range p.Raters {
			tokens[r.Token] = true
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(r.Token, tokenPrefix))
			if err != nil || len(raw)*8 < 128 {
				t.Fatalf("token %q carries %d bits, want ≥ 128", r.Token, len(raw)*8)
			}
			if want := e.srv.URL + "/p/" + p.ID + "#token=" + r.Token; r.URL != want {
				t.Fatalf("rater url %q, want %q", r.URL, want)
			}
		}
		if len(tokens) != 4 {
			t.Fatal("tokens are not distinct")
		}
		// The store holds hashes, never tokens.
		rec, err := st.Project(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := store.EncodeProject(rec)
		for tok := range tokens {
			if strings.Contains(string(doc), tok) || strings.Contains(string(doc), strings.TrimPrefix(tok, tokenPrefix)) {
				t.Fatal("a token is stored in clear")
			}
		}
		// Overlap 2 without gold: every one of the 8 items is in exactly 2 queues.
		seen := map[string]int{}
		for _, r := range rec.Raters {
			for _, it := range r.Queue {
				seen[it]++
			}
		}
		for i := 1; i <= 8; i++ {
			if n := seen["q"+string(rune('0'+i))]; n != 2 {
				t.Fatalf("item q%d is in %d queues, want 2", i, n)
			}
		}
	})
}

func TestAssign(t *testing.T) {
	items := fixture().Items // q1..q6 regular, q7, q8 gold
	// 6 regular items, 4 raters, overlap 2: 12 assignments, 3 per rater; gold rate
	// 0.25 adds round(0.25·3/0.75) = 1 gold item to each queue.
	qs, err := assign(items, 4, 2, 0.25, 9)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for r, q := range qs {
		gold, seen := 0, map[string]bool{}
		for _, it := range q {
			if seen[it] {
				t.Fatalf("rater %d sees %s twice", r, it)
			}
			seen[it] = true
			if it == "q7" || it == "q8" {
				gold++
			} else {
				count[it]++
			}
		}
		if len(q) != 4 || gold != 1 {
			t.Fatalf("rater %d queue %v: want 3 items and 1 gold", r, q)
		}
	}
	for it, n := range count {
		if n != 2 {
			t.Fatalf("%s assigned %d times, want 2", it, n)
		}
	}
	again, _ := assign(items, 4, 2, 0.25, 9)
	if !reflect.DeepEqual(qs, again) {
		t.Fatal("assignment is not reproducible from the seed")
	}
	other, _ := assign(items, 4, 2, 0.25, 10)
	if reflect.DeepEqual(qs, other) {
		t.Fatal("assignment ignores the seed")
	}
	for _, c := range []struct {
		raters, overlap int
		gold            float64
	}{{0, 1, 0}, {3, 4, 0}, {3, 0, 0}, {3, 1, 0.6}, {3, 1, -0.1}} {
		if _, err := assign(items, c.raters, c.overlap, c.gold, 1); err == nil {
			t.Errorf("assign(%d raters, overlap %d, gold %v) accepted", c.raters, c.overlap, c.gold)
		}
	}
	if _, err := assign(items[:6], 3, 1, 0.2, 1); err == nil {
		t.Error("gold rate without gold items accepted")
	}
	many := make([]feedback.Item, 300_000)
	for i := range many {
		many[i].ID = fmt.Sprint(i)
	}
	if _, err := assign(many, 10, 10, 0, 1); err == nil {
		t.Error("3 million assignments accepted")
	}
}

func TestCreateProjectBadInput(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		snap, _, err := e.client("").PushSnapshot(t.Context(), fixtureBytes(t))
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, ctype, body string
			status            int
		}{
			{"wrong type", "text/plain", `{}`, 415},
			{"not json", "application/json", `{"name":`, 400},
			{"unknown field", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":2,"overlaps":2}`, 400},
			{"trailing", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":2} {}`, 400},
			{"no snapshot", "application/json", `{"rater_count":2}`, 400},
			{"unknown snapshot", "application/json", `{"snapshot":"0123456789abcdef0123456789abcdef","rater_count":2}`, 400},
			{"traversal", "application/json", `{"snapshot":"../../etc/passwd","rater_count":2}`, 400},
			{"no raters", "application/json", `{"snapshot":"` + snap.ID + `"}`, 400},
			{"both", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":2,"raters":[{"id":"x"}]}`, 400},
			{"overlap", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":2,"overlap":3}`, 400},
			{"negative", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":-2}`, 400},
			{"too many", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":100000}`, 400},
			{"huge number", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":1e400}`, 400},
			{"dup rater", "application/json", `{"snapshot":"` + snap.ID + `","raters":[{"id":"x"},{"id":"x"}]}`, 400},
			{"bad rater id", "application/json", `{"snapshot":"` + snap.ID + `","raters":[{"id":"a\u0000b"}]}`, 400},
			{"gold rate", "application/json", `{"snapshot":"` + snap.ID + `","rater_count":2,"gold_rate":0.9}`, 400},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantStatus(t, e.do("POST", "/api/v1/projects", "", c.ctype, []byte(c.body)), c.status)
			})
		}
	})
}

func TestAdminToken(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, func(c *Config) { c.AdminToken = "prf_admin" })
		snap, _, err := e.client("").PushSnapshot(t.Context(), fixtureBytes(t))
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"snapshot":"` + snap.ID + `","rater_count":2}`)
		wantStatus(t, e.do("POST", "/api/v1/projects", "", "application/json", body), 401)
		wantStatus(t, e.do("POST", "/api/v1/projects", "prf_nope", "application/json", body), 403)
		a := e.do("POST", "/api/v1/projects", "prf_admin", "application/json", body)
		wantStatus(t, a, 201)
		if a.header.Get("WWW-Authenticate") != "" {
			t.Fatal("WWW-Authenticate on a success")
		}
	})
}

func TestTasksAndAccess(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		p := e.project(wire.NewProject{RaterCount: 3, Overlap: 1, GoldRate: 0.25, Seed: 3})
		other := e.project(wire.NewProject{RaterCount: 1})
		r1 := p.Raters[0]
		path := "/api/v1/projects/" + p.ID + "/tasks"

		a := e.do("GET", path, r1.Token, "", nil)
		wantStatus(t, a, 200)
		for _, leak := range []string{"gold", "secret-part", "parts"} {
			if strings.Contains(string(a.body), leak) {
				t.Fatalf("tasks leak %q: %s", leak, a.body)
			}
		}
		var tasks wire.Tasks
		json.Unmarshal(a.body, &tasks)
		if tasks.Rater.ID != "r1" || len(tasks.Items) != r1.Assigned || len(tasks.Done) != 0 || len(tasks.Guidelines) != 1 {
			t.Fatalf("tasks %+v", tasks)
		}
		if got := len(tasks.Items[0].Responses); got != 3 {
			t.Fatalf("%d responses", got)
		}

		// Label two items: they come back as done.
		items := []string{tasks.Items[0].ID, tasks.Items[1].ID}
		if _, err := e.client(r1.Token).SendEvents(t.Context(), p.ID, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client(r1.Token).SendEvents(t.Context(), p.ID, []feedback.Judgment{
			compare("e1", "", items[0], "a"), compare("e2", "r1", items[1], "b"),
		}); err != nil {
			t.Fatal(err)
		}
		t2, err := e.client(r1.Token).Tasks(t.Context(), p.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(items)
		sort.Strings(t2.Done)
		if !reflect.DeepEqual(t2.Done, items) {
			t.Fatalf("done %v, want %v", t2.Done, items)
		}

		// Access rules.
		wantStatus(t, e.do("GET", path, "", "", nil), 401)
		wantStatus(t, e.do("GET", path, "Basic abc", "", nil), 403)
		wantStatus(t, e.do("GET", path, "prf_not-a-token", "", nil), 403)
		wantStatus(t, e.do("GET", path, other.Raters[0].Token, "", nil), 403)   // another project's rater
		wantStatus(t, e.do("GET", path, other.LeadToken, "", nil), 403)         // another project's lead
		wantStatus(t, e.do("GET", path+"?rater=r2", r1.Token, "", nil), 403)    // another rater's queue
		wantStatus(t, e.do("GET", path, p.LeadToken, "", nil), 400)             // lead without ?rater
		wantStatus(t, e.do("GET", path+"?rater=r9", p.LeadToken, "", nil), 404) // no such rater
		wantStatus(t, e.do("GET", path+"?rater=r2", p.LeadToken, "", nil), 200)
		wantStatus(t, e.do("GET", "/api/v1/projects/"+strings.Repeat("0", 24)+"/tasks", r1.Token, "", nil), 404)
		wantStatus(t, e.do("GET", "/api/v1/projects/..%2Fsnapshots/tasks", r1.Token, "", nil), 400)
		wantStatus(t, e.do("GET", "/api/v1/projects/"+p.ID, r1.Token, "", nil), 403) // progress is the lead's
		wantStatus(t, e.do("POST", "/api/v1/projects/"+p.ID+"/tasks", r1.Token, "", nil), 405)
		if a := e.do("GET", path, "", "", nil); a.header.Get("WWW-Authenticate") == "" {
			t.Fatal("401 without WWW-Authenticate")
		}
	})
}

func TestProgress(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		p := e.project(wire.NewProject{RaterCount: 2, Overlap: 2, GoldRate: 0.25, Seed: 5})
		r1 := p.Raters[0]
		tasks, err := e.client(r1.Token).Tasks(t.Context(), p.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		var js []feedback.Judgment
		var gold, regular int
		for i, it := range tasks.Items {
			choice := "a" // the gold answer on q7 and q8
			if it.ID == "q7" || it.ID == "q8" {
				if gold > 0 {
					choice = "b" // the second gold item is answered wrongly
				}
				gold++
			} else {
				regular++
				if regular > 2 {
					continue // label only two regular items
				}
			}
			js = append(js, compare("p"+string(rune('a'+i)), "", it.ID, feedback.Choice(choice)))
		}
		if _, err := e.client(r1.Token).SendEvents(t.Context(), p.ID, js); err != nil {
			t.Fatal(err)
		}
		pr, err := e.client(p.LeadToken).Progress(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := pr.Raters[0]
		wantCorrect := min(gold, 1)
		if got.ID != "r1" || got.Assigned != len(tasks.Items) || got.Done != 2+gold || got.GoldAssigned != gold ||
			got.GoldDone != gold || got.GoldCorrect != wantCorrect || got.Events != len(js) || got.LastTime != fixedNow.UnixMilli()-1000 {
			t.Fatalf("progress of r1 %+v (gold %d)", got, gold)
		}
		if pr.Raters[1].Done != 0 || pr.Events != len(js) || pr.Items != 8 || pr.GoldItems != 2 {
			t.Fatalf("progress %+v", pr)
		}
		if gold == 0 {
			t.Fatal("fixture gave r1 no gold item; change the seed")
		}
	})
}
