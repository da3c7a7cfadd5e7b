package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// recorder collects latencies per operation from many goroutines.
type recorder struct {
	mu       sync.Mutex
	samples  map[string][]time.Duration
	errors   map[string]int
	firstErr map[string]string
}

func newRecorder() *recorder {
	return &recorder{samples: map[string][]time.Duration{}, errors: map[string]int{}, firstErr: map[string]string{}}
}

func (r *recorder) record(op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors[op]++
		if _, ok := r.firstErr[op]; !ok {
			r.firstErr[op] = err.Error()
		}
		return
	}
	r.samples[op] = append(r.samples[op], d)
}

func (g *generator) pick(v *vu) string {
	total := 0
	for _, n := range opNames() {
		total += operations[n].weight
	}
	x := v.rnd.IntN(total)
	for _, n := range opNames() {
		if x < operations[n].weight {
			return n
		}
		x -= operations[n].weight
	}
	return "product"
}

// runMix runs -vus virtual users through the weighted mix: a closed loop, as fast as answers come.
func (g *generator) runMix(ctx context.Context) *report {
	rec := newRecorder()
	var measuring atomic.Bool
	ctx, cancel := context.WithTimeout(ctx, g.o.warmup+g.o.duration)
	defer cancel()
	time.AfterFunc(g.o.warmup, func() { measuring.Store(true) })
	var start time.Time
	var startOnce sync.Once
	var wg sync.WaitGroup
	for i := 0; i < g.o.vus; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			v := g.newVU(seed)
			for ctx.Err() == nil {
				op := g.pick(v)
				t0 := time.Now()
				err := operations[op].run(v, ctx)
				if ctx.Err() != nil {
					return
				}
				if measuring.Load() {
					startOnce.Do(func() { start = t0 })
					rec.record(op, time.Since(t0), err)
				}
			}
		}(uint64(i + 1))
	}
	wg.Wait()
	return rec.report(g.o, time.Since(start))
}

// runRate starts one operation at a fixed rate whatever the latency (an open loop), so a slow
// answer cannot hide by slowing the arrivals.
func (g *generator) runRate(ctx context.Context) *report {
	rec := newRecorder()
	op := operations[g.o.op]
	interval := time.Second / time.Duration(g.o.rate)
	pool := make(chan *vu, 4096)
	for i := 0; i < cap(pool); i++ {
		pool <- g.newVU(uint64(i + 1))
	}
	var wg sync.WaitGroup
	fire := func(measure bool) {
		var v *vu
		select {
		case v = <-pool:
		default:
			v = g.newVU(uint64(time.Now().UnixNano()))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			err := op.run(v, ctx)
			if measure {
				rec.record(g.o.op, time.Since(t0), err)
			}
			select {
			case pool <- v:
			default:
			}
		}()
	}
	for _, phase := range []struct {
		d       time.Duration
		measure bool
	}{{g.o.warmup, false}, {g.o.duration, true}} {
		ticker := time.NewTicker(interval)
		end := time.Now().Add(phase.d)
		for time.Now().Before(end) && ctx.Err() == nil {
			<-ticker.C
			fire(phase.measure)
		}
		ticker.Stop()
	}
	wg.Wait()
	return rec.report(g.o, g.o.duration)
}

// report is what one run measured; it is printed as a table and appended to a JSON file.
type report struct {
	Label    string               `json:"label"`
	Mode     string               `json:"mode"`
	VUs      int                  `json:"vus,omitempty"`
	Rate     int                  `json:"rate,omitempty"`
	Seconds  float64              `json:"seconds"`
	At       time.Time            `json:"at"`
	Ops      map[string]*opResult `json:"operations"`
	Costs    map[string]*opCost   `json:"graphqlOperationCosts,omitempty"`
	TotalRPS float64              `json:"totalPerSecond"`
}

type opResult struct {
	Count  int     `json:"count"`
	Errors int     `json:"errors"`
	PerSec float64 `json:"perSecond"`
	P50ms  float64 `json:"p50ms"`
	P95ms  float64 `json:"p95ms"`
	P99ms  float64 `json:"p99ms"`
	MaxMs  float64 `json:"maxMs"`
	Error  string  `json:"firstError,omitempty"`
}

// opCost is the server-side cost of one GraphQL operation name, averaged over its requests.
type opCost struct {
	Requests   float64 `json:"requests"`
	SQLPerOp   float64 `json:"sqlStatementsPerOp"`
	RedisPerOp float64 `json:"redisCommandsPerOp"`
}

func (r *recorder) report(o options, elapsed time.Duration) *report {
	rep := &report{Label: o.label, Mode: o.mode, Seconds: elapsed.Seconds(), At: time.Now().UTC(), Ops: map[string]*opResult{}}
	if o.mode == "mix" {
		rep.VUs = o.vus
	} else {
		rep.Rate = o.rate
	}
	names := map[string]bool{}
	for n := range r.samples {
		names[n] = true
	}
	for n := range r.errors {
		names[n] = true
	}
	for n := range names {
		s := r.samples[n]
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		res := &opResult{Count: len(s), Errors: r.errors[n], Error: r.firstErr[n]}
		if elapsed > 0 {
			res.PerSec = float64(len(s)) / elapsed.Seconds()
		}
		if len(s) > 0 {
			res.P50ms, res.P95ms, res.P99ms = ms(pct(s, 50)), ms(pct(s, 95)), ms(pct(s, 99))
			res.MaxMs = ms(s[len(s)-1])
		}
		rep.Ops[n] = res
		rep.TotalRPS += res.PerSec
	}
	return rep
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Server metrics the cost columns are computed from (see app/metrics).
const (
	metricRequests = "storefront_graphql_requests_total"
	metricSQL      = "storefront_sql_statements_total"
	metricRedis    = "storefront_redis_commands_total"
)

// metrics maps a metric name to its values summed by operation label.
type metrics map[string]map[string]float64

func scrapeMetrics(ctx context.Context, c *http.Client, base string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	out := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, name := range []string{metricRequests, metricSQL, metricRedis} {
			if !strings.HasPrefix(line, name+"{") {
				continue
			}
			op := label(line, "operation")
			val, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				continue
			}
			if out[name] == nil {
				out[name] = map[string]float64{}
			}
			out[name][op] += val
		}
	}
	return out, sc.Err()
}

func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

func (rep *report) addCosts(before, after metrics) {
	rep.Costs = map[string]*opCost{}
	for op, n := range after[metricRequests] {
		reqs := n - before[metricRequests][op]
		if reqs <= 0 || op == "" {
			continue
		}
		rep.Costs[op] = &opCost{
			Requests:   reqs,
			SQLPerOp:   (after[metricSQL][op] - before[metricSQL][op]) / reqs,
			RedisPerOp: (after[metricRedis][op] - before[metricRedis][op]) / reqs,
		}
	}
}

func (rep *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s (%s, %.0fs)\n", rep.Label, rep.Mode, rep.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\terrors\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	names := make([]string, 0, len(rep.Ops))
	for n := range rep.Ops {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := rep.Ops[n]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", n, r.Count, r.Errors, r.PerSec, r.P50ms, r.P95ms, r.P99ms, r.MaxMs)
	}
	fmt.Fprintf(tw, "total\t\t\t%.0f\t\t\t\t\t\n", rep.TotalRPS)
	tw.Flush()
	for _, n := range names {
		if e := rep.Ops[n].Error; e != "" {
			fmt.Fprintf(w, "  first %s error: %s\n", n, e)
		}
	}
	if len(rep.Costs) > 0 {
		fmt.Fprintln(w, "\nserver cost per GraphQL operation")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "operation\trequests\tSQL/op\tRedis/op\t")
		ops := make([]string, 0, len(rep.Costs))
		for n := range rep.Costs {
			ops = append(ops, n)
		}
		sort.Strings(ops)
		for _, n := range ops {
			c := rep.Costs[n]
			fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t\n", n, c.Requests, c.SQLPerOp, c.RedisPerOp)
		}
		tw.Flush()
	}
}
