// Command nofma rewrites Go source so that the compiler cannot fuse a
// floating-point multiplication with an addition or subtraction into one
// fused multiply-add (FMA), which the Go compiler does on arm64 (and ppc64, s390x,
// riscv64) but not on amd64 (GOAMD64=v1) or wasm: fused results skip the rounding
// of the product, so they differ in the last bits and "the same seed gives the same
// numbers everywhere" stops being true.
//
// The Go specification allows fusion "possibly across statements" and names the
// one way to prevent it: "An explicit floating-point type conversion rounds to the
// precision of the target type, preventing fusion that would discard that
// rounding." So nofma wraps every floating-point product x*y in a conversion to
// its own type, float64(x*y) or float32(x*y), unless it already is the operand of
// a floating-point conversion — factors of a larger product too, because the
// compiler turns y*2 into y+y, which fuses with the product y is — and every
// quotient by a constant power of two, which the compiler turns into a product;
// x *= y becomes x = T(x * y). On amd64 and wasm these conversions are no-ops: no
// result changes there.
//
// Usage (from the repository root):
//
//	go run ./server/tools/nofma [-l] [-tests] [packages]
//
// The packages default to ./core/... (the engine, whose results must be bit-equal
// everywhere). -l lists the products it would wrap (file:line:column) and changes
// nothing; it exits with status 1 when there are any. -tests also rewrites the
// packages' _test.go files. Files are type-checked for GOARCH=arm64, the target
// where fusion happens, and written back gofmt-formatted.
//
// core's TestNoFusedMultiplyAdd (core/fma_test.go) compiles core for arm64 and
// fails naming the file:line of any fused instruction left; run nofma after
// changing float code in core, then that test.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/constant"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	list := flag.Bool("l", false, "list the products that would be wrapped; change nothing (exit 1 if any)")
	tests := flag.Bool("tests", false, "also rewrite _test.go files")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./server/tools/nofma [-l] [-tests] [packages (default ./core/...)]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./core/..."}
	}
	n, err := run(patterns, *list, *tests, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nofma:", err)
		os.Exit(2)
	}
	if *list && n > 0 {
		os.Exit(1)
	}
}

// pkg is what go list says of a package.
type pkg struct {
	ImportPath  string
	Name        string
	Dir         string
	Export      string
	GoFiles     []string
	TestGoFiles []string
	DepOnly     bool
	Standard    bool
	Error       *struct{ Err string }
}

// run rewrites (or with list, lists) the products of the packages matching
// patterns and returns how many products it wrapped (or would wrap).
func run(patterns []string, list, tests bool, out io.Writer) (int, error) {
	pkgs, err := goList(patterns, tests)
	if err != nil {
		return 0, err
	}
	exports := map[string]string{}
	for _, p := range pkgs {
		exports[p.ImportPath] = p.Export
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	total := 0
	for _, p := range pkgs {
		if p.DepOnly || p.Standard {
			continue
		}
		if p.Error != nil {
			return total, fmt.Errorf("%s: %s", p.ImportPath, p.Error.Err)
		}
		names := p.GoFiles
		if tests {
			// In-package tests are type-checked together with the package's files.
			names = append(append([]string(nil), p.GoFiles...), p.TestGoFiles...)
		}
		n, err := rewritePackage(fset, imp, p, names, list, out)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// goList lists the packages of patterns and their dependencies (with tests,
// their tests' too) with export data, compiled for arm64. Test variants of
// packages ("p [q.test]") are left out.
func goList(patterns []string, tests bool) ([]pkg, error) {
	args := []string{"list", "-e", "-export", "-deps", "-json=ImportPath,Name,Dir,Export,GoFiles,TestGoFiles,DepOnly,Standard,Error"}
	if tests {
		args = append(args, "-test")
	}
	cmd := exec.Command("go", append(args, patterns...)...)
	cmd.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		if strings.Contains(p.ImportPath, " ") || strings.HasSuffix(p.ImportPath, ".test") {
			continue // a test variant or a test main
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// edit inserts text at a byte offset of a file.
type edit struct {
	off   int
	text  string
	outer int // for equal offsets: the enclosing expression's length, larger first for "(" and last for ")"
}

// rewritePackage type-checks the files names of p and wraps their products.
func rewritePackage(fset *token.FileSet, imp types.Importer, p pkg, names []string, list bool, out io.Writer) (int, error) {
	var files []*ast.File
	srcs := map[*ast.File][]byte{}
	for _, name := range names {
		path := filepath.Join(p.Dir, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			return 0, err
		}
		files = append(files, f)
		srcs[f] = src
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: imp, GoVersion: "go1.26"}
	if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
		return 0, fmt.Errorf("type-check %s: %w", p.ImportPath, err)
	}
	total := 0
	for _, f := range files {
		edits, n, problems := products(fset, info, f, p.Name)
		for _, msg := range problems {
			fmt.Fprintln(out, msg)
		}
		if len(edits) == 0 {
			continue
		}
		total += n
		path := fset.Position(f.Pos()).Filename
		if list {
			for _, e := range edits {
				if !strings.HasSuffix(e.text, ")") {
					fmt.Fprintf(out, "%s: %s\n", position(fset, f, e.off), "float product without a rounding conversion")
				}
			}
			continue
		}
		out2, err := apply(srcs[f], edits)
		if err != nil {
			return total, fmt.Errorf("%s: %w", path, err)
		}
		if err := os.WriteFile(path, out2, 0o644); err != nil {
			return total, err
		}
		fmt.Fprintf(out, "%s: %d products wrapped\n", relPath(path), n)
	}
	return total, nil
}

func relPath(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, path); err == nil {
			return r
		}
	}
	return path
}

// position is the file:line:column of a byte offset of f.
func position(fset *token.FileSet, f *ast.File, off int) string {
	tf := fset.File(f.Pos())
	pos := tf.Position(tf.Pos(off))
	return fmt.Sprintf("%s:%d:%d", relPath(pos.Filename), pos.Line, pos.Column)
}

// products returns the edits that wrap the products of f that can be fused, how
// many products they wrap, and the products it cannot rewrite, as messages.
func products(fset *token.FileSet, info *types.Info, f *ast.File, pkgName string) ([]edit, int, []string) {
	tf := fset.File(f.Pos())
	off := func(p token.Pos) int { return tf.Offset(p) }
	var edits []edit
	var problems []string
	var stack []ast.Node
	count := 0
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		// The parent, seen through parentheses, and the outermost of the
		// parentheses right around n (nil if none).
		parent, paren := ast.Node(nil), ast.Node(nil)
		for i := len(stack) - 1; i >= 0; i-- {
			if _, ok := stack[i].(*ast.ParenExpr); !ok {
				parent = stack[i]
				break
			}
			paren = stack[i]
		}
		stack = append(stack, n)
		switch x := n.(type) {
		case *ast.BinaryExpr:
			if x.Op != token.MUL && !(x.Op == token.QUO && powerOfTwo(info, x.Y)) {
				return true
			}
			tv, ok := info.Types[x]
			if !ok || tv.Value != nil {
				return true // a constant: folded exactly at compile time
			}
			name, ok := floatName(tv.Type, f, pkgName)
			if !ok {
				return true
			}
			if name == "" {
				problems = append(problems, fmt.Sprintf("%s: float product of type %s, whose package the file does not import: wrap it by hand",
					position(fset, f, off(x.Pos())), tv.Type))
				return true
			}
			if isFloatConversion(info, parent) {
				return true
			}
			count++
			if paren != nil {
				// (x*y) → T(x*y): the parentheses are the conversion's.
				edits = append(edits, edit{off: off(paren.Pos()), text: name, outer: off(paren.End()) - off(paren.Pos())})
				return true
			}
			start, end := off(x.Pos()), off(x.End())
			edits = append(edits, edit{off: start, text: name + "(", outer: end - start}, edit{off: end, text: ")", outer: end - start})
		case *ast.AssignStmt:
			if x.Tok != token.MUL_ASSIGN || len(x.Lhs) != 1 {
				return true
			}
			tv, ok := info.Types[x.Lhs[0]]
			if !ok {
				return true
			}
			name, ok := floatName(tv.Type, f, pkgName)
			if !ok || name == "" {
				return true
			}
			if !simple(x.Lhs[0]) {
				problems = append(problems, fmt.Sprintf("%s: %s *= with a computed operand: rewrite it as x = %s(x * y) by hand",
					position(fset, f, off(x.Pos())), name, name))
				return true
			}
			// x *= y  →  x = T(x * y), with y in parentheses unless an operand.
			count++
			lhs := string(nodeText(fset, f, x.Lhs[0]))
			open, close := "(", "))"
			if operand(x.Rhs[0]) {
				open, close = "", ")"
			}
			edits = append(edits,
				edit{off: off(x.TokPos), text: "= " + name + "(" + lhs + " * " + open, outer: 1},
				edit{off: off(x.Rhs[0].End()), text: close, outer: 1})
			// Remove the "*=" token: the opening edit replaces it (see apply).
			edits[len(edits)-2].text = "\x00" + edits[len(edits)-2].text
		}
		return true
	})
	return edits, count, problems
}

// operand reports whether e needs no parentheses as a factor.
func operand(e ast.Expr) bool {
	switch e.(type) {
	case *ast.Ident, *ast.BasicLit, *ast.SelectorExpr, *ast.IndexExpr, *ast.CallExpr, *ast.ParenExpr:
		return true
	}
	return false
}

// nodeText is the source text of n.
func nodeText(fset *token.FileSet, f *ast.File, n ast.Node) []byte {
	var b bytes.Buffer
	format.Node(&b, fset, n)
	return b.Bytes()
}

// simple reports whether evaluating e twice is the same as once: identifiers,
// selectors and index expressions of those and of constants, without calls.
func simple(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident, *ast.BasicLit:
		return true
	case *ast.SelectorExpr:
		return simple(x.X)
	case *ast.IndexExpr:
		return simple(x.X) && simple(x.Index)
	case *ast.ParenExpr:
		return simple(x.X)
	case *ast.StarExpr:
		return simple(x.X)
	case *ast.BinaryExpr:
		return simple(x.X) && simple(x.Y)
	}
	return false
}

// floatName returns how file f spells the floating-point type t ("float64",
// "float32", a named float type or alias, qualified as f imports its package), ok
// false when t is not a float type, and "" with ok when f cannot name it (its
// package is not imported).
func floatName(t types.Type, f *ast.File, pkgName string) (string, bool) {
	b, ok := t.Underlying().(*types.Basic)
	if !ok || b.Info()&types.IsFloat == 0 || b.Info()&types.IsUntyped != 0 {
		return "", false
	}
	var obj *types.TypeName
	switch t := t.(type) {
	case *types.Basic:
		return t.Name(), true
	case *types.Named:
		obj = t.Obj()
	case *types.Alias:
		obj = t.Obj()
	default:
		return "", true
	}
	if obj.Pkg() == nil || obj.Pkg().Name() == pkgName {
		return obj.Name(), true
	}
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != obj.Pkg().Path() {
			continue
		}
		name := obj.Pkg().Name()
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "_" || name == "." {
			return "", true
		}
		return name + "." + obj.Name(), true
	}
	return "", true
}

// powerOfTwo reports whether e is a constant ±2^k: the compiler turns x / e into
// the exact x * (1/e), which it may then fuse like any product.
func powerOfTwo(info *types.Info, e ast.Expr) bool {
	tv, ok := info.Types[e]
	if !ok || tv.Value == nil {
		return false
	}
	f, ok := constant.Float64Val(constant.ToFloat(tv.Value))
	if !ok || f == 0 {
		return false
	}
	frac, _ := math.Frexp(math.Abs(f))
	return frac == 0.5
}

// isFloatConversion reports whether n is a conversion to a floating-point type.
func isFloatConversion(info *types.Info, n ast.Node) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return false
	}
	tv, ok := info.Types[call.Fun]
	if !ok || !tv.IsType() {
		return false
	}
	b, ok := tv.Type.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsFloat != 0
}

// apply inserts the edits into src and formats the result. An opening whose text
// starts with NUL replaces the two bytes of a "*=" token at its offset.
func apply(src []byte, edits []edit) ([]byte, error) {
	sort.SliceStable(edits, func(i, j int) bool {
		a, b := edits[i], edits[j]
		if a.off != b.off {
			return a.off < b.off
		}
		// At one offset, closings before openings; an enclosing opening before the
		// ones it encloses and an enclosed closing before the enclosing one's.
		ac, bc := strings.HasSuffix(a.text, ")"), strings.HasSuffix(b.text, ")")
		if ac != bc {
			return ac
		}
		if ac {
			return a.outer < b.outer
		}
		return a.outer > b.outer
	})
	var out bytes.Buffer
	last := 0
	for _, e := range edits {
		out.Write(src[last:e.off])
		last = e.off
		text := e.text
		if strings.HasPrefix(text, "\x00") {
			text = text[1:]
			if !bytes.HasPrefix(src[e.off:], []byte("*=")) {
				return nil, fmt.Errorf("offset %d: expected *=", e.off)
			}
			last += 2
		}
		out.WriteString(text)
	}
	out.Write(src[last:])
	return format.Source(out.Bytes())
}
