package app

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	sredis "storefront/store/redis"
)

// EdgeConfig is what an API gateway in front of the store would be configured with; the server
// does that work itself so it is safe behind any load balancer.
type EdgeConfig struct {
	// CORSOrigins are the browser origins ("https://shop.example.com") allowed to call the API and
	// open websockets (CORS_ORIGINS, comma separated). Development allows the usual local dev
	// servers by default; production allows none unless listed.
	CORSOrigins []string
	// TrustedProxies are the networks whose X-Forwarded-For is believed (TRUSTED_PROXIES, CIDRs).
	// Without it the peer address is the client: a forged header cannot dodge a per-IP limit.
	TrustedProxies []netip.Prefix
	// PersistedQueriesOnly answers only the operations of PersistedQueriesFile
	// (PERSISTED_QUERIES_ONLY=true, PERSISTED_QUERIES_FILE=path to an Apollo persisted query
	// manifest).
	PersistedQueriesOnly bool
	PersistedQueriesFile string
	// TLSCertFile and TLSKeyFile, when both set, make the server speak HTTPS itself.
	TLSCertFile, TLSKeyFile string
	// PurchaseCapPerDay is the most units of one product a customer may buy per day
	// (PURCHASE_CAP_PER_DAY); 0 turns the cap off.
	PurchaseCapPerDay int
	// MetricsToken, when set (METRICS_TOKEN), must come as "Authorization: Bearer <token>" to
	// read /metrics, for deployments where the metrics port is reachable from outside.
	MetricsToken string
	// DrainDelay is how long a stopping instance keeps serving with /readyz at 503, so load
	// balancers take it out of rotation before it refuses connections (SHUTDOWN_DRAIN_DELAY,
	// e.g. 5s; 0 in development). It counts against the shutdown timeout.
	DrainDelay time.Duration

	Limits    QueryLimits
	Rates     RateLimits
	Websocket WebsocketLimits
	Timeouts  HTTPTimeouts
}

// QueryLimits bound what one GraphQL request may ask for. Every storefront operation of API.md
// fits them at its largest page (see TestStorefrontQueriesFitLimits).
type QueryLimits struct {
	// MaxBodyBytes: larger request bodies get 413 before any parsing.
	MaxBodyBytes int64
	// MaxTokens bounds the lexer: a document with more tokens is refused while parsing.
	MaxTokens int
	// MaxComplexity bounds the cost: each field costs 1 plus its children, and connection fields
	// multiply their children by `first`.
	MaxComplexity int
	// MaxDepth bounds field nesting (introspection fields excepted; they have their own rule).
	MaxDepth int
	// MaxAliases bounds aliased fields, so one request cannot try many codes or passwords.
	MaxAliases int
	// MaxRootFields bounds the top-level fields of one operation.
	MaxRootFields int
}

// RateLimits are the token buckets of the rate limiter, kept in Redis so they hold across
// instances. PerIP and PerUser count operations; the others count each root field of their name.
type RateLimits struct {
	PerIP    sredis.Rate
	PerUser  sredis.Rate
	Login    sredis.Rate
	Register sredis.Rate
	Checkout sredis.Rate
	Payment  sredis.Rate
}

// WebsocketLimits bound subscription connections.
type WebsocketLimits struct {
	// InitTimeout closes a connection that sends no connection_init within it.
	InitTimeout time.Duration
	// KeepAlive is the interval of server pings; a graphql-transport-ws client that answers no
	// ping within twice the interval is disconnected.
	KeepAlive time.Duration
	// MaxMessageBytes bounds one frame from a client.
	MaxMessageBytes int64
	// MaxPerIP and MaxPerUser bound open connections per client address (at upgrade) and per
	// signed-in user (after connection_init). They are counted per instance, in memory: a
	// restarted instance starts from zero, and no counter can leak when an instance dies.
	MaxPerIP   int
	MaxPerUser int
}

// HTTPTimeouts of the HTTP server. WriteTimeout does not cut websockets: net/http clears a
// connection's deadlines when it is hijacked (TestWebsocketOutlivesWriteTimeout).
type HTTPTimeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// devOrigins are the local frontend dev servers allowed in development when CORS_ORIGINS is unset.
var devOrigins = []string{
	"http://localhost:3000", "http://localhost:5173", "http://localhost:8080",
	"http://127.0.0.1:3000", "http://127.0.0.1:5173", "http://127.0.0.1:8080",
}

// defaultEdge returns the limits in force unless the environment or a test changes them.
func defaultEdge(production bool) EdgeConfig {
	e := EdgeConfig{
		PurchaseCapPerDay: 10,
		Limits: QueryLimits{
			MaxBodyBytes:  1 << 20,
			MaxTokens:     5000,
			MaxComplexity: 20000,
			MaxDepth:      12,
			MaxAliases:    30,
			MaxRootFields: 10,
		},
		Rates: RateLimits{
			PerIP:    sredis.Rate{Count: 1200, Burst: 200, Period: time.Minute},
			PerUser:  sredis.Rate{Count: 600, Burst: 100, Period: time.Minute},
			Login:    sredis.Rate{Count: 10, Burst: 10, Period: time.Minute},
			Register: sredis.Rate{Count: 20, Burst: 5, Period: time.Hour},
			Checkout: sredis.Rate{Count: 10, Burst: 5, Period: time.Minute},
			Payment:  sredis.Rate{Count: 10, Burst: 5, Period: time.Minute},
		},
		Websocket: WebsocketLimits{
			InitTimeout:     10 * time.Second,
			KeepAlive:       25 * time.Second,
			MaxMessageBytes: 64 << 10,
			MaxPerIP:        50,
			MaxPerUser:      10,
		},
		Timeouts: HTTPTimeouts{
			ReadHeader: 5 * time.Second,
			Read:       15 * time.Second,
			Write:      30 * time.Second,
			Idle:       120 * time.Second,
		},
	}
	if !production {
		e.CORSOrigins = devOrigins
	}
	return e
}

// loadEdge reads the EdgeConfig from the environment and returns every problem found.
func loadEdge(get func(name, def string) string, production bool) (EdgeConfig, []string) {
	e := defaultEdge(production)
	var problems []string
	if v := get("CORS_ORIGINS", ""); v != "" {
		e.CORSOrigins = nil
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if o == "" {
				continue
			}
			if err := checkOrigin(o); err != nil {
				problems = append(problems, "CORS_ORIGINS: "+err.Error())
				continue
			}
			e.CORSOrigins = append(e.CORSOrigins, strings.ToLower(strings.TrimSuffix(o, "/")))
		}
	}
	if v := get("TRUSTED_PROXIES", ""); v != "" {
		for _, c := range strings.Split(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(c))
			if err != nil {
				problems = append(problems, fmt.Sprintf("TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8", c))
				continue
			}
			e.TrustedProxies = append(e.TrustedProxies, p.Masked())
		}
	}
	switch v := get("PERSISTED_QUERIES_ONLY", "false"); v {
	case "true":
		e.PersistedQueriesOnly = true
	case "false":
	default:
		problems = append(problems, fmt.Sprintf("PERSISTED_QUERIES_ONLY must be true or false, not %q", v))
	}
	e.PersistedQueriesFile = get("PERSISTED_QUERIES_FILE", "")
	if e.PersistedQueriesOnly && e.PersistedQueriesFile == "" {
		problems = append(problems, "PERSISTED_QUERIES_ONLY=true needs PERSISTED_QUERIES_FILE")
	}
	e.TLSCertFile, e.TLSKeyFile = get("TLS_CERT_FILE", ""), get("TLS_KEY_FILE", "")
	if (e.TLSCertFile == "") != (e.TLSKeyFile == "") {
		problems = append(problems, "TLS_CERT_FILE and TLS_KEY_FILE must be set together")
	}
	for _, f := range []string{e.TLSCertFile, e.TLSKeyFile, e.PersistedQueriesFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			problems = append(problems, fmt.Sprintf("cannot read %s: %v", f, err))
		}
	}
	e.MetricsToken = get("METRICS_TOKEN", "")
	if v := get("SHUTDOWN_DRAIN_DELAY", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 20*time.Second {
			problems = append(problems, "SHUTDOWN_DRAIN_DELAY must be a duration from 0s to 20s")
		}
		e.DrainDelay = d
	}
	if v := get("PURCHASE_CAP_PER_DAY", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problems = append(problems, "PURCHASE_CAP_PER_DAY must be a whole number, 0 for no cap")
		}
		e.PurchaseCapPerDay = n
	}
	return e, problems
}

// checkOrigin accepts an origin as browsers send it: scheme://host[:port], nothing more.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin such as https://shop.example.com", o)
	}
	return nil
}

// TLS reports whether the server terminates TLS itself.
func (e EdgeConfig) TLS() bool { return e.TLSCertFile != "" }
