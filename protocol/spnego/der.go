package spnego

import (
	"encoding/asn1"
	"errors"
)

// ErrMalformed is returned for a token that is not valid DER of the expected shape.
var ErrMalformed = errors.New("spnego: malformed token")

// DER tags used here (single-byte identifiers: class, constructed bit, number < 31).
const (
	tagEnumerated    = 0x0a
	tagOctetString   = 0x04
	tagBitString     = 0x03
	tagOID           = 0x06
	tagGeneralString = 0x1b
	tagSequence      = 0x30
	tagApplication0  = 0x60 // [APPLICATION 0] constructed: GSS-API InitialContextToken
)

func tagContext(n byte) byte { return 0xa0 | n } // [n] constructed, context-specific

// maxDepth bounds nesting; SPNEGO tokens nest a handful of levels.
const maxDepth = 16

// readTLV reads one element from b: its tag, its contents, the whole encoding and what
// follows. Only definite lengths are accepted (DER forbids the indefinite form); long-form
// lengths must fit in 4 bytes and the contents in b. It never panics.
func readTLV(b []byte) (tag byte, value, raw, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, nil, ErrMalformed
	}
	tag = b[0]
	if tag&0x1f == 0x1f { // multi-byte tag number: not used by SPNEGO
		return 0, nil, nil, nil, ErrMalformed
	}
	n := int(b[1])
	hdr := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, nil, ErrMalformed // indefinite or oversized length
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		if n < 0 {
			return 0, nil, nil, nil, ErrMalformed
		}
		hdr += k
	}
	if n > len(b)-hdr {
		return 0, nil, nil, nil, ErrMalformed
	}
	return tag, b[hdr : hdr+n], b[:hdr+n], b[hdr+n:], nil
}

// expect reads one element that must have the given tag and be all of b.
func expect(b []byte, tag byte) (value []byte, err error) {
	t, v, _, rest, err := readTLV(b)
	if err != nil || t != tag || len(rest) != 0 {
		return nil, ErrMalformed
	}
	return v, nil
}

// appendLength appends a DER (minimal) length.
func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= 0xff:
		return append(b, 0x81, byte(n))
	case n <= 0xffff:
		return append(b, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// tlv encodes one element.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, 6+n)
	b = append(b, tag)
	b = appendLength(b, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// encodeOID returns the DER of an OBJECT IDENTIFIER.
func encodeOID(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic("spnego: invalid OID " + oid.String())
	}
	return b
}

// decodeOID parses the DER of an OBJECT IDENTIFIER (tag included).
func decodeOID(raw []byte) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(raw, &oid)
	if err != nil || len(rest) != 0 {
		return nil, ErrMalformed
	}
	return oid, nil
}
