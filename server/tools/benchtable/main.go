// Command benchtable turns the output of `go test -bench` runs into the tables that
// `make bench` prints: each benchmark's metrics natively and in wasm side by side, with
// the wasm/native speed ratio measured in the same run; and the transformer's training
// and PPO steps across Prefer (wasm with and without the SIMD kernels, native, the
// browser) and the references (TensorFlow.js, PyTorch).
//
// Usage: benchtable [-gokernels WASM_GO.txt] NATIVE.txt [WASM.txt] [OTHER.txt ...]
//
// The first file holds native results, the second wasm results of the same
// benchmarks; further files add native-only rows (server, end-to-end). -gokernels
// names wasm results with the SIMD kernels turned off (PREFER_SIMD=off): they get a
// column of their own and the speed-up of the kernels. Metrics whose unit ends in
// "/s" are speeds (higher is better); ns/op is a time (lower is better); the ratio
// columns are speed ratios for both. Other metrics (counts, sizes, ratios a benchmark
// computed itself) are shown as they are.
//
// A "before" column holds the figure of the same metric before a change, when the
// benchmark reports one next to it: unit U-before is U measured in the same run on
// the code before the change (a benchmark that builds the older commit, or runs the
// older code path), U-recorded is U as recorded earlier where it cannot be measured
// again in the run (shown as "recorded before"). Neither gets a row of its own when
// U is reported.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// result is one benchmark's metrics: unit → value.
type result struct {
	pkg, name string
	metrics   map[string]float64
	order     []string // units in the order they were printed
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads `go test -bench` output. Later results of the same benchmark (from
// -count > 1) replace earlier ones.
func parse(r io.Reader) (map[string]*result, []string, error) {
	out := map[string]*result{}
	var keys []string
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "prefer/")
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		res := &result{pkg: pkg, name: name, metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res.metrics[f[i+1]] = v
			res.order = append(res.order, f[i+1])
		}
		key := pkg + " " + name
		if _, seen := out[key]; !seen {
			keys = append(keys, key)
		}
		out[key] = res
	}
	return out, keys, sc.Err()
}

func readFile(path string) (map[string]*result, []string) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: %v\n", err)
		return map[string]*result{}, nil
	}
	defer f.Close()
	res, keys, err := parse(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: %s: %v\n", path, err)
	}
	return res, keys
}

// ratio returns wasm speed ÷ native speed for a unit, or "" when the unit is not a
// speed or a time.
func ratio(unit string, native, wasm float64) string {
	if native == 0 || wasm == 0 {
		return ""
	}
	switch {
	case strings.HasSuffix(unit, "/s"):
		return fmt.Sprintf("%.2f", wasm/native)
	case unit == "ns/op":
		return fmt.Sprintf("%.2f", native/wasm)
	}
	return ""
}

func format(unit string, v float64) string {
	if unit == "ns/op" {
		switch {
		case v >= 1e9:
			return fmt.Sprintf("%.2f s", v/1e9)
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.2f µs", v/1e3)
		}
		return fmt.Sprintf("%.0f ns", v)
	}
	switch a := v; {
	case a >= 1e6 || (a != 0 && a < 1e-3 && a > -1e-3):
		return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
	case a >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.4g %s", v, unit)
}

// Suffixes of the units that hold a metric's figure before a change.
const (
	beforeSuffix   = "-before"
	recordedSuffix = "-recorded"
)

// before returns the before column of unit: its measured or recorded figure.
func before(r *result, unit string) string {
	if v, ok := r.metrics[unit+beforeSuffix]; ok {
		return format(unit, v)
	}
	if v, ok := r.metrics[unit+recordedSuffix]; ok {
		return format(unit, v) + " (recorded before)"
	}
	return ""
}

// shown reports whether a unit gets its own row. B/op and allocs/op never do; ns/op
// only when the benchmark reports no figure of its own (custom metrics are the
// figures that matter: docs say which); a before figure only when its metric is
// missing.
func shown(r *result, unit string) bool {
	for _, suf := range []string{beforeSuffix, recordedSuffix} {
		if base, ok := strings.CutSuffix(unit, suf); ok {
			if _, has := r.metrics[base]; has {
				return false
			}
		}
	}
	switch unit {
	case "B/op", "allocs/op":
		return false
	case "ns/op":
		for _, u := range r.order {
			if u != "ns/op" && u != "B/op" && u != "allocs/op" {
				return false
			}
		}
	}
	return true
}

func main() {
	goKernels := flag.String("gokernels", "", "wasm results with the SIMD kernels off")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchtable [-gokernels WASM_GO.txt] NATIVE.txt [WASM.txt] [OTHER.txt ...]")
	}
	flag.Parse()
	args := flag.Args()
	if len(args) < 1 {
		flag.Usage()
		os.Exit(2)
	}
	native, keys := readFile(args[0])
	wasm := map[string]*result{}
	if len(args) > 1 {
		wasm, _ = readFile(args[1])
	}
	wasmGo := map[string]*result{}
	if *goKernels != "" {
		wasmGo, _ = readFile(*goKernels)
	}
	for _, path := range args[min(2, len(args)):] {
		more, mk := readFile(path)
		for _, k := range mk {
			if _, dup := native[k]; !dup {
				keys = append(keys, k)
			}
			native[k] = more[k]
		}
	}
	sort.SliceStable(keys, func(a, b int) bool { return native[keys[a]].pkg < native[keys[b]].pkg })
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	if len(wasmGo) > 0 {
		fmt.Fprintln(tw, "package\tbenchmark\tnative\tbefore\twasm\twasm/native speed\twasm, Go kernels\tSIMD speed-up\t")
		fmt.Fprintln(tw, "-------\t---------\t------\t------\t----\t-----------------\t----------------\t-------------\t")
	} else {
		fmt.Fprintln(tw, "package\tbenchmark\tnative\tbefore\twasm\twasm/native speed\t")
		fmt.Fprintln(tw, "-------\t---------\t------\t------\t----\t-----------------\t")
	}
	for _, k := range keys {
		n := native[k]
		w := wasm[k]
		for _, unit := range n.order {
			if !shown(n, unit) {
				continue
			}
			nv := n.metrics[unit]
			wv, ws, rs := 0.0, "", ""
			if w != nil {
				if v, ok := w.metrics[unit]; ok {
					wv = v
					ws = format(unit, v)
					rs = ratio(unit, nv, wv)
				}
			}
			if len(wasmGo) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", n.pkg, n.name, format(unit, nv), before(n, unit), ws, rs)
				continue
			}
			gs, gr := "", ""
			if g := wasmGo[k]; g != nil {
				if v, ok := g.metrics[unit]; ok {
					gs = format(unit, v)
					gr = ratio(unit, v, wv) // SIMD speed ÷ Go-kernel speed
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", n.pkg, n.name, format(unit, nv), before(n, unit), ws, rs, gs, gr)
		}
	}
	tw.Flush()
	steps(os.Stdout, native, wasm, wasmGo)
}

// steps prints the transformer's training step and PPO step (core/lm's default
// model, batch 16 × 48 tokens; PPO 16 prompts × 4 answers) for every engine
// measured, in steps per second and as a fraction of PyTorch's single-thread speed
// (issue 18's anchor). Rows without a measurement are left out; nothing is printed
// without the native core/lm rows.
func steps(out io.Writer, native, wasm, wasmGo map[string]*result) {
	get := func(m map[string]*result, key, unit string) float64 {
		if r := m[key]; r != nil {
			return r.metrics[unit]
		}
		return 0
	}
	train := func(m map[string]*result, name string) float64 { return get(m, "core/lm "+name, "steps/s") }
	torchTrain, torchPPO := train(native, "TorchTrainStep"), train(native, "TorchPPOStep")
	if train(native, "TrainStep") == 0 {
		return
	}
	// The lesson's PPO step in Chromium's worker (BenchmarkBrowser), ms per step.
	browserPPO := 0.0
	if ms := get(native, "server/e2e Browser", "lm_ppo_step_worker_ms"); ms > 0 {
		browserPPO = 1000 / ms
	}
	rows := []struct {
		name       string
		train, ppo float64
	}{
		{"Prefer, wasm (Node), SIMD kernels, 1 thread", train(wasm, "TrainStep"), train(wasm, "PPOStep")},
		{"Prefer, wasm (Node), Go kernels, 1 thread", train(wasmGo, "TrainStep"), train(wasmGo, "PPOStep")},
		{"Prefer, Chromium's worker, SIMD kernels (the lesson's PPO step)", 0, browserPPO},
		{"TensorFlow.js 4.22, wasm backend, SIMD, 1 thread", train(native, "TFJSTrainStep"), train(native, "TFJSPPOStep")},
		{"Prefer, native (2 cores)", train(native, "TrainStep"), train(native, "PPOStep")},
		{"PyTorch CPU, 1 thread", torchTrain, torchPPO},
	}
	vs := func(v, ref float64) string {
		if v == 0 || ref == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f", v/ref)
	}
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return fmt.Sprintf("%.3g", v)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Transformer steps (core/lm default model, 82,705 parameters; training: 16 × 48 tokens; PPO: 16 prompts × 4 answers, 4 epochs)")
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "engine\ttraining steps/s\t× PyTorch\tPPO steps/s\t× PyTorch\t")
	fmt.Fprintln(tw, "------\t----------------\t---------\t-----------\t---------\t")
	for _, r := range rows {
		if r.train == 0 && r.ppo == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.name, num(r.train), vs(r.train, torchTrain), num(r.ppo), vs(r.ppo, torchPPO))
	}
	tw.Flush()
	switch {
	case torchTrain == 0 && torchPPO == 0:
		fmt.Fprintln(out, "(PyTorch rows skipped: python3-torch is not installed)")
	case torchTrain == 0 || torchPPO == 0:
		fmt.Fprintln(out, "(one PyTorch row is missing: its benchmark failed or was not run; see the log above)")
	}
}
