// Package stream lets the producer of a channel tell its consumer when a value is waiting, so a
// consumer that serves many channels at once (a websocket server with thousands of
// subscriptions) needs no goroutine parked on each of them.
//
// The consumer puts a Notifier in the context it hands to the code that makes the channel. A
// producer that supports it calls Notify after each send into an empty channel and after closing
// the channel, and Attach once the channel is handed over; the consumer then reads the channel
// only after a notification, one value per notification. A producer that ignores the Notifier
// leaves it unattached, and the consumer waits on the channel as usual.
package stream

import (
	"context"
	"sync/atomic"
)

// Notifier carries the consumer's callback to the producer.
type Notifier struct {
	notify   func()
	attached atomic.Bool
}

// NewNotifier returns a Notifier that calls notify for each value the producer makes ready.
// notify must not block: it is called from the producer's goroutine, often under its locks.
func NewNotifier(notify func()) *Notifier {
	return &Notifier{notify: notify}
}

type notifierKey struct{}

// WithNotifier returns ctx carrying n.
func WithNotifier(ctx context.Context, n *Notifier) context.Context {
	return context.WithValue(ctx, notifierKey{}, n)
}

// From returns the Notifier in ctx, or nil. Its methods are safe to call on nil.
func From(ctx context.Context) *Notifier {
	n, _ := ctx.Value(notifierKey{}).(*Notifier)
	return n
}

// Notify tells the consumer that one more value (or the channel's close) is ready.
func (n *Notifier) Notify() {
	if n != nil {
		n.notify()
	}
}

// Attach records that the producer will call Notify for everything it sends on the channel it
// is about to return, including notifications already made.
func (n *Notifier) Attach() {
	if n != nil {
		n.attached.Store(true)
	}
}

// Attached reports whether the producer called Attach.
func (n *Notifier) Attached() bool {
	return n != nil && n.attached.Load()
}
