// Package limits holds the store's anti-abuse rules that are business rules rather than transport
// rules: a customer may buy at most so many units of one product per day, so a scalper cannot
// empty a limited drop. The counting lives behind DailyCounter (Redis in production), so every
// server instance sees the same totals.
package limits

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrQuantityLimit is matched by every *QuantityLimitError; checkout reports it as the
// QUANTITY_LIMIT user error.
var ErrQuantityLimit = errors.New("daily quantity limit reached")

// QuantityLimitError says how many more units the customer may still buy today.
type QuantityLimitError struct {
	ProductID int64
	Max       int
	Remaining int
}

func (e *QuantityLimitError) Error() string {
	return fmt.Sprintf("at most %d units of this product per customer per day; %d left today", e.Max, e.Remaining)
}

// Is makes errors.Is(err, ErrQuantityLimit) true.
func (e *QuantityLimitError) Is(target error) bool { return target == ErrQuantityLimit }

// DailyCounter keeps one counter per key that ends with the day.
type DailyCounter interface {
	// AddIfWithin adds n to key's counter unless the total would exceed max, and reports the
	// total after the call (unchanged when refused). The counter expires after ttl.
	AddIfWithin(ctx context.Context, key string, n, max int64, ttl time.Duration) (total int64, added bool, err error)
	// Sub takes n back from key's counter, never below zero.
	Sub(ctx context.Context, key string, n int64) error
}

// PurchaseCap limits the units of one product a customer buys per calendar day (UTC).
type PurchaseCap struct {
	counter DailyCounter
	max     int
	now     func() time.Time
}

// NewPurchaseCap returns a cap of maxPerDay units per customer, product and day. A maxPerDay of
// zero or less turns the cap off.
func NewPurchaseCap(counter DailyCounter, maxPerDay int) *PurchaseCap {
	return &PurchaseCap{counter: counter, max: maxPerDay, now: time.Now}
}

// Max returns the units allowed per customer, product and day; 0 means no cap.
func (c *PurchaseCap) Max() int {
	if c == nil || c.max <= 0 {
		return 0
	}
	return c.max
}

// CheckAndConsume records that userID is buying qty units of productID today, or returns a
// *QuantityLimitError (errors.Is ErrQuantityLimit) and records nothing when that would pass the
// cap. Call it before reserving stock; when the purchase does not go through after all (the
// order transaction fails, the order is cancelled or expires unpaid), call Release with the same
// arguments and the same day's time so the customer may try again. Any other error means the
// counter could not be reached; letting the order through then (and logging) keeps a Redis
// outage from stopping sales, as the rate limits do.
func (c *PurchaseCap) CheckAndConsume(ctx context.Context, userID, productID int64, qty int) error {
	if c.Max() == 0 || qty <= 0 {
		return nil
	}
	key, ttl := c.key(userID, productID, c.now())
	total, added, err := c.counter.AddIfWithin(ctx, key, int64(qty), int64(c.max), ttl)
	if err != nil {
		return fmt.Errorf("check purchase cap: %w", err)
	}
	if !added {
		remaining := c.max - int(total)
		if remaining < 0 {
			remaining = 0
		}
		return &QuantityLimitError{ProductID: productID, Max: c.max, Remaining: remaining}
	}
	return nil
}

// CheckAndConsumeAll is CheckAndConsume for every product of an order (product id → units),
// all or nothing: when one product is over its cap, the units already recorded for the others
// are given back and that product's *QuantityLimitError is returned.
func (c *PurchaseCap) CheckAndConsumeAll(ctx context.Context, userID int64, units map[int64]int) error {
	at := c.now()
	done := make(map[int64]int, len(units))
	for productID, qty := range units {
		if err := c.CheckAndConsume(ctx, userID, productID, qty); err != nil {
			for p, q := range done {
				if rerr := c.Release(ctx, userID, p, q, at); rerr != nil {
					return errors.Join(err, rerr)
				}
			}
			return err
		}
		done[productID] = qty
	}
	return nil
}

// Release gives back units recorded by CheckAndConsume on the day at.
func (c *PurchaseCap) Release(ctx context.Context, userID, productID int64, qty int, at time.Time) error {
	if c.Max() == 0 || qty <= 0 {
		return nil
	}
	key, _ := c.key(userID, productID, at)
	if err := c.counter.Sub(ctx, key, int64(qty)); err != nil {
		return fmt.Errorf("release purchase cap: %w", err)
	}
	return nil
}

// key names the counter of one customer, product and UTC day. The counter lives a little past
// the day's end so that a clock skewed between instances still finds it.
func (c *PurchaseCap) key(userID, productID int64, at time.Time) (string, time.Duration) {
	day := at.UTC()
	end := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, time.UTC)
	return fmt.Sprintf("%d:%d:%s", userID, productID, day.Format("20060102")), end.Sub(at) + time.Hour
}
