package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSummarize: medians over runs, the GraphQL over floor ratio taken within each run, the
// targets judged at the highest rate of an operation, and the stock check read back.
func TestSummarize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := func(name string, graphqlP50, floorP50 float64, stockOK bool) string {
		var lines []string
		add := func(v any) {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, string(b))
		}
		add(&report{Label: "product@1000/s", Mode: "rate", Target: "graphql", Op: "product", Rate: 1000,
			Ops: map[string]*opResult{"product": {Count: 20000, PerSec: 1000, P50ms: graphqlP50, P99ms: 10}}})
		add(&report{Label: "floor:product@1000/s", Mode: "rate", Target: "floor", Op: "product", Rate: 1000,
			Ops: map[string]*opResult{"product": {Count: 20000, PerSec: 1000, P50ms: floorP50, P99ms: 10}}})
		// A lower rate must not be the one judged against the target.
		add(&report{Label: "product@200/s", Mode: "rate", Target: "graphql", Op: "product", Rate: 200,
			Ops: map[string]*opResult{"product": {Count: 4000, PerSec: 200, P50ms: 1, P99ms: 99}}})
		mismatch := 0
		if !stockOK {
			mismatch = 1
		}
		add(map[string]any{"check": "stock", "on_hand_mismatch": mismatch, "units_sold": 10})
		add(&subsResult{Subscriptions: 10000, Opened: 10000, Delivered: 10000, DeliveryMaxms: 300,
			KiBPerSubHeap: 12, KiBPerSubStack: 4, At: time.Now()})
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	files := []string{run("a", 2, 1, true), run("b", 3, 1, true), run("c", 8, 2, false)}
	out := filepath.Join(dir, "summary.json")
	var text strings.Builder
	if err := summarize(files, &text, out); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Ops["product@1000/s"]["product"].P50ms; got != 3 {
		t.Errorf("median p50 = %v; want 3", got)
	}
	if got := s.Overhead["product@1000/s"].P50; got != 3 { // ratios 2, 3 and 4
		t.Errorf("median ratio = %v; want 3", got)
	}
	targets := map[string]target{}
	for _, tg := range s.Targets {
		targets[tg.Name] = tg
	}
	if tg, ok := targets["product p99 under 20 ms at 1000/s"]; !ok || !tg.Met {
		t.Errorf("product target = %+v (present %v); want met at 1000/s", tg, ok)
	}
	if tg := targets["GraphQL over plain HTTP, product@1000/s, at most 1.5x"]; tg.Met {
		t.Errorf("overhead target met at 3x: %+v", tg)
	}
	if len(s.Stock) != 3 || countOK(s.Stock) != 2 {
		t.Errorf("stock checks %d, consistent %d; want 3 and 2", len(s.Stock), countOK(s.Stock))
	}
	if tg := targets["10,000 subscriptions, one update delivered to all within 2 s, under 20 KiB each"]; !tg.Met {
		t.Errorf("subscription target = %+v; want met at 16 KiB", tg)
	}
	if !strings.Contains(text.String(), "Medians of 3 runs") {
		t.Errorf("printed summary:\n%s", text.String())
	}
}

// TestLateAnswersAreNotThroughput: answers after the measured window count for latency, not rate.
func TestLateAnswersAreNotThroughput(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	rec.record("product", time.Millisecond, nil)
	rec.windowEnd.Store(time.Now().Add(-time.Second).UnixNano())
	rec.record("product", 3*time.Second, nil)
	rep := rec.report(options{label: "x", mode: "rate", op: "product", rate: 2}, time.Second)
	if r := rep.Ops["product"]; r.Count != 2 || r.Late != 1 || r.PerSec != 1 {
		t.Errorf("count %d late %d per second %v; want 2, 1, 1", r.Count, r.Late, r.PerSec)
	}
}
