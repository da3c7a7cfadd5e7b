package app

import (
	"context"
	"time"

	"storefront/domain/cart"
	"storefront/store/postgres"
	sredis "storefront/store/redis"
)

// wireCarts builds the cart service: Postgres as the truth, the Redis cart cache for reads,
// live product data from Postgres, and change notices through the instance's pub/sub hub. It
// also starts the sweep that deletes abandoned guest carts.
func (a *App) wireCarts() {
	a.Carts = cart.NewService(
		postgres.NewCarts(a.Pool),
		sredis.NewCartCache(a.Redis, a.cfg.CartGuestTTL),
		postgres.NewCartCatalog(a.Pool),
		a.Hub,
		cart.Limits{MaxQuantity: a.cfg.CartMaxQuantity, MaxLines: a.cfg.CartMaxLines},
		a.log,
	)
	a.deps.Carts = a.Carts
	a.addWorker("guest cart sweep", a.sweepGuestCarts)
}

// sweepGuestCarts deletes guest carts untouched for CartGuestTTL, every CartSweepInterval, until
// ctx ends. Several instances may sweep at once: the store skips rows another sweep holds.
func (a *App) sweepGuestCarts(ctx context.Context) {
	t := time.NewTicker(a.cfg.CartSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := a.Carts.DeleteExpiredGuestCarts(ctx, a.cfg.CartGuestTTL)
		if err != nil && ctx.Err() == nil {
			a.log.Error("guest cart sweep failed", "err", err)
		} else if n > 0 {
			a.log.Info("expired guest carts deleted", "count", n)
		}
	}
}
