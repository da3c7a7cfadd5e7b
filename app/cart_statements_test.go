package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/client"

	"storefront/store/postgres"
)

// A cart add whose answer shows the lines' products reads them once, inside the change's
// transaction: the answer costs the transaction's seven statements and no separate product
// read, and shows each product as it is in the database, the one just added included.
func TestCartAddReadsLineProductsOnce(t *testing.T) {
	t.Parallel()
	env := newCartEnv(t, nil)
	ps := insertProducts(t, env.pool, productSpec{price: 1250, stock: 10}, productSpec{price: 990, stock: 4})
	ctx := context.Background()
	for i, p := range ps {
		if _, err := env.pool.Exec(ctx, `UPDATE products SET name = $2 WHERE id = $1`, p.Key, fmt.Sprintf("Item %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c := client.New(env.srv.App.Handler(), client.Path("/graphql"))
	type payload struct {
		Cart struct {
			ID    string
			Lines []struct {
				Quantity int
				Product  struct {
					ID, Name string
					Price    struct{ Amount string }
				}
			}
		}
	}
	add := func(query string, vars map[string]any) (int64, payload) {
		t.Helper()
		sctx, statements := postgres.WithStatementCounter(ctx)
		opts := []client.Option{func(r *client.Request) { r.HTTP = r.HTTP.WithContext(sctx) }}
		for k, v := range vars {
			opts = append(opts, client.Var(k, v))
		}
		var out map[string]payload
		if err := c.Post(query, &out, opts...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		for _, p := range out {
			return statements.Count(), p
		}
		t.Fatal("no payload")
		return 0, payload{}
	}
	_, created := add(`mutation { cartCreate { cart { id } } }`, nil)

	const withProducts = `mutation Add($cart: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $cart, lines: $lines) {
		cart { id lines { quantity product { id name price { amount } } } } } }`
	for i, p := range ps {
		n, got := add(withProducts, map[string]any{"cart": created.Cart.ID, "lines": []map[string]any{line(p.ID, 1)}})
		if n != 8 {
			t.Errorf("add %d cost %d statements; want 8 (BEGIN, generic plans, lock, lines, products, insert, version, COMMIT)", i, n)
		}
		if len(got.Cart.Lines) != i+1 {
			t.Fatalf("add %d: %d lines, want %d", i, len(got.Cart.Lines), i+1)
		}
		for j, l := range got.Cart.Lines {
			want := ps[j]
			if l.Product.ID != want.ID || l.Product.Name != fmt.Sprintf("Item %d", j) || l.Product.Price.Amount != amount(want.Price) {
				t.Errorf("add %d, line %d shows %+v; want %s named Item %d at %s", i, j, l.Product, want.ID, j, amount(want.Price))
			}
		}
	}

	// Without the products in the answer the change reads the narrow rows and nothing else.
	n, got := add(`mutation Add($cart: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $cart, lines: $lines) {
		cart { id lines { quantity } } } }`, map[string]any{"cart": created.Cart.ID, "lines": []map[string]any{line(ps[0].ID, 1)}})
	if n != 8 || len(got.Cart.Lines) != 2 || got.Cart.Lines[0].Quantity != 2 {
		t.Errorf("add without products: %d statements, lines %+v; want 8 and quantity 2 on the first", n, got.Cart.Lines)
	}
}
