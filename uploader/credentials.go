// Package uploader sends one file to LeadSquared's File Upload API,
// classifies the answer and retries what is worth retrying. It knows
// nothing of manifests or runs: it uploads one Request at a time.
package uploader

import (
	"fmt"
	"net/url"
	"strings"

	"go.uber.org/zap/zapcore"
)

// redacted is what a Credentials value prints as, however it is printed.
const redacted = "[redacted]"

// Credentials holds an account's access and secret keys. It prints as
// "[redacted]" under every fmt verb, in JSON and in zap fields, so a key
// cannot leak through a log line or an error by accident.
type Credentials struct {
	access string
	secret string
}

// NewCredentials returns credentials for the given keys.
func NewCredentials(access, secret string) Credentials {
	return Credentials{access: access, secret: secret}
}

// Empty reports whether either key is missing.
func (c Credentials) Empty() bool { return c.access == "" || c.secret == "" }

// String returns "[redacted]".
func (c Credentials) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (c Credentials) GoString() string { return redacted }

// Format prints "[redacted]" for every verb, including %+v.
func (c Credentials) Format(f fmt.State, _ rune) { fmt.Fprint(f, redacted) }

// MarshalJSON returns the JSON string "[redacted]".
func (c Credentials) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalLogObject makes zap print the credentials as redacted.
func (c Credentials) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("keys", redacted)
	return nil
}

// scrub replaces any occurrence of the keys in s, for text that came back
// from a server and may echo what it was sent.
func (c Credentials) scrub(s string) string {
	for _, k := range []string{c.access, c.secret} {
		if len(k) < 4 {
			continue
		}
		for _, form := range []string{k, url.QueryEscape(k), url.PathEscape(k)} {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}
