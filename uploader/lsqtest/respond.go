package lsqtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
)

// envelope is the service's error body.
type envelope struct {
	Status           string `json:"Status"`
	ExceptionType    string `json:"ExceptionType"`
	ExceptionMessage string `json:"ExceptionMessage"`
}

// success is the service's success body. Exactly one of the two name keys
// is set; which one depends on the style.
type success struct {
	Status           string  `json:"Status"`
	LowerName        string  `json:"uploadedFile,omitempty"`
	UpperName        string  `json:"UploadedFile,omitempty"`
	RelativeFilePath string  `json:"relativeFilePath"`
	S3FilePath       string  `json:"s3FilePath"`
	Description      *string `json:"description"`
}

// throttle answers a call over the quota with the configured status.
func (h *Handler) throttle(w http.ResponseWriter) {
	h.record(outThrottled)

	message := fmt.Sprintf("API calls exceeded the limit of %d in %g second(s)",
		h.opts.Quota, h.opts.Window.Seconds())
	h.setRetryAfter(w)
	writeBody(w, h.opts.ThrottleStatus, typeJSON, marshal(envelope{"Error", exRateLimit, message}))
}

// setRetryAfter adds the Retry-After header when the options ask for one.
func (h *Handler) setRetryAfter(w http.ResponseWriter) {
	if h.opts.RetryAfter <= 0 {
		return
	}

	seconds := max(int64(math.Ceil(h.opts.RetryAfter.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(seconds, 10))
}

// answerScripted gives the forced answer; a scripted success is recorded
// like a real one, under the name its body announces.
func (x *exchange) answerScripted() {
	v, _ := variantByName(x.plan.scripted) // withDefaults kept known variants only

	if v.outcome == outAccepted {
		x.h.accept(x.form.received(v.stored))
	} else {
		x.h.record(v.outcome)
	}

	if v.outcome == outThrottled {
		x.h.setRetryAfter(x.w)
	}
	writeBody(x.w, v.status, v.contentType, v.body)
}

// answerFailure gives the injected 500 envelope or empty 503.
func (x *exchange) answerFailure() {
	x.h.record(outInjected)

	if x.plan.fail == http.StatusInternalServerError {
		writeBody(x.w, x.plan.fail, typeJSON, serverErrorBody)
		return
	}
	writeBody(x.w, x.plan.fail, "", "")
}

// refuse writes e's envelope and counts it.
func (x *exchange) refuse(e *apiError) {
	if e.status == http.StatusUnauthorized {
		x.h.record(outUnauthorized)
	} else {
		x.h.record(outRefused)
	}

	writeBody(x.w, e.status, typeJSON, marshal(envelope{"Error", e.exType, e.message}))
}

// succeed records the upload and answers in the next style. The record
// comes first, so a client that saw the answer finds the upload listed.
func (x *exchange) succeed() {
	stored := x.h.storedName(x.form.fileName)
	x.h.accept(x.form.received(stored))

	body := successBody(x.h.nextStyle(), stored, x.r.Host)
	writeBody(x.w, http.StatusOK, typeJSON, body)
}

// successBody builds the success answer for a file stored under stored on
// host.
func successBody(style, stored, host string) string {
	if host == "" {
		host = "localhost"
	}
	escaped := url.PathEscape(stored)

	s := success{
		Status:           "Success",
		LowerName:        stored,
		RelativeFilePath: "http://" + host + "/files/" + escaped,
		S3FilePath:       "http://" + host + "/s3/" + escaped,
	}

	switch style {
	case StyleArray:
		return marshal([]success{s})
	case StyleUpper:
		s.LowerName, s.UpperName = "", stored
	}

	return marshal(s)
}

// marshal encodes v as compact JSON without escaping <, > and &, which the
// service leaves alone. The values are plain structs, so it cannot fail.
func marshal(v any) string {
	var buf bytes.Buffer

	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)

	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeBody writes one answer; an empty contentType sends none, as the
// service does with empty bodies. A write error means the client left.
func writeBody(w http.ResponseWriter, status int, contentType, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
