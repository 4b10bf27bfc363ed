package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// TestExamplesUploadEveryRowOnce runs the bundled manifest: every row is
// uploaded, and the sandbox received each exactly once, byte for byte,
// with the right form fields.
func TestExamplesUploadEveryRowOnce(t *testing.T) {
	dir := copyExamples(t)
	srv := startSandbox(t, lsqtest.Options{})

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
	}
	mustContain(t, "summary", res.stderr, "20 rows: 20 uploaded, 0 skipped, 0 failed, "+
		"0 rejected, 0 not attempted")

	want := manifestRows(t, filepath.Join(dir, "manifest.csv"))
	got := readCSV(t, filepath.Join(dir, "manifest.results.csv"))
	if len(got) != len(want) {
		t.Fatalf("results has %d rows, want %d", len(got), len(want))
	}
	if c := countStatus(got); c["uploaded"] != 20 {
		t.Fatalf("statuses %v, want 20 uploaded", c)
	}

	received := srv.Received()
	if len(received) != len(want) {
		t.Fatalf("sandbox received %d uploads, want %d", len(received), len(want))
	}
	byTarget := map[string]lsqtest.Received{}
	for _, r := range received {
		key := r.ID + "|" + r.SchemaName + "|" + r.EntitySchemaName
		if _, dup := byTarget[key]; dup {
			t.Errorf("target %s received twice", key)
		}
		byTarget[key] = r
	}
	for _, m := range want {
		r, ok := byTarget[m["id"]+"|"+m["schema_name"]+"|"+m["entity_schema_name"]]
		if !ok {
			t.Errorf("row %s was not received", m["file_path"])
			continue
		}
		checkReceived(t, dir, m, r)
	}
}

// checkReceived compares one received upload with its manifest row.
func checkReceived(t *testing.T, dir string, m map[string]string, r lsqtest.Received) {
	t.Helper()
	path := filepath.Join(dir, m["file_path"])
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	entity := "0"
	if m["entity"] != "lead" {
		entity = "1"
	}
	wantFields := map[string][2]string{
		"sha256":          {r.SHA256, sha256File(t, path)},
		"size":            {strconv.FormatInt(r.Size, 10), strconv.FormatInt(info.Size(), 10)},
		"file_name":       {r.FileName, filepath.Base(path)},
		"entity":          {r.Entity, entity},
		"file_type":       {r.FileType, "7"},
		"file_storage":    {r.FileStorageType, "0"},
		"storage_version": {r.StorageVersion, "0"},
		"enable_resize":   {r.EnableResize, "false"},
	}
	for name, v := range wantFields {
		if v[0] != v[1] {
			t.Errorf("%s: %s = %q, want %q", m["file_path"], name, v[0], v[1])
		}
	}
}

// TestFaultsAreRetried injects 5xx answers and dropped connections: every
// row still ends uploaded, and the retries show in attempts.
func TestFaultsAreRetried(t *testing.T) {
	dir := copyExamples(t)
	srv := startSandbox(t, lsqtest.Options{FailRate: 0.3, DropRate: 0.05, Seed: 7})

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv", "--max-attempts=12")...)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
	}

	rows := readCSV(t, filepath.Join(dir, "manifest.results.csv"))
	attempts := 0
	for _, r := range rows {
		if r["status"] != "uploaded" {
			t.Errorf("line %s: status %s (%s)", r["line"], r["status"], r["error"])
		}
		n, _ := strconv.Atoi(r["attempts"])
		attempts += n
	}
	st := srv.Stats()
	if attempts != st.Requests {
		t.Errorf("results record %d attempts, sandbox saw %d requests", attempts, st.Requests)
	}
	if st.Injected+st.Dropped == 0 || attempts <= len(rows) {
		t.Errorf("no fault was injected (stats %+v): the test proves nothing", st)
	}
	if len(srv.Received()) != len(rows) {
		t.Errorf("sandbox accepted %d uploads, want %d", len(srv.Received()), len(rows))
	}
	mustContain(t, "log", res.stderr, `"msg":"retrying"`, `"attempt":1`, `"delay":`)
}

// TestPermanentErrorIsSentOnce scripts a 400 and an HTTP 200 error
// envelope: each row is sent once and fails with the server's type.
func TestPermanentErrorIsSentOnce(t *testing.T) {
	dir := copyExamples(t)
	rows := manifestRows(t, filepath.Join(dir, "manifest.csv"))
	badID, errID := rows[0]["id"], rows[11]["id"]
	srv := startSandbox(t, lsqtest.Options{Script: map[string]lsqtest.Scripted{
		badID: {Variant: "bad-request"}, errID: {Variant: "error-200"},
	}})

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}

	got := byLine(readCSV(t, filepath.Join(dir, "manifest.results.csv")))
	for line, want := range map[string][2]string{
		"2":  {"400", "MXInvalidInputException"},
		"13": {"200", "MXMandatoryAttributeMissingException"},
	} {
		r := got[line]
		if r["status"] != "failed" || r["attempts"] != "1" || r["http_status"] != want[0] ||
			r["error_type"] != want[1] {
			t.Errorf("line %s: %v, want failed after 1 attempt, %v", line, r, want)
		}
	}
	if st := srv.Stats(); st.Requests != 20 {
		t.Errorf("sandbox saw %d requests, want 20 (one per row)", st.Requests)
	}
	failures := readCSV(t, filepath.Join(dir, "manifest.failures.csv"))
	if len(failures) != 2 {
		t.Errorf("failures has %d rows, want 2", len(failures))
	}
}

// TestThrottlesAreWaitedOut sends faster than the sandbox's quota; the
// rate-limit answer arrives as 429, 403 or 200 and is retried each time.
func TestThrottlesAreWaitedOut(t *testing.T) {
	for _, status := range []int{429, 403, 200} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			dir := copyExamples(t)
			srv := startSandbox(t, lsqtest.Options{Quota: 4, ThrottleStatus: status})

			res := run(t, dir, sandboxEnv, uploadArgs(srv, "manifest.csv")...)
			if res.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
			}
			st := srv.Stats()
			if st.Throttled == 0 || st.Accepted != 20 {
				t.Fatalf("stats %+v: want throttles and 20 accepted", st)
			}
			rows := readCSV(t, filepath.Join(dir, "manifest.results.csv"))
			if c := countStatus(rows); c["uploaded"] != 20 {
				t.Errorf("statuses %v, want 20 uploaded", c)
			}
			mustContain(t, "log", res.stderr, `"error_type":"throttle"`)
		})
	}
}

// TestRetryAfterDropResendsWholeFile drops the first connection of one row
// mid-file; the retry sends the whole file again.
func TestRetryAfterDropResendsWholeFile(t *testing.T) {
	dir := copyExamples(t)
	big := strings.Repeat("SPECIMEN scan line\n", 20000)
	writeFile(t, dir, "docs/big-scan.pdf", "%PDF-1.4\n"+big)
	id := "0f8fad5b-d9cb-469f-a165-70867728950e"
	writeFile(t, dir, "one.csv", "file_path,id,schema_name,entity_schema_name\n"+
		"docs/big-scan.pdf,"+id+",mx_CustomObject_2,mx_KYC\n")
	srv := startSandbox(t, lsqtest.Options{Script: map[string]lsqtest.Scripted{
		id: {Variant: "drop", Times: 1},
	}})

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "one.csv")...)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
	}
	r := readCSV(t, filepath.Join(dir, "one.results.csv"))[0]
	if r["attempts"] != "2" || r["status"] != "uploaded" {
		t.Errorf("row %v, want uploaded after 2 attempts", r)
	}
	got := srv.Received()
	if len(got) != 1 || got[0].SHA256 != sha256File(t, filepath.Join(dir, "docs/big-scan.pdf")) {
		t.Errorf("received %+v, want the whole file once", got)
	}
	if st := srv.Stats(); st.Dropped != 1 {
		t.Errorf("dropped %d connections, want 1", st.Dropped)
	}
}

// TestBrokenManifestThenRerunFailures rejects the broken rows with line and
// column, uploads the good ones, exits 1; after the files are fixed, the
// failures CSV, written in another folder, uploads exactly those rows.
func TestBrokenManifestThenRerunFailures(t *testing.T) {
	dir := copyExamples(t)
	srv := startSandbox(t, lsqtest.Options{})
	failures := filepath.Join(t.TempDir(), "elsewhere", "night.failures.csv")
	if err := os.MkdirAll(filepath.Dir(failures), 0o755); err != nil {
		t.Fatal(err)
	}

	res := run(t, dir, sandboxEnv, uploadArgs(srv, "broken.csv", "--failures", failures)...)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}

	got := byLine(readCSV(t, filepath.Join(dir, "broken.results.csv")))
	wantRejected := map[string]string{
		"3":  "column file_path: file not found: docs/missing-scan.pdf",
		"5":  "column file_path: docs/empty-scan.pdf is empty",
		"6":  "column file_path: docs is a directory, not a file",
		"8":  `column id: lead id "12345-not-a-guid" is not a GUID`,
		"9":  `column id: activity id "ACT-206" is not an event code`,
		"11": `column entity: unknown entity "contact"`,
		"12": "column schema_name: missing value",
		"13": "column id: missing value",
	}
	for line, msg := range wantRejected {
		r := got[line]
		if r["status"] != "rejected" || !strings.HasPrefix(r["error"], msg) ||
			r["attempts"] != "0" {
			t.Errorf("line %s: %s %q, want rejected %q", line, r["status"], r["error"], msg)
		}
	}
	for _, line := range []string{"2", "4", "7", "10", "14"} {
		if got[line]["status"] != "uploaded" {
			t.Errorf("line %s: %v, want uploaded", line, got[line])
		}
	}
	if len(got) != 13 || len(srv.Received()) != 5 {
		t.Fatalf("%d results, %d received; want 13 and 5", len(got), len(srv.Received()))
	}

	// Fix the two file problems; the other rows stay broken.
	writeFile(t, dir, "docs/missing-scan.pdf", "%PDF-1.4 SPECIMEN found scan\n")
	writeFile(t, dir, "docs/empty-scan.pdf", "%PDF-1.4 SPECIMEN rescanned\n")

	res = run(t, filepath.Dir(failures), sandboxEnv, uploadArgs(srv, failures)...)
	if res.code != 1 {
		t.Fatalf("rerun exit %d, want 1 (six rows are still broken)\n%s", res.code, res.stderr)
	}
	rerun := readCSV(t, strings.TrimSuffix(failures, ".csv")+".results.csv")
	if len(rerun) != 8 {
		t.Fatalf("rerun has %d rows, want the 8 failed rows", len(rerun))
	}
	if c := countStatus(rerun); c["uploaded"] != 2 || c["rejected"] != 6 {
		t.Errorf("rerun statuses %v, want 2 uploaded, 6 rejected", c)
	}
	header := strings.SplitN(readFile(t, strings.TrimSuffix(failures, ".csv")+".results.csv"),
		"\n", 2)[0]
	seen := map[string]bool{}
	for _, col := range strings.Split(header, ",") {
		if seen[col] {
			t.Errorf("rerun results header repeats %q: %s", col, header)
		}
		seen[col] = true
	}
	if n := len(srv.Received()); n != 7 {
		t.Errorf("sandbox received %d uploads in all, want 7 (5 + the 2 fixed)", n)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestKeysNeverAppear runs with keys the sandbox refuses: the run stops,
// every row is accounted for, and neither key shows anywhere.
func TestKeysNeverAppear(t *testing.T) {
	dir := copyExamples(t)
	srv := startSandbox(t, lsqtest.Options{})
	access, secret := "AKsecretAccess$9f8e7d", "SKsecretSecret$1a2b3c"
	env := []string{"LSQ_ACCESS_KEY=" + access, "LSQ_SECRET_KEY=" + secret}

	res := run(t, dir, env, uploadArgs(srv, "manifest.csv", "--concurrency=1")...)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "refused the access or secret key")

	rows := readCSV(t, filepath.Join(dir, "manifest.results.csv"))
	if len(rows) != 20 {
		t.Fatalf("results has %d rows, want all 20 accounted for", len(rows))
	}
	if st := srv.Stats(); st.Requests != 1 || st.Unauthorized != 1 {
		t.Errorf("stats %+v, want the one refused request only", st)
	}
	if c := countStatus(rows); c["failed"] != 20 {
		t.Errorf("statuses %v, want 20 failed", c)
	}

	outputs := []string{res.stdout, res.stderr}
	for _, name := range []string{"manifest.results.csv", "manifest.failures.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(data))
	}
	for i, out := range outputs {
		for _, key := range []string{access, secret, "AKsecret", "SKsecret"} {
			if strings.Contains(out, key) {
				t.Errorf("output %d contains a key fragment %q", i, key)
			}
		}
	}
}
