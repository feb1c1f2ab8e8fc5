// Package parquet reads and writes the Parquet files of preference datasets for the
// prefer command: the Hugging Face Hub's native format (every dataset's
// refs/convert/parquet branch). It is a thin adapter over
// github.com/parquet-go/parquet-go between Parquet rows and the JSON records that
// package core/formats reads and writes:
//
//   - Records turns a Parquet file into JSON lines, one object per row (column names
//     are keys; nested groups objects, LIST columns arrays), streamed a batch of rows
//     at a time, so every tabular format of core/formats reads Parquet as it reads
//     JSON lines, and a record's "line" is its row (1-based).
//   - Write turns the JSON lines of an export (trl, trl-conversational, kto,
//     hh-rlhf) into a Parquet file with the column types the Hub's datasets use
//     (strings, doubles, booleans, lists of {content, role} messages).
//
// The browser does not link this package: parquet-go adds about 9 MB to a wasm
// binary (2.2 MB gzipped), more than the whole training worker (docs/formats.md,
// "Parquet"). The Data page sends Parquet files to the command line.
package parquet

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	pq "github.com/parquet-go/parquet-go"
)

// Magic is the first (and last) four bytes of a Parquet file.
const Magic = "PAR1"

// IsParquet reports whether head, the first bytes of a file, start a Parquet file.
func IsParquet(head []byte) bool { return bytes.HasPrefix(head, []byte(Magic)) }

// batch is the number of rows decoded at a time.
const batch = 256

// Records returns the rows of the Parquet file r (of the given size) as JSON lines,
// and the number of rows. A file that is not Parquet, or whose footer is damaged, is
// an error here; a row that cannot be decoded ends the stream with an error naming
// it. Close the reader when done (early, too: it stops the decoding).
func Records(r io.ReaderAt, size int64) (io.ReadCloser, int64, error) {
	f, err := openFile(r, size)
	if err != nil {
		return nil, 0, err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeRecords(pw, f))
	}()
	return pr, f.NumRows(), nil
}

// openFile opens a Parquet file; a damaged footer is an error (parquet-go panics on
// some).
func openFile(r io.ReaderAt, size int64) (f *pq.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("read the Parquet file: its footer is damaged (%v)", p)
		}
	}()
	f, err = pq.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("read the Parquet file: %w", err)
	}
	return f, nil
}

// writeRecords writes the rows of f to w as JSON lines.
func writeRecords(w io.Writer, f *pq.File) (err error) {
	defer func() {
		// The decoder panics on some malformed pages: a bad file is an error, not a
		// crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("read the Parquet file: a damaged page (%v)", p)
		}
	}()
	rd := pq.NewGenericReader[map[string]any](f, f.Schema())
	defer rd.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	rows := make([]map[string]any, batch)
	row := 0
	for {
		for i := range rows {
			rows[i] = map[string]any{}
		}
		n, rerr := rd.Read(rows)
		for i := 0; i < n; i++ {
			row++
			if err := enc.Encode(jsonable(rows[i])); err != nil {
				return fmt.Errorf("row %d: %w", row, err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			return bw.Flush()
		}
		if rerr != nil {
			return fmt.Errorf("read the Parquet file after row %d: %w", row, rerr)
		}
	}
}

// jsonable turns what parquet-go decodes into values encoding/json writes as a JSON
// dataset would have them: byte strings as text.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case []byte:
		return string(x)
	}
	return v
}

// Formats lists the export formats Write takes.
var Formats = []string{"trl", "trl-conversational", "kto", "hh-rlhf"}

// Message is a chat message column: Hub datasets write {content, role}.
type Message struct {
	Content string `parquet:"content" json:"content"`
	Role    string `parquet:"role" json:"role"`
}

type trlRow struct {
	Prompt   string `parquet:"prompt" json:"prompt"`
	Chosen   string `parquet:"chosen" json:"chosen"`
	Rejected string `parquet:"rejected" json:"rejected"`
}

type trlMarginRow struct {
	Prompt   string  `parquet:"prompt" json:"prompt"`
	Chosen   string  `parquet:"chosen" json:"chosen"`
	Rejected string  `parquet:"rejected" json:"rejected"`
	Margin   float64 `parquet:"margin" json:"margin"`
}

type chatRow struct {
	Prompt   []Message `parquet:"prompt,list" json:"prompt"`
	Chosen   []Message `parquet:"chosen,list" json:"chosen"`
	Rejected []Message `parquet:"rejected,list" json:"rejected"`
}

type chatMarginRow struct {
	Prompt   []Message `parquet:"prompt,list" json:"prompt"`
	Chosen   []Message `parquet:"chosen,list" json:"chosen"`
	Rejected []Message `parquet:"rejected,list" json:"rejected"`
	Margin   float64   `parquet:"margin" json:"margin"`
}

type ktoRow struct {
	Prompt     string `parquet:"prompt" json:"prompt"`
	Completion string `parquet:"completion" json:"completion"`
	Label      bool   `parquet:"label" json:"label"`
}

type hhRow struct {
	Chosen   string `parquet:"chosen" json:"chosen"`
	Rejected string `parquet:"rejected" json:"rejected"`
}

// Write converts the JSON lines of an export in the named format (one of Formats)
// into a Parquet file on w, one row per line, columns in the format's order. It
// returns the number of rows.
func Write(w io.Writer, format string, jsonl []byte) (int, error) {
	margin := bytes.Contains(firstLine(jsonl), []byte(`"margin":`))
	switch {
	case format == "trl" && margin:
		return convert[trlMarginRow](w, jsonl)
	case format == "trl":
		return convert[trlRow](w, jsonl)
	case format == "trl-conversational" && margin:
		return convert[chatMarginRow](w, jsonl)
	case format == "trl-conversational":
		return convert[chatRow](w, jsonl)
	case format == "kto":
		return convert[ktoRow](w, jsonl)
	case format == "hh-rlhf":
		return convert[hhRow](w, jsonl)
	}
	return 0, fmt.Errorf("Parquet holds the trainer formats (%v), not %q; export %s as JSON lines", Formats, format, format)
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// convert decodes each JSON line as T and writes the rows as Parquet.
func convert[T any](w io.Writer, jsonl []byte) (int, error) {
	pw := pq.NewGenericWriter[T](w, pq.Compression(&pq.Zstd))
	rows := make([]T, 0, batch)
	n := 0
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if _, err := pw.Write(rows); err != nil {
			return fmt.Errorf("write Parquet: %w", err)
		}
		n += len(rows)
		rows = rows[:0]
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(jsonl))
	sc.Buffer(nil, len(jsonl)+1)
	for sc.Scan() {
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return 0, fmt.Errorf("write Parquet: row %d: %w", n+len(rows)+1, err)
		}
		if rows = append(rows, r); len(rows) == batch {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := pw.Close(); err != nil {
		return 0, fmt.Errorf("write Parquet: %w", err)
	}
	return n, nil
}
