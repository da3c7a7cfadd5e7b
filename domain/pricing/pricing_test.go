package pricing

import (
	"errors"
	"testing"
	"time"

	"storefront/domain/money"
)

var (
	now      = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	standard = ShippingMethod{Code: "standard", Price: 499, FreeOver: 5000}
	express  = ShippingMethod{Code: "express", Price: 1499}
)

func TestPrice(t *testing.T) {
	t.Parallel()
	welcome := &Discount{Code: "WELCOME10", Kind: Percent, Value: 1000}
	cases := []struct {
		name string
		req  Request
		want Quote
	}{
		{
			name: "one line, standard shipping, no tax",
			req:  Request{Lines: []Line{{1, 2, 1000}}, Shipping: standard},
			want: Quote{Subtotal: 2000, Shipping: 499, Total: 2499},
		},
		{
			name: "free standard shipping from 50.00",
			req:  Request{Lines: []Line{{1, 5, 1000}}, Shipping: standard},
			want: Quote{Subtotal: 5000, Shipping: 0, Total: 5000},
		},
		{
			name: "just under the free shipping threshold",
			req:  Request{Lines: []Line{{1, 1, 4999}}, Shipping: standard},
			want: Quote{Subtotal: 4999, Shipping: 499, Total: 5498},
		},
		{
			name: "express is never free",
			req:  Request{Lines: []Line{{1, 10, 1000}}, Shipping: express},
			want: Quote{Subtotal: 10000, Shipping: 1499, Total: 11499},
		},
		{
			name: "discount brings goods under the free shipping threshold",
			req:  Request{Lines: []Line{{1, 1, 5000}}, Shipping: standard, Discount: welcome},
			want: Quote{Subtotal: 5000, Discount: 500, Shipping: 499, Total: 4999},
		},
		{
			name: "percent discount rounds half away from zero",
			// 10% of 12.35 = 1.235 → 1.24
			req:  Request{Lines: []Line{{1, 1, 1235}}, Shipping: express, Discount: welcome},
			want: Quote{Subtotal: 1235, Discount: 124, Shipping: 1499, Total: 2610},
		},
		{
			name: "fixed discount",
			req: Request{Lines: []Line{{1, 3, 1000}}, Shipping: standard,
				Discount: &Discount{Code: "FIVE", Kind: Fixed, Value: 500}},
			want: Quote{Subtotal: 3000, Discount: 500, Shipping: 499, Total: 2999},
		},
		{
			name: "fixed discount is capped at the subtotal",
			req: Request{Lines: []Line{{1, 1, 300}}, Shipping: express,
				Discount: &Discount{Code: "BIG", Kind: Fixed, Value: 1000}},
			want: Quote{Subtotal: 300, Discount: 300, Shipping: 1499, Total: 1499},
		},
		{
			name: "tax on goods after discount, not on shipping",
			// goods 18.00, 8.875% → 1.5975 → 1.60
			req:  Request{Lines: []Line{{1, 2, 1000}}, Shipping: standard, Discount: welcome, TaxRate: 888},
			want: Quote{Subtotal: 2000, Discount: 200, Shipping: 499, Tax: 160, Total: 2459},
		},
		{
			name: "tax rounds half away from zero on the whole order",
			// three lines of 0.05 at 10%: per line 0.005 each would round to 0.01 ×3 = 0.03; on the order 0.015 → 0.02
			req:  Request{Lines: []Line{{1, 1, 5}, {2, 1, 5}, {3, 1, 5}}, Shipping: express, TaxRate: 1000},
			want: Quote{Subtotal: 15, Tax: 2, Shipping: 1499, Total: 1516},
		},
		{
			name: "several lines add up",
			req:  Request{Lines: []Line{{1, 2, 1999}, {2, 1, 550}, {3, 4, 125}}, Shipping: standard, TaxRate: 2000},
			// subtotal 39.98+5.50+5.00 = 50.48 → free shipping; tax 20% = 10.096 → 10.10
			want: Quote{Subtotal: 5048, Shipping: 0, Tax: 1010, Total: 6058},
		},
	}
	for _, c := range cases {
		c.req.Now = now
		got, err := Price(c.req)
		if err != nil {
			t.Errorf("%s: unexpected error %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s:\n got  %+v\n want %+v", c.name, got, c.want)
		}
		if got.Total != got.Subtotal-got.Discount+got.Shipping+got.Tax {
			t.Errorf("%s: parts do not add up to the total: %+v", c.name, got)
		}
	}
}

func TestDiscountRules(t *testing.T) {
	t.Parallel()
	base := Discount{Code: "SAVE", Kind: Percent, Value: 1000}
	cases := []struct {
		name     string
		edit     func(d *Discount)
		subtotal money.Amount
		want     error
	}{
		{"valid", func(d *Discount) {}, 2000, nil},
		{"not started", func(d *Discount) { d.StartsAt = now.Add(time.Hour) }, 2000, ErrDiscountNotStarted},
		{"starts exactly now", func(d *Discount) { d.StartsAt = now }, 2000, nil},
		{"expired", func(d *Discount) { d.EndsAt = now.Add(-time.Second) }, 2000, ErrDiscountExpired},
		{"ends exactly now is expired", func(d *Discount) { d.EndsAt = now }, 2000, ErrDiscountExpired},
		{"inside the window", func(d *Discount) { d.StartsAt, d.EndsAt = now.Add(-time.Hour), now.Add(time.Hour) }, 2000, nil},
		{"below minimum", func(d *Discount) { d.MinSubtotal = 2500 }, 2000, ErrDiscountMinimum},
		{"exactly the minimum", func(d *Discount) { d.MinSubtotal = 2000 }, 2000, nil},
		{"used up", func(d *Discount) { d.UsageLimit, d.TimesUsed = 100, 100 }, 2000, ErrDiscountExhausted},
		{"one use left", func(d *Discount) { d.UsageLimit, d.TimesUsed = 100, 99 }, 2000, nil},
		{"customer limit reached", func(d *Discount) { d.PerCustomerLimit, d.CustomerUses = 1, 1 }, 2000, ErrDiscountCustomerLimit},
		{"customer limit not reached", func(d *Discount) { d.PerCustomerLimit, d.CustomerUses = 2, 1 }, 2000, nil},
	}
	for _, c := range cases {
		d := base
		c.edit(&d)
		_, err := d.Amount(c.subtotal, now)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v; want %v", c.name, err, c.want)
		}
		if c.want != nil && !errors.Is(err, ErrDiscountInvalid) {
			t.Errorf("%s: %v is not ErrDiscountInvalid", c.name, err)
		}
	}
}

func TestPriceRefusesBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Price(Request{Shipping: standard, Now: now}); !errors.Is(err, ErrNoLines) {
		t.Errorf("no lines: err = %v", err)
	}
	if _, err := Price(Request{Lines: []Line{{1, 0, 100}}, Shipping: standard, Now: now}); !errors.Is(err, ErrBadLine) {
		t.Errorf("zero quantity: err = %v", err)
	}
	if _, err := Price(Request{Lines: []Line{{1, 1, -1}}, Shipping: standard, Now: now}); !errors.Is(err, ErrBadLine) {
		t.Errorf("negative price: err = %v", err)
	}
	expired := &Discount{Code: "OLD", Kind: Percent, Value: 1000, EndsAt: now.Add(-time.Hour)}
	if _, err := Price(Request{Lines: []Line{{1, 1, 100}}, Shipping: standard, Discount: expired, Now: now}); !errors.Is(err, ErrDiscountExpired) {
		t.Errorf("expired code: err = %v", err)
	}
}

func TestTaxTable(t *testing.T) {
	t.Parallel()
	table := TaxTable{
		{Country: "US", Region: "CA", BasisPoints: 725},
		{Country: "US", Region: "NY", BasisPoints: 888},
		{Country: "DE", BasisPoints: 1900},
		{Country: "CA", BasisPoints: 500},
		{Country: "CA", Region: "ON", BasisPoints: 1300},
	}
	cases := []struct {
		country, region string
		want            int64
	}{
		{"US", "CA", 725},
		{"us", " ny ", 888},
		{"US", "OR", 0},
		{"US", "", 0},
		{"DE", "BY", 1900},
		{"DE", "", 1900},
		{"CA", "ON", 1300},
		{"CA", "QC", 500},
		{"FR", "", 0},
	}
	for _, c := range cases {
		if got := table.RateFor(c.country, c.region); got != c.want {
			t.Errorf("RateFor(%q, %q) = %d; want %d", c.country, c.region, got, c.want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	if got := NormalizeCode("  welcome10 "); got != "WELCOME10" {
		t.Errorf("NormalizeCode = %q", got)
	}
}
