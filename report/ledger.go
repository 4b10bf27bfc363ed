package report

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
)

// ErrNotResults means a file named as the results file holds something
// else; lsqupload refuses to append to it or rewrite it.
var ErrNotResults = errors.New("not an lsqupload results file")

// openResults opens the results file for appending and returns where this
// run's rows begin. A new file gets the header. An existing one keeps its
// rows, less a torn last line; if its header differs from header (the
// manifest's columns changed) its rows are rewritten under the new header.
func openResults(path string, header []string, columnKey func(string) string) (f *os.File,
	start, cut int64, err error) {
	info, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, 0, 0, fmt.Errorf("open results: %w", err)
	}
	var old []string
	if err == nil && info.Size() > 0 {
		if old, err = readHeader(path); err != nil {
			return nil, 0, 0, err
		}
		if cut, err = cutTornTail(path); err != nil {
			return nil, 0, 0, err
		}
	}
	if info, err = os.Stat(path); err != nil || info.Size() == 0 {
		f, start, err = createResults(path, header)
		return f, start, cut, err
	}

	if !slices.Equal(old, header) || hasBOM(path) {
		if err := rewriteUnder(path, header, columnKey); err != nil {
			return nil, 0, 0, err
		}
	}
	f, start, err = appendTo(path)
	return f, start, cut, err
}

func createResults(path string, header []string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return nil, 0, fmt.Errorf("create results: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write(header) //nolint:errcheck // reported by Error below
	w.Flush()
	if err := errors.Join(w.Error(), f.Sync()); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("create results: %w", err)
	}
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("create results: %w", err)
	}
	return f, start, nil
}

func appendTo(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, fileMode)
	if err != nil {
		return nil, 0, fmt.Errorf("open results: %w", err)
	}
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open results: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open results: %w", err)
	}
	return f, info.Size(), nil
}

// cutTornTail removes a last record a crash left half-written, and
// returns how many bytes it removed: a last line without its line end, or
// a last record whose quoted cell never closes (a cell holding a line
// break may have been cut after one). The row it held is simply done
// again.
func cutTornTail(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("open results: %w", err)
	}
	defer f.Close()

	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size == 0 {
		return 0, err
	}
	keep, err := lastLineEnd(f, size)
	if err != nil {
		return 0, err
	}
	if keep, err = lastWholeRecord(f, keep); err != nil || keep == size {
		return 0, err
	}
	if err := f.Truncate(keep); err != nil {
		return 0, fmt.Errorf("cut torn line of results: %w", err)
	}
	return size - keep, f.Sync()
}

// lastWholeRecord returns the end of the last record that parses, when
// the file's first size bytes end inside an open quote; otherwise size.
func lastWholeRecord(f *os.File, size int64) (int64, error) {
	in := csv.NewReader(io.NewSectionReader(f, 0, size))
	in.FieldsPerRecord = -1
	var good int64
	for {
		_, err := in.Read()
		switch {
		case errors.Is(err, io.EOF):
			return size, nil
		case errors.Is(err, csv.ErrQuote):
			if _, next := in.Read(); errors.Is(next, io.EOF) {
				return good, nil
			}
		case err != nil && !errors.As(err, new(*csv.ParseError)):
			return 0, fmt.Errorf("read results: %w", err)
		}
		good = in.InputOffset()
	}
}

// lastLineEnd returns the offset just past the file's last '\n'.
func lastLineEnd(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil {
			return 0, fmt.Errorf("read results: %w", err)
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// readHeader returns the header of one of our outputs, less a byte-order
// mark a spreadsheet may have added when it saved the file.
func readHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()

	rec, err := newCSVReader(f).Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrNotResults, err)
	}
	for _, col := range resultColumns {
		if !slices.Contains(rec, col) {
			return nil, fmt.Errorf("%s: %w (no %q column); name another --results",
				path, ErrNotResults, col)
		}
	}
	return rec, nil
}

// rewriteUnder rewrites the results file's rows under a new header,
// matching columns whose columnKey is equal (so FilePath and file_path
// match), through a temporary file renamed into place.
func rewriteUnder(path string, header []string, columnKey func(string) string) error {
	if columnKey == nil {
		columnKey = func(s string) string { return s }
	}
	return rewrite(path, func(in *csv.Reader, out *csv.Writer) error {
		old, err := in.Read()
		if err != nil {
			return err
		}
		oldKeys := make([]string, len(old))
		for i, col := range old {
			oldKeys[i] = columnKey(col)
		}
		pos := make([]int, len(header))
		for i, col := range header {
			pos[i] = slices.Index(oldKeys, columnKey(col))
		}
		if err := out.Write(header); err != nil {
			return err
		}
		return copyRecords(in, out, func(rec []string) []string {
			row := make([]string, len(header))
			for i, p := range pos {
				if p >= 0 && p < len(rec) {
					row[i] = rec[p]
				}
			}
			return row
		})
	})
}

// RowKey identifies the row a results record belongs to (its target and
// file) and says whether the record settles it for good (uploaded or
// skipped). ok is false for a record that names no row.
type RowKey func(header, rec []string) (key string, done, ok bool)

// compact rewrites the results file so that each row appears once: this
// run's records (from offset start on) and, from earlier runs, the records
// of rows this run did not settle again; after a complete run only the
// settled ones among those. Without it a nightly
// results file would grow by a whole manifest every night; with it, a
// results file shared by a manifest and its failures rerun stays whole.
func compact(path string, start int64, keyOf RowKey, complete bool) error {
	if keyOf == nil {
		keyOf = func(_, _ []string) (string, bool, bool) { return "", false, false }
	}
	fresh, err := freshKeys(path, start, keyOf)
	if err != nil {
		return err
	}
	return rewrite(path, func(in *csv.Reader, out *csv.Writer) error {
		header, err := in.Read()
		if err != nil {
			return err
		}
		if err := out.Write(header); err != nil {
			return err
		}
		for in.InputOffset() < start {
			rec, err := in.Read()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if isParseError(err) {
				continue
			}
			if err != nil {
				return err
			}
			key, settled, ok := keyOf(header, rec)
			if keep := !ok || !fresh[key]; keep && (settled || !complete) {
				if err := out.Write(rec); err != nil {
					return err
				}
			}
		}
		return copyRecords(in, out, func(rec []string) []string { return rec })
	})
}

// freshKeys returns the keys of the records from offset start on that
// supersede earlier ones: settled rows, and rows that sent something and
// failed. A row rejected or left unsent this time (its file share was not
// mounted, say) does not erase an earlier upload.
func freshKeys(path string, start int64, keyOf RowKey) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("compact results: %w", err)
	}
	defer f.Close()

	in := csv.NewReader(f)
	in.FieldsPerRecord = -1
	header, err := in.Read()
	if err != nil {
		return nil, fmt.Errorf("compact results: %w", err)
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("compact results: %w", err)
	}
	in = csv.NewReader(f)
	in.FieldsPerRecord = -1

	status, attempts := slices.Index(header, "status"), slices.Index(header, "attempts")
	keys := map[string]bool{}
	err = copyRecords(in, nil, func(rec []string) []string {
		key, settled, ok := keyOf(header, rec)
		sent := attempts >= 0 && attempts < len(rec) && rec[attempts] != "0" &&
			status >= 0 && status < len(rec) && rec[status] == string(StatusFailed)
		if ok && (settled || sent) {
			keys[key] = true
		}
		return nil
	})
	return keys, err
}

func copyRecords(in *csv.Reader, out *csv.Writer, mapRec func([]string) []string) error {
	for {
		rec, err := in.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if isParseError(err) {
			continue // a hand-edited line: at worst its row is done again
		}
		if err != nil {
			return err
		}
		row := mapRec(rec)
		if out == nil {
			continue
		}
		if err := out.Write(row); err != nil {
			return err
		}
	}
}

// rewrite replaces path with what fn writes, through a temporary file in
// the same folder, synced and renamed, so a crash leaves old or new whole.
func rewrite(path string, fn func(*csv.Reader, *csv.Writer) error) error {
	src, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("rewrite results: %w", err)
	}
	defer src.Close()

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("rewrite results: %w", err)
	}
	defer os.Remove(tmp.Name())

	in := newCSVReader(src)
	out := csv.NewWriter(tmp)
	err = fn(in, out)
	out.Flush()
	err = errors.Join(err, out.Error(), tmp.Chmod(fileMode), tmp.Sync(), tmp.Close())
	if err != nil {
		return fmt.Errorf("rewrite results %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rewrite results: %w", err)
	}
	return nil
}

// newCSVReader reads CSV from r, past a byte-order mark, with records of
// any length.
func newCSVReader(r io.Reader) *csv.Reader {
	buf := bufio.NewReader(r)
	if head, _ := buf.Peek(3); bytes.Equal(head, []byte{0xEF, 0xBB, 0xBF}) {
		buf.Discard(3) //nolint:errcheck // peeked: the bytes are there
	}
	in := csv.NewReader(buf)
	in.FieldsPerRecord = -1
	in.LazyQuotes = true // a file edited by hand may have a stray quote
	return in
}

func isParseError(err error) bool {
	var perr *csv.ParseError
	return errors.As(err, &perr)
}

// hasBOM reports whether the file at path starts with a byte-order mark.
func hasBOM(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 3)
	n, _ := io.ReadFull(f, head)
	return bytes.Equal(head[:n], []byte{0xEF, 0xBB, 0xBF})
}

// dropTornHeader empties a results file that holds nothing but the start
// of header, which a crash while creating it leaves behind, so that it is
// created afresh instead of refused as not ours.
func dropTornHeader(path string, header []string) error {
	var want bytes.Buffer
	w := csv.NewWriter(&want)
	w.Write(header) //nolint:errcheck // a bytes.Buffer does not fail
	w.Flush()

	// A torn header is shorter than the header: reading that much tells,
	// without reading a results file that may hold a million rows.
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	data := make([]byte, want.Len())
	n, _ := io.ReadFull(f, data)
	f.Close()
	data = data[:n]
	if n == 0 || n == want.Len() || !bytes.HasPrefix(want.Bytes(), data) {
		return nil
	}
	if err := os.Truncate(path, 0); err != nil {
		return fmt.Errorf("open results: %w", err)
	}
	return nil
}
