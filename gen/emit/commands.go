package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/smbvfs/smbvfs/gen/spec"
)

// commands emits, from the command table of a spec file: the rules table, per-request credit
// charge methods, form wrappers for commands with several request/response forms, the
// Handler interface, UnimplementedHandler, the Messages set reused per connection, and
// Dispatch, which enforces the rules before calling the handler. Call (the per-request state
// the server fills) is hand-written in the package.
func (g *gen) commands(jf *jen.File, f *spec.File) {
	st := func(name string) *jen.Statement { return jen.Qual(g.pkgPath("ntstatus"), name) }
	cmdConst := func(c *spec.Command) string { return "Command" + c.Name }

	// rules table
	jf.Comment("CommandRules is what the command table (spec/smb2/commands.yaml) says of a command; Dispatch enforces it.")
	jf.Type().Id("CommandRules").Struct(
		jen.Id("Name").String().Comment("the command's name"),
		jen.Id("NeedsSession").Bool().Comment("refused without a session"),
		jen.Id("NeedsTree").Bool().Comment("refused without a tree connect"),
		jen.Id("PreAuth").Bool().Comment("allowed on a session that is still authenticating"),
		jen.Id("Compound").Bool().Comment("may appear in a compound chain"),
		jen.Id("Async").Bool().Comment("may go asynchronous (STATUS_PENDING)"),
		jen.Id("NoResponse").Bool().Comment("the server sends no response (CANCEL)"),
		jen.Id("MinDialect").Id("Dialect").Comment("lowest dialect that has the command"),
	)
	maxCode := uint64(0)
	for _, c := range f.Commands {
		if c.Code > maxCode {
			maxCode = c.Code
		}
	}
	var rows []jen.Code
	for _, c := range f.Commands {
		rows = append(rows, jen.Id(cmdConst(c)).Op(":").Values(jen.Dict{
			jen.Id("Name"):         jen.Lit(c.Name),
			jen.Id("NeedsSession"): jen.Lit(c.NeedsSession),
			jen.Id("NeedsTree"):    jen.Lit(c.NeedsTree),
			jen.Id("PreAuth"):      jen.Lit(c.PreAuth),
			jen.Id("Compound"):     jen.Lit(c.Compound),
			jen.Id("Async"):        jen.Lit(c.Async),
			jen.Id("NoResponse"):   jen.Lit(c.NoResponse),
			jen.Id("MinDialect"):   jen.Op(fmt.Sprintf("%#04x", c.MinDialect)),
		}))
	}
	jf.Var().Id("commandRules").Op("=").Index(jen.Lit(int(maxCode) + 1)).Id("CommandRules").Values(rows...)
	jf.Comment("Rules returns the rules of command c, and false for a command the table does not have.")
	jf.Func().Id("Rules").Params(jen.Id("c").Id("Command")).Params(jen.Id("CommandRules"), jen.Bool()).Block(
		jen.If(code("int(c) >= len(commandRules) || commandRules[c].Name == \"\"")).Block(jen.Return(code("CommandRules{}, false"))),
		jen.Return(code("commandRules[c], true")),
	)

	// credit charge
	for _, c := range f.Commands {
		if len(c.SendF)+len(c.ReceiveF) == 0 {
			continue
		}
		s := c.Request.Struct
		sum := func(fs []*spec.Field) jen.Code {
			if len(fs) == 0 {
				return jen.Lit(0)
			}
			e := jen.Null()
			for i, fd := range fs {
				if i > 0 {
					e.Op("+")
				}
				switch fd.Role {
				case spec.RoleLength:
					e.Add(code(sizeExpr(fd.RoleOf)))
				case spec.RoleCount:
					if fd.RoleOf.Kind == spec.KindList {
						e.Add(code("m." + fd.RoleOf.Name + ".Count()"))
					} else {
						e.Add(code("m." + fd.RoleOf.Name + ".Len()"))
					}
				default:
					e.Add(code("int(m." + fd.Name + ")"))
				}
			}
			return e
		}
		jf.Comment(fmt.Sprintf("PayloadSize is the larger of what the request sends and what it asks to receive (MS-SMB2 3.1.5.2), from its fields %v and %v.", c.Send, c.Receive))
		jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("PayloadSize").Params().Int().Block(
			jen.Return(jen.Max(sum(c.SendF), sum(c.ReceiveF))),
		)
		jf.Comment("CreditCharge is the number of credits the request must carry: one per started 64 KiB of payload, at least one.")
		jf.Func().Params(jen.Id("m").Op("*").Id(s.Name)).Id("CreditCharge").Params().Int().Block(
			jen.Return(code("max(1, (m.PayloadSize()+65535)/65536)")),
		)
	}

	// form wrappers
	reqType := map[*spec.Command]string{}
	respType := map[*spec.Command]string{}
	for _, c := range f.Commands {
		if c.Request != nil {
			reqType[c] = c.Request.Struct.Name
		} else {
			reqType[c] = c.Name + "RequestForms"
			g.forms(jf, reqType[c], c.Requests)
		}
		switch {
		case c.Response != nil:
			respType[c] = c.Response.Struct.Name
		case len(c.Responses) > 0:
			respType[c] = c.Name + "ResponseForms"
			g.forms(jf, respType[c], c.Responses)
		}
	}

	// Handler
	var methods []jen.Code
	for _, c := range f.Commands {
		params := []jen.Code{jen.Id("call").Op("*").Id("Call"), jen.Id("req").Op("*").Id(reqType[c])}
		if rt, ok := respType[c]; ok {
			params = append(params, jen.Id("resp").Op("*").Id(rt))
		}
		methods = append(methods, jen.Comment(fmt.Sprintf("%s handles SMB2 %s (%s).", c.Name, c.Name, c.Ref)), jen.Id(c.Name).Params(params...).Qual(g.pkgPath("ntstatus"), "Status"))
	}
	jf.Comment("Handler is implemented by the server: one method per command. A method fills resp and returns the status of the response; for an error status the response body is an ERROR response and resp is ignored. Requests and responses alias per-connection buffers: copy what outlives the call.")
	jf.Type().Id("Handler").Interface(methods...)

	jf.Comment("UnimplementedHandler answers every command with STATUS_NOT_SUPPORTED; embed it so that a new command in the spec never breaks the build.")
	jf.Type().Id("UnimplementedHandler").Struct()
	for _, c := range f.Commands {
		params := []jen.Code{jen.Op("*").Id("Call"), jen.Op("*").Id(reqType[c])}
		if rt, ok := respType[c]; ok {
			params = append(params, jen.Op("*").Id(rt))
		}
		jf.Comment(fmt.Sprintf("%s answers STATUS_NOT_SUPPORTED.", c.Name))
		jf.Func().Params(jen.Id("UnimplementedHandler")).Id(c.Name).Params(params...).Qual(g.pkgPath("ntstatus"), "Status").Block(jen.Return(st("StatusNotSupported")))
	}

	// Messages
	var mfields []jen.Code
	for _, c := range f.Commands {
		mfields = append(mfields, jen.Id(c.Name+"Request").Id(reqType[c]))
		if rt, ok := respType[c]; ok {
			mfields = append(mfields, jen.Id(c.Name+"Response").Id(rt))
		}
	}
	jf.Comment("Messages holds one request and one response of every command; a connection keeps one and Dispatch decodes into it, so that no request allocates.")
	jf.Type().Id("Messages").Struct(mfields...)

	// accessors by command, for tools that walk any message
	var rq, rs []jen.Code
	for _, c := range f.Commands {
		rq = append(rq, jen.Case(jen.Id(cmdConst(c))).Block(jen.Return(code("&msgs."+c.Name+"Request"))))
		if _, ok := respType[c]; ok {
			rs = append(rs, jen.Case(jen.Id(cmdConst(c))).Block(jen.Return(code("&msgs."+c.Name+"Response"))))
		}
	}
	jf.Comment("Request returns the request of command c in msgs, or nil when the table has no such command.")
	jf.Func().Params(jen.Id("msgs").Op("*").Id("Messages")).Id("Request").Params(jen.Id("c").Id("Command")).Id("Message").Block(
		jen.Switch(jen.Id("c")).Block(rq...), jen.Return(jen.Nil()))
	jf.Comment("Response returns the response of command c in msgs, or nil when the command has none.")
	jf.Func().Params(jen.Id("msgs").Op("*").Id("Messages")).Id("Response").Params(jen.Id("c").Id("Command")).Id("Message").Block(
		jen.Switch(jen.Id("c")).Block(rs...), jen.Return(jen.Nil()))

	// Dispatch
	var cases []jen.Code
	for _, c := range f.Commands {
		blk := []jen.Code{
			jen.If(code("err := msgs."+c.Name+"Request.Decode(call.PDU, call.Hdr); err != nil")).Block(
				code("call.DecodeErr = err"),
				jen.Return(code("", st("StatusInvalidParameter"), ", nil")),
			),
		}
		if _, ok := respType[c]; ok {
			blk = append(blk,
				code("msgs."+c.Name+"Response = ", respType[c], "{}"),
				code("status := h."+c.Name+"(call, &msgs."+c.Name+"Request, &msgs."+c.Name+"Response)"),
				jen.If(code("IsErrorResponse(call.Header.Command, status)")).Block(jen.Return(code("status, nil"))),
				jen.Return(code("status, &msgs."+c.Name+"Response")),
			)
		} else {
			blk = append(blk, jen.Return(code("h."+c.Name+"(call, &msgs."+c.Name+"Request), nil")))
		}
		cases = append(cases, jen.Case(jen.Id(cmdConst(c))).Block(blk...))
	}
	jf.Comment(`Dispatch runs one request: it enforces the command's rules (session, tree connect, dialect), decodes the body from call.PDU into msgs, calls the handler and returns the status with the response body to encode, which is nil when an ERROR response (or no response) must be sent. A body that does not decode gives STATUS_INVALID_PARAMETER with call.DecodeErr set.`)
	jf.Func().Id("Dispatch").Params(jen.Id("h").Id("Handler"), jen.Id("call").Op("*").Id("Call"), jen.Id("msgs").Op("*").Id("Messages")).Params(st("Status"), jen.Id("Body")).Block(
		code("r, ok := Rules(call.Header.Command)"),
		jen.If(code("!ok")).Block(jen.Return(code("", st("StatusInvalidParameter"), ", nil"))),
		jen.If(code("call.Dialect != 0 && call.Dialect != DialectWildcard && call.Dialect < r.MinDialect")).Block(jen.Return(code("", st("StatusNotSupported"), ", nil"))),
		jen.If(code("r.NeedsSession")).Block(
			jen.Switch(code("call.Session")).Block(
				jen.Case(code("SessionNone")).Block(jen.Return(code("", st("StatusUserSessionDeleted"), ", nil"))),
				jen.Case(code("SessionExpired")).Block(jen.Return(code("", st("StatusNetworkSessionExpired"), ", nil"))),
				jen.Case(code("SessionInProgress")).Block(jen.If(code("!r.PreAuth")).Block(jen.Return(code("", st("StatusAccessDenied"), ", nil")))),
			),
		),
		jen.If(code("r.NeedsTree && !call.TreeValid")).Block(jen.Return(code("", st("StatusNetworkNameDeleted"), ", nil"))),
		jen.Switch(code("call.Header.Command")).Block(cases...),
		jen.Return(code("", st("StatusInvalidParameter"), ", nil")),
	)
}

// forms emits a wrapper for a command with several request or response structures, chosen
// by StructureSize (the first two bytes of the body).
func (g *gen) forms(jf *jen.File, name string, forms []*spec.Form) {
	var fields []jen.Code
	fields = append(fields, jen.Id("Size").Uint16().Comment("the StructureSize of the form in use: decode sets it, encode follows it"))
	for _, fm := range forms {
		fields = append(fields, jen.Id(fm.Struct.Name).Id(fm.Struct.Name).Comment(fmt.Sprintf("StructureSize %d", fm.Size)))
	}
	jf.Comment(fmt.Sprintf("%s holds the forms of a message that has several, told apart by StructureSize.", name))
	jf.Type().Id(name).Struct(fields...)
	var dcases, lcases, acases []jen.Code
	for _, fm := range forms {
		dcases = append(dcases, jen.Case(jen.Lit(int(fm.Size))).Block(jen.Return(code("m."+fm.Struct.Name+".Decode(pdu, hdr)"))))
		lcases = append(lcases, jen.Case(jen.Lit(int(fm.Size))).Block(jen.Return(code("m."+fm.Struct.Name+".Len()"))))
		acases = append(acases, jen.Case(jen.Lit(int(fm.Size))).Block(jen.Return(code("m."+fm.Struct.Name+".Append(b, hdr)"))))
	}
	jf.Comment("Decode picks the form by StructureSize and decodes it.")
	jf.Func().Params(jen.Id("m").Op("*").Id(name)).Id("Decode").Params(jen.Id("pdu").Index().Byte(), jen.Id("hdr").Int()).Error().Block(
		jen.If(code("hdr < 0 || hdr > len(pdu)-66")).Block(jen.Return(g.w("Errorf").Call(jen.Lit(name), jen.Lit(""), g.w("Short")))),
		code("m.Size = ", le(), ".Uint16(pdu[hdr+64:])"),
		jen.Switch(code("m.Size")).Block(dcases...),
		jen.Return(g.w("Errorf").Call(jen.Lit(name), jen.Lit("StructureSize"), g.w("BadConst"))),
	)
	jf.Comment("Len returns the size of the form in use.")
	jf.Func().Params(jen.Id("m").Op("*").Id(name)).Id("Len").Params().Int().Block(
		jen.Switch(code("m.Size")).Block(lcases...),
		jen.Return(jen.Lit(0)),
	)
	jf.Comment("Append encodes the form in use.")
	jf.Func().Params(jen.Id("m").Op("*").Id(name)).Id("Append").Params(jen.Id("b").Index().Byte(), jen.Id("hdr").Int()).Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Switch(code("m.Size")).Block(acases...),
		jen.Return(code("b, ", g.w("Errorf").Call(jen.Lit(name), jen.Lit("StructureSize"), g.w("BadConst")))),
	)
}
