package report_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lsqupload/lsqupload/report"
)

func TestSummaryWriteTo(t *testing.T) {
	tests := []struct {
		name string
		s    report.Summary
		want string
	}{
		{
			name: "complete run",
			s: report.Summary{
				Counts: report.Counts{Uploaded: 3, Skipped: 1, Failed: 1, Rejected: 2,
					Bytes: 1536},
				Elapsed: 1234567891 * time.Nanosecond,
				Results: "/data/m.results.csv", Failures: "/data/m.failures.csv",
			},
			want: "lsqupload: 7 rows: 3 uploaded, 1 skipped, 1 failed, 2 rejected, " +
				"0 not attempted; 1.5 KiB uploaded in 1.235s\n" +
				"lsqupload: results: /data/m.results.csv\n" +
				"lsqupload: failures: /data/m.failures.csv\n",
		},
		{
			name: "stopped early with blank rows",
			s: report.Summary{
				Counts:       report.Counts{Uploaded: 10, Bytes: 10 << 20},
				NotAttempted: 5, Blank: 2, Elapsed: 90 * time.Second,
				Results: "r.csv", Failures: "f.csv",
				Stopped: "interrupted (signal)",
			},
			want: "lsqupload: 15 rows: 10 uploaded, 0 skipped, 0 failed, 0 rejected, " +
				"5 not attempted; 10.0 MiB uploaded in 1m30s\n" +
				"lsqupload: 2 blank manifest rows ignored\n" +
				"lsqupload: stopped early: interrupted (signal)\n" +
				"lsqupload: results: r.csv\n" +
				"lsqupload: failures: f.csv\n",
		},
		{
			name: "nothing",
			s:    report.Summary{Results: "r.csv", Failures: "f.csv"},
			want: "lsqupload: 0 rows: 0 uploaded, 0 skipped, 0 failed, 0 rejected, " +
				"0 not attempted; 0 B uploaded in 0s\n" +
				"lsqupload: results: r.csv\n" +
				"lsqupload: failures: f.csv\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := tt.s.WriteTo(&buf)
			if err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("WriteTo wrote:\n%s\nwant:\n%s", got, tt.want)
			}
			if n != int64(buf.Len()) {
				t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
			}
		})
	}
}

func TestSummaryBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1 << 20, "1.0 MiB"},
		{5<<30 + 512<<20, "5.5 GiB"},
		{3 << 40, "3.0 TiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var buf bytes.Buffer
			s := report.Summary{Counts: report.Counts{Uploaded: 1, Bytes: tt.n}}
			if _, err := s.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			want := "lsqupload: 1 rows: 1 uploaded, 0 skipped, 0 failed, 0 rejected, " +
				"0 not attempted; " + tt.want + " uploaded in 0s\n"
			got, _, _ := bytes.Cut(buf.Bytes(), []byte("lsqupload: results"))
			if string(got) != want {
				t.Errorf("%d bytes:\n got %q\nwant %q", tt.n, got, want)
			}
		})
	}
}

// failingWriter refuses every write.
type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestSummaryWriteToError(t *testing.T) {
	boom := errors.New("stdout closed")
	n, err := report.Summary{}.WriteTo(failingWriter{boom})
	if !errors.Is(err, boom) || n != 0 {
		t.Errorf("WriteTo = %d, %v; want 0, %v", n, err, boom)
	}
}

func TestCountsTotal(t *testing.T) {
	tests := []struct {
		name string
		c    report.Counts
		want int
	}{
		{"zero", report.Counts{}, 0},
		{"each outcome", report.Counts{Uploaded: 1, Failed: 2, Rejected: 3, Skipped: 4}, 10},
		{"bytes not counted", report.Counts{Uploaded: 1, Bytes: 500}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Total(); got != tt.want {
				t.Errorf("Total() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSummaryUnrecorded(t *testing.T) {
	var b strings.Builder
	s := report.Summary{Counts: report.Counts{Uploaded: 2}, Unrecorded: 4, Results: "r.csv",
		Failures: "f.csv"}
	if _, err := s.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := "lsqupload: 6 rows: 2 uploaded, 0 skipped, 0 failed, 0 rejected, 0 not attempted; " +
		"0 B uploaded in 0s\n" +
		"lsqupload: 4 rows finished after the outputs failed and are recorded nowhere; " +
		"the next run does them again\n" +
		"lsqupload: results: r.csv\nlsqupload: failures: f.csv\n"
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}
