package ipc

import (
	"sync/atomic"

	"github.com/smbvfs/smbvfs/protocol/dcerpc"
)

// service is one RPC interface served on a pipe.
type service interface {
	syntax() dcerpc.SyntaxId
	// call runs one operation; it returns the response stub, or a fault status.
	call(c *callCtx, opnum uint16, stub []byte) ([]byte, dcerpc.FaultStatus)
}

// callCtx is what an operation knows of its caller.
type callCtx struct {
	tree *Tree
	enc  dcerpc.Encoder
}

// Fragment sizes: what the server offers in bind_ack, bounded by the client's (C706
// 12.6.3.1: at least 1432).
const (
	serverMaxFrag = 4280
	minFrag       = 1432
	maxPDU        = 64 << 10 // larger PDUs from a client are a protocol error
)

var assocSeq atomic.Uint32

func init() { assocSeq.Store(0x5300) }

// endpoint is the server end of one pipe: an RPC association (MS-RPCE 3.3.1.5) fed with
// the bytes the client writes; it queues the PDUs to read, one message each.
type endpoint struct {
	svc      service
	secAddr  string // \PIPE\name
	bound    bool
	minor    uint8
	maxXmit  int // the largest fragment the server sends
	assoc    uint32
	contexts map[uint16]bool // accepted presentation contexts (NDR)

	in   []byte   // written bytes not yet forming a whole PDU
	out  [][]byte // response messages (PDUs) not yet read
	part int      // bytes of out[0] already read
	re   dcerpc.Reassembler
	cc   callCtx
}

func newEndpoint(t *Tree, svc service, pipe string) *endpoint {
	return &endpoint{svc: svc, secAddr: `\PIPE\` + pipe, contexts: map[uint16]bool{}, maxXmit: serverMaxFrag, cc: callCtx{tree: t}}
}

// pending returns the number of bytes waiting to be read.
func (p *endpoint) pending() int {
	n := 0
	for i, m := range p.out {
		if i == 0 {
			n += len(m) - p.part
		} else {
			n += len(m)
		}
	}
	return n
}

// write feeds bytes written by the client and processes every complete PDU.
func (p *endpoint) write(b []byte) {
	p.in = append(p.in, b...)
	n, err := dcerpc.SplitPDUs(p.in, func(pdu []byte) error {
		if len(pdu) > maxPDU {
			return dcerpc.ErrTooBig
		}
		p.pdu(pdu)
		return nil
	})
	if err == nil && len(p.in)-n >= dcerpc.HeaderSize {
		if h, _ := dcerpc.PeekHeader(p.in[n:]); int(h.FragLength) > maxPDU {
			err = dcerpc.ErrTooBig
		}
	}
	if err != nil {
		// Not a PDU stream (or a PDU too large): answer a protocol error and drop the bytes.
		var call uint32
		if len(p.in)-n >= dcerpc.HeaderSize {
			var h dcerpc.Header
			if h.Decode(p.in[n:]) == nil {
				call = h.CallId
			}
		}
		p.queue(dcerpc.AppendFault(nil, call, 0, p.minor, dcerpc.NcaProtoError, true))
		p.in = p.in[:0]
		p.re.Reset()
		return
	}
	p.in = append(p.in[:0], p.in[n:]...)
}

func (p *endpoint) queue(pdu []byte) { p.out = append(p.out, pdu) }

// read takes up to n bytes of the next message: it reports whether the message was not
// read to its end (STATUS_BUFFER_OVERFLOW on a message-mode pipe).
func (p *endpoint) read(n int) (data []byte, more bool, ok bool) {
	if len(p.out) == 0 {
		return nil, false, false
	}
	m := p.out[0][p.part:]
	if len(m) > n {
		p.part += n
		return m[:n], true, true
	}
	p.out = p.out[1:]
	p.part = 0
	return m, false, true
}

func (p *endpoint) pdu(b []byte) {
	var h dcerpc.Header
	if err := h.Decode(b); err != nil {
		return
	}
	if !h.LittleEndian() {
		p.queue(dcerpc.AppendFault(nil, h.CallId, 0, h.RpcVersMinor, dcerpc.NcaUnsupportedType, true))
		return
	}
	switch h.PType {
	case dcerpc.PTypeBind:
		var m dcerpc.Bind
		if err := m.Decode(b); err != nil {
			p.bindNak(h.CallId, h.RpcVersMinor, dcerpc.RejectNotSpecified)
			return
		}
		p.bind(&m.ContextElems, m.CallId, m.RpcVersMinor, m.MaxXmitFrag, m.MaxRecvFrag, m.AssocGroupId, m.AuthLength, false)
	case dcerpc.PTypeAlterContext:
		var m dcerpc.AlterContext
		if err := m.Decode(b); err != nil {
			p.queue(dcerpc.AppendFault(nil, h.CallId, 0, h.RpcVersMinor, dcerpc.NcaProtoError, true))
			return
		}
		p.bind(&m.ContextElems, m.CallId, m.RpcVersMinor, m.MaxXmitFrag, m.MaxRecvFrag, m.AssocGroupId, m.AuthLength, true)
	case dcerpc.PTypeRequest:
		var m dcerpc.Request
		if err := m.Decode(b); err != nil {
			p.re.Reset()
			p.queue(dcerpc.AppendFault(nil, h.CallId, 0, h.RpcVersMinor, dcerpc.NcaProtoError, true))
			return
		}
		p.request(&m)
	case dcerpc.PTypeAuth3, dcerpc.PTypeShutdown:
		// no answer
	case dcerpc.PTypeCoCancel, dcerpc.PTypeOrphaned:
		if id, ok := p.re.Active(); ok && id == h.CallId {
			p.re.Reset()
		}
	default:
		p.queue(dcerpc.AppendFault(nil, h.CallId, 0, h.RpcVersMinor, dcerpc.NcaProtoError, true))
	}
}

func (p *endpoint) bindNak(call uint32, minor uint8, reason dcerpc.RejectReason) {
	nak := dcerpc.BindNak{RpcVersMinor: minor, PfcFlags: dcerpc.PfcFirstFrag | dcerpc.PfcLastFrag, Drep: dcerpc.DrepLE, CallId: call, ProviderRejectReason: reason}
	nak.Versions.Add(&dcerpc.Version{Major: 5, Minor: 0})
	out, _ := nak.Append(nil)
	p.queue(out)
}

// bind answers bind and alter_context (C706 12.6.4.3, MS-RPCE 3.3.1.5.3).
func (p *endpoint) bind(ctxs *dcerpc.ContextElemList, call uint32, minor uint8, maxXmit, maxRecv uint16, assoc uint32, authLen uint16, alter bool) {
	if !alter && p.bound {
		p.bindNak(call, minor, dcerpc.RejectNotSpecified)
		return
	}
	if alter && !p.bound {
		p.queue(dcerpc.AppendFault(nil, call, 0, minor, dcerpc.NcaProtoError, true))
		return
	}
	if authLen != 0 {
		// No RPC security provider: the srvsvc and wkssvc pipes need none over SMB.
		if alter {
			p.queue(dcerpc.AppendFault(nil, call, 0, minor, dcerpc.FaultAccessDenied, true))
		} else {
			p.bindNak(call, minor, dcerpc.RejectAuthenticationTypeNotRecognized)
		}
		return
	}
	if ctxs.Count() == 0 {
		if alter {
			p.queue(dcerpc.AppendFault(nil, call, 0, minor, dcerpc.NcaProtoError, true))
		} else {
			p.bindNak(call, minor, dcerpc.RejectNotSpecified)
		}
		return
	}
	if !alter {
		if maxXmit < minFrag || maxRecv < minFrag {
			p.bindNak(call, minor, dcerpc.RejectLocalLimitExceeded)
			return
		}
		p.minor = minor
		p.maxXmit = min(int(maxRecv), serverMaxFrag)
		p.assoc = assoc
		if p.assoc == 0 {
			p.assoc = assocSeq.Add(1)
		}
	}
	var results dcerpc.ResultList
	want := p.svc.syntax()
	for it := ctxs.Iter(); it.Next(); {
		c := it.Value()
		r := dcerpc.Result{Result: dcerpc.ProviderRejection, Reason: uint16(dcerpc.TransferSyntaxesNotSupported)}
		abstractOK := c.AbstractSyntax.UUID == want.UUID && c.AbstractSyntax.VersMajor == want.VersMajor && c.AbstractSyntax.VersMinor <= want.VersMinor
		for ts := c.TransferSyntaxes.Iter(); ts.Next(); {
			s := ts.Value()
			if f, ok := dcerpc.BindTimeFeatureSyntax(s); ok {
				// Answered whatever the abstract syntax, as Windows does: the features
				// both sides support.
				r = dcerpc.Result{Result: dcerpc.NegotiateAck, Reason: uint16(f & (dcerpc.FeatureSecurityContextMultiplexing | dcerpc.FeatureKeepConnectionOnOrphan))}
				break
			}
			if !abstractOK {
				r = dcerpc.Result{Result: dcerpc.ProviderRejection, Reason: uint16(dcerpc.AbstractSyntaxNotSupported)}
				continue
			}
			if s.Same(dcerpc.NDR) {
				r = dcerpc.Result{Result: dcerpc.Acceptance, TransferSyntax: dcerpc.NDR}
				p.contexts[c.ContextId] = true
				break
			}
		}
		if ctxs.Count() > 0 && it.Err() == nil {
			results.Add(&r)
		}
	}
	rl := dcerpc.PResultList{Results: results}
	rlb, _ := rl.Append(nil)
	var out []byte
	if alter {
		a := dcerpc.AlterContextResp{RpcVersMinor: minor, PfcFlags: dcerpc.PfcFirstFrag | dcerpc.PfcLastFrag, Drep: dcerpc.DrepLE, CallId: call,
			MaxXmitFrag: uint16(p.maxXmit), MaxRecvFrag: serverMaxFrag, AssocGroupId: p.assoc, ResultList: rlb}
		out, _ = a.Append(nil)
	} else {
		a := dcerpc.BindAck{RpcVersMinor: minor, PfcFlags: dcerpc.PfcFirstFrag | dcerpc.PfcLastFrag, Drep: dcerpc.DrepLE, CallId: call,
			MaxXmitFrag: uint16(p.maxXmit), MaxRecvFrag: serverMaxFrag, AssocGroupId: p.assoc,
			SecAddr: append([]byte(p.secAddr), 0), ResultList: rlb}
		out, _ = a.Append(nil)
		p.bound = true
	}
	p.queue(out)
}

// request runs a call once its last fragment has arrived (C706 12.6.4.9).
func (p *endpoint) request(m *dcerpc.Request) {
	if !p.bound {
		p.queue(dcerpc.AppendFault(nil, m.CallId, m.PContId, m.RpcVersMinor, dcerpc.NcaProtoError, true))
		return
	}
	if m.AuthLength != 0 {
		p.re.Reset()
		p.queue(dcerpc.AppendFault(nil, m.CallId, m.PContId, p.minor, dcerpc.FaultAccessDenied, true))
		return
	}
	stub, done, err := p.re.Add(m)
	if err != nil {
		p.queue(dcerpc.AppendFault(nil, m.CallId, m.PContId, p.minor, dcerpc.NcaProtoError, true))
		return
	}
	if !done {
		return
	}
	if !p.contexts[m.PContId] {
		p.queue(dcerpc.AppendFault(nil, m.CallId, m.PContId, p.minor, dcerpc.NcaUnkIf, true))
		return
	}
	p.cc.enc.Reset()
	resp, fault := p.svc.call(&p.cc, m.Opnum, stub)
	if fault != 0 {
		p.queue(dcerpc.AppendFault(nil, m.CallId, m.PContId, p.minor, fault, fault == dcerpc.NcaOpRngError || fault == dcerpc.NcaFaultNdr))
		return
	}
	dcerpc.AppendResponses(nil, m.CallId, m.PContId, p.minor, resp, p.maxXmit, func(pdu []byte) {
		p.queue(pdu)
	})
}
