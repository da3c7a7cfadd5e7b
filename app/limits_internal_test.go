package app

import (
	"context"
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

// BenchmarkOperationLimits measures what the limits add to each request: the shape walk and the
// cost calculation of the account page (parsing is cached per document and not included).
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
