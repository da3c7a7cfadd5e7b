package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveBare runs Serve for a bare App (no stores) answering with handler; stop cancels Serve and
// returns its answer.
func serveBare(t *testing.T, shutdownTimeout time.Duration, handler http.Handler, workers ...worker) (addr string, stop func() error) {
	t.Helper()
	a := &App{
		cfg:     Config{ShutdownTimeout: shutdownTimeout},
		log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		router:  handler,
		workers: workers,
	}
	a.ws = newWSHub(WebsocketLimits{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(cancel)
	return ln.Addr().String(), func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(2 * shutdownTimeout):
			t.Fatal("Serve did not return")
			return nil
		}
	}
}

// get answers one request on a connection of its own.
func get(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
}

// A connection that never sends a request (HTTP clients keep spare ones) does not hold a stop:
// net/http's Shutdown alone waits about five seconds for it, past this ShutdownTimeout.
func TestStopDoesNotWaitForSpareConnections(t *testing.T) {
	t.Parallel()
	addr, stop := serveBare(t, 4*time.Second, http.NotFoundHandler(),
		worker{name: "idle worker", run: func(ctx context.Context) { <-ctx.Done() }})
	spare, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	// Connections are accepted in order: once a later one is answered, the spare one is open
	// on the server's side too.
	get(t, addr)

	if err := stop(); err != nil {
		t.Fatalf("Serve: %v; want a clean stop", err)
	}
	_ = spare.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := spare.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("spare connection read %d bytes, %v; want it closed by the server", n, err)
	}
}

// A request that outlasts the shutdown timeout is reported as such: not as websockets (there are
// none) nor as workers that were given no time to stop.
func TestStopTimeoutNamesWhatIsStillRunning(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	addr, stop := serveBare(t, time.Second, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	}), worker{name: "idle worker", run: func(ctx context.Context) { <-ctx.Done() }})
	go func() {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := client.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started

	err := stop()
	if err == nil || !strings.Contains(err.Error(), "HTTP connections still busy (1 active, 0 new)") {
		t.Fatalf("Serve = %v; want the busy request reported", err)
	}
	if msg := err.Error(); strings.Contains(msg, "websockets") || strings.Contains(msg, "workers") {
		t.Errorf("Serve = %v; only the request was still running", err)
	}
}
