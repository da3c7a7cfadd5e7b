package app_test

import (
	"context"
	"encoding/json"
	"sort"
	"testing"

	"github.com/99designs/gqlgen/client"

	"storefront/seed"
	"storefront/store/postgres"
	"storefront/testsupport"
)

// pageQuery asks for a page of products with every nested field, as a product grid would.
const pageQuery = `query Page($q: String, $first: Int) {
	products(query: $q, first: $first) {
		totalCount
		edges { cursor node { ...P } }
		nodes { id category { name } }
		pageInfo { hasNextPage endCursor }
	}
}
` + productFields

// inProcess runs GraphQL requests through the server's whole HTTP handler (request id, loaders
// middleware, gqlgen) without a network, so the test can put a statement counter in the context.
type inProcess struct{ c *client.Client }

func newInProcess(srv *testsupport.Server) inProcess {
	return inProcess{client.New(srv.App.Handler(), client.Path("/graphql"))}
}

// statements runs query with vars and returns how many SQL statements it cost.
func (p inProcess) statements(t testing.TB, query string, vars map[string]any) (int64, json.RawMessage) {
	t.Helper()
	ctx, counter := postgres.WithStatementCounter(context.Background())
	opts := []client.Option{func(r *client.Request) { r.HTTP = r.HTTP.WithContext(ctx) }}
	for k, v := range vars {
		opts = append(opts, client.Var(k, v))
	}
	resp, err := p.c.RawPost(query, opts...)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	if len(resp.Errors) > 0 && string(resp.Errors) != "null" {
		t.Fatalf("errors: %s", resp.Errors)
	}
	data, _ := json.Marshal(resp.Data)
	return counter.Count(), data
}

func seededServer(t testing.TB, products int) *testsupport.Server {
	t.Helper()
	cfg := testsupport.Config(t)
	pool, err := postgres.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := seed.Run(context.Background(), pool, seed.Options{Products: products}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return testsupport.StartServer(t, cfg)
}

// TestProductPageStatementCount proves the loaders batch: a page of 50 products with every nested
// field costs the same few statements as a page of 5.
func TestProductPageStatementCount(t *testing.T) {
	t.Parallel()
	srv := seededServer(t, 200)
	p := newInProcess(srv)
	// The first request fills the per-process category cache; the pages after it are measured.
	p.statements(t, pageQuery, map[string]any{"first": 1})

	// Browsing, full-text search, and a typo that falls back to similar names (two more
	// statements: the empty full-text page, then the similar names).
	for _, q := range []any{nil, "wireless or laptop or espresso or shoes", "labtop"} {
		small, data := p.statements(t, pageQuery, map[string]any{"first": 5, "q": q})
		var page struct {
			Products struct{ Edges []struct{ Node productJSON } }
		}
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Products.Edges) != 5 || page.Products.Edges[0].Node.Seller.Name == "" || len(page.Products.Edges[0].Node.Images) == 0 {
			t.Fatalf("small page: %s", data)
		}
		large, data := p.statements(t, pageQuery, map[string]any{"first": 50, "q": q})
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Products.Edges) < 9 {
			t.Fatalf("large page has %d products", len(page.Products.Edges))
		}
		t.Logf("query %v: 5 products cost %d statements, 50 cost %d", q, small, large)
		if small != large {
			t.Errorf("query %v: 5 products cost %d statements but 50 cost %d; nested fields are not batched", q, small, large)
		}
		if large > 8 || large == 0 {
			t.Errorf("query %v: a page costs %d statements; want 1..8", q, large)
		}
	}
}

// nodes(ids:) fetches its ids concurrently, so the product loader and the loaders of nested
// fields batch them: far fewer statements than one per product and field.
func TestNodesBatchProducts(t *testing.T) {
	t.Parallel()
	srv := seededServer(t, 200)
	p := newInProcess(srv)
	p.statements(t, pageQuery, map[string]any{"first": 1})
	var page struct {
		Products struct{ Nodes []struct{ ID string } }
	}
	_, data := p.statements(t, `{ products(first: 20) { nodes { id } } }`, nil)
	if err := json.Unmarshal(data, &page); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(page.Products.Nodes))
	for i, n := range page.Products.Nodes {
		ids[i] = n.ID
	}
	n, data := p.statements(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name
		seller { name } category { name } images { url } inventory { available } rating { count } } } }`,
		map[string]any{"ids": ids})
	var got struct {
		Nodes []struct {
			ID     string
			Seller struct{ Name string }
		}
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Nodes) != 20 {
		t.Fatalf("nodes: %s", data)
	}
	for i, node := range got.Nodes {
		if node.ID != ids[i] || node.Seller.Name == "" {
			t.Errorf("nodes[%d] = %+v; want %s with its seller", i, node, ids[i])
		}
	}
	t.Logf("20 product nodes with nested fields cost %d statements", n)
	if n >= 20 {
		t.Errorf("20 product nodes cost %d statements; the loaders do not batch", n)
	}
}

// BenchmarkProductsQuery measures a product grid: 20 products with every nested field, through
// the whole HTTP handler, over a catalog of 10 000 products.
func BenchmarkProductsQuery(b *testing.B) {
	srv := seededServer(b, 10000)
	p := newInProcess(srv)
	p.statements(b, pageQuery, map[string]any{"first": 20})
	var stmts []int64
	b.ResetTimer()
	for b.Loop() {
		n, _ := p.statements(b, pageQuery, map[string]any{"first": 20})
		stmts = append(stmts, n)
	}
	b.StopTimer()
	sort.Slice(stmts, func(i, j int) bool { return stmts[i] < stmts[j] })
	b.ReportMetric(float64(stmts[len(stmts)/2]), "statements/op")
}
