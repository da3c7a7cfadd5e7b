// Package redis implements the fast, rebuildable state on Redis with go-redis: sessions, the cart
// cache, pub/sub for subscriptions, and rate limits. Postgres stays the truth; everything here can
// be lost and rebuilt.
package redis

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Client is a Redis connection whose keys and channels all live under a prefix, so that tests
// (and several stores on one Redis) never see each other's data.
type Client struct {
	goredis.UniversalClient
	prefix string
}

// Timeouts are short on purpose: a hung Redis must cost a request milliseconds, not seconds, and
// every caller falls back to Postgres on error.
const (
	dialTimeout = 500 * time.Millisecond
	ioTimeout   = 300 * time.Millisecond
)

// Open connects to REDIS_URL: a redis:// URL, a comma-separated list of host:port or redis:// URLs
// (Redis Cluster), or a redis:// URL with ?cluster=true. prefix is prepended to every key.
func Open(ctx context.Context, rawURL, prefix string) (*Client, error) {
	opts, err := parseUniversal(rawURL)
	if err != nil {
		return nil, err
	}
	c := &Client{UniversalClient: goredis.NewUniversalClient(opts), prefix: prefix}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.Ping(pingCtx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("ping Redis: %w", err)
	}
	return c, nil
}

func parseUniversal(rawURL string) (*goredis.UniversalOptions, error) {
	parts := strings.Split(rawURL, ",")
	opts := &goredis.UniversalOptions{
		DialTimeout:  dialTimeout,
		ReadTimeout:  ioTimeout,
		WriteTimeout: ioTimeout,
		PoolTimeout:  ioTimeout,
		// One dial attempt: go-redis would otherwise retry a refused connection five times with
		// 100 ms pauses, making every request pay 400 ms while Redis is down.
		DialerRetries: 1,
		// One retry, not go-redis's three: with a Redis that drops connections (restarting, or
		// behind a proxy that cuts them) three retries with backoff cost a failing call about
		// 520 ms, one retry about 65 ms; with nothing listening, 100 ms against 20 ms
		// (BenchmarkFailingCall). One retry still rescues the usual case, a pooled connection that
		// went stale, and every caller falls back to Postgres. A hung Redis costs the read
		// timeout either way: timeouts are not retried.
		MaxRetries: 1,
		// In a cluster each redirect or retry is another attempt: with a hung node and three
		// redirects a call took 1.3-1.7 s, with one about 1 s. One is what a slot that moved
		// needs (MOVED or ASK, then the right node).
		MaxRedirects: 1,
	}
	cluster := len(parts) > 1
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "://") {
			opts.Addrs = append(opts.Addrs, p)
			continue
		}
		o, err := goredis.ParseURL(stripClusterParam(p))
		if err != nil {
			return nil, fmt.Errorf("parse REDIS_URL: %w", err)
		}
		opts.Addrs = append(opts.Addrs, o.Addr)
		opts.Username, opts.Password, opts.DB, opts.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
		if u, err := url.Parse(p); err == nil && u.Query().Get("cluster") == "true" {
			cluster = true
		}
	}
	if cluster {
		opts.IsClusterMode = true
		opts.DB = 0
	}
	return opts, nil
}

func stripClusterParam(p string) string {
	u, err := url.Parse(p)
	if err != nil {
		return p
	}
	q := u.Query()
	q.Del("cluster")
	u.RawQuery = q.Encode()
	return u.String()
}

// Key joins parts under the client's prefix: Key("cart", id) → "<prefix>cart:<id>".
//
// Redis Cluster spreads keys over nodes by hash slot, and refuses a script, MULTI or multi-key
// command whose keys sit in different slots. Every script and command here touches one key, so
// keys carry no hash tag; a multi-key operation added later must put the shared part of its keys
// in braces (Key("cart", "{"+id+"}")) so they share a slot. For the same reason a prefix must not
// contain braces: it would pin every key to one node.
func (c *Client) Key(parts ...string) string {
	return c.prefix + strings.Join(parts, ":")
}

// Prefix returns the prefix of every key and channel of this client.
func (c *Client) Prefix() string { return c.prefix }
