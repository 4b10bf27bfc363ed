package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// stopper turns signals and --max-duration into the run's two stops: the
// first closes stop (start no new rows), then after --grace, or at once on
// a second signal, the context is cancelled (abandon rows in flight).
type stopper struct {
	stop   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	timer  *time.Timer

	mu sync.Mutex
	// reason, bySignal and byDeadline record the first stop; mu guards them.
	reason     string
	bySignal   bool
	byDeadline bool
}

// watchSignals starts watching sigs and the run's deadline.
func watchSignals(cfg *runConfig, sigs <-chan os.Signal, log *zap.Logger) (context.Context,
	*stopper) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &stopper{stop: make(chan struct{}), cancel: cancel, done: make(chan struct{})}

	var deadline <-chan time.Time
	if cfg.maxDuration > 0 {
		s.timer = time.NewTimer(cfg.maxDuration)
		deadline = s.timer.C
	}
	go s.watch(cfg, sigs, deadline, log)
	return ctx, s
}

func (s *stopper) watch(cfg *runConfig, sigs <-chan os.Signal, deadline <-chan time.Time,
	log *zap.Logger) {
	var grace <-chan time.Time
	for {
		select {
		case sig := <-sigs:
			if s.first(fmt.Sprintf("interrupted by %v", sig), true) {
				log.Warn("stopping: no new rows; uploads in flight get the grace period",
					zap.String("signal", sig.String()), zap.Duration("grace", cfg.grace))
				grace = time.After(cfg.grace)
				continue
			}
			log.Warn("second signal: cancelling uploads in flight")
			s.cancel()
		case <-deadline:
			if s.first(fmt.Sprintf("--max-duration %s reached; resume by running again",
				cfg.maxDuration), false) {
				log.Warn("stopping: --max-duration reached", zap.Duration("grace", cfg.grace))
				grace = time.After(cfg.grace)
			}
		case <-grace:
			log.Warn("grace period over: cancelling uploads in flight")
			s.cancel()
		case <-s.done:
			return
		}
	}
}

// first records the first stop and closes the stop channel; it reports
// whether this was the first.
func (s *stopper) first(reason string, bySignal bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason != "" {
		return false
	}
	s.reason, s.bySignal, s.byDeadline = reason, bySignal, !bySignal
	close(s.stop)
	return true
}

// why returns the reason of the stop.
func (s *stopper) why() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

func (s *stopper) signalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bySignal
}

func (s *stopper) deadline() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byDeadline
}

// release ends the watcher and frees the context.
func (s *stopper) release() {
	close(s.done)
	s.cancel()
	if s.timer != nil {
		s.timer.Stop()
	}
}
