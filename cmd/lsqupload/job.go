package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"go.uber.org/zap"

	"github.com/lsqupload/lsqupload/batch"
	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/report"
	"github.com/lsqupload/lsqupload/uploader"
	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// sandboxQuota is the quota of the sandbox that --sandbox starts, above
// the default --rate of a sandbox run so a rehearsal is rarely throttled.
const sandboxQuota = 25

// sandboxDestination is what results record as the destination of a
// --sandbox run, whose port changes from run to run.
const sandboxDestination = "sandbox"

// paths are the files one run reads and writes, all absolute.
type paths struct {
	manifest string
	results  string
	failures string
	lock     string
}

// target is where uploads go and with which keys.
type target struct {
	endpoint string
	creds    uploader.Credentials
}

// job holds what a prepared run uses; close releases it all.
type job struct {
	paths   paths
	log     *zap.Logger
	lock    *flock.Flock
	sandbox *lsqtest.Server
	src     *manifest.Reader
	sink    *report.Writer
	ledger  *batch.Ledger
	client  *uploader.Client

	// counts is the sink's tally, kept when the sink is closed.
	counts report.Counts

	// destination is where this run uploads, as the results record it.
	destination string
}

// prepare checks the configuration, takes the lock and opens everything
// the run needs, in an order that touches no output before the lock is
// held and sends nothing before the outputs are open.
func prepare(cfg *runConfig, manifestPath string, log *zap.Logger,
	stop <-chan struct{}) (*job, error) {
	p, err := resolvePaths(cfg, manifestPath)
	if err != nil {
		return nil, cannotStart(err)
	}
	t, err := resolveTarget(cfg)
	if err != nil {
		return nil, cannotStart(err)
	}

	j := &job{paths: p, log: log, destination: uploader.Destination(t.endpoint)}
	if cfg.sandbox {
		j.destination = sandboxDestination
	}
	if err := j.open(cfg, t, stop); err != nil {
		j.close()
		return nil, err
	}
	return j, nil
}

func (j *job) open(cfg *runConfig, t target, stop <-chan struct{}) error {
	var err error
	if j.lock, err = takeLock(j.paths.lock); err != nil {
		return err
	}
	if j.src, err = openManifest(cfg, j.paths.manifest); err != nil {
		return err
	}
	if err := j.openOutputs(cfg); err != nil {
		return cannotStart(err)
	}

	if cfg.sandbox {
		if j.sandbox, err = lsqtest.Start("127.0.0.1:0",
			lsqtest.Options{Quota: sandboxQuota, Window: cfg.rateWindow}); err != nil {
			return cannotStart(fmt.Errorf("start sandbox: %w", err))
		}
		t.endpoint = j.sandbox.URL
		j.log.Info("sandbox started", zap.String("url", t.endpoint))
	}
	if j.client, err = newClient(cfg, t, j.log, stop); err != nil {
		return cannotStart(err)
	}
	return nil
}

// openOutputs reads the ledger of earlier runs and opens the outputs.
func (j *job) openOutputs(cfg *runConfig) error {
	h := j.src.Header()
	sink, err := report.Open(report.Options{
		Results:     j.paths.results,
		Failures:    j.paths.failures,
		Header:      h.Own,
		PathColumn:  h.Index(manifest.ColFilePath),
		ManifestDir: filepath.Dir(j.paths.manifest),
		RowKey:      batch.ResultKey(j.paths.results),
		ColumnKey:   manifest.CanonicalName,
	})
	if err != nil {
		return err
	}
	j.sink = sink
	if n := sink.TornBytes(); n > 0 {
		j.log.Warn("results file ended in a torn line, left by a crash; it was cut off "+
			"and its row will be done again", zap.String("results", j.paths.results),
			zap.Int64("bytes", n))
	}

	if cfg.force {
		return nil
	}
	if j.ledger, err = batch.LoadLedger(j.paths.results); err != nil {
		return err
	}
	if other := j.ledger.Foreign(j.destination); len(other) > 0 {
		return fmt.Errorf("%s records uploads to %s, and this run uploads to %s: "+
			"each destination keeps its own results file, so name another --results "+
			"(or --force to upload every row here)", j.paths.results,
			strings.Join(other, ", "), j.destination)
	}
	if n := j.ledger.Len(); n > 0 {
		j.log.Info("resuming: rows recorded as uploaded are skipped (--force uploads them)",
			zap.String("results", j.paths.results), zap.Int("uploaded_before", n))
	}
	return nil
}

// finish closes the outputs once the run is over.
func (j *job) finish(out batch.Outcome) error {
	complete := out.NotAttempted == 0 && out.Stopped == "" || out.KeysRefused
	j.counts = j.sink.Counts()
	err := j.sink.Close(complete)
	j.sink = nil
	return err
}

// summary gathers the end-of-run figures.
func (j *job) summary(out batch.Outcome, elapsed time.Duration) report.Summary {
	s := report.Summary{
		NotAttempted: out.NotAttempted,
		Unrecorded:   out.Unrecorded,
		Blank:        j.src.Blank(),
		Elapsed:      elapsed,
		Results:      j.paths.results,
		Failures:     j.paths.failures,
		Stopped:      out.Stopped,
		Counts:       j.counts,
	}
	return s
}

// close releases everything open, in reverse order of opening.
func (j *job) close() {
	if j.sink != nil {
		j.sink.Close(false) //nolint:errcheck // an earlier error is already on its way
	}
	if j.src != nil {
		j.src.Close()
	}
	if j.sandbox != nil {
		j.sandbox.Close()
	}
	if j.lock != nil {
		j.lock.Unlock()
	}
}

// resolvePaths fills the default output paths beside the manifest and
// refuses outputs that would overwrite the manifest or each other.
func resolvePaths(cfg *runConfig, manifestPath string) (paths, error) {
	m, err := filepath.Abs(manifestPath)
	if err != nil {
		return paths{}, err
	}
	if info, err := os.Stat(m); err != nil {
		return paths{}, fmt.Errorf("manifest: %w", err)
	} else if info.IsDir() {
		return paths{}, fmt.Errorf("manifest %s is a directory", manifestPath)
	}

	stem := strings.TrimSuffix(m, filepath.Ext(m))
	if cfg.sandbox {
		// A rehearsal keeps outputs of its own, apart from the real ledger.
		stem += ".sandbox"
	}
	p := paths{manifest: m, results: cfg.results, failures: cfg.failures, lock: cfg.lock}
	for _, f := range []struct {
		dst *string
		def string
	}{{&p.results, stem + ".results.csv"}, {&p.failures, stem + ".failures.csv"}} {
		if *f.dst == "" {
			*f.dst = f.def
		}
		if *f.dst, err = filepath.Abs(*f.dst); err != nil {
			return paths{}, err
		}
	}
	if p.lock == "" {
		p.lock = p.results + ".lock"
	}
	if p.lock, err = filepath.Abs(p.lock); err != nil {
		return paths{}, err
	}
	return p, p.distinct()
}

func (p paths) distinct() error {
	names := map[string]string{}
	for _, f := range []struct{ flag, path string }{
		{"the manifest", p.manifest}, {"--results", p.results},
		{"--failures", p.failures}, {"--lock", p.lock},
	} {
		if other, ok := names[f.path]; ok {
			return fmt.Errorf("%s and %s name the same file %s", other, f.flag, f.path)
		}
		names[f.path] = f.flag
	}
	return nil
}

// resolveTarget picks the endpoint and the keys. A real run needs a region
// or an endpoint, and both keys; none is ever guessed.
func resolveTarget(cfg *runConfig) (target, error) {
	if cfg.sandbox {
		return target{creds: uploader.NewCredentials(lsqtest.SandboxAccessKey,
			lsqtest.SandboxSecretKey)}, nil
	}

	var t target
	var err error
	switch {
	case cfg.endpoint != "":
		t.endpoint, err = uploader.ParseEndpoint(cfg.endpoint)
	case cfg.region != "":
		t.endpoint, err = uploader.RegionEndpoint(cfg.region)
	default:
		err = errors.New("a real run needs --region or --endpoint (or --sandbox to rehearse)")
	}
	if err != nil {
		return target{}, err
	}

	t.creds, err = loadCredentials(cfg.credentials, os.Getenv)
	return t, err
}
