package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWireClockLeavesOutClientWork: an operation's clock sums the time its requests spent on the
// wire, and the generator's own work between them (here a pause standing for decoding) is not
// in it.
func TestWireClockLeavesOutClientWork(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	g := &generator{o: options{floorURL: srv.URL}, http: srv.Client()}

	var clock wireClock
	ctx := withWireClock(context.Background(), &clock)
	const clientWork = 50 * time.Millisecond
	start := time.Now()
	var out struct{ OK bool }
	if err := g.floorCall(ctx, http.MethodGet, "/", nil, &out); err != nil || !out.OK {
		t.Fatalf("first call: %v, %+v", err, out)
	}
	afterFirst := clock.total
	time.Sleep(clientWork)
	if err := g.floorCall(ctx, http.MethodGet, "/", nil, nil); err != nil {
		t.Fatalf("second call: %v", err)
	}
	wall := time.Since(start)

	if afterFirst <= 0 || clock.total <= afterFirst {
		t.Fatalf("each request must add to the clock: %v after the first, %v after both", afterFirst, clock.total)
	}
	// The pause lies outside both timed spans, so it cannot be in their sum.
	if clock.total > wall-clientWork {
		t.Fatalf("clock %v includes the client's %v pause (wall %v)", clock.total, clientWork, wall)
	}
	// Without a clock in the context, do still works and counts nothing.
	if err := g.floorCall(context.Background(), http.MethodGet, "/", nil, nil); err != nil {
		t.Fatal(err)
	}
}
