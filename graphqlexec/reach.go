package graphqlexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// ConcurrentFields names, as "Type.field", the fields that gqlgen runs on a goroutine of their
// own: those with a resolver or a method taking a context. An interface's field is named when
// any implementation's is. cmd/generate writes the table for the schema.
type ConcurrentFields map[string]bool

// Reaches reports whether the selection set asks, at any depth, for a concurrent field. It reads
// the field definitions the validator attached to the document, so a field is judged on the
// type that declares it; fragments count whatever their type condition.
func (c ConcurrentFields) Reaches(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition == nil || c[s.ObjectDefinition.Name+"."+s.Name] {
				return true // a field the validator did not resolve: assume the worst
			}
			if c.Reaches(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if c.Reaches(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || c.Reaches(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// MarshalSlice marshals a list in order (MarshalSliceInOrder) when the elements' selection set
// reaches no concurrent field, and with gqlgen's goroutine per element otherwise, so that
// resolvers under the elements run side by side and their loaders batch. cmd/generate points
// the lists of types that can reach a resolver at it: a cart's lines, say, are all plain fields
// unless a client asks for a product's category's children.
func MarshalSlice(ctx context.Context, fields ConcurrentFields, sel ast.SelectionSet, length int,
	workerLimit int64, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	if length > 1 && !fields.Reaches(sel) {
		return MarshalSliceInOrder(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
}
