package app

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"storefront/graph"
	"storefront/graphqlhttp"
	"storefront/resolvers"
	"storefront/resolvers/loaders"
	sredis "storefront/store/redis"
)

// routes is the whole HTTP surface in one place.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	// In front of gqlgen, outermost first: CORS (so even refusals are readable by allowed
	// pages), JSON-only POSTs, the body limit, the per-address rate limit, the websocket gate,
	// then authentication. Every GraphQL request gets fresh loaders; subscription events get
	// theirs from PerEvent.
	mux.Handle("/graphql", a.cors(requireJSON(a.limitBody(a.limitByIP(a.gate(
		a.authenticate(loaders.Middleware(a.deps.Catalog)(a.graphqlHandler()))))))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", a.metricsHandler())
	a.mountCheckout(mux)
	if !a.cfg.Production() {
		mux.Handle("GET /{$}", withCSP(playgroundCSP, playground.Handler("Storefront", "/graphql")))
	}
	return a.requestID(a.observe(a.recoverPanics(securityHeaders(mux))))
}

// graphqlHandler builds the gqlgen server with explicit transports: GET carries queries only
// (gqlgen refuses mutations over GET), POST carries JSON only (no form or multipart transports,
// see requireJSON), and websockets carry subscriptions in both the graphql-transport-ws and the
// legacy graphql-ws protocols.
func (a *App) graphqlHandler() http.Handler {
	res := resolvers.New(a.deps)
	cfg := res.Config()
	setComplexity(&cfg.Complexity)
	srv := handler.New(graph.NewExecutableSchema(cfg))
	srv.AddTransport(a.websocketTransport(a.websocketInit))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(graphqlhttp.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(a.cfg.Limits.MaxTokens)
	if a.cfg.Production() {
		srv.SetDisableSuggestion(true)
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.Use(loaders.PerEvent{Source: a.deps.Catalog})
	a.usePersistedQueries(srv)
	// Order matters: the shape limits guard the complexity walk, and rate limits spend tokens
	// only on operations that are otherwise acceptable.
	srv.Use(operationLimits{limits: a.cfg.Limits, noIntrospection: a.cfg.Production()})
	// The complexity limit, with the connection costs of setComplexity.
	srv.Use(&costLimit{limit: a.cfg.Limits.MaxComplexity})
	if a.cfg.RateLimit {
		srv.Use(operationRateLimit{a})
	}
	srv.AroundOperations(instrumentOperation)
	srv.AroundResponses(reportCost)
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(a.recoverResolver)
	a.gql = srv
	return srv
}

// usePersistedQueries turns on automatic persisted queries: in Redis by default, or, with
// PERSISTED_QUERIES_ONLY, from the registered list alone.
func (a *App) usePersistedQueries(srv *handler.Server) {
	if a.allowedOps == nil {
		store := sredis.NewPersistedQueries(a.Redis, persistedQueryTTL)
		srv.Use(extension.AutomaticPersistedQuery{Cache: readOnlyQueries{store}})
		srv.AroundOperations(rememberPersistedQuery(store))
		return
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: a.allowedOps})
	srv.Use(onlyAllowedOperations{ops: a.allowedOps})
}

// AroundFields adds a field middleware to the GraphQL server, for instrumentation such as
// tracing. Call it before Serve. It runs around every field with a resolver and every field of
// list type or of object type; plain leaves (strings, ids, integers and booleans read straight
// from the model), and set objects made only of them (money, addresses), are written without it,
// as cmd/generate has them skip gqlgen's per-field machinery.
func (a *App) AroundFields(f graphql.FieldMiddleware) { a.gql.AroundFields(f) }

// readyz answers 200 when Postgres (and its read replica, when configured) and Redis answer, and
// 503 otherwise and while shutting down.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if a.shuttingDown.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := a.Pool.Ping(ctx); err != nil {
		http.Error(w, "postgres unreachable", http.StatusServiceUnavailable)
		return
	}
	if a.Replica != nil {
		if err := a.Replica.Ping(ctx); err != nil {
			http.Error(w, "postgres replica unreachable", http.StatusServiceUnavailable)
			return
		}
	}
	if err := a.Redis.Ping(ctx).Err(); err != nil {
		http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
