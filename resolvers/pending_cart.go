package resolvers

// Placeholder until the cart area lands; the cart work deletes this file.

import (
	"context"
	"errors"

	"storefront/graph/model"
)

var errPendingCart = errors.New("cart: not built yet")

func (r *queryResolver) Cart(ctx context.Context, id string) (*model.Cart, error) {
	return nil, errPendingCart
}
func (r *userResolver) Cart(ctx context.Context, obj *model.User) (*model.Cart, error) {
	return nil, errPendingCart
}
func (r *mutationResolver) CartCreate(ctx context.Context, input *model.CartCreateInput) (*model.CartPayload, error) {
	return nil, errPendingCart
}
func (r *mutationResolver) CartLinesAdd(ctx context.Context, cartID string, lines []*model.CartLineInput) (*model.CartPayload, error) {
	return nil, errPendingCart
}
func (r *mutationResolver) CartLinesUpdate(ctx context.Context, cartID string, lines []*model.CartLineUpdateInput) (*model.CartPayload, error) {
	return nil, errPendingCart
}
func (r *mutationResolver) CartLinesRemove(ctx context.Context, cartID string, lineIds []string) (*model.CartPayload, error) {
	return nil, errPendingCart
}
func (r *subscriptionResolver) CartUpdated(ctx context.Context, cartID string) (<-chan *model.Cart, error) {
	return nil, errPendingCart
}
