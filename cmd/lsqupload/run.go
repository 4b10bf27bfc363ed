package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/lsqupload/lsqupload/batch"
	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/report"
	"github.com/lsqupload/lsqupload/uploader"
)

// startError is a reason the run could not start, with its exit code.
type startError struct {
	code int
	err  error
}

func (e *startError) Error() string { return e.err.Error() }

func (e *startError) Unwrap() error { return e.err }

// cannotStart wraps err as a reason to exit with exitUsage.
func cannotStart(err error) error { return &startError{code: exitUsage, err: err} }

func runCommand(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	fs, cfg := newRunFlags()
	pos, err := parseInterspersed(fs, args)
	if err == nil && len(pos) != 1 {
		err = fmt.Errorf("want exactly one MANIFEST, got %d arguments", len(pos))
	}
	if err == nil {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		cfg.settle(set)
		err = cfg.check()
	}
	if err != nil {
		return usageError(stdout, stderr, fs, runUsage, err)
	}

	log, err := newLogger(stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return usageError(stdout, stderr, fs, runUsage, err)
	}
	defer log.Sync() //nolint:errcheck // syncing a terminal fails on some systems

	code, err := execute(cfg, pos[0], stderr, log, sigs)
	if err != nil {
		fmt.Fprintf(stderr, "lsqupload: %v\n", err)
	}
	return code
}

// execute prepares and runs one upload job and returns the exit code.
func execute(cfg *runConfig, manifestPath string, stderr io.Writer, log *zap.Logger,
	sigs <-chan os.Signal) (int, error) {
	started := time.Now()
	ctx, stop := watchSignals(cfg, sigs, log)
	defer stop.release()

	j, err := prepare(cfg, manifestPath, log, stop.stop)
	if err != nil {
		var se *startError
		if errors.As(err, &se) {
			return se.code, err
		}
		return exitUsage, err
	}
	defer j.close()

	out, runErr := batch.Run(ctx, j.src, j.client, j.sink, batch.Options{
		Concurrency: cfg.concurrency,
		Stop:        stop.stop,
		StopReason:  stop.why,
		Logger:      log,
		Ledger:      j.ledger,
		Destination: j.destination,
	})
	closeErr := j.finish(out)

	sum := j.summary(out, time.Since(started))
	sum.WriteTo(stderr) //nolint:errcheck // nothing left to tell if stderr is gone
	err = errors.Join(runErr, closeErr)
	return exitCode(out, sum, stop, err), err
}

// exitCode maps how the run ended to the process exit code. A signal or
// the deadline decides it only when it cut the run short; a stop that
// came after the last row changed nothing.
func exitCode(out batch.Outcome, sum report.Summary, stop *stopper, err error) int {
	cutShort := out.NotAttempted > 0 || out.CutShort > 0
	switch {
	case cutShort && stop.deadline():
		return exitDeadline
	case cutShort && stop.signalled():
		return exitInterrupted
	case err != nil, out.KeysRefused, sum.Failed > 0, sum.Rejected > 0, out.NotAttempted > 0:
		return exitFailures
	}
	return exitOK
}

// newClient builds the uploader for a resolved target.
func newClient(cfg *runConfig, t target, log *zap.Logger,
	stop <-chan struct{}) (*uploader.Client, error) {
	return uploader.New(uploader.Options{
		Endpoint:        t.endpoint,
		Credentials:     t.creds,
		Timeout:         cfg.timeout,
		MaxAttempts:     cfg.maxAttempts,
		Budget:          cfg.budget,
		InitialInterval: cfg.backoffMin,
		MaxInterval:     cfg.backoffMax,
		Window:          cfg.rateWindow,
		Pacer:           uploader.NewPacer(cfg.rate, cfg.rateWindow),
		OnRetry:         batch.LogRetry(log),
		Stop:            stop,
	})
}

// openManifest opens the manifest, leaving our own result columns out of
// its rows.
func openManifest(cfg *runConfig, path string) (*manifest.Reader, error) {
	src, err := manifest.Open(path, manifest.Options{
		Drop:        report.Columns(),
		MaxFileSize: cfg.maxFileSize,
		Extensions:  cfg.extensions(),
	})
	if err != nil {
		return nil, cannotStart(err)
	}
	return src, nil
}
