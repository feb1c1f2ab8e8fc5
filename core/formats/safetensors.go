package formats

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"prefer/core/snapshot"
)

// safetensorsEntry is one tensor's header entry.
type safetensorsEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// WriteSafetensors writes the tensors of models in the safetensors layout
// (huggingface/safetensors):
//
//	8 bytes     N, the header length, unsigned little-endian
//	N bytes     a JSON object: "__metadata__" (string → string) and, per tensor,
//	            "model/tensor": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
//	rest        the tensors' data, float32 little-endian, row-major, back to back
//
// Offsets count from the start of the data. Tensors are sorted by name and their data
// follows in that order; the header is padded with spaces to a multiple of 8 bytes so
// the data is aligned. The metadata holds "format": "prefer", "models" (a JSON array of
// the model names in order) and "model/<name>": its family, plus extra (which must not
// use those keys). A tensor whose data does not match its shape, or two tensors with
// the same full name, are errors.
func WriteSafetensors(w io.Writer, models []snapshot.Model, extra map[string]string) (*ExportReport, error) {
	rep := &ExportReport{Format: "safetensors", Skipped: map[string]int{}}
	type named struct {
		name string
		t    snapshot.Tensor
	}
	var ts []named
	seen := map[string]bool{}
	meta := map[string]string{"format": "prefer"}
	var names []string
	for _, m := range models {
		if m.Name == "" {
			return nil, fmt.Errorf("export safetensors: a model has no name")
		}
		if _, dup := meta["model/"+m.Name]; dup {
			return nil, fmt.Errorf("export safetensors: two models are named %q", m.Name)
		}
		meta["model/"+m.Name] = m.Family
		names = append(names, m.Name)
		for k, t := range m.Tensors {
			full := m.Name + "/" + k
			if seen[full] {
				return nil, fmt.Errorf("export safetensors: two tensors are named %q", full)
			}
			seen[full] = true
			if t.Size() != len(t.Data) {
				return nil, fmt.Errorf("export safetensors: tensor %q has shape %v (%d values) but %d values", full, t.Shape, t.Size(), len(t.Data))
			}
			for _, d := range t.Shape {
				if d < 0 {
					return nil, fmt.Errorf("export safetensors: tensor %q has a negative dimension in %v", full, t.Shape)
				}
			}
			ts = append(ts, named{full, t})
		}
	}
	list, _ := json.Marshal(names)
	if names == nil {
		list = []byte("[]")
	}
	meta["models"] = string(list)
	for k, v := range extra {
		if _, taken := meta[k]; taken || strings.HasPrefix(k, "model/") {
			return nil, fmt.Errorf("export safetensors: metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	sort.Slice(ts, func(a, b int) bool { return ts[a].name < ts[b].name })

	// The header: a JSON object with __metadata__ first and tensors in data order.
	var hb strings.Builder
	hb.WriteString(`{"__metadata__":`)
	mb, err := json.Marshal(meta) // encoding/json sorts map keys
	if err != nil {
		return nil, fmt.Errorf("export safetensors: %w", err)
	}
	hb.Write(mb)
	var off int64
	for _, nt := range ts {
		end := off + 4*int64(len(nt.t.Data))
		shape := nt.t.Shape
		if shape == nil {
			shape = []int{}
		}
		kb, _ := json.Marshal(nt.name)
		eb, _ := json.Marshal(safetensorsEntry{Dtype: "F32", Shape: shape, DataOffsets: [2]int64{off, end}})
		hb.WriteByte(',')
		hb.Write(kb)
		hb.WriteByte(':')
		hb.Write(eb)
		off = end
	}
	hb.WriteByte('}')
	header := hb.String()
	if pad := (8 - len(header)%8) % 8; pad > 0 {
		header += strings.Repeat(" ", pad)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	bw.Write(n[:])
	bw.WriteString(header)
	var buf [4]byte
	for _, nt := range ts {
		for _, v := range nt.t.Data {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			bw.Write(buf[:])
		}
		rep.Records++
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write safetensors: %w", err)
	}
	return rep, nil
}
