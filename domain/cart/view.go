package cart

import (
	"fmt"
	"time"

	"storefront/domain/money"
)

// View is a cart as shoppers see it: its lines priced at the catalog's current prices, with
// totals and warnings.
type View struct {
	ID            string
	UserID        int64
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Lines         []PricedLine
	TotalQuantity int
	Subtotal      money.Amount
	Warnings      []Warning
}

// PricedLine is a line with its current price.
type PricedLine struct {
	Line
	UnitPrice money.Amount
	LineTotal money.Amount
}

// Price builds the view of c from current product data. Lines whose product is no longer sold
// are left out of the view (and totals) with a warning, but stay stored, so they come back if the
// product does. A line whose price changed since it was added, or that exceeds today's stock,
// carries a warning.
func Price(c Cart, products map[int64]Product) View {
	v := View{ID: c.ID, UserID: c.UserID, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Lines: make([]PricedLine, 0, len(c.Lines)), Warnings: []Warning{}}
	for _, l := range c.Lines {
		p, ok := products[l.ProductID]
		if !ok {
			continue // deleted from the catalog; its line goes with it
		}
		if !p.Published {
			v.Warnings = append(v.Warnings, Warning{Code: WarnLineDropped, LineID: l.ID, ProductID: l.ProductID,
				Message: "a product in the cart is no longer sold"})
			continue
		}
		pl := PricedLine{Line: l, UnitPrice: p.Price, LineTotal: p.Price.Mul(l.Quantity)}
		v.Lines = append(v.Lines, pl)
		v.TotalQuantity += l.Quantity
		v.Subtotal += pl.LineTotal
		if p.Price != l.AddedUnitPrice {
			v.Warnings = append(v.Warnings, Warning{Code: WarnPriceChanged, LineID: l.ID, ProductID: l.ProductID,
				Message: fmt.Sprintf("the price changed from %s to %s since it was added", l.AddedUnitPrice, p.Price)})
		}
		if l.Quantity > p.Available {
			v.Warnings = append(v.Warnings, Warning{Code: WarnOutOfStock, LineID: l.ID, ProductID: l.ProductID,
				Message: fmt.Sprintf("only %d available, %d in the cart", max(p.Available, 0), l.Quantity)})
		}
	}
	return v
}

// ProductIDs returns the distinct product ids of the cart's lines.
func (c *Cart) ProductIDs() []int64 {
	ids := make([]int64, 0, len(c.Lines))
	for _, l := range c.Lines {
		ids = append(ids, l.ProductID)
	}
	return ids
}
