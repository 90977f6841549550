package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/smbvfs/smbvfs/gen/spec"
)

// testFile generates, for every structure of f: a sample value with every field set, a round
// trip test (encode, decode, encode again: same bytes, and Len agrees), a truncation test
// (every prefix decodes or fails, never panics), a zero-allocation test for decode and for
// encoding into a pre-grown buffer, and decode/encode benchmarks for command bodies.
func (g *gen) testFile(p *spec.Package, f *spec.File) *jen.File {
	jf := g.newFile(p, f, true)
	for _, s := range f.Structs {
		g.sample(jf, s)
		g.structTests(jf, s)
	}
	return jf
}

func sampleName(s *spec.Struct) string { return "sample" + s.Name }

// condValues returns, per field, the value conditions want, so the sample exercises the
// conditional parts.
func condValues(s *spec.Struct) (eq map[*spec.Field]uint64, contains map[*spec.Field][]uint64) {
	eq = map[*spec.Field]uint64{}
	contains = map[*spec.Field][]uint64{}
	visit := func(c *spec.Cond) {
		if c == nil || c.F == nil {
			return
		}
		switch c.Op {
		case "eq":
			if _, ok := eq[c.F]; !ok {
				eq[c.F] = c.Value
			}
		case "has":
			eq[c.F] |= c.Value
		case "ne":
			if _, ok := eq[c.F]; !ok {
				eq[c.F] = c.Value + 1
			}
		case "lacks":
			if _, ok := eq[c.F]; !ok {
				eq[c.F] = 0
			}
		case "contains":
			contains[c.F] = append(contains[c.F], c.Value)
		}
	}
	for _, f := range s.Fields {
		if f.Union != nil {
			visit(f.Union.When)
		}
	}
	for _, f := range s.Var {
		visit(f.When)
	}
	return eq, contains
}

func (g *gen) sample(jf *jen.File, s *spec.Struct) {
	p := pkgOf(s.File)
	eq, contains := condValues(s)
	body := []jen.Code{code("var m ", s.Name)}
	for i, f := range append(append([]*spec.Field{}, s.Fixed...), s.Var...) {
		if !f.IsGoField() || f.Role == spec.RoleOffset || f.Role == spec.RoleNext {
			continue
		}
		seed := i*0x1357 + 0x21
		switch f.Kind {
		case spec.KindScalar:
			var v uint64
			if x, ok := eq[f]; ok {
				v = x
			} else if f.Enum != nil && len(f.Enum.Values) > 0 {
				v = f.Enum.Values[len(f.Enum.Values)/2].Value
			} else {
				v = uint64(seed)
			}
			if f.Bits < 64 {
				v &= 1<<uint(f.Bits) - 1
			}
			body = append(body, code("m."+f.Name+" = ", g.goType(p, f), fmt.Sprintf("(%#x)", v)))
		case spec.KindFixedBytes:
			body = append(body, jen.For(code("i := range m."+f.Name)).Block(code(fmt.Sprintf("m.%s[i] = byte(i + %d)", f.Name, seed&0x7f))))
		case spec.KindStruct:
			if f.Elem.File.Pkg == p { // samples of other packages are not visible here
				body = append(body, code("m."+f.Name+" = ", sampleName(f.Elem), "()"))
			}
		case spec.KindBytes:
			body = append(body, code("m."+f.Name+" = []byte(", jen.Lit("sample "+f.Name), ")"))
		case spec.KindCString:
			body = append(body, code("m."+f.Name+" = []byte(", jen.Lit("NT LM 0.12"), ")"))
		case spec.KindUTF16:
			body = append(body, code("m."+f.Name+" = ", jen.Qual(g.utf16Pkg(), "FromString"), "(", jen.Lit(`dir\file-`+f.Name+".txt"), ")"))
		case spec.KindArray:
			var vals []uint64
			if f.Enum != nil {
				for j, v := range f.Enum.Values {
					if j < 6 {
						vals = append(vals, v.Value)
					}
				}
			} else {
				vals = []uint64{uint64(seed), uint64(seed * 3)}
			}
			vals = append(vals, contains[f]...)
			args := ""
			for _, v := range vals {
				args += fmt.Sprintf(", %#x", v&(1<<uint(f.Bits)-1))
			}
			body = append(body, code("m."+f.Name+" = ", g.w(fmt.Sprintf("AppendUint%ds", f.Bits)), "(nil"+args+")"))
		case spec.KindList:
			if f.Elem.File.Pkg != p {
				// lists of another package's elements are built there; keep this one empty
				continue
			}
			body = append(body, jen.Block(
				code("e := ", sampleName(f.Elem), "()"),
				jen.For(code("i := 0; i < 2; i++")).Block(
					jen.If(code("err := m."+f.Name+".Add(&e); err != nil")).Block(jen.Panic(jen.Id("err"))),
				),
			))
		case spec.KindStructBytes:
			body = append(body, jen.Block(
				func() jen.Code {
					if f.Elem.File.Pkg == p {
						return code("e := ", sampleName(f.Elem), "()")
					}
					return code("var e ", g.qual(p, pkgOf(f.Elem.File), f.Elem.Name))
				}(),
				code("b, err := e.Append(nil)"),
				jen.If(code("err != nil")).Block(jen.Panic(jen.Id("err"))),
				code("m."+f.Name+" = b"),
			))
		}
	}
	body = append(body, jen.Return(jen.Id("m")))
	jf.Comment(fmt.Sprintf("%s returns a %s with every field set.", sampleName(s), s.Name))
	jf.Func().Id(sampleName(s)).Params().Id(s.Name).Block(body...)
}

func (g *gen) structTests(jf *jen.File, s *spec.Struct) {
	n := s.Name
	var encode, decode, reencode, lenCheck []jen.Code
	if s.Header {
		encode = []jen.Code{code("enc, err := m.Append(make([]byte, 64), 0)")}
		decode = []jen.Code{code("err = d.Decode(enc, 0)")}
		reencode = []jen.Code{code("enc2, err := d.Append(make([]byte, 64), 0)")}
		lenCheck = []jen.Code{jen.If(code("len(enc) != 64+m.Len() || d.Len() != m.Len()")).Block(code(`t.Fatalf("Len %d/%d, encoded %d", m.Len(), d.Len(), len(enc)-64)`))}
	} else {
		encode = []jen.Code{code("enc, err := m.Append(nil)")}
		decode = []jen.Code{code("err = d.Decode(enc)")}
		reencode = []jen.Code{code("enc2, err := d.Append(nil)")}
		lenCheck = []jen.Code{jen.If(code("len(enc) != m.Len() || d.Len() != m.Len()")).Block(code(`t.Fatalf("Len %d/%d, encoded %d", m.Len(), d.Len(), len(enc))`))}
	}
	var body []jen.Code
	body = append(body, code("m := ", sampleName(s), "()"))
	body = append(body, encode...)
	body = append(body, jen.If(code("err != nil")).Block(code(`t.Fatalf("encode: %v", err)`)))
	body = append(body, code("var d ", n))
	body = append(body, decode...)
	body = append(body, jen.If(code("err != nil")).Block(code(`t.Fatalf("decode: %v", err)`)))
	body = append(body, reencode...)
	body = append(body,
		jen.If(code("err != nil")).Block(code(`t.Fatalf("re-encode: %v", err)`)),
		jen.If(code("!", jen.Qual("bytes", "Equal"), "(enc, enc2)")).Block(code(`t.Fatalf("re-encoding differs:\n%x\n%x", enc, enc2)`)),
	)
	body = append(body, lenCheck...)
	// lists decode back to the elements that were added
	for _, f := range s.Var {
		if f.Kind == spec.KindList && f.Elem.File.Pkg == s.File.Pkg {
			body = append(body, jen.Block(
				code("it := d."+f.Name+".Iter()"),
				code("k := 0"),
				jen.For(code("it.Next()")).Block(code("k++")),
				jen.If(code("it.Err() != nil || k != m."+f.Name+".Count()")).Block(code(`t.Fatalf("`+f.Name+`: iterated %d of %d: %v", k, m.`+f.Name+`.Count(), it.Err())`)),
			))
		}
	}
	// every truncation decodes or fails without panicking
	trunc := "x.Decode(enc[:i])"
	if s.Header {
		trunc = "x.Decode(enc[:i], 0)"
	}
	body = append(body, jen.For(code("i := range enc")).Block(code("var x "+n), code("_ = "+trunc)))
	jf.Func().Id("Test" + n + "RoundTrip").Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(body...)

	// allocations
	var run []jen.Code
	var setup []jen.Code
	setup = append(setup, code("m := ", sampleName(s), "()"))
	if s.Header {
		setup = append(setup, code("enc, err := m.Append(make([]byte, 64), 0)"))
		setup = append(setup, jen.If(code("err != nil")).Block(code("t.Fatal(err)")))
		setup = append(setup, code("buf := make([]byte, 64, 2*len(enc)+128)"), code("var d "+n))
		run = append(run,
			jen.If(code("err := d.Decode(enc, 0); err != nil")).Block(jen.Panic(jen.Id("err"))),
			code("var err error"),
			code("buf, err = d.Append(buf[:64], 0)"),
			jen.If(code("err != nil")).Block(jen.Panic(jen.Id("err"))),
		)
	} else {
		setup = append(setup, code("enc, err := m.Append(nil)"))
		setup = append(setup, jen.If(code("err != nil")).Block(code("t.Fatal(err)")))
		setup = append(setup, code("buf := make([]byte, 0, 2*len(enc)+128)"), code("var d "+n))
		run = append(run,
			jen.If(code("err := d.Decode(enc); err != nil")).Block(jen.Panic(jen.Id("err"))),
			code("var err error"),
			code("buf, err = d.Append(buf[:0])"),
			jen.If(code("err != nil")).Block(jen.Panic(jen.Id("err"))),
		)
	}
	for _, f := range s.Var {
		if f.Kind == spec.KindList {
			run = append(run, jen.For(code("it := d."+f.Name+".Iter(); it.Next();")).Block())
		}
	}
	allocs := append(setup,
		code("allocs := ", jen.Qual("testing", "AllocsPerRun"), "(100, func() {"),
	)
	allocs = append(allocs, run...)
	allocs = append(allocs, code("})"),
		jen.If(code("allocs != 0")).Block(code(`t.Errorf("decode+encode allocates %v times", allocs)`)))
	jf.Func().Id("Test" + n + "Allocs").Params(jen.Id("t").Op("*").Qual("testing", "T")).Block(allocs...)

	if s.Header {
		jf.Func().Id("Benchmark"+n+"Decode").Params(jen.Id("b").Op("*").Qual("testing", "B")).Block(
			code("m := ", sampleName(s), "()"),
			code("enc, _ := m.Append(make([]byte, 64), 0)"),
			code("var d "+n),
			code("b.ReportAllocs()"),
			code("b.SetBytes(int64(len(enc)))"),
			jen.For(code("b.Loop()")).Block(jen.If(code("err := d.Decode(enc, 0); err != nil")).Block(code("b.Fatal(err)"))),
		)
		jf.Func().Id("Benchmark"+n+"Encode").Params(jen.Id("b").Op("*").Qual("testing", "B")).Block(
			code("m := ", sampleName(s), "()"),
			code("buf := make([]byte, 64, 64+m.Len()+64)"),
			code("b.ReportAllocs()"),
			code("b.SetBytes(int64(m.Len()))"),
			jen.For(code("b.Loop()")).Block(
				code("var err error"),
				code("buf, err = m.Append(buf[:64], 0)"),
				jen.If(code("err != nil")).Block(code("b.Fatal(err)"))),
		)
	}
}
