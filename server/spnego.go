package server

import (
	"bytes"
	"errors"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
)

// A small SPNEGO acceptor (RFC 4178, MS-SPNG) offering NTLMSSP only: the NegTokenInit2
// hint of the NEGOTIATE response, the client's NegTokenInit / NegTokenResp, and the
// server's NegTokenResp with the mechListMIC.

var (
	oidSPNEGO  = []byte{0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}                         // 1.3.6.1.5.5.2
	oidNTLMSSP = []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a} // 1.3.6.1.4.1.311.2.2.10
)

const hintName = "not_defined_in_RFC4178@please_ignore"

// derAppend appends a DER TLV.
func derAppend(b []byte, tag byte, content ...[]byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	b = append(b, tag)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	case n < 0x10000:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	for _, c := range content {
		b = append(b, c...)
	}
	return b
}

func der(tag byte, content ...[]byte) []byte { return derAppend(nil, tag, content...) }

// derNext splits the first TLV off b: its tag, its content, the whole element, the rest.
func derNext(b []byte) (tag byte, content, whole, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, nil, errMalformed
	}
	tag = b[0]
	n := int(b[1])
	p := 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, nil, nil, errMalformed
		}
		n = 0
		for i := 0; i < k; i++ {
			n = n<<8 | int(b[2+i])
		}
		p += k
	}
	if n > len(b)-p {
		return 0, nil, nil, nil, errMalformed
	}
	return tag, b[p : p+n], b[:p+n], b[p+n:], nil
}

var hintToken []byte

func init() {
	mechTypes := der(0xa0, der(0x30, oidNTLMSSP))
	hints := der(0xa3, der(0x30, der(0xa0, der(0x1b, []byte(hintName)))))
	init2 := der(0xa0, der(0x30, mechTypes, hints))
	hintToken = der(0x60, oidSPNEGO, init2)
}

// negTokenInitHint returns the NegTokenInit2 of the NEGOTIATE response (MS-SPNG 2.2.1).
func negTokenInitHint() []byte { return hintToken }

// spnegoMIC is the SPNEGO state of one authentication.
type spnegoMIC struct {
	mechTypes []byte // the client's MechTypeList, DER, as the mechListMIC covers it
	clientMIC []byte
	sentMech  bool // supportedMech sent
	notFirst  bool // NTLMSSP was not the client's preferred mechanism
	gotInit   bool
}

// parseClient reads a NegTokenInit (in a GSS InitialContextToken) or a NegTokenResp and
// returns its mechanism token, nil when it has none for NTLMSSP.
func (m *spnegoMIC) parseClient(in []byte) ([]byte, error) {
	tag, content, _, _, err := derNext(in)
	if err != nil {
		return nil, err
	}
	switch tag {
	case 0x60: // InitialContextToken: OID, NegotiationToken
		_, _, oid, rest, err := derNext(content)
		if err != nil || !bytes.Equal(oid, oidSPNEGO) {
			return nil, errMalformed
		}
		t, init, _, _, err := derNext(rest)
		if err != nil || t != 0xa0 {
			return nil, errMalformed
		}
		t, seq, _, _, err := derNext(init)
		if err != nil || t != 0x30 {
			return nil, errMalformed
		}
		m.gotInit = true
		var mechToken []byte
		for len(seq) > 0 {
			t, c, _, r, err := derNext(seq)
			if err != nil {
				return nil, err
			}
			seq = r
			switch t {
			case 0xa0: // mechTypes
				_, list, whole, _, err := derNext(c)
				if err != nil {
					return nil, err
				}
				m.mechTypes = append([]byte(nil), whole...)
				found := false
				for i := 0; len(list) > 0; i++ {
					_, _, oid, r, err := derNext(list)
					if err != nil {
						return nil, err
					}
					list = r
					if bytes.Equal(oid, oidNTLMSSP) {
						found = true
						m.notFirst = i > 0
						break
					}
				}
				if !found {
					return nil, errLogonFailure
				}
			case 0xa2: // mechToken
				t, tok, _, _, err := derNext(c)
				if err != nil || t != 0x04 {
					return nil, errMalformed
				}
				mechToken = tok
			case 0xa3:
				t, mic, _, _, err := derNext(c)
				if err == nil && t == 0x04 {
					m.clientMIC = mic
				}
			}
		}
		if m.notFirst {
			return nil, nil // the optimistic token is for another mechanism
		}
		return mechToken, nil
	case 0xa1: // NegTokenResp
		t, seq, _, _, err := derNext(content)
		if err != nil || t != 0x30 {
			return nil, errMalformed
		}
		var tok []byte
		for len(seq) > 0 {
			t, c, _, r, err := derNext(seq)
			if err != nil {
				return nil, err
			}
			seq = r
			switch t {
			case 0xa2:
				tt, v, _, _, err := derNext(c)
				if err != nil || tt != 0x04 {
					return nil, errMalformed
				}
				tok = v
			case 0xa3:
				tt, v, _, _, err := derNext(c)
				if err == nil && tt == 0x04 {
					m.clientMIC = v
				}
			}
		}
		return tok, nil
	}
	return nil, errMalformed
}

// respIncomplete wraps a mechanism token in a NegTokenResp with accept-incomplete.
func (m *spnegoMIC) respIncomplete(tok []byte) []byte {
	parts := [][]byte{der(0xa0, []byte{0x0a, 0x01, 0x01})}
	if !m.sentMech {
		parts = append(parts, der(0xa1, oidNTLMSSP))
		m.sentMech = true
	}
	if tok != nil {
		parts = append(parts, der(0xa2, der(0x04, tok)))
	}
	return der(0xa1, der(0x30, parts...))
}

// respComplete checks the client's mechListMIC (when it sent one and there is a session
// key) and returns the final NegTokenResp with the server's.
func (m *spnegoMIC) respComplete(res *ntlm.Result, st *ntlm.State) ([]byte, error) {
	parts := [][]byte{der(0xa0, []byte{0x0a, 0x01, 0x00})}
	if !m.sentMech {
		parts = append(parts, der(0xa1, oidNTLMSSP))
		m.sentMech = true
	}
	if res != nil && len(res.SessionKey) == 16 && m.clientMIC != nil && m.mechTypes != nil {
		sess, err := ntlm.NewSession(res.SessionKey, res.Flags, true)
		if err != nil {
			return nil, err
		}
		if err := sess.Verify(m.mechTypes, m.clientMIC); err != nil {
			return nil, errors.New("spnego: bad mechListMIC")
		}
		mic := sess.Sign(m.mechTypes)
		parts = append(parts, der(0xa3, der(0x04, mic[:])))
	}
	return der(0xa1, der(0x30, parts...)), nil
}
