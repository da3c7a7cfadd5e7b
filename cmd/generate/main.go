// Command generate regenerates graph/ from schema.graphqls and gqlgen.yml with gqlgen, then
// points the generated marshalers of lists whose elements reach no resolver at
// graphqlexec.MarshalSliceInOrder, so those lists are marshaled without a goroutine per element.
// `make generate` runs it from the repository root; the result is committed.
package main

import (
	"bytes"
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
	lists := &plainLists{}
	if err := api.Generate(cfg, api.AddPlugin(lists)); err != nil {
		return err
	}
	return lists.rewrite(cfg.Exec.Filename)
}

// plainLists is a gqlgen plugin that, while gqlgen builds its picture of the schema, notes the
// marshal functions of lists whose element types are plain: no field of theirs, nor of any
// type reachable from them, runs on a goroutine of its own (a resolver, or a method taking a
// context). Elements of such lists are only read, so marshaling them in turn loses nothing.
type plainLists struct {
	funcs map[string]string // marshal function name → element type, for the report
}

// Name implements plugin.Plugin.
func (*plainLists) Name() string { return "plainlists" }

// GenerateCode implements plugin.CodeGenerator; gqlgen calls it before writing the executor.
func (p *plainLists) GenerateCode(data *codegen.Data) error {
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
						leadsTo = append(leadsTo, f.TypeReference.Definition.Name)
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

// rewrite replaces MarshalSliceConcurrently in the noted functions of the generated file.
func (p *plainLists) rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	starts := funcStart.FindAllSubmatchIndex(src, -1)
	var out bytes.Buffer
	done := map[string]bool{}
	last := 0
	for i, m := range starts {
		name := string(src[m[2]:m[3]])
		if _, ok := p.funcs[name]; !ok {
			continue
		}
		end := len(src)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		body := string(src[m[0]:end])
		if strings.Count(body, concurrentCall) != 1 {
			continue
		}
		out.Write(src[last:m[0]])
		out.WriteString(strings.Replace(body, concurrentCall, inOrderCall, 1))
		last = end
		done[name] = true
	}
	out.Write(src[last:])
	if len(done) == 0 {
		return nil
	}
	code := out.String()
	// The import goes in a group of its own at the end of the import block.
	start := strings.Index(code, "\nimport (\n")
	end := strings.Index(code[max(start, 0):], "\n)\n")
	if start < 0 || end < 0 {
		return fmt.Errorf("%s: no import block to add %s to", path, inOrderImport)
	}
	end += start
	code = code[:end] + "\n\n\t" + inOrderImport + code[end:]
	formatted, err := format.Source([]byte(code))
	if err != nil {
		return fmt.Errorf("%s after the rewrite: %w", path, err)
	}
	if err := os.WriteFile(path, formatted, 0o644); err != nil {
		return err
	}
	types := map[string]bool{}
	for name := range done {
		types[p.funcs[name]] = true
	}
	names := make([]string, 0, len(types))
	for name := range types {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Printf("lists marshaled in order: %s\n", strings.Join(names, ", "))
	return nil
}
