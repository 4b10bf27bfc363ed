package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/uploader"
)

const runUsage = `Usage: lsqupload run [flags] MANIFEST

Uploads every valid row of MANIFEST (NAME.csv) and writes NAME.results.csv
and NAME.failures.csv beside it. Flags take one dash or two. A real run needs
--region or --endpoint, and the keys in LSQ_ACCESS_KEY and LSQ_SECRET_KEY
(or --credentials FILE). --sandbox uploads to a local stand-in instead.

Flags:
`

// runConfig holds the flags of "run". Its zero value is not meaningful;
// newRunFlags fills the defaults.
type runConfig struct {
	region      string
	endpoint    string
	sandbox     bool
	credentials string

	concurrency int
	rate        int
	rateWindow  time.Duration
	maxAttempts int
	timeout     time.Duration
	budget      time.Duration
	backoffMin  time.Duration
	backoffMax  time.Duration

	results  string
	failures string
	lock     string
	force    bool

	grace       time.Duration
	maxDuration time.Duration

	maxFileSize int64
	allowedExt  string

	logFormat string
	logLevel  string
}

// Defaults of "run" that depend on the target.
const (
	defaultRate        = 5
	defaultSandboxRate = 20
)

func newRunFlags() (*flag.FlagSet, *runConfig) {
	c := &runConfig{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	fs.StringVar(&c.region, "region", "", "LeadSquared region of the account: "+
		strings.Join(uploader.Regions(), ", "))
	fs.StringVar(&c.endpoint, "endpoint", "", "File Upload URL, overriding --region "+
		"(e.g. https://files-in21.leadsquared.com/File/Upload)")
	fs.BoolVar(&c.sandbox, "sandbox", false, "upload to a sandbox started inside the "+
		"process (no keys, no network)")
	fs.StringVar(&c.credentials, "credentials", "", "file of LSQ_ACCESS_KEY= and "+
		"LSQ_SECRET_KEY= lines, readable by its owner only (default: the environment)")

	fs.IntVar(&c.concurrency, "concurrency", 4, "uploads in flight at once")
	fs.IntVar(&c.rate, "rate", defaultRate, fmt.Sprintf("API calls per --rate-window, at "+
		"most; keep it under the account's quota (%d with --sandbox unless set; 0 = no cap)",
		defaultSandboxRate))
	fs.DurationVar(&c.rateWindow, "rate-window", uploader.DefaultWindow,
		"window of the API quota and of --rate")
	fs.IntVar(&c.maxAttempts, "max-attempts", uploader.DefaultMaxAttempts,
		"tries per row for transient failures (quota waits are not counted)")
	fs.DurationVar(&c.timeout, "timeout", uploader.DefaultTimeout,
		"time limit of one request, file included")
	fs.DurationVar(&c.budget, "retry-budget", uploader.DefaultBudget,
		"time limit of one row, retries and waits included")
	fs.DurationVar(&c.backoffMin, "backoff-initial", uploader.DefaultInitialInterval,
		"first wait after a transient failure (doubles, with jitter)")
	fs.DurationVar(&c.backoffMax, "backoff-max", uploader.DefaultMaxInterval,
		"longest wait between retries")

	fs.StringVar(&c.results, "results", "", "results CSV (default NAME.results.csv "+
		"beside the manifest)")
	fs.StringVar(&c.failures, "failures", "", "failures CSV (default NAME.failures.csv "+
		"beside the manifest)")
	fs.StringVar(&c.lock, "lock", "", "lock file that keeps two runs apart "+
		"(default RESULTS.lock)")
	fs.BoolVar(&c.force, "force", false, "upload every row, even those the results "+
		"file records as uploaded")

	fs.DurationVar(&c.grace, "grace", 10*time.Second, "on SIGINT or SIGTERM, time given "+
		"to uploads in flight before they are cancelled")
	fs.DurationVar(&c.maxDuration, "max-duration", 0, "stop gracefully after this long "+
		"(exit 4; 0 = no limit)")

	fs.Int64Var(&c.maxFileSize, "max-file-size", manifest.DefaultMaxFileSize,
		"reject files larger than this many bytes (-1 = no limit)")
	fs.StringVar(&c.allowedExt, "allowed-ext", strings.Join(manifest.DefaultExtensions, ","),
		"file extensions allowed, comma-separated (* = any)")

	fs.StringVar(&c.logFormat, "log-format", "", "json or console (default console on "+
		"a terminal, json otherwise)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	return fs, c
}

// settle applies the defaults that depend on other flags; set holds the
// names of the flags given on the command line.
func (c *runConfig) settle(set map[string]bool) {
	if c.sandbox && !set["rate"] {
		c.rate = defaultSandboxRate
	}
}

// check validates flag values that flag parsing alone cannot.
func (c *runConfig) check() error {
	switch {
	case c.concurrency < 1:
		return errors.New("--concurrency must be at least 1")
	case c.rate < 0:
		return errors.New("--rate must not be negative")
	case c.maxAttempts < 1:
		return errors.New("--max-attempts must be at least 1")
	case c.timeout <= 0, c.budget <= 0, c.rateWindow <= 0:
		return errors.New("--timeout, --retry-budget and --rate-window must be positive")
	case c.backoffMin <= 0 || c.backoffMax < c.backoffMin:
		return errors.New("--backoff-initial must be positive and at most --backoff-max")
	case c.grace < 0 || c.maxDuration < 0:
		return errors.New("--grace and --max-duration must not be negative")
	case c.maxFileSize == 0:
		return errors.New("--max-file-size must be positive, or -1 for no limit")
	}
	if c.sandbox && (c.region != "" || c.endpoint != "") {
		return errors.New("--sandbox cannot be combined with --region or --endpoint")
	}
	return nil
}

// extensions splits --allowed-ext.
func (c *runConfig) extensions() []string {
	var out []string
	for _, e := range strings.Split(c.allowedExt, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	if out == nil {
		return []string{}
	}
	return out
}
