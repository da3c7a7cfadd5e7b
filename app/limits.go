package app

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"storefront/graph"
	"storefront/graph/model"
	"storefront/metrics"
	"storefront/resolvers"
)

// maxPageSize is the largest `first` a connection accepts; larger values are refused by the
// resolvers with BAD_USER_INPUT, so the cost counts at most this many.
const maxPageSize = 100

// defaultPageSize is the schema's default `first`.
const defaultPageSize = 20

// argumentCosts names the fields whose cost setComplexity works out from their arguments. Only
// through them can the variables change an operation's cost; see operationShape.CostVaries.
var argumentCosts = map[string]bool{
	"Query.products": true, "Category.products": true, "User.orders": true, "Query.nodes": true,
}

// setComplexity gives connection fields a cost that grows with the page asked for: the children
// are counted `first` times. Every other field keeps gqlgen's default, 1 plus its children. Each
// field given a cost here is listed in argumentCosts.
func setComplexity(c *graph.ComplexityRoot) {
	c.Query.Products = func(child int, _ *string, _ *model.ProductFilter, _ *model.ProductSort, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Category.Products = func(child int, _ *model.ProductSort, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.User.Orders = func(child int, first *int, _ *string, _ *model.OrderStatus) int {
		return pageCost(child, first)
	}
	c.Query.Nodes = func(child int, ids []string) int {
		return 1 + child*max(1, len(ids))
	}
}

func pageCost(child int, first *int) int {
	n := defaultPageSize
	if first != nil {
		n = min(max(*first, 1), maxPageSize)
	}
	return 1 + child*n
}

// shapeBudget bounds the selections one operation may expand to. Reused fragments multiply:
// a chain of fragments each spreading the next twice doubles the work per link, so the walk
// stops here rather than trusting that the document is small.
const shapeBudget = 20000

// operationShape is what the limits look at, measured once per operation.
type operationShape struct {
	Type       string
	Name       string
	RootFields []string // one entry per occurrence, so aliases count
	Depth      int
	Aliases    int
	Selections int
	TooLarge   bool
	// Introspection is true when the operation asks for __schema or __type.
	Introspection bool
	// CostVaries is true when a variable reaches an argument of a field in argumentCosts (such
	// as products(first: $n)): the operation's cost then depends on the variables and is worked
	// out for each request. Otherwise it is worked out once, see fixedCost.
	CostVaries bool

	costOnce sync.Once
	cost     int
}

// fixedCost returns the cost of an operation whose cost does not depend on the variables,
// calculating it on first use.
func (s *operationShape) fixedCost(calculate func() int) int {
	s.costOnce.Do(func() { s.cost = calculate() })
	return s.cost
}

const shapeExtension = "OperationShape"

// measure walks the operation with its fragments expanded. Introspection fields are skipped:
// introspection is off in production and gqlparser bounds its depth by a rule of its own.
func measure(op *ast.OperationDefinition) *operationShape {
	s := &operationShape{Type: string(op.Operation), Name: op.Name}
	var walk func(set ast.SelectionSet, depth int, root bool)
	walk = func(set ast.SelectionSet, depth int, root bool) {
		for _, sel := range set {
			if s.TooLarge {
				return
			}
			s.Selections++
			if s.Selections > shapeBudget {
				s.TooLarge = true
				return
			}
			switch f := sel.(type) {
			case *ast.Field:
				if strings.HasPrefix(f.Name, "__") {
					s.Introspection = s.Introspection || f.Name == "__schema" || f.Name == "__type"
					continue
				}
				if root {
					s.RootFields = append(s.RootFields, f.Name)
				}
				if f.Alias != "" && f.Alias != f.Name {
					s.Aliases++
				}
				if !s.CostVaries && len(f.Arguments) > 0 && f.ObjectDefinition != nil &&
					(f.ObjectDefinition.Kind != ast.Object || argumentCosts[f.ObjectDefinition.Name+"."+f.Name]) &&
					usesVariables(f.Arguments) {
					s.CostVaries = true
				}
				s.CostVaries = s.CostVaries || directivesUseVariables(f.Directives)
				s.Depth = max(s.Depth, depth+1)
				walk(f.SelectionSet, depth+1, false)
			case *ast.InlineFragment:
				s.CostVaries = s.CostVaries || directivesUseVariables(f.Directives)
				walk(f.SelectionSet, depth, root)
			case *ast.FragmentSpread:
				s.CostVaries = s.CostVaries || directivesUseVariables(f.Directives)
				if f.Definition != nil {
					walk(f.Definition.SelectionSet, depth, root)
				}
			}
		}
	}
	walk(op.SelectionSet, 0, true)
	return s
}

// directivesUseVariables reports whether a directive takes a variable: @skip(if: $x) and
// @include(if: $x) decide per request which fields are there to cost.
func directivesUseVariables(ds ast.DirectiveList) bool {
	for _, d := range ds {
		if usesVariables(d.Arguments) {
			return true
		}
	}
	return false
}

// usesVariables reports whether any argument value is, or contains, a variable.
func usesVariables(args ast.ArgumentList) bool {
	var uses func(v *ast.Value) bool
	uses = func(v *ast.Value) bool {
		if v == nil {
			return false
		}
		if v.Kind == ast.Variable {
			return true
		}
		for _, c := range v.Children {
			if uses(c.Value) {
				return true
			}
		}
		return false
	}
	for _, a := range args {
		if uses(a.Value) {
			return true
		}
	}
	return false
}

// shapes holds the shape of each operation of the documents gqlgen's query cache holds: the cache
// hands out the same *ast.QueryDocument for the same query text, so an operation is measured once,
// not on every request. Keys are weak pointers, so a shape never keeps a document alive; once the
// query cache has let a document go and it is collected, its shapes are dropped too.
var shapes sync.Map // weak.Pointer[ast.OperationDefinition] → *operationShape

// shapeFor returns the shape of op, measuring it on first use.
func shapeFor(op *ast.OperationDefinition) *operationShape {
	key := weak.Make(op)
	if s, ok := shapes.Load(key); ok {
		return s.(*operationShape)
	}
	s, loaded := shapes.LoadOrStore(key, measure(op))
	if !loaded {
		runtime.AddCleanup(op, func(key weak.Pointer[ast.OperationDefinition]) { shapes.Delete(key) }, key)
	}
	return s.(*operationShape)
}

// shapeOf returns the shape measured for the operation of ctx, if any.
func shapeOf(opCtx *graphql.OperationContext) *operationShape {
	s, _ := opCtx.Stats.GetExtension(shapeExtension).(*operationShape)
	return s
}

// operationLimits refuses operations that are too deep, too wide or alias too much, before any
// resolver runs. It must be registered before the complexity limit, whose walk it protects.
type operationLimits struct {
	limits QueryLimits
	// noIntrospection refuses __schema and __type (production). gqlgen alone would answer them
	// with a plain error, which the presenter must mask as an internal one.
	noIntrospection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationLimits{}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l operationLimits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	s := shapeFor(opCtx.Operation)
	opCtx.Stats.SetExtension(shapeExtension, s)
	noteOperation(ctx, s)
	if l.noIntrospection && s.Introspection {
		metrics.Operation(s.Type, s.Name, "rejected", 0)
		err := gqlerror.Errorf("introspection is disabled")
		errcode.Set(err, errcode.ValidationFailed)
		return err
	}
	var problem string
	switch {
	case s.TooLarge:
		problem = fmt.Sprintf("operation expands to more than %d selections", shapeBudget)
	case s.Depth > l.limits.MaxDepth:
		problem = fmt.Sprintf("operation has depth %d, which exceeds the limit of %d", s.Depth, l.limits.MaxDepth)
	case s.Aliases > l.limits.MaxAliases:
		problem = fmt.Sprintf("operation has %d aliased fields, which exceeds the limit of %d", s.Aliases, l.limits.MaxAliases)
	case len(s.RootFields) > l.limits.MaxRootFields:
		problem = fmt.Sprintf("operation has %d root fields, which exceeds the limit of %d", len(s.RootFields), l.limits.MaxRootFields)
	default:
		return nil
	}
	metrics.Operation(s.Type, s.Name, "rejected", 0)
	err := gqlerror.Errorf("%s", problem)
	errcode.Set(err, resolvers.CodeComplexity)
	return err
}

// costLimit refuses operations whose cost, as gqlgen's complexity calculation counts it with the
// costs of setComplexity, exceeds the limit. It answers as gqlgen's FixedComplexityLimit does, but
// works the cost out once per document unless the variables can change it (CostVaries). It must
// be registered after operationLimits, whose shape it reads and whose walk guards its own.
type costLimit struct {
	limit int
	es    graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &costLimit{}

const costExtension = "OperationCost"

func (*costLimit) ExtensionName() string { return "CostLimit" }

func (c *costLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *costLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	calculate := func() int { return complexity.Calculate(ctx, c.es, opCtx.Operation, opCtx.Variables) }
	var cost int
	if s := shapeOf(opCtx); s != nil && !s.CostVaries {
		cost = s.fixedCost(calculate)
	} else {
		cost = calculate()
	}
	opCtx.Stats.SetExtension(costExtension, cost)
	if cost <= c.limit {
		return nil
	}
	err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", cost, c.limit)
	errcode.Set(err, resolvers.CodeComplexity)
	return err
}

// reportCost adds the computed cost of each answered operation to the response, as
// extensions.cost, so client developers see what their queries spend of the limit.
func reportCost(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	if cost, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(costExtension).(int); ok {
		graphql.RegisterExtension(ctx, "cost", cost)
	}
	return next(ctx)
}

// rejectedForSize reports whether a gqlgen error is the parser's token limit, which is a size
// limit like the others and so gets their code.
func rejectedForSize(e *gqlerror.Error) bool {
	return e.Extensions["code"] == errcode.ParseFailed && strings.HasPrefix(e.Message, "exceeded token limit")
}
