// Package seed writes the demo data of API.md: a catalog, the demo accounts, the discount code and
// the shipping methods. Every step is idempotent, so `seed` can run on every `make run`.
package seed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options shape the demo data.
type Options struct {
	// Products is the size of the catalog; at least 200.
	Products int
}

// step is one idempotent part of the demo data.
type step struct {
	name string
	run  func(ctx context.Context, pool *pgxpool.Pool, opts Options) error
}

// steps run in order; later areas append theirs.
var steps []step

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
