// Package ntlm is the server side of NTLM authentication (MS-NLMP) as an SMB2 server uses it
// inside SPNEGO: it parses the client's NEGOTIATE_MESSAGE, builds the CHALLENGE_MESSAGE,
// checks the AUTHENTICATE_MESSAGE against a stored NT hash, and produces the session key,
// plus the NTLM message signing of MS-NLMP 3.4 that SPNEGO's mechListMIC needs.
//
// # Flow
//
//	srv := &ntlm.Server{Users: users, Domain: "WORKGROUP", Computer: "FILER"}
//	challenge, st, err := srv.Challenge(negotiateMessage) // send challenge to the client
//	res, err := st.Authenticate(authenticateMessage)
//
// Authenticate succeeds (err == nil) in two cases the caller must tell apart: a user proved
// knowledge of the password (res.Anonymous false, res.SessionKey set), or the client asked
// for an anonymous (null) session (res.Anonymous true, no session key); whether anonymous
// sessions are acceptable is the server's decision. A user the UserStore does not know is
// reported as ErrUnknownUser with res.User and res.Domain filled in, so that a server that
// maps unknown users to a guest account can do so; a wrong password is ErrLogonFailure.
//
// # What is accepted
//
// NTLMv2 is verified (NTOWFv2 of the stored NT hash, the NTProofStr over the server
// challenge and the client's blob, MS-NLMP 3.3.2), the session base key computed, the
// exported session key decrypted when NTLMSSP_NEGOTIATE_KEY_EXCH was negotiated (RC4 of the
// EncryptedRandomSessionKey under the key exchange key, 3.4.5.1), and the AUTHENTICATE_MESSAGE
// MIC checked whenever the client's MsvAvFlags announce one (HMAC-MD5 under the exported
// session key over the three messages with the MIC zeroed, 3.1.5.1.2, 3.2.5.1.2). NTLMv1
// (with or without extended session security) is refused unless Server.AllowNTLMv1 is set;
// LM-only responses and NTLMSSP_NEGOTIATE_LM_KEY are never accepted (the store holds NT
// hashes only).
//
// Users are stored as NT hashes (MD4 of the UTF-16LE password, NTHash); the package never
// needs the password. Strings are UTF-16LE when NTLMSSP_NEGOTIATE_UNICODE is negotiated and
// treated as Latin-1 ("OEM") otherwise.
package ntlm

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Negotiate flags (MS-NLMP 2.2.2.5).
const (
	NegotiateUnicode                 uint32 = 0x00000001
	NegotiateOEM                     uint32 = 0x00000002
	RequestTarget                    uint32 = 0x00000004
	NegotiateSign                    uint32 = 0x00000010
	NegotiateSeal                    uint32 = 0x00000020
	NegotiateDatagram                uint32 = 0x00000040
	NegotiateLMKey                   uint32 = 0x00000080
	NegotiateNTLM                    uint32 = 0x00000200
	NegotiateAnonymous               uint32 = 0x00000800
	NegotiateOEMDomainSupplied       uint32 = 0x00001000
	NegotiateOEMWorkstationSupplied  uint32 = 0x00002000
	NegotiateAlwaysSign              uint32 = 0x00008000
	TargetTypeDomain                 uint32 = 0x00010000
	TargetTypeServer                 uint32 = 0x00020000
	NegotiateExtendedSessionSecurity uint32 = 0x00080000
	NegotiateIdentify                uint32 = 0x00100000
	RequestNonNTSessionKey           uint32 = 0x00400000
	NegotiateTargetInfo              uint32 = 0x00800000
	NegotiateVersion                 uint32 = 0x02000000
	Negotiate128                     uint32 = 0x20000000
	NegotiateKeyExch                 uint32 = 0x40000000
	Negotiate56                      uint32 = 0x80000000
)

// AV pair ids (MS-NLMP 2.2.2.1).
const (
	AvEOL             uint16 = 0x0000
	AvNbComputerName  uint16 = 0x0001
	AvNbDomainName    uint16 = 0x0002
	AvDNSComputerName uint16 = 0x0003
	AvDNSDomainName   uint16 = 0x0004
	AvDNSTreeName     uint16 = 0x0005
	AvFlags           uint16 = 0x0006
	AvTimestamp       uint16 = 0x0007
	AvSingleHost      uint16 = 0x0008
	AvTargetName      uint16 = 0x0009
	AvChannelBindings uint16 = 0x000A
)

// MsvAvFlags bits.
const (
	AvFlagConstrained     uint32 = 0x00000001
	AvFlagMICPresent      uint32 = 0x00000002
	AvFlagUntrustedTarget uint32 = 0x00000004
)

// Errors.
var (
	// ErrMalformed: a message does not parse (wrong signature or type, a field outside the
	// message, odd-length Unicode string, bad AV pairs).
	ErrMalformed = errors.New("ntlm: malformed message")
	// ErrLogonFailure: the response does not prove knowledge of the user's password, or the
	// MIC does not verify.
	ErrLogonFailure = errors.New("ntlm: logon failure")
	// ErrUnknownUser: the UserStore has no such user; the Result names the user.
	ErrUnknownUser = errors.New("ntlm: unknown user")
	// ErrNTLMv1: the client answered with NTLMv1 (or LM only) and the server does not allow
	// it.
	ErrNTLMv1 = errors.New("ntlm: NTLMv1/LM response refused")
	// ErrState: Authenticate was called twice on one State.
	ErrState = errors.New("ntlm: exchange already completed")
)

// signature is the 8-byte prefix of every NTLM message.
const signature = "NTLMSSP\x00"

// Message types.
const (
	typeNegotiate    = 1
	typeChallenge    = 2
	typeAuthenticate = 3
)

// encodeString returns s as UTF-16LE (unicode) or Latin-1 bytes (unmappable runes become '?').
func encodeString(s string, unicode bool) []byte {
	if unicode {
		u := utf16.Encode([]rune(s))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			b[2*i], b[2*i+1] = byte(c), byte(c>>8)
		}
		return b
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}

// decodeString decodes a UTF-16LE (unicode) or Latin-1 field. Unpaired surrogates become
// U+FFFD; an odd length is an error.
func decodeString(b []byte, unicode bool) (string, error) {
	if !unicode {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), nil
	}
	if len(b)%2 != 0 {
		return "", ErrMalformed
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u)), nil
}

// upper uppercases s rune by rune with the simple Unicode case mapping, as NTOWFv2 does
// for the user name.
func upper(s string) string {
	return strings.Map(unicode.ToUpper, s)
}
