package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"storefront/domain/identity"
	"storefront/graphqlws"
	"storefront/metrics"
	"storefront/resolvers"
)

// Content Security Policies. The API answers JSON only, so it allows nothing; the GraphiQL page
// of development loads its scripts and styles from jsDelivr and talks to this origin.
const (
	apiCSP        = "default-src 'none'; frame-ancestors 'none'"
	playgroundCSP = "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; " +
		"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; " +
		"font-src 'self' data: https://cdn.jsdelivr.net; connect-src 'self' ws: wss:; worker-src 'self' blob:; " +
		"frame-ancestors 'none'"
)

// securityHeaders sets the headers every answer carries. HSTS is sent only over TLS the server
// terminates itself: a browser ignores it over plain HTTP, and behind a TLS-terminating proxy the
// proxy owns that policy.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiCSP)
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// withCSP replaces the default policy for one handler.
func withCSP(policy string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		next.ServeHTTP(w, r)
	})
}

// originAllowed reports whether a browser page of origin may call the API: same host, or listed
// in CORS_ORIGINS. A request without Origin is not from a browser page and is not a CSRF risk.
func (a *App) originAllowed(r *http.Request, origin string) bool {
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	origin = strings.ToLower(origin)
	for _, o := range a.cfg.CORSOrigins {
		if o == origin {
			return true
		}
	}
	return false
}

// cors answers preflights and marks answers readable by the allowed origins. No credentials are
// allowed: the API authenticates with bearer tokens, never cookies.
func (a *App) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers differ by Origin even when none was sent: a cache (say a CDN in front of
		// persisted GET queries) must not hand an answer without CORS headers to a page.
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !a.originAllowed(r, origin) {
			if preflight {
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
		if preflight {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-Id, Apollo-Require-Preflight, X-Requested-With")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireJSON refuses every POST whose body is not application/json, before gqlgen sees it.
//
// A page on another site can make a browser send a form (urlencoded or multipart) or text/plain
// POST without asking the server first; application/json always needs a CORS preflight, which
// only the allowed origins pass. The API takes no file uploads, so no header opens the form
// transports either: they are simply not mounted.
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mediaType != "application/json" {
				writeGraphQLError(w, http.StatusUnsupportedMediaType, resolvers.CodeBadUserInput,
					"POST bodies must be application/json")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody answers 413 to bodies over the limit, read before gqlgen so it never parses them.
func (a *App) limitBody(next http.Handler) http.Handler {
	limit := a.cfg.Limits.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := func() {
			w.Header().Set("Connection", "close")
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, resolvers.CodeBadUserInput,
				fmt.Sprintf("request body exceeds %d bytes", limit))
		}
		if r.ContentLength > limit {
			tooLarge()
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			writeGraphQLError(w, http.StatusBadRequest, resolvers.CodeBadUserInput, "could not read the request body")
			return
		}
		if int64(len(body)) > limit {
			tooLarge()
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// writeGraphQLError answers with one GraphQL error, as clients expect even from the layers in
// front of the GraphQL server.
func writeGraphQLError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// wsHub knows every open websocket, so that a shutdown can close them with "going away" (the
// HTTP server forgets hijacked connections) and so that connections per client can be capped.
// Its counts are per instance; see WebsocketLimits.
type wsHub struct {
	limits WebsocketLimits

	mu      sync.Mutex
	conns   map[*wsState]struct{}
	perIP   map[string]int
	perUser map[int64]int
	closing bool
	wg      sync.WaitGroup
}

// wsState is one websocket connection, from the upgrade request until it ends.
type wsState struct {
	ip     string
	conn   *graphqlws.Conn // set once accepted; from then on the connection's end releases it
	userID int64           // set once counted against a user
}

type wsStateKey struct{}

func newWSHub(limits WebsocketLimits) *wsHub {
	return &wsHub{limits: limits, conns: map[*wsState]struct{}{}, perIP: map[string]int{}, perUser: map[int64]int{}}
}

// gate admits websocket upgrades: not while shutting down, only from allowed origins, and up to
// MaxPerIP per client address. An upgrade that fails is released when its handler returns; an
// accepted connection when it ends.
func (a *App) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !a.originAllowed(r, r.Header.Get("Origin")) {
			metrics.WebsocketRefused("origin")
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		st := &wsState{ip: clientIPFrom(r.Context())}
		if reason := a.ws.admit(st); reason != "" {
			metrics.WebsocketRefused(reason)
			status := http.StatusTooManyRequests
			if reason == "shutting_down" {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, strings.ReplaceAll(reason, "_", " "), status)
			return
		}
		// An accepted websocket outlives this handler: its end releases it (websocketClosed).
		defer a.ws.releaseUnaccepted(st)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsStateKey{}, st)))
	})
}

func (h *wsHub) admit(st *wsState) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closing:
		return "shutting_down"
	case h.limits.MaxPerIP > 0 && h.perIP[st.ip] >= h.limits.MaxPerIP:
		return "per_ip_cap"
	}
	h.perIP[st.ip]++
	h.conns[st] = struct{}{}
	h.wg.Add(1)
	return ""
}

func (h *wsHub) release(st *wsState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, st)
	if h.perIP[st.ip]--; h.perIP[st.ip] <= 0 {
		delete(h.perIP, st.ip)
	}
	if st.userID != 0 {
		if h.perUser[st.userID]--; h.perUser[st.userID] <= 0 {
			delete(h.perUser, st.userID)
		}
	}
	if st.conn != nil {
		metrics.WebsocketClosed()
	}
	h.wg.Done()
}

// releaseUnaccepted releases st if its upgrade ended without a connection: refused by the
// handshake or by gqlgen.
func (h *wsHub) releaseUnaccepted(st *wsState) {
	h.mu.Lock()
	accepted := st.conn != nil
	h.mu.Unlock()
	if !accepted {
		h.release(st)
	}
}

// accepted records the connection of st; during a shutdown it is closed at once.
func (h *wsHub) accepted(st *wsState, c *graphqlws.Conn) {
	h.mu.Lock()
	st.conn = c
	closing := h.closing
	h.mu.Unlock()
	metrics.WebsocketOpened()
	if closing {
		goAway(c)
	}
}

// admitUser counts the connection against the signed-in user, up to MaxPerUser.
func (h *wsHub) admitUser(st *wsState, userID int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.userID == userID {
		return true
	}
	if h.limits.MaxPerUser > 0 && h.perUser[userID] >= h.limits.MaxPerUser {
		return false
	}
	h.perUser[userID]++
	st.userID = userID
	return true
}

// goingAway closes every websocket with 1001 "going away", so clients reconnect to another
// instance; closing a connection ends its subscriptions. It runs when the HTTP server starts
// shutting down.
func (h *wsHub) goingAway() {
	h.mu.Lock()
	h.closing = true
	conns := make([]*graphqlws.Conn, 0, len(h.conns))
	for st := range h.conns {
		if st.conn != nil {
			conns = append(conns, st.conn)
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		goAway(c)
	}
}

// goAway closes conn with 1001 "going away".
func goAway(conn *graphqlws.Conn) {
	conn.Close(graphqlws.CloseGoingAway, "going away")
}

// websocketTransport carries subscriptions. auth is the connection_init handler that signs the
// caller in (nil: every connection is a guest); the per-user cap is applied after it. Origins
// and the per-address cap were checked by gate before the upgrade.
func (a *App) websocketTransport(auth graphqlws.InitFunc) *graphqlws.Transport {
	lim := a.cfg.Websocket
	return &graphqlws.Transport{
		InitFunc:        a.capWebsocketsPerUser(auth),
		InitTimeout:     lim.InitTimeout,
		KeepAlive:       lim.KeepAlive,
		MaxMessageBytes: lim.MaxMessageBytes,
		Log:             a.log,
		Opened: func(ctx context.Context, c *graphqlws.Conn) {
			if st, ok := ctx.Value(wsStateKey{}).(*wsState); ok {
				a.ws.accepted(st, c)
			}
		},
		Closed: func(ctx context.Context, _ *graphqlws.Conn) {
			if st, ok := ctx.Value(wsStateKey{}).(*wsState); ok {
				a.ws.release(st)
			}
		},
	}
}

// errTooManyConnections is sent in connection_error when a user has too many websockets open.
var errTooManyConnections = errors.New("too many open connections for this account")

// capWebsocketsPerUser runs auth, then counts the connection against the signed-in user.
func (a *App) capWebsocketsPerUser(auth graphqlws.InitFunc) graphqlws.InitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		var ack *transport.InitPayload
		if auth != nil {
			var err error
			if ctx, ack, err = auth(ctx, payload); err != nil {
				return ctx, nil, err
			}
		}
		if p, ok := identity.PrincipalFrom(ctx); ok {
			noteUser(ctx, p.UserID)
			if st, ok := ctx.Value(wsStateKey{}).(*wsState); ok && !a.ws.admitUser(st, p.UserID) {
				metrics.WebsocketRefused("per_user_cap")
				return graphqlws.WithCloseCode(ctx, graphqlws.ClosePolicyViolation), nil, errTooManyConnections
			}
		}
		return ctx, ack, nil
	}
}
