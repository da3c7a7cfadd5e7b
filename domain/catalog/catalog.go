// Package catalog holds the rules of the product catalog: what a product, category and seller
// are, how a listing is filtered, sorted and paged, and how a shopper's search text is read. It
// knows neither GraphQL nor SQL: Repository is the store it needs, implemented in store/postgres.
package catalog

import (
	"time"

	"storefront/domain/money"
)

// Product is a product as the catalog shows it, with the stock and rating a listing needs, so
// one read answers a product card without further queries.
type Product struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	Price       money.Amount
	CategoryID  int64
	SellerID    int64
	// Published products are listed and found; unpublished ones stay reachable by id only, so
	// carts and orders that hold them keep working.
	Published bool
	// SoldCount is the number of units sold, for the BEST_SELLING sort.
	SoldCount int64
	CreatedAt time.Time
	Stock     Stock
	Rating    Rating
}

// Category is a node of the category tree. ParentID is 0 for a top-level category.
type Category struct {
	ID       int64
	ParentID int64
	Slug     string
	Name     string
	// Position orders siblings.
	Position int
}

// Seller is a merchant whose products the store lists.
type Seller struct {
	ID   int64
	Slug string
	Name string
}

// Image is a product picture. AltText is empty when none was written.
type Image struct {
	URL     string
	AltText string
}

// Stock is a product's inventory: OnHand units in the warehouse, Reserved of them held by unpaid
// orders.
type Stock struct {
	OnHand   int
	Reserved int
}

// Available is what a shopper may buy now; never negative.
func (s Stock) Available() int {
	if a := s.OnHand - s.Reserved; a > 0 {
		return a
	}
	return 0
}

// InStock reports whether at least one unit is available.
func (s Stock) InStock() bool { return s.Available() > 0 }

// Rating aggregates a product's reviews. AverageHundredths is the mean times 100 (450 = 4.50
// stars): an integer, so a page cursor compares it exactly.
type Rating struct {
	Count             int
	AverageHundredths int64
}

// Average is the mean rating, 0 when there are no reviews.
func (r Rating) Average() float64 { return float64(r.AverageHundredths) / 100 }
