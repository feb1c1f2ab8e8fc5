package formats

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"prefer/core/snapshot"
)

// parseSafetensors reads a safetensors file back with the rules of the format
// (huggingface/safetensors README): an 8-byte little-endian header length N, N bytes
// of JSON, then the data; every tensor's offsets lie in the data, tensors do not
// overlap and together cover it. It returns the tensors and the metadata.
func parseSafetensors(tb testing.TB, b []byte) (map[string]snapshot.Tensor, map[string]string) {
	tb.Helper()
	if len(b) < 8 {
		tb.Fatalf("file of %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > uint64(len(b)-8) || n%8 != 0 {
		tb.Fatalf("header length %d (file %d bytes); want ≤ the rest and a multiple of 8", n, len(b))
	}
	header, data := b[8:8+n], b[8+n:]
	if header[0] != '{' || len(bytes.TrimRight(header, " ")) == 0 {
		tb.Fatalf("header does not start with '{': %q", header)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		tb.Fatalf("header JSON: %v", err)
	}
	var meta map[string]string
	if err := json.Unmarshal(raw["__metadata__"], &meta); err != nil {
		tb.Fatalf("__metadata__: %v", err)
	}
	delete(raw, "__metadata__")
	out := map[string]snapshot.Tensor{}
	covered := 0
	type span struct{ a, b int64 }
	var spans []span
	for name, r := range raw {
		var e safetensorsEntry
		if err := json.Unmarshal(r, &e); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if e.Dtype != "F32" {
			tb.Fatalf("%s: dtype %q", name, e.Dtype)
		}
		size := 1
		for _, d := range e.Shape {
			size *= d
		}
		a, z := e.DataOffsets[0], e.DataOffsets[1]
		if a < 0 || z < a || z > int64(len(data)) || z-a != int64(4*size) {
			tb.Fatalf("%s: offsets %v for shape %v in %d data bytes", name, e.DataOffsets, e.Shape, len(data))
		}
		for _, s := range spans {
			if a < s.b && s.a < z {
				tb.Fatalf("%s overlaps another tensor", name)
			}
		}
		spans = append(spans, span{a, z})
		covered += int(z - a)
		t := snapshot.Tensor{Shape: e.Shape, Data: make([]float32, size)}
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[a+int64(4*i):]))
		}
		out[name] = t
	}
	if covered != len(data) {
		tb.Fatalf("tensors cover %d of %d data bytes", covered, len(data))
	}
	return out, meta
}

func TestSafetensorsBytes(t *testing.T) {
	// The layout spelled out byte by byte for one tiny model of a family Prefer has no
	// PyTorch layout for: header length 208 (the 205-byte JSON padded with 3 spaces),
	// then 1.0 and -2.0 as float32 little-endian (0x3f800000, 0xc0000000; IEEE 754).
	var buf bytes.Buffer
	_, err := WriteSafetensors(&buf, []snapshot.Model{{Name: "m", Family: "x", Tensors: map[string]snapshot.Tensor{"w": {Shape: []int{2}, Data: []float32{1, -2}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := json.Marshal(map[string]any{"family": "x", "layout": layoutOther})
	metaJSON, _ := json.Marshal(map[string]string{"format": "pt", "prefer.model.m": string(entry), "prefer.models": `["m"]`})
	header := `{"__metadata__":` + string(metaJSON) + `,"m.w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	n := (len(header) + 7) / 8 * 8
	want := binary.LittleEndian.AppendUint64(nil, uint64(n))
	want = append(want, header+strings.Repeat(" ", n-len(header))...)
	want = append(want, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("bytes:\n got %q\nwant %q", buf.Bytes(), want)
	}
}

// TestSafetensorsModels: reward models come out as PyTorch modules' state dicts (an
// MLP's W₁ transposed to torch.nn.Linear's (out, in)), every model's family, layout
// and config in the metadata, and "format": "pt".
func TestSafetensorsModels(t *testing.T) {
	models := []snapshot.Model{
		{Name: "rm", Family: "mlp", Config: map[string]any{"dim": int64(2), "hidden": int64(3)}, Tensors: map[string]snapshot.Tensor{
			"w1": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
			"b1": {Shape: []int{3}, Data: []float32{-0.5, 0, float32(math.Pi)}},
			"w2": {Shape: []int{3}, Data: []float32{1, 0, -1}},
			"b2": {Shape: []int{1}, Data: []float32{0.25}},
		}},
		{Name: "lin", Family: "linear", Tensors: map[string]snapshot.Tensor{"w": {Shape: []int{3}, Data: []float32{1, 2, 3}}, "b": {Shape: []int{1}, Data: []float32{-1}}}},
		{Name: "policy", Family: "candidate-policy", Tensors: map[string]snapshot.Tensor{"logits": {Shape: []int{4}, Data: []float32{1e-30, -1e30, 7, 8}}, "empty": {Shape: []int{0, 4}}}},
		{Name: "ens", Family: "ensemble", Config: map[string]any{"members": []any{map[string]any{"family": "linear"}, map[string]any{"family": "linear"}}},
			Tensors: map[string]snapshot.Tensor{"m0/w": {Shape: []int{1}, Data: []float32{2}}, "m0/b": {Shape: []int{1}, Data: []float32{0}},
				"m1/w": {Shape: []int{1}, Data: []float32{4}}, "m1/b": {Shape: []int{1}, Data: []float32{1}}}},
	}
	var buf bytes.Buffer
	rep, err := WriteSafetensors(&buf, models, map[string]string{"snapshot": "sha256-00"})
	if err != nil || rep.Records != 12 {
		t.Fatalf("%v %+v", err, rep)
	}
	got, meta := parseSafetensors(t, buf.Bytes())
	want := map[string]snapshot.Tensor{
		"rm.0.weight":          {Shape: []int{3, 2}, Data: []float32{1, 4, 2, 5, 3, 6}},
		"rm.0.bias":            {Shape: []int{3}, Data: []float32{-0.5, 0, float32(math.Pi)}},
		"rm.2.weight":          {Shape: []int{1, 3}, Data: []float32{1, 0, -1}},
		"rm.2.bias":            {Shape: []int{1}, Data: []float32{0.25}},
		"lin.weight":           {Shape: []int{1, 3}, Data: []float32{1, 2, 3}},
		"lin.bias":             {Shape: []int{1}, Data: []float32{-1}},
		"policy.logits":        {Shape: []int{4}, Data: []float32{1e-30, -1e30, 7, 8}},
		"policy.empty":         {Shape: []int{0, 4}, Data: []float32{}},
		"ens.members.0.weight": {Shape: []int{1, 1}, Data: []float32{2}},
		"ens.members.0.bias":   {Shape: []int{1}, Data: []float32{0}},
		"ens.members.1.weight": {Shape: []int{1, 1}, Data: []float32{4}},
		"ens.members.1.bias":   {Shape: []int{1}, Data: []float32{1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tensors\n got %v\nwant %v", got, want)
	}
	if meta["format"] != "pt" || meta["prefer.models"] != `["rm","lin","policy","ens"]` || meta["snapshot"] != "sha256-00" {
		t.Fatalf("metadata %v", meta)
	}
	var rm map[string]any
	if err := json.Unmarshal([]byte(meta["prefer.model.rm"]), &rm); err != nil || rm["family"] != "mlp" || rm["layout"] != layoutMLP ||
		!reflect.DeepEqual(rm["config"], map[string]any{"dim": 2.0, "hidden": 3.0}) {
		t.Fatalf("model entry %v (%v)", rm, err)
	}
	// Same models, same bytes (tensor maps iterate in random order).
	var again bytes.Buffer
	WriteSafetensors(&again, models, map[string]string{"snapshot": "sha256-00"})
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Fatal("output depends on map order")
	}
}

func TestSafetensorsErrors(t *testing.T) {
	cases := []struct {
		models []snapshot.Model
		extra  map[string]string
		want   string
	}{
		{[]snapshot.Model{{Name: "m", Tensors: map[string]snapshot.Tensor{"w": {Shape: []int{3}, Data: []float32{1}}}}}, nil, `tensor "m/w" has shape [3] (3 values) but 1 values`},
		{[]snapshot.Model{{Name: "m"}, {Name: "m"}}, nil, `two models are named "m"`},
		{[]snapshot.Model{{Name: ""}}, nil, `a model has no name`},
		{[]snapshot.Model{{Name: "a.b", Tensors: map[string]snapshot.Tensor{"c": {Shape: []int{1}, Data: []float32{1}}}}, {Name: "a", Tensors: map[string]snapshot.Tensor{"b/c": {Shape: []int{1}, Data: []float32{1}}}}}, nil, `two tensors are named "a.b.c"`},
		{nil, map[string]string{"prefer.models": "x"}, `metadata key "prefer.models" is reserved`},
		{nil, map[string]string{"format": "x"}, `metadata key "format" is reserved`},
	}
	for _, c := range cases {
		_, err := WriteSafetensors(&bytes.Buffer{}, c.models, c.extra)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}
