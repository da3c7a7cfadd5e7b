package seed

import (
	"context"
	"testing"

	"storefront/domain/identity"
	"storefront/store/postgres"
	"storefront/testsupport"
)

func TestSeedAccountsIsIdempotentAndSignsIn(t *testing.T) {
	t.Parallel()
	pool, _ := testsupport.NewPool(t)
	ctx := context.Background()
	for range 2 {
		if err := seedAccounts(ctx, pool, Options{}); err != nil {
			t.Fatalf("seed accounts: %v", err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != len(demoAccounts) {
		t.Fatalf("%d users (%v); want %d", n, err, len(demoAccounts))
	}
	hasher, _ := identity.NewHasher(identity.OWASPParams)
	users := postgres.NewUsers(pool)
	for _, a := range demoAccounts {
		u, err := users.UserByEmail(ctx, a.email)
		if err != nil {
			t.Fatalf("%s: %v", a.email, err)
		}
		if ok, err := hasher.Verify(a.password, u.PasswordHash); !ok || err != nil || u.Role != a.role {
			t.Errorf("%s: password ok %v (%v), role %s; want true, %s", a.email, ok, err, u.Role, a.role)
		}
	}
}
