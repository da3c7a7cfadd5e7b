// Command generate regenerates graph/ from schema.graphqls and gqlgen.yml with gqlgen, then
// points the generated marshalers of lists whose elements reach no resolver at
// graphqlexec.MarshalSliceInOrder, so those lists are marshaled without a goroutine per element.
// `make generate` runs it from the repository root; the result is committed.
package main

import (
	"fmt"
	"go/format"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/vektah/gqlparser/v2/ast"
)

const (
	concurrentCall = "graphql.MarshalSliceConcurrently("
	inOrderCall    = "graphqlexec.MarshalSliceInOrder("
	inOrderImport  = `"storefront/graphqlexec"`
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		return err
	}
	rw := &rewrites{}
	if err := api.Generate(cfg, api.AddPlugin(rw)); err != nil {
		return err
	}
	return rw.rewrite(cfg.Exec.Filename)
}

// rewrites holds what the rewrites of the generated executor need (see rewriteSource). As a
// gqlgen plugin it notes, while gqlgen builds its picture of the schema, the marshal functions
// of lists whose element types are plain: no field of theirs, nor of any
// type reachable from them, runs on a goroutine of its own (a resolver, or a method taking a
// context). Elements of such lists are only read, so marshaling them in turn loses nothing.
type rewrites struct {
	funcs map[string]string // marshal function name → element type, for the report
}

// Name implements plugin.Plugin.
func (*rewrites) Name() string { return "storefront-rewrites" }

// GenerateCode implements plugin.CodeGenerator; gqlgen calls it before writing the executor.
func (p *rewrites) GenerateCode(data *codegen.Data) error {
	plain := plainTypes(data)
	p.funcs = map[string]string{}
	for _, ref := range data.ReferencedTypes {
		if !ref.IsSlice() || ref.Definition == nil || !plain[ref.Definition.Name] {
			continue
		}
		p.funcs[ref.MarshalFunc()] = ref.Definition.Name
	}
	return nil
}

// plainTypes answers, for each object, interface and union of the schema, whether it is plain.
// It starts from the types with a concurrent field and spreads "not plain" to every type that
// can lead to one, until nothing changes.
func plainTypes(data *codegen.Data) map[string]bool {
	plain := map[string]bool{}
	for _, def := range data.Schema.Types {
		switch def.Kind {
		case ast.Object, ast.Interface, ast.Union:
			plain[def.Name] = true
		}
	}
	objects := map[string]*codegen.Object{}
	for _, obj := range data.Objects {
		objects[obj.Name] = obj
		for _, f := range obj.Fields {
			if f.IsConcurrent() {
				plain[obj.Name] = false
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for name, ok := range plain {
			if !ok {
				continue
			}
			def := data.Schema.Types[name]
			var leadsTo []string
			switch def.Kind {
			case ast.Object:
				if obj := objects[name]; obj != nil {
					for _, f := range obj.Fields {
						if f.TypeReference != nil && f.TypeReference.Definition != nil {
							leadsTo = append(leadsTo, f.TypeReference.Definition.Name)
						}
					}
				}
			default:
				for _, t := range data.Schema.GetPossibleTypes(def) {
					leadsTo = append(leadsTo, t.Name)
				}
			}
			for _, t := range leadsTo {
				if isPlain, known := plain[t]; known && !isPlain {
					plain[name], changed = false, true
					break
				}
			}
		}
	}
	return plain
}

var funcStart = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) ([^\s(]+)\(`)

// rewrite applies rewriteSource to the generated file.
func (p *rewrites) rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	code, report := p.rewriteSource(string(src))
	formatted, err := format.Source([]byte(code))
	if err != nil {
		return fmt.Errorf("%s after the rewrite: %w", path, err)
	}
	if err := os.WriteFile(path, formatted, 0o644); err != nil {
		return err
	}
	fmt.Print(report)
	return nil
}

// rewriteSource makes three changes to gqlgen's executor, none of which changes an answer:
//
//   - the marshal functions of plain lists call graphqlexec.MarshalSliceInOrder;
//   - an object's marshal function registers its @defer group only when it has one: gqlgen
//     computes the object's path (a walk up the field contexts and a slice) for every object of
//     every answer, only to hand it to a function that returns at once when nothing is deferred;
//     objects without a concurrent field, whose fields can never be deferred, no longer allocate
//     the deferred field set and map either;
//   - a scalar field's "does not have child fields" error is made once, not on every field of
//     every answer.
//
// It returns the code and a report of what it changed.
func (p *rewrites) rewriteSource(src string) (string, string) {
	starts := funcStart.FindAllStringSubmatchIndex(src, -1)
	var out strings.Builder
	lists := map[string]bool{}
	guarded, unallocated := 0, 0
	out.WriteString(src[:firstStart(starts, len(src))])
	for i, m := range starts {
		end := len(src)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		name, body := src[m[2]:m[3]], src[m[0]:end]
		if elem, ok := p.funcs[name]; ok && strings.Count(body, concurrentCall) == 1 {
			body = strings.Replace(body, concurrentCall, inOrderCall, 1)
			lists[elem] = true
		}
		if strings.Contains(body, deferredGroup) {
			body = strings.Replace(body, deferredGroup, guardedDeferredGroup, 1)
			guarded++
			if !strings.Contains(body, "IsDeferred()") && strings.Contains(body, deferredState) {
				body = strings.Replace(body, deferredState, noDeferredState, 1)
				unallocated++
			}
		}
		out.WriteString(body)
	}
	code := out.String()

	var report strings.Builder
	if len(lists) > 0 {
		// The import goes in a group of its own at the end of the import block.
		if start := strings.Index(code, "\nimport (\n"); start >= 0 {
			if end := strings.Index(code[start:], "\n)\n"); end >= 0 {
				end += start
				code = code[:end] + "\n\n\t" + inOrderImport + code[end:]
			}
		}
		names := make([]string, 0, len(lists))
		for name := range lists {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Fprintf(&report, "lists marshaled in order: %s\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(&report, "objects registering @defer groups only when they have one: %d (%d without deferred state)\n",
		guarded, unallocated)

	hoisted := map[string]string{}
	code = childErr.ReplaceAllStringFunc(code, func(call string) string {
		typ := childErr.FindStringSubmatch(call)[1]
		name := "errNoChildFields" + typ
		hoisted[name] = typ
		return name
	})
	if len(hoisted) > 0 {
		names := make([]string, 0, len(hoisted))
		for name := range hoisted {
			names = append(names, name)
		}
		sort.Strings(names)
		code += "\n// Errors of scalar fields asked for child fields, made once.\nvar (\n"
		for _, name := range names {
			code += fmt.Sprintf("\t%s = errors.New(%q)\n", name, "field of type "+hoisted[name]+" does not have child fields")
		}
		code += ")\n"
		fmt.Fprintf(&report, "scalar child-field errors made once: %d types\n", len(hoisted))
	}
	return code, report.String()
}

func firstStart(starts [][]int, n int) int {
	if len(starts) == 0 {
		return n
	}
	return starts[0][0]
}

// The generated code rewriteSource looks for, as gqlgen v0.17.95 writes it.
var childErr = regexp.MustCompile(`errors\.New\("field of type (\w+) does not have child fields"\)`)

const (
	deferredGroup = `	atomic.AddInt32(&ec.Deferred, int32(min(len(deferLabelToView), math.MaxInt32)))

	ec.ProcessDeferredGroup(graphql.DeferredGroup{
		Defers:   deferLabelToView,
		Path:     graphql.GetPath(ctx),
		FieldSet: deferredFieldSet,
		Context:  ctx,
	})
`
	guardedDeferredGroup = `	if len(deferLabelToView) > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(len(deferLabelToView), math.MaxInt32)))
		ec.ProcessDeferredGroup(graphql.DeferredGroup{
			Defers:   deferLabelToView,
			Path:     graphql.GetPath(ctx),
			FieldSet: deferredFieldSet,
			Context:  ctx,
		})
	}
`
	deferredState = `	deferredFieldSet := graphql.NewFieldSet(nil)
	deferLabelToView := make(map[string]*graphql.FieldSetView)
`
	noDeferredState = `	var deferredFieldSet *graphql.FieldSet
	var deferLabelToView map[string]*graphql.FieldSetView
`
)
