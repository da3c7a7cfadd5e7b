package seed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/identity"
)

func init() { register(15, "bench users", seedBenchUsers) }

// BenchPassword is the password of every load-test account.
const BenchPassword = "bench-pass-1"

// BenchEmail is the address of the n-th load-test account, counting from 1.
func BenchEmail(n int) string { return fmt.Sprintf("bench-%04d@example.com", n) }

// seedBenchUsers creates the load-test accounts that are missing. They share one password, so
// the argon2id hash is computed once: hashing a thousand passwords at the production cost would
// take most of a minute for no benefit, while each login still verifies at that cost.
func seedBenchUsers(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	if opts.Users <= 0 {
		return nil
	}
	hasher, err := identity.NewHasher(identity.OWASPParams)
	if err != nil {
		return err
	}
	hash, err := hasher.Hash(BenchPassword)
	if err != nil {
		return err
	}
	rows := make([][]any, 0, opts.Users)
	for n := 1; n <= opts.Users; n++ {
		rows = append(rows, []any{BenchEmail(n), fmt.Sprintf("Bench User %d", n), hash})
	}
	batch := &pgx.Batch{}
	for _, r := range rows {
		batch.Queue(`INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, 'CUSTOMER')
			ON CONFLICT (email) DO NOTHING`, r...)
	}
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("insert bench users: %w", err)
	}
	return nil
}
