package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// binary is the lsqupload executable the end-to-end tests drive, built
// once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lsqupload-e2e-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "lsqupload")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lsqupload:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fast are the run flags that shrink every wait, so tests never sleep
// through production intervals.
var fast = []string{
	"--backoff-initial=5ms", "--backoff-max=40ms", "--rate-window=300ms", "--rate=1000",
	"--concurrency=4", "--log-format=json",
}

// sandboxEnv holds the sandbox keys, as an operator's environment would.
var sandboxEnv = []string{
	"LSQ_ACCESS_KEY=" + lsqtest.SandboxAccessKey,
	"LSQ_SECRET_KEY=" + lsqtest.SandboxSecretKey,
}

// startSandbox starts a sandbox on 127.0.0.1 for one test.
func startSandbox(t *testing.T, opts lsqtest.Options) *lsqtest.Server {
	t.Helper()
	if opts.Window == 0 {
		opts.Window = 300 * time.Millisecond
	}
	srv, err := lsqtest.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// result is one run of the binary.
type result struct {
	code   int
	stdout string
	stderr string
}

// run runs the binary in dir with env added to a minimal environment.
func run(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// uploadArgs returns "run" arguments against srv for manifest.
func uploadArgs(srv *lsqtest.Server, manifest string, extra ...string) []string {
	args := append([]string{"run", "--endpoint", srv.URL}, fast...)
	return append(append(args, extra...), manifest)
}

// copyExamples copies examples/ into a fresh folder and returns it.
func copyExamples(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("..", "..", "examples")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeFile writes a file under dir, creating folders.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readCSV reads a CSV output into maps keyed by column name.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
}

// byLine indexes output rows by their line column.
func byLine(rows []map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, r := range rows {
		out[r["line"]] = r
	}
	return out
}

// manifestRows reads a manifest's data rows as maps.
func manifestRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	return readCSV(t, path)
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// countStatus counts output rows by status.
func countStatus(rows []map[string]string) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r["status"]]++
	}
	return out
}

// mustContain fails unless s holds every one of subs.
func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}
