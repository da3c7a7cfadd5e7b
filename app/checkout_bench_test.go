package app_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"storefront/testsupport"
)

// BenchmarkCheckout measures checkouts per second over HTTP against one hot product, from many
// concurrent shoppers, with stock for three quarters of the attempts so reservations contend and
// some checkouts run out. Each iteration puts a fresh one-line cart in place (one INSERT pair)
// and checks it out. At the end the stock must add up exactly: as many orders as units reserved,
// never more than were on hand.
func BenchmarkCheckout(b *testing.B) {
	s := newShop(b, nil)
	stock := max(b.N*3/4, 1)
	product := s.product("Hot item", 1999, stock)
	const shoppers = 32
	type shopper struct {
		c   *testsupport.Client
		key int64
	}
	people := make([]shopper, shoppers)
	for i := range people {
		c, u := s.customer()
		people[i] = shopper{c, u.Key}
	}
	ctx := context.Background()
	var next atomic.Int64
	var placed, short atomic.Int64
	var mu sync.Mutex
	var unexpected []string
	b.SetParallelism(shoppers / 2) // 2 cores → 32 goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		me := people[int(next.Add(1)-1)%shoppers]
		for pb.Next() {
			if _, err := s.pool.Exec(ctx, `UPDATE carts SET status = 'MERGED' WHERE user_id = $1 AND status = 'ACTIVE'`, me.key); err != nil {
				b.Error(err)
				return
			}
			cartID := s.cart(me.key, [2]int64{product, 1})
			res := checkout(b, me.c, cartID, "k-"+randHex(8), nil)
			switch {
			case res.Order != nil:
				placed.Add(1)
			case len(res.UserErrors) == 1 && res.UserErrors[0].Code == "OUT_OF_STOCK":
				short.Add(1)
			default:
				mu.Lock()
				unexpected = append(unexpected, dump(res.UserErrors))
				mu.Unlock()
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(unexpected) > 0 {
		b.Fatalf("%d unexpected answers, first: %s", len(unexpected), unexpected[0])
	}
	onHand, reserved, _ := s.stock(product)
	orders := s.count(`SELECT count(*) FROM orders`)
	if onHand != stock || reserved != int(placed.Load()) || orders != int(placed.Load()) || reserved > onHand {
		b.Fatalf("stock does not add up: on hand %d (want %d), reserved %d, orders %d, placed %d",
			onHand, stock, reserved, orders, placed.Load())
	}
	if want := min(b.N, stock); int(placed.Load()) != want {
		b.Fatalf("placed %d orders; want %d (min of attempts %d and stock %d)", placed.Load(), want, b.N, stock)
	}
	b.ReportMetric(float64(placed.Load())/elapsed.Seconds(), "checkouts/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "attempts/s")
	b.ReportMetric(float64(max(reserved-onHand, 0)), "oversold")
}
