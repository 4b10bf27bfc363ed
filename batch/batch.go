// Package batch drives a run: it reads manifest rows, uploads the valid
// ones through a bounded pool, and hands every outcome to one writer. A
// failed row is a result, never a reason to cancel the others; only a
// fatal condition (the outputs cannot be written, the keys are refused)
// ends a run early, and then every remaining row is still accounted for.
package batch

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/report"
	"github.com/lsqupload/lsqupload/uploader"
)

// Source yields manifest rows; *manifest.Reader is one.
type Source interface {
	// Next returns the next row or io.EOF.
	Next() (*manifest.Row, error)

	// Rest counts the rows left unread, without validating them.
	Rest() (int, error)
}

// Uploader uploads one file; *uploader.Client is one.
type Uploader interface {
	Upload(ctx context.Context, req uploader.Request) uploader.Result
}

// Sink records finished rows; *report.Writer is one. Only one goroutine
// calls it.
type Sink interface {
	Write(e report.Entry) error
}

// Options tunes a run. The zero value applies defaults.
type Options struct {
	// Concurrency bounds the uploads in flight (default 4).
	Concurrency int

	// Stop, when closed, stops the run from starting new rows; rows in
	// flight go on until they finish or the run's context is cancelled.
	Stop <-chan struct{}

	// StopReason is called once Stop is closed, to say why in the summary.
	StopReason func() string

	// Logger receives one line per row outcome; nil means none.
	Logger *zap.Logger

	// Ledger holds the rows earlier runs uploaded, which are skipped; nil
	// uploads every row.
	Ledger *Ledger

	// Destination names where uploads go (an endpoint, or "sandbox"); it
	// is recorded with each row so that a ledger never mixes two.
	Destination string
}

// DefaultConcurrency is the pool size when Options leaves it unset.
const DefaultConcurrency = 4

// Outcome says how a run ended, beyond the rows written to the sink.
type Outcome struct {
	// NotAttempted counts rows never started because the run stopped.
	NotAttempted int

	// Stopped says why the run stopped early; empty when it read the
	// whole manifest.
	Stopped string

	// KeysRefused is true when the API refused the keys.
	KeysRefused bool

	// CutShort counts rows whose upload was cancelled after something was
	// sent; they are recorded as failed and interrupted.
	CutShort int

	// Unrecorded counts rows that finished but could not be written,
	// because the outputs failed; the next run does them again.
	Unrecorded int
}

// ErrKeysRefused is the reason recorded when the API refuses the keys.
var ErrKeysRefused = errors.New("the API refused the access or secret key")

// run holds one run's shared state.
type run struct {
	opts    Options
	up      Uploader
	log     *zap.Logger
	entries chan report.Entry

	// seen maps each valid row's key to its line; only the producer
	// goroutine touches it.
	seen map[rowKey]int

	// cancelUploads cancels the uploads in flight, once the keys are
	// refused and every other row would be refused too.
	cancelUploads context.CancelFunc

	// unsent and cutShort count rows a stop caught in flight, before and
	// after they sent anything.
	unsent   atomic.Int64
	cutShort atomic.Int64

	// unrecorded counts rows that finished after the outputs failed, so
	// that no output holds them.
	unrecorded atomic.Int64

	mu sync.Mutex
	// fatal is the first condition that ends the run; mu guards it.
	fatal error
	// targets maps a target field to the finishing of the last row started
	// for it, so rows for one field go in manifest order; mu guards it.
	targets map[rowKey]chan struct{}
}

// Run uploads every row of src and records each outcome in sink. The
// returned error is fatal (the manifest or the outputs failed); row
// failures are only results. Cancelling ctx cancels rows in flight.
func Run(ctx context.Context, src Source, up Uploader, sink Sink, opts Options) (Outcome, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	r := &run{opts: opts, up: up, log: opts.Logger, entries: make(chan report.Entry),
		seen: make(map[rowKey]int), targets: make(map[rowKey]chan struct{})}
	if r.log == nil {
		r.log = zap.NewNop()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := make(chan error, 1)
	go func() { written <- r.write(sink, cancel) }()

	uploads, cancelUploads := context.WithCancel(ctx)
	defer cancelUploads()
	r.cancelUploads = cancelUploads

	out, readErr := r.feed(uploads, src)
	close(r.entries)
	writeErr := <-written

	out.KeysRefused = errors.Is(r.fatalErr(), ErrKeysRefused)
	out.NotAttempted += int(r.unsent.Load())
	out.CutShort = int(r.cutShort.Load())
	out.Unrecorded = int(r.unrecorded.Load())
	return out, errors.Join(readErr, writeErr)
}

// write is the only goroutine that touches the sink. After a write error
// it keeps draining so no worker blocks, and cancels the run.
func (r *run) write(sink Sink, cancel context.CancelFunc) error {
	var first error
	for e := range r.entries {
		if first != nil {
			r.unrecorded.Add(1)
			continue
		}
		if err := sink.Write(e); err != nil {
			r.unrecorded.Add(1)
			first = err
			r.setFatal(err)
			cancel()
			r.log.Error("cannot write outputs; stopping the run", zap.Error(err))
		}
	}
	return first
}

func (r *run) setFatal(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal == nil {
		r.fatal = err
	}
}

func (r *run) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// feed reads rows and starts their uploads, one producer feeding the pool.
func (r *run) feed(ctx context.Context, src Source) (Outcome, error) {
	g := new(errgroup.Group)
	g.SetLimit(r.opts.Concurrency)
	freed := make(chan struct{}, r.opts.Concurrency)

	var out Outcome
	var err error
	var pending *manifest.Row
	for {
		if out.Stopped = r.stopped(ctx); out.Stopped != "" {
			break
		}
		var row *manifest.Row
		if row, err = src.Next(); err != nil {
			break
		}
		if e, settled := r.settle(row); settled {
			r.emit(e)
			continue
		}
		if !r.start(ctx, g, freed, row) {
			out.Stopped, pending = r.stopped(ctx), row
			break
		}
	}
	g.Wait()

	if errors.Is(err, io.EOF) {
		err = nil
	}
	if err == nil && out.Stopped != "" {
		err = r.account(src, pending, &out)
	}
	return out, err
}

// start hands a row to the pool, waiting for a free slot unless the run
// stops first; it reports whether the row was started.
func (r *run) start(ctx context.Context, g *errgroup.Group, freed chan struct{},
	row *manifest.Row) bool {
	after, done := r.queueTarget(row)
	job := func() error {
		defer func() { freed <- struct{}{} }()
		defer done()
		if after != nil {
			select {
			case <-after:
			case <-ctx.Done():
			}
		}
		if e, ok := r.upload(ctx, row); ok {
			r.emit(e)
		}
		return nil
	}
	for {
		if r.stopped(ctx) != "" {
			done()
			return false
		}
		if g.TryGo(job) {
			break
		}
		select {
		case <-freed:
		case <-r.opts.Stop:
		case <-ctx.Done():
		}
	}
	// Drop a stale token so the channel never fills while slots are free.
	select {
	case <-freed:
	default:
	}
	return true
}

// queueTarget makes row wait for the earlier row started for the same
// field, if one is still going, so that the later file is the one the
// field keeps.
//
// BUG(lsqupload): the order holds within one run only; an earlier line
// uploaded on a later night (it failed before) replaces the later line's
// file, and a line repeating an earlier one (A, B, A) is a duplicate. It returns what to wait for (nil for nothing) and what to
// call when the row is done.
func (r *run) queueTarget(row *manifest.Row) (after <-chan struct{}, done func()) {
	key := keyOf(row.Entity, row.Fields.ID, row.Fields.SchemaName,
		row.Fields.EntitySchemaName, "")
	finished := make(chan struct{})

	r.mu.Lock()
	prev := r.targets[key]
	r.targets[key] = finished
	r.mu.Unlock()
	if prev != nil {
		r.log.Warn("two rows upload to the same field; the later line's file is sent "+
			"last and is the one the field keeps", append(describeRow(row),
			zap.String("field", row.Fields.EntitySchemaName+"."+row.Fields.SchemaName))...)
	}

	var once sync.Once
	return prev, func() {
		once.Do(func() {
			close(finished)
			r.mu.Lock()
			if r.targets[key] == finished {
				delete(r.targets, key)
			}
			r.mu.Unlock()
		})
	}
}

// stopped returns why the run must start no more rows, or "".
func (r *run) stopped(ctx context.Context) string {
	if err := r.fatalErr(); err != nil {
		return err.Error()
	}
	select {
	case <-r.opts.Stop:
		if r.opts.StopReason != nil {
			return r.opts.StopReason()
		}
		return "stopped"
	default:
	}
	if ctx.Err() != nil {
		return "interrupted"
	}
	return ""
}

// emit passes an entry to the writer. The writer drains until the channel
// is closed, so the send cannot block forever.
func (r *run) emit(e report.Entry) {
	r.entries <- e
}

// account deals with the rows a stopped run did not start. When the keys
// were refused each of them gets a failed row, so the failures CSV carries
// them to the next run; otherwise they are only counted, and the next run
// over the same manifest picks them up.
func (r *run) account(src Source, pending *manifest.Row, out *Outcome) error {
	if !errors.Is(r.fatalErr(), ErrKeysRefused) {
		n, err := src.Rest()
		out.NotAttempted = n
		if pending != nil {
			out.NotAttempted++
		}
		return err
	}

	if pending != nil {
		r.emit(notAttempted(pending))
	}
	for {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if e, settled := r.settle(row); settled {
			r.emit(e)
			continue
		}
		r.emit(notAttempted(row))
	}
}

// settle returns the entry of a row that needs no upload: rejected, a
// duplicate of an earlier row, or uploaded by an earlier run.
func (r *run) settle(row *manifest.Row) (report.Entry, bool) {
	if row.Err != nil {
		r.log.Info("rejected", zap.Int(KeyLine, row.Line),
			zap.String(KeyStatus, string(report.StatusRejected)),
			zap.String(KeyReason, row.Err.Reason()))
		return rejected(row), true
	}

	k := rowKeyOf(row, r.opts.Ledger.keyDir())
	if first, ok := r.seen[k]; ok {
		r.log.Info("skipped", append(describeRow(row), zap.String(KeyType, TypeDuplicate),
			zap.Int("first_line", first))...)
		return duplicate(row, first, r.opts.Destination), true
	}
	r.seen[k] = row.Line

	if d, ok := r.opts.Ledger.lookup(row); ok {
		r.log.Debug("skipped", append(describeRow(row),
			zap.String(KeyType, TypeAlreadyUploaded))...)
		return skipped(row, d, r.opts.Destination), true
	}
	return report.Entry{}, false
}

// since returns milliseconds elapsed since t.
func since(t time.Time) int64 { return time.Since(t).Milliseconds() }

// stamp formats a finish time for the results.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// stampNano formats a file's modification time exactly, for the ledger.
func stampNano(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// describeRow names a row in log fields.
func describeRow(row *manifest.Row) []zap.Field {
	return []zap.Field{
		zap.Int(KeyLine, row.Line),
		zap.String(KeyFile, row.Fields.FilePath),
		zap.String(KeyEntity, row.Entity.String()),
		zap.String(KeyID, row.Fields.ID),
	}
}
