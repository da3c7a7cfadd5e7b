package graphqlexec

import "github.com/vektah/gqlparser/v2/ast"

// LeafFields names, by their GraphQL names, the fields of one object type that cmd/generate has
// written directly: strings, ids, integers and booleans read straight from the model, which use
// neither the field's context nor anything that can fail. cmd/generate writes a table per type.
type LeafFields map[string]bool

// LeavesOnly reports whether a selection set on the type asks for nothing but its plain leaves
// and __typename. Such a selection can be written without a field context for the object that
// holds it, as nothing under it reads one. Fragments count with their fields; a fragment with
// a directive (@defer, @skip, @include) makes the answer false, to leave those to gqlgen.
func LeavesOnly(sel ast.SelectionSet, leaves LeafFields) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name != "__typename" && !leaves[s.Name] {
				return false
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || !LeavesOnly(s.SelectionSet, leaves) {
				return false
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || s.Definition == nil || !LeavesOnly(s.Definition.SelectionSet, leaves) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
