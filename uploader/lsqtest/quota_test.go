package lsqtest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// window is the quota window of the tests: short, so admission again is
// a brief wait, yet long enough that a slow machine stays inside it.
const window = 300 * time.Millisecond

// sleepUntil sleeps until t.
func sleepUntil(t time.Time) {
	time.Sleep(time.Until(t))
}

func TestQuotaThrottleStatus(t *testing.T) {
	t.Parallel()

	throttled := envelopeBody("MXAPIRateLimitExceededException",
		"API calls exceeded the limit of 2 in 0.3 second(s)")
	tests := []struct {
		name   string
		status int
		want   int
	}{
		{"default", 0, 429},
		{"429", 429, 429},
		{"403", 403, 403},
		{"200", 200, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, Options{Quota: 2, Window: window, ThrottleStatus: tt.status})

			wantSuccess(t, srv, post(t, srv.URL, validUpload()), validUpload())
			wantSuccess(t, srv, post(t, srv.URL, validUpload()), validUpload())
			admitted := time.Now()

			got := post(t, srv.URL, validUpload())
			wantAnswer(t, got, tt.want, "application/json", throttled)
			if ra := got.header.Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After = %q, want none", ra)
			}

			sleepUntil(admitted.Add(window + 10*time.Millisecond))
			wantSuccess(t, srv, post(t, srv.URL, validUpload()), validUpload())

			want := Stats{Requests: 4, Accepted: 3, Throttled: 1}
			if s := srv.Stats(); s != want {
				t.Errorf("Stats = %+v, want %+v", s, want)
			}
		})
	}
}

// TestQuotaSlidingWindow shows that the window slides over admissions,
// where a fixed window starting at the first call would admit call D.
func TestQuotaSlidingWindow(t *testing.T) {
	t.Parallel()
	const slide = 400 * time.Millisecond
	srv := start(t, Options{Quota: 2, Window: slide})

	statuses := func(calls ...string) {
		t.Helper()
		for _, call := range calls {
			got := post(t, srv.URL, validUpload())
			want := http.StatusOK
			if call == "D" {
				want = http.StatusTooManyRequests
			}
			if got.status != want {
				t.Errorf("call %s: status %d, want %d", call, got.status, want)
			}
		}
	}

	statuses("A")
	a := time.Now() // A was admitted before this
	sleepUntil(a.Add(slide / 2))
	statuses("B")
	sleepUntil(a.Add(slide + 20*time.Millisecond))
	statuses("C", "D") // A expired, B still counts
}

// TestQuotaThrottledNotCounted shows that a refused call does not use up
// the quota: C comes within a window of the throttled B.
func TestQuotaThrottledNotCounted(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{Quota: 1, Window: window})

	wantSuccess(t, srv, post(t, srv.URL, validUpload()), validUpload())
	a := time.Now()

	sleepUntil(a.Add(window / 2))
	if got := post(t, srv.URL, validUpload()); got.status != http.StatusTooManyRequests {
		t.Fatalf("call B: status %d, want 429", got.status)
	}

	sleepUntil(a.Add(window + 10*time.Millisecond))
	wantSuccess(t, srv, post(t, srv.URL, validUpload()), validUpload())
}

func TestQuotaRetryAfter(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{
		{"none", 0, ""},
		{"below a second", 200 * time.Millisecond, "1"},
		{"whole seconds", 2 * time.Second, "2"},
		{"rounded up", 1500 * time.Millisecond, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			limited := start(t, Options{Quota: 1, RetryAfter: tt.retryAfter})
			scripted := start(t, Options{RetryAfter: tt.retryAfter,
				Script: map[string]Scripted{leadID: {Variant: "throttle-text"}}})

			post(t, limited.URL, validUpload())
			answers := []answer{
				post(t, limited.URL, validUpload()),
				post(t, scripted.URL, validUpload()),
			}

			for _, got := range answers {
				if got.status != http.StatusTooManyRequests {
					t.Errorf("status = %d, want 429", got.status)
				}
				if ra := got.header.Get("Retry-After"); ra != tt.want {
					t.Errorf("Retry-After = %q, want %q", ra, tt.want)
				}
			}
		})
	}
}

// TestQuotaConcurrent fires more calls than the quota at once: exactly
// the quota is admitted, whatever the interleaving.
func TestQuotaConcurrent(t *testing.T) {
	t.Parallel()
	const calls, quota = 24, 10
	srv := start(t, Options{Quota: quota})

	body, contentType := validUpload().body(t)
	client := newClient(t, 5*time.Second)

	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			resp, err := client.Post(srv.URL, contentType, bytes.NewReader(body))
			if err != nil {
				t.Errorf("post: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		})
	}
	wg.Wait()

	want := Stats{Requests: calls, Accepted: quota, Throttled: calls - quota}
	if got := srv.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if n := len(srv.Received()); n != quota {
		t.Errorf("Received has %d entries, want %d", n, quota)
	}
}
