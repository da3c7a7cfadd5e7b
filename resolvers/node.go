package resolvers

import (
	"context"

	"golang.org/x/sync/errgroup"

	"storefront/domain/apperr"
	"storefront/graph/model"
	"storefront/resolvers/relay"
)

// nodeFetcher loads the node of one kind by the key inside its global id. It returns (nil, nil)
// when there is none, or when the caller may not see it.
type nodeFetcher func(r *Resolver, ctx context.Context, key string) (model.Node, error)

// nodeFetchers maps a global id's kind to its loader; each area registers its kinds in an init
// function, so node(id:) answers for every entity without one switch that knows them all.
var nodeFetchers = map[string]nodeFetcher{}

func registerNode(kind string, f nodeFetcher) { nodeFetchers[kind] = f }

// fetchNode resolves any global id. Unknown kinds, malformed keys and things the caller may not
// see all answer null, as Relay expects from node(id:).
func (r *Resolver) fetchNode(ctx context.Context, id string) (model.Node, error) {
	kind, key, err := relay.ParseID(id)
	if err != nil {
		return nil, err
	}
	f, ok := nodeFetchers[kind]
	if !ok {
		return nil, nil
	}
	return f(r, ctx, key)
}

func (r *queryResolver) Node(ctx context.Context, id string) (model.Node, error) {
	return r.fetchNode(ctx, id)
}

func (r *queryResolver) Nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if len(ids) > relay.MaxPageSize {
		return nil, apperr.Input("ids", "at most %d ids at once", relay.MaxPageSize)
	}
	// The ids are fetched concurrently so that loader-backed kinds gather them into one batch
	// instead of one query (and one batch window) per id.
	out := make([]model.Node, len(ids))
	var g errgroup.Group
	for i, id := range ids {
		g.Go(func() error {
			n, err := r.fetchNode(ctx, id)
			out[i] = n
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
