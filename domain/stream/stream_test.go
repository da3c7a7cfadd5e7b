package stream

import (
	"context"
	"testing"
)

func TestNotifierTravelsInTheContext(t *testing.T) {
	calls := 0
	n := NewNotifier(func() { calls++ })
	ctx := WithNotifier(context.Background(), n)
	got := From(ctx)
	if got != n || got.Attached() {
		t.Fatalf("From = %p attached %v; want %p, not attached", got, got.Attached(), n)
	}
	got.Notify()
	got.Attach()
	if calls != 1 || !n.Attached() {
		t.Fatalf("calls %d, attached %v; want 1, true", calls, n.Attached())
	}
}

func TestAbsentNotifierIsANoOp(t *testing.T) {
	n := From(context.Background())
	n.Notify()
	n.Attach()
	if n != nil || n.Attached() {
		t.Fatal("a context without a Notifier must give a nil, never attached Notifier")
	}
}
