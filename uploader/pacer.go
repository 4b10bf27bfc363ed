package uploader

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer keeps a run's calls inside the account's quota: at most n calls
// per window, evenly spaced, and a pause for every caller after the server
// said the quota was exceeded. It is safe for concurrent use.
type Pacer struct {
	limiter *rate.Limiter

	mu sync.Mutex
	// until is the end of the pause a throttle answer imposed; mu guards it.
	until time.Time
}

// NewPacer returns a Pacer allowing n calls per window; n <= 0 means no
// cap, only pauses.
func NewPacer(n int, window time.Duration) *Pacer {
	if n <= 0 || window <= 0 {
		return &Pacer{limiter: rate.NewLimiter(rate.Inf, 1)}
	}
	// A burst of one spaces calls evenly; the 5% margin keeps n+1 calls
	// out of any window of that length, wherever the server starts
	// counting and however late a call leaves.
	every := window / time.Duration(n) * 105 / 100
	return &Pacer{limiter: rate.NewLimiter(rate.Every(every), 1)}
}

// Wait blocks until a call may be made, or ctx is done.
func (p *Pacer) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		d := time.Until(p.until)
		p.mu.Unlock()
		if d <= 0 {
			break
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return p.limiter.Wait(ctx)
}

// Hold pauses every caller for d from now, unless a longer pause is on.
func (p *Pacer) Hold(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := time.Now().Add(d); t.After(p.until) {
		p.until = t
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
