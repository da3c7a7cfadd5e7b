package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/cart"
	"storefront/domain/catalog"
	"storefront/domain/checkout"
	"storefront/domain/identity"
	"storefront/domain/identity/token"
	"storefront/gateway/sandbox"
	"storefront/resolvers"
	"storefront/store/postgres"
	sredis "storefront/store/redis"
)

// App is one server instance: its connections, services, HTTP handler and workers.
type App struct {
	cfg  Config
	log  *slog.Logger
	Pool *pgxpool.Pool
	// Replica is the pool of the read replica (DATABASE_REPLICA_URL), nil without one.
	Replica *pgxpool.Pool
	Redis   *sredis.Client
	// Hub is this instance's one Redis pub/sub connection, shared by every subscription.
	Hub *sredis.Hub
	// Carts is the cart service; other areas call Changed after changing a cart themselves.
	Carts  *cart.Service
	deps   resolvers.Deps
	router http.Handler

	// workers run beside the HTTP server until shutdown: outbox relay, expiry sweeps.
	workers []worker
	// shuttingDown flips /readyz to 503 as soon as a stop begins, so load balancers drain us.
	shuttingDown atomic.Bool

	identity      *identity.Service
	sessionEvents *sredis.SessionEvents
	sessionWatch  *sessionWatch
	// revocationsReady is closed once this instance listens for session revocations.
	revocationsReady chan struct{}
	edge

	// Checkout is the checkout and order service; sandbox is the built-in payment provider when
	// no other gateway is configured.
	Checkout *checkout.Service
	sandbox  *sandbox.Sandbox
}

// New connects to Postgres and Redis and builds every service. It does not migrate: the
// `migrate` subcommand (or a test's template database) does that once, not per instance.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, Pool: pool}
	if cfg.DatabaseReplicaURL != "" {
		if a.Replica, err = postgres.Open(ctx, cfg.DatabaseReplicaURL); err != nil {
			a.Close()
			return nil, fmt.Errorf("read replica (DATABASE_REPLICA_URL): %w", err)
		}
	}
	if a.Redis, err = sredis.Open(ctx, cfg.RedisURL, cfg.RedisPrefix); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.initEdge(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.wire(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.router = a.routes()
	return a, nil
}

// wire builds the domain services over the stores and hands them to the resolvers.
func (a *App) wire(ctx context.Context) error {
	// Redis commands count for the request that sent them, as SQL statements do (postgres.Open).
	a.Redis.CountCommands()
	if err := a.wireIdentity(); err != nil {
		return err
	}
	a.Hub = sredis.NewHub(a.Redis, a.log)
	a.wireCarts()
	a.deps.Catalog = catalog.NewService(postgres.NewCatalogStore(a.catalogPool()))
	a.wireCheckout(a.Hub, a.Carts)
	return nil
}

// catalogPool is where catalog browsing reads: the replica when there is one, else the primary.
//
// Only the catalog service (listings, search, product pages, categories, and the loaders behind
// product fields: category, seller, images, inventory, rating) reads there. Whatever must be
// current reads the primary through its own store: cart prices when a cart changes, checkout's
// repricing and stock reservation, and everything inside a transaction. So a replica that lags
// only makes browsing lag: after an admin's inventorySet, or a price change, product pages and
// product fields (inventorySet's own payload.product too) may show the old value for the
// replication delay, typically milliseconds. The payload's inventory and every cart total and
// order are computed on the primary and are never stale.
func (a *App) catalogPool() *pgxpool.Pool {
	if a.Replica != nil {
		return a.Replica
	}
	return a.Pool
}

// wireIdentity builds accounts and sessions: Postgres for the truth, Redis in front for session
// checks, login failure counts and revocation announcements.
func (a *App) wireIdentity() error {
	hasher, err := identity.NewHasher(a.cfg.PasswordHashing)
	if err != nil {
		return err
	}
	tokens, err := token.New(token.Options{
		Key: a.cfg.JWTSecret, Issuer: a.cfg.JWTIssuer, Audience: a.cfg.JWTAudience, TTL: a.cfg.AccessTokenTTL,
	})
	if err != nil {
		return err
	}
	users := postgres.NewUsers(a.Pool)
	sessions := postgres.NewSessions(a.Pool)
	a.sessionEvents = sredis.NewSessionEvents(a.Redis)
	var limits *identity.LoginLimits
	if a.cfg.RateLimit {
		limits = &a.cfg.LoginLimits
	}
	a.identity, err = identity.NewService(identity.Deps{
		Users:       users,
		Addresses:   users,
		Sessions:    sredis.NewSessionCache(sessions, a.Redis, a.cfg.SessionCacheMaxAge, a.log),
		Failures:    sredis.NewFailureCounter(a.Redis),
		Revocations: a.sessionEvents,
		Hasher:      hasher,
		Tokens:      tokens,
		Log:         a.log,
	}, identity.Config{
		Sessions: identity.SessionPolicy{IdleTimeout: a.cfg.RefreshIdleTimeout, AbsoluteLifetime: a.cfg.SessionMaxLifetime},
		Logins:   limits,
	})
	if err != nil {
		return err
	}
	a.deps.Identity = a.identity
	a.sessionWatch = newSessionWatch()
	a.revocationsReady = make(chan struct{})
	a.addWorker("session revocation listener", a.listenForRevocations)
	a.addWorker("ended session sweep", func(ctx context.Context) { a.sweepSessions(ctx, sessions) })
	return nil
}

// Handler is the whole HTTP surface of this instance.
func (a *App) Handler() http.Handler { return a.router }

// Identity returns the account and session service, for tools and benchmarks that need it
// without HTTP.
func (a *App) Identity() *identity.Service { return a.identity }

// Catalog returns the catalog service, for tools (such as the benchmark's plain-HTTP floor) that
// serve the catalog without GraphQL.
func (a *App) Catalog() *catalog.Service { return a.deps.Catalog }

// Config returns the configuration the instance runs with.
func (a *App) Config() Config { return a.cfg }

// Close releases connections. Call it after Serve returns.
func (a *App) Close() {
	if a.Hub != nil {
		a.Hub.Close()
	}
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	if a.Replica != nil {
		a.Replica.Close()
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
}

// Serve answers HTTP on ln and runs the workers until ctx is cancelled, then stops gracefully:
// readiness turns 503 at once, new connections are refused, in-flight requests get up to the
// shutdown timeout to finish, and workers are stopped and waited for. The whole stop ends within
// ShutdownTimeout, of which the workers are promised the last workerStopReserve.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	conns := newConnTracker()
	srv := a.httpServer(ctx, conns)
	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	workers := a.startWorkers(workerCtx)

	serveErr := make(chan error, 1)
	go func() {
		if a.cfg.TLS() {
			serveErr <- srv.ServeTLS(ln, a.cfg.TLSCertFile, a.cfg.TLSKeyFile)
			return
		}
		serveErr <- srv.Serve(ln)
	}()

	var err error
	var stopBy time.Time
	select {
	case err = <-serveErr:
		stopBy = time.Now().Add(a.cfg.ShutdownTimeout)
	case <-ctx.Done():
		a.shuttingDown.Store(true)
		a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
		stopBy = time.Now().Add(a.cfg.ShutdownTimeout)
		httpCtx, cancel := context.WithDeadline(context.Background(), stopBy.Add(-a.workerStopReserve()))
		a.drain(httpCtx)
		// Shutdown closes the listeners and idle connections, waits for in-flight requests, and
		// (RegisterOnShutdown) closes the spare connections it would wait for and the websockets,
		// which it does not track; then we wait for those too.
		err = errors.Join(shutdownHTTP(httpCtx, srv, conns), a.ws.wait(httpCtx))
		cancel()
	}
	stopWorkers()
	workersCtx, cancel := context.WithDeadline(context.Background(), stopBy)
	err = errors.Join(err, waitForWorkers(workersCtx, workers))
	cancel()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// workerStopReserve is the part of ShutdownTimeout kept for the workers, so that requests that
// outlast their share are reported as such, not as workers that had no time left to stop.
func (a *App) workerStopReserve() time.Duration {
	return min(a.cfg.ShutdownTimeout/5, time.Second)
}
