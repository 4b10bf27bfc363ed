package report_test

import (
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Values the tests use for manifest cells.
const (
	leadID       = "0f8fad5b-d9cb-469f-a165-70867728950e"
	schema       = "mx_CustomObject_2"
	entitySchema = "mx_KYC"
)

// ownHeader is the manifest header most tests write under; the file path
// is its first column.
var ownHeader = []string{"file_path", "id", "schema_name", "entity_schema_name", "student_name"}

// record returns a manifest record for path under ownHeader.
func record(path, student string) []string {
	return []string{path, leadID, schema, entitySchema, student}
}

// fullHeader is ownHeader followed by the result columns, as the outputs
// start.
func fullHeader() []string { return append(slices.Clone(ownHeader), report.Columns()...) }

// entry builds an Entry with the fields most tests care about.
func entry(path string, line int, status report.Status) report.Entry {
	return report.Entry{
		Record: record(path, "student"),
		Result: report.Result{Line: line, Status: status, Attempts: 1,
			FinishedAt: "2024-05-01T10:00:00Z"},
	}
}

// openWriter opens a Writer, failing the test on error.
func openWriter(t *testing.T, opts report.Options) *report.Writer {
	t.Helper()
	w, err := report.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w
}

// writeAll writes entries to w, failing the test on error.
func writeAll(t *testing.T, w *report.Writer, entries ...report.Entry) {
	t.Helper()
	for _, e := range entries {
		if err := w.Write(e); err != nil {
			t.Fatalf("Write(line %d): %v", e.Result.Line, err)
		}
	}
}

// closeWriter closes w, failing the test on error.
func closeWriter(t *testing.T, w *report.Writer, complete bool) {
	t.Helper()
	if err := w.Close(complete); err != nil {
		t.Fatalf("Close(%v): %v", complete, err)
	}
}

// readFile returns the content of path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFile writes content to path, creating its folder.
func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// readCSV parses the CSV file at path, failing the test if it is not
// well-formed.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// column returns the cells of the column named col in recs, header
// excluded.
func column(t *testing.T, recs [][]string, col string) []string {
	t.Helper()
	i := slices.Index(recs[0], col)
	if i < 0 {
		t.Fatalf("no column %q in %q", col, recs[0])
	}
	var out []string
	for _, rec := range recs[1:] {
		out = append(out, rec[i])
	}
	return out
}

// checkGolden compares got with testdata/name, or rewrites the file when
// the test runs with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

// mode returns the permission bits of path.
func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

// lines joins CSV lines, each ended by a line feed.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// headerLine is fullHeader as a CSV line.
func headerLine() string { return strings.Join(fullHeader(), ",") }
