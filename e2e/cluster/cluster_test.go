//go:build cluster

package cluster

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"storefront/app"
	"storefront/domain/identity"
	"storefront/resolvers/relay"
	"storefront/seed"
	"storefront/store/postgres"
	sredis "storefront/store/redis"
	"storefront/testsupport"
)

// drainDelay is how long a stopping instance keeps serving before it closes its connections.
const drainDelay = 200 * time.Millisecond

// cheapHashing keeps sign-ups fast; password hashing is not what this test is about.
var cheapHashing = identity.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

const (
	cartFields  = `id totalQuantity lines { quantity product { id } }`
	qCartCreate = `mutation($lines: [CartLineInput!]) { cartCreate(input: {lines: $lines}) { cart { ` + cartFields + ` } userErrors { code message } } }`
	qLinesAdd   = `mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $id, lines: $lines) { cart { ` + cartFields + ` } userErrors { code message } } }`
	qCart       = `query($id: ID!) { cart(id: $id) { ` + cartFields + ` } }`
	qCartSub    = `subscription($id: ID!) { cartUpdated(cartId: $id) { ` + cartFields + ` } }`
	qOrderSub   = `subscription($id: ID!) { orderStatusChanged(orderId: $id) { id status } }`
	qCheckout   = `mutation($input: CheckoutInput!) { checkout(input: $input) { order { id status } userErrors { code message } } }`
	qPay        = `mutation($input: PayOrderInput!) { payOrder(input: $input) { order { id status } userErrors { code message } } }`
	qOrder      = `query($id: ID!) { order(id: $id) { id status } }`
	qMyOrders   = `{ me { orders(first: 5) { nodes { id status } } } }`
	qProducts   = `{ products(first: 40, filter: {inStock: true}) { totalCount nodes { id } } }`
)

type cartJSON struct {
	ID            string
	TotalQuantity int
	Lines         []struct {
		Quantity int
		Product  struct{ ID string }
	}
}

// quantities maps product id to quantity.
func (c cartJSON) quantities() map[string]int {
	q := map[string]int{}
	for _, l := range c.Lines {
		q[l.Product.ID] += l.Quantity
	}
	return q
}

type cluster struct {
	t     *testing.T
	cfg   app.Config
	redis *goredis.ClusterClient
}

// TestClusterThreeInstances runs three instances against one Postgres primary, its streaming
// replica (catalog reads) and a Redis Cluster of three masters. A customer's cart is built
// through all three, live cart and order updates reach subscribers on other instances, and when
// one instance stops, nothing of the cart or the order is lost and the client carries on with
// the others, subscriptions included.
func TestClusterThreeInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clusterURL := testsupport.RedisClusterURL(t)
	cfg := testsupport.Config(t) // a fresh database on the primary
	cfg.RedisURL = clusterURL
	cfg.RedisPrefix = testsupport.NewRedisPrefixOn(t, clusterURL)
	// Rate limits, login counters and purchase caps on: their Redis scripts run on the cluster too.
	cfg.RateLimit = true
	cfg.PasswordHashing = cheapHashing
	cfg.DrainDelay = drainDelay
	cfg.Checkout.OutboxInterval = 50 * time.Millisecond

	primary, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatalf("open the test database: %v", err)
	}
	defer primary.Close()
	if err := seed.Run(ctx, primary, seed.Options{}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	cfg.DatabaseReplicaURL = testsupport.ReplicaOf(t, cfg.DatabaseURL)

	rc, err := sredis.Open(ctx, clusterURL, cfg.RedisPrefix)
	if err != nil {
		t.Fatalf("open the Redis Cluster: %v", err)
	}
	defer rc.Close()
	cl := &cluster{t: t, cfg: cfg, redis: rc.UniversalClient.(*goredis.ClusterClient)}

	a := testsupport.StartServer(t, cfg)
	b := testsupport.StartServer(t, cfg)
	c := testsupport.StartServer(t, cfg)
	for _, s := range []*testsupport.Server{a, b, c} {
		resp, err := http.Get(s.URL + "/readyz") // primary, replica and cluster all answer
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/readyz: %d", s.URL, resp.StatusCode)
		}
	}

	// Catalog browsing is served by the replica, which has the seeded catalog.
	before := b.App.Replica.Stat().AcquireCount()
	var catalog struct {
		Products struct {
			TotalCount int
			Nodes      []struct{ ID string }
		}
	}
	b.Client().Do(t, qProducts, nil).Decode(t, &catalog)
	if catalog.Products.TotalCount < 200 || len(catalog.Products.Nodes) != 40 {
		t.Fatalf("products through the replica: %d in all, %d on the page; want the seeded 200+ and 40",
			catalog.Products.TotalCount, len(catalog.Products.Nodes))
	}
	if b.App.Replica.Stat().AcquireCount() == before {
		t.Fatal("the product listing did not read the replica")
	}
	products := make([]string, len(catalog.Products.Nodes))
	for i, n := range catalog.Products.Nodes {
		products[i] = n.ID
	}

	// One customer, one token, three instances.
	onA, user := a.NewCustomer(t)
	onB, onC := b.Client().WithToken(user.AccessToken), c.Client().WithToken(user.AccessToken)

	// The cart is built through A, B and C in turn, and B's subscriber hears every change.
	cart := cl.cartCreate(onA, products[0])
	cartSub := b.Subscribe(t, testsupport.ProtocolTransportWS, user.AccessToken, qCartSub, map[string]any{"id": cart})
	cl.waitSubscribed("cart:" + key(t, cart))
	for i, step := range []struct {
		client  *testsupport.Client
		product string
	}{{onB, products[1]}, {onC, products[2]}, {onA, products[3]}} {
		cl.add(step.client, cart, step.product)
		if got := cl.nextCart(cartSub); got.TotalQuantity != i+2 {
			t.Fatalf("cartUpdated on B after add %d = %+v; want %d items", i+1, got, i+2)
		}
	}
	if got := cl.readCart(onC, cart); len(got.Lines) != 4 || got.TotalQuantity != 4 {
		t.Fatalf("cart read through C = %+v; want the 4 lines added through A, B and C", got)
	}

	// Checkout on B; C's subscriber hears the payment made on C.
	var co struct {
		Checkout struct {
			Order      *struct{ ID, Status string }
			UserErrors []struct{ Code, Message string }
		}
	}
	onB.Do(t, qCheckout, map[string]any{"input": map[string]any{
		"cartId": cart, "shippingMethod": "standard", "idempotencyKey": "co-1",
		"shippingAddress": map[string]any{"name": "Ada Lovelace", "line1": "1 Main St", "city": "San Francisco",
			"region": "CA", "postalCode": "94105", "country": "US"},
	}}).Decode(t, &co)
	if co.Checkout.Order == nil || co.Checkout.Order.Status != "PENDING_PAYMENT" {
		t.Fatalf("checkout on B: %+v", co.Checkout)
	}
	order := co.Checkout.Order.ID
	orderSub := c.Subscribe(t, testsupport.ProtocolTransportWS, user.AccessToken, qOrderSub, map[string]any{"id": order})
	cl.waitSubscribed("order-status:" + key(t, order))
	var paid struct {
		PayOrder struct {
			Order      *struct{ ID, Status string }
			UserErrors []struct{ Code, Message string }
		}
	}
	onC.Do(t, qPay, map[string]any{"input": map[string]any{"orderId": order, "paymentToken": "tok_visa", "idempotencyKey": "pay-1"}}).Decode(t, &paid)
	if paid.PayOrder.Order == nil || paid.PayOrder.Order.Status != "PAID" {
		t.Fatalf("pay on C: %+v", paid.PayOrder)
	}
	// The order's creation is announced too, through the outbox, perhaps only now: skip it.
	for status := ""; status != "PAID"; {
		resp, ok := orderSub.Next(10 * time.Second)
		if !ok {
			t.Fatal("no orderStatusChanged PAID on C after the payment")
		}
		var ev struct{ OrderStatusChanged struct{ ID, Status string } }
		resp.Decode(t, &ev)
		status = ev.OrderStatusChanged.Status
		if ev.OrderStatusChanged.ID != order || (status != "PAID" && status != "PENDING_PAYMENT") {
			t.Fatalf("orderStatusChanged = %+v; want %s PAID", ev.OrderStatusChanged, order)
		}
	}

	// A new cart, watched from A. Then A stops while the customer keeps adding: adds go to A
	// until it refuses, then to B. Every add that was answered must be in the cart.
	cart2 := cl.cartCreate(onA, products[0])
	onASub := a.Subscribe(t, testsupport.ProtocolTransportWS, user.AccessToken, qCartSub, map[string]any{"id": cart2})
	cl.waitSubscribed("cart:" + key(t, cart2))
	want := map[string]int{products[0]: 1}
	stopped := make(chan error, 1)
	target, addsAfterA := onA, 0
	for i, p := range products[4:] {
		if i == 2 {
			go func() { stopped <- a.Stop() }()
		}
		if i > 2 && target == onA {
			// A keeps serving through its drain; spacing the adds out makes them outlast it
			// however fast each one is answered.
			time.Sleep(drainDelay / 10)
		}
		vars := map[string]any{"id": cart2, "lines": []map[string]any{{"productId": p, "quantity": 1}}}
		resp, err := target.Send(qLinesAdd, vars)
		switch {
		case target == onA && i >= 2 && (err != nil || resp.Status != 200):
			t.Logf("A answered %d adds after it was told to stop, then: %v (HTTP %d)", i-2, err, resp.Status)
			target = onB // A went away: carry on with B
			cl.add(onB, cart2, p)
		case err != nil:
			t.Fatalf("add %s: %v", p, err)
		default:
			if ue := userErrors(t, resp); ue != "" {
				t.Fatalf("add %s: HTTP %d %s", p, resp.Status, ue)
			}
		}
		want[p] = 1
		if target == onB {
			if addsAfterA++; addsAfterA == 3 {
				break
			}
		}
	}
	if target == onA {
		t.Fatalf("A kept answering through %d adds after it was told to stop", len(want)-3)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("A stopped with: %v", err)
	}
	if got := cl.readCart(onC, cart2).quantities(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cart after A stopped, read through C = %v; want %v", got, want)
	}

	// A closed its websockets when it stopped; the client reconnects to B and hears a change
	// made through C.
	if !onASub.Ended(5 * time.Second) {
		t.Fatal("the subscription on A did not end when A stopped")
	}
	again := b.Subscribe(t, testsupport.ProtocolTransportWS, user.AccessToken, qCartSub, map[string]any{"id": cart2})
	cl.waitSubscribed("cart:" + key(t, cart2))
	cl.add(onC, cart2, products[1])
	// A notice of an add made before the subscription (A's last, or B's, still in flight through
	// the cluster) may reach the new subscriber first; it carries the cart as it already was.
	// Anything other than that state or the new one is wrong.
	for {
		got := cl.nextCart(again)
		if got.TotalQuantity == len(want)+1 {
			break
		}
		if got.TotalQuantity != len(want) {
			t.Fatalf("cartUpdated on B after reconnecting = %+v; want %d items", got, len(want)+1)
		}
		t.Logf("B first delivered the cart as it was before the add through C (%d items)", got.TotalQuantity)
	}

	// The order is intact, on B and on C.
	var o struct{ Order *struct{ ID, Status string } }
	onB.Do(t, qOrder, map[string]any{"id": order}).Decode(t, &o)
	if o.Order == nil || o.Order.Status != "PAID" {
		t.Fatalf("order on B after A stopped = %+v; want PAID", o.Order)
	}
	var mine struct {
		Me struct {
			Orders struct{ Nodes []struct{ ID, Status string } }
		}
	}
	onC.Do(t, qMyOrders, nil).Decode(t, &mine)
	if n := mine.Me.Orders.Nodes; len(n) != 1 || n[0].ID != order || n[0].Status != "PAID" {
		t.Fatalf("my orders on C = %+v; want the one PAID order", n)
	}

	// A logout on B ends the session on C too, its open websocket included: the revocation
	// travels over the cluster's pub/sub.
	onB.Do(t, `mutation { logout }`, nil)
	if r := onC.Do(t, qOrder, map[string]any{"id": order}); r.Status != 401 || r.ErrorCode() != "UNAUTHENTICATED" {
		t.Fatalf("C after a logout on B: HTTP %d %q; want 401 UNAUTHENTICATED", r.Status, r.ErrorCode())
	}
	if !orderSub.Ended(5 * time.Second) {
		t.Fatal("the order subscription on C outlived the logout on B")
	}
}

// key returns the store key of a global id, as channel names carry it.
func key(t *testing.T, id string) string {
	t.Helper()
	_, k, err := relay.ParseID(id)
	if err != nil {
		t.Fatalf("parse id %s: %v", id, err)
	}
	return k
}

// waitSubscribed waits until some instance holds a Redis subscription of channel. The cluster's
// nodes each count only their own connections' subscriptions, so they are summed.
func (cl *cluster) waitSubscribed(channel string) {
	cl.t.Helper()
	full := cl.cfg.RedisPrefix + channel
	for i := 0; i < 250; i++ {
		var n atomic.Int64
		err := cl.redis.ForEachMaster(context.Background(), func(ctx context.Context, node *goredis.Client) error {
			counts, err := node.PubSubNumSub(ctx, full).Result()
			n.Add(counts[full])
			return err
		})
		if err == nil && n.Load() > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	cl.t.Fatalf("no Redis subscriber on %s", full)
}

func (cl *cluster) cartCreate(c *testsupport.Client, product string) string {
	cl.t.Helper()
	var out struct {
		CartCreate struct {
			Cart       *cartJSON
			UserErrors []struct{ Code, Message string }
		}
	}
	c.Do(cl.t, qCartCreate, map[string]any{"lines": []map[string]any{{"productId": product, "quantity": 1}}}).Decode(cl.t, &out)
	if out.CartCreate.Cart == nil {
		cl.t.Fatalf("cartCreate: %+v", out.CartCreate.UserErrors)
	}
	return out.CartCreate.Cart.ID
}

func (cl *cluster) add(c *testsupport.Client, cart, product string) {
	cl.t.Helper()
	resp := c.Do(cl.t, qLinesAdd, map[string]any{"id": cart, "lines": []map[string]any{{"productId": product, "quantity": 1}}})
	if ue := userErrors(cl.t, resp); ue != "" {
		cl.t.Fatalf("add %s through %s: %s", product, c.URL, ue)
	}
}

// userErrors returns the cartLinesAdd payload's user errors as text, "" when there are none.
func userErrors(t *testing.T, resp testsupport.Response) string {
	t.Helper()
	var out struct {
		CartLinesAdd struct {
			Cart       *cartJSON
			UserErrors []struct{ Code, Message string }
		}
	}
	resp.Decode(t, &out)
	if out.CartLinesAdd.Cart == nil || len(out.CartLinesAdd.UserErrors) > 0 {
		return fmt.Sprintf("%+v", out.CartLinesAdd.UserErrors)
	}
	return ""
}

func (cl *cluster) readCart(c *testsupport.Client, cart string) cartJSON {
	cl.t.Helper()
	var out struct{ Cart *cartJSON }
	c.Do(cl.t, qCart, map[string]any{"id": cart}).Decode(cl.t, &out)
	if out.Cart == nil {
		cl.t.Fatalf("cart %s not found through %s", cart, c.URL)
	}
	return *out.Cart
}

// nextCart waits for the next cartUpdated event.
func (cl *cluster) nextCart(sub *testsupport.Subscription) cartJSON {
	cl.t.Helper()
	resp, ok := sub.Next(10 * time.Second)
	if !ok {
		cl.t.Fatal("no cartUpdated event")
	}
	var out struct{ CartUpdated cartJSON }
	resp.Decode(cl.t, &out)
	return out.CartUpdated
}
