package uploader

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options configures a Client. The zero value of each field means the
// default named beside it.
type Options struct {
	// Endpoint is the full File Upload URL.
	Endpoint string

	// Credentials are the account's keys.
	Credentials Credentials

	// HTTPClient sends the requests; nil means a client of its own.
	HTTPClient *http.Client

	// Timeout bounds one request, body included (default 60s).
	Timeout time.Duration

	// MaxAttempts bounds the tries of a row that keeps failing for
	// transient reasons (default 5). Waits forced by the quota are not
	// counted here; Budget bounds them.
	MaxAttempts int

	// Budget bounds the time one row may spend, waits included
	// (default 10m).
	Budget time.Duration

	// InitialInterval and MaxInterval shape the jittered exponential
	// backoff between transient failures (defaults 1s and 1m).
	InitialInterval time.Duration
	MaxInterval     time.Duration

	// Window is the quota's window; a throttled row waits at least this
	// long before trying again (default 5s).
	Window time.Duration

	// Pacer spaces calls across the run; nil means no cap.
	Pacer *Pacer

	// OnRetry, when set, is told of every retry before its wait.
	OnRetry func(RetryEvent)

	// Stop, when closed, ends every wait between attempts at once: a row
	// waiting to retry fails as interrupted instead of trying again, while
	// requests already in flight go on until the context ends them.
	Stop <-chan struct{}
}

// Defaults for Options.
const (
	DefaultTimeout         = 60 * time.Second
	DefaultMaxAttempts     = 5
	DefaultBudget          = 10 * time.Minute
	DefaultInitialInterval = time.Second
	DefaultMaxInterval     = time.Minute
	DefaultWindow          = 5 * time.Second
)

func (o *Options) defaults() {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	setDefault(&o.Timeout, DefaultTimeout)
	setDefault(&o.Budget, DefaultBudget)
	setDefault(&o.InitialInterval, DefaultInitialInterval)
	setDefault(&o.MaxInterval, DefaultMaxInterval)
	setDefault(&o.Window, DefaultWindow)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Pacer == nil {
		o.Pacer = NewPacer(0, 0)
	}
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// RetryEvent describes an attempt that will be retried.
type RetryEvent struct {
	Request Request
	Attempt int
	Delay   time.Duration
	Outcome Outcome
}

// Result is what became of one Request.
type Result struct {
	// Outcome is the last attempt's classified answer.
	Outcome

	// Attempts counts the requests sent, throttled ones included;
	// Throttled counts those the quota refused, which stored nothing.
	Attempts  int
	Throttled int

	// Bytes is the size of the file sent.
	Bytes int64

	// Err is nil on success; otherwise it says why the row failed.
	Err error

	// Interrupted is true when the run's context ended the row.
	Interrupted bool
}

// Client uploads files to one endpoint. It is safe for concurrent use.
type Client struct {
	opts Options
}

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q is not an http(s) URL", opts.Endpoint)
	}
	if opts.Credentials.Empty() {
		return nil, errors.New("missing access key or secret key")
	}
	opts.defaults()
	return &Client{opts: opts}, nil
}

// attempt sends the request once and classifies the answer. Errors before
// an answer (timeouts, resets, dropped connections) are transient, unless
// the file itself is at fault or the run was interrupted.
func (c *Client) attempt(ctx context.Context, req Request) Outcome {
	b, err := newBody(req, c.opts.Credentials)
	if err != nil {
		return Outcome{Class: ClassPermanent, ErrorType: "file", Message: err.Error()}
	}
	defer b.Close()

	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, c.opts.Endpoint, b)
	if err != nil {
		return Outcome{Class: ClassPermanent, ErrorType: "request", Message: err.Error()}
	}
	hreq.ContentLength = b.length
	hreq.Header.Set("Content-Type", b.contentType)

	resp, err := c.opts.HTTPClient.Do(hreq)
	if err != nil {
		return c.transportOutcome(ctx, err)
	}
	return c.readAnswer(resp)
}

// maxAnswer bounds how much of an answer is kept; the rest is drained so
// the connection can be reused.
const maxAnswer = 1 << 20

func (c *Client) readAnswer(resp *http.Response) Outcome {
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		o := Outcome{Class: ClassTransient, Status: resp.StatusCode, ErrorType: "network",
			Message: c.opts.Credentials.scrub("reading the answer: " + err.Error())}
		return o
	}

	// Scrub before classifying: the message is cut short there, and a key
	// cut in two would escape the scrubbing.
	data = []byte(c.opts.Credentials.scrub(string(data)))
	return Classify(resp.StatusCode, resp.Header, data)
}

// transportOutcome classifies an error that came before any answer.
func (c *Client) transportOutcome(ctx context.Context, err error) Outcome {
	msg := strings.ReplaceAll(err.Error(), c.opts.Endpoint, Destination(c.opts.Endpoint))
	msg = c.opts.Credentials.scrub(msg)
	var certErr *x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case ctx.Err() != nil:
		return Outcome{Class: ClassTransient, ErrorType: "interrupted", Message: msg}
	case errors.Is(err, ErrFileChanged):
		return Outcome{Class: ClassPermanent, ErrorType: "file", Message: msg}
	case errors.As(err, &certErr), errors.As(err, &hostErr):
		return Outcome{Class: ClassPermanent, ErrorType: "tls", Message: msg}
	case errors.Is(err, context.DeadlineExceeded):
		return Outcome{Class: ClassTransient, ErrorType: "timeout",
			Message: fmt.Sprintf("no answer within %s (--timeout)", c.opts.Timeout)}
	}
	return Outcome{Class: ClassTransient, ErrorType: "network", Message: msg}
}
