package resolvers

// Placeholder until the catalog area lands; the catalog work deletes this file.

import (
	"context"
	"errors"

	"storefront/graph/model"
)

var errPendingCatalog = errors.New("catalog: not built yet")

func (r *queryResolver) Products(ctx context.Context, query *string, filter *model.ProductFilter, sort *model.ProductSort, first *int, after *string) (*model.ProductConnection, error) {
	return nil, errPendingCatalog
}
func (r *queryResolver) Product(ctx context.Context, id *string, slug *string) (*model.Product, error) {
	return nil, errPendingCatalog
}
func (r *queryResolver) Categories(ctx context.Context) ([]*model.Category, error) {
	return nil, errPendingCatalog
}
func (r *productResolver) Images(ctx context.Context, obj *model.Product) ([]*model.Image, error) {
	return nil, errPendingCatalog
}
func (r *productResolver) Category(ctx context.Context, obj *model.Product) (*model.Category, error) {
	return nil, errPendingCatalog
}
func (r *productResolver) Seller(ctx context.Context, obj *model.Product) (*model.Seller, error) {
	return nil, errPendingCatalog
}
func (r *productResolver) Inventory(ctx context.Context, obj *model.Product) (*model.Inventory, error) {
	return nil, errPendingCatalog
}
func (r *productResolver) Rating(ctx context.Context, obj *model.Product) (*model.Rating, error) {
	return nil, errPendingCatalog
}
func (r *categoryResolver) Parent(ctx context.Context, obj *model.Category) (*model.Category, error) {
	return nil, errPendingCatalog
}
func (r *categoryResolver) Children(ctx context.Context, obj *model.Category) ([]*model.Category, error) {
	return nil, errPendingCatalog
}
func (r *categoryResolver) Products(ctx context.Context, obj *model.Category, sort *model.ProductSort, first *int, after *string) (*model.ProductConnection, error) {
	return nil, errPendingCatalog
}
func (r *cartLineResolver) Product(ctx context.Context, obj *model.CartLine) (*model.Product, error) {
	return nil, errPendingCatalog
}
func (r *orderLineResolver) Product(ctx context.Context, obj *model.OrderLine) (*model.Product, error) {
	return nil, errPendingCatalog
}
