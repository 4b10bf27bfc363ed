package lsqtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReceivedEndpoint(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{})

	empty := get(t, baseURL(srv)+ReceivedPath)
	wantAnswer(t, empty, http.StatusOK, "application/json", "[]\n")

	lead := validUpload()
	lead.content = bytes.Repeat([]byte{0, 1, 2, 0xff}, 300_000) // binary, several reads
	activity := validUpload().with("Entity", "1").with("Id", activityID).
		with("SchemaName", "mx_CustomObject_9").with("EntitySchemaName", "mx_Custom_4")
	activity.fileName, activity.mode = "pan card.jpg", fileFirst

	var want []Received
	for _, u := range []upload{lead, activity} {
		got := post(t, srv.URL, u)
		want = append(want, expectedReceived(u, storedName(t, got.body)))
	}

	got := decodeReceived(t, get(t, baseURL(srv)+ReceivedPath))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("/sandbox/received =\n%+v\nwant\n%+v", got, want)
	}
	if direct := srv.Received(); !reflect.DeepEqual(direct, want) {
		t.Errorf("Received() = %+v, want %+v", direct, want)
	}
}

// expectedReceived is the entry an accepted upload u should leave.
func expectedReceived(u upload, stored string) Received {
	field := func(name string) string {
		for _, f := range u.fields {
			if f.name == name {
				return f.value
			}
		}
		return ""
	}

	return Received{
		ID: field("Id"), Entity: field("Entity"), SchemaName: field("SchemaName"),
		EntitySchemaName: field("EntitySchemaName"), FileName: u.fileName,
		Size: int64(len(u.content)), SHA256: sha256Hex(u.content),
		FileType: field("FileType"), FileStorageType: field("FileStorageType"),
		StorageVersion: field("StorageVersion"), EnableResize: field("EnableResize"),
		UploadedFile: stored,
	}
}

func decodeReceived(t *testing.T, a answer) []Received {
	t.Helper()

	if a.status != http.StatusOK {
		t.Fatalf("status = %d, want 200", a.status)
	}
	var got []Received
	if err := json.Unmarshal([]byte(a.body), &got); err != nil {
		t.Fatalf("decode %q: %v", a.body, err)
	}

	return got
}

// TestReceivedOnlyOnSuccess sends one upload of each outcome: only the
// success is listed, and the counters add up.
func TestReceivedOnlyOnSuccess(t *testing.T) {
	t.Parallel()
	script := map[string]Scripted{activityID: {"server-error", 1}}
	srv := start(t, Options{Quota: 4, Script: script})

	post(t, srv.URL, validUpload().without("Entity"))
	post(t, srv.URL, validUpload().with("AccessKey", wrongKey))
	post(t, srv.URL, validUpload().with("Entity", "1").with("Id", activityID))
	ok := post(t, srv.URL, validUpload())
	post(t, srv.URL, validUpload())

	rec := srv.Received()
	if len(rec) != 1 || rec[0].UploadedFile != storedName(t, ok.body) {
		t.Errorf("Received = %+v, want only the success", rec)
	}

	want := Stats{Requests: 5, Accepted: 1, Throttled: 1, Injected: 1, Refused: 1,
		Unauthorized: 1}
	if got := srv.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestStatsEndpoint(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{})
	post(t, srv.URL, validUpload())

	got := get(t, baseURL(srv)+StatsPath)
	want := `{"requests":1,"accepted":1,"throttled":0,"injected":0,"dropped":0,` +
		`"refused":0,"unauthorized":0,"abandoned":0}` + "\n"
	wantAnswer(t, got, http.StatusOK, "application/json", want)
}

func TestStartAddress(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		addr     string
		wantHost string
	}{
		{"empty", "", "127.0.0.1"},
		{"port only", ":0", "127.0.0.1"},
		{"explicit loopback", "127.0.0.1:0", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := Start(tt.addr, Options{})
			if err != nil {
				t.Fatalf("Start(%q): %v", tt.addr, err)
			}
			defer srv.Close()

			host, _, err := net.SplitHostPort(srv.Addr())
			if err != nil || host != tt.wantHost {
				t.Errorf("Addr() = %q, want host %s", srv.Addr(), tt.wantHost)
			}
			if want := "http://" + srv.Addr() + UploadPath; srv.URL != want {
				t.Errorf("URL = %q, want %q", srv.URL, want)
			}
		})
	}
}

func TestDialAddrOfWildcard(t *testing.T) {
	t.Parallel()

	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "[::1]:8080"},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 80}, "10.0.0.2:80"},
	}
	for _, tt := range tests {
		if got := dialAddr(tt.addr); got != tt.want {
			t.Errorf("dialAddr(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestStartRefuses(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		addr    string
		opts    Options
		invalid bool // wraps ErrInvalidOptions
	}{
		{"no port", "127.0.0.1", Options{}, false},
		{"bad port", "127.0.0.1:http-alt-x", Options{}, false},
		{"bad option", "", Options{ThrottleStatus: 500}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := Start(tt.addr, tt.opts)
			if err == nil {
				srv.Close()
				t.Fatalf("Start(%q) succeeded, want an error", tt.addr)
			}
			if errors.Is(err, ErrInvalidOptions) != tt.invalid {
				t.Errorf("error %v: invalid options = %v, want %v",
					err, !tt.invalid, tt.invalid)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		opts Options
		want string // "" for valid
	}{
		{"zero value", Options{}, ""},
		{"everything set", Options{Quota: 5, Window: time.Second, ThrottleStatus: 403,
			RetryAfter: time.Second, FailRate: 0.1, DropRate: 1, Latency: time.Millisecond,
			MaxFileSize: 10, SuccessStyle: StyleMixed,
			Script: map[string]Scripted{"1": {"drop", 2}}}, ""},
		{"negative quota", Options{Quota: -1}, "Quota -1 is negative"},
		{"negative window", Options{Window: -time.Second}, "Window -1s is negative"},
		{"throttle 500", Options{ThrottleStatus: 500}, "ThrottleStatus 500"},
		{"negative retry", Options{RetryAfter: -1}, "RetryAfter -1ns is negative"},
		{"fail rate 2", Options{FailRate: 2}, "FailRate 2 is not in [0, 1]"},
		{"drop rate NaN", Options{DropRate: math.NaN()}, "DropRate NaN"},
		{"negative latency", Options{Latency: -1}, "Latency -1ns is negative"},
		{"negative size", Options{MaxFileSize: -1}, "MaxFileSize -1 is negative"},
		{"style", Options{SuccessStyle: "xml"}, `SuccessStyle "xml" is unknown`},
		{"variant", Options{Script: map[string]Scripted{"1": {"teapot", 0}}},
			`unknown variant "teapot"`},
		{"times", Options{Script: map[string]Scripted{"1": {"drop", -1}}}, "Times -1"},
		{"empty Id", Options{Script: map[string]Scripted{"": {"drop", 0}}}, "empty Id"},
		{"keys never named", Options{AccessKey: wrongKey, SecretKey: wrongKey, Quota: -1},
			"Quota -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			case err != nil && !errors.Is(err, ErrInvalidOptions):
				t.Errorf("Validate() = %v, want it to wrap ErrInvalidOptions", err)
			case err != nil && strings.Contains(err.Error(), wrongKey):
				t.Errorf("Validate() = %v names a key", err)
			}
		})
	}
}

// TestHandlerDefaultsForInvalid shows NewHandler replacing what Validate
// rejects instead of misbehaving.
func TestHandlerDefaultsForInvalid(t *testing.T) {
	t.Parallel()

	h := NewHandler(Options{ThrottleStatus: 500, SuccessStyle: "xml", FailRate: -1,
		Quota: -3, Script: map[string]Scripted{leadID: {"teapot", 0}}})

	want := Options{AccessKey: SandboxAccessKey, SecretKey: SandboxSecretKey,
		Window: DefaultWindow, ThrottleStatus: 429, SuccessStyle: StyleObject,
		Script: map[string]Scripted{}}
	if !reflect.DeepEqual(h.opts, want) {
		t.Errorf("options = %+v, want %+v", h.opts, want)
	}
}

// TestHandlerWithoutHijack uses a recorder, which cannot be hijacked: a
// drop becomes an empty 503.
func TestHandlerWithoutHijack(t *testing.T) {
	t.Parallel()
	h := NewHandler(Options{DropRate: 1})
	body, contentType := validUpload().body(t)

	req := httptest.NewRequest(http.MethodPost, UploadPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if rec.Code != http.StatusServiceUnavailable || rec.Body.Len() != 0 {
		t.Errorf("answer = %d %q, want an empty 503", rec.Code, rec.Body.String())
	}
	if s := h.Stats(); s != (Stats{Requests: 1, Dropped: 1}) {
		t.Errorf("Stats = %+v, want 1 dropped", s)
	}
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	srv, err := Start("", Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	post(t, srv.URL, validUpload())

	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := send(t, srv.URL, validUpload()); err == nil {
		t.Error("upload after Close got an answer")
	}
	if s := srv.Stats(); s.Accepted != 1 {
		t.Errorf("Stats after Close = %+v, want 1 accepted", s)
	}
}

// TestServerCloseWaitsForHandlers closes during a long latency: Close
// cancels the wait and returns once the handler has.
func TestServerCloseWaitsForHandlers(t *testing.T) {
	t.Parallel()
	srv, err := Start("", Options{Latency: time.Minute})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}

	body, contentType := validUpload().body(t)
	client := newClient(t, 0)
	done := make(chan error, 1)
	go func() {
		resp, err := client.Post(srv.URL, contentType, bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()

	deadline := time.Now().Add(3 * time.Second)
	for srv.Stats().Requests == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if s := srv.Stats(); s != (Stats{Requests: 1, Abandoned: 1}) {
		t.Errorf("Stats after Close = %+v, want 1 abandoned", s)
	}
	if err := <-done; err == nil {
		t.Error("client got an answer from a closed server")
	}
}

func TestVariantsOrder(t *testing.T) {
	t.Parallel()

	got := Variants()
	if got[0] != "success" || got[len(got)-1] != "drop" || len(slices.Compact(got)) != 18 {
		t.Errorf("Variants() = %v", got)
	}
}
