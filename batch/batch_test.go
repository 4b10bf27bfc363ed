package batch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsqupload/lsqupload/batch"
	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/report"
	"github.com/lsqupload/lsqupload/uploader"
	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// inFlight wraps the sandbox to record the most requests it served at once.
type inFlight struct {
	next http.Handler
	mu   sync.Mutex
	now  int
	peak int
}

func (h *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.now++
	h.peak = max(h.peak, h.now)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.now--
		h.mu.Unlock()
	}()
	h.next.ServeHTTP(w, r)
}

// setup writes n documents and their manifest, and opens the run's parts.
func setup(t *testing.T, n int, url string) (*manifest.Reader, *uploader.Client,
	*report.Writer) {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("file_path,id,schema_name,entity_schema_name\n")
	for i := range n {
		name := fmt.Sprintf("scan-%02d.pdf", i)
		err := os.WriteFile(filepath.Join(dir, name), []byte("SPECIMEN "+name), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s,0f8fad5b-d9cb-469f-a165-%012d,mx_CustomObject_1,mx_KYC\n", name, i)
	}
	path := filepath.Join(dir, "m.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	src, err := manifest.Open(path, manifest.Options{Drop: report.Columns()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	client, err := uploader.New(uploader.Options{Endpoint: url,
		Credentials: uploader.NewCredentials(lsqtest.SandboxAccessKey, lsqtest.SandboxSecretKey)})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := report.Open(report.Options{Results: filepath.Join(dir, "r.csv"),
		Failures: filepath.Join(dir, "f.csv"), Header: src.Header().Own, ManifestDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return src, client, sink
}

// TestRunBoundsConcurrency uploads 12 rows through a pool of 3 against a
// slow sandbox: all are uploaded, never more than 3 at once.
func TestRunBoundsConcurrency(t *testing.T) {
	counter := &inFlight{next: lsqtest.NewHandler(lsqtest.Options{Latency: 50 * time.Millisecond})}
	srv := httptest.NewServer(counter)
	defer srv.Close()
	src, client, sink := setup(t, 12, srv.URL+lsqtest.UploadPath)

	out, err := batch.Run(context.Background(), src, client, sink, batch.Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(true); err != nil {
		t.Fatal(err)
	}
	if c := sink.Counts(); c.Uploaded != 12 || out.NotAttempted != 0 || out.Stopped != "" {
		t.Errorf("counts %+v, outcome %+v; want 12 uploaded, a complete run", c, out)
	}
	if counter.peak != 3 {
		t.Errorf("peak of %d uploads at once, want 3", counter.peak)
	}
}

// TestRunStopsStartingRows closes Stop before the run: no row is sent,
// and every row is counted as not attempted.
func TestRunStopsStartingRows(t *testing.T) {
	sandbox := lsqtest.NewHandler(lsqtest.Options{})
	srv := httptest.NewServer(sandbox)
	defer srv.Close()
	src, client, sink := setup(t, 5, srv.URL+lsqtest.UploadPath)
	stop := make(chan struct{})
	close(stop)

	out, err := batch.Run(context.Background(), src, client, sink, batch.Options{
		Stop: stop, StopReason: func() string { return "told to" }})
	if err != nil {
		t.Fatal(err)
	}
	sink.Close(false)
	if out.NotAttempted != 5 || out.Stopped != "told to" || sandbox.Stats().Requests != 0 {
		t.Errorf("outcome %+v, %d requests; want 5 not attempted, none sent", out,
			sandbox.Stats().Requests)
	}
}
