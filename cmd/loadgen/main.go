// Command loadgen drives a running server over HTTP with a store-like mix of GraphQL operations
// and reports throughput and latency percentiles per operation, plus the SQL statements and
// Redis commands each operation cost (read from the server's /metrics before and after).
//
// Two modes:
//
//	-mode mix    closed loop: -vus virtual users run the weighted mix as fast as answers come
//	-mode rate   open loop: one operation (-op) at a fixed arrival rate (-rate per second), the
//	             way latency targets such as "p99 under 20 ms at 1,000 req/s" are stated
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type options struct {
	url      string
	mode     string
	op       string
	rate     int
	vus      int
	duration time.Duration
	warmup   time.Duration
	users    int
	out      string
	label    string
	subs     int
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&o.mode, "mode", "mix", "mix, rate or subs")
	fs.IntVar(&o.subs, "subs", 10000, "open subscriptions for -mode subs")
	fs.StringVar(&o.op, "op", "product", "operation for -mode rate: "+strings.Join(opNames(), ", "))
	fs.IntVar(&o.rate, "rate", 1000, "arrivals per second for -mode rate")
	fs.IntVar(&o.vus, "vus", 32, "virtual users for -mode mix")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured time before it")
	fs.IntVar(&o.users, "users", 1000, "seeded bench users (bench-NNNN@example.com) to sign in as")
	fs.StringVar(&o.out, "out", "", "append the report as one JSON line to this file")
	fs.StringVar(&o.label, "label", "", "name of this run in the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.label == "" {
		o.label = o.mode
		if o.mode == "rate" {
			o.label = fmt.Sprintf("%s@%d/s", o.op, o.rate)
		}
	}
	g, err := newGenerator(ctx, o)
	if err != nil {
		return err
	}
	if o.mode == "subs" {
		res, err := g.runSubs(ctx, o.subs, stdout)
		if err != nil {
			return err
		}
		return appendJSON(o.out, res)
	}
	before, err := scrapeMetrics(ctx, g.http, o.url)
	if err != nil {
		return fmt.Errorf("read /metrics: %w", err)
	}
	var rep *report
	switch o.mode {
	case "mix":
		rep = g.runMix(ctx)
	case "rate":
		if _, ok := operations[o.op]; !ok {
			return fmt.Errorf("unknown -op %q", o.op)
		}
		rep = g.runRate(ctx)
	default:
		return fmt.Errorf("unknown -mode %q", o.mode)
	}
	after, err := scrapeMetrics(ctx, g.http, o.url)
	if err != nil {
		return fmt.Errorf("read /metrics: %w", err)
	}
	rep.addCosts(before, after)
	rep.print(stdout)
	return appendJSON(o.out, rep)
}

// appendJSON appends v as one JSON line to the file at path, when one is named.
func appendJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewEncoder(f).Encode(v)
}

// generator holds what virtual users share: the HTTP client and the catalog they browse.
type generator struct {
	o        options
	http     *http.Client
	slugs    []string
	ids      []string
	terms    []string
	mu       sync.Mutex
	sessions []string // access tokens of signed-in bench users, taken round-robin
	next     int
}

func newGenerator(ctx context.Context, o options) (*generator, error) {
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}
	g := &generator{o: o, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	// The catalog to browse: a few pages of products, so product pages hit many rows.
	after := ""
	for page := 0; page < 20; page++ {
		var data struct {
			Products struct {
				Nodes    []struct{ ID, Slug, Name string }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		vars := map[string]any{"first": 100}
		if after != "" {
			vars["after"] = after
		}
		if err := g.gql(ctx, "", `query Catalog($first: Int, $after: String) { products(first: $first, after: $after, sort: NEWEST) { nodes { id slug name } pageInfo { hasNextPage endCursor } } }`, vars, &data); err != nil {
			return nil, fmt.Errorf("list catalog: %w", err)
		}
		for _, n := range data.Products.Nodes {
			g.slugs = append(g.slugs, n.Slug)
			g.ids = append(g.ids, n.ID)
			if w := strings.Fields(n.Name); len(w) > 0 {
				g.terms = append(g.terms, strings.ToLower(w[len(w)-1]))
			}
		}
		if !data.Products.PageInfo.HasNextPage {
			break
		}
		after = data.Products.PageInfo.EndCursor
	}
	if len(g.ids) == 0 {
		return nil, fmt.Errorf("the catalog is empty: seed it first")
	}
	return g, nil
}

// token signs in the next bench user, so checkouts spread over many accounts as in a real store.
func (g *generator) token(ctx context.Context) (string, error) {
	g.mu.Lock()
	n := g.next % g.o.users
	g.next++
	if n < len(g.sessions) {
		t := g.sessions[n]
		g.mu.Unlock()
		return t, nil
	}
	g.mu.Unlock()
	var data struct {
		Login struct {
			AccessToken string
			UserErrors  []struct{ Code, Message string }
		}
	}
	email := fmt.Sprintf("bench-%04d@example.com", n+1)
	if err := g.gql(ctx, "", `mutation Login($input: LoginInput!) { login(input: $input) { accessToken userErrors { code message } } }`,
		map[string]any{"input": map[string]any{"email": email, "password": "bench-pass-1"}}, &data); err != nil {
		return "", err
	}
	if data.Login.AccessToken == "" {
		return "", fmt.Errorf("login %s: %v (seed bench users with `server seed -users N`)", email, data.Login.UserErrors)
	}
	g.mu.Lock()
	if n == len(g.sessions) {
		g.sessions = append(g.sessions, data.Login.AccessToken)
	}
	g.mu.Unlock()
	return data.Login.AccessToken, nil
}

// gql posts one GraphQL request and decodes data into out; GraphQL errors become Go errors.
func (g *generator) gql(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.o.url+"/graphql", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, raw)
	}
	if len(env.Errors) > 0 {
		return fmt.Errorf("%s", env.Errors[0].Message)
	}
	if out != nil {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}

// vu is one virtual user: a browsing session with its own guest cart.
type vu struct {
	g      *generator
	rnd    *rand.Rand
	cartID string
}

func (g *generator) newVU(seed uint64) *vu {
	return &vu{g: g, rnd: rand.New(rand.NewPCG(seed, seed*7919+1))}
}

func (v *vu) product() (id, slug string) {
	i := v.rnd.IntN(len(v.g.ids))
	return v.g.ids[i], v.g.slugs[i]
}

// An operation is one step a shopper takes, named as the report shows it.
type operation struct {
	weight int
	run    func(v *vu, ctx context.Context) error
}

var operations = map[string]operation{
	"browse":   {weight: 25, run: (*vu).browse},
	"product":  {weight: 30, run: (*vu).productPage},
	"search":   {weight: 20, run: (*vu).search},
	"cartRead": {weight: 10, run: (*vu).cartRead},
	"cartAdd":  {weight: 10, run: (*vu).cartAdd},
	"checkout": {weight: 5, run: (*vu).checkoutAndPay},
}

func opNames() []string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

const productFields = `id slug name description price { amount currencyCode } images { url altText }
  category { id name } seller { id name } inventory { available inStock } rating { average count }`

func (v *vu) browse(ctx context.Context) error {
	sorts := []string{"NEWEST", "PRICE_ASC", "PRICE_DESC", "RATING", "BEST_SELLING"}
	return v.g.gql(ctx, "", `query Browse($sort: ProductSort) { products(first: 20, sort: $sort) { totalCount nodes { `+productFields+` } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"sort": sorts[v.rnd.IntN(len(sorts))]}, nil)
}

func (v *vu) productPage(ctx context.Context) error {
	_, slug := v.product()
	return v.g.gql(ctx, "", `query ProductPage($slug: String) { product(slug: $slug) { `+productFields+` } }`,
		map[string]any{"slug": slug}, nil)
}

func (v *vu) search(ctx context.Context) error {
	term := v.g.terms[v.rnd.IntN(len(v.g.terms))]
	return v.g.gql(ctx, "", `query Search($q: String) { products(query: $q, first: 20) { totalCount nodes { id name price { amount } inventory { inStock } } } }`,
		map[string]any{"q": term}, nil)
}

func (v *vu) ensureCart(ctx context.Context) error {
	if v.cartID != "" {
		return nil
	}
	var data struct {
		CartCreate struct{ Cart struct{ ID string } }
	}
	if err := v.g.gql(ctx, "", `mutation CartCreate { cartCreate { cart { id } } }`, nil, &data); err != nil {
		return err
	}
	v.cartID = data.CartCreate.Cart.ID
	return nil
}

const cartFields = `id totalQuantity subtotal { amount currencyCode } lines { id quantity unitPrice { amount } lineTotal { amount } product { id name } }`

func (v *vu) cartAdd(ctx context.Context) error {
	if err := v.ensureCart(ctx); err != nil {
		return err
	}
	id, _ := v.product()
	var data struct {
		CartLinesAdd struct {
			UserErrors []struct{ Code string }
		}
	}
	err := v.g.gql(ctx, "", `mutation CartAdd($cart: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $cart, lines: $lines) { cart { `+cartFields+` } userErrors { code } } }`,
		map[string]any{"cart": v.cartID, "lines": []map[string]any{{"productId": id, "quantity": 1}}}, &data)
	if err == nil && len(data.CartLinesAdd.UserErrors) > 0 && data.CartLinesAdd.UserErrors[0].Code != "OUT_OF_STOCK" {
		// A full cart is a shopper's problem, not a server error: start a new one.
		v.cartID = ""
	}
	return err
}

func (v *vu) cartRead(ctx context.Context) error {
	if err := v.ensureCart(ctx); err != nil {
		return err
	}
	return v.g.gql(ctx, "", `query CartRead($id: ID!) { cart(id: $id) { `+cartFields+` } }`, map[string]any{"id": v.cartID}, nil)
}

// checkoutAndPay is one purchase by a signed-in user: add a line, check out, pay with tok_visa.
func (v *vu) checkoutAndPay(ctx context.Context) error {
	token, err := v.g.token(ctx)
	if err != nil {
		return err
	}
	var cart struct {
		CartCreate struct{ Cart struct{ ID string } }
	}
	id, _ := v.product()
	if err := v.g.gql(ctx, token, `mutation UserCart($lines: [CartLineInput!]) { cartCreate(input: {lines: $lines}) { cart { id } } }`,
		map[string]any{"lines": []map[string]any{{"productId": id, "quantity": 1}}}, &cart); err != nil {
		return err
	}
	key := fmt.Sprintf("lg-%d-%d", time.Now().UnixNano(), v.rnd.Uint64())
	var co struct {
		Checkout struct {
			Order      *struct{ ID string }
			UserErrors []struct{ Code, Message string }
		}
	}
	if err := v.g.gql(ctx, token, `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { order { id total { amount } } userErrors { code message } } }`,
		map[string]any{"input": map[string]any{
			"cartId": cart.CartCreate.Cart.ID, "idempotencyKey": key, "shippingMethod": "standard",
			"shippingAddress": map[string]any{"name": "Load Test", "line1": "1 Main St", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"},
		}}, &co); err != nil {
		return err
	}
	if co.Checkout.Order == nil {
		if len(co.Checkout.UserErrors) > 0 && co.Checkout.UserErrors[0].Code == "OUT_OF_STOCK" {
			return nil // sold out is a correct answer under load
		}
		return fmt.Errorf("checkout: %v", co.Checkout.UserErrors)
	}
	var pay struct {
		PayOrder struct {
			UserErrors []struct{ Code, Message string }
		}
	}
	if err := v.g.gql(ctx, token, `mutation Pay($input: PayOrderInput!) { payOrder(input: $input) { order { status } payment { status } userErrors { code message } } }`,
		map[string]any{"input": map[string]any{"orderId": co.Checkout.Order.ID, "paymentToken": "tok_visa", "idempotencyKey": key + "-pay"}}, &pay); err != nil {
		return err
	}
	if len(pay.PayOrder.UserErrors) > 0 {
		return fmt.Errorf("pay: %v", pay.PayOrder.UserErrors)
	}
	return nil
}
