package app

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"storefront/domain/identity"
	"storefront/metrics"
	"storefront/resolvers"
	"storefront/store/postgres"
	sredis "storefront/store/redis"
)

// requestInfo collects, while a request runs, what its log line and metrics need. The outer
// middleware creates it; GraphQL extensions deeper in fill in the operation and the caller, whom
// only the inner layers know.
type requestInfo struct {
	clientIP  string
	websocket bool

	mu         sync.Mutex
	opType     string
	opName     string
	userID     int64
	retryAfter time.Duration
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// clientIPFrom returns the client address of the request ctx belongs to, or "".
func clientIPFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.clientIP
	}
	return ""
}

// noteOperation records the operation of a request for its log line.
func noteOperation(ctx context.Context, s *operationShape) {
	info := infoFrom(ctx)
	if info == nil {
		return
	}
	info.mu.Lock()
	defer info.mu.Unlock()
	if info.opName == "" {
		info.opType, info.opName = s.Type, s.Name
	}
	if p, ok := identity.PrincipalFrom(ctx); ok {
		info.userID = p.UserID
	}
}

// noteUser records the signed-in caller of a request (a websocket learns it at connection_init).
func noteUser(ctx context.Context, userID int64) {
	if info := infoFrom(ctx); info != nil {
		info.mu.Lock()
		info.userID = userID
		info.mu.Unlock()
	}
}

// noteRetryAfter makes the HTTP answer 429 with a Retry-After header.
func noteRetryAfter(ctx context.Context, d time.Duration) {
	if info := infoFrom(ctx); info != nil {
		info.mu.Lock()
		info.retryAfter = max(info.retryAfter, d)
		info.mu.Unlock()
	}
}

// observe logs one JSON line per request (request id, client, operation, user id, status,
// duration) and records the HTTP metrics. It never logs headers, bodies, queries or variables,
// so tokens and passwords cannot reach the logs.
func (a *App) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{
			clientIP:  clientAddress(r, a.cfg.TrustedProxies),
			websocket: isWebsocket(r),
		}
		rec := &statusRecorder{ResponseWriter: w, info: info}
		ctx := context.WithValue(r.Context(), requestInfoKey{}, info)
		// Count what the request costs in SQL statements and Redis commands, the session check
		// included, for the operation's cost series. A websocket's cost belongs to no one
		// operation, so it is not counted.
		var statements *postgres.StatementCounter
		var commands *sredis.CommandCounter
		if !info.websocket {
			ctx, statements = postgres.WithStatementCounter(ctx)
			ctx, commands = sredis.WithCommandCounter(ctx)
		}
		r = r.WithContext(ctx)
		defer func() {
			d := time.Since(start)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			upgraded := status == http.StatusSwitchingProtocols
			metrics.HTTPRequest(route, status, d, !upgraded)
			info.mu.Lock()
			attrs := make([]slog.Attr, 0, 10) // room for every attribute below: no regrowth
			attrs = append(attrs,
				slog.String("request_id", RequestID(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.String("client_ip", info.clientIP),
				slog.Int64("bytes", rec.bytes),
			)
			if info.opType != "" {
				attrs = append(attrs, slog.String("operation_type", info.opType), slog.String("operation", info.opName))
				if statements != nil {
					metrics.OperationCost(info.opType, info.opName, statements.Count(), commands.Count())
				}
			}
			if info.userID != 0 {
				attrs = append(attrs, slog.Int64("user_id", info.userID))
			}
			info.mu.Unlock()
			msg := "request"
			if upgraded {
				msg = "websocket closed"
			}
			// The record is handed to the handler directly, without the caller's pc that
			// LogAttrs walks the stack for on every request: no handler here writes the source,
			// and this line would be it for every access log line anyway.
			if h := a.log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
				record := slog.NewRecord(start.Add(d), slog.LevelInfo, msg, 0)
				record.AddAttrs(attrs...)
				_ = h.Handle(r.Context(), record)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusRecorder remembers the status and size of an answer, and turns a rate-limited GraphQL
// answer into 429 with Retry-After (gqlgen itself answers such errors with 200).
type statusRecorder struct {
	http.ResponseWriter
	info   *requestInfo
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status != 0 {
		return
	}
	s.info.mu.Lock()
	retry := s.info.retryAfter
	s.info.mu.Unlock()
	if retry > 0 && code < 400 {
		code = http.StatusTooManyRequests
	}
	if retry > 0 {
		s.Header().Set("Retry-After", strconv.Itoa(retrySeconds(retry)))
	}
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController and the websocket library reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection to the websocket transport.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	if s.status == 0 {
		s.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Flush passes flushes through, for streaming answers.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// clientAddress is the peer address, or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one: the right-most entries were added by our own proxies, the
// left-most could have been written by anyone.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = addr.Unmap()
		if !isTrusted(addr, trusted) {
			return addr.String()
		}
		peer = addr
	}
	return peer.String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// instrumentOperation counts GraphQL operations by name and outcome, times them, counts root
// fields and tracks streaming subscriptions.
func instrumentOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	s := shapeOf(opCtx)
	if s == nil {
		s = shapeFor(opCtx.Operation)
	}
	for _, f := range s.RootFields {
		metrics.RootField(s.Type, f)
	}
	start := time.Now()
	if s.Type != "subscription" {
		handler := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := handler(ctx)
			outcome := "ok"
			if resp != nil && len(resp.Errors) > 0 {
				outcome = "error"
			}
			metrics.Operation(s.Type, s.Name, outcome, time.Since(start))
			return resp
		}
	}
	// Counted before next runs the subscription resolver: once that has subscribed, an event
	// may already flow.
	metrics.Operation(s.Type, s.Name, "ok", 0)
	metrics.SubscriptionStarted()
	handler := next(ctx)
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if resp == nil {
			once.Do(metrics.SubscriptionEnded)
		}
		return resp
	}
}

// presentError is resolvers.PresentError plus the error metrics, and gives the parser's token
// limit the code of the other size limits.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	e := resolvers.PresentError(ctx, err)
	if rejectedForSize(e) {
		e.Extensions["code"] = resolvers.CodeComplexity
	}
	code, _ := e.Extensions["code"].(string)
	if code == "" {
		code = "NONE"
	}
	metrics.GraphQLError(code)
	return e
}

// metricsHandler serves this instance's registry: the shared series of package metrics plus the
// pools of this instance's Postgres and Redis connections.
func (a *App) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.Collectors()...)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(poolCollector{a})
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	if a.cfg.MetricsToken == "" {
		return h
	}
	want := []byte("Bearer " + a.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// poolCollector reads the connection pools at scrape time.
type poolCollector struct{ a *App }

var (
	pgAcquired      = prometheus.NewDesc("db_pool_acquired_connections", "Postgres connections in use.", nil, nil)
	pgIdle          = prometheus.NewDesc("db_pool_idle_connections", "Idle Postgres connections.", nil, nil)
	pgTotal         = prometheus.NewDesc("db_pool_total_connections", "Open Postgres connections.", nil, nil)
	pgMax           = prometheus.NewDesc("db_pool_max_connections", "Most Postgres connections the pool opens.", nil, nil)
	pgAcquires      = prometheus.NewDesc("db_pool_acquires_total", "Postgres connection acquisitions.", nil, nil)
	pgEmptyWaits    = prometheus.NewDesc("db_pool_empty_acquires_total", "Acquisitions that had to wait for a connection.", nil, nil)
	pgAcquireWait   = prometheus.NewDesc("db_pool_acquire_wait_seconds_total", "Time spent acquiring Postgres connections.", nil, nil)
	redisHits       = prometheus.NewDesc("redis_pool_hits_total", "Redis commands that found an idle connection.", nil, nil)
	redisMisses     = prometheus.NewDesc("redis_pool_misses_total", "Redis commands that had to open a connection.", nil, nil)
	redisTimeouts   = prometheus.NewDesc("redis_pool_timeouts_total", "Redis commands that timed out waiting for a connection.", nil, nil)
	redisTotal      = prometheus.NewDesc("redis_pool_total_connections", "Open Redis connections.", nil, nil)
	redisIdleConns  = prometheus.NewDesc("redis_pool_idle_connections", "Idle Redis connections.", nil, nil)
	outboxLag       = prometheus.NewDesc("outbox_lag_seconds", "Age of the oldest outbox event not yet relayed; 0 when none waits.", nil, nil)
	replicaAcquired = prometheus.NewDesc("db_replica_pool_acquired_connections", "Read replica connections in use.", nil, nil)
	replicaTotal    = prometheus.NewDesc("db_replica_pool_total_connections", "Open read replica connections.", nil, nil)
	replicaAcquires = prometheus.NewDesc("db_replica_pool_acquires_total", "Read replica connection acquisitions.", nil, nil)
	replicaLag      = prometheus.NewDesc("db_replica_lag_bytes", "Bytes of the primary's WAL the read replica has not replayed yet.", nil, nil)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pgAcquired, pgIdle, pgTotal, pgMax, pgAcquires, pgEmptyWaits,
		pgAcquireWait, redisHits, redisMisses, redisTimeouts, redisTotal, redisIdleConns, outboxLag,
		replicaAcquired, replicaTotal, replicaAcquires, replicaLag} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	if c.a.Pool != nil {
		s := c.a.Pool.Stat()
		gauge(pgAcquired, float64(s.AcquiredConns()))
		gauge(pgIdle, float64(s.IdleConns()))
		gauge(pgTotal, float64(s.TotalConns()))
		gauge(pgMax, float64(s.MaxConns()))
		counter(pgAcquires, float64(s.AcquireCount()))
		counter(pgEmptyWaits, float64(s.EmptyAcquireCount()))
		counter(pgAcquireWait, s.AcquireDuration().Seconds())
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		lag, err := postgres.NewOutbox(c.a.Pool).OutboxLag(ctx)
		cancel()
		if err == nil {
			gauge(outboxLag, lag.Seconds())
		}
	}
	if c.a.Replica != nil && c.a.Pool != nil {
		s := c.a.Replica.Stat()
		gauge(replicaAcquired, float64(s.AcquiredConns()))
		gauge(replicaTotal, float64(s.TotalConns()))
		counter(replicaAcquires, float64(s.AcquireCount()))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		lag, err := postgres.ReplicaLag(ctx, c.a.Pool, c.a.Replica)
		cancel()
		if err == nil {
			gauge(replicaLag, float64(lag))
		}
	}
	if c.a.Redis != nil {
		s := c.a.Redis.PoolStats()
		counter(redisHits, float64(s.Hits))
		counter(redisMisses, float64(s.Misses))
		counter(redisTimeouts, float64(s.Timeouts))
		gauge(redisTotal, float64(s.TotalConns))
		gauge(redisIdleConns, float64(s.IdleConns))
	}
}
