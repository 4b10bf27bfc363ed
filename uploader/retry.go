package uploader

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// errRetry marks an attempt worth another try; the policy decides when.
var errRetry = errors.New("retry")

// Upload sends one file, retrying transient failures with jittered
// exponential backoff and waiting out throttles, within the row's attempt
// and time budget. Permanent failures are sent once. Cancelling ctx stops
// waits and in-flight requests at once and marks the result Interrupted.
func (c *Client) Upload(ctx context.Context, req Request) Result {
	pol := c.newPolicy()
	res := Result{Bytes: req.Size}
	waits, stop := c.waitContext(ctx)
	defer stop()

	op := func() error {
		if err := c.opts.Pacer.Wait(waits); err != nil {
			return backoff.Permanent(err)
		}
		res.Attempts++
		res.Outcome = c.attempt(ctx, req)
		if res.Class == ClassThrottle {
			res.Throttled++
		}
		return c.judge(waits, pol, res.Outcome)
	}
	notify := func(_ error, d time.Duration) {
		if c.opts.OnRetry != nil {
			c.opts.OnRetry(RetryEvent{Request: req, Attempt: res.Attempts, Delay: d,
				Outcome: res.Outcome})
		}
	}

	err := backoff.RetryNotify(op, backoff.WithContext(pol, waits), notify)
	return c.finish(ctx, waits, res, pol, err)
}

// waitContext returns a context for the waits of a row (for the quota and
// between attempts): it ends with ctx, when the row's time budget is
// spent, or as soon as Options.Stop is closed.
func (c *Client) waitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	waits, cancel := context.WithTimeout(ctx, c.opts.Budget)
	if c.opts.Stop == nil {
		return waits, cancel
	}
	go func() {
		select {
		case <-c.opts.Stop:
			cancel()
		case <-waits.Done():
		}
	}()
	return waits, cancel
}

// judge turns an attempt's outcome into the retry decision.
func (c *Client) judge(ctx context.Context, pol *policy, o Outcome) error {
	if o.Class == ClassSuccess {
		return nil
	}
	if ctx.Err() != nil {
		return backoff.Permanent(ctx.Err())
	}
	switch o.Class {
	case ClassThrottle:
		wait := max(c.opts.Window, o.RetryAfter)
		c.opts.Pacer.Hold(wait)
		pol.throttled(wait)
		return errRetry
	case ClassTransient:
		pol.failed(o.RetryAfter)
		return errRetry
	}
	return backoff.Permanent(errors.New(o.Message))
}

// finish fills the result's error from how the retries ended: ctx is the
// run's, waits the row's (see waitContext).
func (c *Client) finish(ctx, waits context.Context, res Result, pol *policy, err error) Result {
	switch {
	case err == nil && res.Class == ClassSuccess:
		return res
	case res.Attempts > 0 && (res.Class == ClassPermanent || res.Class == ClassAuth):
		res.Err = errors.New(res.Message) // the server's answer stands, stop or not
	case ctx.Err() != nil || c.stopped():
		res.Interrupted = true
		res.Err = fmt.Errorf("interrupted after %d attempt(s)", res.Attempts)
	case res.Attempts == 0:
		res.Class, res.ErrorType = ClassThrottle, "budget"
		res.Err = fmt.Errorf("gave up before sending: the per-row time budget of %s "+
			"would be spent waiting for the quota (--retry-budget)", c.opts.Budget)
	case waits.Err() != nil:
		res.Err = fmt.Errorf("gave up after %d attempt(s) (per-row time budget spent): %s",
			res.Attempts, res.Message)
	case res.Class == ClassTransient || res.Class == ClassThrottle:
		res.Err = fmt.Errorf("gave up after %d attempt(s) (%s): %s",
			res.Attempts, pol.stopReason, res.Message)
	default:
		res.Err = errors.New(res.Message)
	}
	return res
}

// stopped reports whether Options.Stop is closed.
func (c *Client) stopped() bool {
	select {
	case <-c.opts.Stop:
		return true
	default:
		return false
	}
}

// policy is one row's backoff.BackOff: exponential with jitter between
// transient failures, a fixed wait after a throttle, and explicit limits on
// attempts and elapsed time. A policy serves one row; it is not shared.
type policy struct {
	exp         *backoff.ExponentialBackOff
	maxAttempts int
	deadline    time.Time

	failures   int
	next       time.Duration
	stop       bool
	stopReason string
}

func (c *Client) newPolicy() *policy {
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = c.opts.InitialInterval
	exp.MaxInterval = c.opts.MaxInterval
	exp.Multiplier = 2
	exp.RandomizationFactor = 0.5
	exp.MaxElapsedTime = c.opts.Budget
	exp.Reset()

	return &policy{
		exp:         exp,
		maxAttempts: c.opts.MaxAttempts,
		deadline:    time.Now().Add(c.opts.Budget),
	}
}

// throttled schedules the wait a quota answer imposes; it does not count
// as a failed attempt.
func (p *policy) throttled(wait time.Duration) { p.next = wait }

// failed counts a transient failure and schedules its backoff, or stops
// when the attempts are spent.
func (p *policy) failed(retryAfter time.Duration) {
	p.failures++
	if p.failures >= p.maxAttempts {
		p.stop, p.stopReason = true, fmt.Sprintf("--max-attempts %d reached", p.maxAttempts)
		return
	}
	d := p.exp.NextBackOff()
	if d == backoff.Stop {
		p.stop, p.stopReason = true, "per-row time budget spent"
		return
	}
	p.next = max(d, retryAfter)
}

// NextBackOff returns the wait scheduled by the last attempt, or Stop.
func (p *policy) NextBackOff() time.Duration {
	if p.stop {
		return backoff.Stop
	}
	if time.Now().Add(p.next).After(p.deadline) {
		p.stopReason = "per-row time budget spent"
		return backoff.Stop
	}
	return p.next
}

// Reset starts the policy afresh.
func (p *policy) Reset() {
	p.exp.Reset()
	p.failures, p.next, p.stop, p.stopReason = 0, 0, false, ""
}
