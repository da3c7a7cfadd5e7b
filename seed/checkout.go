package seed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

func init() {
	register(30, "checkout settings", func(ctx context.Context, pool *pgxpool.Pool, _ Options) error {
		return CheckoutSettings(ctx, pool)
	})
}

// taxRates are demo rates in basis points: a few US states (no country-wide US rate) and a few
// countries with one national rate.
var taxRates = []struct {
	country, region string
	basisPoints     int
}{
	{"US", "CA", 725}, {"US", "NY", 400}, {"US", "TX", 625}, {"US", "WA", 650}, {"US", "FL", 600},
	{"US", "IL", 625}, {"US", "MA", 625}, {"US", "NJ", 663}, {"US", "PA", 600}, {"US", "GA", 400},
	{"CA", "", 500}, {"CA", "ON", 1300},
	{"GB", "", 2000}, {"DE", "", 1900}, {"FR", "", 2000}, {"NL", "", 2100}, {"AU", "", 1000},
}

// CheckoutSettings writes what checkout needs to price orders: the shipping methods (standard
// 4.99, free from 50.00; express 14.99), the tax rates and the discount code WELCOME10 (10% off).
// Existing rows are left as they are, so an operator's edits survive a re-seed.
func CheckoutSettings(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `INSERT INTO shipping_methods (code, name, price, free_over, position) VALUES
		('standard', 'Standard (3-5 business days)', 499, 5000, 1),
		('express', 'Express (1-2 business days)', 1499, NULL, 2)
		ON CONFLICT (code) DO NOTHING`); err != nil {
		return fmt.Errorf("shipping methods: %w", err)
	}
	for _, r := range taxRates {
		if _, err := pool.Exec(ctx, `INSERT INTO tax_rates (country, region, basis_points) VALUES ($1, $2, $3)
			ON CONFLICT (country, region) DO NOTHING`, r.country, r.region, r.basisPoints); err != nil {
			return fmt.Errorf("tax rates: %w", err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO discount_codes (code, kind, value) VALUES ('WELCOME10', 'PERCENT', 1000)
		ON CONFLICT (code) DO NOTHING`); err != nil {
		return fmt.Errorf("discount codes: %w", err)
	}
	return nil
}
