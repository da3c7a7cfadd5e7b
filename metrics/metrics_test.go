package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
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
