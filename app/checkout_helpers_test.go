package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/app"
	"storefront/domain/identity"
	"storefront/resolvers/relay"
	"storefront/seed"
	"storefront/testsupport"
)

// shop is a server with checkout settings seeded, and a pool on its database for arranging and
// inspecting state directly.
type shop struct {
	*testsupport.Server
	pool *pgxpool.Pool
	t    testing.TB
}

// cheapHashing keeps account creation fast in tests that need many users.
var cheapHashing = identity.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// newShop starts a server with fast checkout workers; edit adjusts the configuration first.
func newShop(t testing.TB, edit func(*app.Config)) *shop {
	t.Helper()
	cfg := testsupport.Config(t)
	cfg.PasswordHashing = cheapHashing
	cfg.Checkout.OutboxInterval = 50 * time.Millisecond
	cfg.Checkout.ExpiryInterval = time.Hour
	cfg.Checkout.ReconcileInterval = time.Hour
	// Long enough that payOrder has answered PENDING before the approval arrives, even on a
	// loaded machine; short enough to keep the tests quick.
	cfg.Checkout.SandboxAsyncDelay = 500 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	srv := testsupport.StartServer(t, cfg)
	if err := seed.CheckoutSettings(context.Background(), srv.App.Pool); err != nil {
		t.Fatalf("seed checkout settings: %v", err)
	}
	return &shop{Server: srv, pool: srv.App.Pool, t: t}
}

// product creates a product with price (minor units) and stock on hand, and returns its key.
func (s *shop) product(name string, price int64, onHand int) int64 {
	s.t.Helper()
	ctx := context.Background()
	var cat, seller int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO categories (slug, name) VALUES ('test-cat', 'Test')
		ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id`).Scan(&cat); err != nil {
		s.t.Fatalf("category: %v", err)
	}
	if err := s.pool.QueryRow(ctx, `INSERT INTO sellers (slug, name) VALUES ('test-seller', 'Test')
		ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id`).Scan(&seller); err != nil {
		s.t.Fatalf("seller: %v", err)
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO products (slug, name, price, category_id, seller_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, "p-"+randHex(6), name, price, cat, seller).Scan(&id); err != nil {
		s.t.Fatalf("product: %v", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO inventory (product_id, on_hand) VALUES ($1, $2)`, id, onHand); err != nil {
		s.t.Fatalf("inventory: %v", err)
	}
	return id
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cart creates an active cart of the user holding quantity of each product, and returns its
// global id.
func (s *shop) cart(userKey int64, lines ...[2]int64) string {
	s.t.Helper()
	ctx := context.Background()
	id := randHex(16)
	if _, err := s.pool.Exec(ctx, `INSERT INTO carts (id, user_id) VALUES ($1, $2)`, id, userKey); err != nil {
		s.t.Fatalf("cart: %v", err)
	}
	for _, l := range lines {
		if _, err := s.pool.Exec(ctx, `INSERT INTO cart_lines (cart_id, product_id, quantity, added_unit_price)
			SELECT $1, id, $3, price FROM products WHERE id = $2`, id, l[0], l[1]); err != nil {
			s.t.Fatalf("cart line: %v", err)
		}
	}
	return relay.ID(relay.KindCart, id)
}

// stock returns a product's on hand, reserved and sold counts.
func (s *shop) stock(productID int64) (onHand, reserved, sold int) {
	s.t.Helper()
	if err := s.pool.QueryRow(context.Background(), `SELECT i.on_hand, i.reserved, p.sold_count FROM inventory i
		JOIN products p ON p.id = i.product_id WHERE i.product_id = $1`, productID).Scan(&onHand, &reserved, &sold); err != nil {
		s.t.Fatalf("stock: %v", err)
	}
	return
}

func (s *shop) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatalf("count %q: %v", query, err)
	}
	return n
}

// customer registers a customer.
func (s *shop) customer() (*testsupport.Client, testsupport.UserInfo) {
	s.t.Helper()
	return s.NewCustomer(s.t)
}

func productID(key int64) string { return relay.IntID(relay.KindProduct, key) }

var shipTo = map[string]any{
	"name": "Ada Lovelace", "line1": "1 Main St", "city": "San Francisco", "region": "CA",
	"postalCode": "94105", "country": "US",
}

const orderFields = `id number status subtotal { amount currencyCode } discount { amount } tax { amount }
	shipping { amount } total { amount } discountCode shippingMethod reservationExpiresAt
	shippingAddress { name line1 city region postalCode country }
	lines { productName quantity unitPrice { amount } lineTotal { amount } }
	statusHistory { status at } tracking { carrier number } payments { status amount { amount } brand last4 }`

const checkoutMutation = `mutation($input: CheckoutInput!) { checkout(input: $input) {
	order { ` + orderFields + ` } userErrors { code field message } } }`

const payMutation = `mutation($input: PayOrderInput!) { payOrder(input: $input) {
	order { id status } payment { id status amount { amount } brand last4 } userErrors { code field message } } }`

const cancelMutation = `mutation($id: ID!) { orderCancel(orderId: $id, reason: "changed my mind") {
	order { id status } userErrors { code field message } } }`

const shipMutation = `mutation($id: ID!) { orderMarkShipped(orderId: $id, carrier: "UPS", trackingNumber: "1Z999") {
	order { id status tracking { carrier number } } userErrors { code field message } } }`

const deliverMutation = `mutation($id: ID!) { orderMarkDelivered(orderId: $id) {
	order { id status } userErrors { code field message } } }`

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

type userError struct {
	Code    string   `json:"code"`
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

type orderJSON struct {
	ID                   string     `json:"id"`
	Number               string     `json:"number"`
	Status               string     `json:"status"`
	Subtotal             money      `json:"subtotal"`
	Discount             money      `json:"discount"`
	Tax                  money      `json:"tax"`
	Shipping             money      `json:"shipping"`
	Total                money      `json:"total"`
	DiscountCode         *string    `json:"discountCode"`
	ShippingMethod       string     `json:"shippingMethod"`
	ReservationExpiresAt *time.Time `json:"reservationExpiresAt"`
	Lines                []struct {
		ProductName string `json:"productName"`
		Quantity    int    `json:"quantity"`
		UnitPrice   money  `json:"unitPrice"`
		LineTotal   money  `json:"lineTotal"`
	} `json:"lines"`
	StatusHistory []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	} `json:"statusHistory"`
	Tracking *struct {
		Carrier string `json:"carrier"`
		Number  string `json:"number"`
	} `json:"tracking"`
	Payments []paymentJSON `json:"payments"`
}

type paymentJSON struct {
	ID     string  `json:"id"`
	Status string  `json:"status"`
	Amount money   `json:"amount"`
	Brand  *string `json:"brand"`
	Last4  *string `json:"last4"`
}

type checkoutAnswer struct {
	Order      *orderJSON  `json:"order"`
	UserErrors []userError `json:"userErrors"`
}

type payAnswer struct {
	Order      *orderJSON   `json:"order"`
	Payment    *paymentJSON `json:"payment"`
	UserErrors []userError  `json:"userErrors"`
}

func checkoutInput(cartID, key string, extra map[string]any) map[string]any {
	in := map[string]any{"cartId": cartID, "shippingAddress": shipTo, "shippingMethod": "standard", "idempotencyKey": key}
	for k, v := range extra {
		in[k] = v
	}
	return map[string]any{"input": in}
}

// checkout runs the checkout mutation and decodes its payload.
func checkout(t testing.TB, c *testsupport.Client, cartID, key string, extra map[string]any) checkoutAnswer {
	t.Helper()
	var out struct{ Checkout checkoutAnswer }
	c.Do(t, checkoutMutation, checkoutInput(cartID, key, extra)).Decode(t, &out)
	return out.Checkout
}

// mustCheckout checks out and fails the test unless an order came back.
func mustCheckout(t testing.TB, c *testsupport.Client, cartID string) *orderJSON {
	t.Helper()
	res := checkout(t, c, cartID, "key-"+randHex(8), nil)
	if res.Order == nil || len(res.UserErrors) > 0 {
		t.Fatalf("checkout: %+v", res.UserErrors)
	}
	return res.Order
}

func pay(t testing.TB, c *testsupport.Client, orderID, token, key string) payAnswer {
	t.Helper()
	var out struct{ PayOrder payAnswer }
	c.Do(t, payMutation, map[string]any{"input": map[string]any{"orderId": orderID, "paymentToken": token, "idempotencyKey": key}}).Decode(t, &out)
	return out.PayOrder
}

type orderPayload struct {
	Order      *orderJSON  `json:"order"`
	UserErrors []userError `json:"userErrors"`
}

// mutateOrder runs one of the order mutations (cancel, ship, deliver) and returns its payload.
func mutateOrder(t testing.TB, c *testsupport.Client, mutation, orderID string) orderPayload {
	t.Helper()
	var out map[string]orderPayload
	c.Do(t, mutation, map[string]any{"id": orderID}).Decode(t, &out)
	for _, v := range out {
		return v
	}
	t.Fatalf("no payload")
	return orderPayload{}
}

// orderStatus reads an order's status as its owner.
func orderStatus(t testing.TB, c *testsupport.Client, orderID string) string {
	t.Helper()
	var out struct {
		Order struct{ Status string } `json:"order"`
	}
	c.Do(t, `query($id: ID!) { order(id: $id) { status } }`, map[string]any{"id": orderID}).Decode(t, &out)
	return out.Order.Status
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func codes(ues []userError) []string {
	out := make([]string, len(ues))
	for i, u := range ues {
		out[i] = u.Code
	}
	return out
}

func hasCode(ues []userError, code string) bool {
	for _, u := range ues {
		if u.Code == code {
			return true
		}
	}
	return false
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%s", b)
}
