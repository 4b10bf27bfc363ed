package batch

import (
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/report"
)

// Error types of skipped rows.
const (
	TypeAlreadyUploaded = "already_uploaded"
	TypeDuplicate       = "duplicate"
)

// uploadedOn starts the message of a row skipped as already uploaded; the
// date after it is read back by LoadLedger.
const uploadedOn = "already uploaded on "

// rowKey identifies a row's target and file: the entity, record Id, both
// schema names and the file's path relative to the results file's folder
// (so a tree moved whole keeps its ledger), hashed to keep a million-row
// ledger small.
type rowKey [16]byte

func keyOf(entity manifest.Entity, id, schema, entitySchema, path string) rowKey {
	h := sha256.New()
	for _, part := range []string{entity.String(), strings.ToLower(id), schema, entitySchema,
		path} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	var k rowKey
	copy(k[:], h.Sum(nil))
	return k
}

// rowKeyOf keys a manifest row, its path taken relative to dir.
func rowKeyOf(row *manifest.Row, dir string) rowKey {
	return keyOf(row.Entity, row.Fields.ID, row.Fields.SchemaName,
		row.Fields.EntitySchemaName, relativeTo(dir, row.Path))
}

// relativeTo returns abs relative to dir, or abs when dir is empty or no
// relative path exists.
func relativeTo(dir, abs string) string {
	if dir == "" {
		return abs
	}
	if rel, err := filepath.Rel(dir, abs); err == nil {
		return rel
	}
	return abs
}

// done is what the ledger knows of an uploaded row, kept small: a million
// of them stay in memory during a run.
type done struct {
	size  int64
	mtime int64 // modification time, Unix nanoseconds

	// info holds the upload's date and the stored name, joined by a NUL.
	info string
}

func (d done) on() string {
	on, _, _ := strings.Cut(d.info, "\x00")
	return on
}

func (d done) stored() string {
	_, stored, _ := strings.Cut(d.info, "\x00")
	return stored
}

// Ledger holds the rows that earlier runs recorded as uploaded, read from
// a results file. A manifest row whose target and file (size and
// modification time) match one of them is not sent again.
//
// BUG(lsqupload): the ledger is held in memory: a resume over 50,000
// uploaded rows peaked at 28 MB of resident memory in all, so a million
// rows need some 400 MB.
type Ledger struct {
	rows map[rowKey]done

	// dir is the results file's folder, which row paths are keyed from.
	dir string

	// destinations counts the done rows by the endpoint they went to.
	destinations map[string]int
}

// Len returns the number of uploaded rows the ledger holds.
func (l *Ledger) Len() int {
	if l == nil {
		return 0
	}
	return len(l.rows)
}

// Foreign returns the destinations other than dest that the ledger's
// uploads went to, sorted. Rows uploaded elsewhere (a sandbox, another
// account's host) must not count as uploaded here.
func (l *Ledger) Foreign(dest string) []string {
	var out []string
	for d := range l.destinations {
		if d != dest && d != "" {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// keyDir is the folder row paths are keyed from; "" without a ledger.
func (l *Ledger) keyDir() string {
	if l == nil {
		return ""
	}
	return l.dir
}

// lookup returns the earlier upload of row, if its file is unchanged.
func (l *Ledger) lookup(row *manifest.Row) (done, bool) {
	if l == nil {
		return done{}, false
	}
	d, ok := l.rows[rowKeyOf(row, l.dir)]
	if !ok || d.size != row.Size || d.mtime != row.ModTime.UnixNano() {
		return done{}, false
	}
	return d, true
}

// LoadLedger reads the uploaded rows of the results file at path. A
// missing file is an empty ledger. Rows it cannot read are left out:
// such a row is at worst uploaded again.
func LoadLedger(path string) (*Ledger, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read results ledger: %w", err)
	}
	empty := &Ledger{rows: map[rowKey]done{}, dir: filepath.Dir(abs),
		destinations: map[string]int{}}

	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read results ledger: %w", err)
	}
	defer f.Close()

	in := csv.NewReader(f)
	in.FieldsPerRecord = -1
	raw, err := in.Read()
	if errors.Is(err, io.EOF) {
		return empty, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read results ledger %s: %w", path, err)
	}

	cols, err := newLedgerColumns(raw, path)
	if err != nil {
		return nil, err
	}
	return cols.read(in)
}

// ledgerColumns locates the columns a ledger needs in a results header.
type ledgerColumns struct {
	header manifest.Header
	dir    string
	own    []int
	result map[string]int
}

func newLedgerColumns(raw []string, path string) (*ledgerColumns, error) {
	h, err := manifest.ParseHeader(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("read results ledger %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read results ledger: %w", err)
	}

	c := &ledgerColumns{header: h, dir: filepath.Dir(abs), result: map[string]int{}}
	for _, col := range report.Columns() {
		c.result[col] = slices.Index(raw, col)
	}
	return c, nil
}

func (c *ledgerColumns) read(in *csv.Reader) (*Ledger, error) {
	l := &Ledger{rows: map[rowKey]done{}, dir: c.dir, destinations: map[string]int{}}
	for {
		rec, err := in.Read()
		if errors.Is(err, io.EOF) {
			return l, nil
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read results ledger: %w", err)
		}
		if k, d, ok := c.entry(rec); ok {
			l.rows[k] = d
			l.destinations[c.cell(rec, "destination")]++
		}
	}
}

// entry reads one results row; ok is false unless it records an upload.
func (c *ledgerColumns) entry(rec []string) (rowKey, done, bool) {
	k, settled, ok := c.key(rec)
	status, errType := c.cell(rec, "status"), c.cell(rec, "error_type")
	uploaded := status == string(report.StatusUploaded) ||
		(status == string(report.StatusSkipped) && errType == TypeAlreadyUploaded)
	if !ok || !settled || !uploaded {
		return rowKey{}, done{}, false
	}

	on := c.cell(rec, "finished_at")
	if status == string(report.StatusSkipped) {
		on = strings.TrimPrefix(c.cell(rec, "error"), uploadedOn)
	}
	size, err := strconv.ParseInt(c.cell(rec, "bytes"), 10, 64)
	mtime, terr := time.Parse(time.RFC3339Nano, c.cell(rec, "file_mtime"))
	if err != nil || terr != nil {
		return rowKey{}, done{}, false
	}
	return k, done{size: size, mtime: mtime.UnixNano(),
		info: on + "\x00" + c.cell(rec, "uploaded_file")}, true
}

// key returns the row key of a results record and whether the record
// settles its row for good: uploaded, or skipped (as uploaded before, or
// as a duplicate of a row that carries the upload).
func (c *ledgerColumns) key(rec []string) (k rowKey, settled, ok bool) {
	canon := func(col string) string {
		if i := c.header.Index(col); i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}

	entity, err := manifest.ParseEntity(canon(manifest.ColEntity))
	p := canon(manifest.ColFilePath)
	if err != nil || p == "" {
		return rowKey{}, false, false
	}
	k = keyOf(entity, canon(manifest.ColID), canon(manifest.ColSchemaName),
		canon(manifest.ColEntitySchemaName), relativeTo(c.dir, manifest.ResolvePath(c.dir, p)))

	status := c.cell(rec, "status")
	settled = status == string(report.StatusUploaded) || status == string(report.StatusSkipped)
	return k, settled, true
}

func (c *ledgerColumns) cell(rec []string, col string) string {
	if i := c.result[col]; i >= 0 && i < len(rec) {
		return rec[i]
	}
	return ""
}

// ResultKey returns the report.RowKey of the results file at path, which
// compacts it by the same keys the ledger uses.
func ResultKey(path string) report.RowKey {
	var cols *ledgerColumns
	var header []string
	return func(h, rec []string) (string, bool, bool) {
		if cols == nil || !slices.Equal(h, header) {
			c, err := newLedgerColumns(h, path)
			if err != nil {
				return "", false, false
			}
			cols, header = c, h
		}
		k, settled, ok := cols.key(rec)
		return string(k[:]), settled, ok
	}
}

// skipped is the entry of a row an earlier run already uploaded.
func skipped(row *manifest.Row, d done, dest string) report.Entry {
	return report.Entry{Record: row.Record, Result: report.Result{
		Line:         row.Line,
		Status:       report.StatusSkipped,
		ErrorType:    TypeAlreadyUploaded,
		Error:        uploadedOn + d.on(),
		UploadedFile: d.stored(),
		Bytes:        row.Size,
		FinishedAt:   stamp(time.Now()),
		FileModTime:  stampNano(row.ModTime),
		Destination:  dest,
	}}
}

// duplicate is the entry of a row that repeats an earlier row of the same
// manifest; the earlier row carries the upload.
func duplicate(row *manifest.Row, first int, dest string) report.Entry {
	return report.Entry{Record: row.Record, Result: report.Result{
		Line:      row.Line,
		Status:    report.StatusSkipped,
		ErrorType: TypeDuplicate,
		Error: fmt.Sprintf("duplicate of line %d (same target and file), "+
			"whose outcome it shares", first),
		Bytes:       row.Size,
		FinishedAt:  stamp(time.Now()),
		FileModTime: stampNano(row.ModTime),
		Destination: dest,
	}}
}
