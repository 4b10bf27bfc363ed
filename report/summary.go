package report

import (
	"fmt"
	"io"
	"time"
)

// Summary is what an operator reads at the end of a run.
type Summary struct {
	Counts

	// NotAttempted counts rows left untouched because the run stopped
	// early; they are in neither output, and the next run picks them up.
	NotAttempted int

	// Unrecorded counts rows that finished after the outputs failed: they
	// are in no output, and the next run does them again.
	Unrecorded int

	// Blank counts manifest rows without any value, which are skipped.
	Blank int

	Elapsed  time.Duration
	Results  string
	Failures string

	// Stopped says why the run ended early; empty for a complete run.
	Stopped string
}

// WriteTo prints the summary as a few lines of text.
func (s Summary) WriteTo(w io.Writer) (int64, error) {
	text := fmt.Sprintf("lsqupload: %d rows: %d uploaded, %d skipped, %d failed, "+
		"%d rejected, %d not attempted; %s uploaded in %s\n",
		s.Total()+s.NotAttempted+s.Unrecorded, s.Uploaded, s.Skipped, s.Failed, s.Rejected,
		s.NotAttempted, formatBytes(s.Bytes), s.Elapsed.Round(time.Millisecond))
	if s.Unrecorded > 0 {
		text += fmt.Sprintf("lsqupload: %d rows finished after the outputs failed and are "+
			"recorded nowhere; the next run does them again\n", s.Unrecorded)
	}
	if s.Blank > 0 {
		text += fmt.Sprintf("lsqupload: %d blank manifest rows ignored\n", s.Blank)
	}
	if s.Stopped != "" {
		text += fmt.Sprintf("lsqupload: stopped early: %s\n", s.Stopped)
	}
	text += fmt.Sprintf("lsqupload: results: %s\nlsqupload: failures: %s\n",
		s.Results, s.Failures)

	n, err := io.WriteString(w, text)
	return int64(n), err
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
