package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"storefront/store/postgres"
	"storefront/testsupport"
)

// The GraphQL fragments of API.md with every field it lists (and the schema's extras around
// them), as a storefront asks for them.
const (
	fragMoney   = `fragment M on Money { amount currencyCode }`
	fragProduct = `fragment P on Product { id slug name description createdAt price { ...M } images { url altText }
  category { id slug name parent { id slug name } } seller { id slug name }
  inventory { available inStock } rating { average count } }`
	fragCart = `fragment C on Cart { id totalQuantity createdAt updatedAt subtotal { ...M }
  warnings { code message lineId productId }
  lines { id quantity unitPrice { ...M } lineTotal { ...M } addedUnitPrice { ...M } product { ...P } } }`
	fragOrder = `fragment O on Order { id number status discountCode shippingMethod reservationExpiresAt createdAt
  subtotal { ...M } discount { ...M } tax { ...M } shipping { ...M } total { ...M }
  shippingAddress { name line1 line2 city region postalCode country } tracking { carrier number }
  statusHistory { status at } payments { id status amount { ...M } brand last4 createdAt }
  lines { id productName quantity unitPrice { ...M } lineTotal { ...M } product { ...P } } }`
	fragAddress   = `fragment A on Address { id name line1 line2 city region postalCode country isDefault }`
	fitPageInfo   = `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`
	fragUser      = `fragment U on User { id email name role createdAt }`
	fitUserErrors = `userErrors { code field message }`
)

func fitDoc(op string, frags ...string) string { return op + "\n" + strings.Join(frags, "\n") }

// Every operation a storefront needs fits the limits at its largest page (first: 100) with every
// field API.md lists: the limits refuse abuse, not shoppers. Each answer reports its cost.
func TestStorefrontQueriesFitLimits(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	s := startServer(t, cfg, nil)
	pool, err := postgres.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	products := insertProducts(t, pool, productSpec{price: 1999, stock: 50}, productSpec{price: 2999, stock: 50})
	ts := &testsupport.Server{App: s.App, URL: s.URL}
	customer, user := ts.NewCustomer(t)
	cartID := createCart(t, customer, line(products[0].ID, 1)).Cart.ID
	auth := map[string][]string{"Authorization": {"Bearer " + user.AccessToken}}

	ops := []struct {
		name string
		doc  string
		vars map[string]any
	}{
		{"product listing", fitDoc(`query($q: String, $f: ProductFilter, $after: String) {
  products(query: $q, filter: $f, sort: PRICE_ASC, first: 100, after: $after) {
    totalCount `+fitPageInfo+` edges { cursor node { ...P } } nodes { ...P } } }`, fragProduct, fragMoney),
			map[string]any{"q": "thing", "f": map[string]any{"minPrice": "1.00", "maxPrice": "500.00", "inStock": true}}},
		{"product page", fitDoc(`query($id: ID, $slug: String) { product(id: $id, slug: $slug) { ...P } }`, fragProduct, fragMoney),
			map[string]any{"id": products[0].ID}},
		{"category tree", fitDoc(`{ categories { id slug name parent { id slug name } children { id slug name children { id slug name } } } }`), nil},
		{"category page", fitDoc(`query($id: ID!) { node(id: $id) { id ... on Category { id slug name children { id slug name }
  products(sort: NEWEST, first: 100) { totalCount `+fitPageInfo+` edges { cursor node { ...P } } } } } }`, fragProduct, fragMoney),
			map[string]any{"id": products[0].ID}},
		{"product by node", fitDoc(`query($id: ID!) { node(id: $id) { id ... on Product { ...P } } }`, fragProduct, fragMoney),
			map[string]any{"id": products[0].ID}},
		{"account page", fitDoc(`{ me { ...U addresses { ...A } defaultAddress { ...A } cart { ...C }
  orders(first: 100, status: PAID) { totalCount `+fitPageInfo+` edges { cursor node { ...O } } } } }`,
			fragUser, fragAddress, fragCart, fragOrder, fragProduct, fragMoney), nil},
		{"cart", fitDoc(`query($id: ID!) { cart(id: $id) { ...C } }`, fragCart, fragProduct, fragMoney), map[string]any{"id": cartID}},
		{"order", fitDoc(`query($id: ID!) { order(id: $id) { ...O } }`, fragOrder, fragProduct, fragMoney), map[string]any{"id": cartID}},
		{"shipping methods", fitDoc(`{ shippingMethods { code name price { ...M } freeOver { ...M } } }`, fragMoney), nil},
		{"checkout page", fitDoc(`query($id: ID!) { cart(id: $id) { ...C } shippingMethods { code name price { ...M } freeOver { ...M } }
  me { ...U addresses { ...A } defaultAddress { ...A } } }`, fragCart, fragProduct, fragUser, fragAddress, fragMoney),
			map[string]any{"id": cartID}},
		{"register", fitDoc(`mutation($in: RegisterInput!) { register(input: $in) { accessToken refreshToken expiresAt user { ...U }
  warnings { code message } `+fitUserErrors+` } }`, fragUser),
			map[string]any{"in": map[string]any{"email": "fits-" + user.Email, "password": "long-enough-pass-1", "name": "Fits"}}},
		{"login", fitDoc(`mutation($in: LoginInput!) { login(input: $in) { accessToken refreshToken expiresAt user { ...U cart { ...C } }
  warnings { code message lineId productId } `+fitUserErrors+` } }`, fragUser, fragCart, fragProduct, fragMoney),
			map[string]any{"in": map[string]any{"email": user.Email, "password": user.Password}}},
		{"add to cart", fitDoc(`mutation($id: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $id, lines: $lines) {
  cart { ...C } warnings { code message lineId productId } `+fitUserErrors+` } }`, fragCart, fragProduct, fragMoney),
			map[string]any{"id": cartID, "lines": []any{line(products[1].ID, 2)}}},
		{"checkout", fitDoc(`mutation($in: CheckoutInput!) { checkout(input: $in) { order { ...O } `+fitUserErrors+` } }`, fragOrder, fragProduct, fragMoney),
			map[string]any{"in": map[string]any{"cartId": cartID, "idempotencyKey": "fits-1", "shippingMethod": "standard",
				"shippingAddress": map[string]any{"name": "A", "line1": "1 Main St", "city": "Town", "postalCode": "12345", "country": "US"}}}},
		{"pay", fitDoc(`mutation($in: PayOrderInput!) { payOrder(input: $in) { order { ...O } payment { id status amount { ...M } brand last4 createdAt } `+fitUserErrors+` } }`,
			fragOrder, fragProduct, fragMoney),
			map[string]any{"in": map[string]any{"orderId": cartID, "paymentToken": "tok_visa", "idempotencyKey": "fits-2"}}},
	}
	for _, op := range ops {
		r := gql(t, s, op.doc, op.vars, auth)
		for _, e := range r.Errors {
			switch code, _ := e.Extensions["code"].(string); code {
			case "COMPLEXITY_LIMIT_EXCEEDED", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "RATE_LIMITED":
				t.Errorf("%s refused: %s", op.name, e.Message)
			}
		}
		cost, ok := r.Extensions["cost"].(float64)
		if !ok || cost <= 0 || int(cost) > cfg.Limits.MaxComplexity {
			t.Errorf("%s: extensions.cost = %v; want a cost within %d", op.name, r.Extensions["cost"], cfg.Limits.MaxComplexity)
		}
		t.Logf("%-18s cost %5.0f of %d", op.name, cost, cfg.Limits.MaxComplexity)
	}

	// Subscriptions pass the same limits when they start.
	sub := ts.Subscribe(t, testsupport.ProtocolTransportWS, user.AccessToken,
		fitDoc(`subscription($id: ID!) { cartUpdated(cartId: $id) { ...C } }`, fragCart, fragProduct, fragMoney), map[string]any{"id": cartID})
	waitSubscribed(t, cfg.RedisPrefix+"cart:"+cartKey(t, cartID))
	addLines(t, customer, cartID, line(products[0].ID, 1))
	if resp, ok := sub.Next(5 * time.Second); !ok || len(resp.Errors) > 0 {
		t.Errorf("cartUpdated with every field: %+v, %v", resp, ok)
	}
	orderSub := ts.Subscribe(t, testsupport.ProtocolTransportWS, user.AccessToken,
		fitDoc(`subscription($id: ID!) { orderStatusChanged(orderId: $id) { ...O } }`, fragOrder, fragProduct, fragMoney), map[string]any{"id": cartID})
	if resp, ok := orderSub.Next(5 * time.Second); ok {
		if code := resp.ErrorCode(); code == "COMPLEXITY_LIMIT_EXCEEDED" || code == "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("orderStatusChanged with every field refused: %+v", resp.Errors)
		}
	}
}
