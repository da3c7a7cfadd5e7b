package metrics

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Client-chosen operation names cannot grow the series without bound.
func TestOperationLabelIsBounded(t *testing.T) {
	t.Parallel()
	if got := operationLabel(""); got != "_anonymous" {
		t.Errorf("anonymous operation labelled %q", got)
	}
	for _, bad := range []string{"has space", "9starts", strings.Repeat("a", 65), "emoji🙂"} {
		if got := operationLabel(bad); got != "_other" {
			t.Errorf("operationLabel(%q) = %q; want _other", bad, got)
		}
	}
	for i := 0; i < maxOperationNames+50; i++ {
		operationLabel(fmt.Sprintf("Op%d", i))
	}
	if got := operationLabel("OneMore"); got != "_other" {
		t.Errorf("name past the cap labelled %q", got)
	}
	if got := operationLabel("Op1"); got != "Op1" {
		t.Errorf("a name seen before the cap labelled %q", got)
	}
}

// A gauge function registered again replaces the first; the first's unregister then leaves the
// second alone.
func TestGaugeFuncReplaceAndUnregister(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	g := &gaugeFuncs{funcs: map[string]gaugeFunc{}}
	reg.MustRegister(g)
	first := g.register("lag_seconds", "Lag.", func() float64 { return 1 })
	second := g.register("lag_seconds", "Lag.", func() float64 { return 2 })
	first()
	if got := gather(t, reg); len(got) != 1 || got[0] != 2 {
		t.Fatalf("values after the stale unregister: %v; want [2]", got)
	}
	second()
	if got := gather(t, reg); len(got) != 0 {
		t.Fatalf("values after unregister: %v; want none", got)
	}
}

func gather(t *testing.T, reg *prometheus.Registry) []float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, f := range families {
		for _, m := range f.GetMetric() {
			out = append(out, m.GetGauge().GetValue())
		}
	}
	return out
}

// The series bound once count what the vectors' own series count, from many goroutines at once.
func TestBoundSeriesCountUnderConcurrency(t *testing.T) {
	t.Parallel()
	const goroutines, each = 8, 250
	route := "POST /bound-series-test"
	// TestOperationLabelIsBounded may fill the names first, and this one is then "_other".
	name := operationLabel("BoundSeriesTest")
	series := map[string]prometheus.Counter{
		"http requests": httpRequests.WithLabelValues(route, "2xx"),
		"operations":    operations.WithLabelValues("query", name, "ok"),
		"SQL":           operationSQL.WithLabelValues("query", name),
		"Redis":         operationRedis.WithLabelValues("query", name),
		"root fields":   rootFields.WithLabelValues("query", "boundSeriesTest"),
	}
	before := map[string]float64{}
	for what, c := range series {
		before[what] = written(t, c).GetCounter().GetValue()
	}
	durations := operationDuration.WithLabelValues("query", name).(prometheus.Metric)
	durationsBefore := written(t, durations).GetHistogram().GetSampleCount()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				HTTPRequest(route, 200, time.Millisecond, true)
				Operation("query", "BoundSeriesTest", "ok", time.Millisecond)
				OperationCost("query", "BoundSeriesTest", 1, 1)
				RootField("query", "boundSeriesTest")
			}
		}()
	}
	wg.Wait()
	const n = goroutines * each
	for what, c := range series {
		if got := written(t, c).GetCounter().GetValue() - before[what]; got != n {
			t.Errorf("%s: counted %v; want %d", what, got, n)
		}
	}
	if got := written(t, durations).GetHistogram().GetSampleCount() - durationsBefore; got != n {
		t.Errorf("operation durations: %d observed; want %d", got, n)
	}
}

// written reads one series' current state.
func written(t *testing.T, series prometheus.Metric) *dto.Metric {
	t.Helper()
	var m dto.Metric
	if err := series.Write(&m); err != nil {
		t.Fatal(err)
	}
	return &m
}
