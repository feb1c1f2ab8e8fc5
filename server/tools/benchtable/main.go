// Command benchtable turns the output of `go test -bench` runs into the one table that
// `make bench` prints: each benchmark's metrics natively and in wasm side by side, with
// the wasm/native speed ratio measured in the same run.
//
// Usage: benchtable NATIVE.txt [WASM.txt] [OTHER.txt ...]
//
// The first file holds native results, the second wasm results of the same
// benchmarks; further files add native-only rows (server, end-to-end). Metrics
// whose unit ends in "/s" are speeds (higher is better); ns/op is a time (lower is
// better); the ratio column is wasm speed ÷ native speed for both. Other metrics
// (counts, sizes, ratios a benchmark computed itself) are shown as they are.
package main

import (
	"bufio"
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

// shown reports whether a unit gets its own row. B/op and allocs/op never do; ns/op
// only when the benchmark reports no figure of its own (custom metrics are the
// figures that matter: docs say which).
func shown(r *result, unit string) bool {
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
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtable NATIVE.txt [WASM.txt] [OTHER.txt ...]")
		os.Exit(2)
	}
	native, keys := readFile(os.Args[1])
	wasm := map[string]*result{}
	if len(os.Args) > 2 {
		wasm, _ = readFile(os.Args[2])
	}
	for _, path := range os.Args[min(3, len(os.Args)):] {
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
	fmt.Fprintln(tw, "package\tbenchmark\tnative\twasm\twasm/native speed\t")
	fmt.Fprintln(tw, "-------\t---------\t------\t----\t-----------------\t")
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", n.pkg, n.name, format(unit, nv), ws, rs)
		}
	}
	tw.Flush()
}
