package main

import (
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestPlainTypes: a type is plain only when nothing reachable from it has a resolver, through
// fields, interfaces, unions and cycles alike.
func TestPlainTypes(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { product: Product }
		interface Node { id: ID! }
		type Product implements Node { id: ID! images: [Image!]! category: Category! }
		type Image { url: String! }
		type Category implements Node { id: ID! parent: Category }
		union Media = Image | Video
		type Video { url: String! related: Media }
		type Tree { children: [Tree!]! }
	`})
	resolvers := map[string]bool{"Query.product": true, "Category.parent": true}
	data := &codegen.Data{Schema: schema}
	for _, def := range schema.Types {
		if def.Kind != ast.Object || def.BuiltIn {
			continue
		}
		obj := &codegen.Object{Definition: def}
		for _, fd := range def.Fields {
			obj.Fields = append(obj.Fields, &codegen.Field{
				FieldDefinition: fd,
				Object:          obj,
				IsResolver:      resolvers[def.Name+"."+fd.Name],
				TypeReference:   &config.TypeReference{Definition: schema.Types[fd.Type.Name()]},
			})
		}
		data.Objects = append(data.Objects, obj)
	}
	plain := plainTypes(data)
	for name, want := range map[string]bool{
		"Image": true, "Video": true, "Media": true, "Tree": true,
		"Category": false, "Product": false, "Node": false, "Query": false,
	} {
		if plain[name] != want {
			t.Errorf("%s plain = %v; want %v", name, plain[name], want)
		}
	}
}

// generatedSample is a cut-down generated executor with each shape rewriteSource changes.
var generatedSample = `package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
)

func (ec *executionContext) fieldContext_Image_url(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("Image", field, false, false, errors.New("field of type String does not have child fields"))
}

func (ec *executionContext) _Image(ctx context.Context, sel ast.SelectionSet, obj *model.Image) graphql.Marshaler {
	out := graphql.NewFieldSet(fields)
	deferredFieldSet := graphql.NewFieldSet(nil)
	deferLabelToView := make(map[string]*graphql.FieldSetView)
	out.Dispatch(ctx)
` + deferredGroup + `
	return out
}

func (ec *executionContext) _Query(ctx context.Context, sel ast.SelectionSet) graphql.Marshaler {
	out := graphql.NewFieldSet(fields)
	deferredFieldSet := graphql.NewFieldSet(nil)
	deferLabelToView := make(map[string]*graphql.FieldSetView)
	out.Concurrently(i, func(ctx context.Context) graphql.Marshaler { return nil })
	out.Dispatch(ctx)
` + deferredGroup + `
	return out
}

func (ec *executionContext) _Category(ctx context.Context, sel ast.SelectionSet, obj *model.Category) graphql.Marshaler {
	deferredFieldSet := graphql.NewFieldSet(nil)
	deferLabelToView := make(map[string]*graphql.FieldSetView)
	if field.IsDeferred() {
		deferredFieldSet.AddField(field)
	}
` + deferredGroup + `
	return out
}

func (ec *executionContext) _Image_url(ctx context.Context, field graphql.CollectedField, obj *model.Image) (ret graphql.Marshaler) {
` + leafField("Image_url", "URL", "string", "marshalNString2string") + `}

func (ec *executionContext) _Rating_average(ctx context.Context, field graphql.CollectedField, obj *model.Rating) (ret graphql.Marshaler) {
` + leafField("Rating_average", "Average", "float64", "marshalNFloat2float64") + `}

func (ec *executionContext) _Image_altText(ctx context.Context, field graphql.CollectedField, obj *model.Image) (ret graphql.Marshaler) {
` + leafField("Image_altText", "AltText", "*string", "marshalOString2ᚖstring") + `}

func (ec *executionContext) _Product_image(ctx context.Context, field graphql.CollectedField, obj *model.Product) (ret graphql.Marshaler) {
` + objectFieldBody("Product_image", "Image", "Image", "marshalOImage2ᚖstorefrontᚋgraphᚋmodelᚐImage") + `}

func (ec *executionContext) _Product_rating(ctx context.Context, field graphql.CollectedField, obj *model.Product) (ret graphql.Marshaler) {
` + objectFieldBody("Product_rating", "Rating", "Rating", "marshalNRating2ᚖstorefrontᚋgraphᚋmodelᚐRating") + `}

func (ec *executionContext) _Product_name(ctx context.Context, field graphql.CollectedField, obj *model.Product) (ret graphql.Marshaler) {
` + leafField("Product_name", "Name", "string", "marshalNString2string") + `}

func (ec *executionContext) _Product(ctx context.Context, sel ast.SelectionSet, obj *model.Product) graphql.Marshaler {
	for i, field := range fields {
		switch field.Name {
		case "name":
			out.Values[i] = ec._Product_name(ctx, field, obj)
		case "rating":
			out.Values[i] = ec._Product_rating(ctx, field, obj)
		}
	}
}

func (ec *executionContext) _CartLine_product(ctx context.Context, field graphql.CollectedField, obj *model.CartLine) (ret graphql.Marshaler) {
` + objectFieldBody("CartLine_product", "Product", "Product", "marshalNProduct2ᚖstorefrontᚋgraphᚋmodelᚐProduct") + `}

func (ec *executionContext) marshalNImage2ᚕᚖImageᚄ(ctx context.Context, sel ast.SelectionSet, v []*model.Image) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNImage2ᚖImage(ctx, sel, v[i])
	})
	return ret
}

func (ec *executionContext) marshalNCategory2ᚕᚖCategoryᚄ(ctx context.Context, sel ast.SelectionSet, v []*model.Category) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNCategory2ᚖCategory(ctx, sel, v[i])
	})
	return ret
}
`

// leafField is the body gqlgen writes for a scalar field read from a struct field of the model.
func leafField(name, goField, goType, marshal string) string {
	return `	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_` + name + `(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.` + goField + `, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v ` + goType + `) graphql.Marshaler {
			return ec.` + marshal + `(ctx, selections, v)
		},
		true,
		true,
	)
`
}

// objectFieldBody is the body gqlgen writes for a field holding a pointer to a model object.
func objectFieldBody(name, goField, goType, marshal string) string {
	return strings.Replace(leafField(name, goField, "*model."+goType, marshal), "true,\n\t\ttrue,", "true,\n\t\tfalse,", 1)
}

// TestRewriteSource: plain lists in order, @defer groups registered only when there is one
// (and no deferred state for objects that can have none), objects without concurrent fields
// written by graphqlexec.Object, scalar errors made once, plain leaves and objects of them
// written directly; lists of types with resolvers choose by selection; objects with deferrable
// fields and leaves whose marshaler can fail keep what they need.
func TestRewriteSource(t *testing.T) {
	p := &rewrites{
		funcs:      map[string]string{"marshalNImage2ᚕᚖImageᚄ": "Image"},
		chosen:     map[string]string{"marshalNCategory2ᚕᚖCategoryᚄ": "Category"},
		concurrent: []string{"Category.parent", "Node.parent"},
	}
	code, report := p.rewriteSource(generatedSample)
	for _, want := range []string{
		"ret := graphqlexec.MarshalSliceInOrder(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {\n\t\treturn ec.marshalNImage2ᚖImage",
		"ret := graphqlexec.MarshalSlice(ctx, concurrentFields, sel, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {\n\t\treturn ec.marshalNCategory2ᚖCategory",
		"var concurrentFields = graphqlexec.ConcurrentFields{\n\t\"Category.parent\": true,\n\t\"Node.parent\": true,\n}\n",
		"lists marshaled in order unless the selection reaches a resolver: Category\n",
		"\n\n\t" + inOrderImport + "\n)\n",
		"graphql.NewScalarFieldContext(\"Image\", field, false, false, errNoChildFieldsString)",
		"errNoChildFieldsString = errors.New(\"field of type String does not have child fields\")",
		"obj *model.Image) graphql.Marshaler {\n" + objectStart + noDeferredState + guardedDeferredGroup,
		// An object with a concurrent field keeps its FieldSet, which runs it.
		"sel ast.SelectionSet) graphql.Marshaler {\n" + fieldSetStart + noDeferredState +
			"\tout.Concurrently(i, func(ctx context.Context) graphql.Marshaler { return nil })\n" + fieldSetDispatch,
		"objects written by graphqlexec.Object: 1\n",
		"obj *model.Category) graphql.Marshaler {\n" + deferredState,
		"lists marshaled in order: Image\n",
		"objects registering @defer groups only when they have one: 3 (2 without deferred state)\n",
		"obj *model.Image) (ret graphql.Marshaler) {\n\treturn ec.marshalNString2string(ctx, field.Selections, obj.URL)\n}",
		"obj *model.Image) (ret graphql.Marshaler) {\n\treturn ec.marshalOString2ᚖstring(ctx, field.Selections, obj.AltText)\n}",
		"plain leaves written directly: 3\n",
		// Image's fields are all plain leaves: a set image is written without a field context.
		"obj *model.Product) (ret graphql.Marshaler) {\n\tif obj.Image != nil {\n\t\treturn ec.marshalOImage2ᚖstorefrontᚋgraphᚋmodelᚐImage(ctx, field.Selections, obj.Image)\n\t}\n" +
			objectFieldBody("Product_image", "Image", "Image", "marshalOImage2ᚖstorefrontᚋgraphᚋmodelᚐImage"),
		// Rating's average is not one, so a rating keeps gqlgen's path.
		"obj *model.Product) (ret graphql.Marshaler) {\n" + objectFieldBody("Product_rating", "Rating", "Rating", "marshalNRating2ᚖstorefrontᚋgraphᚋmodelᚐRating"),
		"fields of all-leaf objects written directly when set: Image\n",
		// Product has a rating besides its name: a set product is written so only when the
		// selection asks for its name alone.
		"obj *model.CartLine) (ret graphql.Marshaler) {\n\tif obj.Product != nil && graphqlexec.LeavesOnly(field.Selections, leafFieldsProduct) {\n" +
			"\t\treturn ec.marshalNProduct2ᚖstorefrontᚋgraphᚋmodelᚐProduct(ctx, field.Selections, obj.Product)\n\t}\n" +
			objectFieldBody("CartLine_product", "Product", "Product", "marshalNProduct2ᚖstorefrontᚋgraphᚋmodelᚐProduct"),
		"var leafFieldsProduct = graphqlexec.LeafFields{\n\t\"name\": true,\n}\n",
		"fields of other objects written directly when set and asking for leaves only: Product\n",
		// A float's marshaler reports NaN through the field's context: it keeps gqlgen's path.
		"obj *model.Rating) (ret graphql.Marshaler) {\n" + leafField("Rating_average", "Average", "float64", "marshalNFloat2float64"),
	} {
		if !strings.Contains(code+report, want) {
			t.Errorf("rewritten code lacks:\n%s", want)
		}
	}
	if n := strings.Count(code, guardedDeferredGroup); n != 3 {
		t.Errorf("%d guarded @defer groups; want 3", n)
	}
	if strings.Contains(code, "errors.New(\"field of type String does not have child fields\"))") {
		t.Error("a scalar field still makes its error on every call")
	}
}

// execSample is gqlgen's Exec as it starts, with the map of input unmarshalers, for a schema
// with queries and mutations; graphqlexec is imported already, as a scalar mapped to it makes
// gqlgen do.
const execSample = `package graph

import (
	"context"
	"storefront/graphqlexec"

	"github.com/99designs/gqlgen/graphql"
)

func (e *executableSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	ec := newExecutionContext(opCtx, e, make(chan graphql.DeferredResult))
	inputUnmarshalMap := graphql.BuildUnmarshalerMap(
		ec.unmarshalInputAddressInput,
		ec.unmarshalInputCartLineInput,
	)
	first := true
	switch opCtx.Operation.Operation {
	case ast.Query:
		ctx = graphql.WithUnmarshalerMap(ctx, inputUnmarshalMap)
		return ec._Query(ctx, opCtx.Operation.SelectionSet)
	case ast.Mutation:
		ctx = graphql.WithUnmarshalerMap(ctx, inputUnmarshalMap)
		return ec._Mutation(ctx, opCtx.Operation.SelectionSet)
	}
	return graphqlexec.Nothing(first)
}
`

// TestRewriteSourceDropsTheUnmarshalerMap: the map is neither built nor put in the context, and
// an import of graphqlexec that gqlgen wrote is not written twice.
func TestRewriteSourceDropsTheUnmarshalerMap(t *testing.T) {
	code, report := (&rewrites{}).rewriteSource(execSample)
	for _, gone := range []string{"BuildUnmarshalerMap", "WithUnmarshalerMap", "inputUnmarshalMap"} {
		if strings.Contains(code, gone) {
			t.Errorf("rewritten Exec still has %s:\n%s", gone, code)
		}
	}
	if n := strings.Count(code, inOrderImport); n != 1 {
		t.Errorf("graphqlexec imported %d times; want once:\n%s", n, code)
	}
	if !strings.Contains(report, "operation kinds no longer given the input unmarshalers' map: 2\n") {
		t.Errorf("report: %s", report)
	}
	if _, err := format.Source([]byte(code)); err != nil {
		t.Errorf("rewritten Exec does not parse: %v", err)
	}
}

// TestNothingReadsTheUnmarshalerMap: graphql.UnmarshalInputFromContext reads the map the
// rewrite no longer builds, so no code of the server may call it.
func TestNothingReadsTheUnmarshalerMap(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bench-results" || d.Name() == "bin" || d.Name() == ".data") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasPrefix(path, filepath.Join(root, "cmd", "generate")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "UnmarshalInputFromContext") || strings.Contains(string(src), "UnmarshalerMap") {
			t.Errorf("%s reads or builds the input unmarshalers' map, which Exec no longer provides", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
