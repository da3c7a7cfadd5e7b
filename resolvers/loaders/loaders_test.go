package loaders_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vektah/gqlparser/v2/ast"

	"storefront/domain/apperr"
	"storefront/domain/catalog"
	"storefront/resolvers/loaders"
	"storefront/store/postgres"
	"storefront/testsupport"
)

// insertProducts writes n products, each with stock and one image, and returns their ids.
func insertProducts(t *testing.T, pool *pgxpool.Pool, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var seller, category int64
	if err := pool.QueryRow(ctx, `INSERT INTO sellers (slug, name) VALUES ('s', 'Seller') RETURNING id`).Scan(&seller); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO categories (slug, name) VALUES ('c', 'Things') RETURNING id`).Scan(&category); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i := range ids {
		err := pool.QueryRow(ctx, `INSERT INTO products (slug, name, price, category_id, seller_id)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, fmt.Sprint("p", i), fmt.Sprint("Product ", i), 100*(i+1), category, seller).Scan(&ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO inventory (product_id, on_hand) VALUES ($1, $2)`, ids[i], 10+i); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO product_images (product_id, url) VALUES ($1, $2)`, ids[i], fmt.Sprint("https://img.example/", i)); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// A batch answers every key in the order asked, missing keys included, with one statement.
func TestLoadersAnswerInKeyOrderWithOneStatement(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ids := insertProducts(t, pool, 3)
	const missing = int64(987654)
	l := loaders.NewWithWindow(catalog.NewService(postgres.NewCatalogStore(pool)), 100*time.Millisecond)
	ctx, counter := postgres.WithStatementCounter(context.Background())

	keys := []int64{ids[2], missing, ids[0], ids[1]}
	products, errs := l.Product.LoadMany(ctx, keys)()
	if counter.Count() != 1 {
		t.Errorf("4 products cost %d statements; want 1", counter.Count())
	}
	for i, k := range keys {
		if k == missing {
			if errs == nil || !errors.Is(errs[i], apperr.ErrNotFound) {
				t.Errorf("missing product: %v; want ErrNotFound", errs)
			}
			continue
		}
		if errs != nil && errs[i] != nil || products[i].ID != k {
			t.Errorf("key %d answered with product %d (%v)", k, products[i].ID, errs)
		}
	}

	// A product's stock comes with it, in the same statement.
	for i, k := range keys {
		for j, id := range ids {
			if id == k && products[i].Stock.Available() != 10+j {
				t.Errorf("stock of %d = %d; want %d", k, products[i].Stock.Available(), 10+j)
			}
		}
	}
	before := counter.Count()
	images, errs := l.Images.LoadMany(ctx, keys)()
	if errs != nil || len(images[0]) != 1 || len(images[1]) != 0 || counter.Count() != before+1 {
		t.Errorf("images: %v, %v, %d statements; want one for a product, none for a missing one, in one statement",
			images, errs, counter.Count()-before)
	}

	// Loaded keys come from the cache.
	before = counter.Count()
	if _, err := l.Product.Load(ctx, ids[0])(); err != nil || counter.Count() != before {
		t.Errorf("a cached product cost %d statements (%v)", counter.Count()-before, err)
	}
}

func TestMiddlewareGivesEachRequestFreshLoadersButNotWebsockets(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	src := catalog.NewService(postgres.NewCatalogStore(pool))
	var seen []*loaders.Loaders
	h := loaders.Middleware(src)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen = append(seen, loaders.For(r.Context()))
	}))
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil))
	}
	ws := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	ws.Header.Set("Connection", "Upgrade")
	ws.Header.Set("Upgrade", "websocket")
	h.ServeHTTP(httptest.NewRecorder(), ws)
	if seen[0] == nil || seen[1] == nil || seen[0] == seen[1] {
		t.Errorf("requests got loaders %p and %p; want two fresh sets", seen[0], seen[1])
	}
	if seen[2] != nil {
		t.Errorf("a websocket connection got loaders that would outlive its events")
	}
}

func TestPerEventGivesEachSubscriptionEventFreshLoaders(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ext := loaders.PerEvent{Source: catalog.NewService(postgres.NewCatalogStore(pool))}
	respond := func(op ast.Operation, base context.Context) *loaders.Loaders {
		ctx := graphql.WithOperationContext(base, &graphql.OperationContext{Operation: &ast.OperationDefinition{Operation: op}})
		var got *loaders.Loaders
		ext.InterceptResponse(ctx, func(ctx context.Context) *graphql.Response {
			got = loaders.For(ctx)
			return &graphql.Response{}
		})
		return got
	}
	conn := context.Background()
	first, second := respond(ast.Subscription, conn), respond(ast.Subscription, conn)
	if first == nil || second == nil || first == second {
		t.Errorf("subscription events got loaders %p and %p; want a fresh set each", first, second)
	}
	request := loaders.New(ext.Source)
	if got := respond(ast.Query, loaders.With(context.Background(), request)); got != request {
		t.Errorf("a query's response got other loaders than its request's")
	}
}
