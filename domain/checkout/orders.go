package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"storefront/domain/apperr"
	"storefront/domain/order"
	"storefront/domain/payment"
	"storefront/domain/pricing"
)

// OrderResult is an order after a change, or the problems that prevented the change.
type OrderResult struct {
	Order    *order.Order
	Problems Problems
}

// Actor is who asks for an order change: the owner, or an admin acting on any order.
type Actor struct {
	UserID int64
	Admin  bool
}

// changeOrder locks the order, checks the actor may see it, applies change and saves the order
// with its new history entry and status event, all in one transaction.
func (s *Service) changeOrder(ctx context.Context, who Actor, orderID int64, change func(tx Tx, o *order.Order) error) (OrderResult, error) {
	var changed *order.Order
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.LockOrder(orderID)
		if errors.Is(err, apperr.ErrNotFound) || (err == nil && !who.Admin && o.UserID != who.UserID) {
			return problem(CodeNotFound, "no such order", "orderId")
		}
		if err != nil {
			return err
		}
		if err := change(tx, o); err != nil {
			if errors.Is(err, order.ErrInvalidState) {
				return problem(CodeInvalidState, err.Error(), "orderId")
			}
			return err
		}
		if err := tx.SaveOrder(o); err != nil {
			return err
		}
		changed = o
		return enqueueStatus(tx, o)
	})
	var ps Problems
	if errors.As(err, &ps) {
		return OrderResult{Problems: ps}, nil
	}
	if err != nil {
		return OrderResult{}, fmt.Errorf("change order %d: %w", orderID, err)
	}
	s.kickOutbox()
	return OrderResult{Order: changed}, nil
}

// Cancel cancels an order before it ships. An unpaid order releases its reservation; a paid one
// is restocked and refunded (the refund goes out through the outbox, after commit).
func (s *Service) Cancel(ctx context.Context, who Actor, orderID int64, reason string) (OrderResult, error) {
	return s.changeOrder(ctx, who, orderID, func(tx Tx, o *order.Order) error {
		comp, err := o.Cancel(reason, s.now())
		if err != nil {
			return err
		}
		if err := tx.ReleaseOrderDiscount(o.ID); err != nil {
			return fmt.Errorf("release discount use: %w", err)
		}
		switch comp {
		case order.ReleaseReservation:
			return releaseLines(tx, o)
		case order.RestockAndRefund:
			for _, l := range sortedLines(o) {
				if err := tx.Restock(l.ProductID, l.Quantity); err != nil {
					return fmt.Errorf("restock: %w", err)
				}
			}
			paid, err := tx.ApprovedPayments(o.ID)
			if err != nil {
				return err
			}
			for _, p := range paid {
				if err := tx.Enqueue(TopicRefund, RefundEvent{PaymentID: p.ID}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// sortedLines returns the lines that still name a product, in product-id order: the lock order of
// inventory rows everywhere.
func sortedLines(o *order.Order) []order.Line {
	var out []order.Line
	for _, l := range o.Lines {
		if l.ProductID != 0 {
			out = append(out, l)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ProductID < out[j-1].ProductID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func releaseLines(tx Tx, o *order.Order) error {
	for _, l := range sortedLines(o) {
		if err := tx.Release(l.ProductID, l.Quantity); err != nil {
			return fmt.Errorf("release reservation: %w", err)
		}
	}
	return nil
}

// MarkShipped records an admin shipping a paid order.
func (s *Service) MarkShipped(ctx context.Context, orderID int64, carrier, trackingNumber string) (OrderResult, error) {
	if carrier == "" || trackingNumber == "" || len(carrier) > 100 || len(trackingNumber) > 100 {
		return OrderResult{Problems: problem(CodeInvalidInput, "carrier and trackingNumber must be 1 to 100 characters", "trackingNumber")}, nil
	}
	return s.changeOrder(ctx, Actor{Admin: true}, orderID, func(_ Tx, o *order.Order) error {
		return o.Ship(order.Tracking{Carrier: carrier, Number: trackingNumber}, s.now())
	})
}

// MarkDelivered records an admin confirming delivery of a shipped order.
func (s *Service) MarkDelivered(ctx context.Context, orderID int64) (OrderResult, error) {
	return s.changeOrder(ctx, Actor{Admin: true}, orderID, func(_ Tx, o *order.Order) error {
		return o.Deliver(s.now())
	})
}

// InventoryResult is a product's stock after an admin set it, or why it was not set.
type InventoryResult struct {
	Level    InventoryLevel
	Problems Problems
}

// SetInventory sets a product's units on hand. It may not fall under what unpaid orders hold.
func (s *Service) SetInventory(ctx context.Context, productID int64, onHand int) (InventoryResult, error) {
	if onHand < 0 {
		return InventoryResult{Problems: problem(CodeInvalidInput, "onHand cannot be negative", "onHand")}, nil
	}
	var lvl InventoryLevel
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockInventory(productID)
		if errors.Is(err, apperr.ErrNotFound) {
			return problem(CodeNotFound, "no such product", "productId")
		}
		if err != nil {
			return err
		}
		if onHand < cur.Reserved {
			return problem(CodeInvalidInput, fmt.Sprintf("onHand cannot be below the %d units reserved by unpaid orders", cur.Reserved), "onHand")
		}
		if err := tx.SetOnHand(productID, onHand); err != nil {
			return err
		}
		lvl = InventoryLevel{ProductID: productID, OnHand: onHand, Reserved: cur.Reserved}
		return s.lowStockCheck(tx, productID, cur.Available(), lvl.Available())
	})
	var ps Problems
	if errors.As(err, &ps) {
		return InventoryResult{Problems: ps}, nil
	}
	if err != nil {
		return InventoryResult{}, fmt.Errorf("set inventory of product %d: %w", productID, err)
	}
	s.kickOutbox()
	return InventoryResult{Level: lvl}, nil
}

// ExpireReservations cancels unpaid orders whose stock hold lapsed and releases their stock.
// Orders with a payment awaiting the gateway are left for the reconciler to settle first.
func (s *Service) ExpireReservations(ctx context.Context) (int, error) {
	now := s.now()
	ids, err := s.store.ExpiredOrders(ctx, now, 200)
	if err != nil {
		return 0, fmt.Errorf("list expired orders: %w", err)
	}
	expired := 0
	for _, id := range ids {
		err := s.store.InTx(ctx, func(tx Tx) error {
			o, err := tx.LockOrder(id)
			if err != nil {
				return err
			}
			// Paid or cancelled since it was listed, or paying right now: nothing to do.
			if err := o.Expire(now); err != nil {
				return nil
			}
			if busy, err := tx.HasPendingPayment(id); err != nil || busy {
				return err
			}
			if err := tx.ReleaseOrderDiscount(id); err != nil {
				return err
			}
			if err := releaseLines(tx, o); err != nil {
				return err
			}
			if err := tx.SaveOrder(o); err != nil {
				return err
			}
			expired++
			return enqueueStatus(tx, o)
		})
		if err != nil {
			return expired, fmt.Errorf("expire order %d: %w", id, err)
		}
	}
	if expired > 0 {
		s.kickOutbox()
	}
	return expired, nil
}

// RunExpiry sweeps lapsed reservations and old idempotency keys every interval.
func (s *Service) RunExpiry(ctx context.Context, interval time.Duration) {
	runEvery(ctx, interval, func() {
		if n, err := s.ExpireReservations(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("expire reservations", "err", err)
		} else if n > 0 {
			s.log.Info("reservations expired", "orders", n)
		}
		if _, err := s.store.DeleteKeysBefore(ctx, s.now().Add(-s.settings.KeyRetention)); err != nil && ctx.Err() == nil {
			s.log.Error("forget old idempotency keys", "err", err)
		}
	})
}

// Order returns one of the user's orders; another user's order is apperr.ErrNotFound.
func (s *Service) Order(ctx context.Context, who Actor, orderID int64) (*order.Order, error) {
	o, err := s.store.Order(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if !who.Admin && o.UserID != who.UserID {
		return nil, apperr.ErrNotFound
	}
	return o, nil
}

// Orders lists a user's orders, newest first.
func (s *Service) Orders(ctx context.Context, userID int64, status order.Status, afterID int64, limit int) (OrderPage, error) {
	if status != "" && !status.Valid() {
		return OrderPage{}, apperr.Input("status", "unknown order status %q", status)
	}
	return s.store.UserOrders(ctx, userID, status, afterID, limit)
}

// OrderPayments lists an order's payments.
func (s *Service) OrderPayments(ctx context.Context, orderID int64) ([]payment.Payment, error) {
	return s.store.OrderPayments(ctx, orderID)
}

// Payment returns one of the user's payments; another user's is apperr.ErrNotFound.
func (s *Service) Payment(ctx context.Context, who Actor, paymentID int64) (payment.Payment, error) {
	p, err := s.store.Payment(ctx, paymentID)
	if err != nil {
		return payment.Payment{}, err
	}
	if !who.Admin && p.UserID != who.UserID {
		return payment.Payment{}, apperr.ErrNotFound
	}
	return p, nil
}

// ShippingMethods lists the methods checkout accepts.
func (s *Service) ShippingMethods(ctx context.Context) ([]pricing.ShippingMethod, error) {
	return s.store.ShippingMethods(ctx)
}

// Inventory returns a product's stock.
func (s *Service) Inventory(ctx context.Context, productID int64) (InventoryLevel, error) {
	return s.store.Inventory(ctx, productID)
}

// WatchStatus streams an order's status changes to its owner until ctx ends: the order as it is
// now, with the status each change announced (so quick successive changes are each seen).
func (s *Service) WatchStatus(ctx context.Context, userID, orderID int64) (<-chan *order.Order, error) {
	if _, err := s.Order(ctx, Actor{UserID: userID}, orderID); err != nil {
		return nil, err
	}
	statuses, err := s.feed.Subscribe(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("subscribe to order %d: %w", orderID, err)
	}
	out := make(chan *order.Order, 1)
	go func() {
		defer close(out)
		for st := range statuses {
			o, err := s.store.Order(ctx, orderID)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("load order for subscriber", "order", orderID, "err", err)
				}
				continue
			}
			o.Status = st
			select {
			case out <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
