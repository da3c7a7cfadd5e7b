package graphqlexec

import (
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// objectInline is how many field values an Object holds without a second allocation: money,
// images, cart lines and most products ask for fewer.
const objectInline = 8

// Object is the answer of an object none of whose fields runs on a goroutine of its own, in
// place of gqlgen's graphql.FieldSet; cmd/generate points those objects' marshal functions at it.
// It is filled the same way (Values by index, Invalids counted by the caller) and writes the
// same JSON, but cheaper: gqlgen's FieldSet writes through an iterator that copies each
// collected field to the heap and notes every written alias in a fresh map, which for a cart's
// lines is most of the allocations of the whole answer. Object has no Dispatch, as nothing of
// it is delayed.
type Object struct {
	fields []graphql.CollectedField
	// Values are the fields' answers, by the index of their collected field.
	Values []graphql.Marshaler
	// Invalids counts the non-null fields that came out null, which makes the object null.
	Invalids uint32
	inline   [objectInline]graphql.Marshaler
}

// NewObject starts the answer of an object with the fields graphql.CollectFields gave.
func NewObject(fields []graphql.CollectedField) *Object {
	o := &Object{fields: fields}
	if len(fields) <= objectInline {
		o.Values = o.inline[:len(fields)]
	} else {
		o.Values = make([]graphql.Marshaler, len(fields))
	}
	return o
}

// MarshalGQL writes the object's fields in order. Like gqlgen's FieldSet, a field whose alias
// was written already is left out: collected fields are merged by name and alias, but two
// fragments on unrelated interfaces can each bring the same field.
func (o *Object) MarshalGQL(w io.Writer) {
	io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if aliasBefore(o.fields[:i], alias) {
			continue
		}
		if !first {
			io.WriteString(w, ",")
		}
		first = false
		// An alias is a GraphQL name, [_A-Za-z][_0-9A-Za-z]*: nothing in it needs escaping.
		io.WriteString(w, `"`)
		io.WriteString(w, alias)
		io.WriteString(w, `":`)
		o.Values[i].MarshalGQL(w)
	}
	io.WriteString(w, "}")
}

// aliasBefore reports whether one of fields has the alias. Objects have few fields, so a scan
// costs less than the map gqlgen fills for the same question.
func aliasBefore(fields []graphql.CollectedField, alias string) bool {
	for i := range fields {
		if fields[i].Alias == alias {
			return true
		}
	}
	return false
}
