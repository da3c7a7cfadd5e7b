package app_test

import (
	"context"
	"encoding/json"
	"testing"
)

// TestProductPageInOneStatement: a product page by slug reads the product, its stock, rating,
// seller and images in one statement (the category comes from the cached tree), and answers
// exactly what the same page by id answers through the loaders, for products with images and
// without.
func TestProductPageInOneStatement(t *testing.T) {
	t.Parallel()
	srv := seededServer(t, 200)
	p := newInProcess(srv)
	var slugs []string
	rows, err := srv.App.Pool.Query(context.Background(), `SELECT slug FROM products WHERE published ORDER BY id LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		slugs = append(slugs, s)
	}
	// A product without images.
	if _, err := srv.App.Pool.Exec(context.Background(), `DELETE FROM product_images WHERE product_id = (SELECT id FROM products WHERE slug = $1)`, slugs[0]); err != nil {
		t.Fatal(err)
	}
	// The first request fills the per-process category cache.
	p.statements(t, `query($s: String) { product(slug: $s) { category { name } } }`, map[string]any{"s": slugs[0]})

	for _, slug := range slugs {
		n, bySlug := p.statements(t, `query($s: String) { product(slug: $s) { ...P } } `+productFields, map[string]any{"s": slug})
		if n != 1 {
			t.Errorf("product page %s cost %d statements; want 1", slug, n)
		}
		var page struct{ Product struct{ ID string } }
		if err := json.Unmarshal(bySlug, &page); err != nil || page.Product.ID == "" {
			t.Fatalf("product(slug: %q) = %s", slug, bySlug)
		}
		_, byID := p.statements(t, `query($id: ID) { product(id: $id) { ...P } } `+productFields, map[string]any{"id": page.Product.ID})
		if string(bySlug) != string(byID) {
			t.Errorf("by slug:\n%s\nby id:\n%s", bySlug, byID)
		}
	}
	// A missing slug is null, not an error.
	if _, data := p.statements(t, `query { product(slug: "no-such-product") { ...P } } `+productFields, nil); string(data) != `{"product":null}` {
		t.Errorf("missing product = %s", data)
	}
}
