package lsqtest

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Handler is the fake endpoint as an http.Handler. It keeps the quota,
// the script's progress, the accepted uploads and the counters, and is
// safe for concurrent use.
type Handler struct {
	// opts holds the options with defaults filled in; it is read-only
	// after NewHandler, so reading it needs no lock.
	opts Options

	// mu guards the random source, the quota's admission times, the
	// script's use counts, the received uploads, the counters and the
	// success count that rotates StyleMixed.
	mu         sync.Mutex
	rng        *rand.Rand
	admitted   []time.Time
	scriptUsed map[string]int
	received   []Received
	stats      Stats
	successes  int
}

// plan is what fault injection and the script decided for one upload.
type plan struct {
	// scripted is the forced answer; empty when the script has none.
	scripted string

	// drop closes the connection without an answer.
	drop bool

	// fail is the injected status, 500 or 503; 0 for none.
	fail int
}

// NewHandler returns a Handler for opts. Zero values take the documented
// defaults, and values that Options.Validate rejects fall back to their
// defaults too (a script entry with an unknown variant is ignored); call
// Validate first to refuse them instead, as Start does.
func NewHandler(opts Options) *Handler {
	opts = opts.withDefaults()

	seed := uint64(opts.Seed)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}

	return &Handler{
		opts:       opts,
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		scriptUsed: make(map[string]int),
	}
}

// ServeHTTP answers the upload endpoint and the two inspection endpoints;
// every other path gets 404 with an empty body, as an unknown API does.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.EqualFold(r.URL.Path, UploadPath):
		h.serveUpload(w, r)
	case r.URL.Path == ReceivedPath && isRead(r):
		writeValue(w, h.Received())
	case r.URL.Path == StatsPath && isRead(r):
		writeValue(w, h.Stats())
	default:
		drainBody(r)
		w.WriteHeader(http.StatusNotFound)
	}
}

func isRead(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead
}

// writeValue answers 200 with v as JSON; v is always encodable, so an
// error can only come from a client that went away.
func writeValue(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", typeJSON)
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// Received returns a copy of the accepted uploads in arrival order; it is
// empty, never nil, when there are none.
func (h *Handler) Received() []Received {
	h.mu.Lock()
	defer h.mu.Unlock()

	out := make([]Received, len(h.received))
	copy(out, h.received)

	return out
}

// Stats returns the counters so far.
func (h *Handler) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()

	return h.stats
}

// admit reports whether a call arriving at now fits the quota, and if so
// counts it. Calls refused here are not counted, as with the real service.
func (h *Handler) admit(now time.Time) bool {
	if h.opts.Quota == 0 {
		return true
	}

	h.mu.Lock()
	defer h.mu.Unlock()

	expired := 0
	for expired < len(h.admitted) && now.Sub(h.admitted[expired]) >= h.opts.Window {
		expired++
	}
	h.admitted = slices.Delete(h.admitted, 0, expired)

	if len(h.admitted) >= h.opts.Quota {
		return false
	}
	h.admitted = append(h.admitted, now)

	return true
}

// decide consumes one use of the script entry for id, if any remains;
// otherwise it rolls the dice for a drop, then for a failure.
func (h *Handler) decide(id string) plan {
	h.mu.Lock()
	defer h.mu.Unlock()

	s, ok := h.opts.Script[id]
	if ok && (s.Times == 0 || h.scriptUsed[id] < s.Times) {
		h.scriptUsed[id]++
		return plan{scripted: s.Variant, drop: s.Variant == dropVariant}
	}

	if h.roll(h.opts.DropRate) {
		return plan{drop: true}
	}
	if h.roll(h.opts.FailRate) {
		return plan{fail: []int{500, 503}[h.rng.IntN(2)]}
	}

	return plan{}
}

// roll is true with probability p; the caller holds mu.
func (h *Handler) roll(p float64) bool {
	return p > 0 && h.rng.Float64() < p
}

// storedName returns the name the fake stores a file under: a random
// prefix, since the real service renames files too.
func (h *Handler) storedName(base string) string {
	const hexDigits = "0123456789abcdef"

	h.mu.Lock()
	defer h.mu.Unlock()

	prefix := make([]byte, 12)
	for i := range prefix {
		prefix[i] = hexDigits[h.rng.IntN(len(hexDigits))]
	}

	return string(prefix) + "_" + base
}

// nextStyle returns the style of the next success.
func (h *Handler) nextStyle() string {
	if h.opts.SuccessStyle != StyleMixed {
		return h.opts.SuccessStyle
	}

	h.mu.Lock()
	defer h.mu.Unlock()

	style := []string{StyleObject, StyleArray, StyleUpper}[h.successes%3]
	h.successes++

	return style
}

// countRequest counts a request to the upload path before its outcome is
// known.
func (h *Handler) countRequest() {
	h.mu.Lock()
	defer h.mu.Unlock()

	h.stats.Requests++
}

// record counts one outcome.
func (h *Handler) record(o outcome) {
	h.mu.Lock()
	defer h.mu.Unlock()

	h.count(o)
}

// accept records a successful upload and counts it, under one lock so a
// reader never sees the count without the entry.
func (h *Handler) accept(rec Received) {
	h.mu.Lock()
	defer h.mu.Unlock()

	h.received = append(h.received, rec)
	h.count(outAccepted)
}

// count bumps the counter of o; the caller holds mu.
func (h *Handler) count(o outcome) {
	switch o {
	case outAccepted:
		h.stats.Accepted++
	case outThrottled:
		h.stats.Throttled++
	case outInjected:
		h.stats.Injected++
	case outDropped:
		h.stats.Dropped++
	case outRefused:
		h.stats.Refused++
	case outUnauthorized:
		h.stats.Unauthorized++
	case outAbandoned:
		h.stats.Abandoned++
	}
}
