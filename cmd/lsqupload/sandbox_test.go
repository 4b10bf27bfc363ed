package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// TestSandboxCommand starts "lsqupload sandbox" on a port alone (which
// binds loopback), uploads the examples to it with a scripted 400 and a
// quota answered as 403, reads /sandbox/received, and stops it.
func TestSandboxCommand(t *testing.T) {
	dir := copyExamples(t)
	rows := manifestRows(t, filepath.Join(dir, "manifest.csv"))
	cmd := exec.Command(binary, "sandbox", "--listen", "0", "--quota", "6",
		"--window", "300ms", "--throttle-status", "403", "--respond", rows[0]["id"]+"=bad-request")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/File/Upload") {
		t.Fatalf("first stdout line %q is not a loopback upload URL", url)
	}

	args := append(append([]string{"run", "--endpoint", url}, fast...), "manifest.csv")
	res := run(t, dir, sandboxEnv, args...)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (one scripted 400)\n%s", res.code, res.stderr)
	}
	mustContain(t, "log", res.stderr, `"error_type":"throttle"`, `"http_status":403`)

	resp, err := http.Get(strings.TrimSuffix(url, "/File/Upload") + "/sandbox/received")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []lsqtest.Received
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &got); err != nil || len(got) != 19 {
		t.Fatalf("received %d uploads (%v), want 19", len(got), err)
	}
	if got[0].SHA256 == "" || got[0].Size == 0 || got[0].EntitySchemaName == "" {
		t.Errorf("received entry lacks fields: %+v", got[0])
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("sandbox exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop on SIGTERM")
	}
}
