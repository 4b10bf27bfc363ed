package uploader

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

const testLead = "0f8fad5b-d9cb-469f-a165-70867728950e"

func sandboxCreds() Credentials {
	return NewCredentials(lsqtest.SandboxAccessKey, lsqtest.SandboxSecretKey)
}

// newTestClient returns a client with shrunk intervals for url.
func newTestClient(t *testing.T, url string, mod func(*Options)) *Client {
	t.Helper()
	opts := Options{
		Endpoint: url, Credentials: sandboxCreds(), InitialInterval: 2 * time.Millisecond,
		MaxInterval: 10 * time.Millisecond, Window: 50 * time.Millisecond,
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startSandbox(t *testing.T, opts lsqtest.Options) *lsqtest.Server {
	t.Helper()
	srv, err := lsqtest.Start("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func testFile(t *testing.T, content string) Request {
	t.Helper()
	p := filepath.Join(t.TempDir(), "aadhaar front.pdf")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return Request{Path: p, Size: int64(len(content)), ID: testLead,
		SchemaName: "mx_CustomObject_2", EntitySchemaName: "mx_KYC", FileType: 7}
}

func TestUploadSendsEveryField(t *testing.T) {
	srv := startSandbox(t, lsqtest.Options{})
	req := testFile(t, "%PDF-1.4 SPECIMEN")
	res := newTestClient(t, srv.URL, nil).Upload(context.Background(), req)
	if res.Err != nil || res.Attempts != 1 || res.Class != ClassSuccess {
		t.Fatalf("result %+v", res)
	}

	got := srv.Received()
	want := lsqtest.Received{ID: testLead, Entity: "0", SchemaName: "mx_CustomObject_2",
		EntitySchemaName: "mx_KYC", FileName: "aadhaar front.pdf", Size: 17,
		SHA256:   fmt.Sprintf("%x", sha256.Sum256([]byte("%PDF-1.4 SPECIMEN"))),
		FileType: "7", FileStorageType: "0", StorageVersion: "0", EnableResize: "false",
		UploadedFile: res.UploadedFile}
	if len(got) != 1 {
		t.Fatalf("received %d, want 1", len(got))
	}
	if got[0] != want {
		t.Errorf("received %+v\nwant %+v", got[0], want)
	}
	if !strings.HasSuffix(res.UploadedFile, "_aadhaar front.pdf") {
		t.Errorf("uploaded file %q", res.UploadedFile)
	}
}

// TestBodyHasExactLength checks the request is not chunked: it announces
// the exact length and sends exactly that.
func TestBodyHasExactLength(t *testing.T) {
	var mu sync.Mutex
	var length, read int64
	var chunked bool
	sandbox := lsqtest.NewHandler(lsqtest.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		length, read, chunked = r.ContentLength, int64(len(body)), len(r.TransferEncoding) > 0
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		sandbox.ServeHTTP(w, r)
	}))
	defer srv.Close()

	req := testFile(t, strings.Repeat("SPECIMEN ", 5000))
	res := newTestClient(t, srv.URL+UploadPath, nil).Upload(context.Background(), req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	mu.Lock()
	defer mu.Unlock()
	if chunked || length != read || length <= req.Size {
		t.Errorf("Content-Length %d, read %d, chunked %v", length, read, chunked)
	}
}

func TestFileChangedIsPermanent(t *testing.T) {
	srv := startSandbox(t, lsqtest.Options{})
	req := testFile(t, "%PDF-1.4 SPECIMEN")
	req.Size--
	res := newTestClient(t, srv.URL, nil).Upload(context.Background(), req)
	if res.Class != ClassPermanent || res.Attempts != 1 || res.ErrorType != "file" {
		t.Errorf("result %+v, want one permanent file failure", res)
	}
	if st := srv.Stats(); st.Requests != 0 {
		t.Errorf("sandbox saw %d requests, want none", st.Requests)
	}
}

func TestExactReaderRefusesGrowthAndShrink(t *testing.T) {
	cases := []struct {
		name    string
		content string
		left    int64
		wantErr error
	}{
		{"exact", "abcd", 4, nil},
		{"grew", "abcde", 4, ErrFileChanged},
		{"shrank", "abc", 4, ErrFileChanged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := io.ReadAll(&exactReader{r: strings.NewReader(c.content), left: c.left})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil && string(got) != c.content {
				t.Errorf("read %q", got)
			}
		})
	}
}

func TestRetriesStopAtMaxAttempts(t *testing.T) {
	srv := startSandbox(t, lsqtest.Options{FailRate: 1, Seed: 1})
	var events []RetryEvent
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.MaxAttempts = 3
		o.OnRetry = func(ev RetryEvent) { events = append(events, ev) }
	})
	res := c.Upload(context.Background(), testFile(t, "SPECIMEN"))

	if res.Attempts != 3 || res.Class != ClassTransient || len(events) != 2 {
		t.Fatalf("attempts %d, class %s, %d retry events", res.Attempts, res.Class, len(events))
	}
	want := "gave up after 3 attempt(s) (--max-attempts 3 reached)"
	if !strings.HasPrefix(res.Err.Error(), want) {
		t.Errorf("error %q", res.Err)
	}
	if events[0].Attempt != 1 || events[1].Attempt != 2 || events[0].Delay <= 0 {
		t.Errorf("events %+v", events)
	}
}

func TestRetriesStopAtBudget(t *testing.T) {
	srv := startSandbox(t, lsqtest.Options{FailRate: 1, Seed: 1})
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.MaxAttempts = 1000
		o.Budget = 150 * time.Millisecond
		o.InitialInterval, o.MaxInterval = 40*time.Millisecond, 40*time.Millisecond
	})
	res := c.Upload(context.Background(), testFile(t, "SPECIMEN"))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "per-row time budget spent") ||
		res.Attempts > 10 {
		t.Errorf("attempts %d, err %v", res.Attempts, res.Err)
	}
}

func TestPermanentAndAuthAreSentOnce(t *testing.T) {
	cases := []struct {
		variant string
		class   Class
		status  int
	}{
		{"bad-request", ClassPermanent, 400},
		{"error-200", ClassPermanent, 200},
		{"unknown-api", ClassPermanent, 404},
		{"keys-refused", ClassAuth, 401},
		{"wrong-host", ClassAuth, 401},
	}
	for _, c := range cases {
		t.Run(c.variant, func(t *testing.T) {
			srv := startSandbox(t, lsqtest.Options{Script: map[string]lsqtest.Scripted{
				testLead: {Variant: c.variant}}})
			res := newTestClient(t, srv.URL, nil).Upload(context.Background(),
				testFile(t, "SPECIMEN"))
			if res.Attempts != 1 || res.Class != c.class || res.Status != c.status {
				t.Errorf("attempts %d class %s status %d", res.Attempts, res.Class, res.Status)
			}
		})
	}
}

// TestThrottleWaitsAtLeastRetryAfter: the second call is throttled with a
// Retry-After of one second, which the client honours.
func TestThrottleWaitsAtLeastRetryAfter(t *testing.T) {
	srv := startSandbox(t, lsqtest.Options{RetryAfter: time.Second,
		Script: map[string]lsqtest.Scripted{
			testLead: {Variant: "throttle-429", Times: 1}}})
	c := newTestClient(t, srv.URL, nil)
	start := time.Now()
	res := c.Upload(context.Background(), testFile(t, "SPECIMEN"))
	if res.Err != nil || res.Attempts != 2 {
		t.Fatalf("attempts %d, err %v", res.Attempts, res.Err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s, before the Retry-After of 1s", d)
	}
}

func TestCancelStopsWaitAtOnce(t *testing.T) {
	srv := startSandbox(t, lsqtest.Options{FailRate: 1, Seed: 1})
	stop := make(chan struct{})
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.InitialInterval, o.MaxInterval = time.Minute, time.Minute
		o.Stop = stop
		o.OnRetry = func(RetryEvent) { close(stop) }
	})
	done := make(chan Result)
	go func() { done <- c.Upload(context.Background(), testFile(t, "SPECIMEN")) }()
	select {
	case res := <-done:
		if !res.Interrupted || res.Attempts != 1 {
			t.Errorf("result %+v, want interrupted after 1 attempt", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stop did not end the backoff wait")
	}
}

func TestCredentialsNeverPrint(t *testing.T) {
	creds := NewCredentials("AKvisible$access", "SKvisible$secret")
	js, _ := json.Marshal(struct{ C Credentials }{creds})
	core, logs := observer.New(zap.DebugLevel)
	zap.New(core).Info("x", zap.Any("creds", creds), zap.Object("obj", creds))
	var logged strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&logged, "%v", e.ContextMap())
	}
	outs := []string{fmt.Sprintf("%v %+v %#v %s %q", creds, creds, creds, creds, creds),
		string(js), logged.String(), fmt.Sprint(Options{Credentials: creds})}
	for _, out := range outs {
		if strings.Contains(out, "visible") {
			t.Errorf("a key leaked: %s", out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("no redaction marker in %s", out)
		}
	}
}

func TestPacerSpacesCalls(t *testing.T) {
	p := NewPacer(5, 100*time.Millisecond)
	start := time.Now()
	for range 6 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("6 calls at 5 per 100ms took %s, want at least 100ms", d)
	}

	p.Hold(150 * time.Millisecond)
	start = time.Now()
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("a held pacer let a call through after %s", d)
	}
}

func TestEndpoints(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"https://files-in22.leadsquared.com",
			"https://files-in22.leadsquared.com/File/Upload", ""},
		{"https://h.example/custom/Upload", "https://h.example/custom/Upload", ""},
		{"http://127.0.0.1:8089/File/Upload", "http://127.0.0.1:8089/File/Upload", ""},
		{"http://localhost:1/", "http://localhost:1/File/Upload", ""},
		{"http://files.example.com", "", "plain http"},
		{"ftp://x", "", "not an http(s) URL"},
		{"files.leadsquared.com", "", "not an http(s) URL"},
	}
	for _, c := range cases {
		got, err := ParseEndpoint(c.in)
		if got != c.want || (err == nil) != (c.err == "") ||
			(err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ParseEndpoint(%q) = %q, %v", c.in, got, err)
		}
	}
	for region, host := range map[string]string{"sg": "files.leadsquared.com",
		"us11": "files-us11.leadsquared.com", "in21": "files-in21.leadsquared.com",
		"ir31": "files-ir31.leadsquared.com", "ca12": "files-ca12.leadsquared.com"} {
		got, err := RegionEndpoint(region)
		if err != nil || got != "https://"+host+"/File/Upload" {
			t.Errorf("RegionEndpoint(%q) = %q, %v", region, got, err)
		}
	}
}

// TestBudgetBoundsQuotaWait: a pause imposed by another row's throttle
// never keeps a row past its own time budget.
func TestBudgetBoundsQuotaWait(t *testing.T) {
	srv := startSandbox(t, lsqtest.Options{})
	pacer := NewPacer(0, 0)
	pacer.Hold(time.Minute)
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.Pacer, o.Budget = pacer, 200*time.Millisecond
	})
	start := time.Now()
	res := c.Upload(context.Background(), testFile(t, "SPECIMEN"))
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the row waited %s, past its budget", d)
	}
	if res.Attempts != 0 || res.ErrorType != "budget" || res.Interrupted ||
		!strings.HasPrefix(res.Err.Error(), "gave up before sending") {
		t.Errorf("result %+v", res)
	}
}
