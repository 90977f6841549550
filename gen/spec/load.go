package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Errors is a list of spec errors, each "file:line: message".
type Errors []error

func (e Errors) Error() string {
	var b strings.Builder
	for i, err := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// Load reads every package folder under dir (each a folder of *.yaml files), then resolves
// and checks the whole specification.
func Load(dir string) (*Spec, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Spec{byName: map[string]*Package{}}
	var errs Errors
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			continue
		}
		sort.Strings(files)
		p := &Package{Name: e.Name()}
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			f, ferrs := parseFile(filepath.ToSlash(path), data)
			errs = append(errs, ferrs...)
			if f != nil {
				f.Pkg = p
				p.Files = append(p.Files, f)
			}
		}
		s.Packages = append(s.Packages, p)
		s.byName[p.Name] = p
	}
	if len(errs) == 0 {
		errs = append(errs, s.resolve()...)
	}
	if len(errs) > 0 {
		return s, errs
	}
	return s, nil
}

// LoadFiles parses the given files as one package (used by the generator's own tests).
func LoadFiles(pkg string, files map[string][]byte) (*Spec, error) {
	s := &Spec{byName: map[string]*Package{}}
	p := &Package{Name: pkg}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs Errors
	for _, n := range names {
		f, ferrs := parseFile(n, files[n])
		errs = append(errs, ferrs...)
		if f != nil {
			f.Pkg = p
			p.Files = append(p.Files, f)
		}
	}
	s.Packages = append(s.Packages, p)
	s.byName[pkg] = p
	if len(errs) == 0 {
		errs = append(errs, s.resolve()...)
	}
	if len(errs) > 0 {
		return s, errs
	}
	return s, nil
}

type reader struct {
	file string
	errs Errors
}

func (r *reader) pos(n *yaml.Node) Pos { return Pos{File: r.file, Line: n.Line} }

func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s:%d: %s", r.file, n.Line, fmt.Sprintf(format, args...)))
}

// mapping walks a mapping node, calling the handler of each key; unknown keys are errors.
func (r *reader) mapping(n *yaml.Node, what string, keys map[string]func(v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s must be a mapping", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		h, ok := keys[k.Value]
		if !ok {
			var known []string
			for name := range keys {
				known = append(known, name)
			}
			sort.Strings(known)
			r.errorf(k, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
			continue
		}
		if seen[k.Value] {
			r.errorf(k, "duplicate key %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		h(v)
	}
}

func (r *reader) str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		r.errorf(n, "expected a scalar")
		return ""
	}
	return n.Value
}

func (r *reader) boolean(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || (n.Value != "true" && n.Value != "false") {
		r.errorf(n, "expected true or false, got %q", n.Value)
		return false
	}
	return n.Value == "true"
}

func parseNumber(s string) (uint64, bool) {
	s = strings.ReplaceAll(s, "_", "")
	v, err := strconv.ParseUint(s, 0, 64)
	return v, err == nil
}

func (r *reader) num(n *yaml.Node) uint64 {
	if n.Kind != yaml.ScalarNode {
		r.errorf(n, "expected a number")
		return 0
	}
	v, ok := parseNumber(n.Value)
	if !ok {
		r.errorf(n, "expected a number, got %q", n.Value)
	}
	return v
}

func (r *reader) integer(n *yaml.Node) int {
	v := r.num(n)
	if v > 1<<20 {
		r.errorf(n, "number %d too large", v)
	}
	return int(v)
}

// numOrName reads a number, or else a constant name.
func (r *reader) numOrName(n *yaml.Node) any {
	if n.Kind != yaml.ScalarNode {
		r.errorf(n, "expected a number or a constant name")
		return uint64(0)
	}
	if v, ok := parseNumber(n.Value); ok {
		return v
	}
	return n.Value
}

func (r *reader) seq(n *yaml.Node, what string, fn func(*yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s must be a list", what)
		return
	}
	for _, c := range n.Content {
		fn(c)
	}
}

func (r *reader) strs(n *yaml.Node, what string) []string {
	var out []string
	r.seq(n, what, func(c *yaml.Node) { out = append(out, r.str(c)) })
	return out
}

func parseFile(path string, data []byte) (*File, Errors) {
	r := &reader{file: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{fmt.Errorf("%s: %v", path, err)}
	}
	base := strings.TrimSuffix(filepath.Base(path), ".yaml")
	f := &File{Pos: Pos{File: path, Line: 1}, Base: base}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	r.mapping(root, "file", map[string]func(*yaml.Node){
		"ref":   func(v *yaml.Node) { f.Ref = r.str(v) },
		"doc":   func(v *yaml.Node) {},
		"enums": func(v *yaml.Node) { r.seq(v, "enums", func(c *yaml.Node) { f.Enums = append(f.Enums, r.enum(c, f)) }) },
		"types": func(v *yaml.Node) {
			r.seq(v, "types", func(c *yaml.Node) { f.Types = append(f.Types, r.namedType(c, f)) })
		},
		"structs": func(v *yaml.Node) {
			r.seq(v, "structs", func(c *yaml.Node) { f.Structs = append(f.Structs, r.structure(c, f)) })
		},
		"commands": func(v *yaml.Node) {
			r.seq(v, "commands", func(c *yaml.Node) { f.Commands = append(f.Commands, r.command(c, f)) })
		},
	})
	return f, r.errs
}

func (r *reader) enum(n *yaml.Node, f *File) *Enum {
	e := &Enum{Pos: r.pos(n), File: f, Ref: f.Ref}
	r.mapping(n, "enum", map[string]func(*yaml.Node){
		"name":   func(v *yaml.Node) { e.Name = r.str(v) },
		"type":   func(v *yaml.Node) { e.Type = r.str(v) },
		"ref":    func(v *yaml.Node) { e.Ref = r.str(v) },
		"doc":    func(v *yaml.Node) { e.Doc = r.str(v) },
		"flags":  func(v *yaml.Node) { e.Flags = r.boolean(v) },
		"error":  func(v *yaml.Node) { e.Error = r.boolean(v) },
		"strip":  func(v *yaml.Node) { e.Strip = r.str(v) },
		"prefix": func(v *yaml.Node) { e.Prefix = r.str(v) },
		"values": func(v *yaml.Node) {
			r.seq(v, "values", func(c *yaml.Node) {
				ev := &EnumValue{Pos: r.pos(c)}
				r.mapping(c, "enum value", map[string]func(*yaml.Node){
					"name":  func(v *yaml.Node) { ev.Name = r.str(v) },
					"value": func(v *yaml.Node) { ev.Value = r.num(v) },
					"go":    func(v *yaml.Node) { ev.GoName = r.str(v) },
					"doc":   func(v *yaml.Node) { ev.Doc = r.str(v) },
					"ref":   func(v *yaml.Node) { ev.Ref = r.str(v) },
				})
				e.Values = append(e.Values, ev)
			})
		},
	})
	return e
}

func (r *reader) namedType(n *yaml.Node, f *File) *Type {
	t := &Type{Pos: r.pos(n), File: f, Ref: f.Ref}
	r.mapping(n, "type", map[string]func(*yaml.Node){
		"name":  func(v *yaml.Node) { t.Name = r.str(v) },
		"type":  func(v *yaml.Node) { t.Type = r.str(v) },
		"bytes": func(v *yaml.Node) { t.Bytes = r.integer(v) },
		"ref":   func(v *yaml.Node) { t.Ref = r.str(v) },
		"doc":   func(v *yaml.Node) { t.Doc = r.str(v) },
	})
	return t
}

func (r *reader) structure(n *yaml.Node, f *File) *Struct {
	s := &Struct{Pos: r.pos(n), File: f, Ref: f.Ref}
	r.mapping(n, "struct", map[string]func(*yaml.Node){
		"name": func(v *yaml.Node) { s.Name = r.str(v) },
		"ref":  func(v *yaml.Node) { s.Ref = r.str(v) },
		"doc":  func(v *yaml.Node) { s.Doc = r.str(v) },
		"base": func(v *yaml.Node) {
			switch b := r.str(v); b {
			case "header":
				s.Header = true
			case "self":
			default:
				r.errorf(v, "base must be header or self, got %q", b)
			}
		},
		"chain": func(v *yaml.Node) {
			c := &Chain{Pos: r.pos(v)}
			r.mapping(v, "chain", map[string]func(*yaml.Node){
				"next":  func(v *yaml.Node) { c.Next = r.str(v) },
				"size":  func(v *yaml.Node) { c.Size = r.str(v) },
				"align": func(v *yaml.Node) { c.Align = r.integer(v) },
			})
			s.Chain = c
		},
		"fields": func(v *yaml.Node) {
			r.seq(v, "fields", func(c *yaml.Node) { s.Fields = append(s.Fields, r.field(c, s)) })
		},
	})
	return s
}

func (r *reader) field(n *yaml.Node, s *Struct) *Field {
	fd := &Field{Pos: r.pos(n), Struct: s}
	r.mapping(n, "field", map[string]func(*yaml.Node){
		"name":       func(v *yaml.Node) { fd.Name = r.str(v) },
		"type":       func(v *yaml.Node) { fd.TypeName = r.str(v) },
		"enum":       func(v *yaml.Node) { fd.EnumName = r.str(v) },
		"doc":        func(v *yaml.Node) { fd.Doc = r.str(v) },
		"ref":        func(v *yaml.Node) { fd.Ref = r.str(v) },
		"reserved":   func(v *yaml.Node) { fd.Reserved = r.boolean(v) },
		"total_size": func(v *yaml.Node) { fd.TotalSize = r.boolean(v) },
		"const": func(v *yaml.Node) {
			if v.Kind != yaml.ScalarNode {
				r.errorf(v, "const must be a number or a hex string")
				return
			}
			if v.Tag == "!!str" || v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				b, err := decodeHex(v.Value)
				if err != nil {
					r.errorf(v, "const string must be hex bytes: %v", err)
				}
				fd.ConstRaw = b
				return
			}
			fd.ConstRaw = r.num(v)
		},
		"offset": func(v *yaml.Node) { fd.OffsetName = r.str(v) },
		"length": func(v *yaml.Node) { fd.LengthName = r.str(v) },
		"count":  func(v *yaml.Node) { fd.CountName = r.str(v) },
		"rest":   func(v *yaml.Node) { fd.Rest = r.boolean(v) },
		"align":  func(v *yaml.Node) { fd.Align = r.integer(v) },
		"when":   func(v *yaml.Node) { fd.When = r.cond(v) },
		"empty_offset": func(v *yaml.Node) {
			switch x := r.str(v); x {
			case "position":
				fd.EmptyPos = true
			case "zero":
			default:
				r.errorf(v, "empty_offset must be zero or position, got %q", x)
			}
		},
		"union": func(v *yaml.Node) {
			u := &Union{Pos: r.pos(v)}
			r.mapping(v, "union", map[string]func(*yaml.Node){
				"when": func(v *yaml.Node) { u.When = r.cond(v) },
				"then": func(v *yaml.Node) { r.seq(v, "then", func(c *yaml.Node) { u.Then = append(u.Then, r.field(c, s)) }) },
				"else": func(v *yaml.Node) { r.seq(v, "else", func(c *yaml.Node) { u.Else = append(u.Else, r.field(c, s)) }) },
			})
			fd.Union = u
		},
	})
	return fd
}

func (r *reader) cond(n *yaml.Node) *Cond {
	c := &Cond{Pos: r.pos(n)}
	op := func(name string) func(*yaml.Node) {
		return func(v *yaml.Node) {
			if c.Op != "" {
				r.errorf(v, "a condition takes one test, found %s and %s", c.Op, name)
			}
			c.Op = name
			c.Raw = r.numOrName(v)
		}
	}
	r.mapping(n, "when", map[string]func(*yaml.Node){
		"field":    func(v *yaml.Node) { c.Field = r.str(v) },
		"has":      op("has"),
		"lacks":    op("lacks"),
		"eq":       op("eq"),
		"ne":       op("ne"),
		"contains": op("contains"),
	})
	if c.Field == "" || c.Op == "" {
		r.errorf(n, "a condition needs field: and one of has, lacks, eq, ne, contains")
	}
	return c
}

func (r *reader) form(n *yaml.Node) *Form {
	fm := &Form{Pos: r.pos(n)}
	if n.Kind == yaml.ScalarNode {
		fm.Name = n.Value
		return fm
	}
	r.mapping(n, "form", map[string]func(*yaml.Node){
		"struct": func(v *yaml.Node) { fm.Name = r.str(v) },
		"size":   func(v *yaml.Node) { fm.Size = r.num(v) },
	})
	return fm
}

func (r *reader) command(n *yaml.Node, f *File) *Command {
	c := &Command{Pos: r.pos(n), File: f, Ref: f.Ref}
	r.mapping(n, "command", map[string]func(*yaml.Node){
		"name":     func(v *yaml.Node) { c.Name = r.str(v) },
		"code":     func(v *yaml.Node) { c.Code = r.num(v) },
		"ref":      func(v *yaml.Node) { c.Ref = r.str(v) },
		"doc":      func(v *yaml.Node) { c.Doc = r.str(v) },
		"request":  func(v *yaml.Node) { c.Request = r.form(v) },
		"response": func(v *yaml.Node) { c.Response = r.form(v) },
		"requests": func(v *yaml.Node) {
			r.seq(v, "requests", func(x *yaml.Node) { c.Requests = append(c.Requests, r.form(x)) })
		},
		"responses": func(v *yaml.Node) {
			r.seq(v, "responses", func(x *yaml.Node) { c.Responses = append(c.Responses, r.form(x)) })
		},
		"needs_session": func(v *yaml.Node) { c.NeedsSession = r.boolean(v) },
		"needs_tree":    func(v *yaml.Node) { c.NeedsTree = r.boolean(v) },
		"pre_auth":      func(v *yaml.Node) { c.PreAuth = r.boolean(v) },
		"compound":      func(v *yaml.Node) { c.Compound = r.boolean(v) },
		"async":         func(v *yaml.Node) { c.Async = r.boolean(v) },
		"no_response":   func(v *yaml.Node) { c.NoResponse = r.boolean(v) },
		"min_dialect":   func(v *yaml.Node) { c.MinDialect = r.num(v) },
		"credit_charge": func(v *yaml.Node) {
			r.mapping(v, "credit_charge", map[string]func(*yaml.Node){
				"send":    func(v *yaml.Node) { c.Send = r.strs(v, "send") },
				"receive": func(v *yaml.Node) { c.Receive = r.strs(v, "receive") },
			})
		},
	})
	return c
}

func decodeHex(s string) ([]byte, error) {
	s = strings.ReplaceAll(strings.TrimPrefix(s, "0x"), " ", "")
	if len(s)%2 != 0 {
		return nil, errors.New("odd number of hex digits")
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(v)
	}
	return out, nil
}
