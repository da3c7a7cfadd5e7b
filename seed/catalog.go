package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func init() { register(20, "catalog", seedCatalog) }

// catalogEpoch is when the newest demo product was listed; older ones go back from it, so the
// NEWEST sort has a fixed, distinct order on every run.
var catalogEpoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// seedCatalog writes the sellers, the category tree and opts.Products products with images,
// stock and ratings. Rows are matched by slug, so a second run adds only what is missing, and a
// run with a larger count extends the catalog. Products and images travel by COPY into
// temporary tables, then one INSERT … SELECT each: ten thousand products take seconds.
func seedCatalog(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// One seeding at a time per database; a concurrent run waits, then finds the rows there.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('seed catalog'))`); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if err := seedSellersAndCategories(ctx, tx); err != nil {
			return err
		}
		products, images := demoProducts(opts.Products)
		if _, err := tx.Exec(ctx, `
			CREATE TEMP TABLE seed_products (
				slug text, name text, description text, price bigint, category_slug text, seller_slug text,
				sold_count bigint, created_at timestamptz, on_hand int, rating_count int, rating_sum int
			) ON COMMIT DROP;
			CREATE TEMP TABLE seed_images (product_slug text, position int, url text, alt_text text) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("staging tables: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_products"},
			[]string{"slug", "name", "description", "price", "category_slug", "seller_slug", "sold_count", "created_at", "on_hand", "rating_count", "rating_sum"},
			pgx.CopyFromRows(products)); err != nil {
			return fmt.Errorf("copy products: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_images"},
			[]string{"product_slug", "position", "url", "alt_text"}, pgx.CopyFromRows(images)); err != nil {
			return fmt.Errorf("copy images: %w", err)
		}
		for _, stmt := range []struct{ what, sql string }{
			{"products", `INSERT INTO products (slug, name, description, price, category_id, seller_id, sold_count, created_at, updated_at)
				SELECT s.slug, s.name, s.description, s.price, c.id, sl.id, s.sold_count, s.created_at, s.created_at
				FROM seed_products s
				JOIN categories c ON c.slug = s.category_slug
				JOIN sellers sl ON sl.slug = s.seller_slug
				ORDER BY s.created_at
				ON CONFLICT (slug) DO NOTHING`},
			{"inventory", `INSERT INTO inventory (product_id, on_hand)
				SELECT p.id, s.on_hand FROM seed_products s JOIN products p ON p.slug = s.slug
				ON CONFLICT (product_id) DO NOTHING`},
			{"ratings", `INSERT INTO product_ratings (product_id, rating_count, rating_sum)
				SELECT p.id, s.rating_count, s.rating_sum FROM seed_products s JOIN products p ON p.slug = s.slug
				ON CONFLICT (product_id) DO NOTHING`},
			{"images", `INSERT INTO product_images (product_id, position, url, alt_text)
				SELECT p.id, si.position, si.url, si.alt_text
				FROM seed_images si JOIN products p ON p.slug = si.product_slug
				WHERE NOT EXISTS (SELECT 1 FROM product_images x WHERE x.product_id = p.id)`},
		} {
			if _, err := tx.Exec(ctx, stmt.sql); err != nil {
				return fmt.Errorf("insert %s: %w", stmt.what, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// After a bulk load: fresh statistics, so the first queries get good plans, and a current
	// visibility map, so counts can use index-only scans, without waiting for autovacuum to
	// notice thousands of new rows. VACUUM cannot run inside the transaction.
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) products, inventory, product_ratings, product_images, categories, sellers`); err != nil {
		return fmt.Errorf("vacuum catalog: %w", err)
	}
	return nil
}

func seedSellersAndCategories(ctx context.Context, tx pgx.Tx) error {
	for _, s := range sellerSeeds {
		if _, err := tx.Exec(ctx, `INSERT INTO sellers (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING`, s.slug, s.name); err != nil {
			return fmt.Errorf("insert seller %s: %w", s.slug, err)
		}
	}
	for i, top := range categorySeeds {
		if _, err := tx.Exec(ctx, `INSERT INTO categories (slug, name, position) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING`,
			top.slug, top.name, i); err != nil {
			return fmt.Errorf("insert category %s: %w", top.slug, err)
		}
		for j, leaf := range top.leaves {
			if _, err := tx.Exec(ctx, `INSERT INTO categories (parent_id, slug, name, position)
				SELECT id, $2, $3, $4 FROM categories WHERE slug = $1
				ON CONFLICT (slug) DO NOTHING`, top.slug, leaf.slug, leaf.name, j); err != nil {
				return fmt.Errorf("insert category %s: %w", leaf.slug, err)
			}
		}
	}
	return nil
}

type leafRef struct {
	top  *topSeed
	leaf *leafSeed
}

// demoProducts returns the staging rows of n products and of their images. Product i goes to
// subcategory i mod the number of subcategories, so every one of them fills evenly.
func demoProducts(n int) (products, images [][]any) {
	var leaves []leafRef
	for i := range categorySeeds {
		for j := range categorySeeds[i].leaves {
			leaves = append(leaves, leafRef{&categorySeeds[i], &categorySeeds[i].leaves[j]})
		}
	}
	products = make([][]any, 0, n)
	images = make([][]any, 0, 2*n)
	for i := range n {
		ref := leaves[i%len(leaves)]
		// A source per product: product i is the same whatever n is.
		rng := rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))
		l := ref.leaf
		brand, line, variant := pick(rng, l.brands), pick(rng, l.lines), pick(rng, l.variants)
		name := fmt.Sprintf("%s %s %s (%s)", brand, line, l.noun, variant)
		slug := slugify(name) + "-" + strconv.Itoa(i+1)

		feats := rng.Perm(len(l.features))[:3]
		desc := fmt.Sprintf("The %s %s is a %s %s with %s, %s and %s. %s",
			brand, line, pick(rng, l.adjectives), strings.ToLower(l.noun),
			l.features[feats[0]], l.features[feats[1]], l.features[feats[2]], pick(rng, closings))

		dollars := l.minPrice + rng.IntN(l.maxPrice-l.minPrice+1)
		cents := int64(dollars)*100 + 99
		if rng.IntN(4) == 0 {
			cents = int64(dollars) * 100
		}
		ratings := rng.IntN(400)
		ratingSum := 3*ratings + rng.IntN(2*ratings+1) // an average between 3 and 5 stars
		products = append(products, []any{
			slug, name, desc, cents, l.slug, pick(rng, ref.top.sellers),
			int64(rng.IntN(5000)), catalogEpoch.Add(-time.Duration(i) * 37 * time.Minute),
			5 + rng.IntN(196), ratings, ratingSum,
		})
		for k := range 1 + rng.IntN(3) {
			images = append(images, []any{
				slug, k,
				fmt.Sprintf("https://picsum.photos/seed/%s-%d/800/800", slug, k+1),
				fmt.Sprintf("%s, %s", name, imageViews[k%len(imageViews)]),
			})
		}
	}
	return products, images
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// slugify lower-cases s and keeps letters and digits, joining words with single hyphens.
func slugify(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) && r < unicode.MaxASCII || unicode.IsDigit(r) {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
			continue
		}
		hyphen = true
	}
	return b.String()
}
