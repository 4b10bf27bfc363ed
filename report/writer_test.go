package report_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/report"
)

// layout is a run's folders: the manifest and its documents in in/, the
// results beside the manifest, the failures in out/.
type layout struct {
	root, in, results, failures string
}

func newLayout(t *testing.T) layout {
	t.Helper()
	root := t.TempDir()
	l := layout{
		root:     root,
		in:       filepath.Join(root, "in"),
		results:  filepath.Join(root, "in", "manifest.results.csv"),
		failures: filepath.Join(root, "out", "manifest.failures.csv"),
	}
	for _, d := range []string{l.in, filepath.Dir(l.failures)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func (l layout) options() report.Options {
	return report.Options{Results: l.results, Failures: l.failures, Header: ownHeader,
		PathColumn: 0, ManifestDir: l.in}
}

// runEntries are one of each outcome, with cells that need quoting or
// defusing.
func runEntries(absPath string) []report.Entry {
	return []report.Entry{
		{
			Record: record("docs/a.pdf", "Asha Example"),
			Result: report.Result{Line: 2, Status: report.StatusUploaded, Attempts: 1,
				HTTPStatus: 200, UploadedFile: "https://files.example/a.pdf", Bytes: 1234,
				DurationMS: 85, FinishedAt: "2024-05-01T10:00:00Z",
				FileModTime: "2024-04-30T09:00:00Z"},
		},
		{
			Record: record("docs/b, scan.pdf", "Ravi \"R\" Example\nsecond line"),
			Result: report.Result{Line: 3, Status: report.StatusFailed, Attempts: 3,
				HTTPStatus: 500, ErrorType: "server", Error: "=HYPERLINK(\"x\")\r\nmore",
				DurationMS: 2500, FinishedAt: "2024-05-01T10:00:03Z",
				FileModTime: "2024-04-30T09:00:01Z"},
		},
		{
			Record: record("missing.pdf", "Meera Example"),
			Result: report.Result{Line: 5, Status: report.StatusRejected, ErrorType: "invalid",
				Error:      "column file_path: file not found: missing.pdf",
				FinishedAt: "2024-05-01T10:00:03Z"},
		},
		{
			Record: record("docs/c.pdf", "Kiran Example"),
			Result: report.Result{Line: 6, Status: report.StatusSkipped,
				ErrorType: "already_uploaded", Error: "uploaded on 2024-04-01T08:00:00Z",
				Bytes: 99, FinishedAt: "2024-05-01T10:00:04Z"},
		},
		{
			Record: record(absPath, "-Dev Example"),
			Result: report.Result{Line: 7, Status: report.StatusFailed, Attempts: 1,
				HTTPStatus: 413, ErrorType: "too_large", Error: "-413 too large",
				DurationMS: 10, FinishedAt: "2024-05-01T10:00:05Z"},
		},
	}
}

// TestWriter writes one row of each outcome and compares both outputs
// with golden files, the temporary folder spelled ROOT.
func TestWriter(t *testing.T) {
	l := newLayout(t)
	abs := filepath.Join(l.root, "elsewhere", "d.pdf")
	w := openWriter(t, l.options())

	if _, err := os.Stat(l.failures); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failures file visible before Close: %v", err)
	}
	writeAll(t, w, runEntries(abs)...)
	wantCounts := report.Counts{Uploaded: 1, Failed: 2, Rejected: 1, Skipped: 1, Bytes: 1234}
	if got := w.Counts(); got != wantCounts {
		t.Errorf("Counts() = %+v, want %+v", got, wantCounts)
	}
	if got := w.Counts().Total(); got != 5 {
		t.Errorf("Counts().Total() = %d, want 5", got)
	}
	if got := w.TornBytes(); got != 0 {
		t.Errorf("TornBytes() = %d on a new file, want 0", got)
	}
	closeWriter(t, w, false)

	for _, out := range []struct{ path, golden string }{
		{l.results, "writer.results.csv"},
		{l.failures, "writer.failures.csv"},
	} {
		got := strings.ReplaceAll(readFile(t, out.path), l.root, "ROOT")
		checkGolden(t, out.golden, got)
		if m := mode(t, out.path); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", out.golden, m)
		}
	}
	if got := entries(t, filepath.Dir(l.failures)); !slices.Equal(got,
		[]string{"manifest.failures.csv"}) {
		t.Errorf("out/ holds %q, want only the failures file", got)
	}
}

// TestWriterColumns checks the result cells row by row: the statuses in
// each output, zero HTTP status and bytes left empty, and the path column
// rewritten only where the output sits in another folder.
func TestWriterColumns(t *testing.T) {
	l := newLayout(t)
	abs := filepath.Join(l.root, "elsewhere", "d.pdf")
	w := openWriter(t, l.options())
	writeAll(t, w, runEntries(abs)...)
	closeWriter(t, w, false)

	results, failures := readCSV(t, l.results), readCSV(t, l.failures)
	for name, recs := range map[string][][]string{"results": results, "failures": failures} {
		if !slices.Equal(recs[0], fullHeader()) {
			t.Errorf("%s header = %q, want %q", name, recs[0], fullHeader())
		}
	}

	tests := []struct {
		file string
		col  string
		want []string
	}{
		{"results", "status", []string{"uploaded", "failed", "rejected", "skipped", "failed"}},
		{"results", "line", []string{"2", "3", "5", "6", "7"}},
		{"results", "http_status", []string{"200", "500", "", "", "413"}},
		{"results", "bytes", []string{"1234", "", "", "99", ""}},
		{"results", "attempts", []string{"1", "3", "0", "0", "1"}},
		{"results", "duration_ms", []string{"85", "2500", "0", "0", "10"}},
		{"results", "error", []string{"", `'=HYPERLINK("x")  more`,
			"column file_path: file not found: missing.pdf",
			"uploaded on 2024-04-01T08:00:00Z", "'-413 too large"}},
		{"results", "file_path", []string{"docs/a.pdf", "docs/b, scan.pdf", "missing.pdf",
			"docs/c.pdf", abs}},
		{"results", "student_name", []string{"Asha Example", "Ravi \"R\" Example\nsecond line",
			"Meera Example", "Kiran Example", "-Dev Example"}},
		{"failures", "status", []string{"failed", "rejected", "failed"}},
		{"failures", "line", []string{"3", "5", "7"}},
		{"failures", "file_path", []string{"../in/docs/b, scan.pdf", "../in/missing.pdf", abs}},
	}
	files := map[string][][]string{"results": results, "failures": failures}
	for _, tt := range tests {
		if got := column(t, files[tt.file], tt.col); !slices.Equal(got, tt.want) {
			t.Errorf("%s column %s = %q, want %q", tt.file, tt.col, got, tt.want)
		}
	}
}

// TestFailuresRoundTrip reads the failures CSV back as a manifest, as a
// rerun does: it yields the failed and rejected rows, with the manifest's
// own columns only, and their paths name the same files as before.
func TestFailuresRoundTrip(t *testing.T) {
	l := newLayout(t)
	abs := filepath.Join(l.root, "elsewhere", "d.pdf")
	for _, p := range []string{filepath.Join(l.in, "docs", "a.pdf"),
		filepath.Join(l.in, "docs", "b, scan.pdf"), abs} {
		writeFile(t, p, "%PDF-1.4 specimen\n", 0o644)
	}

	w := openWriter(t, l.options())
	sent := runEntries(abs)
	writeAll(t, w, sent...)
	closeWriter(t, w, false)

	for _, out := range []struct {
		path string
		want []report.Entry
	}{
		{l.failures, []report.Entry{sent[1], sent[2], sent[4]}},
		{l.results, sent},
	} {
		t.Run(filepath.Base(out.path), func(t *testing.T) {
			f, err := os.Open(out.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := manifest.NewReader(f, manifest.Options{Dir: filepath.Dir(out.path),
				Drop: report.Columns()})
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			if got := r.Header().Own; !slices.Equal(got, ownHeader) {
				t.Errorf("Own = %q, want %q", got, ownHeader)
			}

			var got []*manifest.Row
			for {
				row, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				got = append(got, row)
			}
			if len(got) != len(out.want) {
				t.Fatalf("read %d rows, want %d", len(got), len(out.want))
			}
			for i, row := range got {
				e := out.want[i]
				wantPath := e.Record[0]
				if !filepath.IsAbs(wantPath) {
					wantPath = filepath.Join(l.in, wantPath)
				}
				if row.Path != wantPath {
					t.Errorf("row %d: Path = %q, want %q", i, row.Path, wantPath)
				}
				if !reflect.DeepEqual(row.Record[1:], e.Record[1:]) {
					t.Errorf("row %d: Record = %q, want %q", i, row.Record, e.Record)
				}
			}
		})
	}
}

// TestWriterManifestDirRelative gives Options.ManifestDir relative to the
// working directory, as the outputs' paths may be.
func TestWriterManifestDirRelative(t *testing.T) {
	l := newLayout(t)
	t.Chdir(l.root)
	opts := l.options()
	opts.ManifestDir = "in"
	opts.Failures = filepath.Join("out", "manifest.failures.csv")
	w := openWriter(t, opts)
	writeAll(t, w, entry("docs/b.pdf", 2, report.StatusFailed))
	closeWriter(t, w, false)

	if got := column(t, readCSV(t, l.results), "file_path"); !slices.Equal(got,
		[]string{"docs/b.pdf"}) {
		t.Errorf("results file_path = %q, want [docs/b.pdf]", got)
	}
	if got := column(t, readCSV(t, l.failures), "file_path"); !slices.Equal(got,
		[]string{"../in/docs/b.pdf"}) {
		t.Errorf("failures file_path = %q, want [../in/docs/b.pdf]", got)
	}
}

// TestWriterShortRecord pads a record shorter than the header.
func TestWriterShortRecord(t *testing.T) {
	l := newLayout(t)
	w := openWriter(t, l.options())
	writeAll(t, w, report.Entry{Record: []string{"docs/a.pdf"},
		Result: report.Result{Line: 2, Status: report.StatusRejected}})
	closeWriter(t, w, false)

	want := lines(headerLine(),
		"docs/a.pdf,,,,,2,rejected,0,,,,,,0,,,",
	)
	if got := readFile(t, l.results); got != want {
		t.Errorf("results:\n got %q\nwant %q", got, want)
	}
}

func TestOpenReplacesFailures(t *testing.T) {
	l := newLayout(t)
	old := headerLine() + "\nold,row\n"
	writeFile(t, l.failures, old, 0o644)
	stale := filepath.Join(filepath.Dir(l.failures), ".manifest.failures.csv.tmp-123")
	writeFile(t, stale, "stale", 0o600)

	w := openWriter(t, l.options())
	if got := readFile(t, l.failures); got != old {
		t.Errorf("failures changed before Close: %q", got)
	}
	closeWriter(t, w, false)

	if got, want := readFile(t, l.failures), headerLine()+"\n"; got != want {
		t.Errorf("failures = %q, want only the header %q", got, want)
	}
	if m := mode(t, l.failures); m != 0o600 {
		t.Errorf("failures mode %v, want 0600", m)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a stale temporary file a killed run left is still there: %v", err)
	}
}

func TestOpenTightensResultsMode(t *testing.T) {
	l := newLayout(t)
	writeFile(t, l.results, headerLine()+"\n", 0o644)

	w := openWriter(t, l.options())
	closeWriter(t, w, false)
	if m := mode(t, l.results); m != 0o600 {
		t.Errorf("results mode %v, want 0600", m)
	}
}

func TestOpenFailuresFolderMissing(t *testing.T) {
	l := newLayout(t)
	opts := l.options()
	opts.Failures = filepath.Join(l.root, "nowhere", "f.csv")

	w, err := report.Open(opts)
	if err == nil {
		w.Close(false)
		t.Fatal("Open succeeded with a failures folder that does not exist")
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
}

// TestOwnColumnsNamedLikeOurs renames a manifest's own columns that carry
// one of our names, so no name appears twice in an output.
func TestOwnColumnsNamedLikeOurs(t *testing.T) {
	l := newLayout(t)
	opts := l.options()
	opts.Header = []string{"file_path", "Status", "line", "manifest_line"}
	opts.PathColumn = 0
	w := openWriter(t, opts)
	writeAll(t, w, report.Entry{Record: []string{"docs/a.pdf", "VIP", "L-17", "x"},
		Result: report.Result{Line: 2, Status: report.StatusRejected}})
	closeWriter(t, w, false)

	header := strings.SplitN(readFile(t, l.results), "\n", 2)[0]
	want := "file_path,manifest_Status,manifest_manifest_line,manifest_line," +
		strings.Join(report.Columns(), ",")
	if header != want {
		t.Errorf("header\n got %s\nwant %s", header, want)
	}
}

// TestOpenRefusesToReplaceOtherFiles: a failures path naming a manifest or
// a folder is refused before anything is written.
func TestOpenRefusesToReplaceOtherFiles(t *testing.T) {
	l := newLayout(t)
	writeFile(t, l.failures, "file_path,id\ndocs/a.pdf,1\n", 0o644)
	if _, err := report.Open(l.options()); err == nil ||
		!strings.Contains(err.Error(), "is not an lsqupload failures file") {
		t.Errorf("Open over a manifest: %v", err)
	}
	if got := readFile(t, l.failures); got != "file_path,id\ndocs/a.pdf,1\n" {
		t.Errorf("the manifest changed: %q", got)
	}
}
