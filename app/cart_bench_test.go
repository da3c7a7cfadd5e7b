package app_test

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"storefront/app"
)

// BenchmarkCartAdd measures cartLinesAdd over HTTP (one line, quantity 1) with Redis up, stopped,
// and hung (SIGSTOP: connections open but nothing answers). It reports the median and p99 of
// the per-operation durations.
//
//	go test -run '^$' -bench 'BenchmarkCart(Add|Read)' -benchtime 2s ./app/
func BenchmarkCartAdd(b *testing.B) {
	benchmarkCart(b, func(b *testing.B, e *cartEnv, ps []product) func(i int) {
		c := e.srv.Client()
		var id string
		return func(i int) {
			// A fresh cart every so often keeps every line below the quantity limit.
			if i%(len(ps)*90) == 0 {
				b.StopTimer()
				id = createCart(b, c).Cart.ID
				b.StartTimer()
			}
			if p := addLines(b, c, id, line(ps[i%len(ps)].ID, 1)); len(p.UserErrors) > 0 {
				b.Fatalf("add: %+v", p.UserErrors)
			}
		}
	})
}

// BenchmarkCartRead measures cart(id) over HTTP for a cart of 10 lines, priced live, with Redis
// up, stopped and hung.
func BenchmarkCartRead(b *testing.B) {
	benchmarkCart(b, func(b *testing.B, e *cartEnv, ps []product) func(i int) {
		c := e.srv.Client()
		lines := make([]map[string]any, 10)
		for i := range lines {
			lines[i] = line(ps[i].ID, 2)
		}
		id := createCart(b, c, lines...).Cart.ID
		return func(int) {
			if _, got := readCart(b, c, id); got == nil || got.TotalQuantity != 20 {
				b.Fatalf("read: %+v", got)
			}
		}
	})
}

func benchmarkCart(b *testing.B, setup func(b *testing.B, e *cartEnv, ps []product) func(i int)) {
	rs := startPrivateRedis(b)
	e := newCartEnv(b, func(cfg *app.Config) { cfg.RedisURL = rs.URL() })
	specs := make([]productSpec, 50)
	for i := range specs {
		specs[i] = productSpec{price: int64(1000 + i), stock: 1_000_000}
	}
	ps := insertProducts(b, e.pool, specs...)

	states := []struct {
		name  string
		enter func()
	}{
		{"up", func() {}},
		{"down", rs.stop},
		{"hung", func() {
			rs.start()
			if err := rs.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, st := range states {
		st.enter()
		b.Run("redis="+st.name, func(b *testing.B) {
			op := setup(b, e, ps)
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				op(i)
				durations = append(durations, time.Since(start))
			}
			b.StopTimer()
			reportPercentiles(b, durations)
		})
	}
	_ = rs.cmd.Process.Signal(syscall.SIGCONT)
}

// reportPercentiles adds the median, the 99th percentile and the maximum of durations, in
// microseconds.
func reportPercentiles(b *testing.B, durations []time.Duration) {
	if len(durations) == 0 {
		return
	}
	slices.Sort(durations)
	at := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(1), "max-µs")
}
