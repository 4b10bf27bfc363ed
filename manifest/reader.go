package manifest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Reader streams the rows of a manifest. It is not safe for concurrent use:
// one producer reads it.
//
// BUG(lsqupload): after a quote that is never closed, the rest of the
// manifest passes through memory while its rows are recovered: a 22 MB
// manifest with a stray quote on its first row peaked at 180 MB.
type Reader struct {
	csv    *csv.Reader
	tape   *tape
	closer io.Closer
	header Header
	check  checker
	blank  int

	// recovered holds the lines a malformed record swallowed, read as
	// rows of their own one at a time before reading on: kept as text,
	// which costs far less than records.
	recovered []string

	// recoveredLine is the line number of recovered[0].
	recoveredLine int
}

// Options tunes how rows are validated. The zero value applies defaults.
type Options struct {
	// Dir is the folder relative file paths are resolved against; Open
	// sets it to the manifest's own folder.
	Dir string

	// Drop names columns that are not the manifest's own (our result
	// columns when an output is fed back in); they are left out of rows.
	Drop []string

	// MaxFileSize rejects larger files; 0 means DefaultMaxFileSize and a
	// negative value means no limit.
	MaxFileSize int64

	// Extensions lists the allowed file extensions without dots; nil means
	// DefaultExtensions and a list holding "*" allows any extension.
	Extensions []string
}

// DefaultMaxFileSize is the conservative per-file limit applied before
// sending: public clients cap identity documents at 10 to 16 MB.
const DefaultMaxFileSize = 10 << 20

// DefaultExtensions are the file types public clients accept for identity
// documents.
var DefaultExtensions = []string{"pdf", "jpg", "jpeg", "png"}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Open opens the manifest at path and reads its header. Relative file
// paths in it resolve against the manifest's folder unless opts.Dir is set.
func Open(path string, opts Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open manifest: %w", err)
	}

	if opts.Dir == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("open manifest: %w", err)
		}
		opts.Dir = filepath.Dir(abs)
	}

	r, err := NewReader(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// NewReader reads a manifest's header from in and returns a Reader for its
// rows. A header without the required columns is an error wrapping
// ErrHeader.
func NewReader(in io.Reader, opts Options) (*Reader, error) {
	buf := bufio.NewReaderSize(in, 64<<10)
	if err := skipBOM(buf); err != nil {
		return nil, err
	}

	var src io.Reader = buf
	if loneCR(buf) {
		// Old Mac text ends lines in a lone CR, which the CSV reader does
		// not see as a line end: read each CR as a LF.
		src = &crReader{r: buf}
	}
	t := &tape{r: src}
	cr := csv.NewReader(t)
	cr.FieldsPerRecord = -1
	raw, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the manifest is empty", ErrHeader)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHeader, err)
	}

	h, err := ParseHeader(raw, opts.Drop)
	if err != nil {
		return nil, err
	}
	t.trim(cr.InputOffset())
	return &Reader{csv: cr, tape: t, header: h, check: newChecker(opts)}, nil
}

// skipBOM drops a UTF-8 byte-order mark and refuses UTF-16 text, which
// spreadsheets produce as "Unicode text" and which no header would match.
func skipBOM(buf *bufio.Reader) error {
	head, _ := buf.Peek(3)
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		_, err := buf.Discard(len(bomUTF8))
		return err
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE):
		return fmt.Errorf("%w: the manifest is UTF-16 text; save it as CSV (UTF-8)", ErrHeader)
	}
	return nil
}

// Header returns the manifest's columns.
func (r *Reader) Header() Header { return r.header }

// Blank returns how many rows without any value were skipped so far.
func (r *Reader) Blank() int { return r.blank }

// Close closes the underlying file, if Open opened it.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Next returns the next row, or io.EOF after the last one. A row that
// cannot be parsed or fails validation is returned with Err set: it is a
// result to report, not a reason to stop. Rows without any value are
// skipped. Only a failure to read the manifest itself is returned as error.
func (r *Reader) Next() (*Row, error) {
	for {
		line, rec, err := r.read()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}

		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return r.unparsable(perr), nil
		}
		if err != nil {
			return nil, fmt.Errorf("read manifest: %w", err)
		}

		if isBlank(rec) {
			r.blank++
			continue
		}
		return r.row(line, rec), nil
	}
}

// read returns the next record, recovered ones first, and the line it
// starts on.
func (r *Reader) read() (int, []string, error) {
	for len(r.recovered) > 0 {
		line, rec := r.recoveredLine, lenient(r.recovered[0])
		r.recovered[0] = "" // let the line's text go
		r.recovered, r.recoveredLine = r.recovered[1:], r.recoveredLine+1
		if rec != nil {
			return line, rec, nil
		}
	}

	rec, err := r.csv.Read()
	if err != nil {
		return 0, nil, err
	}
	line, _ := r.csv.FieldPos(0)
	if last, ok := r.swallowedRows(rec); ok {
		return 0, nil, &csv.ParseError{StartLine: line, Line: last, Err: errSwallowed}
	}
	r.tape.trim(r.csv.InputOffset())
	return line, rec, nil
}

// errSwallowed marks a record whose quoted value spans lines that read as
// rows of their own: a quote left open by mistake and closed by a later
// line's quote, which would hide those rows inside one value.
var errSwallowed = errors.New("a quoted value spans lines that look like rows of their own " +
	"(an unbalanced quote?)")

// swallowedRows reports whether rec holds a value with line breaks after
// which a line reads as a row (a file path, and an Id where the header
// puts them), and returns the record's last line. An address or a note
// written over several lines has no Id in that place.
func (r *Reader) swallowedRows(rec []string) (last int, ok bool) {
	if !slices.ContainsFunc(rec, func(c string) bool { return strings.Contains(c, "\n") }) {
		return 0, false
	}
	lines := r.tape.lines(r.csv.InputOffset())
	for _, l := range lines[min(1, len(lines)):] {
		if r.looksLikeRow(lenient(l)) {
			first, _ := r.csv.FieldPos(0)
			return first + len(lines) - 1, true
		}
	}
	return 0, false
}

// looksLikeRow reports whether cells, read from one line, hold a file
// path, a lead Id or event code and two schema names in the header's
// places for them.
func (r *Reader) looksLikeRow(cells []string) bool {
	cell := func(col string) string {
		if i := r.header.Index(col); i >= 0 && r.header.source[i] < len(cells) {
			return strings.TrimSpace(cells[r.header.source[i]])
		}
		return ""
	}
	id := cell(ColID)
	return cell(ColFilePath) != "" && (guidRE.MatchString(id) || eventCodeRE.MatchString(id)) &&
		schemaRE.MatchString(cell(ColSchemaName)) &&
		schemaRE.MatchString(cell(ColEntitySchemaName))
}

// row maps and validates one parsed record.
func (r *Reader) row(line int, rec []string) *Row {
	row := &Row{Line: line, Record: r.own(rec)}
	if extra := r.extraCells(rec); extra != "" {
		row.Err = &RowError{Line: line, Err: errors.New(extra)}
		return row
	}

	fields, err := r.fields(row.Record)
	if err != nil {
		row.Err = &RowError{Line: line, Err: err}
		return row
	}
	row.Fields = fields
	r.check.validate(row)
	return row
}

// own picks the manifest's own cells out of a raw record, padding a short
// record with empty cells.
func (r *Reader) own(rec []string) []string {
	out := make([]string, len(r.header.Own))
	for i, src := range r.header.source {
		if src < len(rec) {
			out[i] = rec[src]
		}
	}
	return out
}

// extraCells describes non-empty cells beyond the header's width, which
// would otherwise be lost without a column to carry them.
func (r *Reader) extraCells(rec []string) string {
	width := r.header.width
	for i := width; i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			return fmt.Sprintf("%d fields but the header names %d: value %q in field %d "+
				"has no column (an unquoted comma?)", len(rec), width, rec[i], i+1)
		}
	}
	return ""
}

// unparsable turns a CSV syntax error into a rejected row at the line
// where the record starts. The record's text is read again leniently, so
// the row keeps its cells in the outputs (and the failures CSV can be
// fixed and rerun); when an unclosed quote swallowed the lines after it,
// those lines are recovered as rows of their own.
func (r *Reader) unparsable(perr *csv.ParseError) *Row {
	msg := fmt.Sprintf("malformed CSV at line %d, byte %d: %v", perr.Line, perr.Column, perr.Err)
	if errors.Is(perr.Err, errSwallowed) {
		msg = fmt.Sprintf("malformed CSV at lines %d to %d: %v", perr.StartLine, perr.Line,
			perr.Err)
	}
	lines := r.tape.lines(r.csv.InputOffset())
	r.tape.trim(r.csv.InputOffset())

	row := &Row{Line: perr.StartLine, Record: make([]string, len(r.header.Own))}
	if len(lines) > 0 {
		if rec := lenient(lines[0]); rec != nil {
			row.Record = r.own(rec)
		}
	}
	if len(lines) > 1 {
		if !errors.Is(perr.Err, errSwallowed) {
			msg += fmt.Sprintf("; a quote opened on line %d is never closed", perr.StartLine)
		}
		msg += fmt.Sprintf("; lines %d to %d were read again as rows of their own",
			perr.StartLine+1, perr.StartLine+len(lines)-1)
		r.recovered, r.recoveredLine = lines[1:], perr.StartLine+1
	}
	row.Err = &RowError{Line: perr.StartLine, Err: errors.New(msg)}
	return row
}

// lenient parses one line of CSV, tolerating stray quotes; nil for a line
// without any cell.
func lenient(line string) []string {
	cr := csv.NewReader(strings.NewReader(line))
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil
	}
	return rec
}

// isBlank reports whether every cell of rec is empty or spaces, as in the
// ",,,," rows spreadsheets leave behind.
func isBlank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// Rest reads the remaining records without validating them and returns
// how many hold a value: the rows a stopped run leaves for the next one.
func (r *Reader) Rest() (int, error) {
	n := 0
	for {
		_, rec, err := r.read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			r.unparsable(perr) // queues what it recovers, to be counted too
			n++
			continue
		}
		if err != nil {
			return n, fmt.Errorf("read manifest: %w", err)
		}
		if !isBlank(rec) {
			n++
		}
	}
}

// tape keeps the text the CSV reader has consumed since the end of the
// last whole record, so a malformed record can be read again. It holds
// one record and the reader's read-ahead, never the whole manifest.
type tape struct {
	r    io.Reader
	buf  []byte
	base int64 // input offset of buf[0]
}

func (t *tape) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// trim forgets the text before input offset off.
func (t *tape) trim(off int64) {
	if drop := off - t.base; drop > 0 && drop <= int64(len(t.buf)) {
		t.buf = append(t.buf[:0], t.buf[drop:]...)
		t.base = off
	}
}

// lines returns the physical lines from the kept start up to input offset
// end, without their line ends.
func (t *tape) lines(end int64) []string {
	n := end - t.base
	if n <= 0 || n > int64(len(t.buf)) {
		return nil
	}
	text := strings.TrimSuffix(string(t.buf[:n]), "\n")
	out := strings.Split(text, "\n")
	for i, l := range out {
		out[i] = strings.TrimSuffix(l, "\r")
	}
	// The CSV reader skips empty lines between records: the record
	// starts at the first line with text.
	for len(out) > 1 && out[0] == "" {
		out = out[1:]
	}
	return out
}

// loneCR reports whether the text ahead ends its lines in lone carriage
// returns: it has a CR and no LF in its first 64 KiB.
func loneCR(buf *bufio.Reader) bool {
	head, _ := buf.Peek(64 << 10)
	return bytes.IndexByte(head, '\r') >= 0 && bytes.IndexByte(head, '\n') < 0
}

// crReader reads each CR as a LF.
type crReader struct{ r io.Reader }

func (c *crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}
