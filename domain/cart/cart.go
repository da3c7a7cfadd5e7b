// Package cart holds the rules of shopping carts: who may see and change a cart, the per-line and
// per-cart limits, how lines are added, updated and removed (each line all or nothing, the rest of
// a batch still applied), how a guest cart merges into a user's cart on sign-in, and how a cart is
// priced live from the catalog. Storage, caching and live updates are ports declared here and
// implemented in store/.
package cart

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"storefront/domain/money"
)

// Status is where a cart is in its life. Only ACTIVE carts can be read or changed through the
// API; the others are kept for the record until the expiry sweep removes them.
type Status string

// Cart statuses, as stored in carts.status.
const (
	StatusActive     Status = "ACTIVE"
	StatusMerged     Status = "MERGED"
	StatusCheckedOut Status = "CHECKED_OUT"
)

// Cart is the stored state of a cart: who owns it and what is in it. Prices here are the ones seen
// when each line was added; current prices come from the catalog when the cart is read.
type Cart struct {
	// ID is at least 128 random bits; for a guest cart it is also the key that grants access.
	ID string
	// UserID owns the cart; 0 for a guest cart.
	UserID int64
	Status Status
	// Version is bumped by every write, so caches can refuse to go backwards.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	Lines     []Line
}

// Line is one product in a cart. A cart holds each product at most once.
type Line struct {
	// ID is 0 until the store has written the line.
	ID        int64
	ProductID int64
	Quantity  int
	// AddedUnitPrice is the catalog price when the product was last added, to tell the shopper
	// when it changed since.
	AddedUnitPrice money.Amount
}

// IsGuest reports whether no user owns the cart.
func (c *Cart) IsGuest() bool { return c.UserID == 0 }

// VisibleTo reports whether the caller may read and change the cart: anyone holding a guest
// cart's id, and only the owner for a user's cart. Carts no longer active are visible to no one.
func (c *Cart) VisibleTo(caller Caller) bool {
	if c.Status != StatusActive {
		return false
	}
	return c.IsGuest() || c.UserID == caller.UserID
}

// line returns the index of the line holding productID, or -1.
func (c *Cart) line(productID int64) int {
	for i, l := range c.Lines {
		if l.ProductID == productID {
			return i
		}
	}
	return -1
}

// lineByID returns the index of the line with the given id, or -1.
func (c *Cart) lineByID(id int64) int {
	for i, l := range c.Lines {
		if l.ID == id {
			return i
		}
	}
	return -1
}

// Caller is who asks: a signed-in user or a guest (UserID 0).
type Caller struct {
	UserID int64
}

// Product is what the cart needs to know of a catalog product: its current price, whether it
// is on sale at all, and how many can still be bought.
type Product struct {
	ID        int64
	Price     money.Amount
	Published bool
	Available int
}

// Limits bound a cart. Quantities are 1..MaxQuantity per line and a cart has at most MaxLines
// lines, so a cart stays cheap to store, price and send.
type Limits struct {
	MaxQuantity int
	MaxLines    int
}

// DefaultLimits are the store's limits unless configured otherwise.
var DefaultLimits = Limits{MaxQuantity: 99, MaxLines: 100}

// MaxBatch is the most lines one call may add, update or remove.
const MaxBatch = 100

// NewID returns a fresh cart id: 144 random bits from crypto/rand, base64url without padding.
// A guest cart's id is its only key, so it must be unguessable.
func NewID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new cart id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidID reports whether s could be a cart id (base64url, 22 to 64 characters), so obviously
// wrong ids are refused before any storage is asked.
func ValidID(s string) bool {
	if len(s) < 22 || len(s) > 64 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
