package redis_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"storefront/domain/limits"
	sredis "storefront/store/redis"
)

// Concurrent checkouts of one customer never buy more than the cap of one product per day, and
// released units may be bought again.
func TestPurchaseCapHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	pc := limits.NewPurchaseCap(sredis.NewPurchaseCounter(openClient(t)), 10)
	ctx := context.Background()
	const user, product = int64(7), int64(42)

	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 25; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := pc.CheckAndConsume(ctx, user, product, 1)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, limits.ErrQuantityLimit):
				refused.Add(1)
			default:
				t.Errorf("CheckAndConsume: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || refused.Load() != 15 {
		t.Fatalf("%d bought, %d refused; want 10 and 15", ok.Load(), refused.Load())
	}

	var qle *limits.QuantityLimitError
	if err := pc.CheckAndConsume(ctx, user, product, 1); !errors.As(err, &qle) || qle.Remaining != 0 || qle.Max != 10 {
		t.Fatalf("over the pc: %v; want a QuantityLimitError with 0 remaining", err)
	}
	if err := pc.Release(ctx, user, product, 3, time.Now()); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := pc.CheckAndConsume(ctx, user, product, 4); !errors.As(err, &qle) || qle.Remaining != 3 {
		t.Fatalf("4 after releasing 3: %v; want refused with 3 remaining", err)
	}
	if err := pc.CheckAndConsume(ctx, user, product, 3); err != nil {
		t.Fatalf("3 after releasing 3: %v", err)
	}
	// Other products and other customers have budgets of their own.
	if err := pc.CheckAndConsume(ctx, user, product+1, 10); err != nil {
		t.Errorf("another product: %v", err)
	}
	if err := pc.CheckAndConsume(ctx, user+1, product, 10); err != nil {
		t.Errorf("another customer: %v", err)
	}
	// Releasing more than was bought never goes below zero.
	if err := pc.Release(ctx, user+1, product, 50, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := pc.CheckAndConsume(ctx, user+1, product, 11); !errors.Is(err, limits.ErrQuantityLimit) {
		t.Errorf("11 after an over-release: %v; want refused", err)
	}
}

func TestPurchaseCapOff(t *testing.T) {
	t.Parallel()
	pc := limits.NewPurchaseCap(sredis.NewPurchaseCounter(openClient(t)), 0)
	if err := pc.CheckAndConsume(context.Background(), 1, 1, 1000); err != nil || pc.Max() != 0 {
		t.Fatalf("pc 0: %v, max %d; want no cap", err, pc.Max())
	}
}

// An order over the cap for one product records nothing for the others.
func TestPurchaseCapAllOrNothing(t *testing.T) {
	t.Parallel()
	pc := limits.NewPurchaseCap(sredis.NewPurchaseCounter(openClient(t)), 5)
	ctx := context.Background()
	if err := pc.CheckAndConsumeAll(ctx, 1, map[int64]int{10: 2, 11: 5}); err != nil {
		t.Fatalf("first order: %v", err)
	}
	var qle *limits.QuantityLimitError
	err := pc.CheckAndConsumeAll(ctx, 1, map[int64]int{10: 3, 11: 1, 12: 4})
	if !errors.As(err, &qle) || qle.ProductID != 11 {
		t.Fatalf("second order: %v; want product 11 over its cap", err)
	}
	// Products 10 and 12 were given back: 3 more of 10 and 5 of 12 still fit.
	if err := pc.CheckAndConsumeAll(ctx, 1, map[int64]int{10: 3, 12: 5}); err != nil {
		t.Fatalf("after the refused order: %v", err)
	}
}
