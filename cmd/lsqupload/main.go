// Command lsqupload uploads the documents a CSV manifest lists into
// LeadSquared Custom Field Set fields and reports what became of each row.
// Run "lsqupload help" for its commands, flags and exit codes.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr, sigs))
}
