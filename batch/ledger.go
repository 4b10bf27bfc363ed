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
// schema names and the file's absolute path, hashed to keep a
// million-row ledger small.
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

func rowKeyOf(row *manifest.Row) rowKey {
	return keyOf(row.Entity, row.Fields.ID, row.Fields.SchemaName,
		row.Fields.EntitySchemaName, row.Path)
}

// done is what the ledger knows of an uploaded row.
type done struct {
	size   int64
	mtime  string
	on     string
	stored string
}

// Ledger holds the rows that earlier runs recorded as uploaded, read from
// a results file. A manifest row whose target and file (size and
// modification time) match one of them is not sent again.
//
// BUG(lsqupload): the ledger is held in memory, about 100 bytes per
// uploaded row of the results file: some 100 MB for a million rows.
type Ledger struct {
	rows map[rowKey]done
}

// Len returns the number of uploaded rows the ledger holds.
func (l *Ledger) Len() int {
	if l == nil {
		return 0
	}
	return len(l.rows)
}

// lookup returns the earlier upload of row, if its file is unchanged.
func (l *Ledger) lookup(row *manifest.Row) (done, bool) {
	if l == nil {
		return done{}, false
	}
	d, ok := l.rows[rowKeyOf(row)]
	if !ok || d.size != row.Size || d.mtime != stampNano(row.ModTime) {
		return done{}, false
	}
	return d, true
}

// LoadLedger reads the uploaded rows of the results file at path. A
// missing file is an empty ledger. Rows it cannot read are left out:
// such a row is at worst uploaded again.
func LoadLedger(path string) (*Ledger, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Ledger{rows: map[rowKey]done{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read results ledger: %w", err)
	}
	defer f.Close()

	in := csv.NewReader(f)
	in.FieldsPerRecord = -1
	raw, err := in.Read()
	if errors.Is(err, io.EOF) {
		return &Ledger{rows: map[rowKey]done{}}, nil
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
	l := &Ledger{rows: map[rowKey]done{}}
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
		}
	}
}

// entry reads one results row; ok is false unless it records an upload.
func (c *ledgerColumns) entry(rec []string) (rowKey, done, bool) {
	k, isDone, ok := c.key(rec)
	if !ok || !isDone {
		return rowKey{}, done{}, false
	}

	d := done{mtime: c.cell(rec, "file_mtime"), stored: c.cell(rec, "uploaded_file"),
		on: c.cell(rec, "finished_at")}
	if c.cell(rec, "status") == string(report.StatusSkipped) {
		d.on = strings.TrimPrefix(c.cell(rec, "error"), uploadedOn)
	}
	size, err := strconv.ParseInt(c.cell(rec, "bytes"), 10, 64)
	if err != nil {
		return rowKey{}, done{}, false
	}
	d.size = size
	return k, d, true
}

// key returns the row key of a results record and whether the record
// marks the row done (uploaded, or skipped as uploaded before).
func (c *ledgerColumns) key(rec []string) (k rowKey, isDone, ok bool) {
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
		canon(manifest.ColEntitySchemaName), manifest.ResolvePath(c.dir, p))

	status := c.cell(rec, "status")
	isDone = status == string(report.StatusUploaded) ||
		(status == string(report.StatusSkipped) &&
			c.cell(rec, "error_type") == TypeAlreadyUploaded)
	return k, isDone, true
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
		k, isDone, ok := cols.key(rec)
		return string(k[:]), isDone, ok
	}
}

// skipped is the entry of a row an earlier run already uploaded.
func skipped(row *manifest.Row, d done) report.Entry {
	return report.Entry{Record: row.Record, Result: report.Result{
		Line:         row.Line,
		Status:       report.StatusSkipped,
		ErrorType:    TypeAlreadyUploaded,
		Error:        uploadedOn + d.on,
		UploadedFile: d.stored,
		Bytes:        row.Size,
		FinishedAt:   stamp(time.Now()),
		FileModTime:  stampNano(row.ModTime),
	}}
}

// duplicate is the entry of a row that repeats an earlier row of the same
// manifest; the earlier row carries the upload.
func duplicate(row *manifest.Row, first int) report.Entry {
	return report.Entry{Record: row.Record, Result: report.Result{
		Line:        row.Line,
		Status:      report.StatusSkipped,
		ErrorType:   TypeDuplicate,
		Error:       fmt.Sprintf("duplicate of line %d, which carries the upload", first),
		Bytes:       row.Size,
		FinishedAt:  stamp(time.Now()),
		FileModTime: stampNano(row.ModTime),
	}}
}
