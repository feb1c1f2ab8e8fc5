// Command simdgen writes Prefer's SIMD kernel module (package core/simd/module) to
// a file: static/web/simd.wasm, which is committed and which `make` rewrites when
// the generator changes (the bytes are a pure function of the generator, so the
// rewrite is a no-op otherwise; core/simd's TestModuleUpToDate fails when the
// committed file differs).
//
//	go run ./server/tools/simdgen static/web/simd.wasm
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"prefer/core/simd/module"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: simdgen FILE")
		os.Exit(2)
	}
	if err := write(os.Args[1], module.Bytes()); err != nil {
		fmt.Fprintf(os.Stderr, "simdgen: %v\n", err)
		os.Exit(1)
	}
}

// write replaces path with data through a temporary file, so an interrupted run
// never leaves a truncated module.
func write(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".simd-*.wasm")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
