package redis

import (
	"context"
	"strconv"

	"storefront/domain/checkout"
	"storefront/domain/order"
)

// PubSub is the instance's pub/sub hub as the order feed uses it.
type PubSub interface {
	Publish(ctx context.Context, channel string, payload []byte) error
	Subscribe(ctx context.Context, channel string) (<-chan []byte, func(), error)
}

// OrderFeed implements checkout.StatusFeed over the hub: one channel per order, carrying the
// status each change reached, so every instance's subscribers hear of changes made on any other.
type OrderFeed struct{ ps PubSub }

// NewOrderFeed returns the order status feed over ps.
func NewOrderFeed(ps PubSub) *OrderFeed { return &OrderFeed{ps: ps} }

var _ checkout.StatusFeed = (*OrderFeed)(nil)

func orderChannel(orderID int64) string { return "order-status:" + strconv.FormatInt(orderID, 10) }

// Publish announces that the order reached status.
func (f *OrderFeed) Publish(ctx context.Context, orderID int64, status order.Status) error {
	return f.ps.Publish(ctx, orderChannel(orderID), []byte(status))
}

// Subscribe returns the statuses announced for the order until ctx ends.
func (f *OrderFeed) Subscribe(ctx context.Context, orderID int64) (<-chan order.Status, error) {
	msgs, cancel, err := f.ps.Subscribe(ctx, orderChannel(orderID))
	if err != nil {
		return nil, err
	}
	out := make(chan order.Status, 8)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				st := order.Status(m)
				if !st.Valid() {
					continue
				}
				select {
				case out <- st:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
