package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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
	soldOut  map[string]int
	firstErr map[string]string
	// late counts answers that came after the measured window closed: the server was behind.
	late map[string]int
	// windowEnd (unix nanoseconds) is when the measured window closed; 0 while it is open.
	windowEnd atomic.Int64
}

func newRecorder() *recorder {
	return &recorder{samples: map[string][]time.Duration{}, errors: map[string]int{}, soldOut: map[string]int{},
		firstErr: map[string]string{}, late: map[string]int{}}
}

func (r *recorder) record(op string, d time.Duration, err error) {
	end := r.windowEnd.Load()
	r.mu.Lock()
	defer r.mu.Unlock()
	if end != 0 && time.Now().UnixNano() > end {
		r.late[op]++
	}
	switch {
	case errors.Is(err, errSoldOut):
		r.soldOut[op]++
		r.samples[op] = append(r.samples[op], d)
	case err != nil:
		r.errors[op]++
		if _, ok := r.firstErr[op]; !ok {
			r.firstErr[op] = err.Error()
		}
	default:
		r.samples[op] = append(r.samples[op], d)
	}
}

// pick draws an operation by weight.
func pick(v *vu, names []string, total int) string {
	x := v.rnd.IntN(total)
	for _, n := range names {
		if x < operations[n].weight {
			return n
		}
		x -= operations[n].weight
	}
	return names[len(names)-1]
}

// runMix runs -vus virtual users through the weighted mix: a closed loop, as fast as answers come.
func (g *generator) runMix(ctx context.Context) *report {
	rec := newRecorder()
	names := opNames()
	total := 0
	for _, n := range names {
		total += operations[n].weight
	}
	var measuring atomic.Bool
	ctx, cancel := context.WithTimeout(ctx, g.o.warmup+g.o.duration)
	defer cancel()
	time.AfterFunc(g.o.warmup, func() { measuring.Store(true) })
	var wg sync.WaitGroup
	for i := 0; i < g.o.vus; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			v := g.newVU(seed)
			for ctx.Err() == nil {
				name := pick(v, names, total)
				op := operations[name]
				if op.prepare != nil {
					if err := op.prepare(v, ctx); err != nil {
						if ctx.Err() == nil && measuring.Load() {
							rec.record(name, 0, fmt.Errorf("prepare: %w", err))
						}
						continue
					}
				}
				var clock wireClock
				err := op.run(v, withWireClock(ctx, &clock))
				if ctx.Err() != nil {
					return
				}
				if measuring.Load() {
					rec.record(name, clock.total, err)
				}
			}
		}(uint64(i + 1))
	}
	wg.Wait()
	return rec.report(g.o, g.o.duration)
}

// maxInFlight bounds the requests an open-loop run keeps waiting: past it the server is not
// keeping up, and the arrivals that could not start are counted instead of piling up goroutines.
const maxInFlight = 2000

// runRate starts one operation at a fixed rate whatever the latency (an open loop), so a slow
// answer cannot hide by slowing the arrivals. Arrivals are due on a fixed schedule; when the
// generator wakes late it starts every arrival already due, and reports how late it was.
//
// With -target both, the GraphQL server and the floor take turns in slices of -slice: each side
// gets the whole rate for its slices and -duration of measured time in all, and one report each
// comes back. Taking turns this way, neither side runs only on the other's leftovers or only in
// the machine's quieter minutes, which a pair of runs one after the other cannot promise.
func (g *generator) runRate(ctx context.Context) []*report {
	op := operations[g.o.op]
	type side struct {
		target string
		url    string // the process that serves it
		run    func(*vu, context.Context) error
		rec    *recorder
		// cpu is the CPU time its process spent during its own turns (with -target both), and
		// arrivals how many operations were due in them, warm-up included.
		cpu      float64
		arrivals atomic.Int64
	}
	sides := []*side{{target: g.o.target, url: g.o.url, run: op.run, rec: newRecorder()}}
	switch g.o.target {
	case "floor":
		sides[0].url, sides[0].run = g.o.floorURL, op.floor
	case "both":
		sides = []*side{{target: "graphql", url: g.o.url, run: op.run, rec: newRecorder()},
			{target: "floor", url: g.o.floorURL, run: op.floor, rec: newRecorder()}}
	}
	// rounds is how long a phase must last for each side to have d of it: whole rounds of
	// turns, so that with a warm-up shorter than a turn the second side still warms up.
	rounds := func(d time.Duration) time.Duration {
		if len(sides) == 1 {
			return d
		}
		round := g.o.slice * time.Duration(len(sides))
		return (d*time.Duration(len(sides)) + round - 1) / round * round
	}
	// sideAt is the side whose turn it is at offset d into a phase.
	sideAt := func(d time.Duration) *side {
		if len(sides) == 1 {
			return sides[0]
		}
		return sides[int(d/g.o.slice)%len(sides)]
	}
	pool := make(chan *vu, 512)
	var prepWG sync.WaitGroup
	vus := make([]*vu, cap(pool))
	for i := range vus {
		vus[i] = g.newVU(uint64(i + 1))
	}
	if op.prepare != nil { // carts for the pool, before the clock starts
		var next atomic.Int64
		for range 8 {
			prepWG.Add(1)
			go func() {
				defer prepWG.Done()
				for i := next.Add(1) - 1; int(i) < len(vus); i = next.Add(1) - 1 {
					_ = op.prepare(vus[i], ctx)
				}
			}()
		}
		prepWG.Wait()
	}
	for _, v := range vus {
		pool <- v
	}
	var (
		wg       sync.WaitGroup
		inFlight atomic.Int64
		skipped  atomic.Int64
		lagMu    sync.Mutex
		lags     []time.Duration
	)
	fire := func(measure bool, s *side) {
		rec, run := s.rec, s.run
		s.arrivals.Add(1)
		if inFlight.Load() >= maxInFlight {
			if measure {
				skipped.Add(1)
			}
			return
		}
		var v *vu
		select {
		case v = <-pool:
		default:
			v = g.newVU(uint64(time.Now().UnixNano()))
		}
		inFlight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			if op.prepare != nil {
				if err := op.prepare(v, ctx); err != nil {
					if measure {
						rec.record(g.o.op, 0, fmt.Errorf("prepare: %w", err))
					}
					return
				}
			}
			var clock wireClock
			err := run(v, withWireClock(ctx, &clock))
			if measure && ctx.Err() == nil {
				rec.record(g.o.op, clock.total, err)
			}
			select {
			case pool <- v:
			default:
			}
		}()
	}
	interval := time.Second / time.Duration(g.o.rate)
	for _, phase := range []struct {
		d       time.Duration
		measure bool
	}{{rounds(g.o.warmup), false}, {rounds(g.o.duration), true}} {
		start := time.Now()
		turns := make(chan struct{})
		if len(sides) > 1 {
			// Each process's CPU is read at every turn's start and end, and what it spent is
			// counted for its side only in its own turns: the other side's turns would add its
			// idle work (the outbox relay's polls, the collector) to a side that served nothing.
			go func() {
				defer close(turns)
				cpuAt := func(s *side) float64 {
					m, err := scrapeMetrics(ctx, g.http, s.url)
					if err != nil {
						return math.NaN()
					}
					return m[metricCPU][""]
				}
				for k := time.Duration(0); k*g.o.slice < phase.d && ctx.Err() == nil; k++ {
					s := sideAt(k * g.o.slice)
					from := cpuAt(s)
					turnEnd := start.Add(min((k+1)*g.o.slice, phase.d))
					time.Sleep(time.Until(turnEnd))
					if (k+1)*g.o.slice >= phase.d {
						time.Sleep(50 * time.Millisecond) // the phase's last answers
					}
					s.cpu += cpuAt(s) - from
				}
			}()
		} else {
			close(turns)
		}
		n := int64(phase.d / interval)
		for i := int64(0); i < n && ctx.Err() == nil; i++ {
			due := start.Add(time.Duration(i) * interval)
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			} else if phase.measure && i%16 == 0 {
				lagMu.Lock()
				lags = append(lags, -wait)
				lagMu.Unlock()
			}
			fire(phase.measure, sideAt(time.Duration(i)*interval))
		}
		if phase.measure {
			// Answers still to come were asked for in time; the rate counts only those in the
			// window, so a server that falls behind shows it as throughput, not only latency.
			for _, s := range sides {
				s.rec.windowEnd.Store(max(start.Add(phase.d).UnixNano(), time.Now().UnixNano()))
			}
		}
		<-turns
	}
	wg.Wait()
	var lagP99 float64
	if len(lags) > 0 {
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		lagP99 = ms(pct(lags, 99))
	}
	reps := make([]*report, len(sides))
	for i, s := range sides {
		o := g.o
		o.target = s.target
		if len(sides) > 1 && s.target == "floor" {
			o.label = "floor:" + g.o.label
		}
		reps[i] = s.rec.report(o, rounds(g.o.duration)/time.Duration(len(sides)))
		reps[i].Skipped = int(skipped.Load()) // arrivals of either side: the generator's own limit
		reps[i].GeneratorLagP99ms = lagP99
		if len(sides) > 1 && s.arrivals.Load() > 0 {
			reps[i].turnCPUms = s.cpu * 1000 / float64(s.arrivals.Load())
		}
	}
	return reps
}

// report is what one run measured; it is printed as a table and appended to a JSON file.
type report struct {
	Label  string `json:"label"`
	Mode   string `json:"mode"`
	Target string `json:"target"`
	Op     string `json:"op,omitempty"`
	VUs    int    `json:"vus,omitempty"`
	Rate   int    `json:"rate,omitempty"`
	// Seconds is the measured time.
	Seconds float64              `json:"seconds"`
	At      time.Time            `json:"at"`
	Ops     map[string]*opResult `json:"operations"`
	Costs   map[string]*opCost   `json:"graphqlOperationCosts,omitempty"`
	// TotalRPS counts answered operations per second.
	TotalRPS float64 `json:"totalPerSecond"`
	// Skipped arrivals of an open-loop run could not start: maxInFlight requests were waiting.
	Skipped int `json:"skippedArrivals,omitempty"`
	// GeneratorLagP99ms is how late the generator started arrivals (it shares the CPUs).
	GeneratorLagP99ms float64 `json:"generatorLagP99ms,omitempty"`
	// LoadAverage is the machine's one-minute load average before and after the run.
	LoadAverage [2]float64 `json:"loadAverage"`
	// ServerCPUms is the CPU time the server under load (GraphQL or floor) spent per answered
	// operation, warm-up and other traffic included: steadier than latency on a shared machine.
	ServerCPUms float64 `json:"serverCpuMsPerOp,omitempty"`
	// GeneratorCPUms is this load generator's own CPU per operation: it shares the CPUs with the
	// server, Postgres and Redis.
	GeneratorCPUms float64 `json:"generatorCpuMsPerOp,omitempty"`
	// turnCPUms is, with -target both, the CPU the side's process spent in its own turns per
	// operation due in them, warm-up included; 0 when one side ran alone.
	turnCPUms float64
}

type opResult struct {
	Count int `json:"count"`
	// Late answers came after the measured window: perSecond leaves them out.
	Late    int     `json:"late,omitempty"`
	Errors  int     `json:"errors"`
	SoldOut int     `json:"soldOut,omitempty"`
	PerSec  float64 `json:"perSecond"`
	P50ms   float64 `json:"p50ms"`
	P95ms   float64 `json:"p95ms"`
	P99ms   float64 `json:"p99ms"`
	MaxMs   float64 `json:"maxMs"`
	Error   string  `json:"firstError,omitempty"`
}

// opCost is the server-side cost of one GraphQL operation name, averaged over its requests.
type opCost struct {
	Requests   float64 `json:"requests"`
	SQLPerOp   float64 `json:"sqlStatementsPerOp"`
	RedisPerOp float64 `json:"redisCommandsPerOp"`
}

func (r *recorder) report(o options, elapsed time.Duration) *report {
	rep := &report{Label: o.label, Mode: o.mode, Target: o.target, Seconds: elapsed.Seconds(), At: time.Now().UTC(),
		Ops: map[string]*opResult{}}
	if o.mode == "mix" {
		rep.VUs = o.vus
	} else {
		rep.Rate, rep.Op = o.rate, o.op
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
		res := &opResult{Count: len(s), Late: r.late[n], Errors: r.errors[n], SoldOut: r.soldOut[n], Error: r.firstErr[n]}
		if elapsed > 0 {
			res.PerSec = float64(len(s)-min(r.late[n], len(s))) / elapsed.Seconds()
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

// Server metrics the cost columns are computed from (package metrics).
const (
	metricRequests = "graphql_operations_total"
	metricSQL      = "graphql_operation_sql_statements_total"
	metricRedis    = "graphql_operation_redis_commands_total"
	metricCPU      = "process_cpu_seconds_total"
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
		if rest, ok := strings.CutPrefix(line, metricCPU+" "); ok {
			if v, err := strconv.ParseFloat(rest, 64); err == nil {
				out[metricCPU] = map[string]float64{"": v}
			}
			continue
		}
		for _, name := range []string{metricRequests, metricSQL, metricRedis} {
			if !strings.HasPrefix(line, name+"{") {
				continue
			}
			if name == metricRequests && label(line, "outcome") == "rejected" {
				continue // refused before running: no cost recorded for it
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (rep *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s (%s, target %s, %.0fs, load average %.1f → %.1f)\n", rep.Label, rep.Mode, rep.Target, rep.Seconds,
		rep.LoadAverage[0], rep.LoadAverage[1])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\tlate\terrors\tsold out\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, n := range sortedKeys(rep.Ops) {
		r := rep.Ops[n]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", n, r.Count, r.Late, r.Errors, r.SoldOut, r.PerSec, r.P50ms, r.P95ms, r.P99ms, r.MaxMs)
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t%.0f\t\t\t\t\t\n", rep.TotalRPS)
	tw.Flush()
	for _, n := range sortedKeys(rep.Ops) {
		if e := rep.Ops[n].Error; e != "" {
			fmt.Fprintf(w, "  first %s error: %s\n", n, e)
		}
	}
	if rep.Skipped > 0 || rep.GeneratorLagP99ms > 0 {
		fmt.Fprintf(w, "  arrivals skipped (server not keeping up): %d; generator lag p99 %.1f ms\n", rep.Skipped, rep.GeneratorLagP99ms)
	}
	if rep.ServerCPUms > 0 {
		fmt.Fprintf(w, "  CPU per operation: server %.3f ms, load generator %.3f ms\n", rep.ServerCPUms, rep.GeneratorCPUms)
	}
	if len(rep.Costs) > 0 {
		fmt.Fprintln(w, "\nserver cost per GraphQL operation")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "operation\trequests\tSQL/op\tRedis/op\t")
		for _, n := range sortedKeys(rep.Costs) {
			c := rep.Costs[n]
			fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t\n", n, c.Requests, c.SQLPerOp, c.RedisPerOp)
		}
		tw.Flush()
	}
}
