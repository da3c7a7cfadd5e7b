package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"storefront/domain/identity"
)

// FailureCounter implements identity.FailureCounter: per key a hash {n: count, t: unix ms of the
// last attempt} that expires when the key has been quiet for its ttl.
type FailureCounter struct {
	rdb *Client
}

// NewFailureCounter returns a counter under rdb's prefix.
func NewFailureCounter(rdb *Client) *FailureCounter { return &FailureCounter{rdb: rdb} }

var _ identity.FailureCounter = (*FailureCounter)(nil)

// Failures returns the record of each key.
func (f *FailureCounter) Failures(ctx context.Context, keys ...string) ([]identity.FailureRecord, error) {
	pipe := f.rdb.Pipeline()
	cmds := make([]*goredis.SliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HMGet(ctx, f.rdb.Key(k), "n", "t")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("read failure counters: %w", err)
	}
	out := make([]identity.FailureRecord, len(keys))
	for i, c := range cmds {
		vals := c.Val()
		if len(vals) != 2 {
			continue
		}
		n, _ := vals[0].(string)
		t, _ := vals[1].(string)
		count, _ := strconv.Atoi(n)
		ms, _ := strconv.ParseInt(t, 10, 64)
		out[i] = identity.FailureRecord{Count: count, Last: time.UnixMilli(ms)}
	}
	return out, nil
}

// Charge counts one attempt under each key and returns the new counts.
func (f *FailureCounter) Charge(ctx context.Context, at time.Time, ttl time.Duration, keys ...string) ([]int, error) {
	// A plain pipeline, not MULTI: the keys may sit in different cluster slots. HINCRBY is atomic
	// per key, which is all the counts need.
	pipe := f.rdb.Pipeline()
	incrs := make([]*goredis.IntCmd, len(keys))
	for i, k := range keys {
		key := f.rdb.Key(k)
		incrs[i] = pipe.HIncrBy(ctx, key, "n", 1)
		pipe.HSet(ctx, key, "t", at.UnixMilli())
		pipe.PExpire(ctx, key, ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("count attempt: %w", err)
	}
	counts := make([]int, len(keys))
	for i, c := range incrs {
		counts[i] = int(c.Val())
	}
	return counts, nil
}

// forgiveScript decrements a count that is above zero, and leaves a missing key missing.
var forgiveScript = goredis.NewScript(`
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n > 0 then return redis.call('HINCRBY', KEYS[1], 'n', -1) end
return 0`)

// Forgive takes one attempt back under each key.
func (f *FailureCounter) Forgive(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if err := forgiveScript.Run(ctx, f.rdb, []string{f.rdb.Key(k)}).Err(); err != nil {
			return fmt.Errorf("forgive attempt: %w", err)
		}
	}
	return nil
}

// Reset forgets the keys. They are deleted one by one in a pipeline, not by one DEL of them
// all: in Redis Cluster the keys sit in different slots, and a multi-key DEL across slots fails.
func (f *FailureCounter) Reset(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := f.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, f.rdb.Key(k))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reset failure counters: %w", err)
	}
	return nil
}
