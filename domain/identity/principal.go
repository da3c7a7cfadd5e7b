// Package identity holds who is calling: users, roles, sessions and the rules for signing in.
package identity

import "context"

// Role is what a signed-in user may do.
type Role string

// Roles of the store.
const (
	RoleCustomer Role = "CUSTOMER"
	RoleAdmin    Role = "ADMIN"
)

// Principal is the authenticated caller of one request: the user and the session the access
// token names. A guest request carries none.
type Principal struct {
	UserID    int64
	SessionID string
	Role      Role
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller, and false for a guest.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
