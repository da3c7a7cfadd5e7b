package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestShoppersFillTheirFirstCartsOutOfStep: the shoppers of a rate run take turns in a fixed
// order, so if each first cart started empty they would all fill up, and create their next
// cart, on the same turn. Their first carts count as partly filled by differing amounts, and
// later carts start empty.
func TestShoppersFillTheirFirstCartsOutOfStep(t *testing.T) {
	t.Parallel()
	var created atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"data":{"cartCreate":{"cart":{"id":"cart-%d"}}}}`, created.Add(1))
	}))
	defer srv.Close()
	g := &generator{o: options{url: srv.URL}, http: srv.Client()}
	ctx := context.Background()

	const shoppers = 64
	seen := map[int]int{}
	for i := range shoppers {
		v := g.newVU(uint64(i + 1))
		if err := v.ensureCart(ctx); err != nil {
			t.Fatal(err)
		}
		if v.cartID == "" || v.adds < 0 || v.adds >= cartSize {
			t.Fatalf("shopper %d: cart %q with %d of %d lines counted", i, v.cartID, v.adds, cartSize)
		}
		seen[v.adds]++
		first := v.cartID
		v.adds = cartSize // full: the next add needs a new cart, which starts empty
		if err := v.ensureCart(ctx); err != nil {
			t.Fatal(err)
		}
		if v.cartID == first || v.adds != 0 {
			t.Fatalf("shopper %d: a full cart must be replaced by an empty one, got %q with %d", i, v.cartID, v.adds)
		}
	}
	// 64 shoppers over 8 starting points: in step would be one point for all.
	if len(seen) < cartSize/2 {
		t.Fatalf("first carts start at only %d distinct fill levels: %v", len(seen), seen)
	}
	if got := created.Load(); got != 2*shoppers {
		t.Fatalf("%d carts created, want %d", got, 2*shoppers)
	}
}
