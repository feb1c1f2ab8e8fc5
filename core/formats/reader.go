package formats

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxRecord is the longest record (one JSON line, or one element of a JSON
// array) an importer accepts when Options.MaxRecord is 0: 64 MiB.
const DefaultMaxRecord = 64 << 20

// record is one unit of input: a non-blank JSON line, or one element of a top-level
// JSON array.
type record struct {
	line  int    // 1-based line on which the record starts
	index int    // 0-based position among the records of the input
	data  []byte // the record's bytes; valid until the next call of next
}

// recordReader yields records. next returns io.EOF after the last one. An error of
// type *LineError from next concerns one record and the reader can go on after it
// (a line that is too long); any other error is fatal.
type recordReader interface {
	next() (record, error)
}

// ErrParquet is returned for a Parquet file given to a JSON reader. The command line
// reads Parquet (it converts rows to records first, package server/parquet); the
// browser does not (see docs/formats.md, "Parquet").
var ErrParquet = errors.New("this is a Parquet file (it starts with PAR1), not JSON: import it with the command line, 'prefer import FILE.parquet -o FILE.snap', and open the snapshot here; or download the dataset's JSON lines")

// errFatal marks a structural error after which no further records can be read.
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }
func (e errFatal) Unwrap() error { return e.err }

// watchExpansion returns r, or, when warn is set, a reader that counts the bytes
// taken from r and the bytes decompressed from it (gzip, recognised as openRecords
// does) and calls warn once when the second passes ExpansionWarn × the first (and
// 1 MiB).
func watchExpansion(r io.Reader, warn func(string)) io.Reader {
	if warn == nil {
		return r
	}
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	if magic, _ := br.Peek(2); !IsGzip(magic) {
		return br
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return br // openRecords reports the corrupt header
	}
	zr.Multistream(true)
	return &expansionReader{zr: zr, in: cr, warn: warn}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// expansionReader decompresses and watches the ratio (its output is plain, so
// openRecords reads it as such).
type expansionReader struct {
	zr     *gzip.Reader
	in     *countingReader
	out    int64
	warned bool
	warn   func(string)
}

func (e *expansionReader) Read(p []byte) (int, error) {
	n, err := e.zr.Read(p)
	e.out += int64(n)
	if !e.warned && e.out > 1<<20 && e.out > ExpansionWarn*e.in.n {
		e.warned = true
		e.warn(fmt.Sprintf("the input has decompressed to %d MB from %d KB read so far (over %d×): a file of repeated records? It goes on; --max-records bounds it",
			e.out>>20, e.in.n>>10, ExpansionWarn))
	}
	return n, err
}

// IsGzip reports whether data starts with gzip's magic bytes (1f 8b): the readers
// undo gzip whatever a file is called.
func IsGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// openRecords prepares r for reading records: it decompresses gzip input (recognised
// by its magic bytes 1f 8b, whatever the file is called), skips a UTF-8 byte-order
// mark, and chooses between JSON lines and a JSON array by the first non-blank byte
// ('[' means an array; anything else is read as JSON lines).
func openRecords(r io.Reader, maxRecord int) (recordReader, error) {
	if maxRecord <= 0 {
		maxRecord = DefaultMaxRecord
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); IsGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open gzip input: %w", err)
		}
		zr.Multistream(true)
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	if magic, _ := br.Peek(4); string(magic) == "PAR1" {
		return nil, ErrParquet
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	// Find the first non-blank byte without consuming the lines before it.
	line := 1
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return &lineReader{br: br, line: line, max: maxRecord}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		switch c {
		case ' ', '\t', '\r':
			continue
		case '\n':
			line++
			continue
		case '[':
			return &arrayReader{br: br, line: line, max: maxRecord}, nil
		}
		br.UnreadByte()
		return &lineReader{br: br, line: line, max: maxRecord}, nil
	}
}

// lineReader reads JSON lines. Blank lines are skipped; a trailing '\r' is dropped.
type lineReader struct {
	br    *bufio.Reader
	line  int // number of the next line to read
	index int
	max   int
	buf   []byte
}

func (lr *lineReader) next() (record, error) {
	for {
		data, err := lr.readLine()
		if err != nil {
			return record{}, err
		}
		n := lr.line
		lr.line++
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		rec := record{line: n, index: lr.index, data: data}
		lr.index++
		return rec, nil
	}
}

// readLine returns the next line without its line ending. A line longer than max is
// consumed to its end and reported as a *LineError, so reading can go on.
func (lr *lineReader) readLine() ([]byte, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // +2: the "\r\n" that is dropped
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(chunk) == 0 && len(lr.buf) == 0 && !tooLong {
				return nil, io.EOF
			}
		case err != nil:
			return nil, errFatal{fmt.Errorf("line %d: read input: %w", lr.line, err)}
		}
		if tooLong {
			n := lr.line
			lr.line++
			lr.index++
			return nil, &LineError{Line: n, Msg: fmt.Sprintf("the line is longer than %d bytes; split it or raise the limit", lr.max)}
		}
		b := lr.buf
		if len(b) > 0 && b[len(b)-1] == '\n' {
			b = b[:len(b)-1]
		}
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		if len(b) > lr.max {
			n := lr.line
			lr.line++
			lr.index++
			return nil, &LineError{Line: n, Msg: fmt.Sprintf("the line is longer than %d bytes; split it or raise the limit", lr.max)}
		}
		return b, nil
	}
}

// arrayReader reads the elements of a top-level JSON array one at a time, without
// holding the whole array in memory. It finds each element's extent with a small
// scanner that knows strings and nesting; the element itself is decoded by the
// caller. Errors of structure (an unclosed array, a missing comma) are fatal.
type arrayReader struct {
	br    *bufio.Reader
	line  int // current line
	index int
	max   int
	buf   []byte
	done  bool
}

func (ar *arrayReader) fatal(format string, args ...any) error {
	return errFatal{&LineError{Line: ar.line, Msg: fmt.Sprintf(format, args...)}}
}

// skipSpace consumes blanks and returns the next other byte (consumed).
func (ar *arrayReader) skipSpace() (byte, error) {
	for {
		c, err := ar.br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r':
		case '\n':
			ar.line++
		default:
			return c, nil
		}
	}
}

func (ar *arrayReader) next() (record, error) {
	if ar.done {
		return record{}, io.EOF
	}
	c, err := ar.skipSpace()
	if err != nil {
		return record{}, ar.fatal("the JSON array is not closed: add the final ']'")
	}
	if ar.index > 0 {
		switch c {
		case ',':
			c, err = ar.skipSpace()
			if err != nil {
				return record{}, ar.fatal("the JSON array is not closed: add the final ']'")
			}
			if c == ']' {
				return record{}, ar.fatal("a ',' before ']' ends the array; remove the trailing comma")
			}
		case ']':
			return record{}, ar.finish()
		default:
			return record{}, ar.fatal("expected ',' or ']' after element %d, found %q", ar.index, c)
		}
	} else if c == ']' {
		return record{}, ar.finish()
	}
	rec := record{line: ar.line, index: ar.index}
	if err := ar.scanValue(c); err != nil {
		return record{}, err
	}
	rec.data = ar.buf
	ar.index++
	return rec, nil
}

// finish checks that only blanks follow the closing ']'.
func (ar *arrayReader) finish() error {
	ar.done = true
	c, err := ar.skipSpace()
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return errFatal{fmt.Errorf("line %d: read input: %w", ar.line, err)}
	}
	return ar.fatal("unexpected %q after the closing ']' of the array; a file holds one array", c)
}

// scanValue copies one JSON value starting with byte c into ar.buf.
func (ar *arrayReader) scanValue(c byte) error {
	ar.buf = append(ar.buf[:0], c)
	depth := 0
	switch c {
	case '{', '[':
		depth = 1
	case '"':
		if err := ar.scanString(); err != nil {
			return err
		}
		return nil
	default:
		// A scalar: read up to the next delimiter, which is left unread.
		for {
			b, err := ar.br.ReadByte()
			if err != nil {
				return ar.fatal("the JSON array is not closed: add the final ']'")
			}
			if b == ',' || b == ']' || b == ' ' || b == '\t' || b == '\r' || b == '\n' {
				ar.br.UnreadByte()
				return nil
			}
			if err := ar.put(b); err != nil {
				return err
			}
		}
	}
	for depth > 0 {
		b, err := ar.br.ReadByte()
		if err != nil {
			return ar.fatal("element %d is not closed before the end of the input", ar.index+1)
		}
		if err := ar.put(b); err != nil {
			return err
		}
		switch b {
		case '\n':
			ar.line++
		case '"':
			if err := ar.scanString(); err != nil {
				return err
			}
		case '{', '[':
			depth++
			if depth > maxDepth {
				return ar.fatal("element %d nests deeper than %d levels", ar.index+1, maxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// scanString copies the rest of a JSON string (after its opening quote).
func (ar *arrayReader) scanString() error {
	escaped := false
	for {
		b, err := ar.br.ReadByte()
		if err != nil {
			return ar.fatal("a string in element %d is not closed before the end of the input", ar.index+1)
		}
		if err := ar.put(b); err != nil {
			return err
		}
		switch {
		case escaped:
			escaped = false
		case b == '\\':
			escaped = true
		case b == '"':
			return nil
		case b == '\n':
			ar.line++
		}
	}
}

func (ar *arrayReader) put(b byte) error {
	if len(ar.buf) >= ar.max {
		return ar.fatal("element %d is longer than %d bytes; split the file or raise the limit", ar.index+1, ar.max)
	}
	ar.buf = append(ar.buf, b)
	return nil
}

// maxDepth bounds the nesting of one record.
const maxDepth = 64

// isFatal reports whether err stops reading.
func isFatal(err error) bool {
	var le *LineError
	return !errors.As(err, &le) || errors.As(err, new(errFatal))
}
