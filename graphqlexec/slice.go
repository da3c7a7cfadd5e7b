// Package graphqlexec holds what the generated executor in graph/ calls besides gqlgen's own
// runtime; cmd/generate points the generated code at it.
package graphqlexec

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalSliceInOrder marshals a list's elements one after the other on the calling goroutine.
// It takes the arguments of graphql.MarshalSliceConcurrently and gives the same answer: each
// element gets a field context with its index, and a panic in one element becomes an error on
// its path and makes the whole list null.
//
// gqlgen marshals every list of objects with a goroutine per element, so that resolvers under
// the elements run side by side and their data loaders can batch. cmd/generate uses this
// function instead for lists whose elements can reach no resolver at all (images, money, user
// errors): there, the goroutines only add their start, their wake-ups and a wait.
func MarshalSliceInOrder(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	failed := false
	for i := range length {
		index := i // the field context keeps a pointer to its index
		elemCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &index})
		if omitPanicHandler {
			ret[i] = marshalElement(elemCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(elemCtx, graphql.Recover(elemCtx, r))
					failed = true
				}
			}()
			ret[i] = marshalElement(elemCtx, i)
		}()
	}
	if failed {
		return nil
	}
	return ret
}
