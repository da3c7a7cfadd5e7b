package graphqlexec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// responseContext is the context an element is marshaled in during a real operation: errors
// are collected on it, and panics recovered into errors.
func responseContext() context.Context {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(_ context.Context, v any) error { return fmt.Errorf("panic: %v", v) })
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{}})
}

func TestMarshalSliceInOrderGivesEachElementItsIndex(t *testing.T) {
	ctx := responseContext()
	var order []int
	ret := MarshalSliceInOrder(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		order = append(order, i) // no lock: every element runs on the caller's goroutine
		if got := *graphql.GetFieldContext(ctx).Index; got != i {
			t.Errorf("element %d has index %d in its field context", i, got)
		}
		return graphql.MarshalInt(i * 10)
	})
	if fmt.Sprint(order) != "[0 1 2 3]" {
		t.Errorf("elements marshaled in order %v", order)
	}
	var b strings.Builder
	ret.MarshalGQL(&b)
	if b.String() != "[0,10,20,30]" {
		t.Errorf("list = %s", b.String())
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
}

func TestMarshalSliceInOrderTurnsAPanicIntoAnErrorAndNull(t *testing.T) {
	ctx := responseContext()
	marshaled := 0
	ret := MarshalSliceInOrder(ctx, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		marshaled++
		if i == 1 {
			panic("broken element")
		}
		return graphql.MarshalInt(i)
	})
	if ret != nil {
		t.Errorf("list = %v; want null after a panic", ret)
	}
	if marshaled != 3 {
		t.Errorf("%d elements marshaled; want all 3, as the concurrent version does", marshaled)
	}
	errs := graphql.GetErrors(ctx)
	var gqlErr *gqlerror.Error
	if len(errs) != 1 || !errors.As(errs[0], &gqlErr) || !strings.Contains(gqlErr.Message, "broken element") {
		t.Fatalf("errors = %v", errs)
	}
	if fmt.Sprint(gqlErr.Path) != "[1]" {
		t.Errorf("error path %v; want the element's index", gqlErr.Path)
	}
}

func TestMarshalSliceInOrderEmpty(t *testing.T) {
	ret := MarshalSliceInOrder(responseContext(), 0, 0, false, func(context.Context, int) graphql.Marshaler {
		t.Fatal("no element to marshal")
		return nil
	})
	if ret == nil || len(ret) != 0 {
		t.Errorf("empty list = %#v; want an empty, non-null array", ret)
	}
}
