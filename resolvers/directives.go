package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"storefront/domain/apperr"
	"storefront/domain/identity"
	"storefront/graph/model"
)

// authDirective implements @auth: the field needs a signed-in caller.
func authDirective(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if _, ok := identity.PrincipalFrom(ctx); !ok {
		return nil, apperr.ErrUnauthenticated
	}
	return next(ctx)
}

// hasRoleDirective implements @hasRole(role:): the field needs a signed-in caller with that role.
func hasRoleDirective(ctx context.Context, _ any, next graphql.Resolver, role model.Role) (any, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return nil, apperr.ErrUnauthenticated
	}
	if string(p.Role) != string(role) {
		return nil, apperr.ErrForbidden
	}
	return next(ctx)
}
