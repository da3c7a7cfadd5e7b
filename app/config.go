// Package app wires the store together: it reads configuration, connects Postgres and Redis,
// builds the domain services and the HTTP surface, and runs the background workers. Package main
// only parses the command line; tests build as many instances as they need through New.
package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"storefront/domain/identity"
)

// Config is everything the server reads from its environment.
type Config struct {
	// Env is "development" or "production".
	Env         string
	DatabaseURL string
	// DatabaseReplicaURL (DATABASE_REPLICA_URL) is an optional read replica of DatabaseURL that
	// serves catalog reads; empty means the primary serves them.
	DatabaseReplicaURL string
	RedisURL           string
	// RedisPrefix is prepended to every Redis key and channel; tests give each test its own.
	RedisPrefix string
	Port        int
	// JWTSecret signs access tokens. In development a random one is made per start.
	JWTSecret []byte
	// JWTSecretGenerated is true when JWTSecret was made up at start, so main can warn.
	JWTSecretGenerated bool
	RateLimit          bool
	// PublicURL is where this server is reached, for links such as the payment sandbox's webhooks.
	PublicURL string
	// ShutdownTimeout bounds a graceful stop.
	ShutdownTimeout time.Duration

	// JWTIssuer and JWTAudience are the iss and aud of access tokens; tokens for anything else are
	// refused.
	JWTIssuer   string
	JWTAudience string
	// AccessTokenTTL is the lifetime of an access token.
	AccessTokenTTL time.Duration
	// RefreshIdleTimeout ends a session that was not refreshed for this long.
	RefreshIdleTimeout time.Duration
	// SessionMaxLifetime ends a session this long after sign-in, however active.
	SessionMaxLifetime time.Duration
	// SessionCacheMaxAge caps how long Redis serves a session entry before re-reading Postgres: it
	// bounds how long a revocation that could not reach Redis goes unseen.
	SessionCacheMaxAge time.Duration
	// SessionRecheckInterval is how often an open websocket re-checks its session, in case a
	// revocation announcement was lost.
	SessionRecheckInterval time.Duration
	// PasswordHashing are the argon2id parameters of new password hashes.
	PasswordHashing identity.Argon2Params
	// LoginLimits slow down repeated failed sign-ins (when RateLimit is on).
	LoginLimits identity.LoginLimits

	// CartMaxQuantity (CART_MAX_QUANTITY) is the most of one product a cart line may hold.
	CartMaxQuantity int
	// CartMaxLines (CART_MAX_LINES) is the most lines a cart may hold.
	CartMaxLines int
	// CartGuestTTL (CART_GUEST_TTL) is how long a guest cart lives after its last change.
	CartGuestTTL time.Duration
	// CartSweepInterval (CART_SWEEP_INTERVAL) is how often expired guest carts are deleted.
	CartSweepInterval time.Duration
	// EdgeConfig holds the request limits, rate limits, CORS, TLS and websocket settings.
	EdgeConfig
	// Checkout tunes checkout, payments and their workers.
	Checkout CheckoutConfig
	// PprofAddr (PPROF=on, PPROF_ADDR) is a loopback address serving net/http/pprof for
	// profiling; empty, the default, serves none.
	PprofAddr string
}

// Production reports whether the server runs in production mode.
func (c Config) Production() bool { return c.Env == "production" }

// Defaults of the local stack started by scripts/stack.sh.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:15432/storefront?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:16379/0"
)

// LoadConfig reads the configuration through getenv, validating every value, and reports all
// problems at once.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	cfg := Config{
		Env:             get("APP_ENV", "development"),
		DatabaseURL:     get("DATABASE_URL", DefaultDatabaseURL),
		RedisURL:        get("REDIS_URL", DefaultRedisURL),
		RedisPrefix:     get("REDIS_PREFIX", "sf:"),
		ShutdownTimeout: 25 * time.Second,
	}
	cfg.DatabaseReplicaURL = get("DATABASE_REPLICA_URL", "")
	var problems []string
	if strings.ContainsAny(cfg.RedisPrefix, "{}") {
		// A hash tag in the prefix would put every key in one Redis Cluster slot, on one node.
		problems = append(problems, "REDIS_PREFIX must not contain { or }")
	}
	if cfg.Env != "development" && cfg.Env != "production" {
		problems = append(problems, fmt.Sprintf("APP_ENV must be development or production, not %q", cfg.Env))
	}
	port, err := strconv.Atoi(get("PORT", "8080"))
	if err != nil || port < 0 || port > 65535 {
		problems = append(problems, "PORT must be a port number")
	}
	cfg.Port = port
	switch rl := get("RATE_LIMIT", "on"); rl {
	case "on":
		cfg.RateLimit = true
	case "off":
	default:
		problems = append(problems, fmt.Sprintf("RATE_LIMIT must be on or off, not %q", rl))
	}
	if secret := getenv("JWT_SECRET"); secret != "" {
		if len(secret) < 32 {
			problems = append(problems, "JWT_SECRET must be at least 32 characters")
		}
		cfg.JWTSecret = []byte(secret)
	} else if cfg.Production() {
		problems = append(problems, "JWT_SECRET is required when APP_ENV=production")
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		cfg.JWTSecret = []byte(hex.EncodeToString(b))
		cfg.JWTSecretGenerated = true
	}
	cfg.JWTIssuer = get("JWT_ISSUER", "storefront")
	cfg.JWTAudience = get("JWT_AUDIENCE", "storefront-api")
	cfg.PasswordHashing = identity.OWASPParams
	cfg.LoginLimits = identity.DefaultLoginLimits
	durations := []struct {
		env  string
		def  time.Duration
		dest *time.Duration
	}{
		{"ACCESS_TOKEN_TTL", 15 * time.Minute, &cfg.AccessTokenTTL},
		{"REFRESH_IDLE_TTL", 30 * 24 * time.Hour, &cfg.RefreshIdleTimeout},
		{"SESSION_MAX_LIFETIME", 90 * 24 * time.Hour, &cfg.SessionMaxLifetime},
		{"SESSION_CACHE_MAX_AGE", 5 * time.Minute, &cfg.SessionCacheMaxAge},
		{"SESSION_RECHECK_INTERVAL", time.Minute, &cfg.SessionRecheckInterval},
		{"LOGIN_BACKOFF_MAX", identity.DefaultLoginLimits.Account.Max, &cfg.LoginLimits.Account.Max},
	}
	for _, d := range durations {
		v, err := time.ParseDuration(get(d.env, d.def.String()))
		if err != nil || v <= 0 {
			problems = append(problems, fmt.Sprintf("%s must be a positive duration such as 15m", d.env))
			continue
		}
		*d.dest = v
	}
	// One cap for every login counter: it bounds how long anyone can be held back.
	cfg.LoginLimits.AccountIP.Max, cfg.LoginLimits.IP.Max = cfg.LoginLimits.Account.Max, cfg.LoginLimits.Account.Max
	if cfg.SessionMaxLifetime < cfg.RefreshIdleTimeout {
		problems = append(problems, "SESSION_MAX_LIFETIME must not be shorter than REFRESH_IDLE_TTL")
	}
	edge, edgeProblems := loadEdge(get, cfg.Production())
	cfg.EdgeConfig, problems = edge, append(problems, edgeProblems...)
	cfg.PublicURL = get("PUBLIC_URL", fmt.Sprintf("http://127.0.0.1:%d", cfg.Port))
	positiveInt := func(name string, def int) int {
		n, err := strconv.Atoi(get(name, strconv.Itoa(def)))
		if err != nil || n < 1 {
			problems = append(problems, name+" must be a positive whole number")
		}
		return n
	}
	positiveDuration := func(name string, def time.Duration) time.Duration {
		d, err := time.ParseDuration(get(name, def.String()))
		if err != nil || d <= 0 {
			problems = append(problems, name+" must be a positive duration such as 720h or 30s")
		}
		return d
	}
	cfg.CartMaxQuantity = positiveInt("CART_MAX_QUANTITY", 99)
	cfg.CartMaxLines = positiveInt("CART_MAX_LINES", 100)
	cfg.CartGuestTTL = positiveDuration("CART_GUEST_TTL", 30*24*time.Hour)
	cfg.CartSweepInterval = positiveDuration("CART_SWEEP_INTERVAL", time.Hour)
	cfg.Checkout, problems = loadCheckoutConfig(get, cfg.Production(), problems)
	cfg.PprofAddr, problems = loadPprof(get, problems)
	if len(problems) > 0 {
		return cfg, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return cfg, nil
}

// loadPprof reads PPROF (on or off, the default) and PPROF_ADDR (default 127.0.0.1:6060). The
// profiles reveal memory contents and cost CPU to take, so they are served on loopback only and
// never on the public port.
func loadPprof(get func(name, def string) string, problems []string) (string, []string) {
	switch v := get("PPROF", "off"); v {
	case "off":
		return "", problems
	case "on":
	default:
		return "", append(problems, fmt.Sprintf("PPROF must be on or off, not %q", v))
	}
	addr := get("PPROF_ADDR", "127.0.0.1:6060")
	host, _, err := net.SplitHostPort(addr)
	if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
		return "", append(problems, fmt.Sprintf("PPROF_ADDR must be a loopback host:port such as 127.0.0.1:6060, not %q", addr))
	}
	return addr, problems
}
