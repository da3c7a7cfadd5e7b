package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"storefront/domain/apperr"
	"storefront/domain/identity"
	"storefront/graphqlws"
	"storefront/resolvers"
	"storefront/store/postgres"
)

// authenticate puts the caller on the request context. No Authorization header means a guest. A
// header that is present but not a valid, live bearer token is refused outright with HTTP 401 and
// a GraphQL error coded UNAUTHENTICATED, never downgraded to a guest: a client whose token expired
// must learn it and refresh, not silently see an empty cart and no orders.
func (a *App) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := identity.WithClient(r.Context(), identity.Client{IP: clientIP(r), UserAgent: r.UserAgent()})
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		raw, ok := bearerToken(header)
		if !ok {
			writeAuthError(w, http.StatusUnauthorized, resolvers.CodeUnauthenticated, "the Authorization header must be \"Bearer <access token>\"")
			return
		}
		p, err := a.identity.Authenticate(ctx, raw)
		switch {
		case errors.Is(err, apperr.ErrUnauthenticated):
			writeAuthError(w, http.StatusUnauthorized, resolvers.CodeUnauthenticated, "invalid, expired or signed-out access token")
			return
		case err != nil:
			a.log.ErrorContext(ctx, "authenticate", "err", err, "request_id", RequestID(ctx))
			writeAuthError(w, http.StatusServiceUnavailable, resolvers.CodeInternal, "could not check the session; try again")
			return
		}
		next.ServeHTTP(w, r.WithContext(identity.WithPrincipal(ctx, p)))
	})
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" value; the scheme is
// case-insensitive (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// clientIP is the client address that observe worked out (the peer, or with TRUSTED_PROXIES the
// nearest untrusted X-Forwarded-For hop); the peer address when observe did not run.
func clientIP(r *http.Request) string {
	if ip := clientIPFrom(r.Context()); ip != "" {
		return ip
	}
	return clientAddress(r, nil)
}

// writeAuthError answers like a GraphQL server would, so clients read extensions.code as usual,
// with the status and WWW-Authenticate header of RFC 6750 for HTTP-level tooling.
func writeAuthError(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}

// websocketInit authenticates a websocket from its connection_init payload
// ({"Authorization": "Bearer <token>"}, or {"authToken": "<token>"}), falling back to the upgrade
// request's header. A bad token refuses the connection (close code 4403). A signed-in connection
// is closed as soon as its session ends: on a revocation announcement, or at the latest at the
// next periodic re-check.
func (a *App) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	raw := payload.Authorization()
	if raw == "" {
		raw = payload.GetString("authToken")
	}
	if raw != "" {
		if tok, ok := bearerToken(raw); ok {
			raw = tok
		}
		p, err := a.identity.Authenticate(ctx, strings.TrimSpace(raw))
		if err != nil {
			if !errors.Is(err, apperr.ErrUnauthenticated) {
				a.log.ErrorContext(ctx, "authenticate websocket", "err", err)
			}
			return graphqlws.WithCloseCode(ctx, 4403), nil, errors.New("unauthenticated: invalid, expired or signed-out access token")
		}
		ctx = identity.WithPrincipal(ctx, p)
	}
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return ctx, nil, nil
	}
	// Announcements sent before this instance listens would be missed; wait (briefly) until it does.
	select {
	case <-a.revocationsReady:
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
	}
	return a.sessionWatch.watch(ctx, p, a.identity.CheckSession, a.cfg.SessionRecheckInterval), nil, nil
}

// sessionWatch knows which open websocket connections belong to which session, so a revocation
// announced on Redis closes them on whichever instance holds them.
type sessionWatch struct {
	mu    sync.Mutex
	conns map[string]map[*context.CancelFunc]struct{}
}

func newSessionWatch() *sessionWatch {
	return &sessionWatch{conns: map[string]map[*context.CancelFunc]struct{}{}}
}

// watch returns a context of the connection that is cancelled when p's session ends; the
// websocket transport closes the connection when it is. It also re-checks the session every interval, which covers
// announcements lost while Redis was unreachable and sessions that simply expire.
func (w *sessionWatch) watch(ctx context.Context, p identity.Principal,
	check func(context.Context, identity.Principal) error, interval time.Duration) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	key := &cancel
	w.mu.Lock()
	if w.conns[p.SessionID] == nil {
		w.conns[p.SessionID] = map[*context.CancelFunc]struct{}{}
	}
	w.conns[p.SessionID][key] = struct{}{}
	w.mu.Unlock()
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		delete(w.conns[p.SessionID], key)
		if len(w.conns[p.SessionID]) == 0 {
			delete(w.conns, p.SessionID)
		}
		w.mu.Unlock()
	})
	// A timer rather than a goroutine with a ticker: an open connection costs no goroutine here.
	var recheck atomic.Pointer[time.Timer] // set before the timer can first fire
	recheck.Store(time.AfterFunc(interval, func() {
		if ctx.Err() != nil {
			return
		}
		if err := check(ctx, p); errors.Is(err, apperr.ErrUnauthenticated) {
			cancel()
			return
		}
		recheck.Load().Reset(interval)
	}))
	context.AfterFunc(ctx, func() { recheck.Load().Stop() })
	return ctx
}

// revoke closes every connection of the sessions.
func (w *sessionWatch) revoke(ids []string) {
	w.mu.Lock()
	var cancels []context.CancelFunc
	for _, id := range ids {
		for c := range w.conns[id] {
			cancels = append(cancels, *c)
		}
	}
	w.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// listenForRevocations is a worker: it follows revocation announcements until ctx ends,
// re-subscribing after failures.
func (a *App) listenForRevocations(ctx context.Context) {
	var once sync.Once
	ready := func() { once.Do(func() { close(a.revocationsReady) }) }
	for ctx.Err() == nil {
		err := a.sessionEvents.Subscribe(ctx, ready, a.sessionWatch.revoke)
		if err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "session revocation listener", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Ended sessions are kept a day (so a user's "where am I signed in" view and the logs can still
// name them) and swept hourly. Every instance sweeps; the deletes are idempotent.
const (
	sessionSweepInterval  = time.Hour
	endedSessionRetention = 24 * time.Hour
)

// sweepSessions is a worker that deletes long-ended sessions until ctx ends.
func (a *App) sweepSessions(ctx context.Context, sessions *postgres.Sessions) {
	t := time.NewTicker(sessionSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := sessions.DeleteEndedSessions(ctx, time.Now().Add(-endedSessionRetention), a.cfg.RefreshIdleTimeout)
			if err != nil {
				a.log.WarnContext(ctx, "sweep sessions", "err", err)
				continue
			}
			if n > 0 {
				a.log.InfoContext(ctx, "swept ended sessions", "count", n)
			}
		}
	}
}
