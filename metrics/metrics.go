// Package metrics holds the Prometheus series the whole server shares: GraphQL operations, errors,
// rate-limit refusals, websocket connections and subscriptions, cache hits, and gauges other
// packages register (outbox lag, queue depths). Any package may record into it with the small
// functions below without knowing about Prometheus; package app exposes the series at /metrics.
//
// The series are process-wide, so several server instances in one process (as in tests) share
// them. Label values come from bounded sets (schema field names, error codes, cache names, a
// capped set of operation names) so a client can never grow the number of series without bound.
package metrics

import (
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	operations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "graphql_operations_total",
		Help: "GraphQL operations by type, operation name and outcome (ok, error, rejected).",
	}, []string{"type", "operation", "outcome"})

	operationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "graphql_operation_duration_seconds",
		Help:    "Time to answer a GraphQL query or mutation, by type and operation name.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"type", "operation"})

	rootFields = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "graphql_root_fields_total",
		Help: "Root fields requested, by operation type and field name.",
	}, []string{"type", "field"})

	graphqlErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "graphql_errors_total",
		Help: "GraphQL errors returned to clients, by extensions.code.",
	}, []string{"code"})

	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests by route and status class.",
	}, []string{"route", "status"})

	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Time to answer an HTTP request (websocket upgrades excluded), by route.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})

	rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rate_limited_total",
		Help: "Requests refused by a rate limit, by rule.",
	}, []string{"rule"})

	panics = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "panics_recovered_total",
		Help: "Panics turned into INTERNAL_SERVER_ERROR answers.",
	})

	websockets = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "websocket_connections_active",
		Help: "Open websocket connections.",
	})

	websocketsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "websocket_connections_refused_total",
		Help: "Websocket connections refused, by reason (origin, per_client_cap, shutting_down).",
	}, []string{"reason"})

	subscriptions = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "graphql_subscriptions_active",
		Help: "GraphQL subscriptions currently streaming.",
	})

	operationSQL = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "graphql_operation_sql_statements_total",
		Help: "SQL statements run for GraphQL queries and mutations, by type and operation name; divide by graphql_operations_total for statements per operation.",
	}, []string{"type", "operation"})

	operationRedis = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "graphql_operation_redis_commands_total",
		Help: "Redis commands sent for GraphQL queries and mutations (session check included), by type and operation name.",
	}, []string{"type", "operation"})

	cacheRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cache_requests_total",
		Help: "Cache look-ups by cache name and result (hit, miss); the hit ratio is hit / (hit + miss).",
	}, []string{"cache", "result"})

	gauges = &gaugeFuncs{funcs: map[string]gaugeFunc{}}
)

// Collectors returns every process-wide collector, for an instance's registry.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		operations, operationDuration, rootFields, graphqlErrors, httpRequests, httpDuration,
		rateLimited, panics, websockets, websocketsRefused, subscriptions, cacheRequests, gauges,
		operationSQL, operationRedis,
	}
}

// Operation records one answered (or refused) GraphQL operation. d is ignored for subscriptions,
// whose duration is the life of the stream.
func Operation(opType, name, outcome string, d time.Duration) {
	name = operationLabel(name)
	operationCounts.get([3]string{opType, name, outcome}, func() prometheus.Counter {
		return operations.WithLabelValues(opType, name, outcome)
	}).Inc()
	if opType != "subscription" && outcome != "rejected" {
		operationDurations.get([2]string{opType, name}, func() prometheus.Observer {
			return operationDuration.WithLabelValues(opType, name)
		}).Observe(d.Seconds())
	}
}

// OperationCost adds the SQL statements and Redis commands one query or mutation cost to its
// operation's series, so a load test can read the cost of each operation from two scrapes.
func OperationCost(opType, name string, sqlStatements, redisCommands int64) {
	name = operationLabel(name)
	cost := operationCosts.get([2]string{opType, name}, func() costSeries {
		return costSeries{operationSQL.WithLabelValues(opType, name), operationRedis.WithLabelValues(opType, name)}
	})
	cost.sql.Add(float64(sqlStatements))
	cost.redis.Add(float64(redisCommands))
}

// RootField counts one requested root field.
func RootField(opType, field string) {
	rootFieldCounts.get([2]string{opType, field}, func() prometheus.Counter {
		return rootFields.WithLabelValues(opType, field)
	}).Inc()
}

// GraphQLError counts an error returned to a client under its extensions.code.
func GraphQLError(code string) { graphqlErrors.WithLabelValues(code).Inc() }

// HTTPRequest records an HTTP request on a route (a registered pattern, never the raw path).
func HTTPRequest(route string, status int, d time.Duration, timed bool) {
	class := statusClass(status)
	httpCounts.get([2]string{route, class}, func() prometheus.Counter {
		return httpRequests.WithLabelValues(route, class)
	}).Inc()
	if timed {
		httpDurations.get(route, func() prometheus.Observer { return httpDuration.WithLabelValues(route) }).Observe(d.Seconds())
	}
}

// RateLimited counts a refusal by the named rule.
func RateLimited(rule string) { rateLimited.WithLabelValues(rule).Inc() }

// PanicRecovered counts a recovered panic.
func PanicRecovered() { panics.Inc() }

// WebsocketOpened and WebsocketClosed track open websocket connections.
func WebsocketOpened() { websockets.Inc() }

// WebsocketClosed: see WebsocketOpened.
func WebsocketClosed() { websockets.Dec() }

// WebsocketRefused counts a websocket connection refused for reason.
func WebsocketRefused(reason string) { websocketsRefused.WithLabelValues(reason).Inc() }

// SubscriptionStarted and SubscriptionEnded track streaming subscriptions.
func SubscriptionStarted() { subscriptions.Inc() }

// SubscriptionEnded: see SubscriptionStarted.
func SubscriptionEnded() { subscriptions.Dec() }

// CacheHit counts a look-up answered by the named cache (e.g. "cart", "product").
func CacheHit(cache string) { cacheRequests.WithLabelValues(cache, "hit").Inc() }

// CacheMiss counts a look-up the named cache could not answer.
func CacheMiss(cache string) { cacheRequests.WithLabelValues(cache, "miss").Inc() }

// RegisterGaugeFunc exposes fn's value as the gauge name (e.g. "outbox_lag_seconds"), read at
// every scrape. A later registration under the same name replaces the earlier one, so a restarted
// worker simply registers again. The returned function removes the gauge if it is still fn's.
func RegisterGaugeFunc(name, help string, fn func() float64) (unregister func()) {
	return gauges.register(name, help, fn)
}

type gaugeFunc struct {
	desc *prometheus.Desc
	fn   func() float64
	id   uint64
}

// gaugeFuncs is a collector over a changing set of gauge functions. It describes nothing up
// front (an "unchecked" collector), because its set of series is only known at scrape time.
type gaugeFuncs struct {
	mu    sync.Mutex
	funcs map[string]gaugeFunc
	next  uint64
}

func (g *gaugeFuncs) register(name, help string, fn func() float64) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	id := g.next
	g.funcs[name] = gaugeFunc{desc: prometheus.NewDesc(name, help, nil, nil), fn: fn, id: id}
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if cur, ok := g.funcs[name]; ok && cur.id == id {
			delete(g.funcs, name)
		}
	}
}

func (g *gaugeFuncs) Describe(chan<- *prometheus.Desc) {}

func (g *gaugeFuncs) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	funcs := make([]gaugeFunc, 0, len(g.funcs))
	names := make([]string, 0, len(g.funcs))
	for name := range g.funcs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		funcs = append(funcs, g.funcs[name])
	}
	g.mu.Unlock()
	// The functions run outside the lock: one may be slow, and one may register another gauge.
	for _, f := range funcs {
		ch <- prometheus.MustNewConstMetric(f.desc, prometheus.GaugeValue, f.fn())
	}
}

func statusClass(status int) string {
	switch {
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	case status >= 200:
		return "2xx"
	default:
		return "1xx"
	}
}

// maxOperationNames bounds the operation label: names are chosen by clients, so past this many
// distinct names the rest are counted as "_other" instead of growing the series without bound.
const maxOperationNames = 200

var (
	opNamesMu sync.RWMutex
	opNames   = map[string]struct{}{}
)

func operationLabel(name string) string {
	if name == "" {
		return "_anonymous"
	}
	if len(name) > 64 || !validName(name) {
		return "_other"
	}
	opNamesMu.RLock()
	_, known := opNames[name]
	opNamesMu.RUnlock()
	if known {
		return name
	}
	opNamesMu.Lock()
	defer opNamesMu.Unlock()
	if _, ok := opNames[name]; ok {
		return name
	}
	if len(opNames) >= maxOperationNames {
		return "_other"
	}
	opNames[name] = struct{}{}
	return name
}

// validName reports whether s is a GraphQL name, as operation names must be.
func validName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// The series of the vectors every request touches, bound to their label values once: a
// vector's WithLabelValues hashes and compares the values on every call, which, over the
// seven series of a GraphQL request, cost more than the counting. Every label set here is
// bounded (routes, the schema's root fields, operationLabel's names), so the caches are too.
var (
	operationCounts    seriesCache[[3]string, prometheus.Counter]
	operationDurations seriesCache[[2]string, prometheus.Observer]
	operationCosts     seriesCache[[2]string, costSeries]
	rootFieldCounts    seriesCache[[2]string, prometheus.Counter]
	httpCounts         seriesCache[[2]string, prometheus.Counter]
	httpDurations      seriesCache[string, prometheus.Observer]
)

// costSeries is an operation's SQL and Redis counters.
type costSeries struct{ sql, redis prometheus.Counter }

// A seriesCache maps label values to the series bound to them.
type seriesCache[K comparable, S any] struct {
	mu     sync.RWMutex
	series map[K]S
}

// get returns the series of key, binding it with bind the first time.
func (c *seriesCache[K, S]) get(key K, bind func() S) S {
	c.mu.RLock()
	s, ok := c.series[key]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = bind()
	c.mu.Lock()
	if c.series == nil {
		c.series = map[K]S{}
	}
	c.series[key] = s
	c.mu.Unlock()
	return s
}
