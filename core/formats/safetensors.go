package formats

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
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

// exportTensor is one tensor of the file: its name there and its values.
type exportTensor struct {
	name string
	t    snapshot.Tensor
}

// Layouts of the reward-model families in the file (docs/formats.md, "safetensors"):
// PyTorch state-dict names and shapes, so torch.nn modules load them as they are.
const (
	layoutLinear   = "score = φ(prompt, text) · weightᵀ + bias: torch.nn.Linear(F, 1); φ is Prefer's hashed text features (config.features)"
	layoutMLP      = "score = relu(φ(prompt, text) · 0.weightᵀ + 0.bias) · 2.weightᵀ + 2.bias: torch.nn.Sequential(Linear(F, H), ReLU(), Linear(H, 1)); φ as for linear"
	layoutTabular  = "score of response config.responses[i] of item config.items[i] = scores[i]; se[i] its standard error (-1: unknown)"
	layoutEnsemble = "score = mean over k of members.k's score (each as its own family)"
	layoutOther    = "Prefer's own tensors, named as in the snapshot (\"/\" written \".\"); config holds what rebuilds the model"
)

// exportModel lays out one model's tensors under prefix (the model's name): the
// reward models of package reward as PyTorch modules (see the layouts above), any
// other family — or a reward model whose tensors are not those its family has —
// with its snapshot names. It returns the tensors and the model's metadata entry.
func exportModel(prefix string, m snapshot.Model) ([]exportTensor, map[string]any, error) {
	ts, entry, err := exportFamily(prefix, m)
	if err == nil || errors.Is(err, errTensorData) {
		return ts, entry, err
	}
	fam := m.Family
	m.Family = "" // the generic layout
	ts, entry, err = exportFamily(prefix, m)
	entry["family"] = fam
	return ts, entry, err
}

// errTensorData marks a tensor whose data do not match its own shape: an error in
// any layout.
var errTensorData = errors.New("tensor data do not match its shape")

func exportFamily(prefix string, m snapshot.Model) ([]exportTensor, map[string]any, error) {
	get := func(name string, shape ...int) (snapshot.Tensor, error) {
		t, ok := m.Tensors[name]
		if !ok {
			return t, fmt.Errorf("model %q (%s) has no tensor %q", m.Name, m.Family, name)
		}
		if t.Size() != len(t.Data) {
			return t, fmt.Errorf("tensor %q has shape %v (%d values) but %d values: %w", m.Name+"/"+name, t.Shape, t.Size(), len(t.Data), errTensorData)
		}
		if shape != nil && len(t.Data) != product(shape) {
			return t, fmt.Errorf("model %q: tensor %q has %d values, want shape %v", m.Name, name, len(t.Data), shape)
		}
		return t, nil
	}
	entry := map[string]any{"family": m.Family}
	if len(m.Config) > 0 {
		entry["config"] = m.Config
	}
	var out []exportTensor
	switch m.Family {
	case "linear":
		w, err := get("w")
		if err != nil {
			return nil, nil, err
		}
		b, err := get("b", 1)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, exportTensor{prefix + ".weight", snapshot.Tensor{Shape: []int{1, len(w.Data)}, Data: w.Data}},
			exportTensor{prefix + ".bias", snapshot.Tensor{Shape: []int{1}, Data: b.Data}})
		entry["layout"] = layoutLinear
	case "mlp":
		w1, err := get("w1")
		if err != nil {
			return nil, nil, err
		}
		if len(w1.Shape) != 2 {
			return nil, nil, fmt.Errorf("model %q: w1 has shape %v, want (F, H)", m.Name, w1.Shape)
		}
		F, H := w1.Shape[0], w1.Shape[1]
		b1, err := get("b1", H)
		if err != nil {
			return nil, nil, err
		}
		w2, err := get("w2", H)
		if err != nil {
			return nil, nil, err
		}
		b2, err := get("b2", 1)
		if err != nil {
			return nil, nil, err
		}
		// Prefer stores W₁ as (F, H); torch.nn.Linear(F, H).weight is (H, F).
		wt := make([]float32, F*H)
		for f := 0; f < F; f++ {
			for h := 0; h < H; h++ {
				wt[h*F+f] = w1.Data[f*H+h]
			}
		}
		out = append(out, exportTensor{prefix + ".0.weight", snapshot.Tensor{Shape: []int{H, F}, Data: wt}},
			exportTensor{prefix + ".0.bias", snapshot.Tensor{Shape: []int{H}, Data: b1.Data}},
			exportTensor{prefix + ".2.weight", snapshot.Tensor{Shape: []int{1, H}, Data: w2.Data}},
			exportTensor{prefix + ".2.bias", snapshot.Tensor{Shape: []int{1}, Data: b2.Data}})
		entry["layout"] = layoutMLP
	case "tabular":
		for _, n := range []string{"scores", "se"} {
			t, err := get(n)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, exportTensor{prefix + "." + n, t})
		}
		entry["layout"] = layoutTabular
	case "ensemble":
		members, _ := m.Config["members"].([]any)
		for k, mc := range members {
			c, _ := mc.(map[string]any)
			fam, _ := c["family"].(string)
			sub := snapshot.Model{Name: fmt.Sprintf("%s/m%d", m.Name, k), Family: fam, Config: c, Tensors: map[string]snapshot.Tensor{}}
			pre := fmt.Sprintf("m%d/", k)
			for name, t := range m.Tensors {
				if strings.HasPrefix(name, pre) {
					sub.Tensors[strings.TrimPrefix(name, pre)] = t
				}
			}
			ts, _, err := exportFamily(fmt.Sprintf("%s.members.%d", prefix, k), sub)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, ts...)
		}
		entry["layout"] = layoutEnsemble
	default:
		for name, t := range m.Tensors {
			if _, err := get(name); err != nil {
				return nil, nil, err
			}
			out = append(out, exportTensor{prefix + "." + strings.ReplaceAll(name, "/", "."), t})
		}
		entry["layout"] = layoutOther
	}
	for _, t := range out {
		for _, d := range t.t.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("tensor %q has a negative dimension in %v", t.name, t.t.Shape)
			}
		}
	}
	return out, entry, nil
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// WriteSafetensors writes the tensors of models in the safetensors layout
// (huggingface/safetensors), so that safetensors.torch.load_file, numpy and
// transformers read them:
//
//	8 bytes     N, the header length, unsigned little-endian
//	N bytes     a JSON object: "__metadata__" (string → string) and, per tensor,
//	            "name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
//	rest        the tensors' data, float32 little-endian, row-major, back to back
//
// Offsets count from the start of the data. Tensors are sorted by name and their data
// follows in that order; the header is padded with spaces to a multiple of 8 bytes so
// the data is aligned.
//
// Tensor names are PyTorch state-dict names under the model's name: a linear reward
// model is MODEL.weight (1, F) and MODEL.bias (1) of torch.nn.Linear(F, 1); an MLP
// MODEL.0.weight (H, F), MODEL.0.bias, MODEL.2.weight (1, H), MODEL.2.bias of
// Sequential(Linear, ReLU, Linear); a tabular model MODEL.scores and MODEL.se; an
// ensemble MODEL.members.K.…; other families keep their snapshot names.
//
// The metadata has "format": "pt" (what safetensors.torch and transformers expect),
// "prefer.models" (a JSON array of the model names, in order) and per model
// "prefer.model.NAME": a JSON object with its "family", "layout" (how the tensors
// make a score) and "config" (everything needed to rebuild it: the feature hashing
// settings of linear and MLP models, a tabular model's item and response ids, a
// language model's vocabulary), plus extra (whose keys must not be "format" or start
// with "prefer."). docs/formats.md has a numpy snippet that loads the file and
// reproduces Prefer's scores.
func WriteSafetensors(w io.Writer, models []snapshot.Model, extra map[string]string) (*ExportReport, error) {
	rep := &ExportReport{Format: "safetensors", Skipped: map[string]int{}}
	var ts []exportTensor
	seen := map[string]bool{}
	meta := map[string]string{"format": "pt"}
	var names []string
	for _, m := range models {
		if m.Name == "" {
			return nil, fmt.Errorf("export safetensors: a model has no name")
		}
		if _, dup := meta["prefer.model."+m.Name]; dup {
			return nil, fmt.Errorf("export safetensors: two models are named %q", m.Name)
		}
		mts, entry, err := exportModel(m.Name, m)
		if err != nil {
			return nil, fmt.Errorf("export safetensors: %w", err)
		}
		for _, t := range mts {
			if seen[t.name] {
				return nil, fmt.Errorf("export safetensors: two tensors are named %q", t.name)
			}
			seen[t.name] = true
		}
		eb, err := json.Marshal(entry)
		if err != nil {
			return nil, fmt.Errorf("export safetensors: model %q: %w", m.Name, err)
		}
		meta["prefer.model."+m.Name] = string(eb)
		names = append(names, m.Name)
		ts = append(ts, mts...)
	}
	list, _ := json.Marshal(names)
	if names == nil {
		list = []byte("[]")
	}
	meta["prefer.models"] = string(list)
	for k, v := range extra {
		if k == "format" || strings.HasPrefix(k, "prefer.") {
			return nil, fmt.Errorf("export safetensors: metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	sort.Slice(ts, func(a, b int) bool { return ts[a].name < ts[b].name })
	for i := range ts {
		if ts[i].t.Shape == nil {
			ts[i].t.Shape = []int{}
		}
	}

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
