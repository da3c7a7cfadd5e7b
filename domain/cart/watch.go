package cart

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"storefront/domain/apperr"
	"storefront/domain/stream"
)

// A feed is this instance's one subscription to a cart's change notices, shared by every
// watcher of that cart here. One goroutine per watched cart reads each change once and hands the
// priced cart to every watcher; watchers themselves hold only a buffered channel. Ten thousand
// shoppers watching one cart thus cost one read per change, not ten thousand, and no goroutine
// each beyond what the transport needs.
type feed struct {
	id string
	// ready is closed once the feed's notice subscription is made (or failed, in err).
	ready chan struct{}
	err   error

	// The rest is guarded by Service.feedsMu.
	watchers map[*watcher]struct{}
	stop     func() // ends the notice subscription; the feed's goroutine then exits
}

// A watcher is one subscriber: push converts and sends a cart to it, keeping only the newest
// when it has not taken the last one yet; end closes its channel. Both run under feedsMu, so a
// push never races the close.
type watcher struct {
	caller Caller
	push   func(View)
	end    func()
	// stopWatch releases the context.AfterFunc that removes the watcher when its context ends;
	// nil until Watch has checked access. Guarded by feedsMu.
	stopWatch func() bool
}

// feedReadTimeout bounds one read of a changed cart by a feed, which runs on no request's
// context.
const feedReadTimeout = 5 * time.Second

// Watch streams the cart, converted by convert, after each change until ctx ends or the caller
// can no longer see it (merged into a user's cart, checked out, expired); then the channel is
// closed. Each change is read afresh, once per instance, and priced for everyone watching; a
// watcher that has not yet taken the previous cart gets only the newest.
func Watch[T any](s *Service, ctx context.Context, caller Caller, id string, convert func(View) T) (<-chan T, error) {
	out := make(chan T, 1)
	// A consumer that asked for notifications is told of every cart put into an empty channel
	// and of the close; a cart that replaces one not yet taken was already announced.
	n := stream.From(ctx)
	w := &watcher{caller: caller}
	w.push = func(v View) {
		t := convert(v)
		select {
		case out <- t:
			n.Notify()
			return
		default:
		}
		select { // full: drop the older cart for the newer one
		case <-out:
			out <- t // only this watcher's feed sends, under feedsMu: there is room
			return
		default:
		}
		// The consumer took the older cart meanwhile: the channel is empty again.
		out <- t
		n.Notify()
	}
	w.end = func() {
		close(out)
		n.Notify()
	}
	f, err := s.join(ctx, id, w)
	if err != nil {
		return nil, err
	}
	// Joined before checking access, so no change between the two is missed.
	if _, err := s.Get(ctx, caller, id); err != nil {
		s.leave(f, w)
		return nil, err
	}
	s.feedsMu.Lock()
	if _, still := f.watchers[w]; still { // else the feed already ended it and closed out
		w.stopWatch = context.AfterFunc(ctx, func() { s.leave(f, w) })
	}
	s.feedsMu.Unlock()
	n.Attach()
	return out, nil
}

// Subscribe is Watch without conversion.
func (s *Service) Subscribe(ctx context.Context, caller Caller, id string) (<-chan View, error) {
	return Watch(s, ctx, caller, id, func(v View) View { return v })
}

// join adds w to the cart's feed, starting the feed if the cart has none on this instance.
func (s *Service) join(ctx context.Context, id string, w *watcher) (*feed, error) {
	s.feedsMu.Lock()
	f := s.feeds[id]
	starting := f == nil
	if starting {
		f = &feed{id: id, ready: make(chan struct{}), watchers: map[*watcher]struct{}{}}
		if s.feeds == nil {
			s.feeds = map[string]*feed{}
		}
		s.feeds[id] = f
	}
	f.watchers[w] = struct{}{}
	s.feedsMu.Unlock()

	if starting {
		msgs, stop, err := s.events.Subscribe(ctx, channel(id))
		s.feedsMu.Lock()
		if err != nil {
			f.err = fmt.Errorf("subscribe to cart: %w", err)
			if s.feeds[id] == f {
				delete(s.feeds, id)
			}
		} else {
			f.stop = stop
			if len(f.watchers) == 0 { // everyone left while the subscription was being made
				s.retire(f)
			}
		}
		close(f.ready)
		s.feedsMu.Unlock()
		if err == nil {
			go s.runFeed(f, msgs)
		}
	}
	select {
	case <-f.ready:
	case <-ctx.Done():
		s.leave(f, w)
		return nil, ctx.Err()
	}
	if f.err != nil {
		s.feedsMu.Lock()
		delete(f.watchers, w)
		s.feedsMu.Unlock()
		return nil, f.err
	}
	return f, nil
}

// leave removes w from its feed and closes its channel; the last watcher to leave ends the feed.
// It is safe to call more than once.
func (s *Service) leave(f *feed, w *watcher) {
	s.feedsMu.Lock()
	defer s.feedsMu.Unlock()
	if _, ok := f.watchers[w]; !ok {
		return
	}
	f.drop(w)
	if len(f.watchers) == 0 && f.stop != nil {
		s.retire(f)
	}
}

// drop removes w from the feed and closes its channel. Called with feedsMu held.
func (f *feed) drop(w *watcher) {
	delete(f.watchers, w)
	w.end()
	if w.stopWatch != nil {
		w.stopWatch()
	}
}

// retire ends a feed without watchers: a later watcher of the cart starts a new one. Called with
// feedsMu held.
func (s *Service) retire(f *feed) {
	if s.feeds[f.id] == f {
		delete(s.feeds, f.id)
	}
	stop := f.stop
	f.stop = nil
	if stop != nil {
		go stop() // the hub takes its own locks; never under feedsMu
	}
}

// runFeed reads the cart after each notice newer than the last it read and hands it to the
// feed's watchers, until the notice subscription ends.
func (s *Service) runFeed(f *feed, msgs <-chan []byte) {
	var last int64
	for msg := range msgs {
		version, _ := strconv.ParseInt(string(msg), 10, 64)
		if version <= last {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), feedReadTimeout)
		c, products, err := s.read(ctx, f.id, version)
		cancel()
		if errors.Is(err, apperr.ErrNotFound) {
			s.endFeed(f)
			return
		}
		if err != nil {
			s.log.Warn("cart subscription: reload failed", "cart", f.id, "err", err)
			continue
		}
		last = c.Version
		v := Price(c, products)
		s.feedsMu.Lock()
		for w := range f.watchers {
			if !c.VisibleTo(w.caller) {
				f.drop(w)
				continue
			}
			w.push(v)
		}
		if len(f.watchers) == 0 && f.stop != nil {
			s.retire(f)
		}
		s.feedsMu.Unlock()
	}
	s.endFeed(f) // the hub closed: nothing more will come
}

// endFeed ends every watcher of a feed whose cart is gone.
func (s *Service) endFeed(f *feed) {
	s.feedsMu.Lock()
	defer s.feedsMu.Unlock()
	for w := range f.watchers {
		f.drop(w)
	}
	if f.stop != nil {
		s.retire(f)
	}
}

// WatchStats returns how many carts are watched on this instance and by how many watchers in
// all: with many shoppers on one cart the first stays small, and so does the work per change.
func (s *Service) WatchStats() (carts, watchers int) {
	s.feedsMu.Lock()
	defer s.feedsMu.Unlock()
	for _, f := range s.feeds {
		carts++
		watchers += len(f.watchers)
	}
	return carts, watchers
}
