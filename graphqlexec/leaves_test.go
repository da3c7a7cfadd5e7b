package graphqlexec

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// productSelection returns the selection set under cart.lines.product in the query.
func productSelection(t *testing.T, query string) ast.SelectionSet {
	t.Helper()
	for _, s := range linesSelection(t, query) {
		if f, ok := s.(*ast.Field); ok && f.Name == "product" {
			return f.SelectionSet
		}
	}
	t.Fatalf("%s: no product under lines", query)
	return nil
}

// TestLeavesOnly: a product's selection is leaves only when every field in it, its fragments
// included, is a plain leaf or __typename; an object field or a directive on a fragment is not.
func TestLeavesOnly(t *testing.T) {
	leaves := LeafFields{"id": true, "name": true}
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{`{ cart { lines { product { id name } } } }`, true},
		{`{ cart { lines { product { __typename title: name } } } }`, true},
		{`{ cart { lines { product { id @skip(if: true) name } } } }`, true},
		{`{ cart { lines { product { ... on Product { name } ...N } } } } fragment N on Node { id }`, true},
		{`{ cart { lines { product { id category { name } } } } }`, false},
		{`{ cart { lines { product { ... on Product { category { id } } } } } }`, false},
		{`{ cart { lines { product { ...P } } } } fragment P on Product { name category { id } }`, false},
		{`{ cart { lines { product { ... @defer { name } } } } }`, false},
		{`{ cart { lines { product { ...P @include(if: true) } } } } fragment P on Product { name }`, false},
	} {
		if got := LeavesOnly(productSelection(t, tc.query), leaves); got != tc.want {
			t.Errorf("%s: LeavesOnly = %v; want %v", tc.query, got, tc.want)
		}
	}
	var unresolved ast.SelectionSet = ast.SelectionSet{&ast.FragmentSpread{Name: "Missing"}}
	if LeavesOnly(unresolved, leaves) {
		t.Error("a fragment spread without its definition counts as leaves only")
	}
}
