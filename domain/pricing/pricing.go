// Package pricing computes what an order costs: subtotal from current catalog prices, one discount
// code, a shipping method and tax by destination. It is pure (no I/O): the checkout service loads
// prices, the code, the methods and the tax rate, and this package does the arithmetic.
//
// Everything is in integer minor units (money.Amount). The one rounding rule is
// money.Amount.Percent's: half away from zero, to the nearest minor unit, applied once per
// percentage on the order as a whole (never per line), so the parts always add up to the total:
//
//	subtotal = Σ unit price × quantity
//	discount = subtotal × percent (rounded), or the fixed amount capped at the subtotal
//	goods    = subtotal − discount
//	shipping = method price, or 0 when goods ≥ the method's free-over threshold
//	tax      = goods × destination rate (rounded); shipping is not taxed
//	total    = goods + shipping + tax
package pricing

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"storefront/domain/money"
)

// Line is one product line to price: the quantity and the catalog's current unit price.
type Line struct {
	ProductID int64
	Quantity  int
	UnitPrice money.Amount
}

// Total is the line's unit price times its quantity.
func (l Line) Total() money.Amount { return l.UnitPrice.Mul(l.Quantity) }

// ShippingMethod is a way to ship an order and its price.
type ShippingMethod struct {
	Code  string
	Name  string
	Price money.Amount
	// FreeOver, when positive, makes shipping free for orders whose goods (after discount) reach it.
	FreeOver money.Amount
}

// Cost returns the shipping price for goods worth the given amount.
func (m ShippingMethod) Cost(goods money.Amount) money.Amount {
	if m.FreeOver > 0 && goods >= m.FreeOver {
		return 0
	}
	return m.Price
}

// DiscountKind says how a discount's Value is read.
type DiscountKind string

// Discount kinds.
const (
	// Percent discounts take Value basis points (1000 = 10%) off the subtotal.
	Percent DiscountKind = "PERCENT"
	// Fixed discounts take Value minor units off the subtotal, never more than the subtotal.
	Fixed DiscountKind = "FIXED"
)

// Discount is a discount code with its rules and how often it has been used.
type Discount struct {
	Code  string
	Kind  DiscountKind
	Value int64
	// MinSubtotal is the subtotal an order needs for the code to apply; 0 for none.
	MinSubtotal money.Amount
	// StartsAt and EndsAt bound when the code is valid; zero times leave that side open.
	// EndsAt is exclusive.
	StartsAt, EndsAt time.Time
	// UsageLimit caps redemptions by everyone, PerCustomerLimit by one customer; 0 is no cap.
	UsageLimit       int
	PerCustomerLimit int
	// TimesUsed counts redemptions by everyone, CustomerUses by the customer checking out.
	TimesUsed    int
	CustomerUses int
}

// NormalizeCode is the canonical form codes are stored and looked up in: trimmed, upper case.
func NormalizeCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// Reasons a discount code does not apply. All of them are ErrDiscountInvalid.
var (
	ErrDiscountInvalid       = errors.New("discount code does not apply")
	ErrDiscountUnknown       = fmt.Errorf("%w: no such code", ErrDiscountInvalid)
	ErrDiscountNotStarted    = fmt.Errorf("%w: not valid yet", ErrDiscountInvalid)
	ErrDiscountExpired       = fmt.Errorf("%w: expired", ErrDiscountInvalid)
	ErrDiscountMinimum       = fmt.Errorf("%w: the subtotal is below the code's minimum", ErrDiscountInvalid)
	ErrDiscountExhausted     = fmt.Errorf("%w: the code has been used up", ErrDiscountInvalid)
	ErrDiscountCustomerLimit = fmt.Errorf("%w: you have already used this code", ErrDiscountInvalid)
)

// ErrNoLines is returned for an order without lines; ErrBadLine for a line that cannot be priced.
var (
	ErrNoLines = errors.New("nothing to price")
	ErrBadLine = errors.New("a line has a non-positive quantity or a negative price")
)

// Amount returns what the discount takes off a subtotal, after checking every rule at now.
func (d Discount) Amount(subtotal money.Amount, now time.Time) (money.Amount, error) {
	switch {
	case !d.StartsAt.IsZero() && now.Before(d.StartsAt):
		return 0, ErrDiscountNotStarted
	case !d.EndsAt.IsZero() && !now.Before(d.EndsAt):
		return 0, ErrDiscountExpired
	case d.UsageLimit > 0 && d.TimesUsed >= d.UsageLimit:
		return 0, ErrDiscountExhausted
	case d.PerCustomerLimit > 0 && d.CustomerUses >= d.PerCustomerLimit:
		return 0, ErrDiscountCustomerLimit
	case subtotal < d.MinSubtotal:
		return 0, ErrDiscountMinimum
	}
	var off money.Amount
	switch d.Kind {
	case Percent:
		off = subtotal.Percent(d.Value)
	case Fixed:
		off = money.Amount(d.Value)
	default:
		return 0, fmt.Errorf("discount %s: unknown kind %q", d.Code, d.Kind)
	}
	if off > subtotal {
		off = subtotal
	}
	if off < 0 {
		off = 0
	}
	return off, nil
}

// TaxRate is the rate, in basis points, of a country or of one region of it. Region "" covers the
// whole country.
type TaxRate struct {
	Country     string
	Region      string
	BasisPoints int64
}

// TaxTable finds the rate for a destination: the region's own rate when there is one, else the
// country's, else none.
type TaxTable []TaxRate

// RateFor returns the basis points charged on goods shipped to country and region.
func (t TaxTable) RateFor(country, region string) int64 {
	country, region = strings.ToUpper(strings.TrimSpace(country)), strings.ToUpper(strings.TrimSpace(region))
	var countryWide int64
	for _, r := range t {
		if !strings.EqualFold(r.Country, country) {
			continue
		}
		if r.Region == "" {
			countryWide = r.BasisPoints
		} else if region != "" && strings.EqualFold(r.Region, region) {
			return r.BasisPoints
		}
	}
	return countryWide
}

// Request is everything an order's price depends on.
type Request struct {
	Lines    []Line
	Shipping ShippingMethod
	// Discount is the code the customer entered, nil for none (one code per order).
	Discount *Discount
	// TaxRate is the destination's rate in basis points (see TaxTable.RateFor).
	TaxRate int64
	// Now decides whether the discount code is within its validity window.
	Now time.Time
}

// Quote is an order's price, every part in minor units.
type Quote struct {
	Subtotal money.Amount
	Discount money.Amount
	Shipping money.Amount
	Tax      money.Amount
	Total    money.Amount
}

// Price computes the quote for req, or says why it cannot (a bad line, a code that does not apply).
func Price(req Request) (Quote, error) {
	if len(req.Lines) == 0 {
		return Quote{}, ErrNoLines
	}
	var q Quote
	for _, l := range req.Lines {
		if l.Quantity <= 0 || l.UnitPrice < 0 {
			return Quote{}, ErrBadLine
		}
		q.Subtotal += l.Total()
	}
	if req.Discount != nil {
		off, err := req.Discount.Amount(q.Subtotal, req.Now)
		if err != nil {
			return Quote{}, err
		}
		q.Discount = off
	}
	goods := q.Subtotal - q.Discount
	q.Shipping = req.Shipping.Cost(goods)
	q.Tax = goods.Percent(req.TaxRate)
	q.Total = goods + q.Shipping + q.Tax
	return q, nil
}
