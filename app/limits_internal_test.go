package app

import (
	"context"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"

	"storefront/graph"
	"storefront/resolvers"
)

// accountPage is the costliest storefront query: the account page with 100 orders.
const accountPage = `{ me { id email name cart { id lines { id quantity product { id name price { amount currencyCode } } } }
  orders(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
    id number status total { amount currencyCode } statusHistory { status at }
    lines { id productName quantity unitPrice { amount currencyCode } product { id slug name images { url altText } } } } } } } }`

// BenchmarkOperationLimits measures the shape walk and the cost calculation of the account page:
// what the limits add to the first request of a document (parsing, and for a document whose cost
// no variable changes, both of these, are cached per document and not repeated).
//
//	go test -run '^$' -bench BenchmarkOperationLimits -count 5 ./app/
func BenchmarkOperationLimits(b *testing.B) {
	cfg := resolvers.New(resolvers.Deps{}).Config()
	setComplexity(&cfg.Complexity)
	es := graph.NewExecutableSchema(cfg)
	doc, errs := gqlparser.LoadQuery(es.Schema(), accountPage)
	if errs != nil {
		b.Fatal(errs)
	}
	op := doc.Operations[0]
	ctx := context.Background()
	var cost int
	for b.Loop() {
		s := measure(op)
		if s.Depth == 0 {
			b.Fatal("no depth")
		}
		cost = complexity.Calculate(ctx, es, op, nil)
	}
	b.ReportMetric(float64(cost), "cost")
}

// Every field setComplexity gives a cost is in argumentCosts: a field missing from it would have its
// cost frozen at the first request's variables.
func TestArgumentCostsListsEveryCostSet(t *testing.T) {
	t.Parallel()
	var c graph.ComplexityRoot
	setComplexity(&c)
	set := map[string]bool{}
	root := reflect.ValueOf(c)
	for i := range root.NumField() {
		object := root.Field(i)
		for j := range object.NumField() {
			if f := object.Field(j); f.Kind() == reflect.Func && !f.IsNil() {
				name := object.Type().Field(j).Name
				set[root.Type().Field(i).Name+"."+strings.ToLower(name[:1])+name[1:]] = true
			}
		}
	}
	if len(set) == 0 || !maps.Equal(set, argumentCosts) {
		t.Errorf("setComplexity sets %v; argumentCosts lists %v", set, argumentCosts)
	}
}

// An operation's cost varies only when a variable reaches an argument-costed field.
func TestCostVariesOnlyWithVariablePages(t *testing.T) {
	t.Parallel()
	es := graph.NewExecutableSchema(resolvers.New(resolvers.Deps{}).Config())
	for q, want := range map[string]bool{
		`query($slug: String) { product(slug: $slug) { id name } }`:                               false,
		`{ products(first: 5) { nodes { id } } }`:                                                 false,
		`query($n: Int) { products(first: $n) { nodes { id } } }`:                                 true,
		`query($f: ProductFilter) { products(filter: $f) { nodes { id } } }`:                      true,
		`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`:                                         true,
		`query($n: Int) { categories { products(first: $n) { totalCount } } }`:                    true,
		`{ categories { id } products(first: 2) { totalCount } }`:                                 false,
		`query($x: Boolean!) { products(first: 90) @include(if: $x) { nodes { id } } }`:           true,
		`query($x: Boolean!) { ... @skip(if: $x) { products(first: 90) { nodes { id } } } }`:      true,
		`query($x: Boolean!) { ...P @include(if: $x) } fragment P on Query { categories { id } }`: true,
		`query($slug: String) { product(slug: $slug) @include(if: true) { id } }`:                 false,
	} {
		doc, errs := gqlparser.LoadQuery(es.Schema(), q)
		if errs != nil {
			t.Fatalf("%s: %v", q, errs)
		}
		if got := measure(doc.Operations[0]).CostVaries; got != want {
			t.Errorf("%s: CostVaries = %v; want %v", q, got, want)
		}
	}
}
