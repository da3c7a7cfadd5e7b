package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// lineProductSelection tells whether the field being resolved selects the fields at path (e.g.
// cart, lines, product), under any alias or fragment, and which Product fields needing a fetch of
// their own are selected there, across all of them. Outside a GraphQL request everything is.
func lineProductSelection(ctx context.Context, path ...string) (fields productFields, selected bool) {
	if !graphql.HasOperationContext(ctx) || graphql.GetFieldContext(ctx) == nil {
		return allProductFields, true
	}
	op := graphql.GetOperationContext(ctx)
	var walk func(sels ast.SelectionSet, path []string)
	walk = func(sels ast.SelectionSet, path []string) {
		for _, f := range graphql.CollectFields(op, sels, nil) {
			switch {
			case f.Name != path[0]:
			case len(path) > 1:
				walk(f.Selections, path[1:])
			default:
				selected = true
				fields.add(graphql.CollectFields(op, f.Selections, productTypes))
			}
		}
	}
	walk(graphql.GetFieldContext(ctx).Field.Selections, path)
	return fields, selected
}
