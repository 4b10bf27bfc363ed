package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// bare runs a shell command line as cron does: an empty environment but
// env, working directory /, no terminal, nothing on standard input.
func bare(t *testing.T, env []string, line string) result {
	t.Helper()
	cmd := exec.Command("/usr/bin/env", append(append([]string{"-i"}, env...),
		"/bin/sh", "-c", line)...)
	cmd.Dir = "/"
	cmd.Stdin = nil
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// credentialsFile writes a credentials file with the sandbox keys.
func credentialsFile(t *testing.T, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials")
	body := "# lsqupload keys\nexport LSQ_ACCESS_KEY='" + lsqtest.SandboxAccessKey + "'\n" +
		"LSQ_SECRET_KEY=" + lsqtest.SandboxSecretKey + "\n"
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCronLikeRun runs from / with a bare environment and keys from a
// credentials file: exit 0, JSON logs without colours, and the file is
// refused when others can read it.
func TestCronLikeRun(t *testing.T) {
	dir := copyExamples(t)
	srv := startSandbox(t, lsqtest.Options{})
	creds := credentialsFile(t, 0o600)
	manifest := filepath.Join(dir, "manifest.csv")
	line := binary + " run --endpoint " + srv.URL + " " + strings.Join(fast, " ") +
		" --credentials " + creds + " " + manifest + " </dev/null"

	res := bare(t, []string{"PATH=/usr/bin:/bin"}, line)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stderr, "\x1b[") {
		t.Error("logs carry terminal colour codes without a terminal")
	}
	mustContain(t, "log", res.stderr, `{"level":"info"`)
	checkLedger(t, filepath.Join(dir, "manifest.results.csv"), 20)

	loose := credentialsFile(t, 0o644)
	res = bare(t, []string{"PATH=/usr/bin:/bin"}, strings.Replace(line, creds, loose, 1))
	if res.code != 2 {
		t.Fatalf("loose credentials: exit %d, want 2\n%s", res.code, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "is readable by others (mode 0644); run: chmod 600")
	if strings.Contains(res.stderr, lsqtest.SandboxSecretKey) {
		t.Error("the refusal printed the secret key")
	}
}

// TestStartFailuresExit2 covers the ways a run cannot start.
func TestStartFailuresExit2(t *testing.T) {
	dir := copyExamples(t)
	writeFile(t, dir, "nohead.csv", "path,entity\ndocs/a.pdf,lead\n")
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no region", sandboxEnv, []string{"run", "manifest.csv"},
			"a real run needs --region or --endpoint"},
		{"unknown region", sandboxEnv, []string{"run", "--region", "xx1", "manifest.csv"},
			`unknown region "xx1"`},
		{"missing access key", []string{"LSQ_SECRET_KEY=s"},
			[]string{"run", "--region", "in21", "manifest.csv"},
			"LSQ_ACCESS_KEY is not set in the environment"},
		{"missing secret key", []string{"LSQ_ACCESS_KEY=a"},
			[]string{"run", "--region", "in21", "manifest.csv"},
			"LSQ_SECRET_KEY is not set in the environment"},
		{"plain http elsewhere", sandboxEnv,
			[]string{"run", "--endpoint", "http://files.example.com", "manifest.csv"},
			"plain http would send the keys unencrypted"},
		{"missing columns", sandboxEnv, []string{"run", "--sandbox", "nohead.csv"},
			"missing required column(s) id, schema_name, entity_schema_name"},
		{"no manifest", sandboxEnv, []string{"run", "--sandbox", "absent.csv"},
			"manifest: stat"},
		{"results over manifest", sandboxEnv,
			[]string{"run", "--sandbox", "--results", "manifest.csv", "manifest.csv"},
			"name the same file"},
		{"bad flag", sandboxEnv, []string{"run", "--concurrency=0", "manifest.csv"},
			"--concurrency must be at least 1"},
		{"two manifests", sandboxEnv, []string{"run", "--sandbox", "a.csv", "b.csv"},
			"want exactly one MANIFEST, got 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, dir, c.env, c.args...)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", res.code, res.stderr)
			}
			mustContain(t, "stderr", res.stderr, c.want)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.results.csv")); err == nil {
		t.Error("a run that could not start wrote results")
	}
}

// TestHelpListsExitCodes checks --help names every exit code.
func TestHelpListsExitCodes(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help", "run"}, {"run", "--help"}} {
		res := run(t, t.TempDir(), nil, args...)
		if res.code != 0 {
			t.Fatalf("%v: exit %d", args, res.code)
		}
		for _, code := range []string{"0 ", "1 ", "2 ", "3 ", "4 ", "130 "} {
			mustContain(t, strings.Join(args, " "), res.stdout, "\n  "+code)
		}
	}
}

// TestNightlyWrapper runs examples/nightly/lsqupload-nightly.sh against the
// sandbox from a bare environment: one row fails on the first pass and is
// uploaded by the rerun of the failures; the night's folder keeps it all.
func TestNightlyWrapper(t *testing.T) {
	dir := copyExamples(t)
	rows := manifestRows(t, filepath.Join(dir, "manifest.csv"))
	srv := startSandbox(t, lsqtest.Options{Script: map[string]lsqtest.Scripted{
		rows[4]["id"]: {Variant: "bad-request", Times: 1},
	}})
	script, err := filepath.Abs("../../examples/nightly/lsqupload-nightly.sh")
	if err != nil {
		t.Fatal(err)
	}
	env := append([]string{"PATH=/usr/bin:/bin", "LSQUPLOAD=" + binary,
		"LSQ_NIGHT=2026-12-04"}, sandboxEnv...)
	line := script + " " + filepath.Join(dir, "manifest.csv") + " --endpoint " + srv.URL +
		" " + strings.Join(fast, " ")

	res := bare(t, env, line)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
	}
	night := filepath.Join(dir, "runs", "2026-12-04")
	mustContain(t, "stderr", res.stderr, "rerunning the failures of manifest once",
		"exit 0; outputs in "+night)
	if n := dataLines(filepath.Join(night, "manifest.failures.csv")); n != 1 {
		t.Errorf("first pass failures: %d rows, want 1", n)
	}
	if n := dataLines(filepath.Join(night, "manifest.retry.failures.csv")); n != 0 {
		t.Errorf("rerun failures: %d rows, want 0", n)
	}
	checkLedger(t, filepath.Join(night, "manifest.results.csv"), 20)
	checkLedger(t, filepath.Join(dir, "manifest.results.csv"), 20)
	if n := len(srv.Received()); n != 20 {
		t.Errorf("sandbox received %d uploads, want 20", n)
	}
	info, err := os.Stat(night)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("night folder %v mode %v, want 0700", err, info.Mode().Perm())
	}

	res = bare(t, env, line)
	if res.code != 0 || len(srv.Received()) != 20 {
		t.Errorf("second night: exit %d, %d received; want 0 and 20", res.code,
			len(srv.Received()))
	}
}

// cronJob is the parsed job line of examples/nightly/crontab.
type cronJob struct {
	env      []string
	schedule []string
	command  string
}

func parseCrontab(t *testing.T, path string) cronJob {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var job cronJob
	assign := regexp.MustCompile(`^[A-Z_]+=`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case assign.MatchString(line):
			job.env = append(job.env, line)
		default:
			fields := strings.Fields(line)
			if job.command != "" || len(fields) < 6 {
				t.Fatalf("unexpected crontab line %q", line)
			}
			job.schedule = fields[:5]
			job.command = strings.Join(fields[5:], " ")
		}
	}
	return job
}

// TestCrontabEntry checks the example crontab's schedule and runs its
// command as cron would, with the installed paths pointed at the test's.
func TestCrontabEntry(t *testing.T) {
	job := parseCrontab(t, "../../examples/nightly/crontab")
	if got := strings.Join(job.schedule, " "); got != "30 1 * * *" {
		t.Errorf("schedule %q, want nightly at 01:30", got)
	}
	dir := copyExamples(t)
	srv := startSandbox(t, lsqtest.Options{})
	logDir := t.TempDir()
	replace := installed(t, dir, srv,
		"/var/log/lsqupload", logDir,
		"/var/lib/lsqupload/runs", filepath.Join(dir, "nights"))

	var env []string
	for _, e := range job.env {
		env = append(env, replace.Replace(e))
	}
	res := bare(t, env, replace.Replace(job.command))
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\nlog:\n%s", res.code,
			readFileOrEmpty(filepath.Join(logDir, "nightly.log")))
	}
	mustContain(t, "log", readFileOrEmpty(filepath.Join(logDir, "nightly.log")),
		"lsqupload: 20 rows: 20 uploaded", "lsqupload-nightly: exit 0")
	if len(srv.Received()) != 20 {
		t.Errorf("sandbox received %d uploads, want 20", len(srv.Received()))
	}
}

// installed maps the paths and flags of the example units, as installed
// on a server, to this test's binary, wrapper, manifest in dir, sandbox
// and a private credentials file; more holds further old, new pairs.
func installed(t *testing.T, dir string, srv *lsqtest.Server, more ...string) *strings.Replacer {
	t.Helper()
	script, err := filepath.Abs("../../examples/nightly/lsqupload-nightly.sh")
	if err != nil {
		t.Fatal(err)
	}
	pairs := append([]string{
		"/usr/local/bin/lsqupload-nightly.sh", script,
		"/srv/kyc/manifest.csv", filepath.Join(dir, "manifest.csv"),
		"--region in21", "--endpoint " + srv.URL + " " + strings.Join(fast, " "),
		"/etc/lsqupload/credentials", credentialsFile(t, 0o600),
	}, more...)
	return strings.NewReplacer(append(pairs, "/usr/local/bin/lsqupload", binary)...)
}
