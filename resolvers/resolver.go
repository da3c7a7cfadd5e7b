// Package resolvers answers GraphQL fields. Resolvers stay thin: they parse ids and input, check
// who is asking, call a domain service and convert the result to graph/model types. Rules live in
// the domain packages; SQL and Redis live in store/.
package resolvers

import (
	"storefront/domain/cart"
	"storefront/domain/catalog"
	"storefront/domain/checkout"
	"storefront/domain/identity"
	"storefront/graph"
)

// Resolver is the root resolver. It holds the long-lived services; it is built once per server
// instance by package app and shared by every request.
type Resolver struct {
	Deps
}

// Deps are the services resolvers call. Each area adds its service here.
type Deps struct {
	// Identity runs accounts, sign-in and sessions.
	Identity *identity.Service
	// Carts runs carts: lines, merging, live updates.
	Carts *cart.Service
	// Catalog answers products, categories and sellers.
	Catalog *catalog.Service
	// Checkout turns carts into orders, takes payments and runs orders to delivery.
	Checkout *checkout.Service
}

// New returns the root resolver over deps.
func New(deps Deps) *Resolver { return &Resolver{Deps: deps} }

// Config returns the gqlgen configuration: resolvers plus the schema directives.
func (r *Resolver) Config() graph.Config {
	return graph.Config{
		Resolvers: r,
		Directives: graph.DirectiveRoot{
			Auth:    authDirective,
			HasRole: hasRoleDirective,
		},
	}
}

// Query returns the root query resolver.
func (r *Resolver) Query() graph.QueryResolver { return &queryResolver{r} }

// Mutation returns the root mutation resolver.
func (r *Resolver) Mutation() graph.MutationResolver { return &mutationResolver{r} }

// Subscription returns the root subscription resolver.
func (r *Resolver) Subscription() graph.SubscriptionResolver { return &subscriptionResolver{r} }

// Category resolves Category's loader-backed fields.
func (r *Resolver) Category() graph.CategoryResolver { return &categoryResolver{r} }

// User resolves User's loader-backed fields.
func (r *Resolver) User() graph.UserResolver { return &userResolver{r} }

// Order resolves Order's loader-backed fields.
func (r *Resolver) Order() graph.OrderResolver { return &orderResolver{r} }

// OrderLine resolves OrderLine.product.
func (r *Resolver) OrderLine() graph.OrderLineResolver { return &orderLineResolver{r} }

type (
	queryResolver        struct{ *Resolver }
	mutationResolver     struct{ *Resolver }
	subscriptionResolver struct{ *Resolver }
	categoryResolver     struct{ *Resolver }
	userResolver         struct{ *Resolver }
	orderResolver        struct{ *Resolver }
	orderLineResolver    struct{ *Resolver }
)
