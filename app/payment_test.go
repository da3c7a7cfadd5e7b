package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"storefront/app"
	"storefront/domain/payment"
	"storefront/gateway"
	"storefront/resolvers/relay"
	"storefront/testsupport"
)

// pendingOrder checks out one unit of a fresh product for a fresh customer.
func (s *shop) pendingOrder(price int64, stock int) (orderID string, productKey int64, c *testsupport.Client) {
	s.t.Helper()
	p := s.product("Thing", price, stock)
	cl, user := s.customer()
	o := mustCheckout(s.t, cl, s.cart(user.Key, [2]int64{p, 1}))
	return o.ID, p, cl
}

func TestPaymentApprovedSellsTheReservation(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, product, c := s.pendingOrder(2000, 5)
	r := pay(t, c, orderID, "tok_visa", "p1")
	if len(r.UserErrors) > 0 || r.Payment == nil || r.Payment.Status != "APPROVED" || r.Order.Status != "PAID" {
		t.Fatalf("pay: %s %+v", dump(r), r.UserErrors)
	}
	if r.Payment.Brand == nil || *r.Payment.Brand != "visa" || r.Payment.Last4 == nil || *r.Payment.Last4 != "4242" ||
		r.Payment.Amount.Amount != "26.44" { // 20.00 + 4.99 shipping + 1.45 CA tax
		t.Errorf("payment = %s", dump(r.Payment))
	}
	if on, res, sold := s.stock(product); on != 4 || res != 0 || sold != 1 {
		t.Errorf("stock = %d/%d/%d; want 4 on hand, 0 reserved, 1 sold", on, res, sold)
	}
	// Only the token, brand and last four are kept.
	var token string
	if err := s.pool.QueryRow(context.Background(), `SELECT token FROM payments`).Scan(&token); err != nil || token != "tok_visa" {
		t.Errorf("stored token = %q, %v", token, err)
	}
	// The confirmation message is written once, after commit, by the outbox.
	eventually(t, "order confirmation", func() bool {
		return s.count(`SELECT count(*) FROM order_messages WHERE kind = 'order-confirmation'`) == 1
	})
	// Paying again is refused: the order is no longer awaiting payment.
	if again := pay(t, c, orderID, "tok_visa", "p2"); !hasCode(again.UserErrors, "INVALID_STATE") {
		t.Errorf("second payment with a new key: %+v", again.UserErrors)
	}
	if n := s.count(`SELECT count(*) FROM sandbox_charges`); n != 1 {
		t.Errorf("gateway charges = %d; want 1", n)
	}
}

func TestDeclinedThenApprovedPayment(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, product, c := s.pendingOrder(1000, 5)
	declined := pay(t, c, orderID, "tok_chargeDeclined", "try-1")
	if !hasCode(declined.UserErrors, "PAYMENT_DECLINED") || declined.Payment == nil || declined.Payment.Status != "DECLINED" ||
		declined.Order.Status != "PENDING_PAYMENT" {
		t.Fatalf("declined: %s", dump(declined))
	}
	if _, res, _ := s.stock(product); res != 1 {
		t.Errorf("a declined payment released the reservation: reserved %d", res)
	}
	// The same key answers the same decline without asking the gateway again.
	if replay := pay(t, c, orderID, "tok_chargeDeclined", "try-1"); !hasCode(replay.UserErrors, "PAYMENT_DECLINED") || replay.Payment.ID != declined.Payment.ID {
		t.Errorf("replayed decline: %s", dump(replay))
	}
	approved := pay(t, c, orderID, "tok_mastercard", "try-2")
	if len(approved.UserErrors) > 0 || approved.Payment.Status != "APPROVED" || approved.Order.Status != "PAID" {
		t.Fatalf("approved: %s", dump(approved))
	}
	var out struct{ Order orderJSON }
	c.Do(t, `query($id: ID!) { order(id: $id) { `+orderFields+` } }`, map[string]any{"id": orderID}).Decode(t, &out)
	if len(out.Order.Payments) != 2 || out.Order.Payments[0].Status != "DECLINED" || out.Order.Payments[1].Status != "APPROVED" {
		t.Errorf("payments = %s", dump(out.Order.Payments))
	}
	if n := s.count(`SELECT count(*) FROM sandbox_charges`); n != 2 {
		t.Errorf("gateway charges = %d; want 2", n)
	}
}

func TestPaymentIdempotency(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, product, c := s.pendingOrder(1500, 5)
	// Ten concurrent submissions with one key: one charge, one payment, the same answer.
	const n = 10
	answers := make([]payAnswer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = pay(t, c, orderID, "tok_visa", "same-key")
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if len(a.UserErrors) > 0 || a.Payment == nil || a.Payment.ID != answers[0].Payment.ID || a.Payment.Status != "APPROVED" {
			t.Errorf("answer %d: %s", i, dump(a))
		}
	}
	if got := s.count(`SELECT count(*) FROM sandbox_charges`); got != 1 {
		t.Errorf("gateway charges = %d; want 1", got)
	}
	if got := s.count(`SELECT count(*) FROM payments`); got != 1 {
		t.Errorf("payments = %d; want 1", got)
	}
	if on, res, sold := s.stock(product); on != 4 || res != 0 || sold != 1 {
		t.Errorf("stock = %d/%d/%d; want one unit sold once", on, res, sold)
	}
	// The same key with another token is a different request.
	if r := pay(t, c, orderID, "tok_mastercard", "same-key"); !hasCode(r.UserErrors, "IDEMPOTENCY_KEY_REUSED") {
		t.Errorf("reused key: %s", dump(r))
	}
	// Keys belong to their user: another user's identical key is theirs alone.
	other, _ := s.customer()
	if r := pay(t, other, orderID, "tok_visa", "same-key"); !hasCode(r.UserErrors, "NOT_FOUND") {
		t.Errorf("another user's payment: %s", dump(r))
	}
}

func TestCheckoutIdempotency(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	p := s.product("Book", 1200, 20)
	c, user := s.customer()
	cartID := s.cart(user.Key, [2]int64{p, 2})
	const n = 8
	answers := make([]checkoutAnswer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = checkout(t, c, cartID, "checkout-once", nil)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.Order == nil || a.Order.ID != answers[0].Order.ID {
			t.Errorf("answer %d: %s %+v", i, dump(a.Order), a.UserErrors)
		}
	}
	if got := s.count(`SELECT count(*) FROM orders`); got != 1 {
		t.Errorf("orders = %d; want 1", got)
	}
	if _, res, _ := s.stock(p); res != 2 {
		t.Errorf("reserved = %d; want 2 (held once)", res)
	}
	// Later, the same key and input still answer the first order.
	if again := checkout(t, c, cartID, "checkout-once", nil); again.Order == nil || again.Order.ID != answers[0].Order.ID {
		t.Errorf("sequential replay: %s %+v", dump(again.Order), again.UserErrors)
	}
	// The same key with a different input is refused.
	r := checkout(t, c, cartID, "checkout-once", map[string]any{"shippingMethod": "express"})
	if r.Order != nil || !hasCode(r.UserErrors, "IDEMPOTENCY_KEY_REUSED") {
		t.Errorf("reused key: %s %+v", dump(r.Order), r.UserErrors)
	}
}

// webhook posts a webhook body signed with secret at t and returns the status code.
func (s *shop) webhook(body []byte, secret []byte, at time.Time) int {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/webhooks/payments", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(payment.SignatureHeader, payment.Sign(secret, at, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("post webhook: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAsyncPaymentSettlesThroughTheSignedWebhook(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, product, c := s.pendingOrder(1000, 3)
	r := pay(t, c, orderID, "tok_async", "async")
	if len(r.UserErrors) > 0 || r.Payment.Status != "PENDING" || r.Order.Status != "PENDING_PAYMENT" {
		t.Fatalf("pay: %s", dump(r))
	}
	eventually(t, "the webhook to mark the order paid", func() bool { return orderStatus(t, c, orderID) == "PAID" })
	if on, res, sold := s.stock(product); on != 2 || res != 0 || sold != 1 {
		t.Errorf("stock = %d/%d/%d; want 2, 0, 1", on, res, sold)
	}
	if n := s.count(`SELECT count(*) FROM payment_webhook_events`); n != 1 {
		t.Errorf("webhook events = %d; want 1", n)
	}
	// The same key now answers the settled payment.
	if again := pay(t, c, orderID, "tok_async", "async"); again.Payment.Status != "APPROVED" || again.Payment.ID != r.Payment.ID {
		t.Errorf("replay after settlement: %s", dump(again))
	}
}

func TestForgedStaleAndReplayedWebhooksChangeNothing(t *testing.T) {
	t.Parallel()
	// The sandbox never settles on its own here: the test plays the provider's webhooks itself.
	var secret []byte
	s := newShop(t, func(c *app.Config) { c.Checkout.SandboxAsyncDelay = time.Hour; secret = c.Checkout.WebhookSecret })
	orderID, product, c := s.pendingOrder(1000, 3)
	r := pay(t, c, orderID, "tok_async", "async")
	if r.Payment == nil || r.Payment.Status != "PENDING" {
		t.Fatalf("pay: %s", dump(r))
	}
	var charge gateway.Charge
	if err := s.pool.QueryRow(context.Background(), `SELECT id, idempotency_key, amount, currency FROM sandbox_charges`).
		Scan(&charge.ID, &charge.Reference, &charge.Amount, &charge.Currency); err != nil {
		t.Fatal(err)
	}
	charge.Status, charge.Brand, charge.Last4 = "approved", "visa", "3155"
	body, _ := json.Marshal(gateway.Event{ID: "evt_approve_1", Type: "charge.approved", Created: time.Now().Unix(), Data: charge})

	if code := s.webhook(body, []byte("whsec_not_the_secret"), time.Now()); code != http.StatusBadRequest {
		t.Errorf("forged signature answered %d; want 400", code)
	}
	if code := s.webhook(body, secret, time.Now().Add(-6*time.Minute)); code != http.StatusBadRequest {
		t.Errorf("stale timestamp answered %d; want 400", code)
	}
	tampered := bytes.Replace(body, []byte(`"amount":`), []byte(`"amount":1`), 1)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/webhooks/payments", bytes.NewReader(tampered))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(payment.SignatureHeader, payment.Sign(secret, time.Now(), body))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("tampered body: %v %v", resp, err)
	}
	if st := orderStatus(t, c, orderID); st != "PENDING_PAYMENT" {
		t.Fatalf("a rejected webhook changed the order to %s", st)
	}
	if n := s.count(`SELECT count(*) FROM payment_webhook_events`); n != 0 {
		t.Errorf("rejected webhooks were recorded: %d", n)
	}

	if code := s.webhook(body, secret, time.Now()); code != http.StatusOK {
		t.Fatalf("genuine webhook answered %d", code)
	}
	if st := orderStatus(t, c, orderID); st != "PAID" {
		t.Fatalf("after the genuine webhook the order is %s", st)
	}
	// Cancel the paid order (restock and refund), then replay the approval: nothing changes.
	if res := mutateOrder(t, c, cancelMutation, orderID); res.Order == nil || res.Order.Status != "REFUNDED" {
		t.Fatalf("cancel: %s", dump(res))
	}
	if code := s.webhook(body, secret, time.Now()); code != http.StatusOK {
		t.Errorf("replayed webhook answered %d; want 200 (acknowledged, ignored)", code)
	}
	if st := orderStatus(t, c, orderID); st != "REFUNDED" {
		t.Errorf("a replayed webhook moved the order to %s", st)
	}
	if on, res, sold := s.stock(product); on != 3 || res != 0 || sold != 0 {
		t.Errorf("stock after replay = %d/%d/%d; want 3, 0, 0", on, res, sold)
	}
	if n := s.count(`SELECT count(*) FROM payment_webhook_events`); n != 1 {
		t.Errorf("webhook events = %d; want 1", n)
	}
}

func TestCancelPaidOrderRestocksAndRefunds(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, product, c := s.pendingOrder(3000, 4)
	if r := pay(t, c, orderID, "tok_visa", "k"); r.Order == nil || r.Order.Status != "PAID" {
		t.Fatalf("pay: %s", dump(r))
	}
	if on, _, sold := s.stock(product); on != 3 || sold != 1 {
		t.Fatalf("after payment: on hand %d, sold %d", on, sold)
	}
	res := mutateOrder(t, c, cancelMutation, orderID)
	if res.Order == nil || res.Order.Status != "REFUNDED" || len(res.UserErrors) > 0 {
		t.Fatalf("cancel: %s", dump(res))
	}
	if on, reserved, sold := s.stock(product); on != 4 || reserved != 0 || sold != 0 {
		t.Errorf("after cancel: %d/%d/%d; want 4, 0, 0", on, reserved, sold)
	}
	eventually(t, "the refund to reach the gateway", func() bool {
		return s.count(`SELECT count(*) FROM payments WHERE status = 'REFUNDED'`) == 1
	})
	var refunded int64
	if err := s.pool.QueryRow(context.Background(), `SELECT refunded_amount FROM sandbox_charges`).Scan(&refunded); err != nil || refunded != 3717 {
		t.Errorf("gateway refunded %d (%v); want 3717, the whole total", refunded, err)
	}
	if n := s.count(`SELECT count(*) FROM sandbox_refunds`); n != 1 {
		t.Errorf("refunds = %d; want 1", n)
	}
}

func TestCancelUnpaidOrderReleasesStock(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, product, c := s.pendingOrder(500, 2)
	res := mutateOrder(t, c, cancelMutation, orderID)
	if res.Order == nil || res.Order.Status != "CANCELLED" {
		t.Fatalf("cancel: %s", dump(res))
	}
	if on, reserved, _ := s.stock(product); on != 2 || reserved != 0 {
		t.Errorf("after cancel: %d on hand, %d reserved; want 2, 0", on, reserved)
	}
	if r := pay(t, c, orderID, "tok_visa", "late"); !hasCode(r.UserErrors, "INVALID_STATE") {
		t.Errorf("paying a cancelled order: %s", dump(r))
	}
	if n := s.count(`SELECT count(*) FROM sandbox_charges`); n != 0 {
		t.Errorf("a cancelled order was charged")
	}
}

func TestReservationExpiryWorkerReleasesStock(t *testing.T) {
	t.Parallel()
	s := newShop(t, func(c *app.Config) {
		c.Checkout.ReservationTTL = 300 * time.Millisecond
		c.Checkout.ExpiryInterval = 50 * time.Millisecond
	})
	orderID, product, c := s.pendingOrder(500, 2)
	eventually(t, "the reservation to expire", func() bool { return orderStatus(t, c, orderID) == "CANCELLED" })
	if on, reserved, _ := s.stock(product); on != 2 || reserved != 0 {
		t.Errorf("after expiry: %d on hand, %d reserved; want 2, 0", on, reserved)
	}
	if r := pay(t, c, orderID, "tok_visa", "late"); !hasCode(r.UserErrors, "INVALID_STATE") {
		t.Errorf("paying an expired order: %s", dump(r))
	}
}

func TestReconcilerSettlesPaymentsLeftPending(t *testing.T) {
	t.Parallel()
	s := newShop(t, func(c *app.Config) { c.Checkout.ReconcileAfter = time.Millisecond })
	ctx := context.Background()
	// A crash between the gateway's approval and our commit: the payment row is PENDING with its
	// reference, and the gateway holds an approved charge for that reference.
	orderID, product, c := s.pendingOrder(1000, 3)
	key, _ := relay.ParseIntID(orderID, relay.KindOrder)
	var userKey, total int64
	if err := s.pool.QueryRow(ctx, `SELECT user_id, total FROM orders WHERE id = $1`, key).Scan(&userKey, &total); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO payments (order_id, user_id, status, amount, currency, token, reference)
		VALUES ($1, $2, 'PENDING', $3, 'USD', 'tok_visa', 'pay_crashed')`, key, userKey, total); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(gateway.ChargeRequest{Amount: total, Currency: "USD", Token: "tok_visa"})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/sandbox/payments/charges", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(gateway.IdempotencyHeader, "pay_crashed")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("charge at the sandbox: %v %v", resp, err)
	}
	resp.Body.Close()
	// Another order's payment never reached the gateway at all.
	lostID, lostProduct, lc := s.pendingOrder(700, 1)
	lostKey, _ := relay.ParseIntID(lostID, relay.KindOrder)
	if _, err := s.pool.Exec(ctx, `INSERT INTO payments (order_id, user_id, status, amount, currency, token, reference)
		SELECT id, user_id, 'PENDING', total, 'USD', 'tok_visa', 'pay_lost' FROM orders WHERE id = $1`, lostKey); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)

	settled, err := s.App.Checkout.ReconcilePayments(ctx)
	if err != nil || settled != 2 {
		t.Fatalf("reconciled %d (%v); want 2", settled, err)
	}
	if st := orderStatus(t, c, orderID); st != "PAID" {
		t.Errorf("recovered order is %s; want PAID", st)
	}
	if on, res, sold := s.stock(product); on != 2 || res != 0 || sold != 1 {
		t.Errorf("recovered order stock = %d/%d/%d; want 2, 0, 1", on, res, sold)
	}
	if st := orderStatus(t, lc, lostID); st != "PENDING_PAYMENT" {
		t.Errorf("order whose payment never left is %s; want PENDING_PAYMENT (payable again)", st)
	}
	if n := s.count(`SELECT count(*) FROM payments WHERE reference = 'pay_lost' AND status = 'DECLINED'`); n != 1 {
		t.Errorf("the lost payment was not declined")
	}
	if _, res, _ := s.stock(lostProduct); res != 1 {
		t.Errorf("the lost payment's order lost its reservation")
	}
	if r := pay(t, lc, lostID, "tok_visa", "retry"); r.Order == nil || r.Order.Status != "PAID" {
		t.Errorf("paying again after the lost payment: %s", dump(r))
	}
	// Nothing is left to do, and running again changes nothing.
	if again, err := s.App.Checkout.ReconcilePayments(ctx); err != nil || again != 0 {
		t.Errorf("second run settled %d (%v)", again, err)
	}
}

func TestOutboxConsumersAreIdempotent(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, _, c := s.pendingOrder(1000, 5)
	if r := pay(t, c, orderID, "tok_visa", "k"); r.Order == nil || r.Order.Status != "PAID" {
		t.Fatalf("pay: %s", dump(r))
	}
	eventually(t, "the outbox to drain", func() bool {
		return s.count(`SELECT count(*) FROM outbox WHERE processed_at IS NULL`) == 0
	})
	// Deliver every event again, as a relay that crashed before marking them would: the markers
	// make each consumer skip what it already did.
	var ids []int64
	rows, err := s.pool.Query(context.Background(), `SELECT id FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	markers := s.count(`SELECT count(*) FROM processed_events`)
	if _, err := s.pool.Exec(context.Background(), `UPDATE outbox SET processed_at = NULL`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the outbox to drain again", func() bool {
		return s.count(`SELECT count(*) FROM outbox WHERE processed_at IS NULL`) == 0
	})
	if n := s.count(`SELECT count(*) FROM order_messages`); n != 1 {
		t.Errorf("confirmation messages = %d; want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM processed_events`); n != markers || len(ids) < 2 {
		t.Errorf("markers = %d after redelivery; want %d (events %d)", n, markers, len(ids))
	}
}

func TestChargeForTheWrongAmountIsRefundedNotAccepted(t *testing.T) {
	t.Parallel()
	s := newShop(t, func(c *app.Config) { c.Checkout.ReconcileAfter = time.Millisecond })
	ctx := context.Background()
	orderID, product, c := s.pendingOrder(1000, 3)
	key, _ := relay.ParseIntID(orderID, relay.KindOrder)
	// A payment recorded for the order's total, but the gateway charged one cent less.
	if _, err := s.pool.Exec(ctx, `INSERT INTO payments (order_id, user_id, status, amount, currency, token, reference)
		SELECT id, user_id, 'PENDING', total, 'USD', 'tok_visa', 'pay_short' FROM orders WHERE id = $1`, key); err != nil {
		t.Fatal(err)
	}
	var total int64
	_ = s.pool.QueryRow(ctx, `SELECT total FROM orders WHERE id = $1`, key).Scan(&total)
	body, _ := json.Marshal(gateway.ChargeRequest{Amount: total - 1, Currency: "USD", Token: "tok_visa"})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/sandbox/payments/charges", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(gateway.IdempotencyHeader, "pay_short")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("charge at the sandbox: %v %v", resp, err)
	}
	resp.Body.Close()
	time.Sleep(5 * time.Millisecond)
	if _, err := s.App.Checkout.ReconcilePayments(ctx); err != nil {
		t.Fatal(err)
	}
	if st := orderStatus(t, c, orderID); st != "PENDING_PAYMENT" {
		t.Errorf("order is %s after a short charge; want PENDING_PAYMENT", st)
	}
	if _, res, sold := s.stock(product); res != 1 || sold != 0 {
		t.Errorf("stock moved on a short charge: reserved %d, sold %d", res, sold)
	}
	eventually(t, "the short charge to be refunded", func() bool {
		return s.count(`SELECT count(*) FROM payments WHERE reference = 'pay_short' AND status = 'REFUNDED'`) == 1
	})
}

// A worker waiting on a payment gateway that does not answer stops with the server: its call is
// cancelled, not waited out to the gateway client's own timeout (longer than the stop's).
func TestStopCancelsAWorkerWaitingOnTheGateway(t *testing.T) {
	t.Parallel()
	asked := make(chan struct{}, 1)
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	t.Cleanup(silent.Close) // after the shop's stop: cleanups run last first
	s := newShop(t, func(c *app.Config) {
		c.Checkout.GatewayURL = silent.URL
		c.Checkout.ReconcileAfter = time.Millisecond
		c.Checkout.ReconcileInterval = 20 * time.Millisecond
	})
	orderID, _, _ := s.pendingOrder(1000, 3)
	key, _ := relay.ParseIntID(orderID, relay.KindOrder)
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO payments (order_id, user_id, status, amount, currency, token, reference)
		SELECT id, user_id, 'PENDING', total, 'USD', 'tok_visa', 'pay_unanswered' FROM orders WHERE id = $1`, key); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the reconciler never asked the gateway")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop with the reconciler waiting on the gateway: %v", err)
	}
}
