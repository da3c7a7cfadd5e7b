package app

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"storefront/graph"
	"storefront/resolvers"
	"storefront/resolvers/loaders"
)

// routes is the whole HTTP surface in one place.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	// Every GraphQL request gets fresh loaders; subscription events get theirs from PerEvent.
	mux.Handle("/graphql", a.authenticate(loaders.Middleware(a.deps.Catalog)(a.graphqlHandler())))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	if !a.cfg.Production() {
		mux.Handle("GET /{$}", playground.Handler("Storefront", "/graphql"))
	}
	return a.requestID(mux)
}

// graphqlHandler builds the gqlgen server with explicit transports: GET carries queries only
// (gqlgen refuses mutations over GET), POST carries JSON, and websockets carry subscriptions in
// both the graphql-transport-ws and the legacy graphql-ws protocols.
func (a *App) graphqlHandler() http.Handler {
	res := resolvers.New(a.deps)
	srv := handler.New(graph.NewExecutableSchema(res.Config()))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              a.websocketInit,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if !a.cfg.Production() {
		srv.Use(extension.Introspection{})
	}
	srv.Use(loaders.PerEvent{Source: a.deps.Catalog})
	srv.SetErrorPresenter(resolvers.PresentError)
	return srv
}

// readyz answers 200 when Postgres and Redis both answer, and 503 while shutting down.
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
	if err := a.Redis.Ping(ctx).Err(); err != nil {
		http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
