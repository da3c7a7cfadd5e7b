package app_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/resolvers/relay"
	"storefront/seed"
	"storefront/store/postgres"
	"storefront/testsupport"
)

// productFields selects every field of a product, nested ones included.
const productFields = `fragment P on Product {
	id slug name description createdAt
	price { amount currencyCode }
	images { url altText }
	category { id name parent { id name } }
	seller { id name }
	inventory { available inStock }
	rating { average count }
}`

const listQuery = `query List($q: String, $f: ProductFilter, $s: ProductSort, $first: Int, $after: String) {
	products(query: $q, filter: $f, sort: $s, first: $first, after: $after) {
		totalCount
		edges { cursor node { ...P } }
		nodes { id }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
	}
}
` + productFields

type productJSON struct {
	ID          string
	Slug        string
	Name        string
	Description string
	CreatedAt   time.Time
	Price       struct{ Amount, CurrencyCode string }
	Images      []struct {
		URL     string
		AltText *string
	}
	Category struct {
		ID, Name string
		Parent   *struct{ ID, Name string }
	}
	Seller    struct{ ID, Name string }
	Inventory struct {
		Available int
		InStock   bool
	}
	Rating struct {
		Average float64
		Count   int
	}
}

type connectionJSON struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   productJSON
	}
	Nodes    []struct{ ID string }
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

func (c connectionJSON) products() []productJSON {
	out := make([]productJSON, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

func (c connectionJSON) ids() []string {
	out := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// catalogFixture is a server over the seeded demo catalog with two changes made for the tests:
// one product has no stock left and one is unpublished.
type catalogFixture struct {
	srv         *testsupport.Server
	pool        *pgxpool.Pool
	soldOut     string // global id of the product without stock
	unpublished string // slug of the unpublished product
	listed      int    // published products
}

func startCatalog(t *testing.T) *catalogFixture {
	t.Helper()
	cfg := testsupport.Config(t)
	ctx := context.Background()
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := seed.Run(ctx, pool, seed.Options{}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	f := &catalogFixture{pool: pool}
	var soldOut int64
	if err := pool.QueryRow(ctx, `UPDATE inventory SET on_hand = 0, reserved = 0
		WHERE product_id = (SELECT min(id) FROM products) RETURNING product_id`).Scan(&soldOut); err != nil {
		t.Fatal(err)
	}
	f.soldOut = relay.IntID(relay.KindProduct, soldOut)
	if err := pool.QueryRow(ctx, `UPDATE products SET published = false
		WHERE id = (SELECT max(id) FROM products) RETURNING slug`).Scan(&f.unpublished); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM products WHERE published`).Scan(&f.listed); err != nil {
		t.Fatal(err)
	}
	f.srv = testsupport.StartServer(t, cfg)
	return f
}

func (f *catalogFixture) list(t *testing.T, vars map[string]any) connectionJSON {
	t.Helper()
	var out struct{ Products connectionJSON }
	f.srv.Client().Do(t, listQuery, vars).Decode(t, &out)
	if len(out.Products.Nodes) != len(out.Products.Edges) {
		t.Fatalf("nodes and edges differ: %d vs %d", len(out.Products.Nodes), len(out.Products.Edges))
	}
	for i, n := range out.Products.Nodes {
		if n.ID != out.Products.Edges[i].Node.ID {
			t.Fatalf("nodes[%d] = %s, edges[%d].node = %s", i, n.ID, i, out.Products.Edges[i].Node.ID)
		}
	}
	return out.Products
}

// walk pages through a whole listing and returns the products in order, checking the page
// info on the way.
func (f *catalogFixture) walk(t *testing.T, vars map[string]any, pageSize int) ([]productJSON, int) {
	t.Helper()
	var all []productJSON
	v := map[string]any{"first": pageSize}
	for k, x := range vars {
		v[k] = x
	}
	total := -1
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("listing does not end")
		}
		page := f.list(t, v)
		if total >= 0 && page.TotalCount != total {
			t.Fatalf("totalCount changed between pages: %d then %d", total, page.TotalCount)
		}
		total = page.TotalCount
		all = append(all, page.products()...)
		if page.PageInfo.HasPreviousPage != (pages > 0) {
			t.Errorf("page %d: hasPreviousPage = %v", pages, page.PageInfo.HasPreviousPage)
		}
		if !page.PageInfo.HasNextPage {
			break
		}
		if len(page.Edges) != pageSize {
			t.Fatalf("page %d has %d items but claims a next page", pages, len(page.Edges))
		}
		if page.PageInfo.EndCursor == nil || *page.PageInfo.EndCursor != page.Edges[len(page.Edges)-1].Cursor {
			t.Fatalf("endCursor is not the last edge's cursor")
		}
		v["after"] = *page.PageInfo.EndCursor
	}
	return all, total
}

// sqlIDs runs a query returning product ids and gives their global ids.
func (f *catalogFixture) sqlIDs(t *testing.T, query string, args ...any) []string {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, relay.IntID(relay.KindProduct, id))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *catalogFixture) sqlInt(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ids(ps []productJSON) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func noDuplicates(t *testing.T, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("product %s appears twice", id)
		}
		seen[id] = true
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	f := startCatalog(t)

	t.Run("SearchPhrase", func(t *testing.T) {
		t.Parallel()
		got := f.list(t, map[string]any{"q": `"noise cancelling"`, "first": 100})
		phrase := regexp.MustCompile(`(?i)noise[ -]cancelling`)
		for _, p := range got.products() {
			if !phrase.MatchString(p.Name + " " + p.Description) {
				t.Errorf("%q does not contain the phrase", p.Name)
			}
		}
		want := f.sqlInt(t, `SELECT count(*) FROM products WHERE published AND (name || ' ' || description) ~* 'noise[ -]cancelling'`)
		if got.TotalCount != want || want == 0 {
			t.Errorf("totalCount = %d; want %d (and some)", got.TotalCount, want)
		}
		loose := f.list(t, map[string]any{"q": `noise cancelling`, "first": 1})
		if loose.TotalCount < got.TotalCount {
			t.Errorf("unquoted words found %d, fewer than the phrase's %d", loose.TotalCount, got.TotalCount)
		}
	})

	t.Run("SearchExclude", func(t *testing.T) {
		t.Parallel()
		all := f.list(t, map[string]any{"q": "laptop", "first": 100})
		got := f.list(t, map[string]any{"q": "laptop -gaming", "first": 100})
		if got.TotalCount == 0 || got.TotalCount >= all.TotalCount {
			t.Fatalf("laptop -gaming found %d of %d laptops; want some but fewer", got.TotalCount, all.TotalCount)
		}
		// The English stemmer reads gaming, games and game as one word.
		game := regexp.MustCompile(`(?i)\bgam(e|es|ing)\b`)
		for _, p := range got.products() {
			if !strings.Contains(strings.ToLower(p.Name+" "+p.Description), "laptop") || game.MatchString(p.Name+" "+p.Description) {
				t.Errorf("%q: %q should mention laptops and not gaming", p.Name, p.Description)
			}
		}
	})

	t.Run("SearchOr", func(t *testing.T) {
		t.Parallel()
		got := f.list(t, map[string]any{"q": "espresso or kettle", "first": 100})
		var espresso, kettle bool
		for _, p := range got.products() {
			// The category's name counts too: "Coffee & Espresso" holds the coffee makers.
			text := strings.ToLower(p.Name + " " + p.Description + " " + p.Category.Name)
			espresso = espresso || strings.Contains(text, "espresso")
			kettle = kettle || strings.Contains(text, "kettle")
			if !strings.Contains(text, "espresso") && !strings.Contains(text, "kettle") {
				t.Errorf("%q matches neither word", p.Name)
			}
		}
		if !espresso || !kettle {
			t.Errorf("want both espresso and kettle products; espresso %v, kettle %v", espresso, kettle)
		}
	})

	t.Run("SearchRanksNamesFirst", func(t *testing.T) {
		t.Parallel()
		got := f.list(t, map[string]any{"q": "headphones", "first": 5})
		if len(got.Edges) == 0 {
			t.Fatal("no headphones")
		}
		for _, p := range got.products() {
			if !strings.Contains(p.Name, "Headphones") {
				t.Errorf("%q ranks in the top 5 without the word in its name", p.Name)
			}
		}
	})

	t.Run("SearchFindsByParentCategory", func(t *testing.T) {
		t.Parallel()
		got := f.list(t, map[string]any{"q": "audio", "first": 100})
		if got.TotalCount == 0 {
			t.Fatal("searching a top-level category's name finds nothing")
		}
		for _, p := range got.products() {
			if p.Category.Parent == nil || p.Category.Parent.Name != "Audio" {
				t.Errorf("%q is in %q, not under Audio", p.Name, p.Category.Name)
			}
		}
	})

	t.Run("SearchTypoFallsBackToSimilarNames", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{"labtop", `"labtop"`} {
			got := f.list(t, map[string]any{"q": q, "first": 100})
			if got.TotalCount == 0 || len(got.Edges) != got.TotalCount {
				t.Fatalf("%s: found %d (total %d)", q, len(got.Edges), got.TotalCount)
			}
			for _, p := range got.products() {
				if !strings.Contains(p.Name, "Laptop") {
					t.Errorf("%s found %q", q, p.Name)
				}
			}
		}
		if got := f.list(t, map[string]any{"q": "zzzzqqq", "first": 5}); got.TotalCount != 0 || len(got.Edges) != 0 {
			t.Errorf("nonsense found %d products", got.TotalCount)
		}
	})

	t.Run("FilterCategoryIncludesSubcategories", func(t *testing.T) {
		t.Parallel()
		var audio, headphones int64
		if err := f.pool.QueryRow(context.Background(), `SELECT (SELECT id FROM categories WHERE slug = 'audio'), (SELECT id FROM categories WHERE slug = 'headphones')`).Scan(&audio, &headphones); err != nil {
			t.Fatal(err)
		}
		got := f.list(t, map[string]any{"f": map[string]any{"categoryIds": []string{relay.IntID(relay.KindCategory, audio)}}, "first": 100})
		want := f.sqlInt(t, `SELECT count(*) FROM products p JOIN categories c ON c.id = p.category_id WHERE p.published AND c.parent_id = $1`, audio)
		if got.TotalCount != want || want == 0 {
			t.Errorf("Audio: totalCount = %d; want %d products of its subcategories", got.TotalCount, want)
		}
		subs := map[string]bool{}
		for _, p := range got.products() {
			if p.Category.Parent == nil || p.Category.Parent.Name != "Audio" {
				t.Errorf("%q is in %q", p.Name, p.Category.Name)
			}
			subs[p.Category.Name] = true
		}
		if len(subs) < 2 {
			t.Errorf("Audio listing covers subcategories %v; want several", subs)
		}
		leaf := f.list(t, map[string]any{"f": map[string]any{"categoryIds": []string{relay.IntID(relay.KindCategory, headphones)}}, "first": 100})
		for _, p := range leaf.products() {
			if p.Category.Name != "Headphones" {
				t.Errorf("%q is in %q", p.Name, p.Category.Name)
			}
		}
		if leaf.TotalCount == 0 || leaf.TotalCount >= got.TotalCount {
			t.Errorf("Headphones %d, Audio %d", leaf.TotalCount, got.TotalCount)
		}
		missing := f.list(t, map[string]any{"f": map[string]any{"categoryIds": []string{relay.IntID(relay.KindCategory, 999999)}}})
		if missing.TotalCount != 0 {
			t.Errorf("an unknown category matched %d products", missing.TotalCount)
		}
	})

	t.Run("FilterSeller", func(t *testing.T) {
		t.Parallel()
		var seller int64
		if err := f.pool.QueryRow(context.Background(), `SELECT id FROM sellers WHERE slug = 'bluewave-audio'`).Scan(&seller); err != nil {
			t.Fatal(err)
		}
		sid := relay.IntID(relay.KindSeller, seller)
		got := f.list(t, map[string]any{"f": map[string]any{"sellerIds": []string{sid}}, "first": 100})
		want := f.sqlInt(t, `SELECT count(*) FROM products WHERE published AND seller_id = $1`, seller)
		if got.TotalCount != want || want == 0 {
			t.Errorf("totalCount = %d; want %d", got.TotalCount, want)
		}
		for _, p := range got.products() {
			if p.Seller.ID != sid || p.Seller.Name != "Bluewave Audio" {
				t.Errorf("%q is sold by %+v", p.Name, p.Seller)
			}
		}
	})

	t.Run("FilterPriceRange", func(t *testing.T) {
		t.Parallel()
		got := f.list(t, map[string]any{"f": map[string]any{"minPrice": "100", "maxPrice": "250.50"}, "first": 100})
		want := f.sqlInt(t, `SELECT count(*) FROM products WHERE published AND price BETWEEN 10000 AND 25050`)
		if got.TotalCount != want || want == 0 {
			t.Errorf("totalCount = %d; want %d", got.TotalCount, want)
		}
		for _, p := range got.products() {
			var cents int64
			var whole, frac int64
			if _, err := fmt.Sscanf(p.Price.Amount, "%d.%d", &whole, &frac); err != nil {
				t.Fatalf("price %q: %v", p.Price.Amount, err)
			}
			cents = whole*100 + frac
			if cents < 10000 || cents > 25050 || p.Price.CurrencyCode != "USD" {
				t.Errorf("%q costs %s %s", p.Name, p.Price.Amount, p.Price.CurrencyCode)
			}
		}
	})

	t.Run("FilterInStock", func(t *testing.T) {
		t.Parallel()
		in := f.list(t, map[string]any{"f": map[string]any{"inStock": true}, "first": 100})
		if in.TotalCount != f.listed-1 {
			t.Errorf("in stock: %d; want %d", in.TotalCount, f.listed-1)
		}
		for _, p := range in.products() {
			if !p.Inventory.InStock || p.Inventory.Available <= 0 || p.ID == f.soldOut {
				t.Errorf("%q listed as in stock with %+v", p.Name, p.Inventory)
			}
		}
		out := f.list(t, map[string]any{"f": map[string]any{"inStock": false}})
		if out.TotalCount != 1 || len(out.Edges) != 1 || out.Edges[0].Node.ID != f.soldOut || out.Edges[0].Node.Inventory.InStock {
			t.Errorf("out of stock: %+v; want only %s", out.ids(), f.soldOut)
		}
	})

	t.Run("FiltersCombineWithSearch", func(t *testing.T) {
		t.Parallel()
		got := f.list(t, map[string]any{"q": "laptop", "f": map[string]any{"maxPrice": "1000", "inStock": true}, "s": "PRICE_ASC", "first": 100})
		want := f.sqlInt(t, `SELECT count(*) FROM products p JOIN inventory i ON i.product_id = p.id
			WHERE p.published AND p.search @@ websearch_to_tsquery('english', 'laptop') AND p.price <= 100000 AND i.available > 0`)
		if got.TotalCount != want || want == 0 {
			t.Errorf("totalCount = %d; want %d", got.TotalCount, want)
		}
	})

	// Every sort, walked across pages, gives exactly the order the database gives for its key.
	sorts := map[string]string{
		"PRICE_ASC":    `ORDER BY p.price ASC, p.id ASC`,
		"PRICE_DESC":   `ORDER BY p.price DESC, p.id DESC`,
		"NEWEST":       `ORDER BY p.created_at DESC, p.id DESC`,
		"RELEVANCE":    `ORDER BY p.created_at DESC, p.id DESC`,
		"RATING":       `ORDER BY coalesce(r.average, 0) DESC, coalesce(r.rating_count, 0) DESC, p.id DESC`,
		"BEST_SELLING": `ORDER BY p.sold_count DESC, p.id DESC`,
	}
	for sort, order := range sorts {
		t.Run("Sort"+sort, func(t *testing.T) {
			t.Parallel()
			got, total := f.walk(t, map[string]any{"s": sort}, 37)
			want := f.sqlIDs(t, `SELECT p.id FROM products p LEFT JOIN product_ratings r ON r.product_id = p.id WHERE p.published `+order)
			if total != f.listed || len(got) != f.listed {
				t.Errorf("walked %d products, totalCount %d; want %d", len(got), total, f.listed)
			}
			noDuplicates(t, ids(got))
			if !slices.Equal(ids(got), want) {
				t.Errorf("order differs from the database's %s", order)
			}
		})
	}

	t.Run("SortRelevanceWhenSearching", func(t *testing.T) {
		t.Parallel()
		got, total := f.walk(t, map[string]any{"q": "wireless bluetooth or speaker"}, 7)
		want := f.sqlIDs(t, `SELECT p.id FROM products p, websearch_to_tsquery('english', 'wireless bluetooth or speaker') q
			WHERE p.published AND p.search @@ q ORDER BY ts_rank_cd(p.search, q) DESC, p.id DESC`)
		if total != len(want) || len(want) < 10 {
			t.Fatalf("totalCount = %d; want %d (and more than one page)", total, len(want))
		}
		noDuplicates(t, ids(got))
		if !slices.Equal(ids(got), want) {
			t.Errorf("relevance order differs from ts_rank_cd's")
		}
	})

	t.Run("PagingTypoFallback", func(t *testing.T) {
		t.Parallel()
		got, total := f.walk(t, map[string]any{"q": "labtop"}, 2)
		if total == 0 || len(got) != total {
			t.Fatalf("walked %d of %d", len(got), total)
		}
		noDuplicates(t, ids(got))
	})

	t.Run("PagingAcrossFilteredSortedPages", func(t *testing.T) {
		t.Parallel()
		filter := map[string]any{"minPrice": "20", "maxPrice": "500"}
		got, total := f.walk(t, map[string]any{"s": "PRICE_DESC", "f": filter}, 10)
		want := f.sqlIDs(t, `SELECT id FROM products WHERE published AND price BETWEEN 2000 AND 50000 ORDER BY price DESC, id DESC`)
		if total != len(want) || !slices.Equal(ids(got), want) {
			t.Errorf("walked %d (total %d); want the database's %d in order", len(got), total, len(want))
		}
		empty := f.list(t, map[string]any{"first": 0})
		if len(empty.Edges) != 0 || !empty.PageInfo.HasNextPage || empty.TotalCount != f.listed || empty.PageInfo.EndCursor != nil {
			t.Errorf("first: 0 = %+v", empty.PageInfo)
		}
	})

	t.Run("ProductByIDAndSlug", func(t *testing.T) {
		t.Parallel()
		page := f.list(t, map[string]any{"first": 1, "s": "PRICE_DESC"})
		want := page.Edges[0].Node
		q := `query($id: ID, $slug: String) { product(id: $id, slug: $slug) { ...P } }` + productFields
		for _, vars := range []map[string]any{{"id": want.ID}, {"slug": want.Slug}} {
			var out struct{ Product *productJSON }
			f.srv.Client().Do(t, q, vars).Decode(t, &out)
			if out.Product == nil || out.Product.ID != want.ID || out.Product.Slug != want.Slug || out.Product.Price != want.Price ||
				len(out.Product.Images) == 0 || out.Product.Seller.Name == "" || out.Product.Category.Name == "" {
				t.Errorf("product(%v) = %+v; want %+v", vars, out.Product, want)
			}
		}
		for _, vars := range []map[string]any{
			{"slug": "no-such-product"},
			{"slug": f.unpublished},
			{"id": relay.IntID(relay.KindProduct, 999999)},
			{"id": relay.IntID(relay.KindSeller, 1)},
		} {
			var out struct{ Product *productJSON }
			f.srv.Client().Do(t, q, vars).Decode(t, &out)
			if out.Product != nil {
				t.Errorf("product(%v) = %q; want null", vars, out.Product.Name)
			}
		}
	})

	t.Run("NodeForEachKind", func(t *testing.T) {
		t.Parallel()
		p := f.list(t, map[string]any{"first": 1}).Edges[0].Node
		q := `query($id: ID!) { node(id: $id) { __typename id
			... on Product { name }
			... on Category { name parent { id } }
			... on Seller { name } } }`
		for _, want := range []struct{ id, typename, name string }{
			{p.ID, "Product", p.Name},
			{p.Category.ID, "Category", p.Category.Name},
			{p.Category.Parent.ID, "Category", p.Category.Parent.Name},
			{p.Seller.ID, "Seller", p.Seller.Name},
		} {
			var out struct {
				Node *struct {
					Typename string `json:"__typename"`
					ID, Name string
				}
			}
			f.srv.Client().Do(t, q, map[string]any{"id": want.id}).Decode(t, &out)
			if out.Node == nil || out.Node.Typename != want.typename || out.Node.ID != want.id || out.Node.Name != want.name {
				t.Errorf("node(%s) = %+v; want %s %q", want.id, out.Node, want.typename, want.name)
			}
		}
		for _, id := range []string{
			relay.IntID(relay.KindProduct, 999999), relay.IntID(relay.KindCategory, 999999),
			relay.IntID(relay.KindSeller, 999999), relay.ID(relay.KindProduct, "x"),
		} {
			var out struct{ Node *struct{ ID string } }
			f.srv.Client().Do(t, q, map[string]any{"id": id}).Decode(t, &out)
			if out.Node != nil {
				t.Errorf("node(%s) = %+v; want null", id, out.Node)
			}
		}
	})

	t.Run("CategoryTree", func(t *testing.T) {
		t.Parallel()
		var out struct {
			Categories []struct {
				ID, Slug, Name string
				Parent         *struct{ ID string }
				Children       []struct {
					ID, Name string
					Parent   struct{ ID string }
					Children []struct{ ID string }
					Products struct{ TotalCount int }
				}
				Products struct {
					TotalCount int
					Nodes      []struct {
						Category struct{ Parent *struct{ ID string } }
					}
				}
			}
		}
		f.srv.Client().Do(t, `{ categories { id slug name parent { id }
			children { id name parent { id } children { id } products(first: 1) { totalCount } }
			products(first: 100) { totalCount nodes { category { parent { id } } } } } }`, nil).Decode(t, &out)
		if len(out.Categories) < 8 {
			t.Fatalf("%d top-level categories; want at least 8", len(out.Categories))
		}
		sum := 0
		for _, c := range out.Categories {
			if c.Parent != nil || len(c.Children) == 0 {
				t.Errorf("%s: parent %v, %d children", c.Name, c.Parent, len(c.Children))
			}
			childSum := 0
			for _, ch := range c.Children {
				if ch.Parent.ID != c.ID || len(ch.Children) != 0 {
					t.Errorf("%s > %s: parent %s, %d children", c.Name, ch.Name, ch.Parent.ID, len(ch.Children))
				}
				childSum += ch.Products.TotalCount
			}
			if c.Products.TotalCount != childSum || childSum == 0 {
				t.Errorf("%s lists %d products; its subcategories hold %d", c.Name, c.Products.TotalCount, childSum)
			}
			for _, n := range c.Products.Nodes {
				if n.Category.Parent == nil || n.Category.Parent.ID != c.ID {
					t.Errorf("%s lists a product of another category", c.Name)
				}
			}
			sum += c.Products.TotalCount
		}
		if sum != f.listed {
			t.Errorf("categories hold %d products; %d are listed", sum, f.listed)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		other := f.list(t, map[string]any{"first": 1, "s": "PRICE_ASC"}).PageInfo.EndCursor
		for _, tc := range []struct {
			name, query string
			vars        map[string]any
			code        string
			mention     string
		}{
			{"first over 100", listQuery, map[string]any{"first": 101}, "BAD_USER_INPUT", "first"},
			{"negative first", listQuery, map[string]any{"first": -1}, "BAD_USER_INPUT", "first"},
			{"garbage cursor", listQuery, map[string]any{"after": "not-a-cursor"}, "BAD_USER_INPUT", "cursor"},
			{"cursor of another sort", listQuery, map[string]any{"after": *other, "s": "NEWEST"}, "BAD_USER_INPUT", "cursor"},
			{"cursor of a listing without search", listQuery, map[string]any{"after": *other, "s": "PRICE_ASC", "q": "laptop"}, "BAD_USER_INPUT", "cursor"},
			{"negative price", listQuery, map[string]any{"f": map[string]any{"minPrice": "-5"}}, "BAD_USER_INPUT", "negative"},
			{"malformed price", listQuery, map[string]any{"f": map[string]any{"maxPrice": "12,50"}}, "BAD_USER_INPUT", "maxPrice"},
			{"too many decimals", listQuery, map[string]any{"f": map[string]any{"maxPrice": "1.999"}}, "BAD_USER_INPUT", "maxPrice"},
			{"inverted price range", listQuery, map[string]any{"f": map[string]any{"minPrice": "50", "maxPrice": "10"}}, "BAD_USER_INPUT", "minPrice"},
			{"product id as category", listQuery, map[string]any{"f": map[string]any{"categoryIds": []string{f.soldOut}}}, "BAD_USER_INPUT", "categoryIds"},
			{"malformed seller id", listQuery, map[string]any{"f": map[string]any{"sellerIds": []string{"%%%"}}}, "BAD_USER_INPUT", "sellerIds"},
			{"overlong search", listQuery, map[string]any{"q": strings.Repeat("laptop ", 40)}, "BAD_USER_INPUT", "query"},
			{"unknown sort in a variable", listQuery, map[string]any{"s": "CHEAPEST"}, "BAD_USER_INPUT", "ProductSort"},
			{"unknown sort written inline", `{ products(sort: CHEAPEST) { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED", "CHEAPEST"},
			{"id and slug together", `{ product(id: "UHJvZHVjdDox", slug: "x") { id } }`, nil, "BAD_USER_INPUT", "slug"},
			{"neither id nor slug", `{ product { id } }`, nil, "BAD_USER_INPUT", "slug"},
		} {
			resp := f.srv.Client().Do(t, tc.query, tc.vars)
			if resp.ErrorCode() != tc.code {
				t.Errorf("%s: code %q; want %s (%+v)", tc.name, resp.ErrorCode(), tc.code, resp.Errors)
				continue
			}
			msg := resp.Errors[0].Message
			if !strings.Contains(msg, tc.mention) || strings.Contains(msg, "internal") || strings.Contains(strings.ToLower(msg), "sql") {
				t.Errorf("%s: message %q should mention %q and nothing internal", tc.name, msg, tc.mention)
			}
			if resp.Status >= 500 {
				t.Errorf("%s: HTTP %d", tc.name, resp.Status)
			}
		}
	})
}

// TestProductCursorsSurviveNewProducts shows that keyset cursors stay stable: a product added
// while a shopper pages through NEWEST neither repeats an item nor hides one on the next page.
func TestProductCursorsSurviveNewProducts(t *testing.T) {
	t.Parallel()
	f := startCatalog(t)
	first := f.list(t, map[string]any{"s": "NEWEST", "first": 10})
	if _, err := f.pool.Exec(context.Background(), `INSERT INTO products (slug, name, description, price, category_id, seller_id)
		SELECT 'brand-new-laptop', 'Brand New Laptop', 'Just in.', 99900, category_id, seller_id FROM products LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	second := f.list(t, map[string]any{"s": "NEWEST", "first": 10, "after": *first.PageInfo.EndCursor})
	want := f.sqlIDs(t, `SELECT id FROM products WHERE published AND slug <> 'brand-new-laptop' ORDER BY created_at DESC, id DESC LIMIT 20`)
	got := append(first.ids(), second.ids()...)
	if !slices.Equal(got, want) {
		t.Errorf("pages across an insert: %v; want %v", got, want)
	}
	if second.TotalCount != f.listed+1 {
		t.Errorf("totalCount = %d; want %d with the new product", second.TotalCount, f.listed+1)
	}
	// The new product leads a fresh listing, and search finds it at once.
	fresh := f.list(t, map[string]any{"s": "NEWEST", "first": 1, "q": "brand new laptop"})
	if len(fresh.Edges) != 1 || fresh.Edges[0].Node.Name != "Brand New Laptop" {
		t.Errorf("fresh listing starts with %+v", fresh.ids())
	}
}
