// Package loaders batches the lookups of nested GraphQL fields. A page of 50 products asks for 50
// sellers, 50 image lists, 50 categories; each loader gathers the keys asked for within a short
// window and fetches them with one statement. Loaders live for one HTTP request (Middleware puts
// fresh ones in its context) or for one subscription event (PerEvent), never longer: their cache
// would otherwise serve stale stock and prices.
package loaders

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"storefront/domain/apperr"
	"storefront/domain/catalog"
)

// Source is where the loaders read: the catalog service. Each method returns what exists among
// ids, keyed by id.
type Source interface {
	ProductsByIDs(ctx context.Context, ids []int64) (map[int64]catalog.Product, error)
	CategoriesByIDs(ctx context.Context, ids []int64) (map[int64]catalog.Category, error)
	SellersByIDs(ctx context.Context, ids []int64) (map[int64]catalog.Seller, error)
	ImagesByProductIDs(ctx context.Context, ids []int64) (map[int64][]catalog.Image, error)
}

// Loaders are one request's loaders, each keyed by a database id. A product's stock and rating
// need none: they are read with the product itself.
type Loaders struct {
	// Product loads products whether published or not (orders hold old ones); a
	// missing product fails with apperr.ErrNotFound.
	Product  *dataloader.Loader[int64, catalog.Product]
	Category *dataloader.Loader[int64, catalog.Category]
	Seller   *dataloader.Loader[int64, catalog.Seller]
	// Images is keyed by product id; a product without any has none.
	Images *dataloader.Loader[int64, []catalog.Image]
}

// batchWindow is how long a loader gathers keys before fetching. gqlgen resolves list items and
// sibling fields concurrently, so the keys of one level arrive within microseconds; a short
// window batches them without adding dataloader's default 16 ms to every level of nesting.
const batchWindow = 2 * time.Millisecond

// New returns fresh loaders over src, with empty caches.
func New(src Source) *Loaders { return newWithWindow(src, batchWindow) }

func newWithWindow(src Source, window time.Duration) *Loaders {
	return &Loaders{
		Product:  loader(window, src.ProductsByIDs, notFound[catalog.Product]),
		Category: loader(window, src.CategoriesByIDs, notFound[catalog.Category]),
		Seller:   loader(window, src.SellersByIDs, notFound[catalog.Seller]),
		Images:   loader(window, src.ImagesByProductIDs, none[[]catalog.Image]),
	}
}

func notFound[V any](int64) (V, error) {
	var zero V
	return zero, apperr.ErrNotFound
}

func none[V any](int64) (V, error) {
	var zero V
	return zero, nil
}

// loader wraps a fetch by ids into a dataloader whose batch function answers one result per key,
// in key order, as dataloader requires; missing decides what an absent key yields.
func loader[V any](
	window time.Duration,
	fetch func(context.Context, []int64) (map[int64]V, error),
	missing func(int64) (V, error),
) *dataloader.Loader[int64, V] {
	batch := func(ctx context.Context, keys []int64) []*dataloader.Result[V] {
		found, err := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			switch v, ok := found[k]; {
			case err != nil:
				out[i] = &dataloader.Result[V]{Error: err}
			case ok:
				out[i] = &dataloader.Result[V]{Data: v}
			default:
				v, e := missing(k)
				out[i] = &dataloader.Result[V]{Data: v, Error: e}
			}
		}
		return out
	}
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[int64, V](window))
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the loaders of ctx, or nil when none were put there (a background job, a test
// calling a resolver directly); callers then use New for a fresh set.
func For(ctx context.Context) *Loaders {
	switch l := ctx.Value(ctxKey{}).(type) {
	case *Loaders:
		return l
	case *lazyLoaders:
		return l.get()
	}
	return nil
}

// lazyLoaders makes one set of loaders on first use. Requests and subscription events get these:
// many requests (a cart read, a mutation without product fields) never load anything, and a
// subscription waits, often for minutes, with its next event's context already made.
type lazyLoaders struct {
	once sync.Once
	src  Source
	l    *Loaders
}

func (z *lazyLoaders) get() *Loaders {
	z.once.Do(func() { z.l = New(z.src) })
	return z.l
}

// Middleware gives every HTTP request fresh loaders, made on first use. A websocket upgrade gets none: the
// connection lives for minutes and carries many subscription events, and one cache across them
// would serve the first event's data to all the later ones; PerEvent gives each event its own.
func Middleware(src Source) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &lazyLoaders{src: src})))
		})
	}
}

// PerEvent is a gqlgen extension that gives each response of a subscription fresh loaders: the
// fields of every event are resolved with a context made for that event alone.
type PerEvent struct{ Source Source }

var (
	_ graphql.HandlerExtension    = PerEvent{}
	_ graphql.ResponseInterceptor = PerEvent{}
)

// ExtensionName names the extension for gqlgen.
func (PerEvent) ExtensionName() string { return "LoadersPerEvent" }

// Validate accepts any schema.
func (PerEvent) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse puts fresh loaders in the context of each subscription event. Queries and
// mutations keep the request's loaders from Middleware.
func (e PerEvent) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			ctx = context.WithValue(ctx, ctxKey{}, &lazyLoaders{src: e.Source})
		}
	}
	return next(ctx)
}
