package graphqlexec

import (
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// collectLimit bounds the fields cache: past it the cache starts over. Stored operations give
// a few hundred entries; the bound is for clients sending ever new documents.
const collectLimit = 1 << 14

// collectKey names one selection set of one parsed document for one object type. The pointers
// keep the selection set and the type's list alive while the entry exists, so a key can never
// come to name other memory.
type collectKey struct {
	first     *ast.Selection
	n         int
	satisfies *string
}

// fieldsCache holds collected fields across operations. It is safe for concurrent use.
type fieldsCache struct {
	mu      sync.RWMutex
	entries map[collectKey][]graphql.CollectedField
	// stable are the selection sets whose backing arrays outlive the operation: those of cached
	// fields. A selection set the cache did not hand out may be a fresh copy made for one
	// operation, whose entry nobody would ask for again.
	stable map[*ast.Selection]bool
}

var sharedFields = &fieldsCache{}

// CollectFields is graphql.CollectFields with a cache shared by all operations on the same
// parsed document (gqlgen caches parsed documents, and the load's operations are stored ones).
// gqlgen's own cache lives for one operation, so an answer pays for collecting each of its
// selection sets at least once: a copy of every field and selection, a map, a hash. What fields
// a selection set collects depends on the operation's variables only through directives, so a
// selection set with none, in its fragments included, is cached; any other is collected afresh.
func CollectFields(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	key := collectKey{first: &sel[0], n: len(sel), satisfies: &satisfies[0]}
	root := oc.Operation != nil && len(oc.Operation.SelectionSet) > 0 && &oc.Operation.SelectionSet[0] == key.first
	fields, hit, stable := sharedFields.lookup(key)
	if hit {
		return fields
	}
	fields = graphql.CollectFields(oc, sel, satisfies)
	if (stable || root) && unconditional(oc.Doc, sel, 0) {
		sharedFields.store(key, fields)
	}
	return fields
}

func (c *fieldsCache) lookup(key collectKey) (fields []graphql.CollectedField, hit, stable bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fields, hit = c.entries[key]
	return fields, hit, c.stable[key.first]
}

func (c *fieldsCache) store(key collectKey, fields []graphql.CollectedField) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= collectLimit {
		c.entries = make(map[collectKey][]graphql.CollectedField)
		c.stable = make(map[*ast.Selection]bool)
	}
	c.entries[key] = fields
	for i := range fields {
		if len(fields[i].Selections) > 0 {
			c.stable[&fields[i].Selections[0]] = true
		}
	}
}

// unconditional reports whether no field or fragment of the selection set, its fragments'
// included, carries a directive: then the fields collected from it are the same whatever the
// operation's variables.
func unconditional(doc *ast.QueryDocument, sel ast.SelectionSet, depth int) bool {
	if depth > 32 {
		return false
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 {
				return false
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || !unconditional(doc, s.SelectionSet, depth+1) {
				return false
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || doc == nil {
				return false
			}
			fragment := doc.Fragments.ForName(s.Name)
			if fragment == nil || !unconditional(doc, fragment.SelectionSet, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
