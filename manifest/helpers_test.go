package manifest_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/manifest"
)

// Values the tests use for valid rows.
const (
	leadID       = "0f8fad5b-d9cb-469f-a165-70867728950e"
	eventCode    = "12005"
	schema       = "mx_CustomObject_2"
	entitySchema = "mx_KYC"

	// fullHeader names every canonical column.
	fullHeader = "file_path,entity,id,schema_name,entity_schema_name," +
		"file_type,file_storage_type,storage_version\n"

	// shortHeader names the required columns only.
	shortHeader = "file_path,id,schema_name,entity_schema_name\n"
)

// validRow is a shortHeader row for kyc.pdf in the fixture folder.
const validRow = "kyc.pdf," + leadID + "," + schema + "," + entitySchema + "\n"

// fixture creates a folder of files the manifests in tests refer to and
// returns its path.
func fixture(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"kyc.pdf":      "%PDF-1.4 specimen\n",
		"scan.JPG":     "jpeg specimen",
		"photo.png":    "png specimen",
		"notes.txt":    "not a document",
		"noext":        "no extension",
		"empty.pdf":    "",
		"big.pdf":      strings.Repeat("x", 100),
		"sub/deep.pdf": "%PDF-1.4 deep\n",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.pdf"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes content to path, creating its folder.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// open returns a Reader over text, failing the test on a header error.
func open(t *testing.T, text string, opts manifest.Options) *manifest.Reader {
	t.Helper()
	r, err := manifest.NewReader(strings.NewReader(text), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return r
}

// readAll returns every row of r, failing the test if reading fails.
func readAll(t *testing.T, r *manifest.Reader) []*manifest.Row {
	t.Helper()
	var rows []*manifest.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		}
		rows = append(rows, row)
	}
}

// outcome is the part of a row most tests compare.
type outcome struct {
	Line   int
	Record []string
	Err    string
}

// outcomes reduces rows to what most tests compare.
func outcomes(rows []*manifest.Row) []outcome {
	var out []outcome
	for _, row := range rows {
		o := outcome{Line: row.Line, Record: row.Record}
		if row.Err != nil {
			o.Err = row.Err.Error()
		}
		out = append(out, o)
	}
	return out
}

// rec is shorthand for a record literal.
func rec(cells ...string) []string { return cells }
