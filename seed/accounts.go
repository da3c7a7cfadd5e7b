package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"storefront/domain/apperr"
	"storefront/domain/identity"
	"storefront/store/postgres"
)

func init() { register(10, "accounts", seedAccounts) }

// demoAccounts are the sign-ins API.md promises.
var demoAccounts = []struct {
	email, password, name string
	role                  identity.Role
}{
	{"customer@example.com", "customer-pass-1", "Demo Customer", identity.RoleCustomer},
	{"admin@example.com", "admin-pass-1", "Demo Admin", identity.RoleAdmin},
}

// seedAccounts creates the demo accounts that are missing and gives each its role. An existing
// account keeps its password: a demo user may have changed it on purpose.
func seedAccounts(ctx context.Context, pool *pgxpool.Pool, _ Options) error {
	hasher, err := identity.NewHasher(identity.OWASPParams)
	if err != nil {
		return err
	}
	users := postgres.NewUsers(pool)
	for _, a := range demoAccounts {
		u, err := users.UserByEmail(ctx, a.email)
		if errors.Is(err, apperr.ErrNotFound) {
			hash, herr := hasher.Hash(a.password)
			if herr != nil {
				return herr
			}
			u, err = users.CreateUser(ctx, identity.User{Email: a.email, Name: a.name, Role: a.role, PasswordHash: hash})
			if errors.Is(err, identity.ErrEmailTaken) {
				// Another seed run created it this instant.
				u, err = users.UserByEmail(ctx, a.email)
			}
		}
		if err != nil {
			return fmt.Errorf("account %s: %w", a.email, err)
		}
		if u.Role != a.role {
			if err := users.SetRole(ctx, u.ID, a.role); err != nil {
				return fmt.Errorf("account %s: %w", a.email, err)
			}
		}
	}
	return nil
}
