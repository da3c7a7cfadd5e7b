package resolvers

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"golang.org/x/sync/errgroup"

	"storefront/domain/apperr"
	"storefront/domain/catalog"
	"storefront/graph/model"
	"storefront/graphqlexec"
	"storefront/resolvers/loaders"
	"storefront/resolvers/relay"
)

func init() {
	registerNode(relay.KindProduct, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, nil
		}
		p, err := r.publishedProduct(ctx, id)
		if p == nil || err != nil {
			return nil, err
		}
		return p, nil
	})
	registerNode(relay.KindCategory, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, nil
		}
		c, err := r.categoryByKey(ctx, id)
		if c == nil || err != nil {
			return nil, err
		}
		return c, nil
	})
	registerNode(relay.KindSeller, func(r *Resolver, ctx context.Context, key string) (model.Node, error) {
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, nil
		}
		s, err := r.loaders(ctx).Seller.Load(ctx, id)()
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return sellerModel(s), nil
	})
}

// loaders returns the request's loaders, or fresh ones when the context has none (a subscription
// event outside PerEvent, a direct call): correct, only unbatched across calls.
func (r *Resolver) loaders(ctx context.Context) *loaders.Loaders {
	if l := loaders.For(ctx); l != nil {
		return l
	}
	return loaders.New(r.Catalog)
}

func (r *queryResolver) Products(ctx context.Context, query *string, filter *model.ProductFilter, sort *model.ProductSort, first *int, after *string) (*model.ProductConnection, error) {
	f, err := filterOf(filter)
	if err != nil {
		return nil, err
	}
	q := ""
	if query != nil {
		q = *query
	}
	return r.listProducts(ctx, q, f, sort, catalog.SortRelevance, first, after)
}

func (r *queryResolver) Product(ctx context.Context, id *string, slug *string) (*model.Product, error) {
	switch {
	case id != nil && slug != nil:
		return nil, apperr.Input("id", "give either id or slug, not both")
	case id != nil:
		key, err := relay.ParseIntID(*id, relay.KindProduct)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return r.publishedProduct(ctx, key)
	case slug != nil:
		return r.productBySlug(ctx, *slug)
	}
	return nil, apperr.Input("id", "give an id or a slug")
}

// productBySlug answers product(slug:). A page that shows the seller or the images reads them with
// the product in one statement.
func (r *queryResolver) productBySlug(ctx context.Context, slug string) (*model.Product, error) {
	fields := productSelection(ctx)
	if !fields.seller && !fields.images {
		p, err := r.Catalog.ProductBySlug(ctx, slug)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		models, err := r.productModels(ctx, []catalog.Product{p}, fields)
		if err != nil {
			return nil, err
		}
		return models[0], nil
	}
	d, err := r.Catalog.ProductDetailsBySlug(ctx, slug)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	x := productExtra{seller: &d.Seller, images: d.Images}
	if fields.category {
		if x.category, err = r.categoryOf(ctx, d.Product); err != nil {
			return nil, err
		}
	}
	return productModel(d.Product, x), nil
}

func (r *queryResolver) Categories(ctx context.Context) ([]*model.Category, error) {
	tree, err := r.Catalog.Tree(ctx)
	if err != nil {
		return nil, err
	}
	return categoryModels(tree.Roots()), nil
}

func (r *categoryResolver) Parent(ctx context.Context, obj *model.Category) (*model.Category, error) {
	if obj.ParentKey == nil {
		return nil, nil
	}
	return r.categoryByKey(ctx, *obj.ParentKey)
}

func (r *categoryResolver) Children(ctx context.Context, obj *model.Category) ([]*model.Category, error) {
	tree, err := r.Catalog.Tree(ctx)
	if err != nil {
		return nil, err
	}
	return categoryModels(tree.Children(obj.Key)), nil
}

func (r *categoryResolver) Products(ctx context.Context, obj *model.Category, sort *model.ProductSort, first *int, after *string) (*model.ProductConnection, error) {
	return r.listProducts(ctx, "", catalog.Filter{CategoryIDs: []int64{obj.Key}}, sort, catalog.SortNewest, first, after)
}

func (r *orderLineResolver) Product(ctx context.Context, obj *model.OrderLine) (*model.Product, error) {
	if obj.ProductKey == nil {
		return nil, nil
	}
	p, err := r.productByKey(ctx, *obj.ProductKey)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// productByKey returns the product with a database id, published or not, for the lines of orders
// (a cart's lines get theirs from the cart resolvers); a missing one is apperr.ErrNotFound.
func (r *Resolver) productByKey(ctx context.Context, id int64) (*model.Product, error) {
	l := r.loaders(ctx)
	p, err := l.Product.Load(ctx, id)()
	if err != nil {
		return nil, err
	}
	return r.loadedProductModel(ctx, p)
}

// publishedProduct returns the product with id if shoppers may see it, else nil.
func (r *Resolver) publishedProduct(ctx context.Context, id int64) (*model.Product, error) {
	l := r.loaders(ctx)
	p, err := l.Product.Load(ctx, id)()
	if errors.Is(err, apperr.ErrNotFound) || err == nil && !p.Published {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.loadedProductModel(ctx, p)
}

// loadedProductModel builds the model of a product looked up by id, with what the client selected
// of it read through the request's loaders: products resolved alongside (the lines of a cart, the
// ids of nodes) share one statement for their sellers and one for their images.
func (r *Resolver) loadedProductModel(ctx context.Context, p catalog.Product) (*model.Product, error) {
	fields := selectedProductFields(ctx)
	l := r.loaders(ctx)
	// Both loads are asked for before either is waited on, so they share one batch window.
	var seller func() (catalog.Seller, error)
	var images func() ([]catalog.Image, error)
	if fields.seller {
		seller = l.Seller.Load(ctx, p.SellerID)
	}
	if fields.images {
		images = l.Images.Load(ctx, p.ID)
	}
	var x productExtra
	var err error
	if fields.category {
		if x.category, err = r.categoryOf(ctx, p); err != nil {
			return nil, err
		}
	}
	if seller != nil {
		s, err := seller()
		if err != nil {
			return nil, err
		}
		x.seller = &s
	}
	if images != nil {
		if x.images, err = images(); err != nil {
			return nil, err
		}
	}
	return productModel(p, x), nil
}

func (r *Resolver) categoryByKey(ctx context.Context, id int64) (*model.Category, error) {
	c, err := r.loaders(ctx).Category.Load(ctx, id)()
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return categoryModel(c), nil
}

// filterOf reads the API's filter: global ids of the right kind, prices as decimal strings.
func filterOf(in *model.ProductFilter) (catalog.Filter, error) {
	var f catalog.Filter
	if in == nil {
		return f, nil
	}
	var err error
	if f.CategoryIDs, err = intIDs(in.CategoryIds, relay.KindCategory, "filter.categoryIds"); err != nil {
		return f, err
	}
	if f.SellerIDs, err = intIDs(in.SellerIds, relay.KindSeller, "filter.sellerIds"); err != nil {
		return f, err
	}
	if in.MinPrice != nil {
		p, err := catalog.ParsePrice("filter.minPrice", *in.MinPrice)
		if err != nil {
			return f, err
		}
		f.MinPrice = &p
	}
	if in.MaxPrice != nil {
		p, err := catalog.ParsePrice("filter.maxPrice", *in.MaxPrice)
		if err != nil {
			return f, err
		}
		f.MaxPrice = &p
	}
	f.InStock = in.InStock
	return f, f.Validate()
}

// intIDs parses global ids that must all be of kind. A filter naming the wrong kind of thing is
// a client mistake worth reporting, not an empty result.
func intIDs(ids []string, kind, field string) ([]int64, error) {
	if len(ids) > relay.MaxPageSize {
		return nil, apperr.Input(field, "at most %d ids", relay.MaxPageSize)
	}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		n, err := relay.ParseIntID(id, kind)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, apperr.Input(field, "%.40q is not a %s id", id, kind)
		}
		if err != nil {
			return nil, apperr.Input(field, "%.40q is not a valid id", id)
		}
		out = append(out, n)
	}
	return out, nil
}

// listProducts answers a product connection. It reads which fields the client selected, asks
// for the total only when wanted, and fills the loaders for the whole page at once, so nested
// fields cost a fixed number of statements whatever the page size.
func (r *Resolver) listProducts(ctx context.Context, query string, f catalog.Filter, sort *model.ProductSort, def catalog.Sort, first *int, after *string) (*model.ProductConnection, error) {
	size, err := relay.PageSize(first, 20)
	if err != nil {
		return nil, err
	}
	s := def
	if sort != nil {
		if s, err = catalog.ParseSort(string(*sort)); err != nil {
			return nil, err
		}
	}
	var cur *catalog.Cursor
	if after != nil {
		vals, err := relay.ParseCursor(*after, s.CursorWidth())
		if err != nil {
			return nil, err
		}
		if cur, err = catalog.ParseCursor(s, vals); err != nil {
			return nil, err
		}
	}
	sel := connectionSelection(ctx)
	page, err := r.Catalog.ListProducts(ctx, catalog.ListQuery{
		Search: query, Filter: f, Sort: s, First: size, After: cur, WithTotal: sel.total,
	})
	if err != nil {
		return nil, err
	}
	products := make([]catalog.Product, len(page.Items))
	for i, it := range page.Items {
		products[i] = it.Product
	}
	models, err := r.productModels(ctx, products, sel.fields)
	if err != nil {
		return nil, err
	}
	conn := &model.ProductConnection{
		Edges:      make([]*model.ProductEdge, len(page.Items)),
		Nodes:      make([]*model.Product, len(page.Items)),
		PageInfo:   &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: after != nil},
		TotalCount: page.Total,
	}
	for i, it := range page.Items {
		p := models[i]
		conn.Nodes[i] = p
		conn.Edges[i] = &model.ProductEdge{Cursor: relay.Cursor(it.Cursor.Values()...), Node: p}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn, nil
}

// productModels builds the models of products fetched by a root field with what the client
// selected of them: their sellers and their images with one statement each, concurrently, and
// their categories from the cached tree. The request's loaders are left alone: priming them cost
// every page four loaders for the rare request that looks the same product up again.
func (r *Resolver) productModels(ctx context.Context, products []catalog.Product, fields productFields) ([]*model.Product, error) {
	productIDs := make([]int64, len(products))
	sellerIDs := make([]int64, len(products))
	for i, p := range products {
		productIDs[i], sellerIDs[i] = p.ID, p.SellerID
	}
	var images map[int64][]catalog.Image
	var sellers map[int64]catalog.Seller
	var categories map[int64]catalog.Category
	var fetches []func(context.Context) error
	if fields.images && len(products) > 0 {
		fetches = append(fetches, func(ctx context.Context) error {
			var err error
			images, err = r.Catalog.ImagesByProductIDs(ctx, productIDs)
			return err
		})
	}
	if fields.seller && len(products) > 0 {
		fetches = append(fetches, func(ctx context.Context) error {
			var err error
			sellers, err = r.Catalog.SellersByIDs(ctx, sellerIDs)
			return err
		})
	}
	// Last, as it is the cheapest: it runs on this goroutine while the others wait on the database.
	if fields.category && len(products) > 0 {
		fetches = append(fetches, func(ctx context.Context) error {
			var err error
			categories, err = r.categoriesOf(ctx, products)
			return err
		})
	}
	if err := runAll(ctx, fetches); err != nil {
		return nil, err
	}
	models := make([]*model.Product, len(products))
	for i, p := range products {
		x := productExtra{images: images[p.ID]}
		if fields.category {
			c := categories[p.CategoryID]
			x.category = &c
		}
		if fields.seller {
			s, ok := sellers[p.SellerID]
			if !ok {
				return nil, fmt.Errorf("seller %d: %w", p.SellerID, apperr.ErrNotFound)
			}
			x.seller = &s
		}
		models[i] = productModel(p, x)
	}
	return models, nil
}

// runAll runs fetches concurrently and returns the first error. The last one runs on the calling
// goroutine: a goroutine for it would only add a hand-off and a wake-up to the answer.
func runAll(ctx context.Context, fetches []func(context.Context) error) error {
	switch len(fetches) {
	case 0:
		return nil
	case 1:
		return fetches[0](ctx)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, f := range fetches[:len(fetches)-1] {
		g.Go(func() error { return f(gctx) })
	}
	last := fetches[len(fetches)-1](gctx)
	if err := g.Wait(); err != nil {
		return err
	}
	return last
}

// selection is what a client asked of a product connection.
type selection struct {
	total bool
	// fields are the Product fields selected under nodes or edges.node.
	fields productFields
}

// productFields tells which of a Product's fields that need a fetch of their own were selected.
type productFields struct{ images, seller, category bool }

// allProductFields is what a caller outside a GraphQL operation gets: everything.
var allProductFields = productFields{images: true, seller: true, category: true}

func (f *productFields) add(fields []graphql.CollectedField) {
	for _, field := range fields {
		switch field.Name {
		case "images":
			f.images = true
		case "seller":
			f.seller = true
		case "category":
			f.category = true
		}
	}
}

var (
	connectionTypes = []string{"ProductConnection"}
	edgeTypes       = []string{"ProductEdge"}
	productTypes    = []string{"Product", "Node"}
)

// productSelection reads the Product fields selected on the field being resolved.
func productSelection(ctx context.Context) productFields {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return allProductFields
	}
	var fields productFields
	fields.add(graphqlexec.CollectFields(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections, productTypes))
	return fields
}

// selectedProductFields is productSelection where the field being resolved returns products (a
// line's product, node, nodes); elsewhere (a mutation's payload) the selection is not at hand,
// and every field is filled.
func selectedProductFields(ctx context.Context) productFields {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return allProductFields
	}
	switch graphql.GetFieldContext(ctx).Field.Definition.Type.Name() {
	case "Product", "Node":
		return productSelection(ctx)
	}
	return allProductFields
}

// connectionSelection reads the selection set of the connection field being resolved.
func connectionSelection(ctx context.Context) selection {
	var sel selection
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return selection{total: true, fields: allProductFields}
	}
	op := graphql.GetOperationContext(ctx)
	addProduct := func(f graphql.CollectedField) {
		sel.fields.add(graphqlexec.CollectFields(op, f.Selections, productTypes))
	}
	for _, f := range graphqlexec.CollectFields(op, graphql.GetFieldContext(ctx).Field.Selections, connectionTypes) {
		switch f.Name {
		case "totalCount":
			sel.total = true
		case "nodes":
			addProduct(f)
		case "edges":
			for _, ef := range graphqlexec.CollectFields(op, f.Selections, edgeTypes) {
				if ef.Name == "node" {
					addProduct(ef)
				}
			}
		}
	}
	return sel
}

// productParts holds a product's model with the values it points to, so that building one costs
// a single allocation: browsing builds twenty at a time.
type productParts struct {
	product   model.Product
	price     model.Money
	inventory model.Inventory
	rating    model.Rating
	category  model.Category
	seller    model.Seller
}

// productExtra is what a product's model holds beyond its row, each part present when selected.
type productExtra struct {
	category *catalog.Category
	seller   *catalog.Seller
	images   []catalog.Image
}

// productModel converts p with the parts of x; a part x lacks stays nil in the model, which is
// only ever read for selected fields.
func productModel(p catalog.Product, x productExtra) *model.Product {
	parts := &productParts{
		price:     moneyValue(p.Price),
		inventory: model.Inventory{Available: p.Stock.Available(), InStock: p.Stock.InStock()},
		rating:    model.Rating{Average: p.Rating.Average(), Count: p.Rating.Count},
	}
	parts.product = model.Product{
		ID:          relay.IntID(relay.KindProduct, p.ID),
		Slug:        p.Slug,
		Name:        p.Name,
		Description: p.Description,
		Price:       &parts.price,
		Inventory:   &parts.inventory,
		Rating:      &parts.rating,
		CreatedAt:   p.CreatedAt,
		Images:      imageModels(x.images),
	}
	if x.category != nil {
		parts.category = *categoryModel(*x.category)
		parts.product.Category = &parts.category
	}
	if x.seller != nil {
		parts.seller = *sellerModel(*x.seller)
		parts.product.Seller = &parts.seller
	}
	return &parts.product
}

// imageModels converts a product's images, in one allocation for all of them rather than one each.
func imageModels(imgs []catalog.Image) []*model.Image {
	backing := make([]model.Image, len(imgs))
	out := make([]*model.Image, len(imgs))
	for i, img := range imgs {
		backing[i].URL = img.URL
		if img.AltText != "" {
			alt := img.AltText
			backing[i].AltText = &alt
		}
		out[i] = &backing[i]
	}
	return out
}

// categoryOf returns the category of p from the cached category tree.
func (r *Resolver) categoryOf(ctx context.Context, p catalog.Product) (*catalog.Category, error) {
	categories, err := r.categoriesOf(ctx, []catalog.Product{p})
	if err != nil {
		return nil, err
	}
	c := categories[p.CategoryID]
	return &c, nil
}

// categoriesOf returns the categories of products, from the cached category tree. Every product
// has one (a foreign key); one missing from the tree is reported as ErrNotFound, as the category
// loader did.
func (r *Resolver) categoriesOf(ctx context.Context, products []catalog.Product) (map[int64]catalog.Category, error) {
	ids := make([]int64, len(products))
	for i, p := range products {
		ids[i] = p.CategoryID
	}
	categories, err := r.Catalog.CategoriesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := categories[id]; !ok {
			return nil, fmt.Errorf("category %d: %w", id, apperr.ErrNotFound)
		}
	}
	return categories, nil
}

func categoryModel(c catalog.Category) *model.Category {
	m := &model.Category{ID: relay.IntID(relay.KindCategory, c.ID), Slug: c.Slug, Name: c.Name, Key: c.ID}
	if c.ParentID != 0 {
		parent := c.ParentID
		m.ParentKey = &parent
	}
	return m
}

func categoryModels(cs []catalog.Category) []*model.Category {
	out := make([]*model.Category, len(cs))
	for i, c := range cs {
		out[i] = categoryModel(c)
	}
	return out
}

func sellerModel(s catalog.Seller) *model.Seller {
	return &model.Seller{ID: relay.IntID(relay.KindSeller, s.ID), Slug: s.Slug, Name: s.Name}
}
