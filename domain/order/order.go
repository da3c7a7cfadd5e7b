// Package order holds an order's life after checkout as a state machine:
//
//	PENDING_PAYMENT → PAID → SHIPPED → DELIVERED
//	PENDING_PAYMENT → CANCELLED   (by the customer, or when the stock reservation lapses)
//	PAID            → REFUNDED    (cancelled after payment: restocked and refunded)
//
// Every change goes through a method that checks the current state and returns ErrInvalidState
// when the change is not allowed, and every change is recorded in the status history. The methods
// say what else must happen (release a reservation, restock and refund); the checkout service does
// it in the same transaction that saves the order.
package order

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"storefront/domain/money"
)

// Status is where an order is in its life.
type Status string

// Statuses of an order.
const (
	PendingPayment Status = "PENDING_PAYMENT"
	Paid           Status = "PAID"
	Shipped        Status = "SHIPPED"
	Delivered      Status = "DELIVERED"
	Cancelled      Status = "CANCELLED"
	Refunded       Status = "REFUNDED"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case PendingPayment, Paid, Shipped, Delivered, Cancelled, Refunded:
		return true
	}
	return false
}

// ErrInvalidState is returned by a change that the order's current status does not allow.
var ErrInvalidState = errors.New("invalid order state")

// ErrReservationExpired is returned when paying an order whose stock hold has lapsed.
var ErrReservationExpired = fmt.Errorf("%w: the stock reservation has expired", ErrInvalidState)

// Line is a line as bought: the product's name and price are copied at checkout so later catalog
// edits do not change the order.
type Line struct {
	ID int64
	// ProductID is 0 once the product has been deleted from the catalog.
	ProductID   int64
	ProductName string
	Quantity    int
	UnitPrice   money.Amount
	LineTotal   money.Amount
}

// Address is the shipping address as written on the order.
type Address struct {
	Name       string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	// Country is ISO 3166-1 alpha-2, upper case.
	Country string
}

// Tracking is how a shipped order can be followed.
type Tracking struct {
	Carrier string
	Number  string
}

// StatusChange is one entry of an order's status history.
type StatusChange struct {
	Status Status
	At     time.Time
	Note   string
}

// Order is a customer's order.
type Order struct {
	ID     int64
	UserID int64
	Status Status
	Lines  []Line

	Subtotal money.Amount
	Discount money.Amount
	Shipping money.Amount
	Tax      money.Amount
	Total    money.Amount
	Currency string

	DiscountCode   string
	ShippingMethod string
	Address        Address
	Tracking       *Tracking
	// ReservationExpiresAt is when the stock held for an unpaid order is released; nil once the
	// order has left PENDING_PAYMENT.
	ReservationExpiresAt *time.Time
	CancelReason         string
	History              []StatusChange
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Number is the short, human-facing order number: "SF-" and the id, zero-padded to six digits.
func (o *Order) Number() string { return Number(o.ID) }

// Number formats an order id as its human-facing number.
func Number(id int64) string { return fmt.Sprintf("SF-%06d", id) }

// Compensation is what must happen to stock and money when an order is cancelled.
type Compensation int

// Compensations of a cancel.
const (
	// ReleaseReservation: the order was unpaid; its reserved stock becomes available again.
	ReleaseReservation Compensation = iota + 1
	// RestockAndRefund: the order was paid; its units return to stock and the payment is refunded.
	RestockAndRefund
)

func (o *Order) invalid(action string) error {
	return fmt.Errorf("%w: cannot %s an order that is %s", ErrInvalidState, action, o.Status)
}

func (o *Order) moveTo(s Status, at time.Time, note string) {
	o.Status = s
	o.UpdatedAt = at
	o.History = append(o.History, StatusChange{Status: s, At: at, Note: note})
}

// Place starts the life of a new order: PENDING_PAYMENT with its stock held until holdUntil.
func (o *Order) Place(at, holdUntil time.Time) error {
	if o.Status != "" {
		return o.invalid("place")
	}
	if len(o.Lines) == 0 {
		return errors.New("place order: no lines")
	}
	o.CreatedAt = at
	o.ReservationExpiresAt = &holdUntil
	o.moveTo(PendingPayment, at, "")
	return nil
}

// Payable says whether a payment may be taken now: the order awaits payment and its stock hold
// has not lapsed.
func (o *Order) Payable(now time.Time) error {
	if o.Status != PendingPayment {
		return o.invalid("pay")
	}
	if o.ReservationExpiresAt != nil && !now.Before(*o.ReservationExpiresAt) {
		return ErrReservationExpired
	}
	return nil
}

// MarkPaid records an approved payment. The reservation becomes a sale, so it no longer expires.
// An approval is honoured up to the moment the order is cancelled, even after the hold's nominal
// expiry, because the expiry sweep leaves orders with a payment in flight alone.
func (o *Order) MarkPaid(at time.Time) error {
	if o.Status != PendingPayment {
		return o.invalid("pay")
	}
	o.ReservationExpiresAt = nil
	o.moveTo(Paid, at, "")
	return nil
}

// Ship records that a paid order left the warehouse.
func (o *Order) Ship(t Tracking, at time.Time) error {
	if o.Status != Paid {
		return o.invalid("ship")
	}
	t.Carrier, t.Number = strings.TrimSpace(t.Carrier), strings.TrimSpace(t.Number)
	if t.Carrier == "" || t.Number == "" {
		return errors.New("ship order: carrier and tracking number are required")
	}
	o.Tracking = &t
	o.moveTo(Shipped, at, t.Carrier+" "+t.Number)
	return nil
}

// Deliver records that a shipped order arrived.
func (o *Order) Deliver(at time.Time) error {
	if o.Status != Shipped {
		return o.invalid("deliver")
	}
	o.moveTo(Delivered, at, "")
	return nil
}

// Cancel ends an order before it ships: an unpaid order is CANCELLED and its reservation released;
// a paid one is REFUNDED, restocked and its payment refunded.
func (o *Order) Cancel(reason string, at time.Time) (Compensation, error) {
	switch o.Status {
	case PendingPayment:
		o.CancelReason = reason
		o.ReservationExpiresAt = nil
		o.moveTo(Cancelled, at, reason)
		return ReleaseReservation, nil
	case Paid:
		o.CancelReason = reason
		o.moveTo(Refunded, at, reason)
		return RestockAndRefund, nil
	}
	return 0, o.invalid("cancel")
}

// Expire cancels an unpaid order whose stock hold has lapsed at now.
func (o *Order) Expire(now time.Time) error {
	if o.Status != PendingPayment {
		return o.invalid("expire")
	}
	if o.ReservationExpiresAt == nil || now.Before(*o.ReservationExpiresAt) {
		return fmt.Errorf("%w: the reservation has not expired", ErrInvalidState)
	}
	o.CancelReason = "reservation expired"
	o.ReservationExpiresAt = nil
	o.moveTo(Cancelled, now, o.CancelReason)
	return nil
}

// LastChange returns the most recent status change.
func (o *Order) LastChange() StatusChange {
	if len(o.History) == 0 {
		return StatusChange{Status: o.Status, At: o.UpdatedAt}
	}
	return o.History[len(o.History)-1]
}
