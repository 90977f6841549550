package spec

import (
	"bytes"
	"fmt"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

type checker struct {
	s    *Spec
	errs Errors
	// per package: name -> *Enum | *Type | *Struct
	names map[string]map[string]any
	// structs being resolved (cycle detection) and done
	state map[*Struct]int
}

func (c *checker) errorf(p Pos, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...)))
}

// Package returns the named package or nil.
func (s *Spec) Package(name string) *Package { return s.byName[name] }

func (s *Spec) resolve() Errors {
	c := &checker{s: s, names: map[string]map[string]any{}, state: map[*Struct]int{}}
	for _, p := range s.Packages {
		idents := map[string]Pos{}
		declare := func(name string, pos Pos, what string) {
			if !token.IsIdentifier(name) || !token.IsExported(name) {
				c.errorf(pos, "%s name %q is not an exported Go identifier", what, name)
				return
			}
			if prev, ok := idents[name]; ok {
				c.errorf(pos, "%s %q already declared at %s", what, name, prev)
				return
			}
			idents[name] = pos
		}
		m := map[string]any{}
		c.names[p.Name] = m
		for _, f := range p.Files {
			for _, e := range f.Enums {
				declare(e.Name, e.Pos, "enum")
				m[e.Name] = e
			}
			for _, t := range f.Types {
				declare(t.Name, t.Pos, "type")
				m[t.Name] = t
			}
			for _, st := range f.Structs {
				declare(st.Name, st.Pos, "struct")
				m[st.Name] = st
				if st.Chain != nil || true {
					// list and iterator types are named after the struct
					idents[st.Name+"List"] = st.Pos
					idents[st.Name+"Iter"] = st.Pos
				}
			}
		}
		for _, f := range p.Files {
			for _, e := range f.Enums {
				c.enum(e, idents)
			}
			for _, t := range f.Types {
				c.namedType(t)
			}
		}
	}
	for _, p := range s.Packages {
		for _, f := range p.Files {
			for _, st := range f.Structs {
				c.structure(st)
			}
		}
	}
	for _, p := range s.Packages {
		for _, f := range p.Files {
			for _, cmd := range f.Commands {
				c.command(cmd)
			}
		}
	}
	return c.errs
}

// CamelCase turns DOC_NAME_42 into DocName42.
func CamelCase(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == ' ' || r == '-' || r == '.' }) {
		if w == "" {
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]))
		b.WriteString(strings.ToLower(w[1:]))
	}
	return b.String()
}

func (c *checker) enum(e *Enum, idents map[string]Pos) {
	if _, ok := scalarBits[e.Type]; !ok {
		c.errorf(e.Pos, "enum %s: type must be u8, u16, u32 or u64, got %q", e.Name, e.Type)
		return
	}
	if len(e.Values) == 0 {
		c.errorf(e.Pos, "enum %s has no values", e.Name)
	}
	if e.Error && e.Flags {
		c.errorf(e.Pos, "enum %s: error and flags exclude each other", e.Name)
	}
	prefix := e.Prefix
	if prefix == "" {
		prefix = e.Name
	}
	max := uint64(1)<<uint(e.Bits()) - 1
	if e.Bits() == 64 {
		max = ^uint64(0)
	}
	names := map[string]bool{}
	values := map[uint64]string{}
	for _, v := range e.Values {
		if v.Name == "" {
			c.errorf(v.Pos, "enum %s: a value has no name", e.Name)
			continue
		}
		if names[v.Name] {
			c.errorf(v.Pos, "enum %s: duplicate value name %s", e.Name, v.Name)
		}
		names[v.Name] = true
		if v.Value > max {
			c.errorf(v.Pos, "enum %s: value %s = %#x does not fit in %s", e.Name, v.Name, v.Value, e.Type)
		}
		if prev, ok := values[v.Value]; ok {
			c.errorf(v.Pos, "enum %s: %s has the same value %#x as %s", e.Name, v.Name, v.Value, prev)
		}
		values[v.Value] = v.Name
		if v.GoName == "" {
			rest := strings.TrimPrefix(v.Name, e.Strip)
			v.GoName = prefix + CamelCase(rest)
		}
		if !token.IsIdentifier(v.GoName) || !token.IsExported(v.GoName) {
			c.errorf(v.Pos, "enum %s: Go name %q of %s is not an exported identifier (set go:)", e.Name, v.GoName, v.Name)
			continue
		}
		if prev, ok := idents[v.GoName]; ok {
			c.errorf(v.Pos, "enum %s: Go name %s of %s already declared at %s (set go:)", e.Name, v.GoName, v.Name, prev)
			continue
		}
		idents[v.GoName] = v.Pos
	}
}

func (c *checker) namedType(t *Type) {
	switch {
	case t.Type != "" && t.Bytes != 0:
		c.errorf(t.Pos, "type %s: give either type or bytes", t.Name)
	case t.Type != "":
		if _, ok := scalarBits[t.Type]; !ok {
			c.errorf(t.Pos, "type %s: type must be u8, u16, u32 or u64", t.Name)
		}
	case t.Bytes <= 0:
		c.errorf(t.Pos, "type %s: needs type: or bytes:", t.Name)
	}
}

// lookup finds a name, qualified or not, from package pkg.
func (c *checker) lookup(pkg, name string) any {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		m := c.names[name[:i]]
		if m == nil {
			return nil
		}
		return m[name[i+1:]]
	}
	return c.names[pkg][name]
}

func (c *checker) structure(s *Struct) {
	switch c.state[s] {
	case 2:
		return
	case 1:
		c.errorf(s.Pos, "struct %s contains itself", s.Name)
		return
	}
	c.state[s] = 1
	defer func() { c.state[s] = 2 }()
	pkg := s.File.Pkg.Name
	byName := map[string]*Field{}
	add := func(f *Field) {
		if f.Name == "" {
			c.errorf(f.Pos, "struct %s: a field has no name", s.Name)
			return
		}
		if !token.IsIdentifier(f.Name) || !token.IsExported(f.Name) {
			c.errorf(f.Pos, "struct %s: field name %q is not an exported Go identifier", s.Name, f.Name)
		}
		if prev, ok := byName[f.Name]; ok {
			c.errorf(f.Pos, "struct %s: field %s already declared at %s", s.Name, f.Name, prev.Pos)
			return
		}
		byName[f.Name] = f
	}
	at := 0
	inVar := false
	for _, f := range s.Fields {
		if f.Union != nil {
			if f.Name != "" || f.TypeName != "" {
				c.errorf(f.Pos, "struct %s: a union entry takes only union:", s.Name)
			}
			if inVar {
				c.errorf(f.Pos, "struct %s: union after a variable field", s.Name)
			}
			u := f.Union
			f.Kind = KindUnion
			u.At = at
			sizes := [2]int{}
			for bi, br := range [][]*Field{u.Then, u.Else} {
				bat := at
				for _, bf := range br {
					add(bf)
					bf.InUnion = u
					bf.InBranch = bi == 0
					c.fieldType(s, pkg, bf)
					if !bf.isFixedKind() {
						c.errorf(bf.Pos, "struct %s: union field %s must be fixed-size", s.Name, bf.Name)
						continue
					}
					bf.At = bat
					bat += bf.Size
					s.Fixed = append(s.Fixed, bf)
				}
				sizes[bi] = bat - at
			}
			if sizes[0] != sizes[1] {
				c.errorf(u.Pos, "struct %s: union branches have different sizes (%d and %d)", s.Name, sizes[0], sizes[1])
			}
			u.Size = sizes[0]
			at += u.Size
			continue
		}
		add(f)
		c.fieldType(s, pkg, f)
		if f.isFixedKind() && f.OffsetName == "" {
			if inVar {
				c.errorf(f.Pos, "struct %s: fixed field %s after a variable field", s.Name, f.Name)
			}
			f.At = at
			at += f.Size
			s.Fixed = append(s.Fixed, f)
		} else {
			inVar = true
			if f.Kind == KindStruct {
				// a fixed-size struct placed by offset: keep its bytes
				f.Kind = KindStructBytes
			}
			s.Var = append(s.Var, f)
		}
	}
	s.FixedLen = at
	fixedScalar := func(name string, p Pos, what string) *Field {
		f := byName[name]
		if f == nil {
			c.errorf(p, "struct %s: %s refers to unknown field %q", s.Name, what, name)
			return nil
		}
		if f.Kind != KindScalar || f.InUnion != nil || f.OffsetName != "" {
			c.errorf(p, "struct %s: %s field %s must be a fixed integer field outside unions", s.Name, what, name)
			return nil
		}
		return f
	}
	setRole := func(f *Field, r Role, of *Field, p Pos) {
		if f.Role != RoleValue {
			c.errorf(p, "struct %s: field %s already has a role", s.Name, f.Name)
			return
		}
		if f.ConstRaw != nil || f.Reserved {
			c.errorf(p, "struct %s: field %s is const or reserved and cannot describe another field", s.Name, f.Name)
			return
		}
		f.Role = r
		f.RoleOf = of
	}
	for _, f := range s.Fixed {
		if f.ConstRaw != nil {
			f.Role = RoleConst
			switch v := f.ConstRaw.(type) {
			case []byte:
				if f.Kind != KindFixedBytes || len(v) != f.Size {
					c.errorf(f.Pos, "struct %s: const of %s must be %d hex bytes", s.Name, f.Name, f.Size)
				}
			case uint64:
				if f.Kind != KindScalar {
					c.errorf(f.Pos, "struct %s: numeric const on non-integer field %s", s.Name, f.Name)
				} else if f.Bits < 64 && v>>uint(f.Bits) != 0 {
					c.errorf(f.Pos, "struct %s: const %d does not fit field %s", s.Name, v, f.Name)
				}
			}
		}
		if f.TotalSize {
			if f.Kind != KindScalar || f.InUnion != nil {
				c.errorf(f.Pos, "struct %s: total_size field %s must be an integer outside unions", s.Name, f.Name)
				continue
			}
			if s.TotalSize != nil {
				c.errorf(f.Pos, "struct %s: two total_size fields", s.Name)
			}
			s.TotalSize = f
			setRole(f, RoleTotalSize, nil, f.Pos)
		}
	}
	for _, f := range append(append([]*Field{}, s.Fixed...), s.Var...) {
		if f.When != nil {
			c.cond(s, f.When, byName)
			if f.isFixedKind() && f.OffsetName == "" && f.InUnion == nil {
				c.errorf(f.Pos, "struct %s: when: on fixed field %s (use a union)", s.Name, f.Name)
			}
		}
	}
	for _, f := range s.Fields {
		if f.Union != nil && f.Union.When != nil {
			c.cond(s, f.Union.When, byName)
		} else if f.Union != nil {
			c.errorf(f.Pos, "struct %s: union without when:", s.Name)
		}
	}
	for i, f := range s.Var {
		if f.Align < 0 || f.Align > 4096 {
			c.errorf(f.Pos, "struct %s: bad align %d", s.Name, f.Align)
		}
		if f.Align == 0 {
			f.Align = 1
		}
		if f.OffsetName != "" {
			if o := fixedScalar(f.OffsetName, f.Pos, "offset"); o != nil {
				setRole(o, RoleOffset, f, f.Pos)
				f.OffsetF = o
			}
		}
		if f.LengthName != "" {
			if l := fixedScalar(f.LengthName, f.Pos, "length"); l != nil {
				setRole(l, RoleLength, f, f.Pos)
				f.LengthF = l
			}
		}
		if f.CountName != "" {
			if l := fixedScalar(f.CountName, f.Pos, "count"); l != nil {
				setRole(l, RoleCount, f, f.Pos)
				f.CountF = l
			}
			if f.Kind != KindArray && f.Kind != KindList {
				c.errorf(f.Pos, "struct %s: count: on %s, which is not an array or a list", s.Name, f.Name)
			}
		}
		n := 0
		for _, b := range []bool{f.LengthName != "", f.CountName != "", f.Rest} {
			if b {
				n++
			}
		}
		switch f.Kind {
		case KindCString:
			if f.Rest || f.CountName != "" {
				c.errorf(f.Pos, "struct %s: cstring %s takes length: or nothing (NUL-terminated)", s.Name, f.Name)
			}
		case KindStructBytes:
			if n != 0 && f.LengthName == "" {
				c.errorf(f.Pos, "struct %s: %s takes offset: and optionally length:", s.Name, f.Name)
			}
			if f.OffsetName == "" {
				c.errorf(f.Pos, "struct %s: variable-size struct field %s needs offset: (or declare it as a list)", s.Name, f.Name)
			}
		case KindList:
			if f.Rest && f.LengthName != "" {
				c.errorf(f.Pos, "struct %s: %s: rest and length exclude each other", s.Name, f.Name)
			}
			if n == 0 {
				c.errorf(f.Pos, "struct %s: list %s needs count:, length: or rest:", s.Name, f.Name)
			}
		default:
			if n != 1 {
				c.errorf(f.Pos, "struct %s: variable field %s needs exactly one of length:, count:, rest:", s.Name, f.Name)
			}
		}
		if f.Rest && i != len(s.Var)-1 && f.OffsetName == "" {
			c.errorf(f.Pos, "struct %s: rest: field %s must be the last inline field", s.Name, f.Name)
		}
		if f.EmptyPos && f.OffsetName == "" {
			c.errorf(f.Pos, "struct %s: empty_offset on %s, which has no offset:", s.Name, f.Name)
		}
	}
	if ch := s.Chain; ch != nil {
		if ch.Align == 0 {
			ch.Align = 1
		}
		if ch.Next != "" && ch.Size != "" {
			c.errorf(ch.Pos, "struct %s: chain takes next: or size:, not both", s.Name)
		}
		if ch.Next != "" {
			if f := fixedScalar(ch.Next, ch.Pos, "chain next"); f != nil {
				setRole(f, RoleNext, nil, ch.Pos)
				ch.NextField = f
			}
		}
		if ch.Size != "" {
			if s.TotalSize == nil || s.TotalSize.Name != ch.Size {
				c.errorf(ch.Pos, "struct %s: chain size: must name the total_size field", s.Name)
			}
		}
	}
	for _, f := range s.Fixed {
		if f.Reserved && f.Role == RoleValue && f.EnumName != "" {
			c.errorf(f.Pos, "struct %s: reserved field %s has an enum", s.Name, f.Name)
		}
	}
}

func (f *Field) isFixedKind() bool {
	return f.Kind == KindScalar || f.Kind == KindFixedBytes || f.Kind == KindStruct
}

func (c *checker) fieldType(s *Struct, pkg string, f *Field) {
	t := f.TypeName
	if t == "" {
		c.errorf(f.Pos, "struct %s: field %s has no type", s.Name, f.Name)
		return
	}
	if bits, ok := scalarBits[t]; ok {
		f.Kind = KindScalar
		f.Bits = bits
		f.Size = bits / 8
	} else if strings.HasPrefix(t, "bytes[") && strings.HasSuffix(t, "]") {
		n, err := strconv.Atoi(t[6 : len(t)-1])
		if err != nil || n <= 0 || n > 65536 {
			c.errorf(f.Pos, "struct %s: bad fixed size in %s", s.Name, t)
			return
		}
		f.Kind = KindFixedBytes
		f.Size = n
	} else if t == "bytes" {
		f.Kind = KindBytes
	} else if t == "utf16" {
		f.Kind = KindUTF16
	} else if t == "cstring" {
		f.Kind = KindCString
	} else if t == "u16[]" || t == "u32[]" || t == "u64[]" {
		f.Kind = KindArray
		f.Bits = scalarBits[strings.TrimSuffix(t, "[]")]
	} else if strings.HasSuffix(t, "[]") {
		el, ok := c.lookup(pkg, strings.TrimSuffix(t, "[]")).(*Struct)
		if !ok {
			c.errorf(f.Pos, "struct %s: field %s: unknown struct %s", s.Name, f.Name, strings.TrimSuffix(t, "[]"))
			return
		}
		c.structure(el)
		if el.Chain == nil {
			c.errorf(f.Pos, "struct %s: field %s: struct %s is used as a list but declares no chain:", s.Name, f.Name, el.Name)
		}
		el.UsedAsList = true
		f.Kind = KindList
		f.Elem = el
	} else {
		switch x := c.lookup(pkg, t).(type) {
		case *Type:
			f.Named = x
			if x.Bytes > 0 {
				f.Kind = KindFixedBytes
				f.Size = x.Bytes
			} else {
				f.Kind = KindScalar
				f.Bits = scalarBits[x.Type]
				f.Size = f.Bits / 8
			}
		case *Struct:
			c.structure(x)
			f.Elem = x
			if x.IsFixed() && x.FixedLen > 0 {
				f.Kind = KindStruct
				f.Size = x.FixedLen
			} else {
				f.Kind = KindStructBytes
			}
		default:
			c.errorf(f.Pos, "struct %s: field %s: unknown type %q", s.Name, f.Name, t)
			return
		}
	}
	if f.EnumName != "" {
		e, ok := c.lookup(pkg, f.EnumName).(*Enum)
		if !ok {
			c.errorf(f.Pos, "struct %s: field %s: unknown enum %q", s.Name, f.Name, f.EnumName)
			return
		}
		switch {
		case f.Kind == KindScalar && f.Named == nil && f.Bits == e.Bits():
		case f.Kind == KindArray && f.Bits == e.Bits():
		default:
			c.errorf(f.Pos, "struct %s: field %s: enum %s (%s) does not fit type %s", s.Name, f.Name, e.Name, e.Type, t)
			return
		}
		f.Enum = e
	}
}

func (c *checker) cond(s *Struct, cd *Cond, byName map[string]*Field) {
	f := byName[cd.Field]
	if f == nil {
		c.errorf(cd.Pos, "struct %s: when: unknown field %q", s.Name, cd.Field)
		return
	}
	cd.F = f
	switch cd.Op {
	case "contains":
		if f.Kind != KindArray {
			c.errorf(cd.Pos, "struct %s: contains: needs an array field, %s is not", s.Name, f.Name)
			return
		}
	default:
		if f.Kind != KindScalar || f.InUnion != nil {
			c.errorf(cd.Pos, "struct %s: when: field %s must be an integer outside unions", s.Name, f.Name)
			return
		}
		if f.Role == RoleLength || f.Role == RoleCount {
			// allowed: the value is the wire value
		}
	}
	switch v := cd.Raw.(type) {
	case uint64:
		cd.Value = v
	case string:
		if f.Enum == nil {
			c.errorf(cd.Pos, "struct %s: when: constant %s on field %s, which has no enum", s.Name, v, f.Name)
			return
		}
		for _, ev := range f.Enum.Values {
			if ev.GoName == v || ev.Name == v {
				cd.Value = ev.Value
				cd.Const = ev
			}
		}
		if cd.Const == nil {
			c.errorf(cd.Pos, "struct %s: when: %s is not a value of %s", s.Name, v, f.Enum.Name)
		}
	}
}

func (c *checker) command(cmd *Command) {
	pkg := cmd.File.Pkg.Name
	resolveForm := func(fm *Form) {
		if fm == nil {
			return
		}
		st, ok := c.lookup(pkg, fm.Name).(*Struct)
		if !ok {
			c.errorf(fm.Pos, "command %s: unknown struct %q", cmd.Name, fm.Name)
			return
		}
		if !st.Header {
			c.errorf(fm.Pos, "command %s: struct %s must have base: header", cmd.Name, st.Name)
		}
		fm.Struct = st
	}
	if cmd.Name == "" || !token.IsExported(cmd.Name) {
		c.errorf(cmd.Pos, "command needs an exported name")
	}
	if (cmd.Request == nil) == (len(cmd.Requests) == 0) {
		c.errorf(cmd.Pos, "command %s: give request: or requests:", cmd.Name)
	}
	if cmd.Response == nil && len(cmd.Responses) == 0 && !cmd.NoResponse {
		c.errorf(cmd.Pos, "command %s: give response:, responses: or no_response: true", cmd.Name)
	}
	resolveForm(cmd.Request)
	resolveForm(cmd.Response)
	for _, fm := range cmd.Requests {
		resolveForm(fm)
		if fm.Size == 0 {
			c.errorf(fm.Pos, "command %s: forms in requests: need size:", cmd.Name)
		}
	}
	for _, fm := range cmd.Responses {
		resolveForm(fm)
		if fm.Size == 0 {
			c.errorf(fm.Pos, "command %s: forms in responses: need size:", cmd.Name)
		}
	}
	if len(cmd.Send)+len(cmd.Receive) > 0 {
		if cmd.Request == nil || cmd.Request.Struct == nil {
			c.errorf(cmd.Pos, "command %s: credit_charge needs a single request struct", cmd.Name)
			return
		}
		st := cmd.Request.Struct
		find := func(name string) *Field {
			for _, f := range st.Fixed {
				if f.Name == name && f.Kind == KindScalar && f.InUnion == nil {
					return f
				}
			}
			c.errorf(cmd.Pos, "command %s: credit_charge field %s is not an integer field of %s", cmd.Name, name, st.Name)
			return nil
		}
		for _, n := range cmd.Send {
			if f := find(n); f != nil {
				cmd.SendF = append(cmd.SendF, f)
			}
		}
		for _, n := range cmd.Receive {
			if f := find(n); f != nil {
				cmd.ReceiveF = append(cmd.ReceiveF, f)
			}
		}
	}
}

// SortedValues returns the values of an enum ordered by value.
func (e *Enum) SortedValues() []*EnumValue {
	out := append([]*EnumValue{}, e.Values...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// ConstBytes returns the const of a fixed-bytes field.
func (f *Field) ConstBytes() []byte { b, _ := f.ConstRaw.([]byte); return b }

// ConstNum returns the const of an integer field.
func (f *Field) ConstNum() uint64 { v, _ := f.ConstRaw.(uint64); return v }

// IsGoField reports whether the field is a member of the generated Go struct.
func (f *Field) IsGoField() bool {
	switch f.Role {
	case RoleConst, RoleLength, RoleCount, RoleTotalSize:
		return false
	}
	return true
}

var _ = bytes.Equal
