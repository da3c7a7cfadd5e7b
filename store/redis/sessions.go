package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"storefront/domain/identity"
	"storefront/metrics"
)

// SessionCache serves session checks from Redis in front of the durable store: a decorator, so the
// durable store stays the truth and every Redis failure falls back to it.
//
// Consistency: reads refill the cache only with SET NX, and revocations overwrite the entry with a
// revoked marker. So a read that fetched a session from Postgres just before a logout can never
// put the stale "active" entry back over the marker. Other changes (a refresh) delete the entry;
// the next read refills it. If a revocation cannot reach Redis, a stale entry lives at most
// MaxAge, which bounds how long a revoked session may still be served.
type SessionCache struct {
	next identity.SessionStore
	rdb  *Client
	// maxAge caps how long an entry lives.
	maxAge time.Duration
	log    *slog.Logger
	now    func() time.Time
	// pausedUntil (unix ns) is when to try Redis again after a failure: while Redis is down or
	// hung, only one request per pause pays the timeout; the others go straight to Postgres.
	pausedUntil atomic.Int64
}

// redisPause is how long reads skip Redis after a failed call.
const redisPause = 500 * time.Millisecond

func (c *SessionCache) paused() bool { return c.now().UnixNano() < c.pausedUntil.Load() }

func (c *SessionCache) failed() { c.pausedUntil.Store(c.now().Add(redisPause).UnixNano()) }

// NewSessionCache returns the cache over next.
func NewSessionCache(next identity.SessionStore, rdb *Client, maxAge time.Duration, log *slog.Logger) *SessionCache {
	if log == nil {
		log = slog.Default()
	}
	return &SessionCache{next: next, rdb: rdb, maxAge: maxAge, log: log, now: time.Now}
}

var _ identity.SessionStore = (*SessionCache)(nil)

func (c *SessionCache) key(id string) string { return c.rdb.Key("session", id) }

// CreateSession stores the session durably, then caches it so its first request needs no
// Postgres round trip.
func (c *SessionCache) CreateSession(ctx context.Context, s identity.Session) error {
	if err := c.next.CreateSession(ctx, s); err != nil {
		return err
	}
	c.fill(ctx, s.ID, s.Status())
	return nil
}

// SessionStatus reads the cache, and on a miss or a Redis error the durable store.
func (c *SessionCache) SessionStatus(ctx context.Context, id string) (identity.SessionStatus, error) {
	if c.paused() {
		return c.next.SessionStatus(ctx, id)
	}
	raw, err := c.rdb.Get(ctx, c.key(id)).Bytes()
	if err == nil {
		var st identity.SessionStatus
		if jerr := json.Unmarshal(raw, &st); jerr == nil {
			metrics.CacheHit("session")
			return st, nil
		}
		c.log.WarnContext(ctx, "session cache: undecodable entry", "session", id)
	} else if !errors.Is(err, goredis.Nil) {
		c.failed()
		c.log.WarnContext(ctx, "session cache: read failed; using Postgres", "err", err)
	}
	metrics.CacheMiss("session")
	st, derr := c.next.SessionStatus(ctx, id)
	if derr != nil {
		return st, derr
	}
	if err == nil || errors.Is(err, goredis.Nil) {
		c.fill(ctx, id, st)
	}
	return st, nil
}

// fill caches st unless an entry (perhaps a revocation marker) is already there.
func (c *SessionCache) fill(ctx context.Context, id string, st identity.SessionStatus) {
	ttl := c.ttl(st)
	if ttl <= 0 || c.paused() {
		return
	}
	raw, _ := json.Marshal(st)
	if err := c.rdb.SetNX(ctx, c.key(id), raw, ttl).Err(); err != nil {
		c.failed()
		c.log.WarnContext(ctx, "session cache: fill failed", "err", err)
	}
}

func (c *SessionCache) ttl(st identity.SessionStatus) time.Duration {
	if st.Revoked {
		return c.maxAge
	}
	return min(st.ExpiresAt.Sub(c.now()), c.maxAge)
}

// markRevoked overwrites the entries of ended sessions with a revoked marker. When Redis cannot
// take it, it keeps trying in the background for MaxAge (after that any stale entry has expired on
// its own), so a logout made during a Redis outage is not undone when Redis comes back.
func (c *SessionCache) markRevoked(ctx context.Context, ids ...string) {
	if len(ids) == 0 {
		return
	}
	if err := c.writeRevoked(context.WithoutCancel(ctx), ids); err != nil {
		c.log.WarnContext(ctx, "session cache: could not mark sessions revoked; retrying in the background",
			"sessions", strings.Join(ids, ","), "err", err)
		go c.retryRevoked(ids)
	}
}

func (c *SessionCache) writeRevoked(ctx context.Context, ids []string) error {
	raw, _ := json.Marshal(identity.SessionStatus{Revoked: true})
	pipe := c.rdb.Pipeline()
	for _, id := range ids {
		pipe.Set(ctx, c.key(id), raw, c.maxAge)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// revokeRetryInterval spaces the background attempts of retryRevoked.
const revokeRetryInterval = 250 * time.Millisecond

func (c *SessionCache) retryRevoked(ids []string) {
	deadline := c.now().Add(c.maxAge)
	for c.now().Before(deadline) {
		time.Sleep(revokeRetryInterval)
		err := c.writeRevoked(context.Background(), ids)
		if err == nil || errors.Is(err, goredis.ErrClosed) {
			return // done, or this instance is shutting down
		}
	}
	c.log.Error("session cache: gave up marking sessions revoked; their entries have expired by now",
		"sessions", strings.Join(ids, ","))
}

// RotateRefresh rotates in the durable store, then drops or marks the cached entry.
func (c *SessionCache) RotateRefresh(ctx context.Context, id, presentedHash string,
	decide func(identity.Session, identity.RefreshMatch) (identity.SessionChange, error)) (identity.Session, error) {
	var change identity.SessionChange
	sess, err := c.next.RotateRefresh(ctx, id, presentedHash, func(s identity.Session, m identity.RefreshMatch) (identity.SessionChange, error) {
		ch, err := decide(s, m)
		change = ch
		return ch, err
	})
	switch {
	case change.Revoke && sess.ID != "":
		c.markRevoked(ctx, id)
	case change.NewRefreshHash != "" && err == nil:
		if derr := c.rdb.Del(context.WithoutCancel(ctx), c.key(id)).Err(); derr != nil {
			c.log.WarnContext(ctx, "session cache: drop after refresh failed", "err", derr)
		}
	}
	return sess, err
}

// RevokeSession ends the session durably, then in the cache.
func (c *SessionCache) RevokeSession(ctx context.Context, userID int64, id string, at time.Time) (bool, error) {
	ended, err := c.next.RevokeSession(ctx, userID, id, at)
	if err != nil {
		return false, err
	}
	if ended {
		c.markRevoked(ctx, id)
	}
	return ended, nil
}

// RevokeUserSessions ends the user's sessions durably, then in the cache.
func (c *SessionCache) RevokeUserSessions(ctx context.Context, userID int64, at time.Time) ([]string, error) {
	ids, err := c.next.RevokeUserSessions(ctx, userID, at)
	if err != nil {
		return nil, err
	}
	c.markRevoked(ctx, ids...)
	return ids, nil
}

// SessionEvents carries session revocations between server instances over Redis pub/sub.
type SessionEvents struct {
	rdb *Client
}

// NewSessionEvents returns the revocation channel of rdb's prefix.
func NewSessionEvents(rdb *Client) *SessionEvents { return &SessionEvents{rdb: rdb} }

var _ identity.RevocationPublisher = (*SessionEvents)(nil)

func (e *SessionEvents) channel() string { return e.rdb.Key("events", "session-revoked") }

// PublishRevoked announces ended sessions, one message for all of them.
func (e *SessionEvents) PublishRevoked(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := e.rdb.Publish(ctx, e.channel(), strings.Join(ids, " ")).Err(); err != nil {
		return fmt.Errorf("publish session revocation: %w", err)
	}
	return nil
}

// Subscribe calls onRevoked with the ids of every announced revocation until ctx ends. onReady is
// called once the subscription is in place, so a caller can rely on seeing later announcements.
// go-redis re-subscribes by itself after a connection loss; announcements made meanwhile are lost,
// which is why holders of long-lived connections also re-check their session now and then.
func (e *SessionEvents) Subscribe(ctx context.Context, onReady func(), onRevoked func(ids []string)) error {
	sub := e.rdb.Subscribe(ctx, e.channel())
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		return fmt.Errorf("subscribe to session revocations: %w", err)
	}
	onReady()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-ch:
			if !ok {
				return nil
			}
			onRevoked(strings.Fields(msg.Payload))
		}
	}
}
