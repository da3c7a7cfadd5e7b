package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

// A run file holds the JSON lines one benchmark run wrote: loadgen reports, a subscription
// result and the stock check that scripts/bench.sh appends after the checkouts.
type runFile struct {
	name    string
	reports map[string]*report // by label
	subs    *subsResult
	stock   *stockCheck
}

// stockCheck is what the SQL after a run found (scripts/bench.sh): every count but the last
// three must be zero.
type stockCheck struct {
	Check             string `json:"check"`
	OnHandMismatch    int    `json:"on_hand_mismatch"`
	ReservedMismatch  int    `json:"reserved_mismatch"`
	NegativeAvailable int    `json:"negative_available"`
	Oversold          int    `json:"oversold"`
	SoldOutProducts   int    `json:"sold_out_products"`
	UnitsSold         int    `json:"units_sold"`
	PaidOrders        int    `json:"paid_orders"`
}

func (s *stockCheck) ok() bool {
	return s.OnHandMismatch == 0 && s.ReservedMismatch == 0 && s.NegativeAvailable == 0 && s.Oversold == 0
}

func readRun(path string) (*runFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rf := &runFile{name: path, reports: map[string]*report{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var probe struct {
			Mode          string `json:"mode"`
			Subscriptions int    `json:"subscriptions"`
			Check         string `json:"check"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		switch {
		case probe.Check != "":
			rf.stock = &stockCheck{}
			err = json.Unmarshal(line, rf.stock)
		case probe.Subscriptions > 0:
			rf.subs = &subsResult{}
			err = json.Unmarshal(line, rf.subs)
		case probe.Mode != "":
			r := &report{}
			err = json.Unmarshal(line, r)
			rf.reports[r.Label] = r
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return rf, sc.Err()
}

// median of xs; NaN-free because callers pass only values they have.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summary is the medians over runs, as written by -summary-json.
type summary struct {
	Runs        int                              `json:"runs"`
	Files       []string                         `json:"files"`
	Ops         map[string]map[string]*opSummary `json:"operations"` // label → operation
	Costs       map[string]*opCost               `json:"graphqlOperationCosts,omitempty"`
	Overhead    map[string]*ratio                `json:"graphqlOverFloor,omitempty"` // by op@rate
	Subs        *subsSummary                     `json:"subscriptions,omitempty"`
	Stock       []*stockCheck                    `json:"stockChecks,omitempty"`
	LoadAverage []float64                        `json:"loadAverages"`
	Targets     []target                         `json:"targets"`
}

type opSummary struct {
	// GenCPUms is the load generator's own CPU per operation: it shares the machine.
	GenCPUms float64 `json:"generatorCpuMsPerOp,omitempty"`
	PerSec   float64 `json:"perSecond"`
	// CPUms is the server's CPU per operation (of the whole run, see report.ServerCPUms).
	CPUms   float64 `json:"serverCpuMsPerOp,omitempty"`
	P50ms   float64 `json:"p50ms"`
	P95ms   float64 `json:"p95ms"`
	P99ms   float64 `json:"p99ms"`
	Errors  float64 `json:"errors"`
	SoldOut float64 `json:"soldOut,omitempty"`
	Skipped float64 `json:"skippedArrivals,omitempty"`
}

// ratio is GraphQL latency over the floor's at the same rate in the same run, median over runs.
type ratio struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	// CPU is the server CPU per operation, GraphQL over floor.
	CPU float64 `json:"cpu,omitempty"`
}

type subsSummary struct {
	Opened         float64 `json:"opened"`
	Delivered      float64 `json:"delivered"`
	DeliveryP99ms  float64 `json:"deliveryP99ms"`
	DeliveryMaxms  float64 `json:"deliveryMaxMs"`
	KiBPerSubHeap  float64 `json:"kibPerSubscriptionHeap"`
	KiBPerSubStack float64 `json:"kibPerSubscriptionStack"`
	KiBPerSubRSS   float64 `json:"kibPerSubscriptionRSS"`
	Goroutines     float64 `json:"goroutinesPerSubscription"`
}

type target struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	Met    bool   `json:"met"`
}

// summarize prints the medians of several runs (one file per run) and the targets they meet.
func summarize(files []string, w io.Writer, jsonOut string) error {
	if len(files) == 0 {
		return fmt.Errorf("-mode summarize needs run files as arguments")
	}
	var runs []*runFile
	for _, f := range files {
		rf, err := readRun(f)
		if err != nil {
			return err
		}
		runs = append(runs, rf)
	}
	s := &summary{Runs: len(runs), Files: files, Ops: map[string]map[string]*opSummary{},
		Costs: map[string]*opCost{}, Overhead: map[string]*ratio{}}

	labels := map[string]bool{}
	for _, r := range runs {
		for l := range r.reports {
			labels[l] = true
		}
	}
	for l := range labels {
		ops := map[string]bool{}
		for _, r := range runs {
			if rep := r.reports[l]; rep != nil {
				for op := range rep.Ops {
					ops[op] = true
				}
				s.LoadAverage = append(s.LoadAverage, rep.LoadAverage[0], rep.LoadAverage[1])
			}
		}
		s.Ops[l] = map[string]*opSummary{}
		for op := range ops {
			var per, p50, p95, p99, errs, sold, skipped, cpu, gen []float64
			for _, r := range runs {
				rep := r.reports[l]
				if rep == nil || rep.Ops[op] == nil {
					continue
				}
				o := rep.Ops[op]
				per, p50, p95, p99 = append(per, o.PerSec), append(p50, o.P50ms), append(p95, o.P95ms), append(p99, o.P99ms)
				errs, sold, skipped = append(errs, float64(o.Errors)), append(sold, float64(o.SoldOut)), append(skipped, float64(rep.Skipped))
				cpu, gen = append(cpu, rep.ServerCPUms), append(gen, rep.GeneratorCPUms)
			}
			s.Ops[l][op] = &opSummary{PerSec: median(per), P50ms: median(p50), P95ms: median(p95), P99ms: median(p99),
				Errors: median(errs), SoldOut: median(sold), Skipped: median(skipped)}
			if l != "mix" { // a mix's CPU is that of all its operations together
				s.Ops[l][op].CPUms, s.Ops[l][op].GenCPUms = median(cpu), median(gen)
			}
		}
		// Server costs per GraphQL operation name, from whichever runs report them.
		costs := map[string][]*opCost{}
		for _, r := range runs {
			if rep := r.reports[l]; rep != nil {
				for name, c := range rep.Costs {
					costs[name] = append(costs[name], c)
				}
			}
		}
		for name, cs := range costs {
			if _, seen := s.Costs[name]; seen && l != "mix" {
				continue // the mix's figures win: every operation runs there
			}
			var req, sql, red []float64
			for _, c := range cs {
				req, sql, red = append(req, c.Requests), append(sql, c.SQLPerOp), append(red, c.RedisPerOp)
			}
			s.Costs[name] = &opCost{Requests: median(req), SQLPerOp: median(sql), RedisPerOp: median(red)}
		}
		// GraphQL over floor, within each run, then the median.
		if strings.HasPrefix(l, "floor:") {
			gl := strings.TrimPrefix(l, "floor:")
			var r50, r99, rcpu []float64
			op := ""
			for _, r := range runs {
				fr, gr := r.reports[l], r.reports[gl]
				if fr == nil || gr == nil {
					continue
				}
				op = fr.Op
				f, g := fr.Ops[op], gr.Ops[op]
				if f == nil || g == nil || f.P50ms == 0 || f.P99ms == 0 {
					continue
				}
				r50, r99 = append(r50, g.P50ms/f.P50ms), append(r99, g.P99ms/f.P99ms)
				if fr.ServerCPUms > 0 {
					rcpu = append(rcpu, gr.ServerCPUms/fr.ServerCPUms)
				}
			}
			if len(r50) > 0 {
				s.Overhead[gl] = &ratio{P50: median(r50), P99: median(r99), CPU: median(rcpu)}
			}
		}
	}
	var subs []*subsResult
	for _, r := range runs {
		if r.subs != nil {
			subs = append(subs, r.subs)
		}
		if r.stock != nil {
			s.Stock = append(s.Stock, r.stock)
		}
	}
	if len(subs) > 0 {
		var op, de, p99, mx, heap, stack, rss, gor []float64
		for _, x := range subs {
			op, de = append(op, float64(x.Opened)), append(de, float64(x.Delivered))
			p99, mx = append(p99, x.DeliveryP99ms), append(mx, x.DeliveryMaxms)
			heap, stack, rss = append(heap, x.KiBPerSubHeap), append(stack, x.KiBPerSubStack), append(rss, x.KiBPerSubRSS)
			gor = append(gor, x.Goroutines)
		}
		s.Subs = &subsSummary{Opened: median(op), Delivered: median(de), DeliveryP99ms: median(p99),
			DeliveryMaxms: median(mx), KiBPerSubHeap: median(heap), KiBPerSubStack: median(stack),
			KiBPerSubRSS: median(rss), Goroutines: median(gor)}
	}
	s.Targets = s.judge()
	s.print(w)
	if jsonOut == "" {
		return nil
	}
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(jsonOut, append(raw, '\n'), 0o644)
}

// rateOp finds the summary of op in its open-loop run at the highest rate, with its label: the
// targets are stated at that rate; lower ones measure the overhead ratio.
func (s *summary) rateOp(prefix, op string) (string, *opSummary) {
	best, bestRate := "", -1
	for _, l := range sortedKeys(s.Ops) {
		if !strings.HasPrefix(l, prefix+op+"@") {
			continue
		}
		var rate int
		_, _ = fmt.Sscanf(l[strings.IndexByte(l, '@')+1:], "%d", &rate)
		if rate > bestRate {
			best, bestRate = l, rate
		}
	}
	if best == "" {
		return "", nil
	}
	return best, s.Ops[best][op]
}

// judge compares the medians with the targets of the benchmark.
func (s *summary) judge() []target {
	var out []target
	latency := func(op string, limit float64) {
		l, o := s.rateOp("", op)
		if o == nil {
			return
		}
		var rate int
		_, _ = fmt.Sscanf(l[strings.IndexByte(l, '@')+1:], "%d", &rate)
		met := o.P99ms < limit && o.Errors == 0 && o.Skipped == 0 && o.PerSec >= 0.97*float64(rate)
		// perSecond counts the answers within the measured window only.
		out = append(out, target{Name: fmt.Sprintf("%s p99 under %.0f ms at %d/s", op, limit, rate),
			Result: fmt.Sprintf("p99 %.1f ms, %.0f/s, %.0f errors", o.P99ms, o.PerSec, o.Errors), Met: met})
	}
	latency("product", 20)
	latency("cartAdd", 15)
	if l, o := s.rateOp("", "checkout"); o != nil {
		var rate int
		_, _ = fmt.Sscanf(l[strings.IndexByte(l, '@')+1:], "%d", &rate)
		stockOK := len(s.Stock) > 0
		for _, c := range s.Stock {
			stockOK = stockOK && c.ok()
		}
		done := o.PerSec
		out = append(out, target{Name: fmt.Sprintf("checkout with payment at %d/s, no oversell", rate),
			Result: fmt.Sprintf("%.0f/s answered within the window (%.0f sold out), p99 %.0f ms, %.0f errors, stock consistent in %d/%d checks",
				done, o.SoldOut, o.P99ms, o.Errors, countOK(s.Stock), len(s.Stock)),
			Met: done >= 0.97*float64(rate) && o.Errors == 0 && stockOK})
	}
	if s.Subs != nil {
		perSub := s.Subs.KiBPerSubHeap + s.Subs.KiBPerSubStack
		out = append(out, target{Name: "10,000 subscriptions, one update delivered to all within 2 s, under 20 KiB each",
			Result: fmt.Sprintf("%.0f open, %.0f delivered, max %.0f ms; %.1f KiB each (heap %.1f + stacks %.1f for %.1f goroutines; RSS %.1f)",
				s.Subs.Opened, s.Subs.Delivered, s.Subs.DeliveryMaxms, perSub, s.Subs.KiBPerSubHeap, s.Subs.KiBPerSubStack,
				s.Subs.Goroutines, s.Subs.KiBPerSubRSS),
			Met: s.Subs.Opened >= 10000 && s.Subs.Delivered >= s.Subs.Opened && s.Subs.DeliveryMaxms < 2000 && perSub < 20})
	}
	for _, l := range sortedKeys(s.Overhead) {
		r := s.Overhead[l]
		out = append(out, target{Name: "GraphQL over plain HTTP, " + l + ", at most 1.5x",
			Result: fmt.Sprintf("p50 %.2fx, p99 %.2fx (server CPU per operation %.2fx)", r.P50, r.P99, r.CPU), Met: r.P50 <= 1.5 && r.P99 <= 1.5})
	}
	return out
}

func countOK(cs []*stockCheck) int {
	n := 0
	for _, c := range cs {
		if c.ok() {
			n++
		}
	}
	return n
}

func (s *summary) print(w io.Writer) {
	fmt.Fprintf(w, "\nMedians of %d runs\n\n", s.Runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\toperation\treq/s\tp50 ms\tp95 ms\tp99 ms\terrors\tsold out\tserver CPU ms/op\tgenerator CPU ms/op\t")
	for _, l := range sortedKeys(s.Ops) {
		for _, op := range sortedKeys(s.Ops[l]) {
			o := s.Ops[l][op]
			cpu, gen := "-", "-"
			if o.CPUms > 0 {
				cpu, gen = fmt.Sprintf("%.3f", o.CPUms), fmt.Sprintf("%.3f", o.GenCPUms)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%s\t%s\t\n", l, op, o.PerSec, o.P50ms, o.P95ms, o.P99ms, o.Errors, o.SoldOut, cpu, gen)
		}
	}
	tw.Flush()
	if len(s.Overhead) > 0 {
		fmt.Fprintln(w, "\nGraphQL latency over the plain net/http floor (same run, same rate)")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "run\tp50 ratio\tp99 ratio\tCPU/op ratio\t")
		for _, l := range sortedKeys(s.Overhead) {
			fmt.Fprintf(tw, "%s\t%.2fx\t%.2fx\t%.2fx\t\n", l, s.Overhead[l].P50, s.Overhead[l].P99, s.Overhead[l].CPU)
		}
		tw.Flush()
	}
	if len(s.Costs) > 0 {
		fmt.Fprintln(w, "\nServer cost per GraphQL operation")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "operation\tSQL/op\tRedis/op\t")
		for _, n := range sortedKeys(s.Costs) {
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t\n", n, s.Costs[n].SQLPerOp, s.Costs[n].RedisPerOp)
		}
		tw.Flush()
	}
	for _, c := range s.Stock {
		fmt.Fprintf(w, "stock check: %d paid orders, %d units sold, %d products sold out; mismatches on_hand %d reserved %d, negative available %d, oversold %d\n",
			c.PaidOrders, c.UnitsSold, c.SoldOutProducts, c.OnHandMismatch, c.ReservedMismatch, c.NegativeAvailable, c.Oversold)
	}
	if len(s.LoadAverage) > 0 {
		fmt.Fprintf(w, "load average during runs: median %.1f, max %.1f\n", median(s.LoadAverage), maxOf(s.LoadAverage))
	}
	fmt.Fprintln(w, "\nTargets")
	for _, t := range s.Targets {
		mark := "NOT MET"
		if t.Met {
			mark = "met"
		}
		fmt.Fprintf(w, "  [%s] %s: %s\n", mark, t.Name, t.Result)
	}
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
