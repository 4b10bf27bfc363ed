package uploader

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"
)

// vector is one case of testdata/api-responses.json, a copy of the shared
// response catalogue.
type vector struct {
	Name         string `json:"name"`
	Status       int    `json:"status"`
	Body         string `json:"body"`
	Class        string `json:"class"`
	UploadedFile string `json:"uploaded_file"`
	ErrorType    string `json:"error_type"`
	Quota        int    `json:"quota_per_5s"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/api-responses.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []vector }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 17 {
		t.Fatalf("got %d vectors, want at least 17", len(doc.Cases))
	}
	return doc.Cases
}

func TestClassifyVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			got := Classify(v.Status, http.Header{}, []byte(v.Body))
			if got.Class.String() != v.Class {
				t.Errorf("class = %s, want %s", got.Class, v.Class)
			}
			if got.UploadedFile != v.UploadedFile {
				t.Errorf("uploaded file = %q, want %q", got.UploadedFile, v.UploadedFile)
			}
			if v.ErrorType != "" && got.ErrorType != v.ErrorType {
				t.Errorf("error type = %q, want %q", got.ErrorType, v.ErrorType)
			}
			if got.Quota != v.Quota {
				t.Errorf("quota = %d, want %d", got.Quota, v.Quota)
			}
			if got.Status != v.Status {
				t.Errorf("status = %d, want %d", got.Status, v.Status)
			}
		})
	}
}

func TestClassifyMore(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   Class
		msg    string
	}{
		{"403 without rate limit is permanent", 403, `{"Status":"Error","ExceptionType":` +
			`"MXForbiddenException","ExceptionMessage":"no access"}`, ClassPermanent,
			"HTTP 403 Forbidden: no access"},
		{"408 is transient", 408, "", ClassTransient, "HTTP 408 Request Timeout"},
		{"429 without the message is a throttle", 429, "slow down", ClassThrottle,
			"HTTP 429 Too Many Requests: slow down"},
		{"unknown status word in 200 is transient", 200, `{"Status":"Pending"}`,
			ClassTransient, `HTTP 200 OK: {"Status":"Pending"}`},
		{"lower-case success", 200, `{"Status":"success","uploadedFile":"x.pdf"}`,
			ClassSuccess, ""},
		{"empty array is transient", 200, `[]`, ClassTransient,
			"HTTP 200 OK: []"},
		{"unauthorized with 200", 200, `{"Status":"Error","ExceptionType":` +
			`"MXUnAuthorizedAccessException","ExceptionMessage":"Invalid keys"}`, ClassAuth,
			"HTTP 200 OK: Invalid keys"},
		{"html 500", 500, "<html>oops</html>", ClassTransient, "HTTP 500 Internal Server Error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(c.status, http.Header{}, []byte(c.body))
			if got.Class != c.want || got.Message != c.msg {
				t.Errorf("got %s %q, want %s %q", got.Class, got.Message, c.want, c.msg)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "7", 7 * time.Second},
		{"date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
		{"negative", "-3", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.value != "" {
				h.Set("Retry-After", c.value)
			}
			if got := parseRetryAfter(h, now); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
