package catalog

import (
	"context"
	"fmt"
	"sync"
	"time"

	"storefront/domain/apperr"
)

// Repository is the catalog's store. Lookups by id return only what exists, in any order; the
// service and the loaders put results back in key order.
type Repository interface {
	// ListProducts returns one page of spec, and the total when spec.WithTotal.
	ListProducts(ctx context.Context, spec ListSpec) (Page, error)
	// ProductsByIDs returns products whether published or not: carts and orders may hold
	// products no longer listed.
	ProductsByIDs(ctx context.Context, ids []int64) ([]Product, error)
	// ProductBySlug returns ErrNotFound when no product has slug.
	ProductBySlug(ctx context.Context, slug string) (Product, error)
	// ProductDetailsBySlug returns the product with slug with its seller and images, in one
	// round trip; ErrNotFound when no product has slug.
	ProductDetailsBySlug(ctx context.Context, slug string) (ProductDetails, error)
	Categories(ctx context.Context) ([]Category, error)
	SellersByIDs(ctx context.Context, ids []int64) ([]Seller, error)
	// ImagesByProductIDs returns each product's images in display order.
	ImagesByProductIDs(ctx context.Context, ids []int64) (map[int64][]Image, error)
	StockByProductIDs(ctx context.Context, ids []int64) (map[int64]Stock, error)
	RatingsByProductIDs(ctx context.Context, ids []int64) (map[int64]Rating, error)
}

// ListSpec is a listing as the store runs it: search mode chosen, categories expanded to their
// subtrees.
type ListSpec struct {
	// Search is the text to match; "" with MatchAll.
	Search string
	Match  Match
	// ByCategory says CategoryIDs narrows the listing (an empty list then matches nothing).
	ByCategory  bool
	CategoryIDs []int64
	SellerIDs   []int64
	MinPrice    *int64
	MaxPrice    *int64
	InStock     *bool
	Sort        Sort
	After       *Cursor
	// Limit is the page size; the store reads one more row to learn whether a next page exists.
	Limit     int
	WithTotal bool
}

// Ordered reports the key the store orders by: RELEVANCE without search text means newest.
func (s ListSpec) Ordered() Sort { return orderedBy(s.Sort, s.Match) }

// Listed is a product in a listing with its position there.
type Listed struct {
	Product Product
	Cursor  Cursor
}

// Page is one page of a listing.
type Page struct {
	Items   []Listed
	HasNext bool
	// Total counts every product of the listing; -1 when it was not asked for.
	Total int
	// Match is how the products were matched: MatchFuzzy tells a client the results are
	// spelling suggestions.
	Match Match
}

// Service answers the catalog's questions.
type Service struct {
	repo       Repository
	categories categoryCache
}

// categoryTTL bounds how stale the in-memory category tree may get. Categories change only by
// seeding or by an operator, never through the API, yet they are read by nearly every request
// (product.category, category filters): one small query per TTL per instance replaces one per
// request. A category id missing from the cached tree reloads it at once, so a category created
// a moment ago is found without waiting for the TTL.
const categoryTTL = 30 * time.Second

// NewService returns the catalog service over repo.
func NewService(repo Repository) *Service {
	return &Service{repo: repo, categories: categoryCache{ttl: categoryTTL, load: repo.Categories}}
}

// ListProducts returns one page of products. With search text it runs full-text search; when
// that finds nothing on a first page it falls back to spelling similarity, so "labtop" finds
// laptops. A cursor remembers which of the two a listing used.
func (s *Service) ListProducts(ctx context.Context, q ListQuery) (Page, error) {
	search, err := NormalizeSearch(q.Search)
	if err != nil {
		return Page{}, err
	}
	if err := q.Filter.Validate(); err != nil {
		return Page{}, err
	}
	if q.Sort == "" {
		q.Sort = SortRelevance
	}
	spec := ListSpec{
		Search:    search,
		Match:     MatchAll,
		SellerIDs: q.Filter.SellerIDs,
		InStock:   q.Filter.InStock,
		Sort:      q.Sort,
		After:     q.After,
		Limit:     q.First,
		WithTotal: q.WithTotal,
	}
	if search != "" {
		spec.Match = MatchText
	}
	if q.Filter.MinPrice != nil {
		v := int64(*q.Filter.MinPrice)
		spec.MinPrice = &v
	}
	if q.Filter.MaxPrice != nil {
		v := int64(*q.Filter.MaxPrice)
		spec.MaxPrice = &v
	}
	if len(q.Filter.CategoryIDs) > 0 {
		tree, err := s.categories.withIDs(ctx, q.Filter.CategoryIDs)
		if err != nil {
			return Page{}, err
		}
		spec.ByCategory, spec.CategoryIDs = true, tree.Subtree(q.Filter.CategoryIDs)
	}
	if q.After != nil {
		if q.After.Sort != q.Sort || (q.After.Match == MatchAll) != (search == "") {
			return Page{}, apperr.Input("after", "the cursor belongs to another listing")
		}
		spec.Match = q.After.Match
		if spec.Match == MatchFuzzy {
			spec.Search = FuzzyText(search)
		}
	}
	page, err := s.repo.ListProducts(ctx, spec)
	if err != nil {
		return Page{}, fmt.Errorf("list products: %w", err)
	}
	if spec.Match == MatchText && q.After == nil && len(page.Items) == 0 && !page.HasNext {
		if fuzzy := FuzzyText(search); fuzzy != "" {
			spec.Match, spec.Search = MatchFuzzy, fuzzy
			if page, err = s.repo.ListProducts(ctx, spec); err != nil {
				return Page{}, fmt.Errorf("list products by similar names: %w", err)
			}
		}
	}
	page.Match = spec.Match
	return page, nil
}

// ProductsByIDs returns the products with these ids that exist, published or not. Products a
// store left in ctx's memo (WithProductMemo) are not read again.
func (s *Service) ProductsByIDs(ctx context.Context, ids []int64) (map[int64]Product, error) {
	out := make(map[int64]Product, len(ids))
	rest := takeRemembered(ctx, ids, out)
	if len(rest) == 0 {
		return out, nil
	}
	ps, err := s.repo.ProductsByIDs(ctx, rest)
	if err != nil {
		return nil, fmt.Errorf("products by id: %w", err)
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// PublishedProduct returns the product with id if shoppers may see it, else ErrNotFound.
func (s *Service) PublishedProduct(ctx context.Context, id int64) (Product, error) {
	ps, err := s.ProductsByIDs(ctx, []int64{id})
	if err != nil {
		return Product{}, err
	}
	p, ok := ps[id]
	if !ok || !p.Published {
		return Product{}, apperr.ErrNotFound
	}
	return p, nil
}

// ProductBySlug returns the published product with slug, else ErrNotFound.
func (s *Service) ProductBySlug(ctx context.Context, slug string) (Product, error) {
	p, err := s.repo.ProductBySlug(ctx, slug)
	if err != nil {
		return Product{}, fmt.Errorf("product by slug: %w", err)
	}
	if !p.Published {
		return Product{}, apperr.ErrNotFound
	}
	return p, nil
}

// ProductDetails is a product with what its page shows beside it.
type ProductDetails struct {
	Product Product
	Seller  Seller
	// Images are in display order.
	Images []Image
}

// ProductDetailsBySlug returns the published product with slug, its seller and its images, read
// together: a product page costs one round trip instead of one for the product and one more for
// its seller and images.
func (s *Service) ProductDetailsBySlug(ctx context.Context, slug string) (ProductDetails, error) {
	d, err := s.repo.ProductDetailsBySlug(ctx, slug)
	if err != nil {
		return ProductDetails{}, fmt.Errorf("product details by slug: %w", err)
	}
	if !d.Product.Published {
		return ProductDetails{}, apperr.ErrNotFound
	}
	return d, nil
}

// Tree returns the category tree.
func (s *Service) Tree(ctx context.Context) (*Tree, error) { return s.categories.withIDs(ctx, nil) }

// CategoriesByIDs returns the categories with these ids that exist.
func (s *Service) CategoriesByIDs(ctx context.Context, ids []int64) (map[int64]Category, error) {
	tree, err := s.categories.withIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Category, len(ids))
	for _, id := range ids {
		if c, ok := tree.Get(id); ok {
			out[id] = c
		}
	}
	return out, nil
}

// SellersByIDs returns the sellers with these ids that exist.
func (s *Service) SellersByIDs(ctx context.Context, ids []int64) (map[int64]Seller, error) {
	ss, err := s.repo.SellersByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("sellers by id: %w", err)
	}
	out := make(map[int64]Seller, len(ss))
	for _, sl := range ss {
		out[sl.ID] = sl
	}
	return out, nil
}

// ImagesByProductIDs returns each product's images in display order.
func (s *Service) ImagesByProductIDs(ctx context.Context, ids []int64) (map[int64][]Image, error) {
	m, err := s.repo.ImagesByProductIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("product images: %w", err)
	}
	return m, nil
}

// StockByProductIDs returns each product's stock; a product without an inventory row has none.
func (s *Service) StockByProductIDs(ctx context.Context, ids []int64) (map[int64]Stock, error) {
	m, err := s.repo.StockByProductIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("product stock: %w", err)
	}
	return m, nil
}

// RatingsByProductIDs returns each product's rating; a product without reviews has a zero one.
func (s *Service) RatingsByProductIDs(ctx context.Context, ids []int64) (map[int64]Rating, error) {
	m, err := s.repo.RatingsByProductIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("product ratings: %w", err)
	}
	return m, nil
}

// categoryCache holds the category tree for categoryTTL. Loads are serialised, so a burst of
// requests after expiry makes one query, not one each.
type categoryCache struct {
	ttl  time.Duration
	load func(context.Context) ([]Category, error)

	mu       sync.Mutex
	tree     *Tree
	loadedAt time.Time
}

// withIDs returns a tree that is fresh and, if they exist at all, holds every id of ids.
func (c *categoryCache) withIDs(ctx context.Context, ids []int64) (*Tree, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tree != nil && time.Since(c.loadedAt) < c.ttl && c.holds(ids) {
		return c.tree, nil
	}
	cats, err := c.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load categories: %w", err)
	}
	c.tree, c.loadedAt = NewTree(cats), time.Now()
	return c.tree, nil
}

func (c *categoryCache) holds(ids []int64) bool {
	for _, id := range ids {
		if _, ok := c.tree.Get(id); !ok {
			return false
		}
	}
	return true
}
