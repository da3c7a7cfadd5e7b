package order

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func placed(t *testing.T) *Order {
	t.Helper()
	o := &Order{ID: 7, Lines: []Line{{ProductID: 1, Quantity: 2}}}
	if err := o.Place(t0, t0.Add(15*time.Minute)); err != nil {
		t.Fatalf("place: %v", err)
	}
	return o
}

// inState builds an order in status s through the allowed transitions.
func inState(t *testing.T, s Status) *Order {
	t.Helper()
	o := placed(t)
	steps := map[Status][]func() error{
		PendingPayment: nil,
		Paid:           {func() error { return o.MarkPaid(t0) }},
		Shipped: {func() error { return o.MarkPaid(t0) },
			func() error { return o.Ship(Tracking{"UPS", "1Z"}, t0) }},
		Delivered: {func() error { return o.MarkPaid(t0) },
			func() error { return o.Ship(Tracking{"UPS", "1Z"}, t0) }, func() error { return o.Deliver(t0) }},
		Cancelled: {func() error { _, err := o.Cancel("changed my mind", t0); return err }},
		Refunded: {func() error { return o.MarkPaid(t0) },
			func() error { _, err := o.Cancel("changed my mind", t0); return err }},
	}
	for _, step := range steps[s] {
		if err := step(); err != nil {
			t.Fatalf("reach %s: %v", s, err)
		}
	}
	if o.Status != s {
		t.Fatalf("status = %s; want %s", o.Status, s)
	}
	return o
}

func TestHappyPathRecordsHistory(t *testing.T) {
	t.Parallel()
	o := inState(t, Delivered)
	want := []Status{PendingPayment, Paid, Shipped, Delivered}
	if len(o.History) != len(want) {
		t.Fatalf("history = %+v", o.History)
	}
	for i, s := range want {
		if o.History[i].Status != s {
			t.Errorf("history[%d] = %s; want %s", i, o.History[i].Status, s)
		}
	}
	if o.Tracking == nil || o.Tracking.Carrier != "UPS" {
		t.Errorf("tracking = %+v", o.Tracking)
	}
	if o.ReservationExpiresAt != nil {
		t.Errorf("a paid order still has a reservation expiry")
	}
	if o.Number() != "SF-000007" {
		t.Errorf("number = %q", o.Number())
	}
}

func TestCancelCompensation(t *testing.T) {
	t.Parallel()
	if c, err := inState(t, PendingPayment).Cancel("x", t0); err != nil || c != ReleaseReservation {
		t.Errorf("cancel unpaid = %v, %v; want ReleaseReservation", c, err)
	}
	o := inState(t, Paid)
	if c, err := o.Cancel("x", t0); err != nil || c != RestockAndRefund || o.Status != Refunded {
		t.Errorf("cancel paid = %v, %v, %s; want RestockAndRefund, REFUNDED", c, err, o.Status)
	}
}

// TestEveryInvalidTransition tries every change from every status and expects ErrInvalidState
// wherever the state machine does not allow it, with the status left alone.
func TestEveryInvalidTransition(t *testing.T) {
	t.Parallel()
	all := []Status{PendingPayment, Paid, Shipped, Delivered, Cancelled, Refunded}
	changes := map[string]struct {
		allowedFrom []Status
		do          func(o *Order) error
	}{
		"pay":     {[]Status{PendingPayment}, func(o *Order) error { return o.MarkPaid(t0) }},
		"ship":    {[]Status{Paid}, func(o *Order) error { return o.Ship(Tracking{"DHL", "42"}, t0) }},
		"deliver": {[]Status{Shipped}, func(o *Order) error { return o.Deliver(t0) }},
		"cancel":  {[]Status{PendingPayment, Paid}, func(o *Order) error { _, err := o.Cancel("", t0); return err }},
		"expire":  {[]Status{PendingPayment}, func(o *Order) error { return o.Expire(t0.Add(time.Hour)) }},
		"place":   {nil, func(o *Order) error { return o.Place(t0, t0) }},
	}
	for name, c := range changes {
		for _, from := range all {
			allowed := false
			for _, a := range c.allowedFrom {
				allowed = allowed || a == from
			}
			o := inState(t, from)
			histLen := len(o.History)
			err := c.do(o)
			if allowed {
				if err != nil {
					t.Errorf("%s from %s: unexpected %v", name, from, err)
				}
				continue
			}
			if !errors.Is(err, ErrInvalidState) {
				t.Errorf("%s from %s: err = %v; want ErrInvalidState", name, from, err)
			}
			if o.Status != from || len(o.History) != histLen {
				t.Errorf("%s from %s: a refused change altered the order (%s, %d entries)", name, from, o.Status, len(o.History))
			}
		}
	}
}

func TestPayableAndExpiry(t *testing.T) {
	t.Parallel()
	o := placed(t)
	if err := o.Payable(t0.Add(time.Minute)); err != nil {
		t.Errorf("payable before expiry: %v", err)
	}
	if err := o.Payable(t0.Add(15 * time.Minute)); !errors.Is(err, ErrReservationExpired) {
		t.Errorf("payable at expiry: %v", err)
	}
	if err := o.Expire(t0.Add(time.Minute)); !errors.Is(err, ErrInvalidState) {
		t.Errorf("expire before the hold lapsed: %v", err)
	}
	if err := o.Expire(t0.Add(16 * time.Minute)); err != nil || o.Status != Cancelled {
		t.Errorf("expire after the hold lapsed: %v, %s", err, o.Status)
	}
}

func TestShipNeedsTracking(t *testing.T) {
	t.Parallel()
	o := inState(t, Paid)
	if err := o.Ship(Tracking{" ", "1"}, t0); err == nil || o.Status != Paid {
		t.Errorf("ship without carrier: %v, %s", err, o.Status)
	}
}
