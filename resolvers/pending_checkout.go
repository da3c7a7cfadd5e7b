package resolvers

// Placeholder until the checkout area lands; the checkout work deletes this file.

import (
	"context"
	"errors"

	"storefront/graph/model"
)

var errPendingCheckout = errors.New("checkout: not built yet")

func (r *queryResolver) Order(ctx context.Context, id string) (*model.Order, error) {
	return nil, errPendingCheckout
}
func (r *queryResolver) ShippingMethods(ctx context.Context) ([]*model.ShippingMethod, error) {
	return nil, errPendingCheckout
}
func (r *userResolver) Orders(ctx context.Context, obj *model.User, first *int, after *string, status *model.OrderStatus) (*model.OrderConnection, error) {
	return nil, errPendingCheckout
}
func (r *orderResolver) Lines(ctx context.Context, obj *model.Order) ([]*model.OrderLine, error) {
	return nil, errPendingCheckout
}
func (r *orderResolver) StatusHistory(ctx context.Context, obj *model.Order) ([]*model.OrderStatusEvent, error) {
	return nil, errPendingCheckout
}
func (r *orderResolver) Payments(ctx context.Context, obj *model.Order) ([]*model.Payment, error) {
	return nil, errPendingCheckout
}
func (r *mutationResolver) Checkout(ctx context.Context, input model.CheckoutInput) (*model.CheckoutPayload, error) {
	return nil, errPendingCheckout
}
func (r *mutationResolver) PayOrder(ctx context.Context, input model.PayOrderInput) (*model.PaymentPayload, error) {
	return nil, errPendingCheckout
}
func (r *mutationResolver) OrderCancel(ctx context.Context, orderID string, reason *string) (*model.OrderPayload, error) {
	return nil, errPendingCheckout
}
func (r *mutationResolver) InventorySet(ctx context.Context, productID string, onHand int) (*model.InventoryPayload, error) {
	return nil, errPendingCheckout
}
func (r *mutationResolver) OrderMarkShipped(ctx context.Context, orderID string, carrier string, trackingNumber string) (*model.OrderPayload, error) {
	return nil, errPendingCheckout
}
func (r *mutationResolver) OrderMarkDelivered(ctx context.Context, orderID string) (*model.OrderPayload, error) {
	return nil, errPendingCheckout
}
func (r *subscriptionResolver) OrderStatusChanged(ctx context.Context, orderID string) (<-chan *model.Order, error) {
	return nil, errPendingCheckout
}
