package graphqlexec

import (
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var (
	queryTypes = []string{"Query"}
	cartTypes  = []string{"Cart"}
)

// operation parses the query on reachSchema and returns a fresh operation context for it, as
// one request on a cached document has.
func operation(t *testing.T, doc *ast.QueryDocument, vars map[string]any) *graphql.OperationContext {
	t.Helper()
	return &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: vars}
}

func parse(t *testing.T, query string) *ast.QueryDocument {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(reachSchema, query)
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	return doc
}

func aliases(fields []graphql.CollectedField) []string {
	var names []string
	for _, f := range fields {
		names = append(names, f.Alias)
	}
	return names
}

// cartFields collects the operation's root fields, then those under its cart field.
func cartFields(oc *graphql.OperationContext) (root, cart []graphql.CollectedField) {
	root = CollectFields(oc, oc.Operation.SelectionSet, queryTypes)
	for _, f := range root {
		if f.Name == "cart" {
			cart = CollectFields(oc, f.Selections, cartTypes)
		}
	}
	return root, cart
}

// TestCollectFieldsCachesAcrossOperations: a second operation on the same document gets the
// first one's fields, at the root and below it, and they are gqlgen's.
func TestCollectFieldsCachesAcrossOperations(t *testing.T) {
	doc := parse(t, `{ cart { id ...F lines { id } } } fragment F on Cart { total: id }`)
	first := operation(t, doc, nil)
	root1, cart1 := cartFields(first)
	root2, cart2 := cartFields(operation(t, doc, nil))
	if &root1[0] != &root2[0] || &cart1[0] != &cart2[0] {
		t.Error("the second operation collected its fields again")
	}
	want := graphql.CollectFields(operation(t, doc, nil), root1[0].Selections, cartTypes)
	if got := aliases(cart2); !slices.Equal(got, aliases(want)) || !slices.Equal(got, []string{"id", "total", "lines"}) {
		t.Errorf("cart fields %v; gqlgen collects %v", got, aliases(want))
	}
}

// TestCollectFieldsHonoursVariables: a selection set with a directive, on a field or inside a
// fragment, is collected for each operation's variables.
func TestCollectFieldsHonoursVariables(t *testing.T) {
	for _, query := range []string{
		`query($x: Boolean!) { cart { id lines @include(if: $x) { id } } }`,
		`query($x: Boolean!) { cart { id ...F } } fragment F on Cart { lines @include(if: $x) { id } }`,
		`query($x: Boolean!) { cart { id ... @include(if: $x) { lines { id } } } }`,
	} {
		doc := parse(t, query)
		for _, x := range []bool{true, false, true} {
			_, cart := cartFields(operation(t, doc, map[string]any{"x": x}))
			want := []string{"id"}
			if x {
				want = append(want, "lines")
			}
			if got := aliases(cart); !slices.Equal(got, want) {
				t.Errorf("%s with x=%v: fields %v; want %v", query, x, got, want)
			}
		}
	}
}

// TestCollectFieldsSkipsFreshSelections: a selection set the cache did not hand out (here a copy,
// as gqlgen makes when it merges fields) is not stored, since no later operation could ask for
// the same one.
func TestCollectFieldsSkipsFreshSelections(t *testing.T) {
	doc := parse(t, `{ cart { id lines { id } } }`)
	oc := operation(t, doc, nil)
	root := CollectFields(oc, oc.Operation.SelectionSet, queryTypes)
	fresh := slices.Clone(root[0].Selections)
	CollectFields(oc, fresh, cartTypes)
	sharedFields.mu.RLock()
	_, stored := sharedFields.entries[collectKey{first: &fresh[0], n: len(fresh), satisfies: &cartTypes[0]}]
	sharedFields.mu.RUnlock()
	if stored {
		t.Error("a one-off selection set was cached")
	}
}
