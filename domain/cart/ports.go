package cart

import (
	"context"
	"time"
)

// Catalog answers the cart's questions about products in one batched read: current price,
// whether it is sold, and how many are available. Products missing from the map do not exist.
type Catalog interface {
	Products(ctx context.Context, ids []int64) (map[int64]Product, error)
}

// UpdateFunc changes a cart inside the store's transaction. catalog reads in that same
// transaction. Returning an error rolls the whole change back.
type UpdateFunc func(ctx context.Context, c *Cart, catalog Catalog) error

// Store keeps carts durably (Postgres: the truth). Every write bumps the cart's version and
// serialises with other writes to the same cart, so concurrent changes never lose each other.
type Store interface {
	// Get returns the cart with its lines, or apperr.ErrNotFound.
	Get(ctx context.Context, id string) (Cart, error)
	// VersionAndProducts returns the cart's current version and the products, in one round
	// trip: a cached cart is priced and checked for staleness at the cost of a single query. It
	// returns apperr.ErrNotFound when the cart is gone.
	VersionAndProducts(ctx context.Context, id string, productIDs []int64) (int64, map[int64]Product, error)
	// ActiveForUser returns the user's active cart, or apperr.ErrNotFound.
	ActiveForUser(ctx context.Context, userID int64) (Cart, error)
	// CartOfLine returns the id of the cart that holds the line, or apperr.ErrNotFound.
	CartOfLine(ctx context.Context, lineID int64) (string, error)
	// CreateGuest creates a guest cart with id and applies fn to it, in one transaction;
	// productIDs are as for Update.
	CreateGuest(ctx context.Context, id string, productIDs []int64, fn UpdateFunc) (Cart, error)
	// UpdateForUser applies fn to the user's active cart, creating it with newID when the user
	// has none, in one transaction; productIDs are as for Update.
	UpdateForUser(ctx context.Context, userID int64, newID string, productIDs []int64, fn UpdateFunc) (Cart, error)
	// Update locks the cart, applies fn and writes what fn changed, or apperr.ErrNotFound.
	// productIDs are the products fn will ask about besides those of the cart's lines: the store
	// may read them all with the cart, in the same round trip, for fn's catalog to answer from.
	Update(ctx context.Context, id string, productIDs []int64, fn UpdateFunc) (Cart, error)
	// Merge locks the guest cart and the user's active cart (created with newID when missing),
	// applies fn to both and writes both, in one transaction. It returns both as written.
	Merge(ctx context.Context, guestID string, userID int64, newID string,
		fn func(ctx context.Context, guest, user *Cart, catalog Catalog) error) (guest, user Cart, err error)
	// DeleteGuestCartsBefore deletes up to limit guest carts last changed before cutoff and
	// returns their ids.
	DeleteGuestCartsBefore(ctx context.Context, cutoff time.Time, limit int) ([]string, error)
}

// Cache serves cart reads (Redis). It is optional in the sense that every operation works
// without it: on any cache error the service goes to the Store and carries on.
type Cache interface {
	// Get returns the cached cart; found is false on a miss.
	Get(ctx context.Context, id string) (c Cart, found bool, err error)
	// Put stores c unless the cache already holds this version or a newer one.
	Put(ctx context.Context, c Cart) error
	// PutAndPublish stores c as Put does and then, in the same round trip, publishes payload on
	// channel to every instance's Events subscribers (whether or not c was stored: an entry
	// holding a newer version was announced by its own writer). A subscriber woken by the
	// notice finds the new version cached.
	PutAndPublish(ctx context.Context, c Cart, channel string, payload []byte) error
	// Delete drops the cached carts.
	Delete(ctx context.Context, ids ...string) error
}

// Events delivers "this cart changed" notices between server instances (Redis pub/sub); they
// are sent by Cache.PutAndPublish, in the round trip that caches the change.
type Events interface {
	// Subscribe delivers the payloads published on channel until cancel is called.
	Subscribe(ctx context.Context, channel string) (msgs <-chan []byte, cancel func(), err error)
}
