package app_test

import (
	"testing"
	"time"

	"storefront/testsupport"
)

// TestCartWatchersShareOneFeed: many subscriptions to one cart on one instance share a single
// notice subscription and read; every one gets each change; leaving ends the shared feed only
// with the last watcher; and a cart that stops being visible (merged at sign-in) ends its
// watchers' subscriptions.
func TestCartWatchersShareOneFeed(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	a := insertProducts(t, e.pool, productSpec{price: 700, stock: 50})[0]
	c := e.srv.Client()
	id := createCart(t, c).Cart.ID
	otherID := createCart(t, c).Cart.ID
	channel := "cart:" + cartKey(t, id)

	const n = 20
	subs := make([]*testsupport.Subscription, n)
	for i := range subs {
		subs[i] = e.srv.Subscribe(t, testsupport.ProtocolTransportWS, "", qSubscribe, map[string]any{"id": id})
	}
	other := e.srv.Subscribe(t, testsupport.ProtocolTransportWS, "", qSubscribe, map[string]any{"id": otherID})
	waitWatchStats(t, e, 2, n+1)
	if got := e.srv.App.Hub.Subscribers(channel); got != 1 {
		t.Fatalf("%d watchers hold %d hub subscriptions to the cart; want 1", n, got)
	}

	expect := func(subs []*testsupport.Subscription, quantity int) {
		t.Helper()
		for i, sub := range subs {
			resp, ok := sub.Next(5 * time.Second)
			if !ok {
				t.Fatalf("watcher %d: no cartUpdated for quantity %d", i, quantity)
			}
			var data struct{ CartUpdated gqlCart }
			resp.Decode(t, &data)
			if data.CartUpdated.TotalQuantity != quantity {
				t.Fatalf("watcher %d: cartUpdated quantity %d; want %d", i, data.CartUpdated.TotalQuantity, quantity)
			}
		}
	}
	addLines(t, c, id, line(a.ID, 1))
	expect(subs, 1)

	for _, sub := range subs[:n/2] {
		sub.Close()
	}
	waitWatchStats(t, e, 2, n/2+1)
	addLines(t, c, id, line(a.ID, 1))
	expect(subs[n/2:], 2)
	if got := e.srv.App.Hub.Subscribers(channel); got != 1 {
		t.Fatalf("hub subscriptions to the cart with %d watchers left: %d; want 1", n/2, got)
	}

	for _, sub := range subs[n/2:] {
		sub.Close()
	}
	waitWatchStats(t, e, 1, 1)
	for start := time.Now(); e.srv.App.Hub.Subscribers(channel) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the cart's hub subscription outlived its last watcher")
		}
	}

	// Signing in with the other guest cart merges it away: its watcher's subscription ends.
	addLines(t, c, otherID, line(a.ID, 2))
	expect([]*testsupport.Subscription{other}, 2)
	_, info := e.srv.NewCustomer(t)
	e.srv.Client().Do(t, `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`,
		map[string]any{"input": map[string]any{"email": info.Email, "password": info.Password, "cartId": otherID}})
	if !other.Ended(5 * time.Second) {
		t.Fatal("the subscription to a merged guest cart did not end")
	}
	waitWatchStats(t, e, 0, 0)
}

func waitWatchStats(t *testing.T, e *cartEnv, carts, watchers int) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		c, w := e.srv.App.Carts.WatchStats()
		if c == carts && w == watchers {
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("watched carts %d, watchers %d; want %d and %d", c, w, carts, watchers)
		}
	}
}
