package app_test

import (
	"context"
	"testing"
	"time"

	"storefront/testsupport"
)

const lineProductFields = `lines { quantity product { id name seller { name } category { name } images { url }
	inventory { available inStock } rating { count } } }`

type lineProductsJSON struct {
	Lines []struct {
		Quantity int
		Product  struct {
			ID, Name  string
			Seller    struct{ Name string }
			Category  struct{ Name string }
			Inventory struct {
				Available int
				InStock   bool
			}
		}
	}
}

// A cart's lines come with their products and every nested field, and each cartUpdated event
// reads the products afresh: a loader cache shared across the events of one
// websocket would keep showing the stock of the first event.
func TestCartLineProductIsFreshInEverySubscriptionEvent(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	ps := insertProducts(t, e.pool, productSpec{price: 900, stock: 20}, productSpec{price: 1500, stock: 5})
	id := createCart(t, e.srv.Client(), line(ps[0].ID, 1), line(ps[1].ID, 1)).Cart.ID

	var got struct{ Cart lineProductsJSON }
	e.srv.Client().Do(t, `query($id: ID!) { cart(id: $id) { `+lineProductFields+` } }`, map[string]any{"id": id}).Decode(t, &got)
	if len(got.Cart.Lines) != 2 {
		t.Fatalf("cart has %d lines", len(got.Cart.Lines))
	}
	for _, l := range got.Cart.Lines {
		if (l.Product.ID != ps[0].ID && l.Product.ID != ps[1].ID) || l.Product.Seller.Name != "Seller" || l.Product.Category.Name != "Things" || !l.Product.Inventory.InStock {
			t.Errorf("line product = %+v", l.Product)
		}
	}

	sub := e.srv.Subscribe(t, testsupport.ProtocolTransportWS, "",
		`subscription($id: ID!) { cartUpdated(cartId: $id) { `+lineProductFields+` } }`, map[string]any{"id": id})
	waitSubscribed(t, e.cfg.RedisPrefix+"cart:"+cartKey(t, id))
	available := func() int {
		t.Helper()
		resp, ok := sub.Next(5 * time.Second)
		if !ok {
			t.Fatal("no cartUpdated")
		}
		var ev struct{ CartUpdated lineProductsJSON }
		resp.Decode(t, &ev)
		for _, l := range ev.CartUpdated.Lines {
			if l.Product.ID == ps[0].ID {
				return l.Product.Inventory.Available
			}
		}
		t.Fatalf("event without the product: %+v", ev)
		return 0
	}

	if p := addLines(t, e.srv.Client(), id, line(ps[1].ID, 1)); len(p.UserErrors) != 0 {
		t.Fatalf("add: %+v", p.UserErrors)
	}
	if n := available(); n != 20 {
		t.Fatalf("first event shows %d available; want 20", n)
	}
	if _, err := e.pool.Exec(context.Background(), `UPDATE inventory SET on_hand = 7 WHERE product_id = $1`, ps[0].Key); err != nil {
		t.Fatal(err)
	}
	if p := addLines(t, e.srv.Client(), id, line(ps[1].ID, 1)); len(p.UserErrors) != 0 {
		t.Fatalf("add: %+v", p.UserErrors)
	}
	if n := available(); n != 7 {
		t.Errorf("second event shows %d available; want the new 7, not a cached value", n)
	}
}

// The cart resolvers fill the lines' products with what any selection of them asks: two aliases
// of lines asking for different product fields both get theirs, in a mutation's payload and in
// a query, and a cart line fetched as a node has its product too.
func TestCartLineProductsFollowTheSelection(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, nil)
	ps := insertProducts(t, e.pool, productSpec{price: 900, stock: 20}, productSpec{price: 1500, stock: 5})
	c := e.srv.Client()
	id := createCart(t, c, line(ps[0].ID, 1)).Cart.ID

	type aliased struct {
		Sellers []struct {
			Product struct{ Seller struct{ Name string } }
		}
		Categories []struct {
			ID      string
			Product struct {
				ID       string
				Category struct{ Name string }
			}
		}
	}
	const selection = `sellers: lines { product { seller { name } } }
		categories: lines { id product { id ...on Product { category { name } } } }`
	check := func(where string, got aliased) {
		t.Helper()
		if len(got.Sellers) != 2 || len(got.Categories) != 2 {
			t.Fatalf("%s: %+v; want two lines in each alias", where, got)
		}
		for i := range 2 {
			if got.Sellers[i].Product.Seller.Name != "Seller" || got.Categories[i].Product.Category.Name != "Things" {
				t.Errorf("%s: line %d = %+v / %+v; want its seller and its category", where, i, got.Sellers[i], got.Categories[i])
			}
		}
	}

	var added struct {
		CartLinesAdd struct{ Cart aliased }
	}
	c.Do(t, `mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $id, lines: $lines) { cart { `+selection+` } } }`,
		map[string]any{"id": id, "lines": []map[string]any{line(ps[1].ID, 2)}}).Decode(t, &added)
	check("cartLinesAdd", added.CartLinesAdd.Cart)

	var read struct{ Cart aliased }
	c.Do(t, `query($id: ID!) { cart(id: $id) { `+selection+` } }`, map[string]any{"id": id}).Decode(t, &read)
	check("cart", read.Cart)

	lineID := read.Cart.Categories[1].ID
	var node struct {
		Node struct {
			Product struct {
				ID     string
				Name   string
				Images []struct{ URL string }
			}
		}
	}
	c.Do(t, `query($id: ID!) { node(id: $id) { ... on CartLine { product { id name images { url } } } } }`,
		map[string]any{"id": lineID}).Decode(t, &node)
	if node.Node.Product.ID != read.Cart.Categories[1].Product.ID || node.Node.Product.Name == "" {
		t.Errorf("node(cart line) = %+v; want the line's product", node.Node)
	}
}
