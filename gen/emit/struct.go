package emit

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/smbvfs/smbvfs/gen/spec"
)

// code concatenates raw Go text and jennifer code; the result is gofmt-ed when rendered, so
// spacing inside the raw parts does not matter. Package references go through jen.Qual so
// that imports are tracked.
func code(parts ...any) *jen.Statement {
	s := jen.Null()
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			s.Id(x)
		case jen.Code:
			s.Add(x)
		default:
			panic(fmt.Sprintf("code: unexpected %T", p))
		}
	}
	return s
}

func le() *jen.Statement { return jen.Qual(binaryPkg, "LittleEndian") }

func (g *gen) w(name string) *jen.Statement { return jen.Qual(g.wirePkg(), name) }

// errf returns `wire.Errorf("S", "F", wire.Kind)`.
func (g *gen) errf(s *spec.Struct, field, kind string) *jen.Statement {
	return g.w("Errorf").Call(jen.Lit(s.Name), jen.Lit(field), g.w(kind))
}

func pkgOf(f *spec.File) *spec.Package { return f.Pkg }

// goType is the Go type of a field, seen from package from.
func (g *gen) goType(from *spec.Package, f *spec.Field) jen.Code {
	switch f.Kind {
	case spec.KindScalar:
		if f.Enum != nil {
			return g.qual(from, pkgOf(f.Enum.File), f.Enum.Name)
		}
		if f.Named != nil {
			return g.qual(from, pkgOf(f.Named.File), f.Named.Name)
		}
		return jen.Id(goInt(f.Bits))
	case spec.KindFixedBytes:
		if f.Named != nil {
			return g.qual(from, pkgOf(f.Named.File), f.Named.Name)
		}
		return jen.Index(jen.Lit(f.Size)).Byte()
	case spec.KindStruct:
		return g.qual(from, pkgOf(f.Elem.File), f.Elem.Name)
	case spec.KindBytes, spec.KindCString, spec.KindStructBytes:
		return jen.Index().Byte()
	case spec.KindUTF16:
		return jen.Qual(g.utf16Pkg(), "Text")
	case spec.KindArray:
		return g.w(fmt.Sprintf("Uint%ds", f.Bits))
	case spec.KindList:
		return g.qual(from, pkgOf(f.Elem.File), f.Elem.Name+"List")
	}
	panic("goType: kind")
}

// read returns the expression reading an integer of the field's width at position at of b.
func read(bits, at int) jen.Code {
	if bits == 8 {
		return jen.Id(fmt.Sprintf("b[%d]", at))
	}
	return code(le(), fmt.Sprintf(".Uint%d(b[%d:])", bits, at))
}

func fieldDoc(f *spec.Field) string {
	var parts []string
	if f.Doc != "" {
		parts = append(parts, f.Doc)
	}
	switch f.Role {
	case spec.RoleOffset:
		parts = append(parts, fmt.Sprintf("offset of %s; 0 lays it out automatically on encode, any other value is honoured", f.RoleOf.Name))
	case spec.RoleNext:
		parts = append(parts, "offset of the next element of a list, 0 on the last; List.Add sets it, honouring a larger value it had when decoded")
	}
	if f.Reserved {
		parts = append(parts, "reserved: kept as decoded, zero when built")
	}
	if f.InUnion != nil {
		parts = append(parts, "present when "+condText(f.InUnion.When, f.InBranch))
	}
	if f.When != nil {
		parts = append(parts, "present when "+condText(f.When, true))
	}
	if f.Ref != "" {
		parts = append(parts, f.Ref)
	}
	return strings.Join(parts, "; ")
}

func condText(c *spec.Cond, want bool) string {
	v := fmt.Sprintf("%#x", c.Value)
	if c.Const != nil {
		v = c.Const.GoName
	}
	op := map[string]string{"has": "has", "lacks": "lacks", "eq": "==", "ne": "!=", "contains": "contains"}[c.Op]
	s := c.Field + " " + op + " " + v
	if !want {
		s = "not (" + s + ")"
	}
	return s
}

func (g *gen) structure(jf *jen.File, s *spec.Struct) {
	p := pkgOf(s.File)
	var fields []jen.Code
	for _, f := range s.Fixed {
		if f.IsGoField() {
			st := jen.Id(f.Name).Add(g.goType(p, f))
			if d := fieldDoc(f); d != "" {
				st.Comment(d)
			}
			fields = append(fields, st)
		}
	}
	for _, f := range s.Var {
		st := jen.Id(f.Name).Add(g.goType(p, f))
		if d := fieldDoc(f); d != "" {
			st.Comment(d)
		}
		fields = append(fields, st)
	}
	if len(s.Var) > 0 {
		fields = append(fields, jen.Id("raw").Index().Byte().Comment("the decoded input: padding between fields is re-encoded from it"))
	}
	doc := docLines(s.Name, s.Doc, s.Ref)
	if s.Header {
		doc += " Offsets count from the start of the SMB2 header, 64 bytes before the body."
	}
	jf.Comment(doc)
	jf.Type().Id(s.Name).Struct(fields...)

	g.decodeFunc(jf, s)
	g.layoutFunc(jf, s)
	g.appendFunc(jf, s)
	g.fieldAtFunc(jf, s)
	recv := jen.Id("m").Op("*").Id(s.Name)
	if s.Header {
		jf.Comment(fmt.Sprintf("Decode fills m from the body of the message pdu[hdr:], whose 64-byte SMB2 header starts at hdr; pdu ends where the message ends. Slices in m alias pdu."))
		jf.Func().Params(recv.Clone()).Id("Decode").Params(jen.Id("pdu").Index().Byte(), jen.Id("hdr").Int()).Error().Block(
			jen.If(jen.Id("hdr").Op("<").Lit(0).Op("||").Id("hdr").Op(">").Len(jen.Id("pdu")).Op("-").Lit(64)).Block(
				jen.Op("*").Id("m").Op("=").Id(s.Name).Values(),
				jen.Return(g.errf(s, "", "Short")),
			),
			jen.Return(jen.Id("m").Dot("decode").Call(jen.Id("pdu[hdr+64:]"), jen.Lit(64))),
		)
		jf.Comment("Len returns the size of the encoded body.")
		jf.Func().Params(recv.Clone()).Id("Len").Params().Int().Block(jen.Return(jen.Id("m").Dot("size").Call(jen.Lit(64))))
		jf.Comment("Append appends the body to b, whose SMB2 header starts at hdr (the body starts at len(b), normally hdr+64). On error the bytes appended so far are unspecified.")
		jf.Func().Params(recv.Clone()).Id("Append").Params(jen.Id("b").Index().Byte(), jen.Id("hdr").Int()).Params(jen.Index().Byte(), jen.Error()).Block(
			jen.Return(jen.Id("m").Dot("appendTo").Call(jen.Id("b"), jen.Len(jen.Id("b")).Op("-").Id("hdr"))),
		)
	} else {
		jf.Comment("Decode fills m from b, where b[0] is the first byte of the structure. Slices in m alias b.")
		jf.Func().Params(recv.Clone()).Id("Decode").Params(jen.Id("b").Index().Byte()).Error().Block(
			jen.Return(jen.Id("m").Dot("decode").Call(jen.Id("b"), jen.Lit(0))),
		)
		jf.Comment("Len returns the size of the encoding.")
		jf.Func().Params(recv.Clone()).Id("Len").Params().Int().Block(jen.Return(jen.Id("m").Dot("size").Call(jen.Lit(0))))
		jf.Comment("Append appends the encoding to b. On error the bytes appended so far are unspecified.")
		jf.Func().Params(recv.Clone()).Id("Append").Params(jen.Id("b").Index().Byte()).Params(jen.Index().Byte(), jen.Error()).Block(
			jen.Return(jen.Id("m").Dot("appendTo").Call(jen.Id("b"), jen.Lit(0))),
		)
	}
	if s.Chain != nil {
		g.listType(jf, s)
	}
}

// condExpr is the Go condition of c, reading the struct being decoded or encoded (m), or, for
// fields that are not struct members, the local values in vars.
func (g *gen) condExpr(s *spec.Struct, c *spec.Cond, raw bool) jen.Code {
	var val jen.Code = jen.Op(fmt.Sprintf("%#x", c.Value))
	if c.Const != nil {
		val = g.qual(pkgOf(s.File), pkgOf(c.F.Enum.File), c.Const.GoName)
	}
	var fv jen.Code
	if raw {
		// read the wire value directly: the field may come later in the fixed part
		if c.Op == "contains" {
			fv = jen.Id("m." + c.F.Name)
		} else {
			fv = read(c.F.Bits, c.F.At)
			if c.F.Enum != nil {
				fv = code(g.qual(pkgOf(s.File), pkgOf(c.F.Enum.File), c.F.Enum.Name), "(", fv, ")")
			}
		}
	} else if c.F.IsGoField() {
		fv = jen.Id("m." + c.F.Name)
	} else {
		fv = jen.Id("v" + c.F.Name)
	}
	switch c.Op {
	case "has":
		return code("(", fv, "&", val, ")==", val)
	case "lacks":
		return code("(", fv, "&", val, ")==0")
	case "eq":
		return code(fv, "==", val)
	case "ne":
		return code(fv, "!=", val)
	case "contains":
		return code(fv, ".Contains(", val, ")")
	}
	panic("cond op")
}

func (g *gen) decodeFunc(jf *jen.File, s *spec.Struct) {
	p := pkgOf(s.File)
	var body []jen.Code
	body = append(body,
		jen.Op("*").Id("m").Op("=").Id(s.Name).Values(),
		jen.If(jen.Len(jen.Id("b")).Op("<").Lit(s.FixedLen)).Block(jen.Return(g.errf(s, "", "Short"))),
	)
	if t := s.TotalSize; t != nil {
		body = append(body,
			code("ts := int(", read(t.Bits, t.At), ")"),
			jen.If(jen.Id("ts").Op("<").Lit(s.FixedLen).Op("||").Id("ts").Op(">").Len(jen.Id("b"))).Block(jen.Return(g.errf(s, t.Name, "BadSize"))),
			jen.Id("b").Op("=").Id("b[:ts]"),
		)
	}
	var fixedOne func(f *spec.Field) []jen.Code
	fixedOne = func(f *spec.Field) []jen.Code {
		end := f.At + f.Size
		switch f.Role {
		case spec.RoleConst:
			if f.Kind == spec.KindFixedBytes {
				return []jen.Code{jen.If(jen.String().Call(jen.Id(fmt.Sprintf("b[%d:%d]", f.At, end))).Op("!=").Lit(string(f.ConstBytes()))).Block(jen.Return(g.errf(s, f.Name, "BadConst")))}
			}
			return []jen.Code{jen.If(code(read(f.Bits, f.At), "!=", hexLit(f.ConstNum(), f.Bits))).Block(jen.Return(g.errf(s, f.Name, "BadConst")))}
		case spec.RoleLength, spec.RoleCount:
			return []jen.Code{code("v"+f.Name+" := int(", read(f.Bits, f.At), ")")}
		case spec.RoleTotalSize:
			return nil
		}
		switch f.Kind {
		case spec.KindScalar:
			return []jen.Code{code("m."+f.Name+" = ", g.goType(p, f), "(", read(f.Bits, f.At), ")")}
		case spec.KindFixedBytes:
			return []jen.Code{code("m."+f.Name+" = ", g.goType(p, f), fmt.Sprintf("(b[%d:%d])", f.At, end))}
		case spec.KindStruct:
			return []jen.Code{jen.If(code("err := m."+f.Name+fmt.Sprintf(".Decode(b[%d:%d])", f.At, end)), jen.Id("err").Op("!=").Nil()).Block(jen.Return(jen.Id("err")))}
		}
		panic("fixed kind")
	}
	for _, f := range s.Fields {
		if f.Union != nil {
			body = append(body, g.unionCode(s, f.Union, true, fixedOne))
			continue
		}
		if f.Kind == spec.KindScalar || f.Kind == spec.KindFixedBytes || f.Kind == spec.KindStruct {
			if f.OffsetName == "" {
				body = append(body, fixedOne(f)...)
			}
		}
	}
	if len(s.Var) > 0 {
		body = append(body, jen.Id("m.raw").Op("=").Id("b"))
		body = append(body, jen.Id("pos").Op(":=").Lit(s.FixedLen), jen.Id("_").Op("=").Id("pos"))
		for _, f := range s.Var {
			blk := g.decodeVar(s, f)
			if f.When != nil {
				body = append(body, jen.If(g.condExpr(s, f.When, false)).Block(blk...))
			} else {
				body = append(body, jen.Block(blk...))
			}
		}
	}
	body = append(body, jen.Return(jen.Nil()))
	jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("decode").Params(jen.Id("b").Index().Byte(), jen.Id("shift").Int()).Error().Block(body...)
}

// decodeVar locates and slices one variable field.
func (g *gen) decodeVar(s *spec.Struct, f *spec.Field) []jen.Code {
	p := pkgOf(s.File)
	var out []jen.Code
	fixed := s.FixedLen
	if f.OffsetF != nil {
		out = append(out, code("off := int(m."+f.OffsetF.Name+") - shift"))
	} else if f.Align > 1 {
		out = append(out, code("off := ", g.w("AlignUp"), fmt.Sprintf("(pos+shift, %d) - shift", f.Align)))
	} else {
		out = append(out, code("off := pos"))
	}
	badOff := jen.Return(g.errf(s, f.Name, "BadOffset"))
	badLen := jen.Return(g.errf(s, f.Name, "BadLength"))
	// offChecks validates off for a field known to be non-empty.
	offChecks := func() jen.Code {
		if f.OffsetF != nil {
			return jen.If(code(fmt.Sprintf("off < %d || off > len(b)", fixed))).Block(badOff)
		}
		return jen.If(code("off > len(b)")).Block(badLen)
	}
	assign := func(n string) []jen.Code {
		var rhs jen.Code = jen.Id("b[off : off+" + n + "]")
		if f.Kind == spec.KindUTF16 || f.Kind == spec.KindArray {
			rhs = code(g.goType(p, f), "(b[off : off+"+n+"])")
		}
		return []jen.Code{code("m."+f.Name+" = ", rhs), code("pos = off + " + n)}
	}
	switch f.Kind {
	case spec.KindBytes, spec.KindUTF16, spec.KindArray:
		var n jen.Code
		switch {
		case f.LengthF != nil:
			n = jen.Id("v" + f.LengthF.Name)
		case f.CountF != nil:
			n = code("v"+f.CountF.Name, fmt.Sprintf("* %d", f.Bits/8))
		case f.Rest:
			out = append(out, jen.If(code("off > len(b)")).Block(code("off = len(b)")))
			n = code("len(b) - off")
		}
		out = append(out, code("n := ", n))
		blk := []jen.Code{offChecks(), jen.If(code("n > len(b)-off")).Block(badLen)}
		blk = append(blk, assign("n")...)
		out = append(out, jen.If(code("n > 0")).Block(blk...))
	case spec.KindCString:
		if f.LengthF != nil {
			out = append(out, code("n := v"+f.LengthF.Name))
			blk := []jen.Code{offChecks(), jen.If(code("n >= len(b)-off")).Block(badLen)}
			blk = append(blk, code("m."+f.Name+" = b[off : off+n]"), code("pos = off + n + 1"))
			out = append(out, jen.Block(blk...))
		} else {
			out = append(out, offChecks(),
				code("n := ", jen.Qual("bytes", "IndexByte"), "(b[off:], 0)"),
				jen.If(code("n < 0")).Block(badLen),
				code("m."+f.Name+" = b[off : off+n]"), code("pos = off + n + 1"))
		}
	case spec.KindStructBytes:
		el := g.qual(p, pkgOf(f.Elem.File), f.Elem.Name)
		var blk []jen.Code
		blk = append(blk, offChecks())
		if f.LengthF != nil {
			blk = append(blk, code("n := v"+f.LengthF.Name), jen.If(code("n > len(b)-off")).Block(badLen))
		}
		lim := "b[off:]"
		if f.LengthF != nil {
			lim = "b[off : off+n]"
		}
		blk = append(blk, code("var e ", el), jen.If(code("err := e.Decode("+lim+"); err != nil")).Block(jen.Return(jen.Id("err"))))
		if f.LengthF == nil {
			blk = append(blk, code("n := e.Len()"), jen.If(code("n > len(b)-off")).Block(badLen))
		}
		blk = append(blk, assign("n")...)
		cond := "m." + f.OffsetF.Name + " != 0"
		if f.LengthF != nil {
			cond = "v" + f.LengthF.Name + " > 0"
		}
		out = append(out, jen.If(jen.Id(cond)).Block(blk...))
	case spec.KindList:
		count := "-1"
		if f.CountF != nil {
			count = "v" + f.CountF.Name
		}
		var cond string
		var region string
		whole := "false"
		switch {
		case f.LengthF != nil:
			cond = "v" + f.LengthF.Name + " > 0"
			region = "b[off : off+v" + f.LengthF.Name + "]"
			whole = "true"
		case f.Rest:
			cond = "off < len(b)"
			region = "b[off:]"
			whole = "true"
		default:
			cond = count + " > 0"
			region = "b[off:]"
		}
		if f.CountF != nil && f.LengthF != nil {
			cond = "v" + f.LengthF.Name + " > 0 || " + count + " > 0"
		}
		blk := []jen.Code{offChecks()}
		if f.LengthF != nil {
			blk = append(blk, jen.If(code("v"+f.LengthF.Name+" > len(b)-off")).Block(badLen))
		}
		blk = append(blk,
			code("n, err := m."+f.Name+".DecodeChain("+region+", "+count+", "+whole+")"),
			jen.If(code("err != nil")).Block(jen.Return(jen.Id("err"))),
			code("pos = off + n"))
		out = append(out, jen.If(jen.Id(cond)).Block(blk...))
	default:
		panic("decodeVar kind")
	}
	return out
}

// sizeExpr is the encoded size of variable field f (its NUL included for cstrings).
func sizeExpr(f *spec.Field) string {
	switch f.Kind {
	case spec.KindList:
		return "len(m." + f.Name + ".Bytes())"
	case spec.KindCString:
		return "len(m." + f.Name + ") + 1"
	}
	return "len(m." + f.Name + ")"
}

func (g *gen) layoutFunc(jf *jen.File, s *spec.Struct) {
	k := len(s.Var)
	if k == 0 {
		jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("size").Params(jen.Id("shift").Int()).Int().Block(jen.Return(jen.Lit(s.FixedLen)))
		return
	}
	body := []jen.Code{code("pos := ", jen.Lit(s.FixedLen))}
	for i, f := range s.Var {
		var blk []jen.Code
		blk = append(blk, code("n := ", sizeExpr(f)))
		if f.When != nil {
			blk = append(blk, jen.If(jen.Op("!").Parens(g.condExpr(s, f.When, false))).Block(code("n = 0")))
		}
		blk = append(blk, code(fmt.Sprintf("l.n[%d] = n", i)))
		if f.OffsetF != nil {
			auto := code("o = ", g.w("AlignUp"), fmt.Sprintf("(pos+shift, %d)", f.Align))
			var autoCond string = "n > 0"
			if f.EmptyPos {
				autoCond = "true"
			}
			if f.Kind == spec.KindStructBytes && f.LengthF == nil {
				autoCond = "n > 0"
			}
			blk = append(blk,
				code("o := int(m."+f.OffsetF.Name+")"),
				jen.If(code("o == 0")).Block(jen.If(jen.Id(autoCond)).Block(auto)).Else().If(code("n > 0 && o-shift < pos")).Block(
					code("l.err = ", g.errf(s, f.Name, "Layout")),
				),
				code(fmt.Sprintf("l.off[%d] = o", i)),
				code(fmt.Sprintf("l.at[%d] = o - shift", i)),
				jen.If(code("n > 0")).Block(code("pos = o - shift + n")),
			)
		} else {
			at := "pos"
			if f.Align > 1 {
				blk = append(blk, jen.If(code("n > 0")).Block(code("pos = ", g.w("AlignUp"), fmt.Sprintf("(pos+shift, %d) - shift", f.Align))))
			}
			blk = append(blk, code(fmt.Sprintf("l.at[%d] = %s", i, at)), code("pos += n"))
		}
		body = append(body, jen.Block(blk...))
	}
	body = append(body, code("l.end = pos"), jen.Return())
	lt := lowerFirst(s.Name) + "Layout"
	jf.Type().Id(lt).Struct(
		jen.Id("at").Index(jen.Lit(k)).Int(),
		jen.Id("off").Index(jen.Lit(k)).Int(),
		jen.Id("n").Index(jen.Lit(k)).Int(),
		jen.Id("end").Int(),
		jen.Id("err").Error(),
	)
	jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("layout").Params(jen.Id("shift").Int()).Params(jen.Id("l").Id(lt)).Block(body...)
	jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("size").Params(jen.Id("shift").Int()).Int().Block(jen.Return(code("m.layout(shift).end")))
}

func maxOf(bits int) string {
	if bits >= 64 {
		return ""
	}
	return fmt.Sprintf("%#x", uint64(1)<<uint(bits)-1)
}

func (g *gen) appendFunc(jf *jen.File, s *spec.Struct) {
	p := pkgOf(s.File)
	var body []jen.Code
	k := len(s.Var)
	if k > 0 {
		body = append(body, code("l := m.layout(shift)"), jen.If(code("l.err != nil")).Block(jen.Return(code("b, l.err"))))
	}
	body = append(body, code("start := len(b)"), code("_ = start"))
	varIndex := map[*spec.Field]int{}
	for i, f := range s.Var {
		varIndex[f] = i
	}
	putInt := func(f *spec.Field, val string, check bool) []jen.Code {
		var out []jen.Code
		if check && maxOf(f.Bits) != "" {
			out = append(out, jen.If(code("uint64("+val+") > "+maxOf(f.Bits))).Block(jen.Return(code("b, ", g.errf(s, f.Name, "Overflow")))))
		}
		if f.Bits == 8 {
			out = append(out, code("b = append(b, byte("+val+"))"))
		} else {
			out = append(out, code("b = ", le(), fmt.Sprintf(".AppendUint%d(b, uint%d(%s))", f.Bits, f.Bits, val)))
		}
		return out
	}
	var fixedOne func(f *spec.Field) []jen.Code
	fixedOne = func(f *spec.Field) []jen.Code {
		switch f.Role {
		case spec.RoleConst:
			if f.Kind == spec.KindFixedBytes {
				return []jen.Code{code("b = append(b, ", jen.Lit(string(f.ConstBytes())), "...)")}
			}
			return putInt(f, fmt.Sprintf("%#x", f.ConstNum()), false)
		case spec.RoleLength:
			i := varIndex[f.RoleOf]
			if f.RoleOf.Kind == spec.KindCString {
				return putInt(f, fmt.Sprintf("max(l.n[%d]-1, 0)", i), true)
			}
			return putInt(f, fmt.Sprintf("l.n[%d]", i), true)
		case spec.RoleCount:
			rf := f.RoleOf
			i := varIndex[rf]
			if rf.Kind == spec.KindList {
				return []jen.Code{jen.Id("cnt").Op(":=").Id("m." + rf.Name + ".Count()"), jen.If(code(fmt.Sprintf("l.n[%d] == 0", i))).Block(code("cnt = 0")), jen.Block(putInt(f, "cnt", true)...)}
			}
			return putInt(f, fmt.Sprintf("l.n[%d] / %d", i, rf.Bits/8), true)
		case spec.RoleTotalSize:
			if k == 0 {
				return putInt(f, fmt.Sprint(s.FixedLen), true)
			}
			return putInt(f, "l.end", true)
		case spec.RoleNext:
			return putInt(f, "m."+f.Name, false)
		case spec.RoleOffset:
			return putInt(f, fmt.Sprintf("l.off[%d]", varIndex[f.RoleOf]), true)
		}
		switch f.Kind {
		case spec.KindScalar:
			return putInt(f, "m."+f.Name, false)
		case spec.KindFixedBytes:
			return []jen.Code{code("b = append(b, m." + f.Name + "[:]...)")}
		case spec.KindStruct:
			return []jen.Code{
				code("var err error"),
				code("b, err = m." + f.Name + ".Append(b)"),
				jen.If(code("err != nil")).Block(jen.Return(code("b, err"))),
			}
		}
		panic("append fixed kind")
	}
	for _, f := range s.Fields {
		if f.Union != nil {
			body = append(body, g.unionCode(s, f.Union, false, fixedOne))
			continue
		}
		if f.OffsetName == "" && (f.Kind == spec.KindScalar || f.Kind == spec.KindFixedBytes || f.Kind == spec.KindStruct) {
			st := fixedOne(f)
			if f.Kind == spec.KindStruct || f.Role == spec.RoleCount {
				body = append(body, jen.Block(st...))
			} else {
				body = append(body, st...)
			}
		}
	}
	for i, f := range s.Var {
		var val string
		switch f.Kind {
		case spec.KindList:
			val = "m." + f.Name + ".Bytes()..."
		default:
			val = "m." + f.Name + "..."
		}
		put := code("b = append(b, " + val + ")")
		if f.Kind == spec.KindBytes || f.Kind == spec.KindStructBytes {
			// In place when the caller already put the bytes where they go (wire.AppendBytes).
			put = code("b = ", g.w("AppendBytes"), "(b, m."+f.Name+")")
		}
		blk := []jen.Code{
			code("b = ", g.w("PadFrom"), fmt.Sprintf("(b, start, l.at[%d], m.raw)", i)),
			put,
		}
		if f.Kind == spec.KindCString {
			blk = append(blk, code("b = append(b, 0)"))
		}
		body = append(body, jen.If(code(fmt.Sprintf("l.n[%d] > 0", i))).Block(blk...))
	}
	if k > 0 {
		body = append(body, code("b = ", g.w("PadFrom"), "(b, start, l.end, m.raw)"))
	}
	body = append(body, jen.Return(code("b, nil")))
	_ = p
	jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("appendTo").Params(jen.Id("b").Index().Byte(), jen.Id("shift").Int()).Params(jen.Index().Byte(), jen.Error()).Block(body...)
}

func (g *gen) listType(jf *jen.File, s *spec.Struct) {
	ch := s.Chain
	lt := s.Name + "List"
	it := s.Name + "Iter"
	jf.Comment(fmt.Sprintf("%s is a chain of %s elements: a view over their encoding (decode aliases the input). Iterate with Iter, build with Add.", lt, s.Name))
	lf := []jen.Code{jen.Id("b").Index().Byte(), jen.Id("n").Int(), jen.Id("last").Int(), jen.Id("lastNext").Int()}
	if len(s.Var) > 0 {
		lf = append(lf, jen.Id("lastRaw").Index().Byte().Comment("input the last element was decoded from: padding after it is re-encoded from it"))
	}
	jf.Type().Id(lt).Struct(lf...)
	jf.Comment("Count returns the number of elements.")
	jf.Func().Params(jen.Id("l").Id(lt)).Id("Count").Params().Int().Block(jen.Return(jen.Id("l.n")))
	jf.Comment("Bytes returns the encoded elements.")
	jf.Func().Params(jen.Id("l").Id(lt)).Id("Bytes").Params().Index().Byte().Block(jen.Return(jen.Id("l.b")))
	jf.Comment("Reset empties the list and makes it append into buf's storage.")
	jf.Func().Params(jen.Id("l").Op("*").Id(lt)).Id("Reset").Params(jen.Id("buf").Index().Byte()).Block(code("*l = ", lt, "{b: buf[:0]}"))
	jf.Comment("Decode makes l a view of the chain in b: count elements, or, with count < 0, as many as b holds.")
	jf.Func().Params(jen.Id("l").Op("*").Id(lt)).Id("Decode").Params(jen.Id("b").Index().Byte(), jen.Id("count").Int()).Error().Block(
		code("_, err := l.DecodeChain(b, count, count < 0)"), jen.Return(jen.Id("err")))

	// step computes the element's extent in region lim and the distance to the next one
	var nextRead jen.Code
	if ch.NextField != nil {
		nextRead = code("nx := int(", le(), fmt.Sprintf(".Uint%d(lim[%d:]))", ch.NextField.Bits, ch.NextField.At))
		if ch.NextField.Bits == 8 {
			nextRead = code(fmt.Sprintf("nx := int(lim[%d])", ch.NextField.At))
		}
	}
	badChain := func(ret string) jen.Code { return jen.Return(code(ret, g.errf(s, "", "BadChain"))) }
	walk := func(decodeInto string, ret string) []jen.Code {
		var out []jen.Code
		out = append(out, code("lim := region[p:]"))
		if ch.NextField != nil {
			out = append(out,
				jen.If(code(fmt.Sprintf("len(lim) < %d", s.FixedLen))).Block(jen.Return(code(ret, g.errf(s, "", "Short")))),
				nextRead,
				jen.If(code("nx != 0")).Block(jen.If(code("nx > len(lim)")).Block(badChain(ret)), code("lim = lim[:nx]")),
			)
		}
		out = append(out,
			jen.If(code("err := "+decodeInto+".decode(lim, 0); err != nil")).Block(jen.Return(code(ret, "err"))),
			code("sz := "+decodeInto+".size(0)"),
		)
		switch {
		case ch.NextField != nil:
			out = append(out, code("step := nx"), jen.If(code("nx != 0 && nx < sz")).Block(badChain(ret)))
		default:
			out = append(out, code("step := ", g.w("AlignUp"), fmt.Sprintf("(sz, %d)", ch.Align)), jen.If(code("step <= 0")).Block(badChain(ret)))
		}
		return out
	}
	dec := []jen.Code{
		code("*l = ", lt, "{}"),
		code("p, n, end, last := 0, 0, 0, 0"),
	}
	loop := walk("e", "0, ")
	loop = append([]jen.Code{code("var e ", s.Name)}, loop...)
	loop = append(loop, code("n++"), code("last = p"), code("end = p + sz"))
	if ch.NextField != nil {
		loop = append(loop, jen.If(code("step == 0")).Block(jen.Break()))
	}
	loop = append(loop, code("p += step"))
	dec = append(dec,
		jen.For(code("(count < 0 && p < len(region)) || n < count")).Block(
			append([]jen.Code{jen.If(code("p >= len(region)")).Block(badChain("0, "))}, loop...)...),
		jen.If(code("count >= 0 && n < count")).Block(badChain("0, ")),
		code("l.n, l.last = n, last"),
		jen.If(code("whole")).Block(code("l.b = region")).Else().Block(code("l.b = region[:end]")),
		jen.Return(code("len(l.b), nil")),
	)
	jf.Comment("DecodeChain decodes count elements (all that region holds when count < 0) from region and returns the size of the list: all of region when whole, else the end of the last element.")
	jf.Func().Params(jen.Id("l").Op("*").Id(lt)).Id("DecodeChain").Params(jen.Id("region").Index().Byte(), jen.Id("count").Int(), jen.Id("whole").Bool()).Params(jen.Int(), jen.Error()).Block(dec...)

	// iterator
	jf.Comment(fmt.Sprintf("%s walks a %s: for it := l.Iter(); it.Next(); { e := it.Value() }; then check it.Err().", it, lt))
	jf.Type().Id(it).Struct(jen.Id("region").Index().Byte(), jen.Id("p").Int(), jen.Id("left").Int(), jen.Id("v").Id(s.Name), jen.Id("err").Error())
	jf.Comment("Iter returns a cursor over the elements.")
	jf.Func().Params(jen.Id("l").Id(lt)).Id("Iter").Params().Id(it).Block(jen.Return(code(it, "{region: l.b, left: l.n}")))
	jf.Func().Params(jen.Id("it").Op("*").Id(it)).Id("step").Params().Error().Block(
		append(append([]jen.Code{code("region, p := it.region, it.p")}, walkErrOnly(g, s, ch, nextRead)...), jen.Return(jen.Nil()))...,
	)
	jf.Comment("Next decodes the next element; it returns false at the end or on an error.")
	jf.Func().Params(jen.Id("it").Op("*").Id(it)).Id("Next").Params().Bool().Block(
		jen.If(code("it.left <= 0 || it.err != nil")).Block(jen.Return(jen.False())),
		jen.If(code("it.p >= len(it.region)")).Block(code("it.err = ", g.errf(s, "", "BadChain")), jen.Return(jen.False())),
		jen.If(code("err := it.step(); err != nil")).Block(code("it.err = err"), jen.Return(jen.False())),
		code("it.left--"),
		jen.Return(jen.True()),
	)
	jf.Comment("Value returns the current element; it is overwritten by the next call to Next.")
	jf.Func().Params(jen.Id("it").Op("*").Id(it)).Id("Value").Params().Op("*").Id(s.Name).Block(jen.Return(jen.Op("&").Id("it.v")))
	jf.Comment("Err returns the error that stopped the iteration, if any.")
	jf.Func().Params(jen.Id("it").Op("*").Id(it)).Id("Err").Params().Error().Block(jen.Return(jen.Id("it.err")))

	// Add
	add := []jen.Code{code("start := len(l.b)")}
	padAndPatch := []jen.Code{
		code("start = ", g.w("AlignUp"), fmt.Sprintf("(len(l.b), %d)", ch.Align)),
		code("l.b = ", g.w("Pad"), "(l.b, start-len(l.b))"),
	}
	padCode := func() jen.Code {
		if len(s.Var) > 0 {
			return code("l.b = ", g.w("PadFrom"), "(l.b, l.last, start-l.last, l.lastRaw)")
		}
		return code("l.b = ", g.w("Pad"), "(l.b, start-len(l.b))")
	}
	padAndPatch[1] = padCode()
	put := func(at, val string) jen.Code {
		nf := ch.NextField
		if nf.Bits == 8 {
			return code(fmt.Sprintf("l.b[%s+%d] = byte(%s)", at, nf.At, val))
		}
		return code(le(), fmt.Sprintf(".PutUint%d(l.b[%s+%d:], uint%d(%s))", nf.Bits, at, nf.At, nf.Bits, val))
	}
	if ch.NextField != nil {
		padAndPatch = []jen.Code{
			code("start = ", g.w("AlignUp"), fmt.Sprintf("(len(l.b), %d)", ch.Align)),
			jen.If(code("l.lastNext > 0 && l.last+l.lastNext >= len(l.b)")).Block(code("start = l.last + l.lastNext")),
			padCode(),
			put("l.last", "start-l.last"),
		}
	}
	add = append(add,
		jen.If(code("l.n > 0")).Block(padAndPatch...),
		code("b, err := e.appendTo(l.b, 0)"),
		jen.If(code("err != nil")).Block(jen.Return(jen.Id("err"))),
		code("l.b, l.last = b, start"),
	)
	if ch.NextField != nil {
		add = append(add, put("start", "0"), code("l.lastNext = int(e."+ch.NextField.Name+")"))
	}
	if len(s.Var) > 0 {
		add = append(add, code("l.lastRaw = e.raw"))
	}
	add = append(add, code("l.n++"), jen.Return(jen.Nil()))
	jf.Comment("Add appends an element (allocating only when the storage must grow).")
	jf.Func().Params(jen.Id("l").Op("*").Id(lt)).Id("Add").Params(jen.Id("e").Op("*").Id(s.Name)).Error().Block(add...)
}

// walkErrOnly is the body of one iteration step for the iterator: it decodes it.v from
// region[p:] and advances it.p, returning an error on failure.
func walkErrOnly(g *gen, s *spec.Struct, ch *spec.Chain, nextRead jen.Code) []jen.Code {
	var out []jen.Code
	out = append(out, code("lim := region[p:]"))
	if ch.NextField != nil {
		out = append(out,
			jen.If(code(fmt.Sprintf("len(lim) < %d", s.FixedLen))).Block(jen.Return(g.errf(s, "", "Short"))),
			nextRead,
			jen.If(code("nx != 0")).Block(jen.If(code("nx > len(lim)")).Block(jen.Return(g.errf(s, "", "BadChain"))), code("lim = lim[:nx]")),
		)
	}
	out = append(out, jen.If(code("err := it.v.decode(lim, 0); err != nil")).Block(jen.Return(jen.Id("err"))))
	if ch.NextField != nil {
		out = append(out, code("it.p += nx"), jen.If(code("nx == 0")).Block(code("it.left = 1")))
	} else {
		out = append(out, code("it.p += ", g.w("AlignUp"), fmt.Sprintf("(it.v.size(0), %d)", ch.Align)))
	}
	return out
}

// fieldAtFunc emits FieldAt, which names the field holding a byte of the encoding: the field
// path that tools print when a re-encoding differs.
func (g *gen) fieldAtFunc(jf *jen.File, s *spec.Struct) {
	var body []jen.Code
	body = append(body, jen.If(code("off < 0")).Block(jen.Return(jen.Lit(""))))
	one := func(f *spec.Field) jen.Code {
		end := f.At + f.Size
		if f.Kind == spec.KindStruct {
			return jen.If(code(fmt.Sprintf("off < %d", end))).Block(
				jen.Return(code(jen.Lit(f.Name+"."), fmt.Sprintf("+ m.%s.FieldAt(off-%d)", f.Name, f.At))))
		}
		return jen.If(code(fmt.Sprintf("off < %d", end))).Block(jen.Return(jen.Lit(f.Name)))
	}
	for _, f := range s.Fields {
		if f.Union != nil {
			var th, el []jen.Code
			for _, bf := range f.Union.Then {
				th = append(th, one(bf))
			}
			for _, bf := range f.Union.Else {
				el = append(el, one(bf))
			}
			body = append(body, jen.If(code(fmt.Sprintf("off < %d", f.Union.At+f.Union.Size))).Block(
				jen.If(g.condExpr(s, f.Union.When, false)).Block(th...).Else().Block(el...)))
			continue
		}
		if f.OffsetName == "" && (f.Kind == spec.KindScalar || f.Kind == spec.KindFixedBytes || f.Kind == spec.KindStruct) {
			body = append(body, one(f))
		}
	}
	if len(s.Var) > 0 {
		shift := "0"
		if s.Header {
			shift = "64"
		}
		body = append(body, code("l := m.layout("+shift+")"))
		for i, f := range s.Var {
			body = append(body, jen.If(code(fmt.Sprintf("l.n[%d] > 0 && off >= l.at[%d] && off < l.at[%d]+l.n[%d]", i, i, i, i))).Block(jen.Return(jen.Lit(f.Name))))
		}
		body = append(body, jen.If(code("off < l.end")).Block(jen.Return(jen.Lit("(padding)"))))
	}
	body = append(body, jen.Return(jen.Lit("(after the structure)")))
	what := "the structure"
	if s.Header {
		what = "the body"
	}
	jf.Comment(fmt.Sprintf("FieldAt names the field that holds byte off of the encoding (counted from the start of %s).", what))
	jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("FieldAt").Params(jen.Id("off").Int()).String().Block(body...)
}

// unionCode emits `if cond { then fields } else { else fields }` for a union, each field's
// statements made by one; raw reads the condition's field from the wire (decode) rather than
// from the struct (encode).
func (g *gen) unionCode(s *spec.Struct, u *spec.Union, raw bool, one func(*spec.Field) []jen.Code) jen.Code {
	var th, el []jen.Code
	for _, bf := range u.Then {
		th = append(th, one(bf)...)
	}
	for _, bf := range u.Else {
		el = append(el, one(bf)...)
	}
	return jen.If(g.condExpr(s, u.When, raw)).Block(th...).Else().Block(el...)
}
