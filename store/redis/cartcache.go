package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"storefront/domain/cart"
	"storefront/domain/money"
	"storefront/metrics"
)

// CartCache keeps the stored part of carts (owner, status, version and lines, not prices) in
// Redis hashes {v: version, d: JSON}. Writes go through a Lua script that stores a cart only when
// its version is higher than the cached one, so a slow writer can never put an older cart over a
// newer one. Entries expire after ttl; losing them costs one Postgres read.
type CartCache struct {
	c   *Client
	ttl time.Duration
}

// NewCartCache returns the cart cache on c; entries live for ttl after their last write.
func NewCartCache(c *Client, ttl time.Duration) *CartCache { return &CartCache{c: c, ttl: ttl} }

var _ cart.Cache = (*CartCache)(nil)

// putIfNewer stores ARGV[2] as version ARGV[1] unless the key already holds that version or a
// newer one, and sets the expiry to ARGV[3] milliseconds. When ARGV[4] names a channel it then
// publishes ARGV[5] there, whether or not the entry was stored: the notice of a change goes out in
// the round trip that caches it, and after it, so a subscriber that reads the cart on the notice
// finds it cached. (PUBLISH names no key, so Redis Cluster allows it in a script on any node, and
// the cluster bus carries the message to subscribers on every node.)
var putIfNewer = goredis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local stored = 0
if cur < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  stored = 1
end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return stored`)

// cachedCart is the JSON form of a cached cart; short names keep it small.
type cachedCart struct {
	ID        string       `json:"id"`
	UserID    int64        `json:"u,omitempty"`
	Status    cart.Status  `json:"s"`
	Version   int64        `json:"v"`
	CreatedAt time.Time    `json:"c"`
	UpdatedAt time.Time    `json:"m"`
	Lines     []cachedLine `json:"l"`
}

type cachedLine struct {
	ID        int64 `json:"i"`
	ProductID int64 `json:"p"`
	Quantity  int   `json:"q"`
	Price     int64 `json:"a"`
}

func (cc *CartCache) key(id string) string { return cc.c.Key("cart", id) }

// Get implements cart.Cache.
func (cc *CartCache) Get(ctx context.Context, id string) (cart.Cart, bool, error) {
	raw, err := cc.c.HGet(ctx, cc.key(id), "d").Bytes()
	if errors.Is(err, goredis.Nil) {
		metrics.CacheMiss("cart")
		return cart.Cart{}, false, nil
	}
	if err != nil {
		metrics.CacheMiss("cart")
		return cart.Cart{}, false, fmt.Errorf("cart cache get: %w", err)
	}
	var cc2 cachedCart
	if err := json.Unmarshal(raw, &cc2); err != nil {
		// A corrupt or older-format entry is a miss; the next write replaces it.
		metrics.CacheMiss("cart")
		return cart.Cart{}, false, nil
	}
	metrics.CacheHit("cart")
	c := cart.Cart{ID: cc2.ID, UserID: cc2.UserID, Status: cc2.Status, Version: cc2.Version,
		CreatedAt: cc2.CreatedAt, UpdatedAt: cc2.UpdatedAt, Lines: make([]cart.Line, len(cc2.Lines))}
	for i, l := range cc2.Lines {
		c.Lines[i] = cart.Line{ID: l.ID, ProductID: l.ProductID, Quantity: l.Quantity, AddedUnitPrice: money.Amount(l.Price)}
	}
	return c, true, nil
}

// Put implements cart.Cache.
func (cc *CartCache) Put(ctx context.Context, c cart.Cart) error {
	return cc.put(ctx, c, "", nil)
}

// PutAndPublish implements cart.Cache: one EVALSHA stores the cart and publishes the notice.
func (cc *CartCache) PutAndPublish(ctx context.Context, c cart.Cart, channel string, payload []byte) error {
	return cc.put(ctx, c, cc.c.Key(channel), payload)
}

// put runs putIfNewer for c; an empty channel publishes nothing.
func (cc *CartCache) put(ctx context.Context, c cart.Cart, channel string, payload []byte) error {
	v := cachedCart{ID: c.ID, UserID: c.UserID, Status: c.Status, Version: c.Version,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Lines: make([]cachedLine, len(c.Lines))}
	for i, l := range c.Lines {
		v.Lines[i] = cachedLine{ID: l.ID, ProductID: l.ProductID, Quantity: l.Quantity, Price: int64(l.AddedUnitPrice)}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cart cache put: %w", err)
	}
	err = putIfNewer.Run(ctx, cc.c, []string{cc.key(c.ID)}, c.Version, raw, cc.ttl.Milliseconds(), channel, payload).Err()
	if err != nil {
		return fmt.Errorf("cart cache put: %w", err)
	}
	return nil
}

// Delete implements cart.Cache. Keys are deleted one by one in a pipeline, since in Redis
// Cluster they live on different nodes.
func (cc *CartCache) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := cc.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, id := range ids {
			p.Del(ctx, cc.key(id))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cart cache delete: %w", err)
	}
	return nil
}

// CachedVersion returns the version of the cached cart, or 0 when none is cached. Tests and
// operators use it to see whether the cache was rebuilt.
func (cc *CartCache) CachedVersion(ctx context.Context, id string) (int64, error) {
	v, err := cc.c.HGet(ctx, cc.key(id), "v").Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	return v, err
}
