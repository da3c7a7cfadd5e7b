package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
)

// connTracker follows the HTTP server's connections by state, so that a stop need not wait for
// spare ones and can say what it still waits for.
//
// http.Server.Shutdown closes idle keep-alive connections at once, but it waits for a connection
// that has not yet sent a whole request header (StateNew) until that connection is about five
// seconds old, although it will not serve a request read after the stop began: it only hangs up
// then. HTTP clients leave such connections unused: Go's Transport keeps the connection it dialed
// for a request that a freed connection served first (this server's payment gateway client and
// webhook sender call this server), and browsers preconnect. A stop with nothing in flight then
// took five seconds or more, longer than a ShutdownTimeout of five seconds. closeNew, run when
// Shutdown begins, closes those connections instead.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]http.ConnState
	// stopping is set once Shutdown has begun: from then on a new connection is closed at once.
	stopping bool
}

func newConnTracker() *connTracker {
	return &connTracker{conns: map[net.Conn]http.ConnState{}}
}

// setState is the server's ConnState hook. Hijacked connections (websockets) leave the tracker:
// the websocket hub follows them.
func (t *connTracker) setState(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	switch {
	case state == http.StateClosed || state == http.StateHijacked:
		delete(t.conns, c)
	case state == http.StateNew && t.stopping:
		t.mu.Unlock()
		_ = c.Close()
		return
	default:
		t.conns[c] = state
	}
	t.mu.Unlock()
}

// closeNew closes every connection that has not sent a whole request header; it is registered
// with RegisterOnShutdown, which runs it once Shutdown has begun.
func (t *connTracker) closeNew() {
	var spare []net.Conn
	t.mu.Lock()
	t.stopping = true
	for c, state := range t.conns {
		if state == http.StateNew {
			spare = append(spare, c)
			delete(t.conns, c)
		}
	}
	t.mu.Unlock()
	for _, c := range spare {
		_ = c.Close()
	}
}

// busy describes the connections Shutdown still waits for, such as "1 active, 0 new".
func (t *connTracker) busy() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var active, fresh int
	for _, state := range t.conns {
		switch state {
		case http.StateActive:
			active++
		case http.StateNew:
			fresh++
		}
	}
	return fmt.Sprintf("%d active, %d new", active, fresh)
}

// shutdownHTTP stops srv within ctx: Shutdown closes the listeners, the idle connections and
// (closeNew) the spare ones, and waits for the requests in flight.
func shutdownHTTP(ctx context.Context, srv *http.Server, conns *connTracker) error {
	err := srv.Shutdown(ctx)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("HTTP connections still busy (%s): %w", conns.busy(), err)
	}
	return err
}

// worker is a loop that runs beside the HTTP server until shutdown, named for a stop that has to
// say which ones are still running.
type worker struct {
	name string
	run  func(context.Context)
}

// addWorker registers a worker for Serve to run.
func (a *App) addWorker(name string, run func(context.Context)) {
	a.workers = append(a.workers, worker{name: name, run: run})
}

// runningWorker is a started worker; done is closed when it returns.
type runningWorker struct {
	name string
	done chan struct{}
}

// startWorkers runs every worker with ctx.
func (a *App) startWorkers(ctx context.Context) []runningWorker {
	running := make([]runningWorker, len(a.workers))
	for i, w := range a.workers {
		done := make(chan struct{})
		running[i] = runningWorker{name: w.name, done: done}
		go func() {
			defer close(done)
			w.run(ctx)
		}()
	}
	return running
}

// waitForWorkers waits until every worker has returned or ctx ends, then names those still
// running.
func waitForWorkers(ctx context.Context, running []runningWorker) error {
	for _, w := range running {
		select {
		case <-w.done:
		case <-ctx.Done():
		}
	}
	var stuck []string
	for _, w := range running {
		select {
		case <-w.done:
		default:
			stuck = append(stuck, w.name)
		}
	}
	if len(stuck) > 0 {
		return fmt.Errorf("workers still running (%s): %w", strings.Join(stuck, ", "), ctx.Err())
	}
	return nil
}
