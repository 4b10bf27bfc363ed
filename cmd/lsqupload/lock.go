package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// takeLock takes the run's exclusive lock. The kernel holds it (flock), so
// a crashed run never leaves a stale lock. When another run holds it, the
// error names the file and what the holder wrote in it: its PID and start.
func takeLock(path string) (*flock.Flock, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) > 0 && !strings.HasPrefix(string(b), "pid ") {
		return nil, cannotStart(fmt.Errorf("--lock %s is a file of something else; "+
			"name another --lock", path))
	}
	l := flock.New(path, flock.SetPermissions(0o600))
	ok, err := l.TryLock()
	if err != nil {
		return nil, cannotStart(fmt.Errorf("lock %s: %w", path, err))
	}
	if !ok {
		holder := "unknown holder"
		if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = strings.TrimSpace(string(b))
		}
		return nil, &startError{code: exitLocked,
			err: fmt.Errorf("another run holds the lock %s (%s); nothing was sent", path, holder)}
	}

	stamp := fmt.Sprintf("pid %d, started %s\n", os.Getpid(), time.Now().Format(time.RFC3339))
	if err := os.WriteFile(path, []byte(stamp), 0o600); err != nil {
		l.Unlock()
		return nil, cannotStart(fmt.Errorf("lock %s: %w", path, err))
	}
	return l, nil
}
