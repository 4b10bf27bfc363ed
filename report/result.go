// Package report writes what a run did: a results CSV with one row per
// manifest row, a failures CSV that is itself a manifest, and a summary.
// It knows nothing of how rows were uploaded.
package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/gocarina/gocsv"
)

// Status is a row's outcome.
type Status string

// The outcomes a row can have.
const (
	StatusUploaded Status = "uploaded"
	StatusFailed   Status = "failed"
	StatusRejected Status = "rejected"
	StatusSkipped  Status = "skipped"
)

// Result is the part of a results row that lsqupload adds after the
// manifest's own columns. gocsv maps it by the tags below, which are the
// output's column names.
type Result struct {
	Line         int    `csv:"line"`
	Status       Status `csv:"status"`
	Attempts     int    `csv:"attempts"`
	HTTPStatus   int    `csv:"http_status"`
	ErrorType    string `csv:"error_type"`
	Error        string `csv:"error"`
	UploadedFile string `csv:"uploaded_file"`
	Bytes        int64  `csv:"bytes"`
	DurationMS   int64  `csv:"duration_ms"`
	FinishedAt   string `csv:"finished_at"`
	FileModTime  string `csv:"file_mtime"`
	Destination  string `csv:"destination"`
}

// Entry is one finished row: the manifest's own cells and its result.
type Entry struct {
	// Record holds the manifest's own cells, aligned with the header the
	// Writer was created with.
	Record []string

	Result Result
}

// blankZero names the columns where 0 means "none" and is written empty:
// a row rejected before sending has no HTTP status and sent no bytes.
var blankZero = map[string]bool{"http_status": true, "bytes": true}

// Columns returns the names of the result columns, in output order.
func Columns() []string {
	return append([]string(nil), resultColumns...)
}

// resultColumns is derived once from Result's tags, so the struct is the
// single place that names them.
var resultColumns = mustColumns()

func mustColumns() []string {
	var buf bytes.Buffer
	if err := gocsv.Marshal([]Result{}, &buf); err != nil {
		return nil
	}
	rec, err := csv.NewReader(&buf).Read()
	if err != nil {
		return nil
	}
	return rec
}

// cells renders a result as CSV cells through gocsv, defusing any cell a
// spreadsheet would read as a formula: server messages are not ours to
// trust.
func (r Result) cells() ([]string, error) {
	rec := &recordCapture{}
	if err := gocsv.MarshalCSVWithoutHeaders([]Result{r}, rec); err != nil {
		return nil, fmt.Errorf("render result of line %d: %w", r.Line, err)
	}
	if len(rec.rows) != 1 {
		return nil, fmt.Errorf("render result of line %d: %d records", r.Line, len(rec.rows))
	}
	for i, c := range rec.rows[0] {
		if c == "0" && blankZero[resultColumns[i]] {
			c = ""
		}
		rec.rows[0][i] = Defuse(c)
	}
	return rec.rows[0], nil
}

// recordCapture is a gocsv.CSVWriter that keeps the records it is given.
type recordCapture struct{ rows [][]string }

func (c *recordCapture) Write(row []string) error {
	c.rows = append(c.rows, append([]string(nil), row...))
	return nil
}

func (c *recordCapture) Flush() {}

func (c *recordCapture) Error() error { return nil }

// Defuse prefixes a cell that a spreadsheet would evaluate as a formula
// with an apostrophe, and flattens line breaks and other control
// characters to spaces.
func Defuse(cell string) string {
	cell = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, cell)
	if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
