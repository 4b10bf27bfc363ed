// Package lsqtest is a fake of the LeadSquared File Upload endpoint, in the
// spirit of net/http/httptest.
//
// It answers POST /File/Upload the way API.md describes the real service:
// the same form fields, status codes and error envelopes, a per-account
// quota counted over a sliding window, and every response variant the
// uploader must cope with. Faults (5xx answers, dropped connections,
// latency) can be injected at random or scripted per record Id, so tests,
// the `lsqupload sandbox` command and `lsqupload run --sandbox` all talk to
// one server that behaves alike.
//
// Besides the upload endpoint, a Handler serves two read-only endpoints
// for inspection: GET /sandbox/received lists the accepted uploads and
// GET /sandbox/stats counts the outcomes.
package lsqtest

import (
	"errors"
	"fmt"
	"time"
)

// Keys and paths of the sandbox.
const (
	// SandboxAccessKey is the access key accepted when Options.AccessKey is
	// empty. It holds a '$' because real keys may.
	SandboxAccessKey = "u$r-sandbox-access-key"

	// SandboxSecretKey is the secret key accepted when Options.SecretKey is
	// empty.
	SandboxSecretKey = "sandbox-secret-key-0123456789"

	// UploadPath is the path of the upload endpoint, matched without
	// regard to case as IIS does.
	UploadPath = "/File/Upload"

	// ReceivedPath answers GET with the JSON array of accepted uploads.
	ReceivedPath = "/sandbox/received"

	// StatsPath answers GET with the JSON Stats.
	StatsPath = "/sandbox/stats"
)

// Success styles that Options.SuccessStyle accepts.
const (
	// StyleObject answers a success as a plain JSON object.
	StyleObject = "object"

	// StyleArray wraps the success object in a one-element array.
	StyleArray = "array"

	// StyleUpper spells the stored-name key UploadedFile.
	StyleUpper = "upper"

	// StyleMixed rotates object, array and upper, one per success.
	StyleMixed = "mixed"
)

// DefaultWindow is the quota window of the real service.
const DefaultWindow = 5 * time.Second

// ErrInvalidOptions is wrapped by every error Options.Validate returns.
var ErrInvalidOptions = errors.New("lsqtest: invalid options")

// Options configures a Handler. The zero value answers like the real
// service with the sandbox keys, no quota and no faults.
type Options struct {
	// AccessKey and SecretKey are the accepted keys; empty means
	// SandboxAccessKey and SandboxSecretKey.
	AccessKey, SecretKey string

	// Quota is the number of calls admitted per Window; 0 means unlimited.
	Quota int

	// Window is the quota window; 0 means DefaultWindow.
	Window time.Duration

	// ThrottleStatus is the HTTP status of a rate-limit answer: 429 (the
	// default), 403 or 200, the three statuses seen from the real service.
	ThrottleStatus int

	// RetryAfter, when positive, adds a Retry-After header to throttle
	// answers, in whole seconds rounded up, at least 1. The real service
	// sends none; this exercises clients that honour it.
	RetryAfter time.Duration

	// FailRate is the fraction of uploads answered 500 with the
	// MXUnknownException envelope or 503 with an empty body, half each.
	FailRate float64

	// DropRate is the fraction of uploads whose connection is closed
	// after part of the file was read, with no response at all.
	DropRate float64

	// Latency delays every answer to an admitted upload that reaches the
	// request checks; a cancelled request stops waiting.
	Latency time.Duration

	// MaxFileSize, when positive, refuses larger files with HTTP 400 and
	// MXFileSizeExceededException.
	MaxFileSize int64

	// SuccessStyle is StyleObject (the default), StyleArray, StyleUpper
	// or StyleMixed.
	SuccessStyle string

	// Script forces answers by the form field Id; see Scripted.
	Script map[string]Scripted

	// Seed seeds the random source of fail and drop decisions and of
	// stored names; 0 means a time-based seed.
	Seed int64
}

// Scripted forces the answer to uploads with one Id: the first Times
// uploads (every upload when Times is 0) get Variant, later ones are
// answered normally. Variant is one of Variants().
type Scripted struct {
	Variant string
	Times   int
}

// Received is one accepted upload, as the form described it.
type Received struct {
	ID               string `json:"id"`
	Entity           string `json:"entity"`
	SchemaName       string `json:"schema_name"`
	EntitySchemaName string `json:"entity_schema_name"`
	FileName         string `json:"file_name"`
	Size             int64  `json:"size"`
	SHA256           string `json:"sha256"`
	FileType         string `json:"file_type"`
	FileStorageType  string `json:"file_storage_type"`
	StorageVersion   string `json:"storage_version"`
	EnableResize     string `json:"enable_resize"`
	UploadedFile     string `json:"uploaded_file"`
}

// Stats counts the requests to the upload path by outcome. Every request
// lands in exactly one outcome, so the outcomes add up to Requests.
type Stats struct {
	// Requests counts every request to the upload path.
	Requests int `json:"requests"`

	// Accepted counts successful uploads, scripted ones included.
	Accepted int `json:"accepted"`

	// Throttled counts rate-limit answers, scripted ones included.
	Throttled int `json:"throttled"`

	// Injected counts failures answered on purpose: FailRate answers and
	// the scripted 5xx, HTML and empty answers.
	Injected int `json:"injected"`

	// Dropped counts connections closed without an answer.
	Dropped int `json:"dropped"`

	// Refused counts the other 4xx answers and errors sent with HTTP 200.
	Refused int `json:"refused"`

	// Unauthorized counts 401 answers.
	Unauthorized int `json:"unauthorized"`

	// Abandoned counts requests whose client went away during Latency.
	Abandoned int `json:"abandoned"`
}

// Validate reports the first option that NewHandler would have to replace
// by its default, wrapped in ErrInvalidOptions. Keys are never named.
func (o Options) Validate() error {
	checks := []struct {
		bad bool
		msg string
	}{
		{o.Quota < 0, fmt.Sprintf("Quota %d is negative", o.Quota)},
		{o.Window < 0, fmt.Sprintf("Window %v is negative", o.Window)},
		{!validThrottleStatus(o.ThrottleStatus),
			fmt.Sprintf("ThrottleStatus %d is not 429, 403 or 200", o.ThrottleStatus)},
		{o.RetryAfter < 0, fmt.Sprintf("RetryAfter %v is negative", o.RetryAfter)},
		{!validRate(o.FailRate), fmt.Sprintf("FailRate %g is not in [0, 1]", o.FailRate)},
		{!validRate(o.DropRate), fmt.Sprintf("DropRate %g is not in [0, 1]", o.DropRate)},
		{o.Latency < 0, fmt.Sprintf("Latency %v is negative", o.Latency)},
		{o.MaxFileSize < 0, fmt.Sprintf("MaxFileSize %d is negative", o.MaxFileSize)},
		{!validStyle(o.SuccessStyle), fmt.Sprintf("SuccessStyle %q is unknown", o.SuccessStyle)},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("%w: %s", ErrInvalidOptions, c.msg)
		}
	}

	return validateScript(o.Script)
}

func validateScript(script map[string]Scripted) error {
	for id, s := range script {
		if id == "" {
			return fmt.Errorf("%w: Script has an empty Id", ErrInvalidOptions)
		}
		if _, ok := variantByName(s.Variant); !ok {
			return fmt.Errorf("%w: Script[%q]: unknown variant %q",
				ErrInvalidOptions, id, s.Variant)
		}
		if s.Times < 0 {
			return fmt.Errorf("%w: Script[%q]: Times %d is negative",
				ErrInvalidOptions, id, s.Times)
		}
	}

	return nil
}

func validThrottleStatus(status int) bool {
	switch status {
	case 0, 429, 403, 200:
		return true
	}

	return false
}

func validRate(rate float64) bool {
	return rate >= 0 && rate <= 1
}

func validStyle(style string) bool {
	switch style {
	case "", StyleObject, StyleArray, StyleUpper, StyleMixed:
		return true
	}

	return false
}

// withDefaults fills zero values with the documented defaults and replaces
// what Validate would reject, so a Handler never has to guess.
func (o Options) withDefaults() Options {
	if o.AccessKey == "" {
		o.AccessKey = SandboxAccessKey
	}
	if o.SecretKey == "" {
		o.SecretKey = SandboxSecretKey
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.ThrottleStatus == 0 || !validThrottleStatus(o.ThrottleStatus) {
		o.ThrottleStatus = 429
	}
	if o.SuccessStyle == "" || !validStyle(o.SuccessStyle) {
		o.SuccessStyle = StyleObject
	}

	o.Quota = max(o.Quota, 0)
	o.RetryAfter = max(o.RetryAfter, 0)
	o.Latency = max(o.Latency, 0)
	o.MaxFileSize = max(o.MaxFileSize, 0)
	o.FailRate = clampRate(o.FailRate)
	o.DropRate = clampRate(o.DropRate)
	o.Script = usableScript(o.Script)

	return o
}

func clampRate(rate float64) float64 {
	if !(rate > 0) { // NaN is no rate at all
		return 0
	}

	return min(rate, 1)
}

// usableScript copies the script, so the caller's map may change later,
// and leaves out entries that could never be answered.
func usableScript(script map[string]Scripted) map[string]Scripted {
	out := make(map[string]Scripted, len(script))
	for id, s := range script {
		if _, ok := variantByName(s.Variant); ok && id != "" && s.Times >= 0 {
			out[id] = s
		}
	}

	return out
}
