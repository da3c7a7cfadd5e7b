// Package seed writes the demo data of API.md: a catalog, the demo accounts, the discount code and
// the shipping methods. Every step is idempotent, so `seed` can run on every `make run`.
package seed

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options shape the demo data.
type Options struct {
	// Products is the size of the catalog; at least 200.
	Products int
	// Users is how many load-test accounts (bench-0001@example.com … with password
	// BenchPassword) to create beside the demo accounts; 0 for none.
	Users int
}

// step is one idempotent part of the demo data.
type step struct {
	order int
	name  string
	run   func(ctx context.Context, pool *pgxpool.Pool, opts Options) error
}

// steps run by ascending order: each area registers its part from an init function.
var steps []step

// register adds a part of the demo data. Lower orders run first (accounts 10, catalog 20,
// checkout settings 30), so a part may rely on those before it.
func register(order int, name string, run func(ctx context.Context, pool *pgxpool.Pool, opts Options) error) {
	steps = append(steps, step{order: order, name: name, run: run})
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].order < steps[j].order })
}

// Run writes every part of the demo data that is missing.
func Run(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	if opts.Products < 200 {
		opts.Products = 200
	}
	for _, s := range steps {
		if err := s.run(ctx, pool, opts); err != nil {
			return fmt.Errorf("seed %s: %w", s.name, err)
		}
	}
	return nil
}
