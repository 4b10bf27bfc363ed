package lsqtest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Exception types of the error envelopes the fake writes itself.
const (
	exMandatory    = "MXMandatoryAttributeMissingException"
	exInvalidInput = "MXInvalidInputException"
	exUnauthorized = "MXUnAuthorizedAccessException"
	exFileSize     = "MXFileSizeExceededException"
	exRateLimit    = "MXAPIRateLimitExceededException"
)

// apiError is a refusal in the service's error envelope.
type apiError struct {
	status  int
	exType  string
	message string
}

func invalidInput(message string) *apiError {
	return &apiError{http.StatusBadRequest, exInvalidInput, message}
}

// guidPattern matches a lead's ProspectID, such as
// 0f8fad5b-d9cb-469f-a165-70867728950e.
var guidPattern = regexp.MustCompile(
	`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// check returns the refusal the real service would give, or nil when the
// upload is good. Its messages name fields, never their values, so a key
// sent in the wrong field is not echoed.
func (x *exchange) check(readErr error) *apiError {
	switch {
	case readErr == errNotMultipart:
		return invalidInput("Request is not multipart/form-data")
	case readErr != nil:
		return invalidInput("Request body is truncated or malformed")
	case x.form.problem != nil:
		return x.form.problem
	}

	if missing := x.form.missing(); missing != "" {
		message := fmt.Sprintf("'%s' is mandatory", missing)
		return &apiError{http.StatusOK, exMandatory, message}
	}

	if !x.keysMatch() {
		message := "Invalid access key or secret key"
		return &apiError{http.StatusUnauthorized, exUnauthorized, message}
	}

	if refusal := x.form.invalidField(); refusal != nil {
		return refusal
	}

	return x.form.invalidFile(x.h.opts.MaxFileSize)
}

// missing names the first mandatory field that is absent or empty.
func (f *form) missing() string {
	for _, name := range mandatoryFields {
		if f.fields[name] == "" {
			return name
		}
	}
	if !f.hasFile {
		return fileField
	}

	return ""
}

// keysMatch compares both keys in constant time, so response timing does
// not reveal how much of a key was right.
func (x *exchange) keysMatch() bool {
	access := subtle.ConstantTimeCompare(
		[]byte(x.form.fields["AccessKey"]), []byte(x.h.opts.AccessKey))
	secret := subtle.ConstantTimeCompare(
		[]byte(x.form.fields["SecretKey"]), []byte(x.h.opts.SecretKey))

	return access&secret == 1
}

// invalidField checks the values of the text fields.
func (f *form) invalidField() *apiError {
	entity, id := f.fields["Entity"], f.fields["Id"]

	switch {
	case entity != "0" && entity != "1":
		return invalidInput("Invalid Entity value")
	case entity == "0" && !guidPattern.MatchString(id):
		return invalidInput("Invalid Id value: a lead Id (Entity 0) must be a GUID")
	case entity == "1" && !isDigits(id, false):
		return invalidInput("Invalid Id value: an activity or opportunity Id (Entity 1)" +
			" must be a positive integer")
	case !strings.EqualFold(f.fields["EnableResize"], "false"):
		return invalidInput("Invalid EnableResize value: it must be false")
	}

	for _, name := range []string{"FileType", "FileStorageType", "StorageVersion"} {
		if !isDigits(f.fields[name], true) {
			return invalidInput(
				fmt.Sprintf("Invalid %s value: it must be a non-negative integer", name))
		}
	}

	return nil
}

// invalidFile checks the file's size; limit 0 means no limit.
func (f *form) invalidFile(limit int64) *apiError {
	if f.size == 0 {
		return invalidInput("Invalid uploadFiles value: the file is empty")
	}

	if limit > 0 && f.size > limit {
		message := fmt.Sprintf("File size exceeds the limit of %d bytes", limit)
		return &apiError{http.StatusBadRequest, exFileSize, message}
	}

	return nil
}

// isDigits reports whether s is a decimal integer without sign, of at most
// 18 digits so it fits an int64; zero passes only when zeroOK.
func isDigits(s string, zeroOK bool) bool {
	if s == "" || len(s) > 18 {
		return false
	}

	nonZero := false
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		nonZero = nonZero || c != '0'
	}

	return zeroOK || nonZero
}
