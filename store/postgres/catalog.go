package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/apperr"
	"storefront/domain/catalog"
	"storefront/domain/money"
)

// CatalogStore implements catalog.Repository.
type CatalogStore struct {
	pool *pgxpool.Pool
}

// NewCatalogStore returns the catalog store over pool.
func NewCatalogStore(pool *pgxpool.Pool) *CatalogStore { return &CatalogStore{pool: pool} }

var _ catalog.Repository = (*CatalogStore)(nil)

// productColumns reads a product with its stock and rating aggregate, from `products p` joined
// to `inventory i` and `product_ratings r`.
const productColumns = `p.id, p.slug, p.name, p.description, p.price, p.category_id, p.seller_id,
	p.published, p.sold_count, p.created_at,
	coalesce(i.on_hand, 0) AS on_hand, coalesce(i.reserved, 0) AS reserved,
	coalesce(r.rating_count, 0) AS rating_count, coalesce((r.average * 100)::bigint, 0) AS avg_h`

const productJoins = `products p
	LEFT JOIN inventory i ON i.product_id = p.id
	LEFT JOIN product_ratings r ON r.product_id = p.id`

func scanProduct(row pgx.Row, extra ...any) (catalog.Product, error) {
	var p catalog.Product
	var price int64
	dest := []any{&p.ID, &p.Slug, &p.Name, &p.Description, &price, &p.CategoryID, &p.SellerID,
		&p.Published, &p.SoldCount, &p.CreatedAt,
		&p.Stock.OnHand, &p.Stock.Reserved,
		&p.Rating.Count, &p.Rating.AverageHundredths}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return catalog.Product{}, err
	}
	p.Price = money.Amount(price)
	p.CreatedAt = p.CreatedAt.UTC()
	return p, nil
}

// fuzzyThreshold is the least strict_word_similarity between the search text and a product
// name for the spelling fallback. Strict similarity compares whole words, so "labtop" scores 0.4
// against a name with "Laptop" but 0.33 against "Echo Labs", where word_similarity, matching any
// part of the name, would rank "Labs" first.
const fuzzyThreshold = 0.35

// args collects positional parameters of a statement being built.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// order is how a sort reads in SQL: the key columns of the listing subquery `m`, compared as
// a row for keyset paging, and their direction (every column of a sort runs the same way, so a
// row comparison expresses "after the cursor").
type order struct {
	columns []string
	desc    bool
}

var orders = map[catalog.Sort]order{
	catalog.SortPriceAsc:    {[]string{"m.price", "m.id"}, false},
	catalog.SortPriceDesc:   {[]string{"m.price", "m.id"}, true},
	catalog.SortNewest:      {[]string{"m.created_at", "m.id"}, true},
	catalog.SortRelevance:   {[]string{"m.rank", "m.id"}, true},
	catalog.SortRating:      {[]string{"m.avg_h", "m.rating_count", "m.id"}, true},
	catalog.SortBestSelling: {[]string{"m.sold_count", "m.id"}, true},
}

// cursorValues are the cursor's keys as statement parameters, in the order of order.columns.
func cursorValues(s catalog.Sort, c *catalog.Cursor) []any {
	switch s {
	case catalog.SortPriceAsc, catalog.SortPriceDesc:
		return []any{int64(c.Price), c.ID}
	case catalog.SortNewest:
		return []any{c.CreatedAt, c.ID}
	case catalog.SortRelevance:
		return []any{c.Rank, c.ID}
	case catalog.SortRating:
		return []any{c.AverageHundredths, c.RatingCount, c.ID}
	default:
		return []any{c.Sold, c.ID}
	}
}

// listingWhere returns the conditions of spec, without the cursor, and the rank expression.
func listingWhere(spec catalog.ListSpec, a *args) (where, rank string) {
	conds := []string{"p.published"}
	rank = "0::real"
	switch spec.Match {
	case catalog.MatchText:
		q := "websearch_to_tsquery('english', " + a.add(spec.Search) + ")"
		conds = append(conds, "p.search @@ "+q)
		rank = "ts_rank_cd(p.search, " + q + ")"
	case catalog.MatchFuzzy:
		// Names are short, and this runs only when full-text search found nothing, so comparing
		// against every name is affordable; the trigram index's own operators would need a
		// session setting for this threshold.
		sim := "strict_word_similarity(" + a.add(spec.Search) + ", p.name)"
		conds = append(conds, sim+" >= "+strconv.FormatFloat(fuzzyThreshold, 'f', -1, 64))
		rank = sim
	}
	if spec.ByCategory {
		conds = append(conds, "p.category_id = ANY("+a.add(spec.CategoryIDs)+"::bigint[])")
	}
	if len(spec.SellerIDs) > 0 {
		conds = append(conds, "p.seller_id = ANY("+a.add(spec.SellerIDs)+"::bigint[])")
	}
	if spec.MinPrice != nil {
		conds = append(conds, "p.price >= "+a.add(*spec.MinPrice))
	}
	if spec.MaxPrice != nil {
		conds = append(conds, "p.price <= "+a.add(*spec.MaxPrice))
	}
	if spec.InStock != nil {
		if *spec.InStock {
			conds = append(conds, "coalesce(i.available, 0) > 0")
		} else {
			conds = append(conds, "coalesce(i.available, 0) <= 0")
		}
	}
	return strings.Join(conds, " AND "), rank
}

// ListProducts runs one page of a listing. The page (and the count, when asked) go to Postgres
// in one round trip. The page selects from a subquery so the cursor can compare the computed
// rank; Postgres flattens it, so sorts backed by an index still read only the rows they return.
func (s *CatalogStore) ListProducts(ctx context.Context, spec catalog.ListSpec) (catalog.Page, error) {
	ord, ok := orders[spec.Ordered()]
	if !ok {
		return catalog.Page{}, fmt.Errorf("list products: no order for sort %q", spec.Sort)
	}
	var a args
	where, rank := listingWhere(spec, &a)
	dir := " ASC"
	if ord.desc {
		dir = " DESC"
	}
	keyset := "true"
	if spec.After != nil {
		vals := cursorValues(spec.Ordered(), spec.After)
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = a.add(v)
		}
		cmp := " > "
		if ord.desc {
			cmp = " < "
		}
		keyset = "(" + strings.Join(ord.columns, ", ") + ")" + cmp + "(" + strings.Join(ph, ", ") + ")"
	}
	orderBy := make([]string, len(ord.columns))
	for i, c := range ord.columns {
		orderBy[i] = c + dir
	}
	listSQL := `SELECT m.* FROM (
		SELECT ` + productColumns + `, ` + rank + ` AS rank
		FROM ` + productJoins + `
		WHERE ` + where + `) m
	WHERE ` + keyset + `
	ORDER BY ` + strings.Join(orderBy, ", ") + `
	LIMIT ` + a.add(spec.Limit+1)

	batch := &pgx.Batch{}
	var page catalog.Page
	page.Total = -1
	batch.Queue(listSQL, a...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var r float32
			p, err := scanProduct(rows, &r)
			if err != nil {
				return err
			}
			if len(page.Items) == spec.Limit {
				page.HasNext = true
				continue
			}
			page.Items = append(page.Items, catalog.Listed{Product: p, Cursor: catalog.CursorFor(spec.Sort, spec.Match, p, r)})
		}
		return rows.Err()
	})
	if spec.WithTotal {
		var ca args
		countWhere, _ := listingWhere(spec, &ca)
		batch.Queue(`SELECT count(*) FROM `+productJoins+` WHERE `+countWhere, ca...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&page.Total)
		})
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return catalog.Page{}, fmt.Errorf("list products: %w", err)
	}
	return page, nil
}

// ProductsByIDs returns the products with these ids, published or not.
func (s *CatalogStore) ProductsByIDs(ctx context.Context, ids []int64) ([]catalog.Product, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+productColumns+` FROM `+productJoins+` WHERE p.id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("products by id: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.Product, error) { return scanProduct(row) })
	if err != nil {
		return nil, fmt.Errorf("products by id: %w", err)
	}
	return out, nil
}

// ProductBySlug returns the product with slug, or apperr.ErrNotFound.
func (s *CatalogStore) ProductBySlug(ctx context.Context, slug string) (catalog.Product, error) {
	p, err := scanProduct(s.pool.QueryRow(ctx, `SELECT `+productColumns+` FROM `+productJoins+` WHERE p.slug = $1`, slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return catalog.Product{}, apperr.ErrNotFound
	}
	if err != nil {
		return catalog.Product{}, fmt.Errorf("product by slug: %w", err)
	}
	return p, nil
}

// ProductDetailsBySlug reads the product with slug, its seller and its images in one statement.
func (s *CatalogStore) ProductDetailsBySlug(ctx context.Context, slug string) (catalog.ProductDetails, error) {
	var d catalog.ProductDetails
	var urls, alts []string
	p, err := scanProduct(s.pool.QueryRow(ctx, `SELECT `+productColumns+`, s.id, s.slug, s.name,
			coalesce(img.urls, '{}'), coalesce(img.alts, '{}')
		FROM `+productJoins+`
		JOIN sellers s ON s.id = p.seller_id
		LEFT JOIN LATERAL (
			SELECT array_agg(url ORDER BY position, id) AS urls,
				array_agg(coalesce(alt_text, '') ORDER BY position, id) AS alts
			FROM product_images WHERE product_id = p.id) img ON true
		WHERE p.slug = $1`, slug), &d.Seller.ID, &d.Seller.Slug, &d.Seller.Name, &urls, &alts)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, apperr.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("product details by slug: %w", err)
	}
	d.Product = p
	d.Images = make([]catalog.Image, len(urls))
	for i := range urls {
		d.Images[i] = catalog.Image{URL: urls[i], AltText: alts[i]}
	}
	return d, nil
}

// Categories returns every category.
func (s *CatalogStore) Categories(ctx context.Context) ([]catalog.Category, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, coalesce(parent_id, 0), slug, name, position FROM categories`)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.Category, error) {
		var c catalog.Category
		err := row.Scan(&c.ID, &c.ParentID, &c.Slug, &c.Name, &c.Position)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	return out, nil
}

// SellersByIDs returns the sellers with these ids.
func (s *CatalogStore) SellersByIDs(ctx context.Context, ids []int64) ([]catalog.Seller, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, slug, name FROM sellers WHERE id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("sellers by id: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.Seller, error) {
		var sl catalog.Seller
		err := row.Scan(&sl.ID, &sl.Slug, &sl.Name)
		return sl, err
	})
	if err != nil {
		return nil, fmt.Errorf("sellers by id: %w", err)
	}
	return out, nil
}

// ImagesByProductIDs returns the images of these products in display order.
func (s *CatalogStore) ImagesByProductIDs(ctx context.Context, ids []int64) (map[int64][]catalog.Image, error) {
	rows, err := s.pool.Query(ctx, `SELECT product_id, url, coalesce(alt_text, '') FROM product_images
		WHERE product_id = ANY($1::bigint[]) ORDER BY product_id, position, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("product images: %w", err)
	}
	defer rows.Close()
	out := map[int64][]catalog.Image{}
	for rows.Next() {
		var id int64
		var img catalog.Image
		if err := rows.Scan(&id, &img.URL, &img.AltText); err != nil {
			return nil, fmt.Errorf("product images: %w", err)
		}
		out[id] = append(out[id], img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("product images: %w", err)
	}
	return out, nil
}

// StockByProductIDs returns the inventory of these products.
func (s *CatalogStore) StockByProductIDs(ctx context.Context, ids []int64) (map[int64]catalog.Stock, error) {
	rows, err := s.pool.Query(ctx, `SELECT product_id, on_hand, reserved FROM inventory WHERE product_id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("product stock: %w", err)
	}
	defer rows.Close()
	out := map[int64]catalog.Stock{}
	for rows.Next() {
		var id int64
		var st catalog.Stock
		if err := rows.Scan(&id, &st.OnHand, &st.Reserved); err != nil {
			return nil, fmt.Errorf("product stock: %w", err)
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("product stock: %w", err)
	}
	return out, nil
}

// RatingsByProductIDs returns the rating aggregates of these products.
func (s *CatalogStore) RatingsByProductIDs(ctx context.Context, ids []int64) (map[int64]catalog.Rating, error) {
	rows, err := s.pool.Query(ctx, `SELECT product_id, rating_count, (average * 100)::bigint FROM product_ratings
		WHERE product_id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("product ratings: %w", err)
	}
	defer rows.Close()
	out := map[int64]catalog.Rating{}
	for rows.Next() {
		var id int64
		var rt catalog.Rating
		if err := rows.Scan(&id, &rt.Count, &rt.AverageHundredths); err != nil {
			return nil, fmt.Errorf("product ratings: %w", err)
		}
		out[id] = rt
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("product ratings: %w", err)
	}
	return out, nil
}
