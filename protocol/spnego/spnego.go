// Package spnego encodes and decodes the SPNEGO tokens (RFC 4178, MS-SPNG) that carry the
// authentication of SMB2 SESSION_SETUP, and runs the server side of an SPNEGO exchange with
// NTLM as the mechanism (Acceptor).
//
// Tokens:
//
//   - NegTokenInit, in the GSS-API InitialContextToken framing of RFC 2743 3.1
//     ([APPLICATION 0] { OID 1.3.6.1.5.5.2, [0] NegTokenInit }): the client's first token.
//   - NegTokenInit2 (MS-SPNG 2.2.1), the same framing with negHints ([3]) and mechListMIC
//     moved to [4]: the server's hint in the SMB2 NEGOTIATE response (NegotiateHint).
//   - NegTokenResp ([1] NegTokenResp): every later token, both ways.
//
// Decoding is strict DER reading (definite lengths, tags as RFC 4178 defines them, no
// trailing bytes) with one allowance: a [3] element of an init token is read as
// NegTokenInit2's negHints when it is a SEQUENCE and as RFC 4178's mechListMIC when it is an
// OCTET STRING. It never panics on hostile input (fuzzed). Encoding is DER, so a canonical
// token decodes and re-encodes to the same bytes.
//
// The MechTypeList as received is kept (RawMechTypes): the mechListMIC is computed over those
// exact DER bytes.
package spnego

import (
	"encoding/asn1"
	"fmt"
)

// OID is an ASN.1 object identifier.
type OID = asn1.ObjectIdentifier

// Object identifiers of mechanisms (and of SPNEGO itself).
var (
	OIDSPNEGO       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}
	OIDNTLMSSP      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
	OIDKerberos5    = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}
	OIDMSKerberos5  = asn1.ObjectIdentifier{1, 2, 840, 48018, 1, 2, 2} // Microsoft's truncated Kerberos OID
	OIDKerberos5U2U = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2, 3}
	OIDNegoEx       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 30}
)

// HintName is the negHints hintName Windows sends in NegTokenInit2 (MS-SPNG 3.2.5.2).
const HintName = "not_defined_in_RFC4178@please_ignore"

// NegState is the negState of a NegTokenResp.
type NegState int

// The negState values; NegStateAbsent marks a token without negState.
const (
	NegStateAbsent           NegState = -1
	NegStateAcceptCompleted  NegState = 0
	NegStateAcceptIncomplete NegState = 1
	NegStateReject           NegState = 2
	NegStateRequestMIC       NegState = 3
)

func (s NegState) String() string {
	switch s {
	case NegStateAbsent:
		return "absent"
	case NegStateAcceptCompleted:
		return "accept-completed"
	case NegStateAcceptIncomplete:
		return "accept-incomplete"
	case NegStateReject:
		return "reject"
	case NegStateRequestMIC:
		return "request-mic"
	}
	return fmt.Sprintf("NegState(%d)", int(s))
}

// NegHints are the hints of NegTokenInit2.
type NegHints struct {
	HintName    *string // [0] GeneralString
	HintAddress []byte  // [1] OCTET STRING, nil when absent
}

// NegTokenInit is a NegTokenInit or NegTokenInit2. Nil slices are absent fields; an empty,
// non-nil slice is a present, empty one.
type NegTokenInit struct {
	MechTypes []asn1.ObjectIdentifier
	// RawMechTypes is the DER of the MechTypeList (the SEQUENCE, tag and length included) as
	// decoded; Marshal ignores it and encodes MechTypes.
	RawMechTypes []byte
	// ReqFlags is the contents of the reqFlags BIT STRING (unused-bits byte first), nil when
	// absent.
	ReqFlags    []byte
	MechToken   []byte
	NegHints    *NegHints // NegTokenInit2 only
	MechListMIC []byte
	// Framed tells whether the decoded token had the GSS-API InitialContextToken framing;
	// Marshal always frames.
	Framed bool
}

// NegTokenResp is a NegTokenResp.
type NegTokenResp struct {
	NegState      NegState
	SupportedMech asn1.ObjectIdentifier
	ResponseToken []byte
	MechListMIC   []byte
}

// DecodeInit decodes a NegTokenInit or NegTokenInit2, with the GSS-API framing (the form on
// the wire) or without it (a bare [0] element).
func DecodeInit(b []byte) (*NegTokenInit, error) {
	t := &NegTokenInit{}
	tag, v, _, rest, err := readTLV(b)
	if err != nil || len(rest) != 0 {
		return nil, ErrMalformed
	}
	if tag == tagApplication0 {
		// thisMech, then the inner token.
		otag, _, oraw, inner, err := readTLV(v)
		if err != nil || otag != tagOID {
			return nil, ErrMalformed
		}
		oid, err := decodeOID(oraw)
		if err != nil || !oid.Equal(OIDSPNEGO) {
			return nil, ErrMalformed
		}
		t.Framed = true
		if tag, v, _, rest, err = readTLV(inner); err != nil || len(rest) != 0 {
			return nil, ErrMalformed
		}
	}
	if tag != tagContext(0) {
		return nil, ErrMalformed
	}
	seq, err := expect(v, tagSequence)
	if err != nil {
		return nil, err
	}
	last := -1
	for len(seq) > 0 {
		tag, fv, _, rest, err := readTLV(seq)
		if err != nil {
			return nil, err
		}
		seq = rest
		n := int(tag &^ 0xa0)
		if tag&0xe0 != 0xa0 || n <= last {
			return nil, ErrMalformed // not a context tag, or out of order / repeated
		}
		last = n
		switch n {
		case 0:
			list, err := expect(fv, tagSequence)
			if err != nil {
				return nil, err
			}
			_, _, t.RawMechTypes, _, _ = readTLV(fv)
			t.MechTypes = []asn1.ObjectIdentifier{}
			for len(list) > 0 {
				otag, _, oraw, r, err := readTLV(list)
				if err != nil || otag != tagOID {
					return nil, ErrMalformed
				}
				oid, err := decodeOID(oraw)
				if err != nil {
					return nil, err
				}
				t.MechTypes = append(t.MechTypes, oid)
				list = r
			}
		case 1:
			bits, err := expect(fv, tagBitString)
			if err != nil || len(bits) == 0 || bits[0] > 7 {
				return nil, ErrMalformed
			}
			t.ReqFlags = bits
		case 2:
			if t.MechToken, err = expect(fv, tagOctetString); err != nil {
				return nil, err
			}
		case 3:
			itag, _, _, _, err := readTLV(fv)
			if err != nil {
				return nil, err
			}
			switch itag {
			case tagOctetString: // RFC 4178 mechListMIC
				if t.MechListMIC, err = expect(fv, tagOctetString); err != nil {
					return nil, err
				}
			case tagSequence: // MS-SPNG negHints
				if t.NegHints, err = decodeNegHints(fv); err != nil {
					return nil, err
				}
			default:
				return nil, ErrMalformed
			}
		case 4: // NegTokenInit2 mechListMIC
			if t.MechListMIC, err = expect(fv, tagOctetString); err != nil {
				return nil, err
			}
		default:
			// Extension marker: RFC 4178 allows later additions; ignore them.
		}
	}
	if t.MechTypes == nil && t.NegHints == nil {
		return nil, ErrMalformed // mechTypes is mandatory in NegTokenInit
	}
	return t, nil
}

func decodeNegHints(b []byte) (*NegHints, error) {
	seq, err := expect(b, tagSequence)
	if err != nil {
		return nil, err
	}
	h := &NegHints{}
	last := -1
	for len(seq) > 0 {
		tag, fv, _, rest, err := readTLV(seq)
		if err != nil {
			return nil, err
		}
		seq = rest
		n := int(tag &^ 0xa0)
		if tag&0xe0 != 0xa0 || n <= last {
			return nil, ErrMalformed
		}
		last = n
		switch n {
		case 0:
			name, err := expect(fv, tagGeneralString)
			if err != nil {
				return nil, err
			}
			s := string(name)
			h.HintName = &s
		case 1:
			if h.HintAddress, err = expect(fv, tagOctetString); err != nil {
				return nil, err
			}
			if h.HintAddress == nil {
				h.HintAddress = []byte{}
			}
		}
	}
	return h, nil
}

// Marshal encodes the token with the GSS-API framing. With NegHints set it is a
// NegTokenInit2 (mechListMIC at [4]); otherwise a NegTokenInit (mechListMIC at [3]).
func (t *NegTokenInit) Marshal() []byte {
	var body [][]byte
	if t.MechTypes != nil {
		var list [][]byte
		for _, oid := range t.MechTypes {
			list = append(list, encodeOID(oid))
		}
		body = append(body, tlv(tagContext(0), tlv(tagSequence, list...)))
	}
	if t.ReqFlags != nil {
		body = append(body, tlv(tagContext(1), tlv(tagBitString, t.ReqFlags)))
	}
	if t.MechToken != nil {
		body = append(body, tlv(tagContext(2), tlv(tagOctetString, t.MechToken)))
	}
	if t.NegHints != nil {
		var hints [][]byte
		if t.NegHints.HintName != nil {
			hints = append(hints, tlv(tagContext(0), tlv(tagGeneralString, []byte(*t.NegHints.HintName))))
		}
		if t.NegHints.HintAddress != nil {
			hints = append(hints, tlv(tagContext(1), tlv(tagOctetString, t.NegHints.HintAddress)))
		}
		body = append(body, tlv(tagContext(3), tlv(tagSequence, hints...)))
		if t.MechListMIC != nil {
			body = append(body, tlv(tagContext(4), tlv(tagOctetString, t.MechListMIC)))
		}
	} else if t.MechListMIC != nil {
		body = append(body, tlv(tagContext(3), tlv(tagOctetString, t.MechListMIC)))
	}
	inner := tlv(tagContext(0), tlv(tagSequence, body...))
	return tlv(tagApplication0, encodeOID(OIDSPNEGO), inner)
}

// EncodeMechTypes returns the DER MechTypeList of oids, the bytes a mechListMIC covers.
func EncodeMechTypes(oids ...asn1.ObjectIdentifier) []byte {
	var list [][]byte
	for _, oid := range oids {
		list = append(list, encodeOID(oid))
	}
	return tlv(tagSequence, list...)
}

// DecodeResp decodes a NegTokenResp ([1] { SEQUENCE }).
func DecodeResp(b []byte) (*NegTokenResp, error) {
	v, err := expect(b, tagContext(1))
	if err != nil {
		return nil, err
	}
	seq, err := expect(v, tagSequence)
	if err != nil {
		return nil, err
	}
	t := &NegTokenResp{NegState: NegStateAbsent}
	last := -1
	for len(seq) > 0 {
		tag, fv, _, rest, err := readTLV(seq)
		if err != nil {
			return nil, err
		}
		seq = rest
		n := int(tag &^ 0xa0)
		if tag&0xe0 != 0xa0 || n <= last {
			return nil, ErrMalformed
		}
		last = n
		switch n {
		case 0:
			e, err := expect(fv, tagEnumerated)
			if err != nil || len(e) != 1 || e[0] > 3 {
				return nil, ErrMalformed
			}
			t.NegState = NegState(e[0])
		case 1:
			if t.SupportedMech, err = decodeOID(fv); err != nil {
				return nil, err
			}
		case 2:
			if t.ResponseToken, err = expect(fv, tagOctetString); err != nil {
				return nil, err
			}
			if t.ResponseToken == nil {
				t.ResponseToken = []byte{}
			}
		case 3:
			if t.MechListMIC, err = expect(fv, tagOctetString); err != nil {
				return nil, err
			}
			if t.MechListMIC == nil {
				t.MechListMIC = []byte{}
			}
		}
	}
	return t, nil
}

// Marshal encodes the token.
func (t *NegTokenResp) Marshal() []byte {
	var body [][]byte
	if t.NegState != NegStateAbsent {
		body = append(body, tlv(tagContext(0), tlv(tagEnumerated, []byte{byte(t.NegState)})))
	}
	if t.SupportedMech != nil {
		body = append(body, tlv(tagContext(1), encodeOID(t.SupportedMech)))
	}
	if t.ResponseToken != nil {
		body = append(body, tlv(tagContext(2), tlv(tagOctetString, t.ResponseToken)))
	}
	if t.MechListMIC != nil {
		body = append(body, tlv(tagContext(3), tlv(tagOctetString, t.MechListMIC)))
	}
	return tlv(tagContext(1), tlv(tagSequence, body...))
}

// NegotiateHint returns the security buffer of the SMB2 NEGOTIATE response (MS-SMB2
// 3.3.5.4, MS-SPNG 3.2.5.2): a NegTokenInit2 listing mechs (by default NTLMSSP only) with
// negHints hintName "not_defined_in_RFC4178@please_ignore", as Windows sends it.
func NegotiateHint(mechs ...asn1.ObjectIdentifier) []byte {
	if len(mechs) == 0 {
		mechs = []asn1.ObjectIdentifier{OIDNTLMSSP}
	}
	name := HintName
	t := &NegTokenInit{MechTypes: mechs, NegHints: &NegHints{HintName: &name}}
	return t.Marshal()
}
