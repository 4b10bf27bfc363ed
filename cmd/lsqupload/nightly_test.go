package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// genManifest writes n small distinct documents and a manifest of them
// into a fresh folder, and returns the folder.
func genManifest(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("file_path,id,schema_name,entity_schema_name\n")
	for i := range n {
		name := fmt.Sprintf("docs/scan-%03d.pdf", i)
		writeFile(t, dir, name, fmt.Sprintf("%%PDF-1.4 SPECIMEN scan %d\n%s", i,
			strings.Repeat("x", 500+i)))
		fmt.Fprintf(&b, "%s,%s,mx_CustomObject_1,mx_KYC\n", name, leadID(i))
	}
	writeFile(t, dir, "manifest.csv", b.String())
	return dir
}

func leadID(i int) string {
	return fmt.Sprintf("0f8fad5b-d9cb-469f-a165-%012d", i)
}

// started is a binary running in the background.
type started struct {
	cmd    *exec.Cmd
	stderr *lockedWriter
	done   chan error
}

// startRun starts the binary without waiting for it.
func startRun(t *testing.T, dir string, env []string, args ...string) *started {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	s := &started{cmd: cmd, stderr: &lockedWriter{buf: &bytes.Buffer{}},
		done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return s
}

// lockedWriter lets the test read a child's stderr while it writes.
type lockedWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// wait returns the exit code, failing the test after a generous limit.
func (s *started) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(2 * time.Minute):
		t.Fatal("run did not end within 2 minutes")
		return -1
	}
}

// waitFor polls cond until it holds, failing after a limit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dataLines counts the lines after the header of a file.
func dataLines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n")) - 1
}

// checkLedger asserts the results hold each of n manifest rows exactly
// once, done. Rows are told apart by target and file, since a results
// file shared with a failures rerun holds lines of both manifests.
func checkLedger(t *testing.T, path string, n int) {
	t.Helper()
	rows := readCSV(t, path)
	if len(rows) != n {
		t.Fatalf("results has %d rows, want %d", len(rows), n)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		key := r["id"] + "|" + r["schema_name"] + "|" + r["entity_schema_name"] + "|" +
			filepath.Base(r["file_path"])
		if seen[key] {
			t.Errorf("row %s appears twice", key)
		}
		seen[key] = true
		done := r["status"] == "uploaded" ||
			(r["status"] == "skipped" && r["error_type"] == "already_uploaded")
		if !done {
			t.Errorf("line %s: %s %s %s, want done", r["line"], r["status"], r["error_type"],
				r["error"])
		}
	}
}

// TestResumeSkipsUploadedRows reruns a finished manifest: nothing is sent
// again, a changed file is, and --force sends everything.
func TestResumeSkipsUploadedRows(t *testing.T) {
	dir := genManifest(t, 12)
	srv := startSandbox(t, lsqtest.Options{})
	results := filepath.Join(dir, "manifest.results.csv")

	if res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...); res.code != 0 {
		t.Fatalf("first run exit %d\n%s", res.code, res.stderr)
	}
	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	if res.code != 0 || len(srv.Received()) != 12 {
		t.Fatalf("second run exit %d, %d received; want 0 and 12\n%s", res.code,
			len(srv.Received()), res.stderr)
	}
	mustContain(t, "summary", res.stderr, "12 rows: 0 uploaded, 12 skipped")
	checkLedger(t, results, 12)
	first := readCSV(t, results)[0]
	mustContain(t, "skipped row", first["error"], "already uploaded on 20")
	if first["uploaded_file"] == "" {
		t.Error("a skipped row lost the stored file name")
	}

	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "docs/scan-003.pdf"), later, later); err != nil {
		t.Fatal(err)
	}
	res = run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	mustContain(t, "summary", res.stderr, "12 rows: 1 uploaded, 11 skipped")
	checkLedger(t, results, 12)

	res = run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv", "--force")...)
	mustContain(t, "summary", res.stderr, "12 rows: 12 uploaded, 0 skipped")
	if n := len(srv.Received()); n != 12+1+12 {
		t.Errorf("sandbox received %d uploads, want 25", n)
	}
	checkLedger(t, results, 12)
}

// TestDuplicateRowUploadedOnce lists the same row twice.
func TestDuplicateRowUploadedOnce(t *testing.T) {
	dir := genManifest(t, 2)
	data := readFile(t, filepath.Join(dir, "manifest.csv"))
	lines := strings.Split(strings.TrimSpace(data), "\n")
	writeFile(t, dir, "manifest.csv", data+lines[1]+"\n")
	srv := startSandbox(t, lsqtest.Options{})

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	if res.code != 0 || len(srv.Received()) != 2 {
		t.Fatalf("exit %d, %d received; want 0 and 2\n%s", res.code, len(srv.Received()),
			res.stderr)
	}
	dup := byLine(readCSV(t, filepath.Join(dir, "manifest.results.csv")))["4"]
	if dup["status"] != "skipped" || dup["error_type"] != "duplicate" ||
		dup["error"] != "duplicate of line 2 (same target and file), whose outcome it shares" {
		t.Errorf("duplicate row: %v", dup)
	}
}

// TestKillNineThenResume kills the run with SIGKILL at random moments,
// then reruns until it exits 0: the results hold every row done exactly
// once, and the sandbox got every row at least once and at most once more
// per upload in flight at a kill.
func TestKillNineThenResume(t *testing.T) {
	const rows, conc, kills = 40, 4, 3
	dir := genManifest(t, rows)
	srv := startSandbox(t, lsqtest.Options{Latency: 100 * time.Millisecond})
	args := uploadArgs(srv, "manifest.csv", fmt.Sprintf("--concurrency=%d", conc))
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	results := filepath.Join(dir, "manifest.results.csv")

	for i := range kills {
		before := srv.Stats().Accepted
		s := startRun(t, dir, sandboxEnv, args...)
		waitFor(t, "an upload", func() bool { return srv.Stats().Accepted > before })
		time.Sleep(time.Duration(rng.Intn(150)) * time.Millisecond)
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		s.wait(t)
	}

	if n := srv.Stats().Accepted; n >= rows {
		t.Fatalf("after %d kills the sandbox already has %d uploads: no kill hit mid-run",
			kills, n)
	}

	code := -1
	for try := 0; try < 4 && code != 0; try++ {
		code = run(t, dir, sandboxEnv, args...).code
	}
	if code != 0 {
		t.Fatalf("reruns never exited 0 (last %d)", code)
	}

	checkLedger(t, results, rows)
	got := map[string]int{}
	for _, r := range srv.Received() {
		got[r.ID]++
	}
	extra := len(srv.Received()) - rows
	for i := range rows {
		if got[leadID(i)] == 0 {
			t.Errorf("row %d never reached the sandbox", i)
		}
	}
	if extra < 0 || extra > kills*conc {
		t.Errorf("sandbox received %d uploads for %d rows: %d extra, at most %d allowed",
			len(srv.Received()), rows, extra, kills*conc)
	}
	t.Logf("%d kills, %d uploads received for %d rows", kills, len(srv.Received()), rows)
}

// TestSecondRunIsLocked starts a slow run, then a second over the same
// manifest: the second exits 3 at once, names the lock and the holder,
// and sends nothing.
func TestSecondRunIsLocked(t *testing.T) {
	dir := genManifest(t, 6)
	srv := startSandbox(t, lsqtest.Options{Latency: 300 * time.Millisecond})
	first := startRun(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv", "--concurrency=1")...)
	lock := filepath.Join(dir, "manifest.results.csv.lock")
	waitFor(t, "the lock to name its holder", func() bool {
		return strings.Contains(readFileOrEmpty(lock), "pid")
	})

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	if res.code != 3 {
		t.Fatalf("second run exit %d, want 3\n%s", res.code, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "another run holds the lock "+lock,
		fmt.Sprintf("pid %d, started 20", first.cmd.Process.Pid), "nothing was sent")

	if code := first.wait(t); code != 0 {
		t.Fatalf("first run exit %d\n%s", code, first.stderr)
	}
	if st := srv.Stats(); st.Requests != 6 {
		t.Errorf("sandbox saw %d requests, want the first run's 6", st.Requests)
	}
}

func readFileOrEmpty(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestSignalStopsGracefully sends SIGTERM mid-run: uploads in flight
// finish, no new row starts, exit 130; the rerun finishes the rest.
func TestSignalStopsGracefully(t *testing.T) {
	dir := genManifest(t, 12)
	srv := startSandbox(t, lsqtest.Options{Latency: 200 * time.Millisecond})
	results := filepath.Join(dir, "manifest.results.csv")
	s := startRun(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv", "--concurrency=2")...)

	waitFor(t, "a row to finish", func() bool { return dataLines(results) > 0 })
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, s.stderr)
	}

	rows := readCSV(t, results)
	if c := countStatus(rows); c["uploaded"] != len(rows) || len(rows) >= 12 {
		t.Errorf("statuses %v of %d rows: want only uploaded rows, fewer than 12", c, len(rows))
	}
	mustContain(t, "summary", s.stderr.String(),
		fmt.Sprintf("%d not attempted", 12-len(rows)), "stopped early: interrupted by terminated")
	if n := dataLines(filepath.Join(dir, "manifest.failures.csv")); n != 0 {
		t.Errorf("failures CSV has %d rows, want none (not attempted rows stay out)", n)
	}

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	if res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	mustContain(t, "summary", res.stderr,
		fmt.Sprintf("12 rows: %d uploaded, %d skipped", 12-len(rows), len(rows)))
	if n := len(srv.Received()); n != 12 {
		t.Errorf("sandbox received %d uploads, want 12", n)
	}
}

// TestSecondSignalCancelsAtOnce: a second SIGINT abandons uploads in
// flight without waiting for the grace period.
func TestSecondSignalCancelsAtOnce(t *testing.T) {
	dir := genManifest(t, 4)
	srv := startSandbox(t, lsqtest.Options{Latency: 20 * time.Second})
	s := startRun(t, dir, sandboxEnv,
		uploadArgs(srv, "manifest.csv", "--concurrency=2", "--grace=60s")...)
	waitFor(t, "uploads in flight", func() bool { return srv.Stats().Requests >= 2 })

	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGINT)
	if code := s.wait(t); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, s.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to stop after the second signal", d)
	}
	rows := readCSV(t, filepath.Join(dir, "manifest.results.csv"))
	if len(rows) != 2 || rows[0]["error_type"] != "interrupted" {
		t.Errorf("rows %v, want the 2 in-flight rows marked interrupted", rows)
	}
}

// TestMaxDurationStopsWithExit4 ends a slow run by --max-duration; the
// next run resumes.
func TestMaxDurationStopsWithExit4(t *testing.T) {
	dir := genManifest(t, 10)
	srv := startSandbox(t, lsqtest.Options{Latency: 150 * time.Millisecond})
	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv", "--concurrency=1",
		"--max-duration=500ms")...)
	if res.code != 4 {
		t.Fatalf("exit %d, want 4\n%s", res.code, res.stderr)
	}
	mustContain(t, "summary", res.stderr, "--max-duration 500ms reached; resume by running again")

	res = run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	if res.code != 0 || len(srv.Received()) != 10 {
		t.Fatalf("rerun exit %d, %d received; want 0 and 10\n%s", res.code,
			len(srv.Received()), res.stderr)
	}
	checkLedger(t, filepath.Join(dir, "manifest.results.csv"), 10)
}

// TestSignalInterruptsBackoffWait: a row waiting to retry is not an upload
// in flight; SIGTERM ends its wait at once instead of after the grace.
func TestSignalInterruptsBackoffWait(t *testing.T) {
	dir := genManifest(t, 1)
	srv := startSandbox(t, lsqtest.Options{FailRate: 1})
	args := append(uploadArgs(srv, "manifest.csv"), "--backoff-initial=40s",
		"--backoff-max=40s", "--grace=60s")
	s := startRun(t, dir, sandboxEnv, args...)
	waitFor(t, "the retry warning", func() bool {
		return strings.Contains(s.stderr.String(), `"msg":"retrying"`)
	})

	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, s.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopping took %s: the backoff wait was not interrupted", d)
	}
	r := readCSV(t, filepath.Join(dir, "manifest.results.csv"))[0]
	if r["status"] != "failed" || r["error_type"] != "interrupted" || r["attempts"] != "1" {
		t.Errorf("row %v, want failed, interrupted after 1 attempt", r)
	}
}

// TestWindowsPathsResume: a manifest written on Windows (CRLF, a BOM,
// backslash separators) uploads, and its rerun skips every row.
func TestWindowsPathsResume(t *testing.T) {
	dir := genManifest(t, 3)
	data := readFile(t, filepath.Join(dir, "manifest.csv"))
	data = strings.ReplaceAll(strings.ReplaceAll(data, "docs/", `docs\`), "\n", "\r\n")
	writeFile(t, dir, "manifest.csv", "\ufeff"+data)
	srv := startSandbox(t, lsqtest.Options{})

	for _, want := range []string{"3 rows: 3 uploaded, 0 skipped",
		"3 rows: 0 uploaded, 3 skipped"} {
		res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
		if res.code != 0 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		mustContain(t, "summary", res.stderr, want)
	}
	if n := len(srv.Received()); n != 3 {
		t.Errorf("sandbox received %d uploads, want 3", n)
	}
}

// TestLedgerSurvivesBadNightsAndRespelling: a night whose files are
// missing, a header respelled with aliases and a results file re-saved
// with a byte-order mark all keep the record of what was uploaded.
func TestLedgerSurvivesBadNightsAndRespelling(t *testing.T) {
	dir := genManifest(t, 4)
	srv := startSandbox(t, lsqtest.Options{})
	results := filepath.Join(dir, "manifest.results.csv")
	step := func(want string, code int) {
		t.Helper()
		res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
		if res.code != code {
			t.Fatalf("exit %d, want %d\n%s", res.code, code, res.stderr)
		}
		mustContain(t, "summary", res.stderr, want)
	}

	step("4 rows: 4 uploaded", 0)
	if err := os.Rename(filepath.Join(dir, "docs"), filepath.Join(dir, "away")); err != nil {
		t.Fatal(err)
	}
	step("4 rows: 0 uploaded, 0 skipped, 0 failed, 4 rejected", 1)
	if err := os.Rename(filepath.Join(dir, "away"), filepath.Join(dir, "docs")); err != nil {
		t.Fatal(err)
	}
	step("4 rows: 0 uploaded, 4 skipped", 0)

	data := readFile(t, filepath.Join(dir, "manifest.csv"))
	writeFile(t, dir, "manifest.csv", strings.Replace(data,
		"file_path,id,schema_name,entity_schema_name",
		"FilePath, Lead_ID ,SchemaName,EntitySchemaName", 1))
	step("4 rows: 0 uploaded, 4 skipped", 0)

	writeFile(t, dir, "manifest.results.csv", "\ufeff"+readFile(t, results))
	step("4 rows: 0 uploaded, 4 skipped", 0)
	if n := len(srv.Received()); n != 4 {
		t.Errorf("sandbox received %d uploads, want 4", n)
	}
	rows := readCSV(t, results)
	if c := countStatus(rows); len(rows) != 4 || c["skipped"] != 4 || rows[0]["FilePath"] == "" {
		t.Errorf("results: %d rows %v, want the 4 rows skipped under the new header", len(rows), c)
	}
}

// TestLedgerKeepsDestinationsApart: rows uploaded to one destination (a
// rehearsal) never count as uploaded to another.
func TestLedgerKeepsDestinationsApart(t *testing.T) {
	dir := genManifest(t, 3)
	rehearsal := startSandbox(t, lsqtest.Options{})
	real := startSandbox(t, lsqtest.Options{})
	if res := run(t, dir, sandboxEnv, uploadArgs(rehearsal, "manifest.csv")...); res.code != 0 {
		t.Fatalf("rehearsal exit %d\n%s", res.code, res.stderr)
	}

	res := run(t, dir, sandboxEnv, uploadArgs(real, "manifest.csv")...)
	if res.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", res.code, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "records uploads to "+rehearsal.URL,
		"and this run uploads to "+real.URL, "name another --results")
	if n := real.Stats().Requests; n != 0 {
		t.Errorf("the refused run sent %d requests", n)
	}

	res = run(t, dir, sandboxEnv, uploadArgs(real, "manifest.csv", "--results", "real.csv")...)
	if res.code != 0 || len(real.Received()) != 3 {
		t.Errorf("own results: exit %d, %d received; want 0 and 3", res.code,
			len(real.Received()))
	}

	sbx := run(t, dir, nil, "run", "--sandbox", "--log-format=json", "manifest.csv")
	if sbx.code != 0 {
		t.Fatalf("--sandbox exit %d\n%s", sbx.code, sbx.stderr)
	}
	mustContain(t, "summary", sbx.stderr, "3 rows: 3 uploaded",
		filepath.Join(dir, "manifest.sandbox.results.csv"))
}

// TestStopKeepsUnsentRowsOut: rows waiting for the quota when SIGTERM
// comes sent nothing; they are not attempted, not failures.
func TestStopKeepsUnsentRowsOut(t *testing.T) {
	dir := genManifest(t, 4)
	srv := startSandbox(t, lsqtest.Options{})
	args := append(uploadArgs(srv, "manifest.csv"), "--rate=1", "--rate-window=20s")
	s := startRun(t, dir, sandboxEnv, args...)
	waitFor(t, "the first upload", func() bool { return srv.Stats().Accepted == 1 })
	waitFor(t, "its result", func() bool {
		return dataLines(filepath.Join(dir, "manifest.results.csv")) == 1
	})

	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, s.stderr)
	}
	mustContain(t, "summary", s.stderr.String(), "1 uploaded, 0 skipped, 0 failed, "+
		"0 rejected, 3 not attempted")
	if n := dataLines(filepath.Join(dir, "manifest.failures.csv")); n != 0 {
		t.Errorf("failures CSV has %d rows, want none", n)
	}
}

// TestDeadlineAfterLastRowExitsByResults: --max-duration that passes while
// the last uploads finish within the grace cuts nothing short.
func TestDeadlineAfterLastRowExitsByResults(t *testing.T) {
	dir := genManifest(t, 2)
	srv := startSandbox(t, lsqtest.Options{Latency: time.Second})
	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv", "--max-duration=300ms")...)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0 (both rows finished)\n%s", res.code, res.stderr)
	}
	mustContain(t, "summary", res.stderr, "2 rows: 2 uploaded")
}

// TestSharedResultsKeepTheirHistory: a fix-up manifest with fewer columns
// run into the manifest's results keeps every earlier row's columns; a
// failures path naming the results file is refused; a manifest column
// spelled like one of ours travels renamed.
func TestSharedResultsKeepTheirHistory(t *testing.T) {
	dir := copyExamples(t)
	data := readFile(t, filepath.Join(dir, "manifest.csv"))
	writeFile(t, dir, "manifest.csv", strings.Replace(data, "student_name", "Error Type", 1))
	srv := startSandbox(t, lsqtest.Options{})
	if res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...); res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	header := strings.SplitN(readFile(t, filepath.Join(dir, "manifest.results.csv")), "\n", 2)[0]
	mustContain(t, "header", header, ",manifest_Error Type,")

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.failures.csv",
		"--failures", "manifest.results.csv")...)
	if res.code != 2 {
		t.Fatalf("--failures over the results: exit %d, want 2\n%s", res.code, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "records uploads: it is a results file")

	writeFile(t, dir, "fix.csv", "file_path,id,schema_name,entity_schema_name\n"+
		"docs/pan-card-ravi.pdf,c0ffee00-1234-4abc-8def-0123456789a3,mx_CustomObject_9,mx_KYC\n")
	res = run(t, dir, sandboxEnv, uploadArgs(srv, "fix.csv", "--results", "manifest.results.csv")...)
	if res.code != 0 {
		t.Fatalf("fix-up exit %d\n%s", res.code, res.stderr)
	}
	res = run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	mustContain(t, "summary", res.stderr, "20 rows: 0 uploaded, 20 skipped")
	if n := len(srv.Received()); n != 21 {
		t.Errorf("sandbox received %d uploads, want 21", n)
	}
}

// TestSameFieldKeepsTheLaterFile: two rows for one field go in manifest
// order, so the field ends with the later line's file.
func TestSameFieldKeepsTheLaterFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "old-scan.pdf", "%PDF-1.4 SPECIMEN "+strings.Repeat("old ", 1<<19))
	writeFile(t, dir, "new-scan.pdf", "%PDF-1.4 SPECIMEN new")
	writeFile(t, dir, "m.csv", "file_path,id,schema_name,entity_schema_name\n"+
		"old-scan.pdf,"+leadID(1)+",mx_CustomObject_1,mx_KYC\n"+
		"new-scan.pdf,"+leadID(1)+",mx_CustomObject_1,mx_KYC\n")
	srv := startSandbox(t, lsqtest.Options{})

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "m.csv")...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	got := srv.Received()
	if len(got) != 2 || got[1].FileName != "new-scan.pdf" {
		t.Errorf("received %+v, want new-scan.pdf last", got)
	}
	mustContain(t, "log", res.stderr, "two rows upload to the same field")
}

// TestPermanentAnswerDuringGraceStands: a 400 that arrives while the run
// is stopping is the row's outcome, not an interruption.
func TestPermanentAnswerDuringGraceStands(t *testing.T) {
	dir := genManifest(t, 1)
	srv := startSandbox(t, lsqtest.Options{Latency: 700 * time.Millisecond,
		MaxFileSize: 10})
	s := startRun(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	waitFor(t, "the upload", func() bool { return srv.Stats().Requests == 1 })
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1: the row failed, nothing was cut short\n%s", code, s.stderr)
	}
	r := readCSV(t, filepath.Join(dir, "manifest.results.csv"))[0]
	if r["error_type"] != "MXFileSizeExceededException" || r["http_status"] != "400" {
		t.Errorf("row %v, want the server's 400", r)
	}
}

// TestLockRefusesSomeoneElsesFile: --lock naming an existing file that is
// not a lock is refused and left alone.
func TestLockRefusesSomeoneElsesFile(t *testing.T) {
	dir := genManifest(t, 1)
	writeFile(t, dir, "precious.csv", "a,b\n1,2\n")
	res := run(t, dir, nil, "run", "--sandbox", "--lock", "precious.csv", "manifest.csv")
	if res.code != 2 || readFile(t, filepath.Join(dir, "precious.csv")) != "a,b\n1,2\n" {
		t.Errorf("exit %d, file %q; want 2 and the file untouched\n%s", res.code,
			readFile(t, filepath.Join(dir, "precious.csv")), res.stderr)
	}
}

// TestStopAfterThrottlesOnly: rows the quota refused and that were waiting
// to try again when SIGTERM came stored nothing: not attempted.
func TestStopAfterThrottlesOnly(t *testing.T) {
	dir := genManifest(t, 3)
	srv := startSandbox(t, lsqtest.Options{Quota: 1, Window: 20 * time.Second})
	args := append(uploadArgs(srv, "manifest.csv"), "--rate-window=20s")
	s := startRun(t, dir, sandboxEnv, args...)
	waitFor(t, "two throttles", func() bool { return srv.Stats().Throttled == 2 })

	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, s.stderr)
	}
	mustContain(t, "summary", s.stderr.String(), "1 uploaded, 0 skipped, 0 failed, "+
		"0 rejected, 2 not attempted")
	if n := dataLines(filepath.Join(dir, "manifest.failures.csv")); n != 0 {
		t.Errorf("failures CSV has %d rows, want none", n)
	}
}

// TestResultsDoNotGrowUnderDeadline: nights that all end by --max-duration
// leave at most one row per manifest row in the results.
func TestResultsDoNotGrowUnderDeadline(t *testing.T) {
	dir := genManifest(t, 12)
	srv := startSandbox(t, lsqtest.Options{Latency: 100 * time.Millisecond})
	results := filepath.Join(dir, "manifest.results.csv")
	for night := range 4 {
		res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv", "--concurrency=1",
			"--max-duration=350ms")...)
		if res.code != 4 && res.code != 0 {
			t.Fatalf("night %d: exit %d\n%s", night, res.code, res.stderr)
		}
		if n := dataLines(results); n > 12 {
			t.Fatalf("night %d: results hold %d rows for 12 manifest rows", night, n)
		}
	}
}
