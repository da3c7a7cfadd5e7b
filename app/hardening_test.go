package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"

	"storefront/app"
	sredis "storefront/store/redis"
	"storefront/testsupport"
)

func TestDeepQueryIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	q := "{ categories { " + strings.Repeat("children { ", 14) + "id" + strings.Repeat(" }", 14) + " } }"
	r := gql(t, s, q, nil, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "depth") {
		t.Fatalf("deep query: %d %s; want COMPLEXITY_LIMIT_EXCEEDED for depth", r.Status, r.Raw)
	}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("a refused query must not run; got data %s", r.Data)
	}
}

func TestAliasFloodIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	var b strings.Builder
	b.WriteString("mutation {")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, ` a%d: login(input: {email: "victim@example.com", password: "guess-%d"}) { accessToken }`, i, i)
	}
	b.WriteString(" }")
	r := gql(t, s, b.String(), nil, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "alias") {
		t.Fatalf("alias flood: %d %s; want COMPLEXITY_LIMIT_EXCEEDED for aliases", r.Status, r.Raw)
	}
}

func TestTooManyRootFieldsAreRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 11; i++ {
		fmt.Fprintf(&b, " m%d: shippingMethods { code }", i)
	}
	b.WriteString(" }")
	r := gql(t, s, b.String(), nil, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "root fields") {
		t.Fatalf("11 root fields: %s; want COMPLEXITY_LIMIT_EXCEEDED for root fields", r.Raw)
	}
}

func TestNestedPagesExceedComplexity(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	q := `{ products(first: 100) { nodes { category { products(first: 100) { nodes { id name } } } } } }`
	r := gql(t, s, q, nil, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "complexity") {
		t.Fatalf("nested pages: %s; want COMPLEXITY_LIMIT_EXCEEDED", r.Raw)
	}
	// The same shape with small pages is fine: the cost follows `first`.
	r = gql(t, s, `{ products(first: 5) { nodes { category { products(first: 5) { nodes { id name } } } } } }`, nil, nil)
	if r.code() == "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("small pages refused: %s", r.Raw)
	}
	if cost, _ := r.Extensions["cost"].(float64); cost != 1+5*(1+1+5*(1+2)+1) {
		t.Errorf("extensions.cost = %v; want %d", r.Extensions["cost"], 1+5*(1+1+5*(1+2)+1))
	}
}

// The cost of a document is worked out once, unless a variable can change it: the same document
// with a larger page in its variables is refused even after a cheap run, and a fixed page costs
// the same every time.
func TestCostFollowsVariablesOfTheSameDocument(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	q := `query($n: Int) { products(first: $n) { nodes { category { products(first: $n) { nodes { id name } } } } } }`
	small := gql(t, s, q, map[string]any{"n": 5}, nil)
	if cost, _ := small.Extensions["cost"].(float64); cost != 1+5*(1+1+5*(1+2)+1) {
		t.Fatalf("$n = 5: extensions.cost = %v (%s); want %d", small.Extensions["cost"], small.Raw, 1+5*(1+1+5*(1+2)+1))
	}
	large := gql(t, s, q, map[string]any{"n": 100}, nil)
	if large.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("$n = 100 after $n = 5: %s; want COMPLEXITY_LIMIT_EXCEEDED", large.Raw)
	}
	fixed := `query($slug: String) { product(slug: $slug) { id name images { url } } }`
	for _, slug := range []string{"a", "b"} {
		r := gql(t, s, fixed, map[string]any{"slug": slug}, nil)
		if cost, _ := r.Extensions["cost"].(float64); cost != 1+1+1+1+1 {
			t.Errorf("product(slug: %q): extensions.cost = %v; want 5", slug, r.Extensions["cost"])
		}
	}
}

func TestTokenFloodIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	q := "{ " + strings.Repeat("__typename ", 6000) + "}"
	r := gql(t, s, q, nil, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "token limit") {
		t.Fatalf("6000 tokens: %d %s; want COMPLEXITY_LIMIT_EXCEEDED", r.Status, r.Raw)
	}
}

func TestFragmentBombIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	// Each fragment spreads the next twice: 2^40 selections once expanded.
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	b.WriteString("fragment F40 on Query { categories { id } }\n")
	r := gql(t, s, b.String(), nil, nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "selections") {
		t.Fatalf("fragment bomb: %d %s; want COMPLEXITY_LIMIT_EXCEEDED", r.Status, r.Raw)
	}
}

func TestOversizedBodyGets413(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 5<<20) + `"}}`
	r := send(t, http.MethodPost, s.URL+"/graphql", "application/json", strings.NewReader(big), nil)
	if r.Status != http.StatusRequestEntityTooLarge || r.code() != "BAD_USER_INPUT" {
		t.Fatalf("5 MB body with Content-Length: %d %s; want 413 BAD_USER_INPUT", r.Status, r.Raw)
	}
	// Without Content-Length (chunked) the body is cut off while reading.
	r = send(t, http.MethodPost, s.URL+"/graphql", "application/json", io.MultiReader(strings.NewReader(big)), nil)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("5 MB chunked body: %d %s; want 413", r.Status, r.Raw)
	}
	// A body under the limit still works.
	r = send(t, http.MethodPost, s.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`), nil)
	if r.Status != http.StatusOK || string(r.Data) != `{"__typename":"Query"}` {
		t.Fatalf("small body: %d %s", r.Status, r.Raw)
	}
}

func TestGETCarriesQueriesOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	r := send(t, http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape("{ __typename }"), "", nil, nil)
	if r.Status != http.StatusOK || string(r.Data) != `{"__typename":"Query"}` {
		t.Fatalf("GET query: %d %s", r.Status, r.Raw)
	}
	r = send(t, http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape("mutation { logout }"), "", nil, nil)
	if r.Status < 400 || r.Status >= 500 || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "only allow query") {
		t.Fatalf("GET mutation: %d %s; want a 4xx refusal", r.Status, r.Raw)
	}
}

func TestFormAndTextPostsAreRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	mutation := `mutation { logoutAll }`
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	_ = w.WriteField("operations", `{"query":"`+mutation+`"}`)
	_ = w.Close()
	cases := []struct {
		name, contentType string
		body              string
		header            http.Header
	}{
		{"urlencoded", "application/x-www-form-urlencoded", url.Values{"query": {mutation}}.Encode(), nil},
		{"multipart", w.FormDataContentType(), mp.String(), nil},
		{"text/plain", "text/plain", `{"query":"` + mutation + `"}`, nil},
		{"none", "", `{"query":"` + mutation + `"}`, nil},
		// A preflight-forcing header does not open the form transports: there are none.
		{"urlencoded with X-Requested-With", "application/x-www-form-urlencoded", url.Values{"query": {mutation}}.Encode(),
			http.Header{"X-Requested-With": {"XMLHttpRequest"}, "Apollo-Require-Preflight": {"true"}}},
	}
	for _, c := range cases {
		r := send(t, http.MethodPost, s.URL+"/graphql", c.contentType, strings.NewReader(c.body), c.header)
		if r.Status != http.StatusUnsupportedMediaType {
			t.Errorf("%s POST: %d %s; want 415", c.name, r.Status, r.Raw)
		}
	}
}

func TestWebsocketFromForeignOriginIsRefused(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.CORSOrigins = []string{"https://shop.example.com"}
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 5*time.Second)
	c, resp, err := dialWS(ctx, s, "https://evil.example.net")
	if err == nil {
		c.CloseNow()
		t.Fatal("websocket from a foreign origin was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v; want 403", resp, err)
	}
	c, _, err = dialWS(ctx, s, "https://shop.example.com")
	if err != nil {
		t.Fatalf("allowed origin refused: %v", err)
	}
	defer c.CloseNow()
	initWS(t, ctx, c)
}

func TestSilentWebsocketIsClosedAfterInitTimeout(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.Websocket.InitTimeout = 200 * time.Millisecond
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 10*time.Second)
	c, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	_, _, err = c.Read(ctx) // never send connection_init
	if ctx.Err() != nil {
		t.Fatal("silent websocket still open after 10s")
	}
	if websocket.CloseStatus(err) != websocket.StatusProtocolError {
		t.Fatalf("silent websocket ended with %v; want close 1002 (initialisation timeout)", err)
	}
}

func TestWebsocketsPerAddressAreCapped(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.Websocket.MaxPerIP = 2
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 5*time.Second)
	for i := 0; i < 2; i++ {
		c, _, err := dialWS(ctx, s, "")
		if err != nil {
			t.Fatalf("connection %d refused: %v", i+1, err)
		}
		defer c.CloseNow()
		initWS(t, ctx, c)
	}
	_, resp, err := dialWS(ctx, s, "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection from one address: %v %v; want 429", resp, err)
	}
}

func TestWebsocketOutlivesWriteTimeout(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.Timeouts.Write = 150 * time.Millisecond
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 5*time.Second)
	c, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	initWS(t, ctx, c)
	time.Sleep(4 * cfg.Timeouts.Write)
	wsWrite(t, ctx, c, wsMessage{Type: "ping"})
	if m := wsRead(t, ctx, c); m.Type != "pong" {
		t.Fatalf("after the write timeout got %+v; want pong", m)
	}
}

func TestIntrospectionAndSuggestionsAreOffInProduction(t *testing.T) {
	t.Parallel()
	prod := testsupport.Config(t)
	prod.Env = "production"
	prod.CORSOrigins = nil
	p := startServer(t, prod, nil)
	dev := startServer(t, testsupport.Config(t), nil)

	introspection := `{ __schema { types { name } } }`
	if r := gql(t, p, introspection, nil, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" || len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("introspection in production: %s; want GRAPHQL_VALIDATION_FAILED", r.Raw)
	}
	if r := gql(t, p, `{ __type(name: "Product") { name } }`, nil, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("__type in production: %s; want GRAPHQL_VALIDATION_FAILED", r.Raw)
	}
	if r := gql(t, dev, introspection, nil, nil); len(r.Errors) > 0 {
		t.Errorf("introspection in development: %s", r.Raw)
	}
	// __typename is not introspection; clients need it for unions and caching.
	if r := gql(t, p, `{ __typename }`, nil, nil); string(r.Data) != `{"__typename":"Query"}` {
		t.Errorf("__typename in production: %s", r.Raw)
	}

	typo := `{ categoriez { id } }`
	if r := gql(t, dev, typo, nil, nil); !strings.Contains(r.Raw, "Did you mean") {
		t.Errorf("development should suggest fields: %s", r.Raw)
	}
	if r := gql(t, p, typo, nil, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(r.Raw, "Did you mean") {
		t.Errorf("production must not suggest fields: %s", r.Raw)
	}

	if r := send(t, http.MethodGet, p.URL+"/", "", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("playground in production: %d; want 404", r.Status)
	}
	if r := send(t, http.MethodGet, dev.URL+"/", "", nil, nil); r.Status != http.StatusOK || !strings.Contains(r.Raw, "graphiql") {
		t.Errorf("playground in development: %d", r.Status)
	}
}

func TestRateLimitRefusesBurstThenRecovers(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.RateLimit = true
	cfg.Rates.PerIP = rate(3, time.Second)
	s := startServer(t, cfg, nil)
	for i := 0; i < 3; i++ {
		if r := gql(t, s, `{ __typename }`, nil, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := gql(t, s, `{ __typename }`, nil, nil)
	if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" {
		t.Fatalf("request over the burst: %d %s; want 429 RATE_LIMITED", r.Status, r.Raw)
	}
	retry, _ := r.Errors[0].Extensions["retryAfter"].(float64)
	if retry < 1 || r.Header.Get("Retry-After") != fmt.Sprint(retry) {
		t.Fatalf("retryAfter = %v, Retry-After = %q; want the same whole seconds", retry, r.Header.Get("Retry-After"))
	}
	time.Sleep(time.Duration(retry) * time.Second)
	if r := gql(t, s, `{ __typename }`, nil, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("after Retry-After: %d %s; want allowed again", r.Status, r.Raw)
	}
}

func TestRateLimitHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.RateLimit = true
	cfg.Rates.PerIP = rate(2, time.Minute)
	a := startServer(t, cfg, nil)
	b := startServer(t, cfg, nil) // same Redis prefix: another instance of the same deployment
	gql(t, a, `{ __typename }`, nil, nil)
	gql(t, a, `{ __typename }`, nil, nil)
	if r := gql(t, b, `{ __typename }`, nil, nil); r.code() != "RATE_LIMITED" {
		t.Fatalf("third request, on the other instance: %s; want RATE_LIMITED", r.Raw)
	}
}

func TestLoginAttemptsCountPerRootField(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.RateLimit = true
	cfg.Rates.Login = rate(5, time.Minute)
	s := startServer(t, cfg, nil)
	var b strings.Builder
	b.WriteString("mutation {")
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&b, ` a%d: login(input: {email: "victim@example.com", password: "guess-%d"}) { accessToken }`, i, i)
	}
	b.WriteString(" }")
	// Six guesses in one request are six attempts, over a budget of five.
	r := gql(t, s, b.String(), nil, nil)
	if r.code() != "RATE_LIMITED" || r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("six aliased logins: %d %s; want 429 RATE_LIMITED with Retry-After", r.Status, r.Raw)
	}
	// Other operations of the same client are not affected by the login budget.
	if r := gql(t, s, `{ __typename }`, nil, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("query after refused logins: %d %s", r.Status, r.Raw)
	}
}

func TestPanicBecomesInternalErrorWithRequestID(t *testing.T) {
	t.Parallel()
	// The field middleware hook is public for instrumentation; here it stands in for a
	// resolver with a bug, so the real recovery path (gqlgen's recover, our presenter and log)
	// is what answers.
	s := startServer(t, testsupport.Config(t), func(a *app.App) {
		a.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
			if graphql.GetFieldContext(ctx).Field.Name == "shippingMethods" {
				panic("index out of range in pricing table")
			}
			return next(ctx)
		})
	})
	r := gql(t, s, `{ shippingMethods { code } }`, nil, http.Header{"X-Request-Id": {"panic-test-1"}})
	if r.code() != "INTERNAL_SERVER_ERROR" {
		t.Fatalf("panic: %s; want INTERNAL_SERVER_ERROR", r.Raw)
	}
	msg := r.Errors[0].Message
	if !strings.Contains(msg, "panic-test-1") || strings.Contains(msg, "pricing") {
		t.Errorf("message %q: want the request id and no internal text", msg)
	}
	var logged bool
	for _, l := range s.Logs.Lines(t) {
		if l["msg"] == "panic recovered" && l["request_id"] == "panic-test-1" &&
			strings.Contains(fmt.Sprint(l["stack"]), "goroutine") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no panic log line with request id and stack:\n%s", s.Logs.String())
	}
	// The server goes on answering.
	if r := gql(t, s, `{ __typename }`, nil, nil); string(r.Data) != `{"__typename":"Query"}` {
		t.Errorf("after the panic: %s", r.Raw)
	}
}

// rate is a budget of n requests at once, refilled over per.
func rate(n int, per time.Duration) sredis.Rate {
	return sredis.Rate{Count: n, Burst: n, Period: per}
}

// Without Redis the rate limits let requests through (a down limiter must not take the store
// down with it) and say so in the log, once per interval rather than once per request.
func TestRateLimitFailsOpenWithoutRedis(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.RateLimit = true
	cfg.Rates.PerIP = rate(1, time.Minute)
	s := startServer(t, cfg, nil)
	_ = s.App.Redis.Close() // as if Redis were gone
	for i := 0; i < 3; i++ {
		if r := gql(t, s, `{ __typename }`, nil, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("request %d without Redis: %d %s", i+1, r.Status, r.Raw)
		}
	}
	if n := strings.Count(s.Logs.String(), "rate limiter unavailable"); n != 1 {
		t.Errorf("%d warnings about the limiter; want 1", n)
	}
}

func TestOversizedWebsocketFrameClosesTheConnection(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.Websocket.MaxMessageBytes = 1024
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 10*time.Second)
	c, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	initWS(t, ctx, c)
	big := []byte(`{"id":"1","type":"subscribe","payload":{"query":"` + strings.Repeat(" ", 4096) + `{ __typename }"}}`)
	_ = c.Write(ctx, websocket.MessageText, big)
	for err == nil {
		_, _, err = c.Read(ctx)
	}
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("after a 4 KiB frame over a 1 KiB limit: %v; want close 1009", err)
	}
}

// A signed-in user spends a budget of the account, wherever the requests come from, and the
// checkout and payment mutations a stricter one.
func TestSignedInUsersHaveTheirOwnBudget(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.RateLimit = true
	cfg.Rates.PerUser = rate(3, time.Minute)
	cfg.Rates.Payment = rate(1, time.Minute)
	s := startServer(t, cfg, nil)
	_, user := (&testsupport.Server{App: s.App, URL: s.URL}).NewCustomer(t)
	auth := http.Header{"Authorization": {"Bearer " + user.AccessToken}}
	pay := `mutation { a: payOrder(input: {orderId: "x", paymentToken: "tok_visa", idempotencyKey: "k1"}) { userErrors { code } }
  b: payOrder(input: {orderId: "x", paymentToken: "tok_visa", idempotencyKey: "k2"}) { userErrors { code } } }`
	if r := gql(t, s, pay, nil, auth); r.code() != "RATE_LIMITED" {
		t.Errorf("two payments over a budget of one: %s; want RATE_LIMITED", r.Raw)
	}
	for i := 0; i < 2; i++ { // the refused operation already spent one of three
		if r := gql(t, s, `{ me { id } }`, nil, auth); r.code() != "" {
			t.Fatalf("request %d within the user's budget: %s", i+1, r.Raw)
		}
	}
	if r := gql(t, s, `{ me { id } }`, nil, auth); r.code() != "RATE_LIMITED" || r.Status != http.StatusTooManyRequests {
		t.Errorf("request over the user's budget: %d %s; want 429 RATE_LIMITED", r.Status, r.Raw)
	}
	if r := gql(t, s, `{ __typename }`, nil, nil); r.code() != "" {
		t.Errorf("a guest on the same address: %s; want answered", r.Raw)
	}
}
