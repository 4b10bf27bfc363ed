package report_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/report"
)

// resultRow is the CSV line Writer writes for entry(path, line, status).
func resultRow(path string, line int, status report.Status) string {
	return strings.Join([]string{path, leadID, schema, entitySchema, "student",
		strconv.Itoa(line), string(status), "1", "", "", "", "", "", "0",
		"2024-05-01T10:00:00Z", "", ""},
		",")
}

// run opens a Writer with opts, writes entries and closes it.
func run(t *testing.T, opts report.Options, complete bool, entries ...report.Entry) {
	t.Helper()
	w := openWriter(t, opts)
	writeAll(t, w, entries...)
	closeWriter(t, w, complete)
}

func TestOpenCutsTornTail(t *testing.T) {
	tests := []struct {
		name string
		torn string
	}{
		{name: "half a row", torn: "docs/c.pdf," + leadID + ",mx_Cus"},
		{name: "one byte", torn: "d"},
		{name: "row without its line end", torn: resultRow("docs/c.pdf", 4, "uploaded")},
		{name: "carriage return only", torn: resultRow("docs/c.pdf", 4, "uploaded") + "\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			run(t, l.options(), false,
				entry("docs/a.pdf", 2, report.StatusUploaded),
				entry("docs/b.pdf", 3, report.StatusFailed))
			whole := readFile(t, l.results)

			f, err := os.OpenFile(l.results, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tt.torn); err != nil {
				t.Fatal(err)
			}
			f.Close()

			w := openWriter(t, l.options())
			if got := w.TornBytes(); got != int64(len(tt.torn)) {
				t.Errorf("TornBytes() = %d, want %d", got, len(tt.torn))
			}
			if got := readFile(t, l.results); got != whole {
				t.Errorf("after Open, results =\n%q\nwant\n%q", got, whole)
			}
			writeAll(t, w, entry("docs/c.pdf", 4, report.StatusUploaded))
			closeWriter(t, w, false)

			want := whole + resultRow("docs/c.pdf", 4, "uploaded") + "\n"
			if got := readFile(t, l.results); got != want {
				t.Errorf("results =\n%s\nwant\n%s", got, want)
			}

			again := openWriter(t, l.options())
			if got := again.TornBytes(); got != 0 {
				t.Errorf("TornBytes() on the next Open = %d, want 0", got)
			}
			closeWriter(t, again, false)
		})
	}
}

// TestOpenCutsTornQuotedRow tears a row inside a quoted cell that holds a
// line break: the tail ends in '\n', yet the row is incomplete.
func TestOpenCutsTornQuotedRow(t *testing.T) {
	l := newLayout(t)
	run(t, l.options(), false, entry("docs/a.pdf", 2, report.StatusUploaded))
	whole := readFile(t, l.results)
	torn := "docs/b.pdf," + leadID + "," + schema + "," + entitySchema + ",\"first line\n"
	writeFile(t, l.results, whole+torn, 0o600)

	w := openWriter(t, l.options())
	if got := w.TornBytes(); got != int64(len(torn)) {
		t.Errorf("TornBytes() = %d, want %d", got, len(torn))
	}
	writeAll(t, w, entry("docs/c.pdf", 3, report.StatusUploaded))
	closeWriter(t, w, false)

	want := whole + resultRow("docs/c.pdf", 3, "uploaded") + "\n"
	if got := readFile(t, l.results); got != want {
		t.Errorf("results =\n%s\nwant\n%s", got, want)
	}
}

// TestOpenTornHeader tears the results file right after its header, before
// the header's line end.
func TestOpenTornHeader(t *testing.T) {
	l := newLayout(t)
	writeFile(t, l.results, headerLine(), 0o600)

	run(t, l.options(), false, entry("docs/a.pdf", 2, report.StatusUploaded))
	want := lines(headerLine(), resultRow("docs/a.pdf", 2, "uploaded"))
	if got := readFile(t, l.results); got != want {
		t.Errorf("results =\n%s\nwant\n%s", got, want)
	}
}

// TestOpenRewritesUnderNewHeader changes the manifest's columns between
// runs: earlier rows move under the new header by column name.
func TestOpenRewritesUnderNewHeader(t *testing.T) {
	l := newLayout(t)
	run(t, l.options(), false,
		entry("docs/a.pdf", 2, report.StatusUploaded),
		entry("docs/b.pdf", 3, report.StatusFailed))

	opts := l.options()
	opts.Header = []string{"notes", "entity_schema_name", "schema_name", "id", "file_path"}
	opts.PathColumn = 4
	w := openWriter(t, opts)
	writeAll(t, w, report.Entry{
		Record: []string{"n", entitySchema, schema, leadID, "docs/c.pdf"},
		Result: report.Result{Line: 4, Status: report.StatusUploaded, Attempts: 1,
			FinishedAt: "2024-05-01T10:00:00Z"},
	})
	closeWriter(t, w, false)

	tail := func(line int, status string) string {
		return strconv.Itoa(line) + "," + status + ",1,,,,,,0,2024-05-01T10:00:00Z,,"
	}
	// The old student_name column is kept, after the new manifest's own.
	want := lines(
		"notes,entity_schema_name,schema_name,id,file_path,student_name,"+
			strings.Join(report.Columns(), ","),
		","+entitySchema+","+schema+","+leadID+",docs/a.pdf,student,"+tail(2, "uploaded"),
		","+entitySchema+","+schema+","+leadID+",docs/b.pdf,student,"+tail(3, "failed"),
		"n,"+entitySchema+","+schema+","+leadID+",docs/c.pdf,,"+tail(4, "uploaded"),
	)
	if got := readFile(t, l.results); got != want {
		t.Errorf("results =\n%s\nwant\n%s", got, want)
	}
	if m := mode(t, l.results); m != 0o600 {
		t.Errorf("results mode %v, want 0600", m)
	}
	if got := entries(t, l.in); !slices.Equal(got, []string{"manifest.results.csv"}) {
		t.Errorf("in/ holds %q, want only the results file", got)
	}
}

// pathKey is a RowKey that names a row by its file path and counts it
// done when uploaded.
func pathKey(header, rec []string) (key string, done, ok bool) {
	p, s := slices.Index(header, "file_path"), slices.Index(header, "status")
	if p < 0 || s < 0 || p >= len(rec) || s >= len(rec) || rec[p] == "" {
		return "", false, false
	}
	return rec[p], rec[s] == string(report.StatusUploaded), true
}

// TestCompaction runs twice on one results file and checks what Close
// keeps of the first run.
func TestCompaction(t *testing.T) {
	first := []report.Entry{
		entry("docs/a.pdf", 2, report.StatusUploaded), // done, untouched later: kept
		entry("docs/b.pdf", 3, report.StatusFailed),   // redone and uploaded
		entry("docs/c.pdf", 4, report.StatusUploaded), // redone and failed
		entry("docs/d.pdf", 5, report.StatusFailed),   // not done, untouched
		entry("", 6, report.StatusRejected),           // names no row
	}
	second := []report.Entry{
		entry("docs/b.pdf", 2, report.StatusUploaded),
		entry("docs/c.pdf", 3, report.StatusFailed),
		entry("docs/e.pdf", 4, report.StatusUploaded),
	}
	row := func(e report.Entry) string {
		return resultRow(e.Record[0], e.Result.Line, e.Result.Status)
	}

	tests := []struct {
		name     string
		key      report.RowKey
		complete bool
		want     []string
	}{
		{
			name: "complete with a RowKey", key: pathKey, complete: true,
			want: []string{row(first[0]), row(second[0]), row(second[1]), row(second[2])},
		},
		{
			name: "complete without a RowKey", complete: true,
			want: []string{row(second[0]), row(second[1]), row(second[2])},
		},
		{
			name: "incomplete drops only what this run superseded", key: pathKey,
			want: []string{row(first[0]), row(first[3]), row(first[4]),
				row(second[0]), row(second[1]), row(second[2])},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			opts := l.options()
			opts.RowKey = tt.key
			run(t, opts, false, first...)
			run(t, opts, tt.complete, second...)

			want := lines(append([]string{headerLine()}, tt.want...)...)
			if got := readFile(t, l.results); got != want {
				t.Errorf("results =\n%s\nwant\n%s", got, want)
			}
			if m := mode(t, l.results); m != 0o600 {
				t.Errorf("results mode %v, want 0600", m)
			}
		})
	}
}

// TestCompactionFirstRun compacts a results file this run created: every
// row is this run's and stays.
func TestCompactionFirstRun(t *testing.T) {
	l := newLayout(t)
	opts := l.options()
	opts.RowKey = pathKey
	run(t, opts, true,
		entry("docs/a.pdf", 2, report.StatusUploaded),
		entry("docs/a.pdf", 3, report.StatusFailed))

	want := lines(headerLine(), resultRow("docs/a.pdf", 2, "uploaded"),
		resultRow("docs/a.pdf", 3, "failed"))
	if got := readFile(t, l.results); got != want {
		t.Errorf("results =\n%s\nwant\n%s", got, want)
	}
}

func TestOpenRefusesForeignResults(t *testing.T) {
	partial := slices.DeleteFunc(fullHeader(), func(c string) bool { return c == "file_mtime" })

	tests := []struct {
		name    string
		content string
		wantMsg string // after the results path
	}{
		{
			name:    "another CSV",
			content: "name,age\nAsha,30\n",
			wantMsg: `: not an lsqupload results file (no "line" column); name another --results`,
		},
		{
			name:    "a manifest",
			content: "file_path,id,schema_name,entity_schema_name\ndocs/a.pdf,x,y,z\n",
			wantMsg: `: not an lsqupload results file (no "line" column); name another --results`,
		},
		{
			name:    "one result column missing",
			content: strings.Join(partial, ",") + "\n",
			wantMsg: `: not an lsqupload results file (no "file_mtime" column); ` +
				`name another --results`,
		},
		{
			name:    "not CSV",
			content: "\"unterminated\nline, status\n",
			wantMsg: `: not an lsqupload results file (no "line" column); ` +
				`name another --results`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			writeFile(t, l.results, tt.content, 0o644)

			w, err := report.Open(l.options())
			if err == nil {
				w.Close(false)
				t.Fatal("Open succeeded on a file that is not a results file")
			}
			if !errors.Is(err, report.ErrNotResults) {
				t.Errorf("error %v does not wrap ErrNotResults", err)
			}
			if want := l.results + tt.wantMsg; err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			if got := readFile(t, l.results); got != tt.content {
				t.Errorf("file changed to %q", got)
			}
			if m := mode(t, l.results); m != 0o644 {
				t.Errorf("file mode changed to %v", m)
			}
			for _, dir := range []string{l.in, filepath.Dir(l.failures)} {
				if got := entries(t, dir); len(got) > 1 || (len(got) == 1 &&
					got[0] != filepath.Base(l.results)) {
					t.Errorf("%s holds %q after a refused Open", dir, got)
				}
			}
		})
	}
}

// TestOpenHalfAHeader: a results file cut inside its header, by a crash
// while it was created, is created afresh instead of refused.
func TestOpenHalfAHeader(t *testing.T) {
	l := newLayout(t)
	writeFile(t, l.results, headerLine()[:30], 0o600)

	run(t, l.options(), false, entry("docs/a.pdf", 2, report.StatusUploaded))
	want := lines(headerLine(), resultRow("docs/a.pdf", 2, "uploaded"))
	if got := readFile(t, l.results); got != want {
		t.Errorf("results =\n%s\nwant\n%s", got, want)
	}
}

// TestHandEditedResults: a stray quote typed into a results row neither
// stops a run nor its compaction.
func TestHandEditedResults(t *testing.T) {
	l := newLayout(t)
	run(t, l.options(), true, entry("docs/a.pdf", 2, report.StatusUploaded),
		entry("docs/b.pdf", 3, report.StatusUploaded))
	edited := strings.Replace(readFile(t, l.results), "student,3", `stu"dent,3`, 1)
	writeFile(t, l.results, edited, 0o600)

	w := openWriter(t, l.options())
	writeAll(t, w, entry("docs/c.pdf", 4, report.StatusUploaded))
	if err := w.Close(true); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := strings.Count(readFile(t, l.results), "\n"); n != 2 {
		t.Errorf("results have %d lines, want the header and this run's row", n)
	}
}
