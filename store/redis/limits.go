package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"storefront/domain/limits"
)

// PurchaseCounter implements limits.DailyCounter: one integer per key, changed by Lua scripts so
// the check and the increment are one atomic step on every instance.
type PurchaseCounter struct {
	c *Client
}

var _ limits.DailyCounter = (*PurchaseCounter)(nil)

// NewPurchaseCounter returns the counter of the purchase cap, under the client's prefix.
func NewPurchaseCounter(c *Client) *PurchaseCounter { return &PurchaseCounter{c: c} }

// addIfWithin: KEYS[1] counter; ARGV n, max, ttl in ms. Returns {total, added}.
var addIfWithin = goredis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if cur + n > tonumber(ARGV[2]) then
  return {cur, 0}
end
cur = redis.call('INCRBY', KEYS[1], n)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {cur, 1}
`)

// sub never goes below zero, so a double release cannot grant extra units later.
var sub = goredis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if cur <= n then
  redis.call('DEL', KEYS[1])
  return 0
end
return redis.call('DECRBY', KEYS[1], n)
`)

// AddIfWithin implements limits.DailyCounter.
func (p *PurchaseCounter) AddIfWithin(ctx context.Context, key string, n, max int64, ttl time.Duration) (int64, bool, error) {
	res, err := addIfWithin.Run(ctx, p.c, []string{p.c.Key("cap", key)}, n, max, ttl.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("purchase counter add: %w", err)
	}
	return res[0], res[1] == 1, nil
}

// Sub implements limits.DailyCounter.
func (p *PurchaseCounter) Sub(ctx context.Context, key string, n int64) error {
	if err := sub.Run(ctx, p.c, []string{p.c.Key("cap", key)}, n).Err(); err != nil {
		return fmt.Errorf("purchase counter sub: %w", err)
	}
	return nil
}

// RateLimiter is a GCRA (token bucket) limiter shared by every instance through Redis.
//
// It is github.com/go-redis/redis_rate: one Lua script per decision, no clock sync needed between
// instances (Redis time is used), and burst and rate are separate knobs. redis_rate puts its own
// "rate:" before every key; the keys carry this client's prefix after it and expire by themselves
// once their bucket is full again.
type RateLimiter struct {
	c       *Client
	limiter *redis_rate.Limiter
}

// NewRateLimiter returns a limiter over c.
func NewRateLimiter(c *Client) *RateLimiter {
	return &RateLimiter{c: c, limiter: redis_rate.NewLimiter(c.UniversalClient)}
}

// Rate is a budget: Burst requests at once, refilled at Count per Period.
type Rate struct {
	Count  int
	Burst  int
	Period time.Duration
}

// Allow takes n tokens from key's bucket. When refused it takes none and says how long until n
// tokens are there (or, when n exceeds the burst, until the bucket is full: such a request can
// never pass, and waiting for a full bucket is the honest answer).
func (r *RateLimiter) Allow(ctx context.Context, key string, rate Rate, n int) (allowed bool, retryAfter time.Duration, err error) {
	limit := redis_rate.Limit{Rate: rate.Count, Burst: rate.Burst, Period: rate.Period}
	res, err := r.limiter.AllowN(ctx, r.c.Key("rl", key), limit, n)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	retryAfter = res.RetryAfter
	if retryAfter < 0 {
		retryAfter = res.ResetAfter
	}
	return false, retryAfter, nil
}

// PersistedQueries stores automatic persisted queries (the Apollo protocol): a query's text under
// its SHA-256 hash, so clients may send the hash alone. Entries expire after ttl unless used, so
// hashes no client sends any more do not stay forever.
type PersistedQueries struct {
	c   *Client
	ttl time.Duration
}

// NewPersistedQueries returns the persisted query store of c.
func NewPersistedQueries(c *Client, ttl time.Duration) *PersistedQueries {
	return &PersistedQueries{c: c, ttl: ttl}
}

// Get returns the query stored under hash and renews its expiry. A Redis failure reads as a miss:
// the client then sends the full query, which still works.
func (p *PersistedQueries) Get(ctx context.Context, hash string) (string, bool) {
	q, err := p.c.GetEx(ctx, p.c.Key("apq", hash), p.ttl).Result()
	if err != nil {
		return "", false
	}
	return q, true
}

// Add stores query under hash. Failures are ignored: the cache only saves bandwidth.
func (p *PersistedQueries) Add(ctx context.Context, hash, query string) {
	_ = p.c.Set(ctx, p.c.Key("apq", hash), query, p.ttl).Err()
}
