package graphqlexec

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

func collected(aliases ...string) []graphql.CollectedField {
	fields := make([]graphql.CollectedField, len(aliases))
	for i, alias := range aliases {
		fields[i] = graphql.CollectedField{Field: &ast.Field{Name: strings.TrimSuffix(alias, "2"), Alias: alias}}
	}
	return fields
}

// TestObjectWritesWhatFieldSetWrites: for the same fields and values, Object's JSON is gqlgen's,
// including a repeated alias (written once, the first value) and more fields than it holds inline.
func TestObjectWritesWhatFieldSetWrites(t *testing.T) {
	many := make([]string, objectInline+3)
	for i := range many {
		many[i] = fmt.Sprintf("f%d", i)
	}
	for name, aliases := range map[string][]string{
		"none":     {},
		"one":      {"id"},
		"several":  {"id", "name", "price", "__typename"},
		"repeated": {"id", "name", "id"},
		"many":     many,
	} {
		t.Run(name, func(t *testing.T) {
			fields := collected(aliases...)
			obj, set := NewObject(fields), graphql.NewFieldSet(fields)
			if len(obj.Values) != len(fields) {
				t.Fatalf("%d values for %d fields", len(obj.Values), len(fields))
			}
			for i, alias := range aliases {
				var v graphql.Marshaler = graphql.MarshalString(fmt.Sprintf("%s#%d \"q\"", alias, i))
				if i%3 == 2 {
					v = graphql.Null
				}
				obj.Values[i], set.Values[i] = v, v
			}
			var got, want strings.Builder
			obj.MarshalGQL(&got)
			set.MarshalGQL(&want)
			if got.String() != want.String() {
				t.Errorf("Object wrote %s\nFieldSet wrote %s", got.String(), want.String())
			}
		})
	}
}

// TestObjectAllocatesOnceWhenSmall: an object of up to objectInline fields is one allocation to
// start and none to write, which is the point of it.
func TestObjectAllocatesOnceWhenSmall(t *testing.T) {
	fields := collected("id", "name", "amount")
	var b bytes.Buffer
	b.Grow(1 << 10)
	allocs := testing.AllocsPerRun(100, func() {
		obj := NewObject(fields)
		for i := range obj.Values {
			obj.Values[i] = graphql.Null
		}
		b.Reset()
		obj.MarshalGQL(&b)
	})
	if allocs != 1 {
		t.Errorf("%v allocations per object; want 1", allocs)
	}
}
