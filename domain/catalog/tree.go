package catalog

import "sort"

// Tree is the whole category tree, read at once: categories are few (tens), so holding them all
// is cheaper than asking the database for parents, children and subtrees one by one.
type Tree struct {
	byID     map[int64]Category
	children map[int64][]int64 // parent id (0 for the top level) → children, in display order
}

// NewTree builds a tree from every category. Siblings are ordered by position, then name.
func NewTree(categories []Category) *Tree {
	t := &Tree{byID: make(map[int64]Category, len(categories)), children: map[int64][]int64{}}
	sorted := append([]Category(nil), categories...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Position != b.Position {
			return a.Position < b.Position
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	for _, c := range sorted {
		t.byID[c.ID] = c
		t.children[c.ParentID] = append(t.children[c.ParentID], c.ID)
	}
	return t
}

// Get returns the category with id.
func (t *Tree) Get(id int64) (Category, bool) {
	c, ok := t.byID[id]
	return c, ok
}

// Roots returns the top-level categories.
func (t *Tree) Roots() []Category { return t.list(t.children[0]) }

// Children returns the categories directly below id.
func (t *Tree) Children(id int64) []Category { return t.list(t.children[id]) }

func (t *Tree) list(ids []int64) []Category {
	out := make([]Category, 0, len(ids))
	for _, id := range ids {
		out = append(out, t.byID[id])
	}
	return out
}

// Subtree returns ids and every category below them, each once. Unknown ids are left out, so a
// filter on a category that does not exist matches nothing.
func (t *Tree) Subtree(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	var walk func(id int64)
	walk = func(id int64) {
		if seen[id] {
			return
		}
		seen[id] = true
		out = append(out, id)
		for _, child := range t.children[id] {
			walk(child)
		}
	}
	for _, id := range ids {
		if _, ok := t.byID[id]; ok {
			walk(id)
		}
	}
	if out == nil {
		out = []int64{}
	}
	return out
}
