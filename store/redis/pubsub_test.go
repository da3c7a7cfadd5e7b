package redis_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	sredis "storefront/store/redis"
)

func newHub(t *testing.T, c *sredis.Client) *sredis.Hub {
	h := sredis.NewHub(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(h.Close)
	return h
}

// numSub waits briefly for Redis to report want subscribers of channel (commands on other
// connections may not have been processed yet) and returns the last count seen.
func numSub(t *testing.T, c *sredis.Client, channel string, want int64) int64 {
	t.Helper()
	var got int64
	for i := 0; i < 100; i++ {
		n, err := c.PubSubNumSub(context.Background(), c.Key(channel)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got = n[c.Key(channel)]; got == want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return got
}

func receive(t *testing.T, ch <-chan []byte, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if string(got) != want {
			t.Errorf("received %q; want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("nothing received; want %q", want)
	}
}

// Many local subscribers of a channel share one Redis subscription, which ends with the last of
// them; a message from another instance reaches them all.
func TestHubFansOutOverOneSubscription(t *testing.T) {
	t.Parallel()
	c := openClient(t)
	local, remote := newHub(t, c), newHub(t, c)
	ctx := context.Background()

	a, cancelA, err := local.Subscribe(ctx, "things:1")
	if err != nil {
		t.Fatal(err)
	}
	b, cancelB, _ := local.Subscribe(ctx, "things:1")
	other, cancelOther, _ := local.Subscribe(ctx, "things:2")
	defer cancelOther()
	if n := numSub(t, c, "things:1", 1); n != 1 {
		t.Errorf("Redis subscribers of things:1 = %d; want 1 for two local subscribers", n)
	}
	if err := remote.Publish(ctx, "things:1", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	receive(t, a, "hello")
	receive(t, b, "hello")
	select {
	case m := <-other:
		t.Errorf("things:2 received %q", m)
	default:
	}

	cancelA()
	if _, open := <-a; open {
		t.Error("cancelled subscription's channel not closed")
	}
	if n := numSub(t, c, "things:1", 1); n != 1 {
		t.Errorf("after one of two left: Redis subscribers = %d; want 1", n)
	}
	cancelB()
	cancelB() // idempotent
	if n := numSub(t, c, "things:1", 0); n != 0 {
		t.Errorf("after all left: Redis subscribers = %d; want 0", n)
	}
	if local.Subscribers("things:1") != 0 || local.Subscribers("things:2") != 1 {
		t.Errorf("local subscriber counts = %d, %d; want 0, 1", local.Subscribers("things:1"), local.Subscribers("things:2"))
	}
}

// A subscriber that does not read never blocks the others, and it is left with the newest
// messages rather than the oldest.
func TestHubSlowSubscriberKeepsNewest(t *testing.T) {
	t.Parallel()
	c := openClient(t)
	h := newHub(t, c)
	ctx := context.Background()
	slow, cancelSlow, _ := h.Subscribe(ctx, "busy")
	defer cancelSlow()
	fast, cancelFast, _ := h.Subscribe(ctx, "busy")
	defer cancelFast()
	const n = 100
	fastDone := make(chan int)
	go func() {
		received := 0
		for m := range fast {
			received++
			if m[0] == n-1 {
				break
			}
		}
		fastDone <- received
	}()
	for i := 0; i < n; i++ {
		if err := h.Publish(ctx, "busy", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case got := <-fastDone:
		if got < 16 {
			t.Errorf("reading subscriber got %d of %d messages", got, n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading subscriber never got the last message")
	}
	// The idle subscriber was given its messages in the same pass; drain what it kept.
	held, last := 0, byte(0)
	for last != n-1 {
		select {
		case m := <-slow:
			held++
			last = m[0]
		case <-time.After(5 * time.Second):
			t.Fatalf("idle subscriber kept %d messages, the last %d; want it to end with %d", held, last, n-1)
		}
	}
	if held > 17 {
		t.Errorf("idle subscriber kept %d messages; want at most its buffer of 16 (+1 in flight)", held)
	}
}
