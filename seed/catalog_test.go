package seed_test

import (
	"context"
	"testing"

	"storefront/seed"
	"storefront/testsupport"
)

func TestCatalogSeedIsIdempotentAndMeetsTheDemoContract(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	for run := 0; run < 2; run++ {
		if err := seed.Run(ctx, pool, seed.Options{}); err != nil {
			t.Fatalf("seed run %d: %v", run+1, err)
		}
	}
	var products, topLevel, subcategories, sellers, usedSellers, withoutStock, withoutImages, withoutAlt, rated int
	err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM products),
		(SELECT count(*) FROM categories WHERE parent_id IS NULL),
		(SELECT count(*) FROM categories WHERE parent_id IS NOT NULL),
		(SELECT count(*) FROM sellers),
		(SELECT count(DISTINCT seller_id) FROM products),
		(SELECT count(*) FROM products p LEFT JOIN inventory i ON i.product_id = p.id WHERE coalesce(i.available, 0) <= 0),
		(SELECT count(*) FROM products p WHERE NOT EXISTS (SELECT 1 FROM product_images x WHERE x.product_id = p.id)),
		(SELECT count(*) FROM product_images WHERE coalesce(alt_text, '') = ''),
		(SELECT count(*) FROM product_ratings WHERE rating_count > 0)`).
		Scan(&products, &topLevel, &subcategories, &sellers, &usedSellers, &withoutStock, &withoutImages, &withoutAlt, &rated)
	if err != nil {
		t.Fatal(err)
	}
	if products != 200 {
		t.Errorf("products = %d after two runs; want exactly 200", products)
	}
	if topLevel < 8 || subcategories < topLevel {
		t.Errorf("categories: %d top-level, %d below; want at least 8 top-level with subcategories", topLevel, subcategories)
	}
	if sellers < 5 || usedSellers < 5 {
		t.Errorf("sellers = %d, selling = %d; want at least 5", sellers, usedSellers)
	}
	if withoutStock != 0 || withoutImages != 0 || withoutAlt != 0 {
		t.Errorf("products without stock %d, without images %d; images without alt text %d; want none", withoutStock, withoutImages, withoutAlt)
	}
	if rated < 150 {
		t.Errorf("only %d products rated", rated)
	}

	// A larger count extends the same catalog.
	if err := seed.Run(ctx, pool, seed.Options{Products: 260}); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM products`).Scan(&products); err != nil {
		t.Fatal(err)
	}
	if products != 260 {
		t.Errorf("products = %d after seeding 260; want 260", products)
	}
}

// BenchmarkSeedLargeCatalog measures `seed -products 10000` on an empty database.
func BenchmarkSeedLargeCatalog(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		pool, _ := testsupport.NewPool(b)
		b.StartTimer()
		if err := seed.Run(context.Background(), pool, seed.Options{Products: 10000}); err != nil {
			b.Fatal(err)
		}
	}
}
