package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options says where the outputs go and how to write the manifest's own
// columns into them.
type Options struct {
	// Results and Failures are the output paths.
	Results  string
	Failures string

	// Header holds the manifest's own column names; PathColumn is the
	// position of the file path among them.
	Header     []string
	PathColumn int

	// ManifestDir is the folder relative file paths of the manifest
	// resolve against; paths are rewritten so they resolve from each
	// output's folder too.
	ManifestDir string

	// RowKey tells which row a results record belongs to, for compacting
	// the results after a complete run; nil keeps only this run's rows.
	RowKey RowKey

	// ColumnKey folds a column name to what makes two names the same
	// column, when an existing results file's header differs from this
	// run's (the manifest's header was respelled); nil compares names.
	ColumnKey func(name string) string
}

// Writer writes results and failures as rows finish. A row that sent
// anything is written and synced to disk at once, so not even a power cut
// forgets an upload; rows that sent nothing (skipped, rejected) are cheap
// to work out again and are written in batches, which keeps a nightly
// rerun over a million skipped rows fast. The failures file is written aside and renamed into
// place by Close, so no reader ever sees half of it. A Writer is used by
// one goroutine.
type Writer struct {
	opts     Options
	results  *output
	failures *output
	tmpName  string
	counts   Counts

	// start is the results file's size before this run's first row.
	start int64

	// torn is the size of a torn last line cut from the results file.
	torn int64
}

// TornBytes returns the size of the torn last line that Open cut from the
// results file, or 0 when there was none.
func (w *Writer) TornBytes() int64 { return w.torn }

// Counts tallies the rows written, by outcome.
type Counts struct {
	Uploaded int
	Failed   int
	Rejected int
	Skipped  int
	Bytes    int64
}

// Total returns the number of rows counted.
func (c Counts) Total() int { return c.Uploaded + c.Failed + c.Rejected + c.Skipped }

// output is one CSV file being written.
type output struct {
	f   *os.File
	csv *csv.Writer
	dir string
}

// fileMode keeps the outputs private to their owner: they name identity
// documents.
const fileMode = 0o600

// Open opens the outputs of a run. An existing results file is the ledger
// of earlier runs: a torn last line a crash left is cut off, and this run's
// rows are appended after the rest (see Repair). The failures file is
// written anew.
func Open(opts Options) (*Writer, error) {
	if dir, err := filepath.Abs(opts.ManifestDir); err == nil {
		opts.ManifestDir = dir
	}
	if opts.ColumnKey == nil {
		opts.ColumnKey = strings.ToLower
	}
	opts.Header = ownNames(opts.Header, opts.ColumnKey)
	if err := dropTornHeader(opts.Results, append(slices.Clone(opts.Header),
		resultColumns...)); err != nil {
		return nil, err
	}
	old, err := existingOwn(opts.Results)
	if err != nil {
		return nil, err
	}
	opts.Header = union(opts.Header, old, opts.ColumnKey)
	w := &Writer{opts: opts}
	header := append(append([]string(nil), opts.Header...), resultColumns...)

	removeStale(opts.Results)
	f, start, cut, err := openResults(opts.Results, header, opts.ColumnKey)
	if err != nil {
		return nil, err
	}
	w.results, w.start, w.torn = newOutput(f, opts.Results), start, cut

	if err := w.openFailures(); err != nil {
		w.results.f.Close()
		return nil, err
	}
	if err := w.failures.write(header, false); err != nil {
		w.abandon()
		return nil, fmt.Errorf("write failures: %w", err)
	}
	return w, nil
}

func newOutput(f *os.File, path string) *output {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return &output{f: f, csv: csv.NewWriter(f), dir: filepath.Dir(abs)}
}

// openFailures creates the failures file under a temporary name beside
// its final place, so the rename in Close stays on one file system.
func (w *Writer) openFailures() error {
	if err := checkReplaceable(w.opts.Failures); err != nil {
		return err
	}
	dir, base := filepath.Split(w.opts.Failures)
	if dir == "" {
		dir = "."
	}
	removeStale(w.opts.Failures)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("create failures: %w", err)
	}
	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("create failures: %w", err)
	}
	w.tmpName = f.Name()
	w.failures = newOutput(f, w.opts.Failures)
	return nil
}

// Write records one finished row in the results and, when it failed or
// was rejected, in the failures. An error means the outputs can no longer
// be trusted and the run must stop.
func (w *Writer) Write(e Entry) error {
	cells, err := e.Result.cells()
	if err != nil {
		return err
	}

	sent := e.Result.Attempts > 0
	if err := w.results.write(w.row(e.Record, cells, w.results.dir), sent); err != nil {
		return fmt.Errorf("write results: %w", err)
	}

	if e.Result.Status == StatusFailed || e.Result.Status == StatusRejected {
		err := w.failures.write(w.row(e.Record, cells, w.failures.dir), false)
		if err != nil {
			return fmt.Errorf("write failures: %w", err)
		}
	}

	w.count(e.Result)
	return nil
}

// row joins the manifest's cells, with the path rewritten for the output
// in dir, and the result cells.
func (w *Writer) row(record, cells []string, dir string) []string {
	out := make([]string, 0, len(w.opts.Header)+len(cells))
	for i := range w.opts.Header {
		var c string
		if i < len(record) {
			c = record[i]
		}
		if i == w.opts.PathColumn {
			c = RebasePath(c, w.opts.ManifestDir, dir)
		}
		out = append(out, c)
	}
	return append(out, cells...)
}

func (w *Writer) count(r Result) {
	switch r.Status {
	case StatusUploaded:
		w.counts.Uploaded++
		w.counts.Bytes += r.Bytes
	case StatusFailed:
		w.counts.Failed++
	case StatusRejected:
		w.counts.Rejected++
	case StatusSkipped:
		w.counts.Skipped++
	}
}

// Counts returns the tally of rows written so far.
func (w *Writer) Counts() Counts { return w.counts }

// Close flushes both outputs and renames the failures file into place,
// and compacts the results file so that each row appears once (see
// RowKey), which keeps a results file from growing night after night even
// when every night ends by --max-duration. With complete set (every
// manifest row has a row from this run), earlier rows that were not
// settled are dropped too; without a RowKey only this run's rows stay.
func (w *Writer) Close(complete bool) error {
	errResults := w.results.close()
	if errResults == nil {
		errResults = compact(w.opts.Results, w.start, w.opts.RowKey, complete)
	}

	errFailures := w.failures.close()
	if errFailures == nil {
		errFailures = os.Rename(w.tmpName, w.opts.Failures)
	}
	if errFailures != nil {
		os.Remove(w.tmpName)
		errFailures = fmt.Errorf("write failures: %w", errFailures)
	}

	if errResults != nil {
		errResults = fmt.Errorf("write results: %w", errResults)
	}
	return errors.Join(errResults, errFailures)
}

// abandon closes everything after a failed Create.
func (w *Writer) abandon() {
	w.results.f.Close()
	w.failures.f.Close()
	os.Remove(w.tmpName)
}

// write adds a record. With durable set it reaches the disk before write
// returns; otherwise it may wait in the buffer for the next durable record
// or for close, which spares a nightly rerun a write per skipped row.
func (o *output) write(rec []string, durable bool) error {
	if err := o.csv.Write(rec); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	o.csv.Flush()
	if err := o.csv.Error(); err != nil {
		return err
	}
	return o.f.Sync()
}

func (o *output) close() error {
	o.csv.Flush()
	if err := o.csv.Error(); err != nil {
		o.f.Close()
		return err
	}
	if err := o.f.Sync(); err != nil {
		o.f.Close()
		return err
	}
	return o.f.Close()
}

// RebasePath rewrites a manifest's file path so that it names the same
// file when resolved from the folder to instead of from. Absolute paths
// and paths in outputs beside the manifest are kept as written.
func RebasePath(p, from, to string) string {
	if p == "" || filepath.IsAbs(p) || from == to {
		return p
	}
	abs := filepath.Join(from, p)
	rel, err := filepath.Rel(to, abs)
	if err != nil {
		return abs
	}
	return rel
}

// ownNames renames the manifest's columns that name one of ours (a
// manifest may well have a Status or an Error Type column of its own), as
// key folds names, so that no name appears twice in an output: Status
// becomes manifest_Status.
func ownNames(header []string, key func(string) string) []string {
	taken := make(map[string]bool, len(header)+len(resultColumns))
	ours := make(map[string]bool, len(resultColumns))
	for _, c := range resultColumns {
		ours[key(c)] = true
		taken[key(c)] = true
	}
	for _, c := range header {
		taken[key(c)] = true
	}

	out := slices.Clone(header)
	for i, c := range out {
		if !ours[key(c)] {
			continue
		}
		name := "manifest_" + c
		for taken[key(name)] {
			name = "manifest_" + name
		}
		taken[key(name)] = true
		out[i] = name
	}
	return out
}

// existingOwn returns the manifest columns of an existing results file
// (its header less our columns), or nil when there is none yet.
func existingOwn(path string) ([]string, error) {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && info.Size() == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open results: %w", err)
	}
	header, err := readHeader(path)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(header, func(c string) bool {
		return slices.Contains(resultColumns, c)
	}), nil
}

// union returns header followed by the columns of old it lacks, so that a
// run over a manifest with fewer columns (a hand-made fix-up naming an
// existing results file) never drops what earlier rows recorded there.
func union(header, old []string, key func(string) string) []string {
	out := slices.Clone(header)
	for _, c := range old {
		if !slices.ContainsFunc(out, func(h string) bool { return key(h) == key(c) }) {
			out = append(out, c)
		}
	}
	return out
}

// checkReplaceable refuses to replace anything at path but an earlier
// failures file: a folder, a manifest named by mistake, or a results file
// (which records uploads, and is the ledger of every later run).
func checkReplaceable(path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create failures: %w", err)
	}
	if info.IsDir() {
		return fmt.Errorf("create failures: %s is a folder", path)
	}
	if _, err := readHeader(path); err != nil {
		return fmt.Errorf("%s exists and is not an lsqupload failures file; "+
			"name another --failures", path)
	}
	if recordsUploads(path) {
		return fmt.Errorf("%s records uploads: it is a results file, not a failures "+
			"file; name another --failures", path)
	}
	return nil
}

// recordsUploads reports whether a file of ours has rows that were
// uploaded or skipped, which a failures file never has.
func recordsUploads(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()

	in := newCSVReader(f)
	header, err := in.Read()
	status := slices.Index(header, "status")
	if err != nil || status < 0 {
		return false
	}
	for {
		rec, err := in.Read()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err == nil && status < len(rec) &&
			(rec[status] == string(StatusUploaded) || rec[status] == string(StatusSkipped)) {
			return true
		}
	}
}

// removeStale deletes temporary files that a run killed before it could
// rename them left beside path. The run's lock makes them nobody else's.
func removeStale(path string) {
	dir, base := filepath.Split(path)
	stale, _ := filepath.Glob(filepath.Join(dir, "."+base+".tmp-*"))
	for _, p := range stale {
		os.Remove(p)
	}
}
