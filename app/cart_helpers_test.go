package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"storefront/app"
	"storefront/resolvers/relay"
	"storefront/store/postgres"
	"storefront/testsupport"
)

// cartEnv is one server instance on its own database, with products inserted by SQL.
type cartEnv struct {
	cfg  app.Config
	srv  *testsupport.Server
	pool *pgxpool.Pool
}

// newCartEnv starts a server; adjust changes the configuration first (nil for none).
func newCartEnv(t testing.TB, adjust func(*app.Config)) *cartEnv {
	t.Helper()
	cfg := testsupport.Config(t)
	if adjust != nil {
		adjust(&cfg)
	}
	pool, err := postgres.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return &cartEnv{cfg: cfg, srv: testsupport.StartServer(t, cfg), pool: pool}
}

// product is a catalog product inserted for a test; prices are unique within a test, so lines
// can be told apart by price.
type product struct {
	Key   int64
	ID    string
	Price int64
}

type productSpec struct {
	price       int64
	stock       int
	unpublished bool
}

// insertProducts adds products with stock to the database of pool.
func insertProducts(t testing.TB, pool *pgxpool.Pool, specs ...productSpec) []product {
	t.Helper()
	ctx := context.Background()
	var sellerID, categoryID int64
	err := pool.QueryRow(ctx, `INSERT INTO sellers (slug, name) VALUES ('s-' || gen_random_uuid(), 'Seller') RETURNING id`).Scan(&sellerID)
	if err == nil {
		err = pool.QueryRow(ctx, `INSERT INTO categories (slug, name) VALUES ('c-' || gen_random_uuid(), 'Things') RETURNING id`).Scan(&categoryID)
	}
	if err != nil {
		t.Fatalf("insert seller/category: %v", err)
	}
	out := make([]product, len(specs))
	for i, s := range specs {
		var id int64
		err := pool.QueryRow(ctx, `INSERT INTO products (slug, name, price, category_id, seller_id, published)
			VALUES ('p-' || gen_random_uuid(), 'Product', $1, $2, $3, $4) RETURNING id`,
			s.price, categoryID, sellerID, !s.unpublished).Scan(&id)
		if err != nil {
			t.Fatalf("insert product: %v", err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO inventory (product_id, on_hand) VALUES ($1, $2)`, id, s.stock); err != nil {
			t.Fatalf("insert inventory: %v", err)
		}
		out[i] = product{Key: id, ID: relay.IntID(relay.KindProduct, id), Price: s.price}
	}
	return out
}

func amount(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

type gqlMoney struct {
	Amount string `json:"amount"`
}

type gqlWarning struct {
	Code      string  `json:"code"`
	Message   string  `json:"message"`
	LineID    *string `json:"lineId"`
	ProductID *string `json:"productId"`
}

type gqlLine struct {
	ID             string   `json:"id"`
	Quantity       int      `json:"quantity"`
	UnitPrice      gqlMoney `json:"unitPrice"`
	LineTotal      gqlMoney `json:"lineTotal"`
	AddedUnitPrice gqlMoney `json:"addedUnitPrice"`
}

type gqlCart struct {
	ID            string       `json:"id"`
	TotalQuantity int          `json:"totalQuantity"`
	Subtotal      gqlMoney     `json:"subtotal"`
	UpdatedAt     string       `json:"updatedAt"`
	Warnings      []gqlWarning `json:"warnings"`
	Lines         []gqlLine    `json:"lines"`
}

// line returns the line of product p (matched by its unique price), or nil.
func (c *gqlCart) line(p product) *gqlLine {
	for i := range c.Lines {
		if c.Lines[i].AddedUnitPrice.Amount == amount(p.Price) {
			return &c.Lines[i]
		}
	}
	return nil
}

func (c *gqlCart) quantity(p product) int {
	if l := c.line(p); l != nil {
		return l.Quantity
	}
	return 0
}

type gqlUserError struct {
	Code    string   `json:"code"`
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

type gqlPayload struct {
	Cart       *gqlCart       `json:"cart"`
	UserErrors []gqlUserError `json:"userErrors"`
	Warnings   []gqlWarning   `json:"warnings"`
}

const cartFields = `id totalQuantity subtotal { amount } updatedAt
	warnings { code message lineId productId }
	lines { id quantity unitPrice { amount } lineTotal { amount } addedUnitPrice { amount } }`

const payloadFields = `cart { ` + cartFields + ` } userErrors { code field message }
	warnings { code message lineId productId }`

const (
	qCartCreate = `mutation($lines: [CartLineInput!]) { cartCreate(input: {lines: $lines}) { ` + payloadFields + ` } }`
	qLinesAdd   = `mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $id, lines: $lines) { ` + payloadFields + ` } }`
	qLinesUpd   = `mutation($id: ID!, $lines: [CartLineUpdateInput!]!) { cartLinesUpdate(cartId: $id, lines: $lines) { ` + payloadFields + ` } }`
	qLinesRm    = `mutation($id: ID!, $ids: [ID!]!) { cartLinesRemove(cartId: $id, lineIds: $ids) { ` + payloadFields + ` } }`
	qCart       = `query($id: ID!) { cart(id: $id) { ` + cartFields + ` } }`
	qSubscribe  = `subscription($id: ID!) { cartUpdated(cartId: $id) { ` + cartFields + ` } }`
)

// line builds a CartLineInput.
func line(productID string, qty int) map[string]any {
	return map[string]any{"productId": productID, "quantity": qty}
}

func payloadOf(t testing.TB, resp testsupport.Response, field string) gqlPayload {
	t.Helper()
	var data map[string]gqlPayload
	resp.Decode(t, &data)
	return data[field]
}

func createCart(t testing.TB, c *testsupport.Client, lines ...map[string]any) gqlPayload {
	t.Helper()
	p := payloadOf(t, c.Do(t, qCartCreate, map[string]any{"lines": lines}), "cartCreate")
	if p.Cart == nil {
		t.Fatalf("cartCreate returned no cart: %+v", p.UserErrors)
	}
	return p
}

func addLines(t testing.TB, c *testsupport.Client, cartID string, lines ...map[string]any) gqlPayload {
	t.Helper()
	return payloadOf(t, c.Do(t, qLinesAdd, map[string]any{"id": cartID, "lines": lines}), "cartLinesAdd")
}

func updateLines(t testing.TB, c *testsupport.Client, cartID string, lines ...map[string]any) gqlPayload {
	t.Helper()
	return payloadOf(t, c.Do(t, qLinesUpd, map[string]any{"id": cartID, "lines": lines}), "cartLinesUpdate")
}

func removeLines(t testing.TB, c *testsupport.Client, cartID string, ids ...string) gqlPayload {
	t.Helper()
	return payloadOf(t, c.Do(t, qLinesRm, map[string]any{"id": cartID, "ids": ids}), "cartLinesRemove")
}

// readCart returns cart(id) as raw JSON (to compare answers exactly) and decoded; nil when null.
func readCart(t testing.TB, c *testsupport.Client, id string) (json.RawMessage, *gqlCart) {
	t.Helper()
	resp := c.Do(t, qCart, map[string]any{"id": id})
	var data struct {
		Cart json.RawMessage `json:"cart"`
	}
	resp.Decode(t, &data)
	var cart *gqlCart
	if err := json.Unmarshal(data.Cart, &cart); err != nil {
		t.Fatalf("decode cart: %v", err)
	}
	return data.Cart, cart
}

// cartKey is the storage key inside a cart's global id.
func cartKey(t testing.TB, id string) string {
	t.Helper()
	key, err := relay.ParseKeyID(id, relay.KindCart)
	if err != nil {
		t.Fatalf("cart id %q: %v", id, err)
	}
	return key
}

// post sends one GraphQL request without a testing.TB, for use from many goroutines.
func post(url, query string, vars map[string]any) (testsupport.Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return testsupport.Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return testsupport.Response{}, err
	}
	var out testsupport.Response
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	return out, nil
}

// privateRedis is a redis-server of the test's own, on a free loopback port, so the test can
// stop and start it without touching the Redis other tests share.
type privateRedis struct {
	t    testing.TB
	port string
	cmd  *exec.Cmd
}

func startPrivateRedis(t testing.TB) *privateRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	r := &privateRedis{t: t, port: port}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *privateRedis) URL() string { return "redis://127.0.0.1:" + r.port + "/0" }

func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	c := r.client()
	defer c.Close()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if i == 100 {
			r.t.Fatalf("private redis-server did not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server (SIGKILL: no chance to save, like a crash).
func (r *privateRedis) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

func (r *privateRedis) client() *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + r.port})
}

// cachedVersion returns the version of the cart cached under prefix in the Redis at url, 0 if
// none.
func cachedVersion(t testing.TB, c *goredis.Client, prefix, key string) int64 {
	t.Helper()
	v, err := c.HGet(context.Background(), prefix+"cart:"+key, "v").Int64()
	if err == goredis.Nil {
		return 0
	}
	if err != nil {
		t.Fatalf("read cached cart: %v", err)
	}
	return v
}

// sharedRedis returns a client of the Redis all tests share.
func sharedRedis(t testing.TB) *goredis.Client {
	opts, err := goredis.ParseURL(testsupport.RedisURL(t))
	if err != nil {
		t.Fatalf("parse REDIS_URL: %v", err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func randomKeyBits(t testing.TB, key string) int {
	b, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		t.Fatalf("cart key %q is not base64url: %v", key, err)
	}
	return len(b) * 8
}
