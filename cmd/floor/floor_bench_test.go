package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"storefront/domain/cart"
	"storefront/resolvers/relay"
	"storefront/seed"
	"storefront/store/postgres"
	"storefront/testsupport"
)

// benchEnv is a server on a seeded catalog, with the floor's handler over the same services.
type benchEnv struct {
	srv     *testsupport.Server
	floor   http.Handler
	graphql http.Handler
	slugs   []string
	ids     []int64
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	cfg := testsupport.Config(b)
	pool, err := postgres.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	if err := seed.Run(context.Background(), pool, seed.Options{Products: 200}); err != nil {
		b.Fatalf("seed: %v", err)
	}
	env := &benchEnv{}
	rows, err := pool.Query(context.Background(), `SELECT id, slug FROM products WHERE published ORDER BY id LIMIT 200`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var slug string
		if err := rows.Scan(&id, &slug); err != nil {
			b.Fatal(err)
		}
		env.ids, env.slugs = append(env.ids, id), append(env.slugs, slug)
	}
	pool.Close()
	env.srv = testsupport.StartServer(b, cfg)
	env.graphql = env.srv.App.Handler()
	env.floor = newFloor(env.srv.App.Catalog(), env.srv.App.Carts, slog.New(slog.NewTextHandler(io.Discard, nil))).routes()
	return env
}

// serve runs one request in process and fails the benchmark on anything but 200 with data.
func serve(b *testing.B, h http.Handler, req *http.Request) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body.String())
	}
}

func graphqlRequest(query string, vars map[string]any) *http.Request {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

const benchProductPage = `query ProductPage($slug: String) { product(slug: $slug) { id slug name description
  price { amount currencyCode } images { url altText } category { id name } seller { id name }
  inventory { available inStock } rating { average count } } }`

const benchCartAdd = `mutation CartAdd($cart: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $cart, lines: $lines) {
  cart { id totalQuantity subtotal { amount currencyCode } lines { id quantity unitPrice { amount } lineTotal { amount } product { id name } } }
  userErrors { code message } } }`

// BenchmarkProductPage is the load generator's ProductPage through the whole GraphQL handler and
// through the plain floor handler, in process: the difference is the GraphQL layer's cost.
func BenchmarkProductPage(b *testing.B) {
	env := newBenchEnv(b)
	b.Run("graphql", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			serve(b, env.graphql, graphqlRequest(benchProductPage, map[string]any{"slug": env.slugs[i%len(env.slugs)]}))
		}
	})
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			serve(b, env.floor, httptest.NewRequest(http.MethodGet, "/product?slug="+env.slugs[i%len(env.slugs)], nil))
		}
	})
}

// BenchmarkCartAdd is the load generator's CartAdd both ways; each cart takes eight lines, then
// a new one is started, as shoppers' carts stay small.
func BenchmarkCartAdd(b *testing.B) {
	env := newBenchEnv(b)
	newCart := func() string {
		res, err := env.srv.App.Carts.Create(context.Background(), cart.Caller{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		return relay.ID(relay.KindCart, res.Cart.ID)
	}
	run := func(b *testing.B, add func(cartID, productID string)) {
		b.ReportAllocs()
		cartID := ""
		for i := 0; b.Loop(); i++ {
			if i%8 == 0 {
				b.StopTimer()
				cartID = newCart()
				b.StartTimer()
			}
			add(cartID, relay.IntID(relay.KindProduct, env.ids[i%len(env.ids)]))
		}
	}
	b.Run("graphql", func(b *testing.B) {
		run(b, func(cartID, productID string) {
			serve(b, env.graphql, graphqlRequest(benchCartAdd, map[string]any{"cart": cartID,
				"lines": []map[string]any{{"productId": productID, "quantity": 1}}}))
		})
	})
	b.Run("floor", func(b *testing.B) {
		run(b, func(cartID, productID string) {
			body, _ := json.Marshal(map[string]any{"lines": []map[string]any{{"productId": productID, "quantity": 1}}})
			serve(b, env.floor, httptest.NewRequest(http.MethodPost, "/cart/"+cartID+"/lines", bytes.NewReader(body)))
		})
	})
}
