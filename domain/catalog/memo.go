package catalog

import (
	"context"
	"sync"
)

// productMemo holds products a request already read as part of other work, for its next
// ProductsByIDs.
type productMemo struct {
	mu       sync.Mutex
	products map[int64]Product
}

type productMemoKey struct{}

// WithProductMemo returns a context in which a store that reads whole product rows along with its
// own work may leave them (RememberProducts) for the request's next ProductsByIDs, which then
// answers from them instead of reading them again. A cart change uses it: its transaction reads
// the lines' products to price them, and the answer shows the same products.
func WithProductMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, productMemoKey{}, &productMemo{})
}

// WantsProducts reports whether ctx carries a memo, so a store reads whole rows only when they
// will be used.
func WantsProducts(ctx context.Context) bool {
	_, ok := ctx.Value(productMemoKey{}).(*productMemo)
	return ok
}

// RememberProducts leaves ps in ctx's memo, replacing what it held; without a memo it does
// nothing.
func RememberProducts(ctx context.Context, ps []Product) {
	m, ok := ctx.Value(productMemoKey{}).(*productMemo)
	if !ok {
		return
	}
	byID := make(map[int64]Product, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	m.mu.Lock()
	m.products = byID
	m.mu.Unlock()
}

// takeRemembered moves the remembered products among ids into out and returns the ids it did not
// hold. The memo is emptied: it answers one read, the one right after the work that filled it,
// so nothing later in the request sees rows older than a fresh read would give.
func takeRemembered(ctx context.Context, ids []int64, out map[int64]Product) (rest []int64) {
	m, ok := ctx.Value(productMemoKey{}).(*productMemo)
	if !ok {
		return ids
	}
	m.mu.Lock()
	held := m.products
	m.products = nil
	m.mu.Unlock()
	if held == nil {
		return ids
	}
	for _, id := range ids {
		if p, ok := held[id]; ok {
			out[id] = p
		} else {
			rest = append(rest, id)
		}
	}
	return rest
}
