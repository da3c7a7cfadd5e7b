package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"storefront/domain/apperr"
	"storefront/domain/order"
	"storefront/domain/payment"
)

// Outbox topics: what must happen after a commit.
const (
	// TopicOrderStatus announces every order status change (OrderStatusEvent).
	TopicOrderStatus = "order.status_changed"
	// TopicLowStock raises a low-stock alert (LowStockEvent).
	TopicLowStock = "stock.low"
	// TopicRefund refunds an approved payment through the gateway (RefundEvent).
	TopicRefund = "payment.refund"
)

// OrderStatusEvent says an order reached a status.
type OrderStatusEvent struct {
	OrderID int64        `json:"orderId"`
	UserID  int64        `json:"userId"`
	Status  order.Status `json:"status"`
	At      time.Time    `json:"at"`
}

// LowStockEvent says a product's available stock fell under the threshold.
type LowStockEvent struct {
	ProductID int64 `json:"productId"`
	Available int   `json:"available"`
	Threshold int   `json:"threshold"`
}

// RefundEvent asks for a payment to be refunded.
type RefundEvent struct {
	PaymentID int64 `json:"paymentId"`
}

// Event is an outbox event as the relay hands it over.
type Event struct {
	ID      int64
	Topic   string
	Payload []byte
}

// Outbox is the relay side of the transactional outbox, and what its consumers write.
type Outbox interface {
	// ProcessBatch claims up to limit due events (FOR UPDATE SKIP LOCKED, so instances share the
	// work), calls handle for each, marks the ones it handled and schedules a retry for the others.
	// It returns how many events it claimed.
	ProcessBatch(ctx context.Context, limit int, handle func(context.Context, Event) error) (int, error)
	// Consumed says whether consumer already handled the event; MarkConsumed records that it did.
	Consumed(ctx context.Context, consumer string, eventID int64) (bool, error)
	MarkConsumed(ctx context.Context, consumer string, eventID int64) error
	// SaveMessage stores a customer message once per order and kind; false if it already existed.
	SaveMessage(ctx context.Context, m Message) (bool, error)
	// SaveStockAlert stores a low-stock alert once per event.
	SaveStockAlert(ctx context.Context, eventID int64, e LowStockEvent) (bool, error)
	// MarkRefunded moves an approved payment to REFUNDED.
	MarkRefunded(ctx context.Context, paymentID int64) error
}

// Message is a message to a customer. No mail goes out: it is stored and logged.
type Message struct {
	OrderID int64
	UserID  int64
	Kind    string
	Subject string
	Body    string
}

func enqueueStatus(tx Tx, o *order.Order) error {
	c := o.LastChange()
	if err := tx.Enqueue(TopicOrderStatus, OrderStatusEvent{OrderID: o.ID, UserID: o.UserID, Status: c.Status, At: c.At}); err != nil {
		return fmt.Errorf("enqueue status change: %w", err)
	}
	return nil
}

// consumer handles the events of one topic. Each has a name for its processed-event markers, so
// an event with several consumers is retried only for the ones that failed.
type consumer struct {
	name   string
	topic  string
	handle func(ctx context.Context, ev Event) error
}

func (s *Service) consumers() []consumer {
	return []consumer{
		{"publish-status", TopicOrderStatus, s.publishStatus},
		{"confirmation-message", TopicOrderStatus, s.sendConfirmation},
		{"low-stock-alert", TopicLowStock, s.raiseLowStock},
		{"refund", TopicRefund, s.refund},
	}
}

// HandleEvent runs every consumer of the event's topic that has not handled it yet.
func (s *Service) HandleEvent(ctx context.Context, ev Event) error {
	var errs []error
	for _, c := range s.consumers() {
		if c.topic != ev.Topic {
			continue
		}
		done, err := s.outbox.Consumed(ctx, c.name, ev.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if done {
			continue
		}
		if err := c.handle(ctx, ev); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			continue
		}
		if err := s.outbox.MarkConsumed(ctx, c.name, ev.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunOutbox relays outbox events until ctx ends: at every tick, and at once after a commit on this
// instance wrote events.
func (s *Service) RunOutbox(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.outbox.ProcessBatch(ctx, 20, s.HandleEvent)
			if err != nil && ctx.Err() == nil {
				s.log.Error("outbox relay", "err", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

func (s *Service) kickOutbox() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) publishStatus(ctx context.Context, ev Event) error {
	var e OrderStatusEvent
	if err := json.Unmarshal(ev.Payload, &e); err != nil {
		return fmt.Errorf("decode event %d: %w", ev.ID, err)
	}
	return s.feed.Publish(ctx, e.OrderID, e.Status)
}

// sendConfirmation writes the order confirmation once the order is paid.
func (s *Service) sendConfirmation(ctx context.Context, ev Event) error {
	var e OrderStatusEvent
	if err := json.Unmarshal(ev.Payload, &e); err != nil {
		return fmt.Errorf("decode event %d: %w", ev.ID, err)
	}
	if e.Status != order.Paid {
		return nil
	}
	o, err := s.store.Order(ctx, e.OrderID)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Thank you for your order %s.\n\n", o.Number())
	for _, l := range o.Lines {
		fmt.Fprintf(&b, "%d × %s  %s\n", l.Quantity, l.ProductName, l.LineTotal)
	}
	fmt.Fprintf(&b, "\nSubtotal %s\nDiscount -%s\nShipping %s\nTax %s\nTotal %s %s\n",
		o.Subtotal, o.Discount, o.Shipping, o.Tax, o.Total, o.Currency)
	m := Message{OrderID: o.ID, UserID: o.UserID, Kind: "order-confirmation",
		Subject: "Your order " + o.Number() + " is confirmed", Body: b.String()}
	fresh, err := s.outbox.SaveMessage(ctx, m)
	if err != nil {
		return err
	}
	if fresh {
		s.log.Info("order confirmation", "order", o.Number(), "user", o.UserID, "subject", m.Subject)
	}
	return nil
}

func (s *Service) raiseLowStock(ctx context.Context, ev Event) error {
	var e LowStockEvent
	if err := json.Unmarshal(ev.Payload, &e); err != nil {
		return fmt.Errorf("decode event %d: %w", ev.ID, err)
	}
	fresh, err := s.outbox.SaveStockAlert(ctx, ev.ID, e)
	if err != nil {
		return err
	}
	if fresh {
		s.log.Warn("low stock", "product", e.ProductID, "available", e.Available, "threshold", e.Threshold)
	}
	return nil
}

// refund returns an approved payment's money through the gateway. The refund's idempotency key is
// derived from the payment, so a retried event never refunds twice.
func (s *Service) refund(ctx context.Context, ev Event) error {
	var e RefundEvent
	if err := json.Unmarshal(ev.Payload, &e); err != nil {
		return fmt.Errorf("decode event %d: %w", ev.ID, err)
	}
	p, err := s.store.Payment(ctx, e.PaymentID)
	if err != nil {
		return fmt.Errorf("load payment %d: %w", e.PaymentID, err)
	}
	if p.Status == payment.Refunded {
		return nil
	}
	if p.Status != payment.Approved || p.ChargeID == "" {
		return fmt.Errorf("payment %d is %s, not refundable yet", p.ID, p.Status)
	}
	if _, err := s.gateway.Refund(ctx, p.ChargeID, p.Amount, "refund-"+p.Reference); err != nil {
		return fmt.Errorf("refund payment %d: %w", p.ID, err)
	}
	if err := s.outbox.MarkRefunded(ctx, p.ID); err != nil {
		return err
	}
	s.log.Info("payment refunded", "payment", p.ID, "order", p.OrderID, "amount", p.Amount.String())
	return nil
}
