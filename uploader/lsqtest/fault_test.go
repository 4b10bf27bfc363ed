package lsqtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixture is one case of api-responses.json.
type fixture struct {
	Name         string `json:"name"`
	Status       int    `json:"status"`
	Body         string `json:"body"`
	Class        string `json:"class"`
	UploadedFile string `json:"uploaded_file"`
}

// fixtureOf names the case of api-responses.json each variant speaks.
var fixtureOf = map[string]string{
	"success":         "success object",
	"success-array":   "success wrapped in an array",
	"success-upper":   "success with capitalised key",
	"error-200":       "error envelope with HTTP 200",
	"bad-request":     "bad request",
	"keys-refused":    "keys refused",
	"wrong-host":      "wrong regional host",
	"unknown-api":     "unknown API",
	"throttle-429":    "throttle as documented",
	"throttle-200":    "throttle with HTTP 200",
	"throttle-403":    "throttle with HTTP 403, message only",
	"throttle-text":   "throttle as plain text",
	"server-error":    "server failure with envelope",
	"bad-gateway":     "gateway error page",
	"unavailable":     "service unavailable",
	"maintenance-200": "HTTP 200 with a body that is not JSON",
	"empty-200":       "HTTP 200 with an empty body",
}

// loadFixtures reads the shared response vectors by case name.
func loadFixtures(t *testing.T) map[string]fixture {
	t.Helper()

	raw, err := os.ReadFile("../testdata/api-responses.json")
	if err != nil {
		t.Fatalf("read response vectors: %v", err)
	}
	var doc struct {
		Cases []fixture `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse response vectors: %v", err)
	}

	byName := make(map[string]fixture, len(doc.Cases))
	for _, c := range doc.Cases {
		byName[c.Name] = c
	}

	return byName
}

// contentTypeOf is the Content-Type the fake sends with body.
func contentTypeOf(body string) string {
	switch {
	case body == "":
		return ""
	case strings.HasPrefix(body, "{"), strings.HasPrefix(body, "["):
		return "application/json"
	case strings.HasPrefix(body, "<"):
		return "text/html; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

// statsOf is the Stats of one request of the fixture's class.
func statsOf(class string) Stats {
	s := Stats{Requests: 1}
	counters := map[string]*int{
		"success": &s.Accepted, "throttle": &s.Throttled, "transient": &s.Injected,
		"permanent": &s.Refused, "auth": &s.Unauthorized,
	}
	*counters[class]++

	return s
}

func TestVariantsCoverFixtures(t *testing.T) {
	t.Parallel()

	var names []string
	for name := range fixtureOf {
		names = append(names, name)
	}
	names = append(names, "drop")

	got, want := slices.Sorted(slices.Values(Variants())), slices.Sorted(slices.Values(names))
	if !slices.Equal(got, want) {
		t.Errorf("Variants() = %v, want %v", got, want)
	}
}

func TestScriptedVariant(t *testing.T) {
	t.Parallel()
	fixtures := loadFixtures(t)

	for variant, caseName := range fixtureOf {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			want, ok := fixtures[caseName]
			if !ok {
				t.Fatalf("api-responses.json has no case %q", caseName)
			}
			srv := start(t, Options{Script: map[string]Scripted{leadID: {Variant: variant}}})
			u := validUpload()

			got := post(t, srv.URL, u)
			wantAnswer(t, got, want.Status, contentTypeOf(want.Body), want.Body)
			if s := srv.Stats(); s != statsOf(want.Class) {
				t.Errorf("Stats = %+v, want %+v", s, statsOf(want.Class))
			}
			wantScriptedReceived(t, srv, want, u)
		})
	}
}

// wantScriptedReceived checks that a scripted success is recorded under
// the name its body gives, and that nothing else is.
func wantScriptedReceived(t *testing.T, srv *Server, want fixture, u upload) {
	t.Helper()

	rec := srv.Received()
	if want.Class != "success" {
		if len(rec) != 0 {
			t.Errorf("Received = %+v, want none", rec)
		}
		return
	}

	if len(rec) != 1 {
		t.Fatalf("Received has %d entries, want 1", len(rec))
	}
	if rec[0].UploadedFile != want.UploadedFile || rec[0].ID != leadID ||
		rec[0].SHA256 != sha256Hex(u.content) {
		t.Errorf("Received = %+v, want %s for %s", rec[0], want.UploadedFile, leadID)
	}
}

func TestScriptTimes(t *testing.T) {
	t.Parallel()

	wrongKeys := validUpload().with("SecretKey", wrongKey)
	idLast := validUpload().without("Id").with("Id", leadID)
	idLast.mode = fileFirst
	tests := []struct {
		name   string
		script Scripted
		upload upload
		want   []int // statuses of consecutive uploads
	}{
		{"twice, then normal", Scripted{"bad-request", 2}, validUpload(),
			[]int{400, 400, 200, 200}},
		{"always", Scripted{"throttle-403", 0}, validUpload(), []int{403, 403, 403}},
		{"once", Scripted{"bad-gateway", 1}, validUpload(), []int{502, 200}},
		{"precedes the checks", Scripted{"server-error", 1}, wrongKeys, []int{500, 401}},
		{"Id after the file", Scripted{"unavailable", 1}, idLast, []int{503, 200}},
		{"other Id untouched", Scripted{"bad-request", 0},
			validUpload().with("Entity", "1").with("Id", activityID), []int{200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, Options{Script: map[string]Scripted{leadID: tt.script}})

			var got []int
			for range tt.want {
				got = append(got, post(t, srv.URL, tt.upload).status)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("statuses = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDrop(t *testing.T) {
	t.Parallel()

	big := validUpload()
	big.content = bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	idLast := validUpload().without("Id").with("Id", leadID)
	idLast.mode = fileFirst
	scriptDrop := map[string]Scripted{leadID: {Variant: "drop", Times: 1}}

	tests := []struct {
		name   string
		opts   Options
		upload upload
		after  int // status of a second upload, 0 when it is dropped too
	}{
		{"DropRate small file", Options{DropRate: 1}, validUpload(), 0},
		{"DropRate large file", Options{DropRate: 1}, big, 0},
		{"drop beats fail", Options{DropRate: 1, FailRate: 1}, validUpload(), 0},
		{"scripted once", Options{Script: scriptDrop}, big, 200},
		{"scripted, Id after the file", Options{Script: scriptDrop}, idLast, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, tt.opts)

			got, err := send(t, srv.URL, tt.upload)
			if err == nil {
				t.Fatalf("got an answer %d %q, want a connection error", got.status, got.body)
			}
			t.Logf("client saw: %v", err)
			wantDropThenStatus(t, srv, tt.upload, tt.after)

			wantReceived := 0
			if tt.after == http.StatusOK {
				wantReceived = 1 // only the upload after the drop
			}
			if n := len(srv.Received()); n != wantReceived {
				t.Errorf("Received has %d entries, want %d", n, wantReceived)
			}
		})
	}
}

// wantDropThenStatus sends u again and expects status, or another drop
// when status is 0.
func wantDropThenStatus(t *testing.T, srv *Server, u upload, status int) {
	t.Helper()

	got, err := send(t, srv.URL, u)
	switch {
	case status == 0 && err == nil:
		t.Errorf("second upload answered %d, want a connection error", got.status)
	case status != 0 && err != nil:
		t.Errorf("second upload: %v, want %d", err, status)
	case status != 0 && got.status != status:
		t.Errorf("second upload: status %d, want %d", got.status, status)
	}

	wantDropped := 2
	if status != 0 {
		wantDropped = 1
	}
	if s := srv.Stats(); s.Dropped != wantDropped || s.Requests != 2 {
		t.Errorf("Stats = %+v, want %d dropped of 2", s, wantDropped)
	}
}

func TestDropNotMultipart(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{DropRate: 1})

	if got, err := sendRaw(t, srv.URL, "text/plain", []byte("hello")); err == nil {
		t.Fatalf("got an answer %d, want a connection error", got.status)
	}
}

func TestFailRate(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{FailRate: 1, Seed: 7})

	const n = 16
	seen := map[int]int{}
	for range n {
		got := post(t, srv.URL, validUpload())
		seen[got.status]++
		switch got.status {
		case http.StatusInternalServerError:
			wantAnswer(t, got, 500, "application/json", serverErrorBody)
		case http.StatusServiceUnavailable:
			wantAnswer(t, got, 503, "", "")
		default:
			t.Errorf("status = %d, want 500 or 503", got.status)
		}
	}

	if seen[500] == 0 || seen[503] == 0 {
		t.Errorf("statuses seen = %v, want both 500 and 503", seen)
	}
	if s := srv.Stats(); s != (Stats{Requests: n, Injected: n}) {
		t.Errorf("Stats = %+v, want %d injected", s, n)
	}
}

// TestFailRateSeed shows that a seed makes the faults repeatable.
func TestFailRateSeed(t *testing.T) {
	t.Parallel()

	statuses := func() []int {
		srv := start(t, Options{FailRate: 0.5, Seed: 42})
		var got []int
		for range 12 {
			got = append(got, post(t, srv.URL, validUpload()).status)
		}
		return got
	}

	first, second := statuses(), statuses()
	if !slices.Equal(first, second) {
		t.Errorf("same seed, different faults: %v and %v", first, second)
	}
	if !slices.Contains(first, 200) ||
		!slices.ContainsFunc(first, func(s int) bool { return s != 200 }) {
		t.Errorf("statuses %v: want both successes and failures at rate 0.5", first)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const latency = 200 * time.Millisecond
	srv := start(t, Options{Latency: latency, Quota: 1})

	began := time.Now()
	wantSuccess(t, srv, post(t, srv.URL, validUpload()), validUpload())
	if took := time.Since(began); took < latency {
		t.Errorf("success took %v, want at least %v", took, latency)
	}

	began = time.Now()
	if got := post(t, srv.URL, validUpload()); got.status != http.StatusTooManyRequests {
		t.Errorf("status = %d, want 429", got.status)
	}
	if took := time.Since(began); took >= latency {
		t.Errorf("throttle took %v, want no latency", took)
	}
}

// TestLatencyAbandoned shows that a client giving up ends the wait.
func TestLatencyAbandoned(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{Latency: time.Minute})
	body, contentType := validUpload().body(t)

	client := newClient(t, 100*time.Millisecond)
	_, err := do(t, client, http.MethodPost, srv.URL, contentType, body)
	if err == nil {
		t.Fatal("got an answer, want the client's timeout")
	}

	deadline := time.Now().Add(3 * time.Second)
	for srv.Stats().Abandoned != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := srv.Stats(); s != (Stats{Requests: 1, Abandoned: 1}) {
		t.Errorf("Stats = %+v, want 1 abandoned", s)
	}
}
