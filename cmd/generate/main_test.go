package main

import (
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
