// Command precompress writes a brotli (.br) and a gzip (.gz) copy next to each file
// it is given, at the best compression levels, for the server to send by
// Accept-Encoding (server/api.Assets). A copy is written through a temporary file and
// renamed, so an interrupted run never leaves a truncated one.
//
//	go run ./server/tools/precompress static/web/app.wasm static/web/worker.wasm
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/andybalholm/brotli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: precompress FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := compress(path); err != nil {
			fmt.Fprintf(os.Stderr, "precompress: %v\n", err)
			os.Exit(1)
		}
	}
}

// compress writes path.br and path.gz and reports the sizes.
func compress(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var br bytes.Buffer
	// Window 2^24 (the format's largest; every browser decodes it) finds repeats
	// across the whole wasm binary: ~30 KB smaller than the default 2^22.
	bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24})
	if _, err := bw.Write(data); err != nil {
		return err
	}
	if err := bw.Close(); err != nil {
		return err
	}
	var gz bytes.Buffer
	gw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := gw.Write(data); err != nil {
		return err
	}
	if err := gw.Close(); err != nil {
		return err
	}
	if err := check(data, br.Bytes(), gz.Bytes()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, out := range []struct {
		ext  string
		data []byte
	}{{".br", br.Bytes()}, {".gz", gz.Bytes()}} {
		if err := writeAtomic(path+out.ext, out.data); err != nil {
			return err
		}
	}
	fmt.Printf("%s: %d bytes, brotli %d (%.0f%%), gzip %d (%.0f%%)\n", path, len(data),
		br.Len(), 100*float64(br.Len())/float64(max(len(data), 1)),
		gz.Len(), 100*float64(gz.Len())/float64(max(len(data), 1)))
	return nil
}

// check decompresses both copies and compares them with the original.
func check(data, br, gz []byte) error {
	got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("brotli copy does not decompress to the original (%v)", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	got, err = io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("gzip copy does not decompress to the original (%v)", err)
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
