package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"storefront/app"
	"storefront/resolvers/relay"
	"storefront/testsupport"
)

func TestCheckoutPricesReservesAndClosesTheCart(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	mug := s.product("Mug", 1250, 10) // 12.50
	tea := s.product("Tea", 899, 3)   // 8.99
	c, user := s.customer()
	cartID := s.cart(user.Key, [2]int64{mug, 2}, [2]int64{tea, 1})

	res := checkout(t, c, cartID, "k1", map[string]any{"discountCode": " welcome10 "})
	if res.Order == nil {
		t.Fatalf("checkout: %+v", res.UserErrors)
	}
	o := res.Order
	// subtotal 25.00 + 8.99 = 33.99; 10% = 3.399 → 3.40; goods 30.59; standard 4.99 (under 50);
	// CA 7.25% of 30.59 = 2.2177… → 2.22; total 30.59 + 4.99 + 2.22 = 37.80.
	want := map[string]string{"subtotal": "33.99", "discount": "3.40", "shipping": "4.99", "tax": "2.22", "total": "37.80"}
	got := map[string]string{"subtotal": o.Subtotal.Amount, "discount": o.Discount.Amount, "shipping": o.Shipping.Amount,
		"tax": o.Tax.Amount, "total": o.Total.Amount}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s; want %s", k, got[k], v)
		}
	}
	if o.Status != "PENDING_PAYMENT" || o.Subtotal.CurrencyCode != "USD" || o.DiscountCode == nil || *o.DiscountCode != "WELCOME10" {
		t.Errorf("order = %s", dump(o))
	}
	if len(o.Number) < 4 || o.Number[:3] != "SF-" {
		t.Errorf("number = %q", o.Number)
	}
	if o.ReservationExpiresAt == nil || time.Until(*o.ReservationExpiresAt) < 14*time.Minute {
		t.Errorf("reservationExpiresAt = %v; want about 15 minutes ahead", o.ReservationExpiresAt)
	}
	if len(o.Lines) != 2 || o.Lines[0].ProductName != "Mug" || o.Lines[0].UnitPrice.Amount != "12.50" || o.Lines[0].LineTotal.Amount != "25.00" {
		t.Errorf("lines = %s", dump(o.Lines))
	}
	if len(o.StatusHistory) != 1 || o.StatusHistory[0].Status != "PENDING_PAYMENT" {
		t.Errorf("history = %s", dump(o.StatusHistory))
	}
	if on, res, _ := s.stock(mug); on != 10 || res != 2 {
		t.Errorf("mug stock = %d on hand, %d reserved; want 10, 2", on, res)
	}
	if n := s.count(`SELECT count(*) FROM carts WHERE status = 'CHECKED_OUT' AND user_id = $1`, user.Key); n != 1 {
		t.Errorf("checked-out carts = %d; want 1", n)
	}
	// A price change after checkout does not touch the order's snapshot.
	if _, err := s.pool.Exec(context.Background(), `UPDATE products SET price = 9999 WHERE id = $1`, mug); err != nil {
		t.Fatal(err)
	}
	var again struct {
		Order struct {
			Total money
			Lines []struct {
				UnitPrice money
				Product   *struct{ Name string }
			}
		}
	}
	c.Do(t, `query($id: ID!) { order(id: $id) { total { amount } lines { unitPrice { amount } product { name } } } }`,
		map[string]any{"id": o.ID}).Decode(t, &again)
	if again.Order.Lines[0].UnitPrice.Amount != "12.50" || again.Order.Total.Amount != "37.80" {
		t.Errorf("order changed with the catalog: %s", dump(again.Order))
	}
	if p := again.Order.Lines[0].Product; p == nil || p.Name != "Mug" {
		t.Errorf("line product = %+v; want the catalog's Mug", p)
	}
	// The closed cart cannot be checked out again.
	if res := checkout(t, c, cartID, "k2", nil); !hasCode(res.UserErrors, "NOT_FOUND") {
		t.Errorf("second checkout of the cart: %+v", res.UserErrors)
	}
}

func TestShippingMethodsAndFreeShipping(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	var out struct {
		ShippingMethods []struct {
			Code     string
			Price    money
			FreeOver *money
		}
	}
	s.Client().Do(t, `{ shippingMethods { code price { amount } freeOver { amount } } }`, nil).Decode(t, &out)
	if len(out.ShippingMethods) != 2 || out.ShippingMethods[0].Code != "standard" || out.ShippingMethods[0].Price.Amount != "4.99" ||
		out.ShippingMethods[0].FreeOver == nil || out.ShippingMethods[0].FreeOver.Amount != "50.00" ||
		out.ShippingMethods[1].Code != "express" || out.ShippingMethods[1].Price.Amount != "14.99" || out.ShippingMethods[1].FreeOver != nil {
		t.Fatalf("shippingMethods = %s", dump(out.ShippingMethods))
	}
	lamp := s.product("Lamp", 5000, 5)
	c, user := s.customer()
	de := map[string]any{"name": "Max", "line1": "Hauptstr. 1", "city": "Berlin", "postalCode": "10115", "country": "de"}
	free := checkout(t, c, s.cart(user.Key, [2]int64{lamp, 1}), "a", map[string]any{"shippingAddress": de})
	if free.Order == nil || free.Order.Shipping.Amount != "0.00" || free.Order.Tax.Amount != "9.50" || free.Order.Total.Amount != "59.50" {
		t.Errorf("standard over 50 to DE: %s %+v", dump(free.Order), free.UserErrors)
	}
	c2, user2 := s.customer()
	express := checkout(t, c2, s.cart(user2.Key, [2]int64{lamp, 1}), "b", map[string]any{"shippingMethod": "express"})
	if express.Order == nil || express.Order.Shipping.Amount != "14.99" || express.Order.ShippingMethod != "express" {
		t.Errorf("express: %s %+v", dump(express.Order), express.UserErrors)
	}
}

func TestCheckoutRefusesBadRequests(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	ctx := context.Background()
	pen := s.product("Pen", 150, 5)
	c, user := s.customer()
	_, otherUser := s.customer()

	if _, err := s.pool.Exec(ctx, `INSERT INTO discount_codes (code, kind, value, min_subtotal) VALUES ('BIGSPEND', 'FIXED', 500, 10000)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO discount_codes (code, kind, value, ends_at) VALUES ('OLD', 'PERCENT', 500, now() - interval '1 day')`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		client func() (cartID string)
		extra  map[string]any
		code   string
		field  string
	}{
		{"empty cart", func() string { return s.cart(user.Key) }, nil, "CART_EMPTY", "cartId"},
		{"another user's cart", func() string { return s.cart(otherUser.Key, [2]int64{pen, 1}) }, nil, "NOT_FOUND", "cartId"},
		{"no such cart", func() string { return relay.ID(relay.KindCart, "nope") }, nil, "NOT_FOUND", "cartId"},
		{"incomplete address", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"shippingAddress": map[string]any{"name": "A", "line1": " ", "city": "X", "postalCode": "1", "country": "US", "region": "CA"}},
			"INVALID_INPUT", "line1"},
		{"US address without state", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"shippingAddress": map[string]any{"name": "A", "line1": "1", "city": "X", "postalCode": "1", "country": "US"}},
			"INVALID_INPUT", "region"},
		{"bad country", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"shippingAddress": map[string]any{"name": "A", "line1": "1", "city": "X", "postalCode": "1", "country": "USA"}},
			"INVALID_INPUT", "country"},
		{"unknown shipping method", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"shippingMethod": "teleport"}, "INVALID_INPUT", "shippingMethod"},
		{"unknown discount code", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"discountCode": "NOPE"}, "INVALID_DISCOUNT_CODE", "discountCode"},
		{"discount under its minimum", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"discountCode": "BIGSPEND"}, "INVALID_DISCOUNT_CODE", "discountCode"},
		{"expired discount", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"discountCode": "old"}, "INVALID_DISCOUNT_CODE", "discountCode"},
		{"blank idempotency key", func() string { return s.cart(user.Key, [2]int64{pen, 1}) },
			map[string]any{"idempotencyKey": " "}, "INVALID_INPUT", "idempotencyKey"},
	}
	for _, tc := range cases {
		// Each case gets a fresh user-scoped cart; only one active cart per user may exist.
		if _, err := s.pool.Exec(ctx, `UPDATE carts SET status = 'MERGED' WHERE user_id = $1 AND status = 'ACTIVE'`, user.Key); err != nil {
			t.Fatal(err)
		}
		res := checkout(t, c, tc.client(), "key-"+randHex(4), tc.extra)
		if res.Order != nil || !hasCode(res.UserErrors, tc.code) {
			t.Errorf("%s: got %s %+v; want %s", tc.name, dump(res.Order), res.UserErrors, tc.code)
			continue
		}
		if f := res.UserErrors[0].Field; len(f) == 0 || f[len(f)-1] != tc.field {
			t.Errorf("%s: field = %v; want …%s", tc.name, f, tc.field)
		}
	}
	if on, res, _ := s.stock(pen); on != 5 || res != 0 {
		t.Errorf("failed checkouts changed stock: %d on hand, %d reserved", on, res)
	}
	if n := s.count(`SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("failed checkouts made %d orders", n)
	}
	// Guests cannot check out at all.
	resp := s.Client().Do(t, checkoutMutation, checkoutInput(relay.ID(relay.KindCart, "x"), "g", nil))
	if resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Errorf("guest checkout: %+v", resp.Errors)
	}
}

func TestCheckoutOutOfStockNamesTheLine(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	plenty := s.product("Plenty", 100, 50)
	scarce := s.product("Scarce", 100, 2)
	c, user := s.customer()
	cartID := s.cart(user.Key, [2]int64{plenty, 5}, [2]int64{scarce, 3})
	var lineID int64
	if err := s.pool.QueryRow(context.Background(), `SELECT id FROM cart_lines WHERE product_id = $1`, scarce).Scan(&lineID); err != nil {
		t.Fatal(err)
	}
	res := checkout(t, c, cartID, "k", nil)
	if res.Order != nil || len(res.UserErrors) != 1 || res.UserErrors[0].Code != "OUT_OF_STOCK" {
		t.Fatalf("checkout: %s %+v", dump(res.Order), res.UserErrors)
	}
	ue := res.UserErrors[0]
	if len(ue.Field) != 2 || ue.Field[1] != relay.IntID(relay.KindCartLine, lineID) {
		t.Errorf("field = %v; want the scarce line", ue.Field)
	}
	if want := `only 2 of "Scarce" available, 3 requested`; ue.Message != want {
		t.Errorf("message = %q; want %q", ue.Message, want)
	}
	// Nothing was held, and the cart is still open to fix and retry with the same key.
	if _, res, _ := s.stock(plenty); res != 0 {
		t.Errorf("a failed checkout kept %d units of another line reserved", res)
	}
	if _, err := s.pool.Exec(context.Background(), `UPDATE cart_lines SET quantity = 2 WHERE id = $1`, lineID); err != nil {
		t.Fatal(err)
	}
	if res := checkout(t, c, cartID, "k", nil); res.Order == nil {
		t.Fatalf("retry after fixing the cart: %+v", res.UserErrors)
	}
	if on, res, _ := s.stock(scarce); on != 2 || res != 2 {
		t.Errorf("scarce stock = %d/%d; want 2 on hand, 2 reserved", on, res)
	}
}

// TestConcurrentCheckoutsNeverOversell fires 50 checkouts at once, from 50 users, at a product with
// 10 in stock: exactly 10 orders, and once some are paid and the rest expire the numbers add up.
func TestConcurrentCheckoutsNeverOversell(t *testing.T) {
	t.Parallel()
	s := newShop(t, func(c *app.Config) { c.Checkout.ReservationTTL = 2 * time.Second })
	widget := s.product("Widget", 1000, 10)
	const shoppers = 50
	clients := make([]*testsupport.Client, shoppers)
	carts := make([]string, shoppers)
	for i := range clients {
		var user testsupport.UserInfo
		clients[i], user = s.customer()
		carts[i] = s.cart(user.Key, [2]int64{widget, 1})
	}
	results := make([]checkoutAnswer, shoppers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = checkout(t, clients[i], carts[i], "once", nil)
		}()
	}
	close(start)
	wg.Wait()

	var winners []int
	outOfStock := 0
	for i, r := range results {
		switch {
		case r.Order != nil:
			winners = append(winners, i)
		case len(r.UserErrors) == 1 && r.UserErrors[0].Code == "OUT_OF_STOCK":
			outOfStock++
		default:
			t.Errorf("unexpected answer: %+v", r.UserErrors)
		}
	}
	if len(winners) != 10 || outOfStock != 40 {
		t.Fatalf("%d orders and %d OUT_OF_STOCK; want 10 and 40", len(winners), outOfStock)
	}
	if on, res, sold := s.stock(widget); on != 10 || res != 10 || sold != 0 {
		t.Fatalf("after checkout: on hand %d, reserved %d, sold %d; want 10, 10, 0", on, res, sold)
	}
	// Pay four of them; the other six lapse and are released by the expiry sweep.
	for _, i := range winners[:4] {
		if r := pay(t, clients[i], results[i].Order.ID, "tok_visa", "pay"); r.Payment == nil || r.Payment.Status != "APPROVED" {
			t.Fatalf("pay: %+v", r.UserErrors)
		}
	}
	time.Sleep(2 * time.Second)
	n, err := s.App.Checkout.ExpireReservations(context.Background())
	if err != nil || n != 6 {
		t.Fatalf("expired %d orders (%v); want 6", n, err)
	}
	on, res, sold := s.stock(widget)
	if on != 6 || res != 0 || sold != 4 {
		t.Errorf("after payment and expiry: on hand %d, reserved %d, sold %d; want 6, 0, 4", on, res, sold)
	}
	if n := s.count(`SELECT count(*) FROM orders WHERE status = 'CANCELLED'`); n != 6 {
		t.Errorf("cancelled orders = %d; want 6", n)
	}
}

func TestDiscountUsageLimits(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `INSERT INTO discount_codes (code, kind, value, usage_limit) VALUES ('ONLYONE', 'FIXED', 100, 1);
		INSERT INTO discount_codes (code, kind, value, per_customer_limit) VALUES ('ONCEEACH', 'PERCENT', 500, 1)`); err != nil {
		t.Fatal(err)
	}
	p := s.product("Cup", 1000, 50)
	a, userA := s.customer()
	b, userB := s.customer()
	fresh := func(key int64) string {
		if _, err := s.pool.Exec(ctx, `UPDATE carts SET status = 'MERGED' WHERE user_id = $1 AND status = 'ACTIVE'`, key); err != nil {
			t.Fatal(err)
		}
		return s.cart(key, [2]int64{p, 1})
	}
	first := checkout(t, a, fresh(userA.Key), "a1", map[string]any{"discountCode": "ONLYONE"})
	if first.Order == nil || first.Order.Discount.Amount != "1.00" {
		t.Fatalf("first use: %s %+v", dump(first.Order), first.UserErrors)
	}
	if r := checkout(t, b, fresh(userB.Key), "b1", map[string]any{"discountCode": "ONLYONE"}); !hasCode(r.UserErrors, "INVALID_DISCOUNT_CODE") {
		t.Errorf("used-up code: %s %+v", dump(r.Order), r.UserErrors)
	}
	// Cancelling the order that used it gives the use back.
	if r := mutateOrder(t, a, cancelMutation, first.Order.ID); r.Order == nil {
		t.Fatalf("cancel: %+v", r.UserErrors)
	}
	if r := checkout(t, b, fresh(userB.Key), "b2", map[string]any{"discountCode": "ONLYONE"}); r.Order == nil {
		t.Errorf("code after the cancel: %+v", r.UserErrors)
	}
	// A per-customer limit counts each customer's own orders.
	if r := checkout(t, a, fresh(userA.Key), "a2", map[string]any{"discountCode": "ONCEEACH"}); r.Order == nil {
		t.Fatalf("first per-customer use: %+v", r.UserErrors)
	}
	if r := checkout(t, a, fresh(userA.Key), "a3", map[string]any{"discountCode": "onceeach"}); !hasCode(r.UserErrors, "INVALID_DISCOUNT_CODE") {
		t.Errorf("second per-customer use: %s %+v", dump(r.Order), r.UserErrors)
	}
	if r := checkout(t, b, fresh(userB.Key), "b3", map[string]any{"discountCode": "ONCEEACH"}); r.Order == nil {
		t.Errorf("another customer's first use: %+v", r.UserErrors)
	}
}

// TestCheckoutCountsAgainstTheDailyPurchaseCap: a customer may buy at most PurchaseCapPerDay
// units of one product a day across orders; a checkout that fails gives its units back.
func TestCheckoutCountsAgainstTheDailyPurchaseCap(t *testing.T) {
	t.Parallel()
	s := newShop(t, func(c *app.Config) { c.PurchaseCapPerDay = 5 })
	drop := s.product("Limited Drop", 500, 100)
	scarce := s.product("Scarce", 100, 1)
	c, user := s.customer()

	// A failed checkout (another line out of stock) must not use up today's allowance.
	failed := checkout(t, c, s.cart(user.Key, [2]int64{drop, 4}, [2]int64{scarce, 2}), "k0", nil)
	if failed.Order != nil || len(failed.UserErrors) != 1 || failed.UserErrors[0].Code != "OUT_OF_STOCK" {
		t.Fatalf("checkout with a scarce line: %s %+v", dump(failed.Order), failed.UserErrors)
	}
	if _, err := s.pool.Exec(context.Background(), `UPDATE carts SET status = 'MERGED' WHERE user_id = $1 AND status = 'ACTIVE'`, user.Key); err != nil {
		t.Fatal(err)
	}
	if res := checkout(t, c, s.cart(user.Key, [2]int64{drop, 4}), "k1", nil); res.Order == nil {
		t.Fatalf("first order of 4: %+v", res.UserErrors)
	}
	second := s.cart(user.Key, [2]int64{drop, 2})
	res := checkout(t, c, second, "k2", nil)
	if res.Order != nil || len(res.UserErrors) != 1 || res.UserErrors[0].Code != "QUANTITY_LIMIT" {
		t.Fatalf("second order over the cap: %s %+v", dump(res.Order), res.UserErrors)
	}
	if on, reserved, _ := s.stock(drop); on != 100 || reserved != 4 {
		t.Errorf("stock = %d/%d; want 100 on hand, 4 reserved", on, reserved)
	}
	if _, err := s.pool.Exec(context.Background(), `UPDATE cart_lines SET quantity = 1 WHERE cart_id IN
		(SELECT id FROM carts WHERE user_id = $1 AND status = 'ACTIVE')`, user.Key); err != nil {
		t.Fatal(err)
	}
	if res := checkout(t, c, second, "k3", nil); res.Order == nil {
		t.Fatalf("the fifth unit is still allowed: %+v", res.UserErrors)
	}
}
