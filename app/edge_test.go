package app_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"storefront/app"
	"storefront/metrics"
	"storefront/testsupport"
)

const qCartSubscription = `subscription($id: ID!) { cartUpdated(cartId: $id) { id totalQuantity } }`

// On a stop, /readyz turns 503 while the instance drains, an in-flight request still gets its
// answer, a subscriber gets the close frame 1001 "going away", and Serve returns cleanly.
func TestShutdownFinishesRequestsAndClosesSubscriptions(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.DrainDelay = 300 * time.Millisecond
	s := startServer(t, cfg, nil)
	addr := strings.TrimPrefix(s.URL, "http://")
	ctx := timeoutCtx(t, 20*time.Second)

	cartID := createCart(t, &testsupport.Client{URL: s.URL + "/graphql"}).Cart.ID
	ws, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()
	initWS(t, ctx, ws)
	payload, _ := json.Marshal(map[string]any{"query": qCartSubscription, "variables": map[string]any{"id": cartID}})
	wsWrite(t, ctx, ws, wsMessage{ID: "1", Type: "subscribe", Payload: payload})
	waitSubscribed(t, cfg.RedisPrefix+"cart:"+cartKey(t, cartID))

	// A slow client: headers and part of the body now, the rest after the stop began.
	body := `{"query":"query Slow { __typename }"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(body), body[:10])
	time.Sleep(50 * time.Millisecond) // let the server start on it

	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()

	for i := 0; ; i++ {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				break
			}
		}
		if i == 100 {
			t.Fatalf("/readyz never turned 503 during the drain: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	for err == nil { // messages sent before the close frame are fine
		_, _, err = ws.Read(ctx)
	}
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("subscriber got %v; want close 1001 going away", err)
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("finish the slow body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow request got no answer: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), `"__typename":"Query"`) {
		t.Fatalf("slow request: %d %s", resp.StatusCode, answer)
	}

	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("a stopped instance still accepts connections")
	}
}

// /metrics shows the operation, error, pool, cache, subscription and registered gauge series.
func TestMetricsExposeTheSeries(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	s := startServer(t, cfg, nil)
	ctx := timeoutCtx(t, 10*time.Second)

	metrics.CacheHit("edge_test")
	metrics.CacheHit("edge_test")
	metrics.CacheMiss("edge_test")
	unregister := metrics.RegisterGaugeFunc("edge_test_outbox_lag_seconds", "Test gauge.", func() float64 { return 4.5 })
	defer unregister()

	gql(t, s, `query MetricsProbe { __typename }`, nil, nil)
	gql(t, s, `query MetricsProbe { __typename }`, nil, nil)
	if r := gql(t, s, `query MetricsBadInput { products(first: 500) { nodes { id } } }`, nil, nil); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("first: 500: %s; want BAD_USER_INPUT", r.Raw)
	}

	customer, _ := (&testsupport.Server{App: s.App, URL: s.URL}).NewCustomer(t)
	customer.Do(t, `{ me { id } }`, nil) // a session check: the session cache
	cartID := createCart(t, &testsupport.Client{URL: s.URL + "/graphql"}).Cart.ID
	(&testsupport.Client{URL: s.URL + "/graphql"}).Do(t, `query($id: ID!) { cart(id: $id) { id } }`, map[string]any{"id": cartID})
	ws, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()
	initWS(t, ctx, ws)
	payload, _ := json.Marshal(map[string]any{"query": qCartSubscription, "variables": map[string]any{"id": cartID}})
	wsWrite(t, ctx, ws, wsMessage{ID: "1", Type: "subscribe", Payload: payload})
	waitSubscribed(t, cfg.RedisPrefix+"cart:"+cartKey(t, cartID))

	r := send(t, http.MethodGet, s.URL+"/metrics", "", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics: %d", r.Status)
	}
	for _, want := range []string{
		`graphql_operations_total{operation="MetricsProbe",outcome="ok",type="query"} 2`,
		`graphql_operation_duration_seconds_bucket{operation="MetricsProbe",type="query",le="0.1"}`,
		`graphql_operations_total{operation="MetricsBadInput",outcome="error",type="query"} 1`,
		`graphql_errors_total{code="BAD_USER_INPUT"}`,
		`graphql_root_fields_total{field="cartUpdated",type="subscription"}`,
		`http_requests_total{route="/graphql",status="2xx"}`,
		`cache_requests_total{cache="edge_test",result="hit"} 2`,
		`cache_requests_total{cache="edge_test",result="miss"} 1`,
		`edge_test_outbox_lag_seconds 4.5`,
		`cache_requests_total{cache="session",result=`,
		`cache_requests_total{cache="cart",result=`,
		`db_pool_total_connections `,
		`db_pool_acquires_total `,
		`redis_pool_total_connections `,
		`redis_pool_hits_total `,
		`outbox_lag_seconds `,
		`websocket_connections_active `,
		`go_goroutines `,
	} {
		if !strings.Contains(r.Raw, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if v := metricValue(r.Raw, "graphql_subscriptions_active"); v < 1 {
		t.Errorf("graphql_subscriptions_active = %v with a subscription open", v)
	}
}

func metricValue(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// Every request logs one JSON line with its id, operation, caller and duration, and nothing of
// the passwords and tokens that passed through.
func TestRequestLogsAreJSONWithoutSecrets(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	ts := &testsupport.Server{App: s.App, URL: s.URL}
	_, user := ts.NewCustomer(t)
	r := gql(t, s, `query WhoAmI { me { id } }`, nil, http.Header{
		"Authorization": {"Bearer " + user.AccessToken},
		"X-Request-Id":  {"log-test-1"},
	})
	if len(r.Errors) > 0 {
		t.Fatalf("me: %s", r.Raw)
	}
	var line map[string]any
	for _, l := range s.Logs.Lines(t) {
		if l["request_id"] == "log-test-1" {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no log line for request log-test-1:\n%s", s.Logs.String())
	}
	want := map[string]any{
		"msg": "request", "path": "/graphql", "method": "POST", "status": 200.0,
		"operation": "WhoAmI", "operation_type": "query", "user_id": float64(user.Key), "client_ip": "127.0.0.1",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v; want %v", k, line[k], v)
		}
	}
	if d, ok := line["duration_ms"].(float64); !ok || d <= 0 {
		t.Errorf("log duration_ms = %v", line["duration_ms"])
	}
	logs := s.Logs.String()
	for name, secret := range map[string]string{"password": user.Password, "access token": user.AccessToken, "refresh token": user.RefreshToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain the %s", name)
		}
	}
}

// A user may hold MaxPerUser websockets at once on an instance; the next is refused after
// connection_init with close 1008.
func TestWebsocketsPerUserAreCapped(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.Websocket.MaxPerUser = 1
	s := startServer(t, cfg, nil)
	_, user := (&testsupport.Server{App: s.App, URL: s.URL}).NewCustomer(t)
	ctx := timeoutCtx(t, 10*time.Second)
	auth, _ := json.Marshal(map[string]any{"Authorization": "Bearer " + user.AccessToken})

	first, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer first.CloseNow()
	wsWrite(t, ctx, first, wsMessage{Type: "connection_init", Payload: auth})
	if m := wsRead(t, ctx, first); m.Type != "connection_ack" {
		t.Fatalf("first connection: %+v", m)
	}

	second, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer second.CloseNow()
	wsWrite(t, ctx, second, wsMessage{Type: "connection_init", Payload: auth})
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = second.Read(ctx)
	}
	if websocket.CloseStatus(closeErr) != websocket.StatusPolicyViolation {
		t.Fatalf("second connection of the user ended with %v; want close 1008", closeErr)
	}
	// A guest connection from the same address is still welcome.
	guest, _, err := dialWS(ctx, s, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer guest.CloseNow()
	initWS(t, ctx, guest)
}

func TestCORSAllowsListedOriginsOnly(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.CORSOrigins = []string{"https://shop.example.com"}
	s := startServer(t, cfg, nil)
	preflight := func(origin string) gqlResponse {
		return send(t, http.MethodOptions, s.URL+"/graphql", "", nil, http.Header{
			"Origin":                         {origin},
			"Access-Control-Request-Method":  {"POST"},
			"Access-Control-Request-Headers": {"content-type,authorization"},
		})
	}
	r := preflight("https://shop.example.com")
	if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from the shop: %d %v", r.Status, r.Header)
	}
	if r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials must not be allowed: the API takes bearer tokens, not cookies")
	}
	r = preflight("https://evil.example.net")
	if r.Status != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from a foreign origin: %d %v", r.Status, r.Header)
	}
	post := func(origin string) gqlResponse {
		return send(t, http.MethodPost, s.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`),
			http.Header{"Origin": {origin}})
	}
	if r := post("https://shop.example.com"); r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
		t.Errorf("POST from the shop lacks Access-Control-Allow-Origin: %v", r.Header)
	}
	if r := post("https://evil.example.net"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("POST from a foreign origin is readable: %v", r.Header)
	}

	// Production allows no origin unless listed; development allows the local dev servers.
	prod, err := app.LoadConfig(mapEnv(map[string]string{"APP_ENV": "production",
		"JWT_SECRET": strings.Repeat("k", 32), "PAYMENT_WEBHOOK_SECRET": strings.Repeat("w", 32)}))
	if err != nil || len(prod.CORSOrigins) != 0 {
		t.Errorf("production default origins = %v, %v; want none", prod.CORSOrigins, err)
	}
	dev, err := app.LoadConfig(mapEnv(nil))
	if err != nil || !contains(dev.CORSOrigins, "http://localhost:3000") {
		t.Errorf("development default origins = %v, %v", dev.CORSOrigins, err)
	}
}

func TestEdgeConfigurationIsValidated(t *testing.T) {
	t.Parallel()
	cfg, err := app.LoadConfig(mapEnv(map[string]string{
		"CORS_ORIGINS": "https://shop.example.com/, https://m.example.com:8443", "TRUSTED_PROXIES": "10.0.0.0/8",
		"PURCHASE_CAP_PER_DAY": "3", "SHUTDOWN_DRAIN_DELAY": "5s",
	}))
	if err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
	if strings.Join(cfg.CORSOrigins, " ") != "https://shop.example.com https://m.example.com:8443" ||
		len(cfg.TrustedProxies) != 1 || cfg.PurchaseCapPerDay != 3 || cfg.DrainDelay != 5*time.Second {
		t.Errorf("configuration read as %+v", cfg.EdgeConfig)
	}
	for env, want := range map[string]string{
		"CORS_ORIGINS":           "not an origin",
		"TRUSTED_PROXIES":        "TRUSTED_PROXIES",
		"TLS_CERT_FILE":          "set together",
		"PERSISTED_QUERIES_ONLY": "PERSISTED_QUERIES_FILE",
		"PURCHASE_CAP_PER_DAY":   "PURCHASE_CAP_PER_DAY",
		"SHUTDOWN_DRAIN_DELAY":   "SHUTDOWN_DRAIN_DELAY",
	} {
		bad := map[string]string{
			"CORS_ORIGINS": "shop.example.com/path", "TRUSTED_PROXIES": "10.0.0.1/99", "TLS_CERT_FILE": "/etc/hostname",
			"PERSISTED_QUERIES_ONLY": "true", "PURCHASE_CAP_PER_DAY": "-1", "SHUTDOWN_DRAIN_DELAY": "1h",
		}[env]
		if _, err := app.LoadConfig(mapEnv(map[string]string{env: bad})); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%s: %v; want an error about %s", env, bad, err, want)
		}
	}
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// X-Forwarded-For counts only from a trusted proxy, so a client cannot pick its own address to
// dodge a per-address limit.
func TestForwardedForIsBelievedFromTrustedProxiesOnly(t *testing.T) {
	t.Parallel()
	for _, trusted := range []bool{false, true} {
		cfg := testsupport.Config(t)
		cfg.RateLimit = true
		cfg.Rates.PerIP = rate(1, time.Minute)
		if trusted {
			cfg2, err := app.LoadConfig(mapEnv(map[string]string{"TRUSTED_PROXIES": "127.0.0.0/8"}))
			if err != nil {
				t.Fatal(err)
			}
			cfg.TrustedProxies = cfg2.TrustedProxies
		}
		s := startServer(t, cfg, nil)
		from := func(ip string) gqlResponse {
			return gql(t, s, `{ __typename }`, nil, http.Header{"X-Forwarded-For": {ip}})
		}
		from("203.0.113.1")
		second := from("203.0.113.2")
		if trusted && second.code() != "" {
			t.Errorf("behind a trusted proxy, two clients share a budget: %s", second.Raw)
		}
		if !trusted && second.code() != "RATE_LIMITED" {
			t.Errorf("a forged X-Forwarded-For bought a new budget: %s", second.Raw)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := startServer(t, testsupport.Config(t), nil)
	r := send(t, http.MethodPost, s.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`), nil)
	for k, v := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	} {
		if r.Header.Get(k) != v {
			t.Errorf("%s = %q; want %q", k, r.Header.Get(k), v)
		}
	}
	if r.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
	page := send(t, http.MethodGet, s.URL+"/", "", nil, nil)
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net") {
		t.Errorf("playground CSP = %q; want one that lets GraphiQL load", csp)
	}
}

func TestTLSFromCertificateFiles(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	certFile, keyFile, pool := selfSignedCert(t)
	cfg.TLSCertFile, cfg.TLSKeyFile = certFile, keyFile
	s := startServer(t, cfg, nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post("https://"+strings.TrimPrefix(s.URL, "http://")+"/graphql", "application/json",
		strings.NewReader(`{"query":"{ __typename }"}`))
	if err != nil {
		t.Fatalf("HTTPS request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Query") {
		t.Fatalf("HTTPS answer: %d %s", resp.StatusCode, body)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q over TLS", hsts)
	}
}

func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func sha(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}

func apq(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

func postParams(t *testing.T, s *server, params map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(params)
	return send(t, http.MethodPost, s.URL+"/graphql", "application/json", strings.NewReader(string(body)), nil)
}

// Automatic persisted queries: an unknown hash asks for the query, a query with its hash is
// stored in Redis under the instance's prefix, and from then on the hash alone works, also over
// GET (cacheable by a CDN).
func TestAutomaticPersistedQueries(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	s := startServer(t, cfg, nil)
	q := `query APQProbe { __typename }`
	h := sha(q)
	if r := postParams(t, s, map[string]any{"extensions": apq(h)}); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %s; want PERSISTED_QUERY_NOT_FOUND", r.Raw)
	}
	if r := postParams(t, s, map[string]any{"query": q, "extensions": apq(sha("something else"))}); len(r.Errors) == 0 {
		t.Fatalf("a hash that is not the query's was accepted: %s", r.Raw)
	}
	if r := postParams(t, s, map[string]any{"query": q, "extensions": apq(h)}); string(r.Data) != `{"__typename":"Query"}` {
		t.Fatalf("query with hash: %s", r.Raw)
	}
	stored, err := s.App.Redis.Get(context.Background(), cfg.RedisPrefix+"apq:"+h).Result()
	if err != nil || stored != q {
		t.Fatalf("Redis holds %q, %v under the hash", stored, err)
	}
	// A document the server refuses is never stored.
	bad := `{ categoriez { id } }`
	if r := postParams(t, s, map[string]any{"query": bad, "extensions": apq(sha(bad))}); r.code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("invalid document with hash: %s", r.Raw)
	}
	if n, _ := s.App.Redis.Exists(context.Background(), cfg.RedisPrefix+"apq:"+sha(bad)).Result(); n != 0 {
		t.Error("an invalid document was persisted")
	}
	ext, _ := json.Marshal(apq(h))
	r := send(t, http.MethodGet, s.URL+"/graphql?extensions="+url.QueryEscape(string(ext)), "", nil, nil)
	if string(r.Data) != `{"__typename":"Query"}` {
		t.Fatalf("hash alone over GET: %d %s", r.Status, r.Raw)
	}
}

// With PERSISTED_QUERIES_ONLY, the registered operations work (by hash or by text) and nothing
// else does.
func TestPersistedQueriesOnly(t *testing.T) {
	t.Parallel()
	allowed := `query Allowed { __typename }`
	manifest := map[string]any{
		"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]any{{"id": sha(allowed), "name": "Allowed", "type": "query", "body": allowed}},
	}
	file := filepath.Join(t.TempDir(), "persisted-queries.json")
	raw, _ := json.Marshal(manifest)
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testsupport.Config(t)
	cfg.PersistedQueriesOnly, cfg.PersistedQueriesFile = true, file
	s := startServer(t, cfg, nil)

	if r := postParams(t, s, map[string]any{"extensions": apq(sha(allowed))}); string(r.Data) != `{"__typename":"Query"}` {
		t.Errorf("registered operation by hash: %s", r.Raw)
	}
	if r := postParams(t, s, map[string]any{"query": allowed}); string(r.Data) != `{"__typename":"Query"}` {
		t.Errorf("registered operation by text: %s", r.Raw)
	}
	other := `query Other { __typename }`
	if r := postParams(t, s, map[string]any{"query": other}); r.code() != app.CodeOperationNotAllowed {
		t.Errorf("unregistered operation: %s; want %s", r.Raw, app.CodeOperationNotAllowed)
	}
	if r := postParams(t, s, map[string]any{"query": other, "extensions": apq(sha(other))}); r.code() != app.CodeOperationNotAllowed {
		t.Errorf("unregistered operation sent as APQ: %s; want %s", r.Raw, app.CodeOperationNotAllowed)
	}
	if r := postParams(t, s, map[string]any{"extensions": apq(sha(other))}); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Errorf("unregistered hash: %s", r.Raw)
	}

	// A manifest whose id is not its body's hash is refused at start.
	manifest["operations"].([]map[string]any)[0]["id"] = sha("typo")
	raw, _ = json.Marshal(manifest)
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := app.New(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("bad manifest: %v; want a refusal at start", err)
	}
}

func TestMetricsTokenGuardsMetrics(t *testing.T) {
	t.Parallel()
	cfg := testsupport.Config(t)
	cfg.MetricsToken = "scrape-secret"
	s := startServer(t, cfg, nil)
	if r := send(t, http.MethodGet, s.URL+"/metrics", "", nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d; want 401", r.Status)
	}
	if r := send(t, http.MethodGet, s.URL+"/metrics", "", nil, http.Header{"Authorization": {"Bearer wrong"}}); r.Status != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d; want 401", r.Status)
	}
	r := send(t, http.MethodGet, s.URL+"/metrics", "", nil, http.Header{"Authorization": {"Bearer scrape-secret"}})
	if r.Status != http.StatusOK || !strings.Contains(r.Raw, "db_pool_total_connections") {
		t.Errorf("/metrics with the token: %d", r.Status)
	}
}
