package app_test

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/client"

	"storefront/store/postgres"
)

// A payment that the gateway approves at once costs two short transactions and no read after
// them: the answer shows the order and payment as the second transaction committed them, the
// sale included in the order's history.
func TestPayOrderStatementsAndAnswer(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	p := s.product("Kettle", 2500, 5)
	c, user := s.customer()
	o := mustCheckout(t, c, s.cart(user.Key, [2]int64{p, 2}))

	h := client.New(s.App.Handler(), client.Path("/graphql"))
	ctx, statements := postgres.WithStatementCounter(context.Background())
	var out struct {
		PayOrder struct {
			Order struct {
				Status        string
				StatusHistory []struct{ Status string }
				Lines         []struct{ Quantity int }
			}
			Payment    struct{ Status, Brand string }
			UserErrors []userError
		}
	}
	err := h.Post(`mutation($input: PayOrderInput!) { payOrder(input: $input) {
		order { status statusHistory { status } lines { quantity } } payment { status brand } userErrors { code field message } } }`,
		&out, client.Var("input", map[string]any{"orderId": o.ID, "paymentToken": "tok_visa", "idempotencyKey": "pay-" + randHex(8)}),
		client.AddHeader("Authorization", "Bearer "+c.Token),
		func(r *client.Request) { r.HTTP = r.HTTP.WithContext(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	got := out.PayOrder
	if len(got.UserErrors) > 0 || got.Order.Status != "PAID" || got.Payment.Status != "APPROVED" || got.Payment.Brand != "visa" {
		t.Fatalf("pay answered %s; want a PAID order and an APPROVED visa payment", dump(got))
	}
	if h := got.Order.StatusHistory; len(h) != 2 || h[0].Status != "PENDING_PAYMENT" || h[1].Status != "PAID" {
		t.Errorf("history in the answer: %s; want PENDING_PAYMENT then PAID", dump(h))
	}
	if len(got.Order.Lines) != 1 || got.Order.Lines[0].Quantity != 2 {
		t.Errorf("lines in the answer: %s; want one line of 2", dump(got.Order.Lines))
	}
	// Claim the key (1); BEGIN, lock the key, lock the order's head, insert the payment, record
	// the key, COMMIT (6); after the charge BEGIN, record the key, lock the payment, lock the
	// order with lines and history (3), update the payment, sell, save the order with its
	// history entry, enqueue its status event, COMMIT (11).
	if n := statements.Count(); n != 18 {
		t.Errorf("payOrder cost %d statements; want 18", n)
	}
	if onHand, reserved, sold := s.stock(p); onHand != 3 || reserved != 0 || sold != 2 {
		t.Errorf("stock after the sale: on hand %d, reserved %d, sold %d; want 3, 0, 2", onHand, reserved, sold)
	}
	if n := s.count(`SELECT count(*) FROM order_status_history WHERE order_id = (SELECT order_id FROM payments LIMIT 1)`); n != 2 {
		t.Errorf("%d history rows stored; want 2", n)
	}
}
