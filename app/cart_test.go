package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"storefront/app"
	"storefront/resolvers/relay"
	"storefront/testsupport"
)

// A guest cart is created, read, changed and emptied over HTTP; its id is a long random key.
func TestCartGuestLifecycle(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	ps := insertProducts(t, e.pool, productSpec{price: 1999, stock: 10}, productSpec{price: 500, stock: 5})
	a, b := ps[0], ps[1]
	c := e.srv.Client()

	p := createCart(t, c, line(a.ID, 2))
	if len(p.UserErrors) != 0 || p.Cart.TotalQuantity != 2 || p.Cart.Subtotal.Amount != "39.98" {
		t.Fatalf("cartCreate = %+v; want 2 × 19.99", p)
	}
	id := p.Cart.ID
	if bits := randomKeyBits(t, cartKey(t, id)); bits < 128 {
		t.Errorf("cart key has %d bits; want at least 128", bits)
	}
	if other := createCart(t, c); other.Cart.ID == id {
		t.Errorf("two cartCreate calls gave the same id %s", id)
	}

	_, got := readCart(t, c, id)
	if got == nil || got.TotalQuantity != 2 || len(got.Lines) != 1 || got.Lines[0].LineTotal.Amount != "39.98" {
		t.Fatalf("cart(id) = %+v", got)
	}

	p = addLines(t, c, id, line(b.ID, 1), line(a.ID, 1))
	if len(p.UserErrors) != 0 || p.Cart.quantity(a) != 3 || p.Cart.quantity(b) != 1 ||
		p.Cart.TotalQuantity != 4 || p.Cart.Subtotal.Amount != "64.97" {
		t.Fatalf("cartLinesAdd = %+v; want 3 × 19.99 + 5.00", p)
	}
	lineA, lineB := p.Cart.line(a).ID, p.Cart.line(b).ID

	p = updateLines(t, c, id, map[string]any{"id": lineA, "quantity": 5}, map[string]any{"id": lineB, "quantity": 0})
	if len(p.UserErrors) != 0 || p.Cart.quantity(a) != 5 || len(p.Cart.Lines) != 1 || p.Cart.Subtotal.Amount != "99.95" {
		t.Fatalf("cartLinesUpdate (5, 0) = %+v", p)
	}

	p = removeLines(t, c, id, lineA)
	if len(p.UserErrors) != 0 || len(p.Cart.Lines) != 0 || p.Cart.TotalQuantity != 0 || p.Cart.Subtotal.Amount != "0.00" {
		t.Fatalf("cartLinesRemove = %+v", p)
	}

	// node(id:) finds the cart; an unknown key and an id of another kind answer null.
	var node struct {
		Node *struct{ ID string } `json:"node"`
	}
	c.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}).Decode(t, &node)
	if node.Node == nil || node.Node.ID != id {
		t.Errorf("node(cart id) = %+v", node.Node)
	}
	for _, other := range []string{relay.ID(relay.KindCart, "AAAAAAAAAAAAAAAAAAAAAAAA"), relay.ID(relay.KindCart, "x"), a.ID} {
		if raw, _ := readCart(t, c, other); string(raw) != "null" {
			t.Errorf("cart(%s) = %s; want null", other, raw)
		}
	}
}

// Batches apply what they can: each refused line is a userError pointing at its index, and a
// refused line changes nothing.
func TestCartLineRulesAndPartialSuccess(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, func(cfg *app.Config) { cfg.CartMaxQuantity = 5; cfg.CartMaxLines = 2 })
	ps := insertProducts(t, e.pool,
		productSpec{price: 100, stock: 100},
		productSpec{price: 200, stock: 3},
		productSpec{price: 300, stock: 100},
		productSpec{price: 400, stock: 100, unpublished: true})
	a, b, cc, hidden := ps[0], ps[1], ps[2], ps[3]
	unknown := relay.IntID(relay.KindProduct, 987654)
	c := e.srv.Client()
	id := createCart(t, c).Cart.ID

	p := addLines(t, c, id,
		line(a.ID, 2),      // 0: ok
		line(b.ID, 4),      // 1: only 3 in stock
		line(unknown, 1),   // 2: no such product
		line(hidden.ID, 1), // 3: not published
		line(a.ID, 4),      // 4: 2 + 4 > 5
		line(b.ID, 3),      // 5: ok
		line("garbage", 1), // 6: not an id
		line(cc.ID, 1),     // 7: a third line, over the line limit
		line(a.ID, 0),      // 8: zero
		line(cc.ID, 1000),  // 9: over everything
	)
	want := map[string]string{"1": "OUT_OF_STOCK", "2": "NOT_FOUND", "3": "NOT_FOUND", "4": "QUANTITY_LIMIT",
		"6": "INVALID_INPUT", "7": "QUANTITY_LIMIT", "8": "INVALID_INPUT", "9": "QUANTITY_LIMIT"}
	got := map[string]string{}
	for _, ue := range p.UserErrors {
		if len(ue.Field) < 2 || ue.Field[0] != "lines" {
			t.Errorf("userError %+v does not point at a line", ue)
			continue
		}
		got[ue.Field[1]] = ue.Code
		if ue.Field[1] == "1" && !strings.Contains(ue.Message, "only 3 available") {
			t.Errorf("OUT_OF_STOCK message %q does not say how many are available", ue.Message)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("userErrors by index = %v; want %v", got, want)
	}
	if p.Cart.quantity(a) != 2 || p.Cart.quantity(b) != 3 || len(p.Cart.Lines) != 2 {
		t.Fatalf("cart after partial add = %+v; want a×2, b×3", p.Cart.Lines)
	}
	lineA, lineB := p.Cart.line(a).ID, p.Cart.line(b).ID

	// Out of stock says what is left given what the cart holds.
	p = addLines(t, c, id, line(b.ID, 1))
	if len(p.UserErrors) != 1 || p.UserErrors[0].Code != "OUT_OF_STOCK" || !strings.Contains(p.UserErrors[0].Message, "3 already in the cart") {
		t.Errorf("adding past stock = %+v", p.UserErrors)
	}

	p = updateLines(t, c, id,
		map[string]any{"id": lineA, "quantity": 6},                                   // over the limit
		map[string]any{"id": lineB, "quantity": 1},                                   // ok
		map[string]any{"id": relay.IntID(relay.KindCartLine, 999999), "quantity": 1}, // not in this cart
		map[string]any{"id": lineA, "quantity": -1})                                  // negative
	got = map[string]string{}
	for _, ue := range p.UserErrors {
		got[strings.Join(ue.Field, ".")] = ue.Code
	}
	want = map[string]string{"lines.0.quantity": "QUANTITY_LIMIT", "lines.2.id": "NOT_FOUND", "lines.3.quantity": "INVALID_INPUT"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("update userErrors = %v; want %v", got, want)
	}
	if p.Cart.quantity(a) != 2 || p.Cart.quantity(b) != 1 {
		t.Errorf("cart after partial update = %+v; want a×2, b×1", p.Cart.Lines)
	}

	p = removeLines(t, c, id, lineB, lineB)
	if len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" || strings.Join(p.UserErrors[0].Field, ".") != "lineIds.1" {
		t.Errorf("removing a line twice = %+v; want NOT_FOUND at lineIds.1", p.UserErrors)
	}
	if len(p.Cart.Lines) != 1 {
		t.Errorf("cart after remove = %+v", p.Cart.Lines)
	}

	// An unknown cart is a NOT_FOUND userError on cartId; a giant batch is refused outright.
	p = addLines(t, c, relay.ID(relay.KindCart, "AAAAAAAAAAAAAAAAAAAAAAAA"), line(a.ID, 1))
	if p.Cart != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" || p.UserErrors[0].Field[0] != "cartId" {
		t.Errorf("add to unknown cart = %+v", p)
	}
	many := make([]map[string]any, 101)
	for i := range many {
		many[i] = line(a.ID, 1)
	}
	if resp := c.Do(t, qLinesAdd, map[string]any{"id": id, "lines": many}); resp.ErrorCode() != "BAD_USER_INPUT" {
		t.Errorf("101 lines: code %q; want BAD_USER_INPUT", resp.ErrorCode())
	}
}

// Prices are read live: a price change shows at once, with the added price and a warning.
func TestCartLivePricesAndWarnings(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	ps := insertProducts(t, e.pool, productSpec{price: 1000, stock: 10}, productSpec{price: 700, stock: 10})
	a, b := ps[0], ps[1]
	c := e.srv.Client()
	id := createCart(t, c, line(a.ID, 2), line(b.ID, 1)).Cart.ID
	readCart(t, c, id) // cached now

	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `UPDATE products SET price = 1250 WHERE id = $1`, a.Key); err != nil {
		t.Fatal(err)
	}
	_, got := readCart(t, c, id)
	la := got.line(a)
	if la == nil || la.UnitPrice.Amount != "12.50" || la.AddedUnitPrice.Amount != "10.00" || la.LineTotal.Amount != "25.00" ||
		got.Subtotal.Amount != "32.00" {
		t.Fatalf("after price change: %+v", got)
	}
	if len(got.Warnings) != 1 || got.Warnings[0].Code != "PRICE_CHANGED" || got.Warnings[0].LineID == nil || *got.Warnings[0].LineID != la.ID {
		t.Errorf("warnings = %+v; want one PRICE_CHANGED on line a", got.Warnings)
	}

	// Stock falling below a line's quantity warns; the line can still be lowered.
	if _, err := e.pool.Exec(ctx, `UPDATE inventory SET on_hand = 0 WHERE product_id = $1`, b.Key); err != nil {
		t.Fatal(err)
	}
	_, got = readCart(t, c, id)
	if !hasWarning(got.Warnings, "OUT_OF_STOCK") {
		t.Errorf("warnings = %+v; want OUT_OF_STOCK for b", got.Warnings)
	}
	// An unpublished product leaves the cart's view and totals, with a warning.
	if _, err := e.pool.Exec(ctx, `UPDATE products SET published = false WHERE id = $1`, b.Key); err != nil {
		t.Fatal(err)
	}
	_, got = readCart(t, c, id)
	if len(got.Lines) != 1 || got.Subtotal.Amount != "25.00" || !hasWarning(got.Warnings, "LINE_DROPPED") {
		t.Errorf("after unpublishing b: %+v", got)
	}
}

func hasWarning(ws []gqlWarning, code string) bool {
	for _, w := range ws {
		if w.Code == code {
			return true
		}
	}
	return false
}

// Many concurrent adds to one cart all count, and limits hold under the race.
func TestCartConcurrentAddsAllCount(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	ps := insertProducts(t, e.pool, productSpec{price: 100, stock: 1000}, productSpec{price: 200, stock: 30})
	plenty, scarce := ps[0], ps[1]
	id := createCart(t, e.srv.Client()).Cart.ID

	const plentyAdds, scarceAdds = 50, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	run := func(p product) {
		defer wg.Done()
		resp, err := post(e.srv.URL+"/graphql", qLinesAdd, map[string]any{"id": id, "lines": []any{line(p.ID, 1)}})
		mu.Lock()
		defer mu.Unlock()
		if err != nil || len(resp.Errors) > 0 {
			codes[fmt.Sprintf("error %v %v", err, resp.Errors)]++
			return
		}
		if strings.Contains(string(resp.Data), `"code":"OUT_OF_STOCK"`) {
			codes["OUT_OF_STOCK"]++
		} else {
			codes["ok"]++
		}
	}
	for i := 0; i < plentyAdds; i++ {
		wg.Add(2)
		go run(plenty)
		if i < scarceAdds {
			go run(scarce)
		} else {
			wg.Done()
		}
	}
	wg.Wait()
	if codes["ok"] != plentyAdds+30 || codes["OUT_OF_STOCK"] != scarceAdds-30 || len(codes) != 2 {
		t.Errorf("outcomes = %v; want %d ok and %d OUT_OF_STOCK", codes, plentyAdds+30, scarceAdds-30)
	}
	_, got := readCart(t, e.srv.Client(), id)
	if got.quantity(plenty) != plentyAdds || got.quantity(scarce) != 30 {
		t.Errorf("final quantities = %d, %d; want %d, 30", got.quantity(plenty), got.quantity(scarce), plentyAdds)
	}
}

// With Redis killed every operation works from Postgres and answers the same; when Redis is
// back the next operation rebuilds the cache, and no cart was lost.
func TestCartWithRedisStoppedAndRestarted(t *testing.T) {
	t.Parallel()
	rs := startPrivateRedis(t)
	e := newCartEnv(t, func(cfg *app.Config) { cfg.RedisURL = rs.URL() })
	ps := insertProducts(t, e.pool, productSpec{price: 300, stock: 50}, productSpec{price: 450, stock: 50})
	a, b := ps[0], ps[1]
	c := e.srv.Client()
	id := createCart(t, c, line(a.ID, 2)).Cart.ID
	key := cartKey(t, id)
	before, _ := readCart(t, c, id)
	rc := rs.client()
	defer rc.Close()
	if v := cachedVersion(t, rc, e.cfg.RedisPrefix, key); v == 0 {
		t.Fatal("cart not cached while Redis is up")
	}

	sub := e.srv.Subscribe(t, testsupport.ProtocolTransportWS, "", qSubscribe, map[string]any{"id": id})
	waitSubscribedOn(t, rc, e.cfg.RedisPrefix+"cart:"+key)

	rs.stop()
	during, _ := readCart(t, c, id)
	if string(during) != string(before) {
		t.Errorf("with Redis down cart(id) = %s; want %s", during, before)
	}
	p := addLines(t, c, id, line(b.ID, 3))
	if len(p.UserErrors) != 0 || p.Cart.quantity(b) != 3 {
		t.Fatalf("add with Redis down = %+v", p)
	}
	p = updateLines(t, c, id, map[string]any{"id": p.Cart.line(a).ID, "quantity": 1})
	if len(p.UserErrors) != 0 || p.Cart.quantity(a) != 1 {
		t.Fatalf("update with Redis down = %+v", p)
	}
	other := createCart(t, c, line(a.ID, 1)).Cart.ID
	changed, got := readCart(t, c, id)
	if got.TotalQuantity != 4 {
		t.Fatalf("cart with Redis down = %s", changed)
	}

	rs.start()
	// Restarted empty (no persistence): a read rebuilds the entry at the current version. After
	// repeated refused dials go-redis probes Redis once a second, so the first reads may still
	// go to Postgres only; they must answer the same meanwhile.
	var version int64
	if err := e.pool.QueryRow(context.Background(), `SELECT version FROM carts WHERE id = $1`, key).Scan(&version); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		again, _ := readCart(t, c, id)
		if string(again) != string(changed) {
			t.Fatalf("after restart cart(id) = %s; want %s", again, changed)
		}
		if v := cachedVersion(t, rc, e.cfg.RedisPrefix, key); v == version {
			break
		} else if time.Since(start) > 5*time.Second {
			t.Fatalf("cached version after restart = %d; want %d", v, version)
		}
	}
	if _, got := readCart(t, c, other); got == nil || got.TotalQuantity != 1 {
		t.Errorf("cart created while Redis was down = %+v", got)
	}

	// The instance's pub/sub connection resubscribed by itself: live updates flow again.
	waitSubscribedOn(t, rc, e.cfg.RedisPrefix+"cart:"+key)
	addLines(t, c, id, line(a.ID, 1))
	for {
		resp, ok := sub.Next(5 * time.Second)
		if !ok {
			t.Fatal("no cartUpdated after Redis came back")
		}
		var data struct{ CartUpdated gqlCart }
		resp.Decode(t, &data)
		if data.CartUpdated.TotalQuantity == 5 {
			break
		}
	}
}

// cartUpdated delivers a change made on one instance to a subscriber on another.
func TestCartUpdatedAcrossInstances(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	second := testsupport.StartServer(t, e.cfg) // same database and Redis prefix
	a := insertProducts(t, e.pool, productSpec{price: 900, stock: 20})[0]
	id := createCart(t, e.srv.Client()).Cart.ID

	sub := e.srv.Subscribe(t, testsupport.ProtocolTransportWS, "", `subscription($id: ID!) { cartUpdated(cartId: $id) {
		id totalQuantity lines { unitPrice { amount } product { id price { amount } } } } }`, map[string]any{"id": id})
	waitSubscribed(t, e.cfg.RedisPrefix+"cart:"+cartKey(t, id))

	for want := 1; want <= 2; want++ {
		if want == 2 {
			// Each event is resolved afresh: a price change between events shows, also through
			// the product loader, which must not be shared across events.
			if _, err := e.pool.Exec(context.Background(), `UPDATE products SET price = 950 WHERE id = $1`, a.Key); err != nil {
				t.Fatal(err)
			}
		}
		if p := addLines(t, second.Client(), id, line(a.ID, 1)); len(p.UserErrors) != 0 {
			t.Fatalf("add on the second instance: %+v", p.UserErrors)
		}
		resp, ok := sub.Next(5 * time.Second)
		if !ok {
			t.Fatalf("no cartUpdated after change %d", want)
		}
		var data struct {
			CartUpdated struct {
				ID            string
				TotalQuantity int
				Lines         []struct {
					UnitPrice gqlMoney
					Product   struct {
						ID    string
						Price gqlMoney
					}
				}
			}
		}
		resp.Decode(t, &data)
		got := data.CartUpdated
		wantPrice := map[int]string{1: "9.00", 2: "9.50"}[want]
		if got.ID != id || got.TotalQuantity != want || len(got.Lines) != 1 || got.Lines[0].Product.ID != a.ID ||
			got.Lines[0].UnitPrice.Amount != wantPrice || got.Lines[0].Product.Price.Amount != wantPrice {
			t.Errorf("cartUpdated = %+v; want quantity %d at %s", got, want, wantPrice)
		}
	}

	// A cart nobody holds the key to cannot be watched.
	bad := e.srv.Subscribe(t, testsupport.ProtocolTransportWS, "", qSubscribe,
		map[string]any{"id": relay.ID(relay.KindCart, "AAAAAAAAAAAAAAAAAAAAAAAA")})
	resp, ok := bad.Next(5 * time.Second)
	if !ok || resp.ErrorCode() != "NOT_FOUND" {
		t.Errorf("subscribing to an unknown cart = %+v; want a NOT_FOUND error", resp)
	}
}

// The legacy graphql-ws (subscriptions-transport-ws) protocol works too.
func TestCartUpdatedLegacyProtocol(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	a := insertProducts(t, e.pool, productSpec{price: 900, stock: 20})[0]
	id := createCart(t, e.srv.Client()).Cart.ID
	sub := e.srv.Subscribe(t, testsupport.ProtocolLegacyWS, "", qSubscribe, map[string]any{"id": id})
	waitSubscribed(t, e.cfg.RedisPrefix+"cart:"+cartKey(t, id))
	addLines(t, e.srv.Client(), id, line(a.ID, 3))
	resp, ok := sub.Next(5 * time.Second)
	if !ok {
		t.Fatal("no cartUpdated over graphql-ws")
	}
	var data struct{ CartUpdated gqlCart }
	resp.Decode(t, &data)
	if data.CartUpdated.TotalQuantity != 3 {
		t.Errorf("cartUpdated = %+v; want quantity 3", data.CartUpdated)
	}
}

// waitSubscribed waits until Redis reports a subscriber on channel: from then on a change must
// reach it.
func waitSubscribed(t *testing.T, channel string) {
	t.Helper()
	waitSubscribedOn(t, sharedRedis(t), channel)
}

func waitSubscribedOn(t *testing.T, rc *goredis.Client, channel string) {
	t.Helper()
	for i := 0; i < 250; i++ {
		n, err := rc.PubSubNumSub(context.Background(), channel).Result()
		if err == nil && n[channel] > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no Redis subscriber on %s", channel)
}

// Guest carts untouched for the configured age are deleted from Postgres and Redis by the sweep;
// fresh ones stay. Cached entries carry a TTL of that age.
func TestGuestCartExpiry(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, func(cfg *app.Config) {
		cfg.CartGuestTTL = time.Hour
		cfg.CartSweepInterval = 50 * time.Millisecond
	})
	a := insertProducts(t, e.pool, productSpec{price: 100, stock: 10})[0]
	c := e.srv.Client()
	old := createCart(t, c, line(a.ID, 1)).Cart.ID
	fresh := createCart(t, c, line(a.ID, 1)).Cart.ID
	rc := sharedRedis(t)
	oldKey := e.cfg.RedisPrefix + "cart:" + cartKey(t, old)
	if ttl := rc.PTTL(context.Background(), oldKey).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("cached cart TTL = %v; want about an hour", ttl)
	}

	if _, err := e.pool.Exec(context.Background(), `UPDATE carts SET updated_at = now() - interval '2 hours' WHERE id = $1`,
		cartKey(t, old)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM carts WHERE id = $1`, cartKey(t, old)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("expired guest cart still in Postgres")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The sweep deletes the cache entries right after the rows' transaction commits.
	for rc.Exists(context.Background(), oldKey).Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("expired guest cart still cached in Redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if raw, _ := readCart(t, c, old); string(raw) != "null" {
		t.Errorf("expired cart reads %s; want null", raw)
	}
	if _, got := readCart(t, c, fresh); got == nil || got.TotalQuantity != 1 {
		t.Errorf("fresh cart = %+v; want it kept", got)
	}
}

// A signed-in user has one active cart (cartCreate returns it, me.cart shows it) that nobody
// else can read, change or watch.
func TestCartOfSignedInUser(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	a := insertProducts(t, e.pool, productSpec{price: 250, stock: 100})[0]
	owner, ownerInfo := e.srv.NewCustomer(t)
	stranger, strangerInfo := e.srv.NewCustomer(t)
	guest := e.srv.Client()

	const qMe = `{ me { cart { id totalQuantity } } }`
	var me struct {
		Me struct {
			Cart *struct {
				ID            string
				TotalQuantity int
			}
		}
	}
	owner.Do(t, qMe, nil).Decode(t, &me)
	if me.Me.Cart != nil {
		t.Fatalf("new user's me.cart = %+v; want null", me.Me.Cart)
	}
	id := createCart(t, owner, line(a.ID, 1)).Cart.ID
	if again := createCart(t, owner, line(a.ID, 1)); again.Cart.ID != id || again.Cart.TotalQuantity != 2 {
		t.Fatalf("second cartCreate = %s ×%d; want the same cart %s with 2", again.Cart.ID, again.Cart.TotalQuantity, id)
	}
	owner.Do(t, qMe, nil).Decode(t, &me)
	if me.Me.Cart == nil || me.Me.Cart.ID != id || me.Me.Cart.TotalQuantity != 2 {
		t.Fatalf("me.cart = %+v; want %s with 2", me.Me.Cart, id)
	}
	if _, got := readCart(t, owner, id); got == nil || got.TotalQuantity != 2 {
		t.Errorf("owner's cart(id) = %+v", got)
	}

	for name, c := range map[string]*testsupport.Client{"stranger": stranger, "guest": guest} {
		if raw, _ := readCart(t, c, id); string(raw) != "null" {
			t.Errorf("%s reads the user's cart: %s", name, raw)
		}
		p := addLines(t, c, id, line(a.ID, 1))
		if p.Cart != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("%s adds to the user's cart: %+v", name, p)
		}
		var node struct{ Node *struct{ ID string } }
		c.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}).Decode(t, &node)
		if node.Node != nil {
			t.Errorf("%s finds the user's cart through node: %+v", name, node.Node)
		}
	}
	stranger.Do(t, qMe, nil).Decode(t, &me)
	if me.Me.Cart != nil && me.Me.Cart.ID == id {
		t.Error("stranger's me.cart is the owner's cart")
	}

	// Only the owner can watch it.
	for name, token := range map[string]string{"stranger": strangerInfo.AccessToken, "guest": ""} {
		sub := e.srv.Subscribe(t, testsupport.ProtocolTransportWS, token, qSubscribe, map[string]any{"id": id})
		if resp, ok := sub.Next(5 * time.Second); !ok || resp.ErrorCode() != "NOT_FOUND" {
			t.Errorf("%s subscribing to the user's cart = %+v, %v; want NOT_FOUND", name, resp, ok)
		}
	}
	sub := e.srv.Subscribe(t, testsupport.ProtocolTransportWS, ownerInfo.AccessToken, qSubscribe, map[string]any{"id": id})
	waitSubscribed(t, e.cfg.RedisPrefix+"cart:"+cartKey(t, id))
	addLines(t, owner, id, line(a.ID, 1))
	resp, ok := sub.Next(5 * time.Second)
	if !ok {
		t.Fatal("owner got no cartUpdated")
	}
	var data struct{ CartUpdated gqlCart }
	resp.Decode(t, &data)
	if data.CartUpdated.TotalQuantity != 3 {
		t.Errorf("owner's cartUpdated = %+v; want 3", data.CartUpdated)
	}
}

// Signing in with a guest cart merges it into the user's cart in one step: quantities add up,
// clamped to the limit and the stock, lines that cannot come are dropped, and the payload's
// warnings say which and why. The guest cart is gone afterwards; a repeat merges nothing.
func TestCartMergesIntoUserCartOnLogin(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, func(cfg *app.Config) { cfg.CartMaxQuantity = 5 })
	ps := insertProducts(t, e.pool,
		productSpec{price: 101, stock: 100}, // a: 3 + 4 → limit 5
		productSpec{price: 102, stock: 4},   // b: 2 + 3 → stock 4
		productSpec{price: 103, stock: 100}, // c: new line, comes whole
		productSpec{price: 104, stock: 10},  // d: unpublished after being added
		productSpec{price: 105, stock: 10},  // e: sold out after being added
	)
	a, b, c, d, pe := ps[0], ps[1], ps[2], ps[3], ps[4]
	user, info := e.srv.NewCustomer(t)
	createCart(t, user, line(a.ID, 3), line(b.ID, 2))
	guestCart := createCart(t, e.srv.Client(), line(a.ID, 4), line(b.ID, 3), line(c.ID, 2), line(d.ID, 1), line(pe.ID, 2)).Cart
	if len(guestCart.Lines) != 5 {
		t.Fatalf("guest cart = %+v", guestCart.Lines)
	}
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `UPDATE products SET published = false WHERE id = $1`, d.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE inventory SET on_hand = 0 WHERE product_id = $1`, pe.Key); err != nil {
		t.Fatal(err)
	}

	const qLogin = `mutation($input: LoginInput!) { login(input: $input) {
		accessToken userErrors { code message } warnings { code message lineId productId } } }`
	login := func() (string, []gqlWarning) {
		var out struct {
			Login struct {
				AccessToken string
				UserErrors  []gqlUserError
				Warnings    []gqlWarning
			}
		}
		e.srv.Client().Do(t, qLogin, map[string]any{"input": map[string]any{
			"email": info.Email, "password": info.Password, "cartId": guestCart.ID}}).Decode(t, &out)
		if len(out.Login.UserErrors) > 0 || out.Login.AccessToken == "" {
			t.Fatalf("login: %+v", out.Login.UserErrors)
		}
		return out.Login.AccessToken, out.Login.Warnings
	}
	token, warnings := login()
	got := map[string]string{}
	for _, w := range warnings {
		if w.ProductID == nil {
			t.Errorf("warning without productId: %+v", w)
			continue
		}
		got[*w.ProductID] = w.Code
	}
	want := map[string]string{a.ID: "QUANTITY_CLAMPED", b.ID: "QUANTITY_CLAMPED", d.ID: "LINE_DROPPED", pe.ID: "LINE_DROPPED"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("merge warnings = %v; want %v (%+v)", got, want, warnings)
	}

	var me struct{ Me struct{ Cart *gqlCart } }
	user.WithToken(token).Do(t, `{ me { cart { `+cartFields+` } } }`, nil).Decode(t, &me)
	mc := me.Me.Cart
	if mc == nil || mc.quantity(a) != 5 || mc.quantity(b) != 4 || mc.quantity(c) != 2 || len(mc.Lines) != 3 {
		t.Fatalf("user's cart after merge = %+v; want a×5 b×4 c×2", mc)
	}
	if raw, _ := readCart(t, e.srv.Client(), guestCart.ID); string(raw) != "null" {
		t.Errorf("merged guest cart still readable: %s", raw)
	}
	if _, again := login(); len(again) != 0 {
		t.Errorf("second login with the same cart warns %+v; want nothing merged", again)
	}
	user.WithToken(token).Do(t, `{ me { cart { `+cartFields+` } } }`, nil).Decode(t, &me)
	if me.Me.Cart.TotalQuantity != 11 {
		t.Errorf("user's cart after second login = %d items; want 11", me.Me.Cart.TotalQuantity)
	}
}

// A cache entry that missed a write (as when Redis was unreachable at that moment) is never
// served: reads confirm the cached version with Postgres.
func TestCartStaleCacheEntryIsNotServed(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	ps := insertProducts(t, e.pool, productSpec{price: 111, stock: 10}, productSpec{price: 222, stock: 10})
	c := e.srv.Client()
	id := createCart(t, c, line(ps[0].ID, 1)).Cart.ID
	readCart(t, c, id)
	rc := sharedRedis(t)
	ctx := context.Background()
	key := e.cfg.RedisPrefix + "cart:" + cartKey(t, id)
	old, err := rc.HGetAll(ctx, key).Result()
	if err != nil || old["v"] == "" {
		t.Fatalf("cached entry = %v, %v", old, err)
	}
	addLines(t, c, id, line(ps[1].ID, 2))
	if err := rc.HSet(ctx, key, "v", old["v"], "d", old["d"]).Err(); err != nil {
		t.Fatal(err)
	}
	if _, got := readCart(t, c, id); got.TotalQuantity != 3 || got.quantity(ps[1]) != 2 {
		t.Errorf("cart read over a stale cache entry = %+v; want the new line", got)
	}
	if v := cachedVersion(t, rc, e.cfg.RedisPrefix, cartKey(t, id)); fmt.Sprint(v) == old["v"] {
		t.Errorf("stale entry (version %d) was not replaced", v)
	}
}
