package redis_test

import (
	"context"
	"testing"
	"time"

	"storefront/domain/cart"
	sredis "storefront/store/redis"
	"storefront/testsupport"
)

func openClient(t *testing.T) *sredis.Client {
	t.Helper()
	c, err := sredis.Open(context.Background(), testsupport.RedisURL(t), testsupport.NewRedisPrefix(t))
	if err != nil {
		t.Fatalf("open Redis: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The cache only ever moves forward: a write of an older version is ignored.
func TestCartCacheRefusesOlderVersions(t *testing.T) {
	t.Parallel()
	c := openClient(t)
	cc := sredis.NewCartCache(c, time.Minute)
	ctx := context.Background()
	id, _ := cart.NewID()
	newer := cart.Cart{ID: id, Status: cart.StatusActive, Version: 3, Lines: []cart.Line{{ID: 1, ProductID: 7, Quantity: 3, AddedUnitPrice: 500}}}
	older := cart.Cart{ID: id, Status: cart.StatusActive, Version: 2, Lines: []cart.Line{{ID: 1, ProductID: 7, Quantity: 1, AddedUnitPrice: 500}}}
	if err := cc.Put(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if err := cc.Put(ctx, older); err != nil {
		t.Fatal(err)
	}
	got, found, err := cc.Get(ctx, id)
	if err != nil || !found || got.Version != 3 || got.Lines[0].Quantity != 3 || got.Lines[0].AddedUnitPrice != 500 {
		t.Fatalf("Get = %+v, %v, %v; want version 3 with quantity 3", got, found, err)
	}
	if ttl := c.PTTL(ctx, c.Key("cart", id)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL = %v; want up to a minute", ttl)
	}
	if err := cc.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := cc.Get(ctx, id); found {
		t.Error("deleted entry still found")
	}
}

// A cart write and its notice go out together: the subscriber hears the version and finds that
// version cached; a stale write is still announced but caches nothing.
func TestCartCachePutAndPublish(t *testing.T) {
	t.Parallel()
	c := openClient(t)
	cc := sredis.NewCartCache(c, time.Minute)
	hub := newHub(t, c)
	ctx := context.Background()
	id, _ := cart.NewID()
	msgs, cancel, err := hub.Subscribe(ctx, "cart:"+id)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	numSub(t, c, "cart:"+id, 1)

	if err := cc.PutAndPublish(ctx, cart.Cart{ID: id, Status: cart.StatusActive, Version: 4}, "cart:"+id, []byte("4")); err != nil {
		t.Fatal(err)
	}
	receive(t, msgs, "4")
	if got, found, err := cc.Get(ctx, id); err != nil || !found || got.Version != 4 {
		t.Fatalf("after the notice Get = %+v, %v, %v; want version 4 cached", got, found, err)
	}
	if err := cc.PutAndPublish(ctx, cart.Cart{ID: id, Status: cart.StatusActive, Version: 3}, "cart:"+id, []byte("3")); err != nil {
		t.Fatal(err)
	}
	receive(t, msgs, "3")
	if got, _, _ := cc.Get(ctx, id); got.Version != 4 {
		t.Errorf("a stale write replaced the cached cart: version %d, want 4", got.Version)
	}
}
