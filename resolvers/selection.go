package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// selectsPath reports whether the field being resolved selects the nested fields path, e.g.
// "cart", "lines", "product" under a cart payload. Fields inside fragments count whatever the
// fragment's type condition. Outside a GraphQL request it reports false.
func selectsPath(ctx context.Context, path ...string) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	op := graphql.GetOperationContext(ctx)
	sels := fc.Field.Selections
	for _, name := range path {
		found := false
		for _, f := range graphql.CollectFields(op, sels, nil) {
			if f.Name == name {
				sels, found = f.Selections, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
