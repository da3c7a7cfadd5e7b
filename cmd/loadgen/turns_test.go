package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBothTargetsTakeTurns: with -target both, the GraphQL server and the floor each get the
// whole rate in alternate turns of -slice, one report each with the measured count of one side,
// and each side's CPU is what its own process spent in its own turns.
func TestBothTargetsTakeTurns(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var hits []string // which side served each operation, in the order they came
	// Each fake process spends 1 ms of CPU per operation it serves, and 50 ms a second idle.
	serve := func(side, body string) *httptest.Server {
		var served int
		started := time.Now()
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.URL.Path == "/metrics" {
				fmt.Fprintf(w, "process_cpu_seconds_total %g\n", float64(served)*0.001+time.Since(started).Seconds()*0.05)
				return
			}
			served++
			hits = append(hits, side)
			fmt.Fprint(w, body)
		}))
	}
	gql := serve("graphql", `{"data":{"product":{"id":"p1"}}}`)
	defer gql.Close()
	floor := serve("floor", `{}`)
	defer floor.Close()

	o := options{url: gql.URL, floorURL: floor.URL, target: "both", mode: "rate", op: "product", rate: 200,
		slice: 100 * time.Millisecond, warmup: 50 * time.Millisecond, duration: 400 * time.Millisecond,
		label: "product@200/s"}
	g := &generator{o: o, http: gql.Client(), ids: []string{"p1"}, slugs: []string{"p-1"}}
	reps := g.runRate(context.Background())

	if len(reps) != 2 {
		t.Fatalf("%d reports; want one per side", len(reps))
	}
	for i, want := range []struct{ target, label string }{{"graphql", "product@200/s"}, {"floor", "floor:product@200/s"}} {
		rep := reps[i]
		if rep.Target != want.target || rep.Label != want.label {
			t.Errorf("report %d is %s %q; want %s %q", i, rep.Target, rep.Label, want.target, want.label)
		}
		// 400 ms measured at 200/s for each side: 80 operations, none failed.
		if res := rep.Ops["product"]; res == nil || res.Count != 80 || res.Errors != 0 {
			t.Errorf("%s: %+v; want 80 operations without errors", want.target, res)
		}
		// 1 ms per operation, plus the idle 50 ms a second of its own turns only (0.25 ms per
		// operation at 200/s); the other side's turns would double the idle share.
		if rep.turnCPUms < 1.1 || rep.turnCPUms > 1.4 {
			t.Errorf("%s charged %.3f ms of CPU per operation; want about 1.25", want.target, rep.turnCPUms)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// A warm-up shorter than a turn still gives each side its share: one round of two turns,
	// 100 ms each at 200/s, before the 80 measured.
	served := map[string]int{}
	for _, side := range hits {
		served[side]++
	}
	if served["graphql"] != 100 || served["floor"] != 100 {
		t.Errorf("served %v; want 100 operations on each side", served)
	}
	// 1 s of turns of 100 ms (warm-up and measured, both sides): about ten turns, so nine
	// changes of side; requests in flight across a change may add a few.
	changes := 0
	for i := 1; i < len(hits); i++ {
		if hits[i] != hits[i-1] {
			changes++
		}
	}
	if changes < 7 || changes > 30 {
		t.Errorf("the side changed %d times over %d operations; want about 9: %s", changes, len(hits), strings.Join(hits, " "))
	}
}
