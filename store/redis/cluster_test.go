//go:build cluster

package redis_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"storefront/domain/cart"
	sredis "storefront/store/redis"
	"storefront/testsupport"
)

// These tests run every Redis store of the server against a Redis Cluster of several masters
// (`make test-cluster`): a script, MULTI or multi-key command whose keys sit in different slots
// fails there with CROSSSLOT, and pub/sub must reach subscribers connected to other nodes.

func openCluster(t *testing.T) (*sredis.Client, *goredis.ClusterClient) {
	t.Helper()
	url := testsupport.RedisClusterURL(t)
	c, err := sredis.Open(context.Background(), url, testsupport.NewRedisPrefixOn(t, url))
	if err != nil {
		t.Fatalf("open Redis Cluster: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	cluster, ok := c.UniversalClient.(*goredis.ClusterClient)
	if !ok {
		t.Fatalf("REDIS_CLUSTER_URL %s opened a %T, not a cluster client", url, c.UniversalClient)
	}
	return c, cluster
}

// masters counts the cluster's masters, failing the test when there are fewer than two.
func masters(t *testing.T, cluster *goredis.ClusterClient) int {
	t.Helper()
	var n atomic.Int64
	if err := cluster.ForEachMaster(context.Background(), func(context.Context, *goredis.Client) error {
		n.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n.Load() < 2 {
		t.Fatalf("the cluster has %d master; the test needs several", n.Load())
	}
	return int(n.Load())
}

// spread returns at least n key names, made from base, whose full keys under c's prefix sit on
// every master of the cluster, so a command over all of them crosses slots and nodes.
func spread(t *testing.T, c *sredis.Client, cluster *goredis.ClusterClient, base string, n int) []string {
	t.Helper()
	want := masters(t, cluster)
	seen := map[string]bool{}
	var names []string
	for i := 0; len(seen) < want; i++ {
		if i > 10000 {
			t.Fatalf("found keys on %d of %d masters", len(seen), want)
		}
		name := fmt.Sprintf("%s%d", base, i)
		node, err := cluster.MasterForKey(context.Background(), c.Key(name))
		if err != nil {
			t.Fatal(err)
		}
		if addr := node.Options().Addr; !seen[addr] {
			seen[addr] = true
			names = append(names, name)
		}
	}
	for i := 0; len(names) < n; i++ {
		names = append(names, fmt.Sprintf("%s-more-%d", base, i))
	}
	return names
}

func TestClusterCartCache(t *testing.T) {
	t.Parallel()
	c, cluster := openCluster(t)
	cc := sredis.NewCartCache(c, time.Minute)
	ctx := context.Background()
	ids := spread(t, c, cluster, "cart-", 6)
	for _, id := range ids {
		if err := cc.Put(ctx, cart.Cart{ID: id, Status: cart.StatusActive, Version: 2}); err != nil {
			t.Fatalf("put %s: %v", id, err)
		}
		// An older version never replaces a newer one, on whichever node the cart lives.
		if err := cc.Put(ctx, cart.Cart{ID: id, Status: cart.StatusActive, Version: 1}); err != nil {
			t.Fatalf("put older %s: %v", id, err)
		}
		if got, ok, err := cc.Get(ctx, id); err != nil || !ok || got.Version != 2 {
			t.Fatalf("get %s = %+v, %v, %v; want version 2", id, got, ok, err)
		}
	}
	if err := cc.Delete(ctx, ids...); err != nil {
		t.Fatalf("delete carts on several nodes: %v", err)
	}
	for _, id := range ids {
		if _, ok, err := cc.Get(ctx, id); err != nil || ok {
			t.Errorf("cart %s after delete: found=%v err=%v", id, ok, err)
		}
	}
}

// A cart written and announced by the script on its key's node is heard by a subscriber whose
// hub listens on another node: the script's PUBLISH is broadcast like any other.
func TestClusterCartCachePutAndPublish(t *testing.T) {
	t.Parallel()
	c, cluster := openCluster(t)
	cc := sredis.NewCartCache(c, time.Minute)
	h := newHub(t, c)
	ctx := context.Background()
	for _, id := range spread(t, c, cluster, "cart-", 3) {
		msgs, cancel, err := h.Subscribe(ctx, "cart:"+id)
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
		numSub(t, c, "cart:"+id, 1)
		if err := cc.PutAndPublish(ctx, cart.Cart{ID: id, Status: cart.StatusActive, Version: 5}, "cart:"+id, []byte("5")); err != nil {
			t.Fatalf("put and publish %s: %v", id, err)
		}
		receive(t, msgs, "5")
		if got, ok, err := cc.Get(ctx, id); err != nil || !ok || got.Version != 5 {
			t.Fatalf("get %s = %+v, %v, %v; want version 5", id, got, ok, err)
		}
	}
}

func TestClusterFailureCounter(t *testing.T) {
	t.Parallel()
	c, cluster := openCluster(t)
	f := sredis.NewFailureCounter(c)
	ctx := context.Background()
	keys := spread(t, c, cluster, "login-", 4)
	now := time.Now()
	for want := 1; want <= 2; want++ {
		counts, err := f.Charge(ctx, now, time.Minute, keys...)
		if err != nil {
			t.Fatalf("charge: %v", err)
		}
		if !slices.Equal(counts, []int{want, want, want, want}) {
			t.Fatalf("counts = %v; want %d each", counts, want)
		}
	}
	if err := f.Forgive(ctx, keys[0]); err != nil {
		t.Fatalf("forgive: %v", err)
	}
	// One reset of keys on different nodes: a single multi-key DEL would fail with CROSSSLOT.
	if err := f.Reset(ctx, keys[1:]...); err != nil {
		t.Fatalf("reset keys on several nodes: %v", err)
	}
	recs, err := f.Failures(ctx, keys...)
	if err != nil {
		t.Fatalf("failures: %v", err)
	}
	if recs[0].Count != 1 || recs[1].Count != 0 || recs[2].Count != 0 || recs[3].Count != 0 {
		t.Errorf("records = %+v; want 1, 0, 0, 0", recs)
	}
}

func TestClusterLimitsAndPersistedQueries(t *testing.T) {
	t.Parallel()
	c, cluster := openCluster(t)
	ctx := context.Background()
	keys := spread(t, c, cluster, "k-", 3)

	caps := sredis.NewPurchaseCounter(c)
	for _, k := range keys {
		if total, ok, err := caps.AddIfWithin(ctx, k, 3, 4, time.Minute); err != nil || !ok || total != 3 {
			t.Fatalf("cap add %s = %d, %v, %v", k, total, ok, err)
		}
		if _, ok, err := caps.AddIfWithin(ctx, k, 2, 4, time.Minute); err != nil || ok {
			t.Fatalf("cap add over the limit %s = %v, %v; want refused", k, ok, err)
		}
		if err := caps.Sub(ctx, k, 3); err != nil {
			t.Fatalf("cap sub %s: %v", k, err)
		}
	}

	rl := sredis.NewRateLimiter(c)
	rate := sredis.Rate{Count: 2, Burst: 2, Period: time.Minute}
	for _, k := range keys {
		for i := 0; i < 2; i++ {
			if ok, _, err := rl.Allow(ctx, k, rate, 1); err != nil || !ok {
				t.Fatalf("rate %s #%d = %v, %v; want allowed", k, i, ok, err)
			}
		}
		if ok, retry, err := rl.Allow(ctx, k, rate, 1); err != nil || ok || retry <= 0 {
			t.Fatalf("rate %s over budget = %v, %v, %v; want refused with a wait", k, ok, retry, err)
		}
	}

	pq := sredis.NewPersistedQueries(c, time.Minute)
	for _, k := range keys {
		pq.Add(ctx, k, "{ "+k+" }")
	}
	for _, k := range keys {
		if q, ok := pq.Get(ctx, k); !ok || q != "{ "+k+" }" {
			t.Errorf("persisted query %s = %q, %v", k, q, ok)
		}
	}
}

// The hub holds one subscription connection, on one node, for all its channels. Messages
// published on any node, for channels of any slot, reach it: classic pub/sub is broadcast to the
// whole cluster.
func TestClusterHubHearsEveryNode(t *testing.T) {
	t.Parallel()
	c, cluster := openCluster(t)
	ctx := context.Background()
	h := newHub(t, c)
	channels := spread(t, c, cluster, "chan-", 3)
	subs := make([]<-chan []byte, len(channels))
	for i, ch := range channels {
		msgs, cancel, err := h.Subscribe(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
		subs[i] = msgs
	}
	// Through another instance's hub: each PUBLISH goes to the master of the channel's slot.
	other := newHub(t, c)
	for i, ch := range channels {
		if err := other.Publish(ctx, ch, []byte("via-"+ch)); err != nil {
			t.Fatal(err)
		}
		receive(t, subs[i], "via-"+ch)
	}
	// Straight to each master in turn, whatever slot the channel has.
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
		return node.Publish(ctx, c.Key(channels[0]), "from-"+node.Options().Addr).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for want := masters(t, cluster); len(got) < want; {
		select {
		case m := <-subs[0]:
			got[string(m)] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("heard %v; want a message from each of %d masters", got, want)
		}
	}
}

// Session revocations announced through one client reach a listener on another.
func TestClusterSessionEvents(t *testing.T) {
	t.Parallel()
	c, _ := openCluster(t)
	listener, err := sredis.Open(context.Background(), testsupport.RedisClusterURL(t), c.Prefix())
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, heard := make(chan struct{}), make(chan []string, 1)
	go func() {
		_ = sredis.NewSessionEvents(listener).Subscribe(ctx, func() { close(ready) }, func(ids []string) { heard <- ids })
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("revocation listener not subscribed")
	}
	if err := sredis.NewSessionEvents(c).PublishRevoked(ctx, "s1", "s2"); err != nil {
		t.Fatal(err)
	}
	select {
	case ids := <-heard:
		if !slices.Equal(ids, []string{"s1", "s2"}) {
			t.Errorf("heard %v; want [s1 s2]", ids)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("revocation not heard")
	}
}

// A test prefix's keys are deleted from every master when the test ends.
func TestClusterTestPrefixCleanup(t *testing.T) {
	t.Parallel()
	url := testsupport.RedisClusterURL(t)
	var prefix string
	t.Run("writes", func(t *testing.T) {
		c, cluster := openCluster(t)
		prefix = c.Prefix()
		for _, k := range spread(t, c, cluster, "x-", 6) {
			if err := c.Set(context.Background(), c.Key(k), "v", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
	c, err := sredis.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var left atomic.Int64
	err = c.UniversalClient.(*goredis.ClusterClient).ForEachMaster(context.Background(), func(ctx context.Context, node *goredis.Client) error {
		iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			left.Add(1)
		}
		return iter.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if left.Load() != 0 {
		t.Errorf("%d keys under %s left after the test", left.Load(), prefix)
	}
}
