// Command generate regenerates graph/ from schema.graphqls and gqlgen.yml with gqlgen, then
// rewrites parts of the generated executor that cost every answer without changing any (see
// rewriteSource): chiefly, lists whose elements reach no resolver, or whose selection reaches
// none, are marshaled without a goroutine per element.
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
	// chosenCall marshals in order or concurrently depending on the selection (see
	// graphqlexec.MarshalSlice), against the table concurrentFieldsVar.
	chosenCall          = "graphqlexec.MarshalSlice(ctx, " + concurrentFieldsVar + ", sel, "
	concurrentFieldsVar = "concurrentFields"
	leafFieldsVar       = "leafFields" // + the type: the table of a type's plain leaves
	inOrderImport       = `"storefront/graphqlexec"`
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
	// chosen are the marshal functions of the other lists of objects, interfaces and unions:
	// name → element type. Whether they reach a resolver depends on what is selected.
	chosen map[string]string
	// concurrent are the schema's concurrent fields, as "Type.field".
	concurrent []string
}

// Name implements plugin.Plugin.
func (*rewrites) Name() string { return "storefront-rewrites" }

// GenerateCode implements plugin.CodeGenerator; gqlgen calls it before writing the executor.
func (p *rewrites) GenerateCode(data *codegen.Data) error {
	plain := plainTypes(data)
	p.funcs, p.chosen = map[string]string{}, map[string]string{}
	for _, ref := range data.ReferencedTypes {
		if !ref.IsSlice() || ref.Definition == nil {
			continue
		}
		isPlain, known := plain[ref.Definition.Name]
		switch {
		case isPlain:
			p.funcs[ref.MarshalFunc()] = ref.Definition.Name
		case known:
			p.chosen[ref.MarshalFunc()] = ref.Definition.Name
		}
	}
	p.concurrent = concurrentFields(data)
	return nil
}

// concurrentFields lists the fields gqlgen runs on goroutines of their own, as "Type.field",
// sorted; an interface's field is listed when an implementation's is.
func concurrentFields(data *codegen.Data) []string {
	set := map[string]bool{}
	for _, obj := range data.Objects {
		for _, f := range obj.Fields {
			if !f.IsConcurrent() {
				continue
			}
			set[obj.Name+"."+f.Name] = true
			for _, iface := range obj.Definition.Interfaces {
				if def := data.Schema.Types[iface]; def != nil && def.Fields.ForName(f.Name) != nil {
					set[iface+"."+f.Name] = true
				}
			}
		}
	}
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
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

// rewriteSource makes these changes to gqlgen's executor, none of which changes an answer:
//
//   - the marshal functions of plain lists call graphqlexec.MarshalSliceInOrder, and those of
//     the other lists of objects graphqlexec.MarshalSlice, which marshals in order when the
//     selection reaches no concurrent field (the table concurrentFields, appended to the file);
//
//   - an object's marshal function registers its @defer group only when it has one: gqlgen
//     computes the object's path (a walk up the field contexts and a slice) for every object of
//     every answer, only to hand it to a function that returns at once when nothing is deferred;
//     objects without a concurrent field, whose fields can never be deferred, no longer allocate
//     the deferred field set and map either;
//
//   - an object without a concurrent field is answered by a graphqlexec.Object instead of
//     gqlgen's graphql.FieldSet: the same JSON, without the iterator, the heap copy of every
//     collected field and the map of written aliases that FieldSet spends on every object it
//     writes; there is nothing to dispatch, so the Dispatch call goes;
//
//   - objects collect their fields through graphqlexec.CollectFields, whose cache outlives the
//     operation, instead of gqlgen's, which starts empty for every one;
//
//   - a scalar field's "does not have child fields" error is made once, not on every field of
//     every answer.
//
//   - the operation no longer builds the map of input unmarshalers that gqlgen puts in every
//     operation's context (ten bound methods, their reflected types and a map, per request):
//     only graphql.UnmarshalInputFromContext reads it, and nothing in the server calls that
//     (TestNothingReadsTheUnmarshalerMap keeps it so).
//
//   - a plain leaf, a String, ID, Int or Boolean field read straight from a struct field of the
//     model, is written by its marshaler directly: gqlgen gives each such field a field context,
//     a context, a deferred recover, two closures and two boxings of the value, for a read that
//     cannot fail and a marshaler that never yields null. Field middleware therefore does not
//     run around these fields (see app.App.AroundFields).
//
//   - a field holding an object all of whose fields are plain leaves (money, say) is written
//     by its marshaler directly when the value is set, for the same reasons; when it is nil,
//     gqlgen's code reports it as before. A field holding another object is written so when,
//     besides, its selection asks for that object's plain leaves alone (a cart line's
//     product { id name }), as graphqlexec.LeavesOnly tells at run time.
//
// It returns the code and a report of what it changed.
func (p *rewrites) rewriteSource(src string) (string, string) {
	starts := funcStart.FindAllStringSubmatchIndex(src, -1)
	var out strings.Builder
	lists, chosen := map[string]bool{}, map[string]bool{}
	allLeaves := map[string]bool{}   // model type → every field function of it is a plain leaf
	leafFuncs := map[string]string{} // function of a plain leaf → its model type
	guarded, unallocated, objects, leaves := 0, 0, 0, 0
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
		if elem, ok := p.chosen[name]; ok && strings.Count(body, concurrentCall+"ctx, ") == 1 {
			body = strings.Replace(body, concurrentCall+"ctx, ", chosenCall, 1)
			chosen[elem] = true
		}
		if strings.Contains(body, deferredGroup) {
			body = strings.Replace(body, deferredGroup, guardedDeferredGroup, 1)
			guarded++
			if !strings.Contains(body, "IsDeferred()") && strings.Contains(body, deferredState) {
				body = strings.Replace(body, deferredState, noDeferredState, 1)
				unallocated++
			}
		}
		if strings.Contains(body, noDeferredState) && !strings.Contains(body, "out.Concurrently(") &&
			strings.Count(body, fieldSetStart) == 1 && strings.Count(body, fieldSetDispatch) == 1 {
			body = strings.Replace(body, fieldSetStart, objectStart, 1)
			body = strings.Replace(body, fieldSetDispatch, "", 1)
			objects++
		}
		isLeaf := plainLeaf.MatchString(body)
		if isLeaf {
			body = plainLeaf.ReplaceAllString(body, plainLeafDirect)
			leaves++
		}
		if m := modelField.FindStringSubmatch(body); m != nil {
			if all, seen := allLeaves[m[2]]; !seen || all {
				allLeaves[m[2]] = isLeaf
			}
			if isLeaf {
				leafFuncs[m[1]] = m[2]
			}
		}
		out.WriteString(body)
	}
	code := out.String()

	// A model type all of whose fields are plain leaves uses no context when it is written, so a
	// field holding one can skip gqlgen's per-field machinery too, as long as the value is there:
	// a missing one keeps gqlgen's path, which reports it on the field's own path.
	// Of the other types, a field whose selection asks for plain leaves alone is written the same
	// way; graphqlexec.LeavesOnly checks the selection against the type's table of them.
	leafNames := map[string][]string{} // model type → the GraphQL names of its plain leaves
	for _, m := range objectCase.FindAllStringSubmatch(code, -1) {
		if typ, ok := leafFuncs[m[2]]; ok && !allLeaves[typ] {
			leafNames[typ] = append(leafNames[typ], m[1])
		}
	}
	directObjects, checkedObjects := map[string]bool{}, map[string]bool{}
	code = objectField.ReplaceAllStringFunc(code, func(call string) string {
		m := objectField.FindStringSubmatch(call)
		goField, typ, marshal := m[1], m[2], m[3]
		cond := "obj." + goField + " != nil"
		switch {
		case allLeaves[typ]:
			directObjects[typ] = true
		case len(leafNames[typ]) > 0:
			checkedObjects[typ] = true
			cond += " && graphqlexec.LeavesOnly(field.Selections, " + leafFieldsVar + typ + ")"
		default:
			return call
		}
		return fmt.Sprintf("\tif %s {\n\t\treturn ec.%s(ctx, field.Selections, obj.%s)\n\t}\n", cond, marshal, goField) + call
	})
	for _, typ := range sortedKeys(checkedObjects) {
		names := leafNames[typ]
		sort.Strings(names)
		code += fmt.Sprintf("\n// The plain leaves of %s (graphqlexec.LeavesOnly).\nvar %s%s = graphqlexec.LeafFields{\n", typ, leafFieldsVar, typ)
		for _, name := range names {
			code += fmt.Sprintf("\t%q: true,\n", name)
		}
		code += "}\n"
	}

	collects := strings.Count(code, gqlgenCollect)
	code = strings.ReplaceAll(code, gqlgenCollect, cachedCollect)

	unmarshalerMaps := 0
	if built := unmarshalerMapBuilt.FindAllStringIndex(code, -1); len(built) == 1 {
		code = code[:built[0][0]] + code[built[0][1]:]
		unmarshalerMaps = strings.Count(code, unmarshalerMapPut)
		code = strings.ReplaceAll(code, unmarshalerMapPut, "")
	}

	var report strings.Builder
	if len(chosen) > 0 {
		code += "\n// The fields run on goroutines of their own: a list whose selection reaches none of them is\n" +
			"// marshaled in order (graphqlexec.MarshalSlice).\nvar " + concurrentFieldsVar + " = graphqlexec.ConcurrentFields{\n"
		for _, name := range p.concurrent {
			code += fmt.Sprintf("\t%q: true,\n", name)
		}
		code += "}\n"
		fmt.Fprintf(&report, "lists marshaled in order unless the selection reaches a resolver: %s\n", strings.Join(sortedKeys(chosen), ", "))
	}
	if strings.Contains(code, "graphqlexec.") && !strings.Contains(code, "\n\t"+inOrderImport+"\n") {
		// The import goes in a group of its own at the end of the import block, unless gqlgen
		// wrote it already for a scalar gqlgen.yml maps to graphqlexec.
		if start := strings.Index(code, "\nimport (\n"); start >= 0 {
			if end := strings.Index(code[start:], "\n)\n"); end >= 0 {
				end += start
				code = code[:end] + "\n\n\t" + inOrderImport + code[end:]
			}
		}
	}
	if len(lists) > 0 {
		fmt.Fprintf(&report, "lists marshaled in order: %s\n", strings.Join(sortedKeys(lists), ", "))
	}
	fmt.Fprintf(&report, "objects registering @defer groups only when they have one: %d (%d without deferred state)\n",
		guarded, unallocated)
	fmt.Fprintf(&report, "objects written by graphqlexec.Object: %d\n", objects)
	fmt.Fprintf(&report, "objects collecting their fields through graphqlexec's cache: %d\n", collects)
	fmt.Fprintf(&report, "plain leaves written directly: %d\n", leaves)
	fmt.Fprintf(&report, "operation kinds no longer given the input unmarshalers' map: %d\n", unmarshalerMaps)
	fmt.Fprintf(&report, "fields of all-leaf objects written directly when set: %s\n", strings.Join(sortedKeys(directObjects), ", "))
	fmt.Fprintf(&report, "fields of other objects written directly when set and asking for leaves only: %s\n", strings.Join(sortedKeys(checkedObjects), ", "))

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

func sortedKeys(m map[string]bool) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func firstStart(starts [][]int, n int) int {
	if len(starts) == 0 {
		return n
	}
	return starts[0][0]
}

// structFieldResolve matches the body gqlgen writes for a field read from a struct field of obj
// (the first group) without a resolver: its ResolveField call, whose value has the type vType and
// goes to the marshaler marshal matches. Both are regular expressions and may hold groups.
func structFieldResolve(vType, marshal string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)\treturn graphql\.ResolveField\(
\t\tctx,
\t\tec\.OperationContext,
\t\tfield,
\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
\t\t\treturn ec\.fieldContext_\w+\(ctx, field\)
\t\t\},
\t\tfunc\(ctx context\.Context\) \(any, error\) \{
\t\t\treturn obj\.(\w+), nil
\t\t\},
\t\tnil,
\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v ` + vType + `\) graphql\.Marshaler \{
\t\t\treturn ec\.` + marshal + `\(ctx, selections, v\)
\t\t\},
\t\t\w+,
\t\t\w+,
\t\)
`)
}

// The generated code rewriteSource looks for, as gqlgen v0.17.95 writes it.
var (
	childErr = regexp.MustCompile(`errors\.New\("field of type (\w+) does not have child fields"\)`)

	// plainLeaf is a field function whose resolver returns a struct field of obj and whose
	// marshaler is one of those that never turn a value into null (so never report an error
	// and never need the field's context): strings, ids, integers and booleans, nullable or not.
	plainLeaf = structFieldResolve(`\S+`,
		`(marshal(?:N(?:String|ID)2string|NInt2int|NBoolean2bool|O(?:String|ID)2ᚖstring|OInt2ᚖint|OBoolean2ᚖ?bool))`)
	plainLeafDirect = "\treturn ec.${2}(ctx, field.Selections, obj.${1})\n"

	// modelField is the signature of a field function on a model type; the groups are the
	// function and the type.
	modelField = regexp.MustCompile(`^func \(ec \*executionContext\) (\w+)\(ctx context\.Context, field graphql\.CollectedField, obj \*model\.(\w+)\)`)

	// objectCase is where an object's marshal function calls a field function: the groups are
	// the field's GraphQL name and the function.
	objectCase = regexp.MustCompile(`case "(\w+)":\n\t+out\.Values\[i\] = ec\.(\w+)\(ctx, field, obj\)\n`)

	// objectField is a field function whose resolver returns a struct field of obj holding a
	// pointer to a model type: the groups are the struct field, the type and its marshaler.
	objectField = structFieldResolve(`\*model\.(\w+)`, `(marshal[NO][^\s(]+)`)

	// unmarshalerMapBuilt is Exec's building of the input unmarshalers' map, and
	// unmarshalerMapPut its putting the map in the context, once per kind of operation.
	unmarshalerMapBuilt = regexp.MustCompile(`\tinputUnmarshalMap := graphql\.BuildUnmarshalerMap\(\n(?:\t\tec\.\w+,\n)*\t\)\n`)
)

const unmarshalerMapPut = "ctx = graphql.WithUnmarshalerMap(ctx, inputUnmarshalMap)\n"

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
	gqlgenCollect    = "graphql.CollectFields(ec.OperationContext, sel, "
	cachedCollect    = "graphqlexec.CollectFields(ec.OperationContext, sel, "
	fieldSetStart    = "\tout := graphql.NewFieldSet(fields)\n"
	objectStart      = "\tout := graphqlexec.NewObject(fields)\n"
	fieldSetDispatch = "\tout.Dispatch(ctx)\n"
)
