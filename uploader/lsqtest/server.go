package lsqtest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a Handler listening on a real TCP port, like
// httptest.Server. It speaks HTTP/1.1 only, which dropping needs.
type Server struct {
	// URL is the full upload URL, such as
	// http://127.0.0.1:41234/File/Upload.
	URL string

	handler  *Handler
	listener net.Listener
	http     *http.Server

	// mu guards closing, so no handler starts once Close waits for
	// active ones.
	mu      sync.Mutex
	closing bool

	// active counts running handlers, so Close can wait for them and
	// leave Stats and Received settled.
	active sync.WaitGroup

	// served is closed when the serving goroutine has returned.
	served chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Start validates opts and serves a new Handler on addr. An empty addr
// means 127.0.0.1 on a free port; a host-less addr such as ":8080" binds
// 127.0.0.1 as well, since the sandbox stays on loopback unless a host
// such as 0.0.0.0 is given explicitly.
func Start(addr string, opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}

	addr, err := listenAddr(addr)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lsqtest: %w", err)
	}

	return serve(ln, NewHandler(opts)), nil
}

// listenAddr fills in the loopback host and the free port.
func listenAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}

	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("lsqtest: listen address: %w", err)
	}
	if host == "" {
		host = "127.0.0.1"
	}

	return net.JoinHostPort(host, port), nil
}

// serve starts serving h on ln in the background.
func serve(ln net.Listener, h *Handler) *Server {
	s := &Server{
		URL:      "http://" + dialAddr(ln.Addr()) + UploadPath,
		handler:  h,
		listener: ln,
		served:   make(chan struct{}),
	}

	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.track),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
	}

	go func() {
		defer close(s.served)
		_ = s.http.Serve(ln) // always ErrServerClosed or a dead listener; Close reports
	}()

	return s
}

// track runs the handler, counted in active. A request that slipped in
// while closing gets nothing: its connection is being closed anyway.
func (s *Server) track(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.active.Add(1)
	s.mu.Unlock()
	defer s.active.Done()

	s.handler.ServeHTTP(w, r)
}

// dialAddr is the address a client on this machine dials to reach a
// listener, which for a wildcard listener is loopback.
func dialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}

	loopback := net.IPv4(127, 0, 0, 1)
	if tcp.IP.To4() == nil {
		loopback = net.IPv6loopback
	}

	return net.JoinHostPort(loopback.String(), fmt.Sprint(tcp.Port))
}

// Addr returns the address the server listens on, such as
// 127.0.0.1:41234.
func (s *Server) Addr() string {
	return s.listener.Addr().String()
}

// Received returns a copy of the accepted uploads in arrival order.
func (s *Server) Received() []Received {
	return s.handler.Received()
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	return s.handler.Stats()
}

// Close stops listening, closes every connection and waits for running
// handlers to return. Calling it again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()

		err := s.http.Close()
		<-s.served
		s.active.Wait()

		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = fmt.Errorf("lsqtest: close: %w", err)
		}
	})

	return s.closeErr
}
