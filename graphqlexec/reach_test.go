package graphqlexec

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var reachSchema = gqlparser.MustLoadSchema(&ast.Source{Input: `
	type Query { cart: Cart node: Node }
	interface Node { id: ID! }
	type Cart implements Node { id: ID! lines: [Line!]! }
	type Line implements Node { id: ID! product: Product! }
	type Product implements Node { id: ID! name: String! category: Category! }
	type Category implements Node { id: ID! name: String! children: [Category!]! }
`})

// The fields a resolver answers in reachSchema.
var reachConcurrent = ConcurrentFields{"Query.cart": true, "Query.node": true, "Category.children": true}

// linesSelection returns the selection set under cart.lines in the query.
func linesSelection(t *testing.T, query string) ast.SelectionSet {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(reachSchema, query)
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	cart := doc.Operations[0].SelectionSet[0].(*ast.Field)
	for _, s := range cart.SelectionSet {
		if f, ok := s.(*ast.Field); ok && f.Name == "lines" {
			return f.SelectionSet
		}
	}
	t.Fatalf("%s: no lines", query)
	return nil
}

// TestReaches: a selection reaches a concurrent field through fields, inline fragments and named
// fragments alike, and a field of the same name on another type does not count.
func TestReaches(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{`{ cart { lines { id product { id name category { name } } } } }`, false},
		{`{ cart { lines { product { category { children { id } } } } } }`, true},
		{`{ cart { lines { ... on Line { product { category { children { id } } } } } } }`, true},
		{`{ cart { lines { ...L } } } fragment L on Line { product { category { children { id } } } }`, true},
		{`{ cart { lines { ...L } } } fragment L on Line { product { name } }`, false},
		{`{ cart { lines { __typename id } } }`, false},
	} {
		if got := reachConcurrent.Reaches(linesSelection(t, tc.query)); got != tc.want {
			t.Errorf("%s: Reaches = %v; want %v", tc.query, got, tc.want)
		}
	}
}

// TestMarshalSliceChooses: elements are marshaled on the calling goroutine when the selection
// reaches nothing concurrent, and on goroutines of their own when it does.
func TestMarshalSliceChooses(t *testing.T) {
	for _, tc := range []struct {
		query       string
		wantInOrder bool
	}{
		{`{ cart { lines { id product { name } } } }`, true},
		{`{ cart { lines { product { category { children { id } } } } } }`, false},
	} {
		sel := linesSelection(t, tc.query)
		ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
		caller := goroutineID()
		var others int
		results := make(chan bool, 3)
		MarshalSlice(ctx, reachConcurrent, sel, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
			results <- goroutineID() == caller
			return graphql.MarshalInt(i)
		})
		close(results)
		for onCaller := range results {
			if !onCaller {
				others++
			}
		}
		if inOrder := others == 0; inOrder != tc.wantInOrder {
			t.Errorf("%s: %d of 3 elements on other goroutines; want in order %v", tc.query, others, tc.wantInOrder)
		}
	}
}

// goroutineID is the running goroutine's number, from the first line of its stack trace.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}
