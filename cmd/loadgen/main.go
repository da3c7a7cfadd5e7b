// Command loadgen drives a running server over HTTP with a store-like mix of GraphQL operations
// and reports throughput and latency percentiles per operation, plus the SQL statements and
// Redis commands each operation cost (read from the server's /metrics before and after).
//
// Modes:
//
//	-mode mix        closed loop: -vus virtual users run the weighted mix as fast as answers come
//	-mode rate       open loop: one operation (-op) at a fixed arrival rate (-rate per second), the
//	                 way latency targets such as "p99 under 20 ms at 1,000 req/s" are stated
//	-mode subs       -subs open cartUpdated subscriptions, one cart change, delivery time to all
//	-mode summarize  medians over the JSON lines of several runs (files as arguments)
//
// -target floor sends the product and cartAdd operations of -mode rate to cmd/floor (-floor-url)
// instead: the same work without GraphQL. -target both runs the two in one open loop, taking
// turns of -slice, and reports each: on a shared machine two runs one after the other meet it at
// different moments, and the first of them came out worse. Setting up (listing the catalog,
// creating carts, signing in) always goes through GraphQL at -url, untimed. An operation's
// latency is the time its requests spent between sending and the answer's last byte (see
// wireClock), for both targets.
//
// The generator shares the machine with the server in the benchmark, so it keeps its own work
// small: no per-request goroutines beyond one per arrival, bodies built with one Marshal.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	url       string
	floorURL  string
	target    string
	slice     time.Duration
	mode      string
	op        string
	rate      int
	vus       int
	duration  time.Duration
	warmup    time.Duration
	users     int
	logins    int
	hot       int
	catalog   int
	out       string
	label     string
	subs      int
	summaryTo string
	pprofURL  string
	hold      time.Duration
	// cpuProfile names a file for the generator's own CPU profile: its share of the cores is
	// taken from the server's, so what it spends is worth seeing.
	cpuProfile string
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "GraphQL server base URL")
	fs.StringVar(&o.floorURL, "floor-url", "http://127.0.0.1:8081", "cmd/floor base URL, for -target floor")
	fs.StringVar(&o.target, "target", "graphql", "graphql, floor (the product and cartAdd operations without GraphQL), or both taking turns (-mode rate)")
	fs.DurationVar(&o.slice, "slice", 2*time.Second, "for -target both: how long each side's turn lasts")
	fs.StringVar(&o.mode, "mode", "mix", "mix, rate, subs or summarize")
	fs.IntVar(&o.subs, "subs", 10000, "open subscriptions for -mode subs")
	fs.DurationVar(&o.hold, "hold", 0, "for -mode subs: keep the subscriptions open this long before the change, to profile the server")
	fs.StringVar(&o.pprofURL, "pprof-url", "", "the server's pprof listener (PPROF=on), for -mode subs to collect garbage before reading memory")
	fs.StringVar(&o.op, "op", "product", "operation for -mode rate: "+strings.Join(opNames(), ", "))
	fs.IntVar(&o.rate, "rate", 1000, "arrivals per second for -mode rate")
	fs.IntVar(&o.vus, "vus", 32, "virtual users for -mode mix")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured time before it")
	fs.IntVar(&o.users, "users", 1000, "seeded bench users (bench-NNNN@example.com) there are")
	fs.IntVar(&o.logins, "logins", 200, "how many of them to sign in, before measuring, for checkouts")
	fs.IntVar(&o.hot, "hot", 10, "checkouts buy one of this many products half of the time, so some sell out")
	fs.IntVar(&o.catalog, "catalog", 10000, "how many products to browse at most")
	fs.StringVar(&o.out, "out", "", "append the report as one JSON line to this file")
	fs.StringVar(&o.label, "label", "", "name of this run in the report")
	fs.StringVar(&o.summaryTo, "summary-json", "", "for -mode summarize: write the medians as JSON to this file")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.mode == "summarize" {
		return summarize(fs.Args(), stdout, o.summaryTo)
	}
	if o.target != "graphql" && o.target != "floor" && o.target != "both" {
		return fmt.Errorf("unknown -target %q", o.target)
	}
	if o.target != "graphql" && (o.mode != "rate" || operations[o.op].floor == nil) {
		return fmt.Errorf("-target %s serves -mode rate with -op product or cartAdd only", o.target)
	}
	if o.target == "both" && o.slice <= 0 {
		return fmt.Errorf("-slice must be positive")
	}
	if o.mode == "rate" {
		if _, ok := operations[o.op]; !ok {
			return fmt.Errorf("unknown -op %q", o.op)
		}
	}
	if o.label == "" {
		o.label = o.mode
		if o.mode == "rate" {
			o.label = fmt.Sprintf("%s@%d/s", o.op, o.rate)
			if o.target == "floor" {
				o.label = "floor:" + o.label
			}
		}
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
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
	if o.mode == "mix" || o.op == "checkout" {
		if err := g.login(ctx, min(o.logins, o.users)); err != nil {
			return err
		}
	}
	load0, self0 := loadAverage(), ownCPU()
	// served is the process whose metrics tell the operations' cost: the GraphQL server's
	// statements and commands, and the CPU of the one side run alone (with both, runRate reads
	// each side's CPU in its own turns).
	served := o.url
	if o.target == "floor" {
		served = o.floorURL
	}
	before, err := scrapeMetrics(ctx, g.http, served)
	if err != nil {
		return fmt.Errorf("read %s/metrics: %w", served, err)
	}
	var reps []*report
	switch o.mode {
	case "mix":
		reps = []*report{g.runMix(ctx)}
	case "rate":
		reps = g.runRate(ctx)
	default:
		return fmt.Errorf("unknown -mode %q", o.mode)
	}
	after, err := scrapeMetrics(ctx, g.http, served)
	if err != nil {
		return fmt.Errorf("read %s/metrics: %w", served, err)
	}
	selfCPU := ownCPU() - self0
	answeredAll := 0
	for _, rep := range reps {
		for _, r := range rep.Ops {
			answeredAll += r.Count
		}
	}
	for _, rep := range reps {
		if rep.Target == "graphql" {
			rep.addCosts(before, after)
		}
		answered := 0
		for _, r := range rep.Ops {
			answered += r.Count
		}
		if answered > 0 {
			// The warm-up ran at the same pace; its operations cost CPU too. The generator's
			// own CPU is shared by all the operations it ran.
			scale := (o.warmup + o.duration).Seconds() / o.duration.Seconds()
			if o.target == "both" {
				rep.ServerCPUms = rep.turnCPUms
			} else {
				rep.ServerCPUms = (after[metricCPU][""] - before[metricCPU][""]) * 1000 / (float64(answered) * scale)
			}
			rep.GeneratorCPUms = selfCPU.Seconds() * 1000 / (float64(answeredAll) * scale)
		}
		rep.LoadAverage = [2]float64{load0, loadAverage()}
		rep.print(stdout)
		if err := appendJSON(o.out, rep); err != nil {
			return err
		}
	}
	return nil
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

// loadAverage is the machine's one-minute load average, or 0 where /proc does not tell it.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	_, _ = fmt.Sscanf(string(raw), "%g", &v)
	return v
}

// ownCPU is the CPU time this process has used, user and system.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// generator holds what virtual users share: the HTTP client, the catalog they browse and the
// sessions of the signed-in bench users.
type generator struct {
	o     options
	http  *http.Client
	slugs []string
	ids   []string
	terms []string
	// tokens holds the access tokens of signed-in bench users not in a checkout right now: a user
	// has one cart, so two checkouts of one user at once would check out each other's cart.
	tokens chan string
}

func newGenerator(ctx context.Context, o options) (*generator, error) {
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}
	g := &generator{o: o, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	if o.mode == "subs" {
		return g, g.listCatalog(ctx, 1)
	}
	return g, g.listCatalog(ctx, o.catalog)
}

// listCatalog reads up to n products, so product pages and carts spread over the whole catalog.
func (g *generator) listCatalog(ctx context.Context, n int) error {
	after := ""
	for len(g.ids) < n {
		var data struct {
			Products struct {
				Nodes    []struct{ ID, Slug, Name string }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		vars := map[string]any{"first": min(100, n-len(g.ids))}
		if after != "" {
			vars["after"] = after
		}
		if err := g.gql(ctx, "", `query Catalog($first: Int, $after: String) { products(first: $first, after: $after, sort: NEWEST) { nodes { id slug name } pageInfo { hasNextPage endCursor } } }`, vars, &data); err != nil {
			return fmt.Errorf("list catalog: %w", err)
		}
		for _, n := range data.Products.Nodes {
			g.slugs = append(g.slugs, n.Slug)
			g.ids = append(g.ids, n.ID)
			if w := strings.Fields(n.Name); len(w) > 1 {
				g.terms = append(g.terms, strings.ToLower(w[1])) // the product line, e.g. "pro"
			}
		}
		if !data.Products.PageInfo.HasNextPage {
			break
		}
		after = data.Products.PageInfo.EndCursor
	}
	if len(g.ids) == 0 {
		return fmt.Errorf("the catalog is empty: seed it first")
	}
	return nil
}

// login signs in the first n bench users, a few at a time (each login verifies an argon2id hash,
// which is meant to be slow), so checkouts spread over many accounts as in a real store.
func (g *generator) login(ctx context.Context, n int) error {
	tokens := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				var data struct {
					Login struct {
						AccessToken string
						UserErrors  []struct{ Code, Message string }
					}
				}
				email := fmt.Sprintf("bench-%04d@example.com", i+1)
				err := g.gql(ctx, "", `mutation Login($input: LoginInput!) { login(input: $input) { accessToken userErrors { code message } } }`,
					map[string]any{"input": map[string]any{"email": email, "password": "bench-pass-1"}}, &data)
				if err == nil && data.Login.AccessToken == "" {
					err = fmt.Errorf("%v (seed bench users with `server seed -users N`)", data.Login.UserErrors)
				}
				if err != nil {
					errs <- fmt.Errorf("login %s: %w", email, err)
					return
				}
				tokens[i] = data.Login.AccessToken
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	g.tokens = make(chan string, n)
	for _, t := range tokens {
		g.tokens <- t
	}
	return nil
}

// gql posts one GraphQL request and decodes data into out; GraphQL errors become Go errors.
func (g *generator) gql(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables,omitempty"`
	}{query, vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.o.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	raw, status, err := g.do(req)
	if err != nil {
		return err
	}
	// One pass over the answer, data decoded straight into out, as the floor's answers are:
	// decoding the envelope and then its data again cost the generator twice the floor's work
	// per answer, on the cores the server under test shares.
	env := struct {
		Data   any
		Errors []struct{ Message string }
	}{Data: &skipJSON{}}
	if out != nil {
		env.Data = out
	}
	err = json.Unmarshal(raw, &env)
	if len(env.Errors) > 0 {
		return fmt.Errorf("%s", env.Errors[0].Message)
	}
	if err != nil {
		return fmt.Errorf("HTTP %d: %v: %.200s", status, err, raw)
	}
	return nil
}

// skipJSON takes any JSON value and keeps nothing, for answers whose data no one reads. The
// decoder has checked the whole answer's syntax before it gets there.
type skipJSON struct{}

// UnmarshalJSON implements json.Unmarshaler.
func (skipJSON) UnmarshalJSON([]byte) error { return nil }

// do sends req and reads the whole answer. The time from sending to the answer's last byte is
// added to the request context's wireClock, if it carries one.
func (g *generator) do(req *http.Request) ([]byte, int, error) {
	start := time.Now()
	defer wireClockFrom(req.Context()).add(start)
	resp, err := g.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return raw, resp.StatusCode, err
}

// A wireClock sums the time an operation's requests spent on the wire and in the server, from
// sending each request to reading its answer's last byte. The generator's own work (encoding
// the request, decoding the answer, which is more for a GraphQL envelope than for the floor's
// bare JSON) is left out, so GraphQL and the floor are timed the same way.
type wireClock struct{ total time.Duration }

type wireClockKey struct{}

// withWireClock returns ctx carrying c, for do to add to.
func withWireClock(ctx context.Context, c *wireClock) context.Context {
	return context.WithValue(ctx, wireClockKey{}, c)
}

func wireClockFrom(ctx context.Context) *wireClock {
	c, _ := ctx.Value(wireClockKey{}).(*wireClock)
	return c
}

// add counts the time since start; a nil clock counts nothing. An operation's requests run one
// after another, so the sum needs no lock.
func (c *wireClock) add(start time.Time) {
	if c != nil {
		c.total += time.Since(start)
	}
}

// floorCall sends one request to cmd/floor and decodes its JSON answer into out.
func (g *generator) floorCall(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.o.floorURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	raw, status, err := g.do(req)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("floor HTTP %d: %.200s", status, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// vu is one virtual user: a browsing session with its own guest cart.
type vu struct {
	g      *generator
	rnd    *rand.Rand
	cartID string
	// adds counts the lines added to the cart; after cartSize the shopper starts a new one, so
	// carts stay the size of real ones instead of growing to the line limit.
	adds int
}

// cartSize is how many lines a shopper's cart collects before the shopper starts a new one.
const cartSize = 8

func (g *generator) newVU(seed uint64) *vu {
	return &vu{g: g, rnd: rand.New(rand.NewPCG(seed, seed*7919+1))}
}

func (v *vu) product() (id, slug string) {
	i := v.rnd.IntN(len(v.g.ids))
	return v.g.ids[i], v.g.slugs[i]
}

// An operation is one step a shopper takes, named as the report shows it. prepare runs before
// the clock starts (a cart to add to, say); run is what is timed, through GraphQL or, where the
// floor serves the operation, through cmd/floor.
type operation struct {
	weight  int
	prepare func(v *vu, ctx context.Context) error
	run     func(v *vu, ctx context.Context) error
	floor   func(v *vu, ctx context.Context) error
}

var operations = map[string]operation{
	"browse":   {weight: 25, run: (*vu).browse},
	"product":  {weight: 30, run: (*vu).productPage, floor: (*vu).floorProductPage},
	"search":   {weight: 20, run: (*vu).search},
	"cartRead": {weight: 10, prepare: (*vu).ensureCart, run: (*vu).cartRead},
	"cartAdd":  {weight: 10, prepare: (*vu).ensureCart, run: (*vu).cartAdd, floor: (*vu).floorCartAdd},
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
	var data struct{ Product *struct{ ID string } }
	if err := v.g.gql(ctx, "", `query ProductPage($slug: String) { product(slug: $slug) { `+productFields+` } }`,
		map[string]any{"slug": slug}, &data); err != nil {
		return err
	}
	if data.Product == nil {
		return fmt.Errorf("product %q not found", slug)
	}
	return nil
}

func (v *vu) floorProductPage(ctx context.Context) error {
	_, slug := v.product()
	return v.g.floorCall(ctx, http.MethodGet, "/product?slug="+url.QueryEscape(slug), nil, nil)
}

func (v *vu) search(ctx context.Context) error {
	term := v.g.terms[v.rnd.IntN(len(v.g.terms))]
	return v.g.gql(ctx, "", `query Search($q: String) { products(query: $q, first: 20) { totalCount nodes { id name price { amount } inventory { inStock } } } }`,
		map[string]any{"q": term}, nil)
}

// ensureCart gives the shopper a guest cart with room in it.
//
// A shopper's first cart counts as already holding a random number of its cartSize lines, so
// the shoppers of a rate run, who take turns in a fixed order, do not all fill their carts on
// the same turn. In step, all 512 created their next cart within the same second, once every
// cartSize seconds at 500 adds/s, a burst no real store sees. Carts are still created at one per
// cartSize adds, now spread over the run.
func (v *vu) ensureCart(ctx context.Context) error {
	if v.cartID != "" && v.adds < cartSize {
		return nil
	}
	var data struct {
		CartCreate struct{ Cart struct{ ID string } }
	}
	if err := v.g.gql(ctx, "", `mutation CartCreate { cartCreate { cart { id } } }`, nil, &data); err != nil {
		return err
	}
	adds := 0
	if v.cartID == "" {
		adds = v.rnd.IntN(cartSize)
	}
	v.cartID, v.adds = data.CartCreate.Cart.ID, adds
	return nil
}

const cartFields = `id totalQuantity subtotal { amount currencyCode } lines { id quantity unitPrice { amount } lineTotal { amount } product { id name } }`

// addResult is what both the GraphQL and the floor cart add answer.
type addResult struct {
	Cart       *struct{ ID string }
	UserErrors []struct{ Code, Message string }
}

func (v *vu) checkAdd(res addResult) error {
	v.adds++
	if res.Cart == nil {
		return fmt.Errorf("cart add answered no cart: %v", res.UserErrors)
	}
	if len(res.UserErrors) > 0 && res.UserErrors[0].Code != "OUT_OF_STOCK" {
		v.adds = cartSize // a full cart is the shopper's problem: start a new one
	}
	return nil
}

func (v *vu) cartAdd(ctx context.Context) error {
	id, _ := v.product()
	var data struct{ CartLinesAdd addResult }
	err := v.g.gql(ctx, "", `mutation CartAdd($cart: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $cart, lines: $lines) { cart { `+cartFields+` } userErrors { code message } } }`,
		map[string]any{"cart": v.cartID, "lines": []map[string]any{{"productId": id, "quantity": 1}}}, &data)
	if err != nil {
		return err
	}
	return v.checkAdd(data.CartLinesAdd)
}

func (v *vu) floorCartAdd(ctx context.Context) error {
	id, _ := v.product()
	var data addResult
	if err := v.g.floorCall(ctx, http.MethodPost, "/cart/"+url.PathEscape(v.cartID)+"/lines",
		map[string]any{"lines": []map[string]any{{"productId": id, "quantity": 1}}}, &data); err != nil {
		return err
	}
	return v.checkAdd(data)
}

func (v *vu) cartRead(ctx context.Context) error {
	return v.g.gql(ctx, "", `query CartRead($id: ID!) { cart(id: $id) { `+cartFields+` } }`, map[string]any{"id": v.cartID}, nil)
}

// errSoldOut is a checkout refused for lack of stock: a correct answer under load, counted apart.
var errSoldOut = fmt.Errorf("sold out")

// checkoutAndPay is one purchase by a signed-in user: put a product in the user's cart, check
// out, pay with tok_visa. Half of the purchases are of a few hot products, so some sell out
// during the run and the stock check after it has something to prove.
func (v *vu) checkoutAndPay(ctx context.Context) error {
	if v.g.tokens == nil {
		return fmt.Errorf("no signed-in users")
	}
	var token string
	select {
	case token = <-v.g.tokens: // waiting for a free user is part of the time: the server is slow
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { v.g.tokens <- token }()
	id, _ := v.product()
	if v.rnd.IntN(2) == 0 {
		id = v.g.ids[v.rnd.IntN(min(v.g.o.hot, len(v.g.ids)))]
	}
	var cart struct {
		CartCreate struct {
			Cart struct {
				ID    string
				Lines []struct{ ID string }
			}
			UserErrors []struct{ Code, Message string }
		}
	}
	if err := v.g.gql(ctx, token, `mutation UserCart($lines: [CartLineInput!]) { cartCreate(input: {lines: $lines}) { cart { id lines { id } } userErrors { code message } } }`,
		map[string]any{"lines": []map[string]any{{"productId": id, "quantity": 1}}}, &cart); err != nil {
		return err
	}
	c := cart.CartCreate.Cart
	if ue := cart.CartCreate.UserErrors; len(ue) > 0 {
		if ue[0].Code == "OUT_OF_STOCK" {
			return errSoldOut
		}
		return fmt.Errorf("cart: %v", ue)
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
			"cartId": c.ID, "idempotencyKey": key, "shippingMethod": "standard",
			"shippingAddress": map[string]any{"name": "Load Test", "line1": "1 Main St", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "US"},
		}}, &co); err != nil {
		return err
	}
	if co.Checkout.Order == nil {
		if ue := co.Checkout.UserErrors; len(ue) > 0 && ue[0].Code == "OUT_OF_STOCK" {
			// Empty the user's cart, or every later purchase by this user would fail the same way.
			ids := make([]string, len(c.Lines))
			for i, l := range c.Lines {
				ids[i] = l.ID
			}
			if err := v.g.gql(ctx, token, `mutation EmptyCart($cart: ID!, $ids: [ID!]!) { cartLinesRemove(cartId: $cart, lineIds: $ids) { userErrors { code } } }`,
				map[string]any{"cart": c.ID, "ids": ids}, nil); err != nil {
				return err
			}
			return errSoldOut
		}
		return fmt.Errorf("checkout: %v", co.Checkout.UserErrors)
	}
	var pay struct {
		PayOrder struct {
			Order      *struct{ Status string }
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
	if pay.PayOrder.Order == nil || pay.PayOrder.Order.Status != "PAID" {
		return fmt.Errorf("pay: order not PAID: %+v", pay.PayOrder.Order)
	}
	return nil
}

// startCPUProfile profiles the generator into the file at path until the returned stop runs.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
