package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// unit is a parsed systemd unit file: section → key → values.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	return u
}

func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Fatalf("[%s] %s has %d values, want 1", section, key, len(v))
	}
	return v[0]
}

// TestSystemdUnits checks the example timer and service, then runs the
// service's ExecStart the way systemd would: its Environment, its working
// directory, no terminal, with the installed paths pointed at the test's.
func TestSystemdUnits(t *testing.T) {
	timer := parseUnit(t, "../../examples/nightly/lsqupload-nightly.timer")
	service := parseUnit(t, "../../examples/nightly/lsqupload-nightly.service")

	checks := map[string][2]string{
		"timer unit":     {timer.one(t, "Timer", "Unit"), "lsqupload-nightly.service"},
		"calendar":       {timer.one(t, "Timer", "OnCalendar"), "*-*-* 01:30:00"},
		"persistent":     {timer.one(t, "Timer", "Persistent"), "true"},
		"install":        {timer.one(t, "Install", "WantedBy"), "timers.target"},
		"type":           {service.one(t, "Service", "Type"), "oneshot"},
		"umask":          {service.one(t, "Service", "UMask"), "0077"},
		"kill signal":    {service.one(t, "Service", "KillSignal"), "SIGTERM"},
		"failures ok":    {service.one(t, "Service", "SuccessExitStatus"), "1 4"},
		"stop timeout":   {service.one(t, "Service", "TimeoutStopSec"), "60"},
		"working folder": {service.one(t, "Service", "WorkingDirectory"), "/var/lib/lsqupload"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %q, want %q", name, c[0], c[1])
		}
	}

	dir := copyExamples(t)
	srv := startSandbox(t, lsqtest.Options{})
	work := t.TempDir()
	replace := installed(t, dir, srv, "/var/lib/lsqupload", work)
	env := []string{"PATH=/usr/bin:/bin"}
	for _, e := range service["Service"]["Environment"] {
		env = append(env, replace.Replace(e))
	}
	line := "cd " + replace.Replace(service.one(t, "Service", "WorkingDirectory")) +
		" && umask 077 && " + replace.Replace(service.one(t, "Service", "ExecStart")) +
		" </dev/null"

	res := bare(t, env, line)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
	}
	mustContain(t, "journal", res.stderr, "lsqupload: 20 rows: 20 uploaded",
		"outputs in "+filepath.Join(work, "runs"))
	if len(srv.Received()) != 20 {
		t.Errorf("sandbox received %d uploads, want 20", len(srv.Received()))
	}
}
