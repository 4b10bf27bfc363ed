package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

const sandboxUsage = `Usage: lsqupload sandbox [flags]

Serves a local stand-in of LeadSquared's File Upload API, for rehearsals
and tests, and prints its upload URL on the first line of standard
output. It accepts the sandbox keys below (or --access-key/--secret-key),
checks every form field like the real API, enforces a quota per window and
injects faults on request. GET /sandbox/received lists what it accepted;
GET /sandbox/stats counts its answers. Stop it with Ctrl-C or SIGTERM.

Sandbox keys: LSQ_ACCESS_KEY='` + lsqtest.SandboxAccessKey + `'
              LSQ_SECRET_KEY='` + lsqtest.SandboxSecretKey + `'

Flags:
`

// sandboxConfig holds the flags of "sandbox".
type sandboxConfig struct {
	listen string
	opts   lsqtest.Options
	script scriptFlag
}

// scriptFlag collects --respond ID=VARIANT[:TIMES] flags.
type scriptFlag map[string]lsqtest.Scripted

func (s scriptFlag) String() string { return "" }

func (s scriptFlag) Set(v string) error {
	id, rest, ok := strings.Cut(v, "=")
	if !ok || id == "" {
		return fmt.Errorf("want ID=VARIANT[:TIMES], got %q", v)
	}
	variant, times, hasTimes := strings.Cut(rest, ":")
	sc := lsqtest.Scripted{Variant: variant}
	if hasTimes {
		n, err := strconv.Atoi(times)
		if err != nil || n < 0 {
			return fmt.Errorf("TIMES in %q is not a whole number", v)
		}
		sc.Times = n
	}
	s[id] = sc
	return nil
}

func newSandboxFlags() (*flag.FlagSet, *sandboxConfig) {
	c := &sandboxConfig{script: scriptFlag{}}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	fs.StringVar(&c.listen, "listen", "127.0.0.1:8089", "address to listen on "+
		"(a port alone binds loopback; use 127.0.0.1:0 for any free port)")
	fs.StringVar(&c.opts.AccessKey, "access-key", "", "access key to accept "+
		"(default the sandbox key)")
	fs.StringVar(&c.opts.SecretKey, "secret-key", "", "secret key to accept "+
		"(default the sandbox key)")
	fs.IntVar(&c.opts.Quota, "quota", 25, "calls admitted per window (0 = no quota)")
	fs.DurationVar(&c.opts.Window, "window", lsqtest.DefaultWindow, "quota window")
	fs.IntVar(&c.opts.ThrottleStatus, "throttle-status", 429, "HTTP status of the "+
		"rate-limit answer: 429, 403 or 200")
	fs.DurationVar(&c.opts.RetryAfter, "retry-after", 0, "send Retry-After with "+
		"rate-limit answers (0 = none, like the real API)")
	fs.Float64Var(&c.opts.FailRate, "fail-rate", 0, "fraction of uploads answered 500 or 503")
	fs.Float64Var(&c.opts.DropRate, "drop-rate", 0, "fraction of uploads whose "+
		"connection is dropped mid-request")
	fs.DurationVar(&c.opts.Latency, "latency", 0, "delay before every answer")
	fs.Int64Var(&c.opts.MaxFileSize, "max-file-size", 0, "refuse larger files "+
		"(bytes; 0 = no limit)")
	fs.StringVar(&c.opts.SuccessStyle, "success-style", lsqtest.StyleObject,
		"success body: object, array, upper or mixed")
	fs.Var(c.script, "respond", "ID=VARIANT[:TIMES]: answer uploads for record ID "+
		"with VARIANT (the first TIMES, or all); repeatable. Variants: "+
		strings.Join(lsqtest.Variants(), ", "))
	fs.Int64Var(&c.opts.Seed, "seed", 0, "seed of fault decisions (0 = random)")
	return fs, c
}

func sandboxCommand(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	fs, cfg := newSandboxFlags()
	pos, err := parseInterspersed(fs, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err != nil {
		return usageError(stdout, stderr, fs, sandboxUsage, err)
	}
	if len(cfg.script) > 0 {
		cfg.opts.Script = cfg.script
	}

	if _, err := strconv.Atoi(cfg.listen); err == nil {
		cfg.listen = "127.0.0.1:" + cfg.listen // a port alone binds loopback
	}
	srv, err := lsqtest.Start(cfg.listen, cfg.opts)
	if err != nil {
		fmt.Fprintf(stderr, "lsqupload sandbox: %v\n", err)
		return exitUsage
	}
	defer srv.Close()

	fmt.Fprintln(stdout, srv.URL)
	fmt.Fprintf(stderr, "lsqupload sandbox: serving %s (quota %d per %s); "+
		"GET /sandbox/received lists uploads; Ctrl-C stops\n",
		srv.URL, cfg.opts.Quota, window(cfg.opts.Window))

	sig := <-sigs
	fmt.Fprintf(stderr, "lsqupload sandbox: %v: stopping\n", sig)
	return exitOK
}

func window(d time.Duration) time.Duration {
	if d <= 0 {
		return lsqtest.DefaultWindow
	}
	return d
}
