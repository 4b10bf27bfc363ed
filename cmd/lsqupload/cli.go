package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes, the only ones the process returns.
const (
	exitOK          = 0
	exitFailures    = 1
	exitUsage       = 2
	exitLocked      = 3
	exitDeadline    = 4
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    every row done (uploaded, or skipped as already uploaded)
  1    the run finished, but some rows failed or were rejected
  2    the run could not start (usage, configuration, unreadable manifest
       or header, outputs that cannot be created)
  3    another run holds the lock
  4    stopped by --max-duration; run again to resume
  130  interrupted (SIGINT or SIGTERM)
`

const usageText = `lsqupload uploads the documents a CSV manifest lists into LeadSquared
Custom Field Set fields, and writes a results CSV and a failures CSV.

Usage:
  lsqupload run [flags] MANIFEST   upload every row of MANIFEST
  lsqupload sandbox [flags]        serve a local stand-in of the File Upload API
  lsqupload help [COMMAND]         show this help, or a command's flags

Run "lsqupload help run" or "lsqupload help sandbox" for their flags.

` + exitCodesHelp

// errHelp asks for the help text and a zero exit.
var errHelp = flag.ErrHelp

// cli runs one command line and returns the process exit code.
func cli(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}

	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		return runCommand(rest, stdout, stderr, sigs)
	case "sandbox":
		return sandboxCommand(rest, stdout, stderr, sigs)
	case "help", "-h", "-help", "--help":
		return helpCommand(rest, stdout)
	default:
		fmt.Fprintf(stderr, "lsqupload: unknown command %q\n\n%s", cmd, usageText)
		return exitUsage
	}
}

func helpCommand(args []string, stdout io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	switch args[0] {
	case "run":
		fs, _ := newRunFlags()
		printFlags(stdout, fs, runUsage)
	case "sandbox":
		fs, _ := newSandboxFlags()
		printFlags(stdout, fs, sandboxUsage)
	default:
		fmt.Fprint(stdout, usageText)
	}
	return exitOK
}

func printFlags(w io.Writer, fs *flag.FlagSet, head string) {
	fmt.Fprint(w, head)
	fs.SetOutput(w)
	fs.PrintDefaults()
	if fs.Name() == "run" {
		fmt.Fprint(w, "\n"+exitCodesHelp)
	}
}

// parseInterspersed parses flags wherever they appear among the
// positional arguments, so "run manifest.csv --sandbox" works too.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// usageError reports a command-line mistake and returns exitUsage, or
// prints the help and returns exitOK for -h.
func usageError(stdout, stderr io.Writer, fs *flag.FlagSet, head string, err error) int {
	if errors.Is(err, errHelp) {
		printFlags(stdout, fs, head)
		return exitOK
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(stderr, "lsqupload %s: %s\nRun \"lsqupload help %s\" for the flags.\n",
		fs.Name(), msg, fs.Name())
	return exitUsage
}
