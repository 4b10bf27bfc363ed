package manifest

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gocarina/gocsv"
)

// Fields holds a row's canonical values as written, trimmed of surrounding
// spaces. gocsv maps them by the tags below.
type Fields struct {
	FilePath         string `csv:"file_path"`
	Entity           string `csv:"entity"`
	ID               string `csv:"id"`
	SchemaName       string `csv:"schema_name"`
	EntitySchemaName string `csv:"entity_schema_name"`
	FileType         string `csv:"file_type"`
	FileStorageType  string `csv:"file_storage_type"`
	StorageVersion   string `csv:"storage_version"`
}

// Row is one data record of a manifest. When Err is nil every typed field
// is valid and the file was found readable at validation time.
type Row struct {
	// Line is the physical line where the record starts (header = 1).
	Line int

	// Record holds the row's own cells, aligned with Header.Own.
	Record []string

	// Fields holds the canonical values as written.
	Fields Fields

	// Entity is the record type the file belongs to.
	Entity Entity

	// Path is the file's absolute path; Size and ModTime describe it as
	// validated.
	Path    string
	Size    int64
	ModTime time.Time

	// FileType, FileStorageType and StorageVersion are sent as form fields.
	FileType        int
	FileStorageType int
	StorageVersion  int

	// Err says why the row is rejected; nil for a valid row.
	Err *RowError
}

// RowError is a rejected row's reason, naming its line and, where one is
// to blame, its column, in the manner of csv.ParseError.
type RowError struct {
	Line   int
	Column string
	Err    error
}

// Error returns "line N, column C: reason".
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, column %s: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the underlying reason.
func (e *RowError) Unwrap() error { return e.Err }

// Reason returns the message without the line, for a results row that
// carries the line in a column of its own.
func (e *RowError) Reason() string {
	if e.Column == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("column %s: %v", e.Column, e.Err)
}

// fields maps a row's own cells to Fields through gocsv, one record at a
// time so that one bad record never costs the others.
func (r *Reader) fields(own []string) (Fields, error) {
	canon := make([]string, len(Columns))
	for i, col := range Columns {
		if j := r.header.Index(col); j >= 0 {
			canon[i] = strings.TrimSpace(own[j])
		}
	}

	var out []Fields
	if err := gocsv.UnmarshalCSVWithoutHeaders(&oneRecord{rec: canon}, &out); err != nil {
		return Fields{}, fmt.Errorf("map columns: %w", err)
	}
	if len(out) != 1 {
		return Fields{}, fmt.Errorf("map columns: got %d records, want 1", len(out))
	}
	return out[0], nil
}

// oneRecord is a gocsv.CSVReader over a single record.
type oneRecord struct {
	rec  []string
	done bool
}

func (o *oneRecord) Read() ([]string, error) {
	if o.done {
		return nil, io.EOF
	}
	o.done = true
	return o.rec, nil
}

func (o *oneRecord) ReadAll() ([][]string, error) {
	return [][]string{o.rec}, nil
}
