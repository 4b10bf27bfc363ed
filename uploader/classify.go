package uploader

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Class is what an answer means for the row that got it.
type Class int

// The classes of answers. Auth means the keys were refused: no row of the
// run can succeed, so the run stops.
const (
	ClassSuccess Class = iota
	ClassThrottle
	ClassTransient
	ClassPermanent
	ClassAuth
)

// String returns the class name used in results and logs.
func (c Class) String() string {
	switch c {
	case ClassSuccess:
		return "success"
	case ClassThrottle:
		return "throttle"
	case ClassTransient:
		return "transient"
	case ClassPermanent:
		return "permanent"
	case ClassAuth:
		return "auth"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Outcome is a classified answer of the File Upload API.
type Outcome struct {
	Class Class

	// Status is the HTTP status code.
	Status int

	// ErrorType is the server's ExceptionType, when it gave one.
	ErrorType string

	// Message is a one-line description fit for a person.
	Message string

	// UploadedFile is the stored file name of a success.
	UploadedFile string

	// Quota is the calls per window a rate-limit message states, if any.
	Quota int

	// RetryAfter is the wait a Retry-After header asked for, if any.
	RetryAfter time.Duration
}

// envelope is the API's JSON answer. encoding/json matches keys without
// regard to case, which covers both uploadedFile and UploadedFile.
type envelope struct {
	Status           string `json:"Status"`
	UploadedFile     string `json:"uploadedFile"`
	ExceptionType    string `json:"ExceptionType"`
	ExceptionMessage string `json:"ExceptionMessage"`
}

const rateLimitType = "MXAPIRateLimitExceededException"

var rateLimitRE = regexp.MustCompile(`(?i)API calls exceeded the limit of (\d+) in ([\d.]+) second`)

// Classify reads an answer of the File Upload API. A 200 is a success only
// when the body says so; the rate-limit message is a throttle whatever the
// status; 5xx and unreadable 200s are transient; 401 means the keys were
// refused; other 4xx answers are permanent.
func Classify(status int, header http.Header, body []byte) Outcome {
	env, parsed := parseEnvelope(body)
	o := Outcome{
		Status:     status,
		ErrorType:  env.ExceptionType,
		RetryAfter: parseRetryAfter(header, time.Now()),
	}

	if m := rateLimitRE.FindSubmatch(body); m != nil || env.ExceptionType == rateLimitType ||
		status == http.StatusTooManyRequests {
		o.Class, o.Message = ClassThrottle, describe(env, body, status)
		if m != nil {
			o.Quota, _ = strconv.Atoi(string(m[1]))
		}
		return o
	}

	o.Class = classifyStatus(status, env, parsed)
	if o.Class == ClassSuccess {
		o.UploadedFile = env.UploadedFile
		return o
	}
	o.Message = describe(env, body, status)
	return o
}

func classifyStatus(status int, env envelope, parsed bool) Class {
	authRefused := strings.Contains(strings.ToLower(env.ExceptionType), "unauthorized")
	switch {
	case status >= 200 && status < 300:
		return classifyBody(env, parsed, authRefused)
	case status == http.StatusUnauthorized, authRefused:
		return ClassAuth
	case status == http.StatusRequestTimeout, status >= 500:
		return ClassTransient
	}
	return ClassPermanent
}

// classifyBody reads a 2xx answer, whose body alone says what happened.
func classifyBody(env envelope, parsed, authRefused bool) Class {
	switch {
	case !parsed:
		return ClassTransient
	case strings.EqualFold(env.Status, "success"):
		return ClassSuccess
	case authRefused:
		return ClassAuth
	case strings.EqualFold(env.Status, "error"):
		return ClassPermanent
	}
	return ClassTransient
}

// parseEnvelope reads the API's JSON answer, bare or wrapped in an array.
func parseEnvelope(body []byte) (envelope, bool) {
	body = bytes.TrimSpace(body)
	var env envelope
	switch {
	case bytes.HasPrefix(body, []byte("[")):
		var list []envelope
		if json.Unmarshal(body, &list) != nil || len(list) == 0 {
			return env, false
		}
		return list[0], true
	case bytes.HasPrefix(body, []byte("{")):
		if json.Unmarshal(body, &env) != nil {
			return env, false
		}
		return env, true
	}
	return env, false
}

// describe builds the one-line message of a failed answer.
func describe(env envelope, body []byte, status int) string {
	msg := env.ExceptionMessage
	if msg == "" && utf8.Valid(body) && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		msg = string(bytes.TrimSpace(body))
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}

	code := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if msg == "" {
		if status == http.StatusOK {
			return code + " with a body that is not the API's JSON answer"
		}
		return code
	}
	return code + ": " + msg
}

// parseRetryAfter reads a Retry-After header in seconds or as a date.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
