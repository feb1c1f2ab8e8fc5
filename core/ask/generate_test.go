package ask

import (
	"reflect"
	"testing"

	"prefer/core/feedback"
)

func TestMissingAndRecord(t *testing.T) {
	items := []feedback.Item{{ID: "q1", Prompt: "What do bees make?"}, {ID: "q2", Prompt: "How do I plant a seed?"}, {ID: "empty"}}
	src := Source{Endpoint: "127.0.0.1:8000", Model: "ref-lm", Temperature: 0.7, MaxTokens: 64}
	slots := Missing(items, src, 3, 1)
	if len(slots) != 6 {
		t.Fatalf("%d slots, want 2 prompts × 3 (the item without a prompt is skipped)", len(slots))
	}
	// Record two answers with the same text (slots 0 and 2 of q1) and one of q2.
	Record(&items[0], "Bees make honey.", src.Origin(0, slots[0].Seed, true, "stop"))
	Record(&items[0], "Bees make honey.", src.Origin(2, slots[2].Seed, true, "stop"))
	Record(&items[1], "Put it in soil.", src.Origin(1, slots[4].Seed, true, "length"))
	if len(items[0].Responses) != 1 || len(items[0].Responses[0].Origins) != 2 || items[0].Responses[0].Source != feedback.SourceGenerated {
		t.Fatalf("q1: %+v", items[0].Responses)
	}
	left := Missing(items, src, 3, 1)
	want := []Slot{slots[1], slots[3], slots[5]}
	if !reflect.DeepEqual(left, want) {
		t.Errorf("missing %+v, want %+v", left, want)
	}
	// Another setting is another run: nothing of it is there.
	other := src
	other.Temperature = 1
	if got := len(Missing(items, other, 3, 1)); got != 6 {
		t.Errorf("another temperature: %d missing, want 6", got)
	}
	// Recording the same sampling twice adds nothing.
	Record(&items[0], "Bees make honey.", src.Origin(0, slots[0].Seed, true, "stop"))
	if len(items[0].Responses[0].Origins) != 2 {
		t.Errorf("a repeated sampling was recorded again: %+v", items[0].Responses[0].Origins)
	}
	// Seeds: one per slot, the same for the same slot, different across slots.
	if SlotSeed(1, "q1", 0) != slots[0].Seed || SlotSeed(1, "q1", 0) == SlotSeed(1, "q1", 1) || SlotSeed(1, "q1", 0) == SlotSeed(2, "q1", 0) ||
		SlotSeed(1, "q1", 0) < 0 {
		t.Error("slot seeds are not per slot")
	}
}

// TestCanonical: the order answers arrive in does not change the item.
func TestCanonical(t *testing.T) {
	src := Source{Endpoint: "h", Model: "m"}
	texts := []string{"b", "a", "c", "a"}
	build := func(order []int) feedback.Item {
		it := feedback.Item{ID: "q", Prompt: "p", Responses: []feedback.Response{{ID: "x", Text: "imported", Source: feedback.SourceImported}}}
		for _, k := range order {
			Record(&it, texts[k], src.Origin(k, int64(k), true, "stop"))
		}
		Canonical(&it)
		return it
	}
	a, b := build([]int{0, 1, 2, 3}), build([]int{3, 2, 0, 1})
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("arrival order changed the item:\n%+v\n%+v", a, b)
	}
	var got []string
	for _, r := range a.Responses {
		got = append(got, r.Text)
	}
	// imported first; then by first k: "b" (k 0), "a" (k 1, 3), "c" (k 2).
	if want := []string{"imported", "b", "a", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}
