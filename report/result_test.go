package report_test

import (
	"slices"
	"testing"

	"github.com/lsqupload/lsqupload/report"
)

func TestColumns(t *testing.T) {
	want := []string{"line", "status", "attempts", "http_status", "error_type", "error",
		"uploaded_file", "bytes", "duration_ms", "finished_at", "file_mtime",
		"destination"}
	got := report.Columns()
	if !slices.Equal(got, want) {
		t.Fatalf("Columns() = %q, want %q", got, want)
	}

	got[0] = "changed"
	if again := report.Columns(); again[0] != "line" {
		t.Errorf("changing the returned slice changed Columns(): %q", again)
	}
}

func TestDefuse(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "server said no", "server said no"},
		{"equals", "=1+2", "'=1+2"},
		{"plus", "+1", "'+1"},
		{"minus", "-2", "'-2"},
		{"at", "@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"hyperlink", `=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"leading tab", "\t=1+2", " =1+2"},
		{"leading carriage return", "\r=1+2", " =1+2"},
		{"newline inside", "first\nsecond", "first second"},
		{"crlf inside", "first\r\nsecond", "first  second"},
		{"newline then formula", "x\n=1+2", "x =1+2"},
		{"other controls", "a\x00b\x1bc\x7fd", "a b c d"},
		{"operator later", "a=b+c-d@e", "a=b+c-d@e"},
		{"already quoted", "'=1", "'=1"},
		{"non-ascii kept", "déjà vu — ok", "déjà vu — ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.Defuse(tt.in); got != tt.want {
				t.Errorf("Defuse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRebasePath(t *testing.T) {
	tests := []struct {
		name, p, from, to, want string
	}{
		{"empty", "", "/data/in", "/data/out", ""},
		{"same folder", "docs/a.pdf", "/data/in", "/data/in", "docs/a.pdf"},
		{"same folder, other spelling", "docs/a.pdf", "/data/in/", "/data/in", "docs/a.pdf"},
		{"absolute", "/srv/docs/a.pdf", "/data/in", "/data/out", "/srv/docs/a.pdf"},
		{"sibling folder", "docs/a.pdf", "/data/in", "/data/out", "../in/docs/a.pdf"},
		{"subfolder", "docs/a.pdf", "/data/in", "/data/in/out", "../docs/a.pdf"},
		{"parent folder", "docs/a.pdf", "/data/in", "/data", "in/docs/a.pdf"},
		{"into the file's folder", "docs/a.pdf", "/data/in", "/data/in/docs", "a.pdf"},
		{"dot segments", "./docs//x/../a.pdf", "/data/in", "/data/out", "../in/docs/a.pdf"},
		{"going up", "../shared/a.pdf", "/data/in", "/data/in/out/deep",
			"../../../shared/a.pdf"},
		{"root", "a.pdf", "/data", "/", "data/a.pdf"},
		{"spaces and commas", "scans/Ravi, Example.pdf", "/data/in", "/data/out",
			"../in/scans/Ravi, Example.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.RebasePath(tt.p, tt.from, tt.to); got != tt.want {
				t.Errorf("RebasePath(%q, %q, %q) = %q, want %q", tt.p, tt.from, tt.to, got, tt.want)
			}
		})
	}
}
