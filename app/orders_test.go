package app_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"storefront/app"
	"storefront/resolvers/relay"
	"storefront/testsupport"
)

const statusSubscription = `subscription($id: ID!) { orderStatusChanged(orderId: $id) { id status tracking { carrier number } } }`

// TestOrderStatusSubscriptionAcrossInstances subscribes on one instance while the order changes on
// another: the owner hears PAID, SHIPPED and DELIVERED; another user is refused.
func TestOrderStatusSubscriptionAcrossInstances(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	other := testsupport.StartServer(t, s.App.Config())
	admin := s.NewAdmin(t)
	p := s.product("Kettle", 4000, 2)
	c, user := s.customer()
	orderID := mustCheckout(t, c, s.cart(user.Key, [2]int64{p, 1})).ID
	key, _ := relay.ParseIntID(orderID, relay.KindOrder)

	sub := other.Subscribe(t, testsupport.ProtocolTransportWS, user.AccessToken, statusSubscription, map[string]any{"id": orderID})
	eventually(t, "the subscription to reach Redis", func() bool {
		return other.App.Hub.Subscribers("order-status:"+strconv.FormatInt(key, 10)) == 1
	})
	next := func(want string) {
		t.Helper()
		var out struct {
			OrderStatusChanged struct {
				ID       string
				Status   string
				Tracking *struct{ Carrier, Number string }
			}
		}
		for {
			resp, ok := sub.Next(10 * time.Second)
			if !ok {
				t.Fatalf("no %s event", want)
			}
			resp.Decode(t, &out)
			// The checkout's own event is relayed from the outbox after its commit, so on a busy
			// machine it may reach a subscription made after the checkout returned.
			if out.OrderStatusChanged.Status != "PENDING_PAYMENT" || want == "PENDING_PAYMENT" {
				break
			}
		}
		if got := out.OrderStatusChanged; got.ID != orderID || got.Status != want {
			t.Fatalf("event = %+v; want %s", got, want)
		}
	}
	if r := pay(t, c, orderID, "tok_visa", "k"); r.Order == nil || r.Order.Status != "PAID" {
		t.Fatalf("pay: %s", dump(r))
	}
	next("PAID")
	if r := mutateOrder(t, admin, shipMutation, orderID); r.Order == nil || r.Order.Status != "SHIPPED" ||
		r.Order.Tracking == nil || r.Order.Tracking.Number != "1Z999" {
		t.Fatalf("ship: %s", dump(r))
	}
	next("SHIPPED")
	if r := mutateOrder(t, admin, deliverMutation, orderID); r.Order == nil || r.Order.Status != "DELIVERED" {
		t.Fatalf("deliver: %s", dump(r))
	}
	next("DELIVERED")

	// Someone else's order cannot be watched, whatever the protocol.
	_, stranger := s.customer()
	for _, proto := range []string{testsupport.ProtocolTransportWS, testsupport.ProtocolLegacyWS} {
		spy := s.Subscribe(t, proto, stranger.AccessToken, statusSubscription, map[string]any{"id": orderID})
		resp, ok := spy.Next(5 * time.Second)
		if !ok || resp.ErrorCode() != "NOT_FOUND" {
			t.Errorf("%s: stranger's subscription answered %+v (%v); want NOT_FOUND", proto, resp, ok)
		}
	}
	// And a guest is asked to sign in.
	guest := s.Subscribe(t, testsupport.ProtocolTransportWS, "", statusSubscription, map[string]any{"id": orderID})
	if resp, ok := guest.Next(5 * time.Second); !ok || resp.ErrorCode() != "UNAUTHENTICATED" {
		t.Errorf("guest subscription answered %+v (%v); want UNAUTHENTICATED", resp, ok)
	}
}

// TestEveryInvalidTransitionAnswersInvalidState drives orders into every status and tries each
// change the state machine refuses, over the API.
func TestEveryInvalidTransitionAnswersInvalidState(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	admin := s.NewAdmin(t)
	p := s.product("Chair", 1000, 20)
	c, user := s.customer()
	newOrder := func() string {
		t.Helper()
		if _, err := s.pool.Exec(context.Background(), `UPDATE carts SET status = 'MERGED' WHERE user_id = $1 AND status = 'ACTIVE'`, user.Key); err != nil {
			t.Fatal(err)
		}
		return mustCheckout(t, c, s.cart(user.Key, [2]int64{p, 1})).ID
	}
	step := func(id, mutation, want string) {
		t.Helper()
		client := admin
		if mutation == cancelMutation {
			client = c
		}
		if r := mutateOrder(t, client, mutation, id); r.Order == nil || r.Order.Status != want {
			t.Fatalf("reach %s: %s", want, dump(r))
		}
	}
	paid := func(id string) {
		t.Helper()
		if r := pay(t, c, id, "tok_visa", "pay-"+id); r.Order == nil || r.Order.Status != "PAID" {
			t.Fatalf("pay: %s", dump(r))
		}
	}
	orders := map[string]string{}
	orders["PENDING_PAYMENT"] = newOrder()
	orders["PAID"] = newOrder()
	paid(orders["PAID"])
	orders["SHIPPED"] = newOrder()
	paid(orders["SHIPPED"])
	step(orders["SHIPPED"], shipMutation, "SHIPPED")
	orders["DELIVERED"] = newOrder()
	paid(orders["DELIVERED"])
	step(orders["DELIVERED"], shipMutation, "SHIPPED")
	step(orders["DELIVERED"], deliverMutation, "DELIVERED")
	orders["CANCELLED"] = newOrder()
	step(orders["CANCELLED"], cancelMutation, "CANCELLED")
	orders["REFUNDED"] = newOrder()
	paid(orders["REFUNDED"])
	step(orders["REFUNDED"], cancelMutation, "REFUNDED")

	refused := map[string][]string{
		"ship":    {"PENDING_PAYMENT", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"},
		"deliver": {"PENDING_PAYMENT", "PAID", "DELIVERED", "CANCELLED", "REFUNDED"},
		"cancel":  {"SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"},
		"pay":     {"PAID", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"},
	}
	for change, froms := range refused {
		for _, from := range froms {
			id := orders[from]
			var ues []userError
			switch change {
			case "ship":
				ues = mutateOrder(t, admin, shipMutation, id).UserErrors
			case "deliver":
				ues = mutateOrder(t, admin, deliverMutation, id).UserErrors
			case "cancel":
				ues = mutateOrder(t, c, cancelMutation, id).UserErrors
			case "pay":
				ues = pay(t, c, id, "tok_visa", "again-"+id).UserErrors
			}
			if !hasCode(ues, "INVALID_STATE") {
				t.Errorf("%s from %s: %+v; want INVALID_STATE", change, from, ues)
			}
			if got := orderStatus(t, c, id); got != from {
				t.Errorf("%s from %s moved the order to %s", change, from, got)
			}
		}
	}
	// History records each transition once.
	var out struct{ Order orderJSON }
	c.Do(t, `query($id: ID!) { order(id: $id) { `+orderFields+` } }`, map[string]any{"id": orders["DELIVERED"]}).Decode(t, &out)
	var seen []string
	for _, h := range out.Order.StatusHistory {
		seen = append(seen, h.Status)
	}
	if dump(seen) != `["PENDING_PAYMENT","PAID","SHIPPED","DELIVERED"]` {
		t.Errorf("history = %v", seen)
	}
	// Customers cannot ship or deliver.
	if resp := c.Do(t, shipMutation, map[string]any{"id": orders["PAID"]}); resp.ErrorCode() != "FORBIDDEN" {
		t.Errorf("customer shipping: %+v", resp.Errors)
	}
}

func TestAnotherUsersOrderIsNotFound(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	orderID, _, owner := s.pendingOrder(1000, 5)
	stranger, _ := s.customer()

	resp := stranger.Do(t, `query($id: ID!) { order(id: $id) { id status total { amount } } }`, map[string]any{"id": orderID})
	if resp.ErrorCode() != "NOT_FOUND" || string(resp.Data) != `{"order":null}` {
		t.Errorf("order(id) for a stranger: %s %+v", resp.Data, resp.Errors)
	}
	var node struct{ Node *struct{ ID string } }
	stranger.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": orderID}).Decode(t, &node)
	if node.Node != nil {
		t.Errorf("node(id) showed a stranger the order")
	}
	if r := mutateOrder(t, stranger, cancelMutation, orderID); !hasCode(r.UserErrors, "NOT_FOUND") || r.Order != nil {
		t.Errorf("stranger cancel: %s", dump(r))
	}
	if r := pay(t, stranger, orderID, "tok_visa", "x"); !hasCode(r.UserErrors, "NOT_FOUND") || r.Order != nil {
		t.Errorf("stranger pay: %s", dump(r))
	}
	// The owner sees it through node(id), and its payments too.
	r := pay(t, owner, orderID, "tok_visa", "mine")
	var mine struct {
		Node *struct {
			ID     string
			Status string
		}
	}
	owner.Do(t, `query($id: ID!) { node(id: $id) { id ... on Order { status } } }`, map[string]any{"id": orderID}).Decode(t, &mine)
	if mine.Node == nil || mine.Node.Status != "PAID" {
		t.Errorf("owner node(id) = %+v", mine.Node)
	}
	var payNode struct{ Node *struct{ Status string } }
	owner.Do(t, `query($id: ID!) { node(id: $id) { ... on Payment { status } } }`, map[string]any{"id": r.Payment.ID}).Decode(t, &payNode)
	if payNode.Node == nil || payNode.Node.Status != "APPROVED" {
		t.Errorf("owner payment node = %+v", payNode.Node)
	}
	stranger.Do(t, `query($id: ID!) { node(id: $id) { ... on Payment { status } } }`, map[string]any{"id": r.Payment.ID}).Decode(t, &payNode)
	if payNode.Node != nil {
		t.Errorf("node(id) showed a stranger the payment")
	}
}

func TestMyOrdersNewestFirstWithCursorsAndStatusFilter(t *testing.T) {
	t.Parallel()
	// Fifteen socks in five orders: more than the daily purchase cap, which is not under test here.
	s := newShop(t, func(c *app.Config) { c.PurchaseCapPerDay = 0 })
	p := s.product("Sock", 300, 50)
	c, user := s.customer()
	var ids []string
	for i := range 5 {
		if _, err := s.pool.Exec(context.Background(), `UPDATE carts SET status = 'MERGED' WHERE user_id = $1 AND status = 'ACTIVE'`, user.Key); err != nil {
			t.Fatal(err)
		}
		id := mustCheckout(t, c, s.cart(user.Key, [2]int64{p, int64(i + 1)})).ID
		ids = append(ids, id)
	}
	pay(t, c, ids[1], "tok_visa", "a")
	pay(t, c, ids[3], "tok_visa", "b")
	s.pendingOrder(300, 5) // someone else's order never shows up

	const q = `query($first: Int, $after: String, $status: OrderStatus) { me { orders(first: $first, after: $after, status: $status) {
		totalCount edges { cursor node { id status } } nodes { id } pageInfo { hasNextPage endCursor } } } }`
	type page struct {
		Me struct {
			Orders struct {
				TotalCount int
				Edges      []struct {
					Cursor string
					Node   struct{ ID, Status string }
				}
				Nodes    []struct{ ID string }
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
	}
	var got []string
	var after any
	for pages := 0; ; pages++ {
		var out page
		c.Do(t, q, map[string]any{"first": 2, "after": after}).Decode(t, &out)
		o := out.Me.Orders
		if o.TotalCount != 5 || len(o.Nodes) != len(o.Edges) {
			t.Fatalf("page %d: %+v", pages, o)
		}
		for _, e := range o.Edges {
			got = append(got, e.Node.ID)
		}
		if !o.PageInfo.HasNextPage {
			break
		}
		after = *o.PageInfo.EndCursor
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if dump(got) != dump(want) {
		t.Errorf("orders = %v; want newest first %v", got, want)
	}
	var paid page
	c.Do(t, q, map[string]any{"status": "PAID"}).Decode(t, &paid)
	if paid.Me.Orders.TotalCount != 2 || len(paid.Me.Orders.Edges) != 2 || paid.Me.Orders.Edges[0].Node.ID != ids[3] {
		t.Errorf("PAID orders = %+v", paid.Me.Orders)
	}
	if resp := c.Do(t, q, map[string]any{"first": 500}); resp.ErrorCode() != "BAD_USER_INPUT" {
		t.Errorf("first: 500 answered %+v", resp.Errors)
	}
	if resp := c.Do(t, q, map[string]any{"after": "garbage"}); resp.ErrorCode() != "BAD_USER_INPUT" {
		t.Errorf("bad cursor answered %+v", resp.Errors)
	}
}

func TestInventorySetAndLowStockAlert(t *testing.T) {
	t.Parallel()
	s := newShop(t, nil)
	admin := s.NewAdmin(t)
	p := s.product("Vase", 2000, 10)
	c, user := s.customer()
	// Reserve 4: available 6, still above the threshold of 5.
	mustCheckout(t, c, s.cart(user.Key, [2]int64{p, 4}))

	const m = `mutation($id: ID!, $n: Int!) { inventorySet(productId: $id, onHand: $n) {
		product { id name } inventory { onHand reserved available } userErrors { code field message } } }`
	type answer struct {
		InventorySet struct {
			Product    *struct{ ID, Name string }
			Inventory  *struct{ OnHand, Reserved, Available int }
			UserErrors []userError
		}
	}
	var below answer
	admin.Do(t, m, map[string]any{"id": productID(p), "n": 3}).Decode(t, &below)
	if !hasCode(below.InventorySet.UserErrors, "INVALID_INPUT") || below.InventorySet.Inventory != nil {
		t.Errorf("onHand under reserved: %s", dump(below))
	}
	var ok answer
	admin.Do(t, m, map[string]any{"id": productID(p), "n": 7}).Decode(t, &ok)
	inv := ok.InventorySet.Inventory
	if len(ok.InventorySet.UserErrors) > 0 || inv == nil || inv.OnHand != 7 || inv.Reserved != 4 || inv.Available != 3 {
		t.Fatalf("inventorySet: %s", dump(ok))
	}
	if ok.InventorySet.Product == nil || ok.InventorySet.Product.Name != "Vase" {
		t.Errorf("product = %+v", ok.InventorySet.Product)
	}
	eventually(t, "a low-stock alert", func() bool {
		return s.count(`SELECT count(*) FROM stock_alerts WHERE product_id = $1 AND available = 3`, p) == 1
	})
	var missing answer
	admin.Do(t, m, map[string]any{"id": productID(999999), "n": 1}).Decode(t, &missing)
	if !hasCode(missing.InventorySet.UserErrors, "NOT_FOUND") {
		t.Errorf("unknown product: %s", dump(missing))
	}
	var negative answer
	admin.Do(t, m, map[string]any{"id": productID(p), "n": -1}).Decode(t, &negative)
	if !hasCode(negative.InventorySet.UserErrors, "INVALID_INPUT") {
		t.Errorf("negative onHand: %s", dump(negative))
	}
	if resp := c.Do(t, m, map[string]any{"id": productID(p), "n": 100}); resp.ErrorCode() != "FORBIDDEN" {
		t.Errorf("customer inventorySet: %+v", resp.Errors)
	}
	if on, _, _ := s.stock(p); on != 7 {
		t.Errorf("on hand = %d; want 7", on)
	}
}
