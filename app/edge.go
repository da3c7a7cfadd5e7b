package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"

	"storefront/domain/limits"
	sredis "storefront/store/redis"
)

// edge is the state of the protections around the GraphQL server.
type edge struct {
	// ws tracks websockets for the per-client caps and for closing them on shutdown.
	ws      *wsHub
	limiter *sredis.RateLimiter
	// limiterWarnedAt is when (unix ns) the last "limiter unavailable" warning was logged.
	limiterWarnedAt atomic.Int64
	// allowedOps is the registered operation list of PERSISTED_QUERIES_ONLY, nil otherwise.
	allowedOps allowedOperations
	gql        *handler.Server

	// PurchaseCap limits the units of one product a customer buys per day; checkout calls it.
	PurchaseCap *limits.PurchaseCap
}

// initEdge builds the protections. It runs before wire, which hands PurchaseCap to checkout.
func (a *App) initEdge() error {
	a.ws = newWSHub(a.cfg.Websocket)
	a.limiter = sredis.NewRateLimiter(a.Redis)
	a.PurchaseCap = limits.NewPurchaseCap(sredis.NewPurchaseCounter(a.Redis), a.cfg.PurchaseCapPerDay)
	if a.cfg.PersistedQueriesOnly {
		ops, err := loadAllowedOperations(a.cfg.PersistedQueriesFile)
		if err != nil {
			return err
		}
		a.allowedOps = ops
	}
	return nil
}

// httpServer is the HTTP server of Serve, with the configured timeouts. Its WriteTimeout does not
// reach websockets: net/http clears a connection's deadlines when the connection is hijacked.
// conns follows its connections (see connTracker).
func (a *App) httpServer(ctx context.Context, conns *connTracker) *http.Server {
	t := a.cfg.Timeouts
	srv := &http.Server{
		Handler:           a.router,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
		// Requests outlive a cancelled Serve context: a shutdown lets them finish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:    slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		ConnState:   conns.setState,
	}
	if a.cfg.TLS() {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	srv.RegisterOnShutdown(a.ws.goingAway)
	srv.RegisterOnShutdown(conns.closeNew)
	return srv
}

// drain waits DrainDelay (or until ctx ends) while /readyz already answers 503.
func (a *App) drain(ctx context.Context) {
	if a.cfg.DrainDelay <= 0 {
		return
	}
	t := time.NewTimer(a.cfg.DrainDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// wait waits until every websocket has ended or ctx ends, then says how many are still open.
func (h *wsHub) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	h.mu.Lock()
	open := len(h.conns)
	h.mu.Unlock()
	if open == 0 {
		return nil
	}
	return fmt.Errorf("%d websockets still open: %w", open, ctx.Err())
}
