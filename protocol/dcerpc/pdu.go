package dcerpc

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
)

// HeaderSize is the size of the common header of connection-oriented PDUs.
const HeaderSize = 16

// SecTrailerSize is the size of the sec_trailer in front of an auth_value.
const SecTrailerSize = 8

// DrepLE is the packed_drep of little-endian integers, ASCII characters and IEEE floats.
var DrepLE = [4]byte{0x10, 0, 0, 0}

// ParseUUID parses the textual form of a UUID (8-4-4-4-12 hex digits) into its packet
// representation: the first three groups little-endian, the last two as written.
func ParseUUID(s string) (dtyp.GUID, error) {
	var g dtyp.GUID
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, errors.New("dcerpc: bad UUID " + s)
	}
	raw, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	if err != nil {
		return g, errors.New("dcerpc: bad UUID " + s)
	}
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(raw[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(g[8:], raw[8:])
	return g, nil
}

// MustUUID is ParseUUID for constants.
func MustUUID(s string) dtyp.GUID {
	g, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// Well-known transfer syntaxes.
var (
	// NDR is the NDR 2.0 transfer syntax (C706 chapter 14), version 2.0.
	NDR = SyntaxId{UUID: MustUUID("8a885d04-1ceb-11c9-9fe8-08002b104860"), VersMajor: 2}
	// NDR64 is the NDR64 transfer syntax (MS-RPCE 2.2.5), version 1.0.
	NDR64 = SyntaxId{UUID: MustUUID("71710533-beba-4937-8319-b5dbef9ccc36"), VersMajor: 1}
	// bindTimeFeaturePrefix is the first 8 bytes of the bind time feature negotiation
	// pseudo transfer syntax 6cb71c2c-9812-4540-XXXX-XXXXXXXXXXXX (MS-RPCE 3.3.1.5.3).
	bindTimeFeaturePrefix = MustUUID("6cb71c2c-9812-4540-0000-000000000000")
)

// BindTimeFeatureSyntax reports whether s is a bind time feature negotiation pseudo
// transfer syntax and returns the features it offers (its last 8 bytes, as a bitmask).
func BindTimeFeatureSyntax(s *SyntaxId) (BindTimeFeatures, bool) {
	if [8]byte(s.UUID[:8]) != [8]byte(bindTimeFeaturePrefix[:8]) {
		return 0, false
	}
	return BindTimeFeatures(binary.LittleEndian.Uint16(s.UUID[8:])), true
}

// BindTimeFeatureSyntaxFor returns the pseudo transfer syntax offering f, version 1.0.
func BindTimeFeatureSyntaxFor(f BindTimeFeatures) SyntaxId {
	s := SyntaxId{UUID: bindTimeFeaturePrefix, VersMajor: 1}
	binary.LittleEndian.PutUint16(s.UUID[8:], uint16(f))
	return s
}

// Same reports whether two syntaxes are equal (UUID and both version numbers).
func (s SyntaxId) Same(o SyntaxId) bool {
	return s.UUID == o.UUID && s.VersMajor == o.VersMajor && s.VersMinor == o.VersMinor
}

// PeekHeader decodes the common header at the start of b and checks that it is plausible:
// version 5, minor 0 or 1, a frag_length of at least 16 that leaves room for auth_length.
func PeekHeader(b []byte) (Header, error) {
	var h Header
	if err := h.Decode(b); err != nil {
		return h, err
	}
	if h.RpcVersMinor > 1 {
		return h, errors.New("dcerpc: unsupported minor version")
	}
	if h.FragLength < HeaderSize || int(h.FragLength) < HeaderSize+int(h.AuthLength) {
		return h, errors.New("dcerpc: bad frag_length")
	}
	return h, nil
}

// LittleEndian reports whether the packed_drep says little-endian integers.
func (h *Header) LittleEndian() bool { return h.Drep[0]&0xf0 == 0x10 }

// ErrBadAuth is returned when an auth verifier does not fit its PDU.
var ErrBadAuth = errors.New("dcerpc: auth verifier does not fit the PDU")

// SplitAuth cuts the tail of a PDU (what follows its fixed part: a request or response
// body, a bind's auth verifier) into the data before the auth padding, the sec_trailer and
// the auth_value, given the header's auth_length. With auth_length 0 everything is data.
func SplitAuth(tail []byte, authLength uint16) (data []byte, trailer SecTrailer, auth []byte, err error) {
	if authLength == 0 {
		return tail, trailer, nil, nil
	}
	at := len(tail) - int(authLength) - SecTrailerSize
	if at < 0 {
		return nil, trailer, nil, ErrBadAuth
	}
	if err := trailer.Decode(tail[at:]); err != nil {
		return nil, trailer, nil, err
	}
	if int(trailer.AuthPadLength) > at {
		return nil, trailer, nil, ErrBadAuth
	}
	return tail[:at-int(trailer.AuthPadLength)], trailer, tail[at+SecTrailerSize:], nil
}

// RequestStub returns the object UUID (when PfcObjectUuid is set) and the stub data of a
// request, without auth padding and verifier.
func (m *Request) RequestStub() (object *dtyp.GUID, stub []byte, err error) {
	body, _, _, err := SplitAuth(m.Body, m.AuthLength)
	if err != nil {
		return nil, nil, err
	}
	if m.PfcFlags&PfcObjectUuid != 0 {
		if len(body) < 16 {
			return nil, nil, errors.New("dcerpc: request too short for its object UUID")
		}
		var g dtyp.GUID
		copy(g[:], body)
		object, body = &g, body[16:]
	}
	return object, body, nil
}

// ResponseStub returns the stub data of a response, without auth padding and verifier.
func (m *Response) ResponseStub() ([]byte, error) {
	stub, _, _, err := SplitAuth(m.Body, m.AuthLength)
	return stub, err
}

// SplitPDUs walks the PDUs in b (a byte stream of concatenated PDUs) by their frag_length.
// It calls fn with each complete PDU and returns the number of bytes consumed: what is left
// is the start of an incomplete PDU. It stops with an error on a header that can not start
// a PDU.
func SplitPDUs(b []byte, fn func(pdu []byte) error) (int, error) {
	n := 0
	for len(b)-n >= HeaderSize {
		h, err := PeekHeader(b[n:])
		if err != nil {
			return n, err
		}
		l := int(h.FragLength)
		if len(b)-n < l {
			break
		}
		if err := fn(b[n : n+l]); err != nil {
			return n, err
		}
		n += l
	}
	return n, nil
}

// responseHeaderSize is the size of a response PDU before its stub.
const responseHeaderSize = 24

// AppendResponses appends the response PDUs of one call to dst, one per fragment, each at
// most maxFrag bytes; the stub of every fragment but the last is a multiple of 8 bytes.
// It calls emit with each PDU appended (for callers that keep one message per fragment)
// when emit is not nil.
func AppendResponses(dst []byte, callID uint32, ctxID uint16, minor uint8, stub []byte, maxFrag int, emit func(pdu []byte)) []byte {
	room := (maxFrag - responseHeaderSize) &^ 7
	if room < 8 {
		room = 8
	}
	off := 0
	for first := true; first || off < len(stub); first = false {
		n := min(room, len(stub)-off)
		flags := PfcFlags(0)
		if first {
			flags |= PfcFirstFrag
		}
		if off+n == len(stub) {
			flags |= PfcLastFrag
		}
		r := Response{
			RpcVersMinor: minor,
			PfcFlags:     flags,
			Drep:         DrepLE,
			CallId:       callID,
			AllocHint:    uint32(len(stub) - off),
			PContId:      ctxID,
			Body:         stub[off : off+n],
		}
		start := len(dst)
		dst, _ = r.Append(dst) // a response built here always encodes
		if emit != nil {
			emit(dst[start:])
		}
		off += n
	}
	return dst
}

// AppendFault appends a fault PDU for a call.
func AppendFault(dst []byte, callID uint32, ctxID uint16, minor uint8, status FaultStatus, didNotExecute bool) []byte {
	f := Fault{
		RpcVersMinor: minor,
		PfcFlags:     PfcFirstFrag | PfcLastFrag,
		Drep:         DrepLE,
		CallId:       callID,
		AllocHint:    32,
		PContId:      ctxID,
		Status:       status,
	}
	if didNotExecute {
		f.PfcFlags |= PfcDidNotExecute
	}
	dst, _ = f.Append(dst)
	return dst
}

// Reassembler joins the request fragments of calls (C706 12.6.3.6). A call's stub is
// complete when its last fragment arrives.
type Reassembler struct {
	// Max bounds the stub of one call (default 4 MiB).
	Max int

	active bool
	callID uint32
	opnum  uint16
	ctxID  uint16
	stub   []byte
}

// ErrTooBig is returned when a call's stub exceeds Reassembler.Max.
var ErrTooBig = errors.New("dcerpc: request stub too large")

// ErrFragment is returned for a fragment that does not continue the call in progress.
var ErrFragment = errors.New("dcerpc: fragment out of sequence")

// Add adds one request fragment. When the call is complete it returns done and the whole
// stub (valid until the next call of Add).
func (r *Reassembler) Add(req *Request) (stub []byte, done bool, err error) {
	_, frag, err := req.RequestStub()
	if err != nil {
		r.Reset()
		return nil, false, err
	}
	limit := r.Max
	if limit <= 0 {
		limit = 4 << 20
	}
	first, last := req.PfcFlags&PfcFirstFrag != 0, req.PfcFlags&PfcLastFrag != 0
	if first {
		if first && last {
			r.Reset()
			return frag, true, nil
		}
		r.active, r.callID, r.opnum, r.ctxID = true, req.CallId, req.Opnum, req.PContId
		r.stub = r.stub[:0]
		if req.AllocHint > 0 && int(req.AllocHint) <= limit {
			r.stub = grow(r.stub, int(req.AllocHint))
		}
	} else if !r.active || req.CallId != r.callID {
		r.Reset()
		return nil, false, ErrFragment
	}
	if len(r.stub)+len(frag) > limit {
		r.Reset()
		return nil, false, ErrTooBig
	}
	r.stub = append(r.stub, frag...)
	if !last {
		return nil, false, nil
	}
	r.active = false
	return r.stub, true, nil
}

// Reset abandons the call in progress.
func (r *Reassembler) Reset() { r.active = false; r.stub = r.stub[:0] }

// Active reports whether a call is in progress and its id.
func (r *Reassembler) Active() (uint32, bool) { return r.callID, r.active }

func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b
	}
	return make([]byte, 0, n)
}

// PDU is any decoded connection-oriented PDU.
type PDU interface {
	Append(b []byte) ([]byte, error)
	Len() int
	FieldAt(off int) string
}

// DecodePDU decodes the PDU at the start of b (b may hold more bytes after it: the PDU is
// limited to its frag_length) by its PTYPE.
func DecodePDU(b []byte) (PDU, error) {
	h, err := PeekHeader(b)
	if err != nil {
		return nil, err
	}
	if int(h.FragLength) > len(b) {
		return nil, errors.New("dcerpc: PDU shorter than its frag_length")
	}
	b = b[:h.FragLength]
	var p interface {
		PDU
		Decode([]byte) error
	}
	switch h.PType {
	case PTypeRequest:
		p = new(Request)
	case PTypeResponse:
		p = new(Response)
	case PTypeFault:
		p = new(Fault)
	case PTypeBind:
		p = new(Bind)
	case PTypeBindAck:
		p = new(BindAck)
	case PTypeBindNak:
		p = new(BindNak)
	case PTypeAlterContext:
		p = new(AlterContext)
	case PTypeAlterContextResp:
		p = new(AlterContextResp)
	case PTypeAuth3:
		p = new(Auth3)
	case PTypeShutdown:
		p = new(Shutdown)
	case PTypeCoCancel:
		p = new(CoCancel)
	case PTypeOrphaned:
		p = new(Orphaned)
	default:
		return nil, errors.New("dcerpc: PTYPE " + h.PType.String() + " is not a connection-oriented PDU")
	}
	if err := p.Decode(b); err != nil {
		return nil, err
	}
	return p, nil
}
