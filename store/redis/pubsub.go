package redis

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Hub fans Redis pub/sub out to many in-process subscribers over ONE Redis connection per
// instance. Channels are reference counted: the first subscriber of a channel SUBSCRIBEs it, the
// last to leave UNSUBSCRIBEs it, and every message is copied to each subscriber's buffered Go
// channel without blocking. Channel names live under the client's prefix.
//
// A slow subscriber never holds up the others: when its buffer is full its oldest message is
// dropped for the newest. Subscribers should therefore treat a message as "something changed,
// here is the latest" and reload state, which is how cart and order subscriptions use it.
//
// When Redis goes away, go-redis reconnects and resubscribes every channel by itself; messages
// published meanwhile are lost (Redis pub/sub is at-most-once), subscriptions are not.
type Hub struct {
	client *Client
	ps     *goredis.PubSub
	log    *slog.Logger
	done   chan struct{}

	mu     sync.Mutex
	topics map[string]*topic // by full channel name
	closed bool

	// cmdMu orders SUBSCRIBE and UNSUBSCRIBE of a channel as its reference count changes;
	// subscribed (guarded by cmdMu) is what was last asked of Redis.
	cmdMu      sync.Mutex
	subscribed map[string]bool
}

type topic struct {
	subs map[*subscriber]struct{}
	// ready is closed once Redis confirmed the subscription.
	ready     chan struct{}
	confirmed bool
}

type subscriber struct {
	ch chan []byte
}

const (
	// subscriberBuffer messages wait for a slow subscriber before the oldest is dropped.
	subscriberBuffer = 16
	// confirmWait bounds how long Subscribe waits for Redis to confirm a new channel, so a
	// message published right after Subscribe returns is not missed, without stalling on a
	// Redis that is down.
	confirmWait = 500 * time.Millisecond
)

// ErrHubClosed is returned by Subscribe after Close.
var ErrHubClosed = errors.New("pub/sub hub closed")

// NewHub starts the hub's receiver on its own Redis connection, opened on first subscription.
func NewHub(c *Client, log *slog.Logger) *Hub {
	h := &Hub{
		client:     c,
		ps:         c.Subscribe(context.Background()),
		log:        log,
		done:       make(chan struct{}),
		topics:     map[string]*topic{},
		subscribed: map[string]bool{},
	}
	msgs := h.ps.ChannelWithSubscriptions(goredis.WithChannelSize(1024),
		goredis.WithChannelHealthCheckInterval(2*time.Second))
	go h.receive(msgs)
	return h
}

func (h *Hub) receive(msgs <-chan any) {
	defer close(h.done)
	for m := range msgs {
		switch m := m.(type) {
		case *goredis.Message:
			h.deliver(m.Channel, []byte(m.Payload))
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				h.confirm(m.Channel)
			}
		}
	}
}

func (h *Hub) deliver(channel string, payload []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[channel]
	if t == nil {
		return
	}
	for s := range t.subs {
		select {
		case s.ch <- payload:
			continue
		default:
		}
		// Full: make room by dropping the oldest, so the newest always gets through.
		select {
		case <-s.ch:
		default:
		}
		select {
		case s.ch <- payload:
		default:
		}
	}
}

func (h *Hub) confirm(channel string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[channel]; t != nil && !t.confirmed {
		t.confirmed = true
		close(t.ready)
	}
}

// Publish sends payload to every subscriber of channel on every instance.
func (h *Hub) Publish(ctx context.Context, channel string, payload []byte) error {
	return h.client.Publish(ctx, h.client.Key(channel), payload).Err()
}

// Subscribe returns a Go channel that receives the payloads published on channel from now on,
// and a cancel func that ends the subscription and closes the Go channel. It fails only when the
// hub is closed: with Redis down the subscription is made as soon as Redis is back.
func (h *Hub) Subscribe(ctx context.Context, channel string) (<-chan []byte, func(), error) {
	full := h.client.Key(channel)
	s := &subscriber{ch: make(chan []byte, subscriberBuffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, nil, ErrHubClosed
	}
	t := h.topics[full]
	first := t == nil
	if first {
		t = &topic{subs: map[*subscriber]struct{}{}, ready: make(chan struct{})}
		h.topics[full] = t
	}
	t.subs[s] = struct{}{}
	ready := t.ready
	h.mu.Unlock()
	if first {
		h.sync(full)
	}
	timer := time.NewTimer(confirmWait)
	select {
	case <-ready:
	case <-timer.C:
	case <-ctx.Done():
	}
	timer.Stop()
	return s.ch, sync.OnceFunc(func() { h.unsubscribe(full, s) }), nil
}

func (h *Hub) unsubscribe(full string, s *subscriber) {
	h.mu.Lock()
	t := h.topics[full]
	last := false
	if t != nil {
		if _, ok := t.subs[s]; ok {
			delete(t.subs, s)
			close(s.ch)
		}
		if len(t.subs) == 0 {
			delete(h.topics, full)
			last = true
		}
	}
	h.mu.Unlock()
	if last {
		h.sync(full)
	}
}

// sync brings Redis's subscription of a channel in line with whether anyone here wants it.
func (h *Hub) sync(full string) {
	h.cmdMu.Lock()
	defer h.cmdMu.Unlock()
	h.mu.Lock()
	_, want := h.topics[full]
	closed := h.closed
	h.mu.Unlock()
	if closed || want == h.subscribed[full] {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	var err error
	if want {
		err = h.ps.Subscribe(ctx, full)
		h.subscribed[full] = true
	} else {
		err = h.ps.Unsubscribe(ctx, full)
		delete(h.subscribed, full)
	}
	// go-redis keeps the wanted set even when the command fails and replays it on reconnect.
	if err != nil {
		h.log.Warn("redis pub/sub command failed; it is retried on reconnect", "err", err, "subscribe", want)
	}
}

// Subscribers returns how many in-process subscribers channel has.
func (h *Hub) Subscribers(channel string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[h.client.Key(channel)]; t != nil {
		return len(t.subs)
	}
	return 0
}

// Close ends every subscription and the Redis connection.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for _, t := range h.topics {
		for s := range t.subs {
			close(s.ch)
		}
	}
	h.topics = map[string]*topic{}
	h.mu.Unlock()
	_ = h.ps.Close()
	<-h.done
}
