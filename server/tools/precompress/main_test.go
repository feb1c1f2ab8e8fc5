package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestCompress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.wasm")
	data := bytes.Repeat([]byte("\x00asm some module bytes "), 1000)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := compress(path); err != nil {
		t.Fatal(err)
	}
	br, _ := os.ReadFile(path + ".br")
	got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	if err != nil || !bytes.Equal(got, data) || len(br) >= len(data)/10 {
		t.Fatalf("brotli copy: %d bytes, err %v", len(br), err)
	}
	gz, _ := os.ReadFile(path + ".gz")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("gzip copy: err %v", err)
	}
	if err := compress(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing file gave no error")
	}
}
