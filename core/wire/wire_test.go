package wire

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"runtime/metrics"
	"strings"
	"testing"

	"prefer/core/feedback"
)

// The events decoder's memory bound (issue 11), checked by FuzzDecodeEvents: at most
// eventsBudget × the body's size plus eventsSlack bytes are allocated (an upper bound
// of the peak heap), for msgpack and JSON alike. A msgpack batch decodes within
// EventsBudgetFactor (8×) by construction; JSON's encoding/json costs more per
// byte (a 24-byte event decodes into a ~330-byte Event and a ~390-byte Judgment).
const (
	eventsBudget = 48
	eventsSlack  = 256 << 10
)

func allocatedBytes(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	fn()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

func sampleBatch() []feedback.Judgment {
	return []feedback.Judgment{
		{ID: "e1", Kind: feedback.KindCompare, Item: "q1", Rater: "r1", Time: 1, A: "a", B: "b", Choice: feedback.ChoiceA, Left: "a"},
		{ID: "e2", Kind: feedback.KindRate, Item: "q1", Response: "a", Axis: "helpful", Score: 5, Note: "ok", Reasons: []string{"unclear"}},
		{ID: "e3", Kind: feedback.KindRank, Item: "q1", Shown: []string{"a", "b", "c"}, Order: []int{2, 0, 1}},
	}
}

func FuzzDecodeEvents(f *testing.F) {
	mp, _ := EncodeEventsMsgpack(sampleBatch())
	js, _ := EncodeEventsJSON(sampleBatch())
	f.Add(true, mp)
	f.Add(false, js)
	f.Add(false, []byte(`{"events":[{"id":"x","kind":"rate"},{"id":"y","kind":"rate"}],"other":1}`))
	f.Fuzz(func(t *testing.T, msgpack bool, body []byte) {
		ct := ContentTypeJSON
		if msgpack {
			ct = ContentTypeMsgpack
		}
		var js []feedback.Judgment
		var err error
		run := func() { js, err = DecodeEventsMax(ct, body, 10) }
		got := allocatedBytes(run)
		limit := uint64(eventsBudget*len(body) + eventsSlack)
		for try := 0; try < 2 && got > limit; try++ {
			got = min(got, allocatedBytes(run))
		}
		if got > limit {
			t.Fatalf("decoding a %d-byte %s batch allocated %d (%.1f×)", len(body), ct, got, float64(got)/float64(max(len(body), 1)))
		}
		var tm *TooManyEventsError
		switch {
		case errors.As(err, &tm):
			if tm.Limit != 10 || (tm.N != 0 && tm.N <= 10) {
				t.Fatalf("too-many error %+v", tm)
			}
		case err != nil:
			if !errors.Is(err, ErrBadBatch) {
				t.Fatalf("error %v is not ErrBadBatch", err)
			}
		case len(js) > 10:
			t.Fatalf("%d events decoded past the limit of 10", len(js))
		}
	})
}

// TestDecodeEventsCountBeforeDecoding: a batch over the limit is refused from its
// msgpack array header, or at the event after the limit in JSON, allocating next
// to nothing for the events it holds (issue 11, finding 2).
func TestDecodeEventsCountBeforeDecoding(t *testing.T) {
	var many []feedback.Judgment
	for range 5000 {
		many = append(many, feedback.Judgment{ID: "x", Kind: feedback.KindRate})
	}
	mp, _ := EncodeEventsMsgpack(many)
	js, _ := EncodeEventsJSON(many)
	for name, c := range map[string]struct {
		ct   string
		body []byte
		want string
	}{
		"msgpack": {ContentTypeMsgpack, mp, "the batch holds 5000 events; send at most 1000"},
		"json":    {ContentTypeJSON, js, "the batch holds more than 1000 events; send at most 1000"},
	} {
		var err error
		got := allocatedBytes(func() { _, err = DecodeEventsMax(c.ct, c.body, 1000) })
		var tm *TooManyEventsError
		if !errors.As(err, &tm) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
		t.Logf("%s: %d-byte batch of 5000 refused, %d bytes allocated", name, len(c.body), got)
	}
	// Without a limit, near-empty judgments in msgpack meet the decoding budget
	// (8×); real ones decode, to the same judgments in both forms.
	if _, err := DecodeEventsMax(ContentTypeMsgpack, mp, 0); err == nil || !strings.Contains(err.Error(), "more than 8×") {
		t.Errorf("5000 near-empty judgments: err = %v, want the budget's refusal", err)
	}
	var real []feedback.Judgment
	for i := range 1000 {
		for _, j := range sampleBatch() {
			j.ID = fmt.Sprintf("w-%032x", 3*i+len(real)%3)
			real = append(real, j)
		}
	}
	mp, _ = EncodeEventsMsgpack(real)
	js, _ = EncodeEventsJSON(real)
	a, err1 := DecodeEventsMax(ContentTypeMsgpack, mp, 0)
	b, err2 := DecodeEventsMax(ContentTypeJSON, js, 0)
	if err1 != nil || err2 != nil || len(a) != 3000 || !reflect.DeepEqual(a, b) {
		t.Fatalf("real judgments: %d, %v; %d, %v", len(a), err1, len(b), err2)
	}
}

func TestCheckEventSize(t *testing.T) {
	ok := feedback.Judgment{ID: "e", Kind: feedback.KindRewrite, Text: strings.Repeat("t", MaxTextBytes), Note: strings.Repeat("n", MaxNoteBytes)}
	if err := CheckEventSize(&ok); err != nil {
		t.Fatalf("at the caps: %v", err)
	}
	for want, j := range map[string]feedback.Judgment{
		"text is 65537 bytes; the most is 65536": {Text: strings.Repeat("t", MaxTextBytes+1)},
		"note is 8193 bytes; the most is 8192":   {Note: strings.Repeat("n", MaxNoteBytes+1)},
		"id is 129 bytes; the most is 128":       {ID: strings.Repeat("i", 129)},
		"revises is 129 bytes":                   {Revises: strings.Repeat("i", 129)},
		"reasons is 33 reasons; the most is 32":  {Reasons: make([]string, 33)},
		"shown is 65 responses; the most is 64":  {Shown: make([]string, 65)},
	} {
		if err := CheckEventSize(&j); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("err = %v, want %q…", err, want)
		}
	}
	_ = bytes.MinRead
}
