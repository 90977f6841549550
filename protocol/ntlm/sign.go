package ntlm

import (
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// The magic constants of SIGNKEY and SEALKEY (MS-NLMP 3.4.5.2, 3.4.5.3), NUL included.
const (
	clientSignMagic = "session key to client-to-server signing key magic constant\x00"
	serverSignMagic = "session key to server-to-client signing key magic constant\x00"
	clientSealMagic = "session key to client-to-server sealing key magic constant\x00"
	serverSealMagic = "session key to server-to-client sealing key magic constant\x00"
)

// SignatureSize is the size of an NTLMSSP_MESSAGE_SIGNATURE.
const SignatureSize = 16

// Errors of message security.
var (
	// ErrNoESS: message security here needs NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
	// (every NTLMv2 client negotiates it); the NTLMv1 CRC32 signature is not implemented.
	ErrNoESS = errors.New("ntlm: message security without extended session security is not supported")
	// ErrBadSignature: a message signature does not verify.
	ErrBadSignature = errors.New("ntlm: bad message signature")
)

// SignKey returns SIGNKEY (MS-NLMP 3.4.5.2) for one direction: MD5 of the exported session
// key and the direction's magic constant. It is nil without extended session security.
func SignKey(exportedSessionKey []byte, flags uint32, clientToServer bool) []byte {
	if flags&NegotiateExtendedSessionSecurity == 0 {
		return nil
	}
	magic := serverSignMagic
	if clientToServer {
		magic = clientSignMagic
	}
	k := md5Sum(exportedSessionKey, []byte(magic))
	return k[:]
}

// SealKey returns SEALKEY (MS-NLMP 3.4.5.3) for one direction with extended session
// security: MD5 of the exported session key cut to 128, 56 or 40 bits by the negotiated
// strength, and the direction's magic constant. Without extended session security it
// returns the key weakened as NTLMv1 does (56 bits: 7 bytes and 0xA0; 40 bits: 5 bytes and
// 0xE538B0; 128 bits: the key itself).
func SealKey(exportedSessionKey []byte, flags uint32, clientToServer bool) []byte {
	k := exportedSessionKey
	if flags&NegotiateExtendedSessionSecurity == 0 {
		switch {
		case flags&Negotiate56 != 0:
			return append(append([]byte(nil), k[:7]...), 0xa0)
		case flags&Negotiate128 != 0:
			return append([]byte(nil), k...)
		}
		return append(append([]byte(nil), k[:5]...), 0xe5, 0x38, 0xb0)
	}
	switch {
	case flags&Negotiate128 != 0:
	case flags&Negotiate56 != 0:
		k = k[:7]
	default:
		k = k[:5]
	}
	magic := serverSealMagic
	if clientToServer {
		magic = clientSealMagic
	}
	s := md5Sum(k, []byte(magic))
	return s[:]
}

// direction is the security state of one direction: its keys, RC4 handle and sequence
// number.
type direction struct {
	signKey []byte
	seal    *rc4.Cipher
	seq     uint32
}

func newDirection(key []byte, flags uint32, clientToServer bool) direction {
	c, _ := rc4.NewCipher(SealKey(key, flags, clientToServer))
	return direction{signKey: SignKey(key, flags, clientToServer), seal: c}
}

// Session is the NTLM message security (GSS_GetMIC, GSS_VerifyMIC, GSS_WrapEx,
// GSS_UnwrapEx) of an established context with extended session security, MS-NLMP 3.4. Each
// direction has its own signing key, RC4 sealing handle and sequence number starting at 0;
// signing and sealing advance them, so messages must be processed in order. A Session is
// not safe for concurrent use.
//
// What a signature covers (3.4.4.2): Checksum = HMAC_MD5(SIGNKEY, SeqNum || Message)[0..7],
// RC4-encrypted with the direction's sealing handle when NTLMSSP_NEGOTIATE_KEY_EXCH was
// negotiated; Signature = Version (1) || Checksum || SeqNum, all little-endian.
type Session struct {
	flags   uint32
	out, in direction
}

// NewSession returns the message security of a context from the exported session key and
// the negotiated flags (Result.SessionKey, Result.Flags). server selects the side: a server
// signs and seals with the server-to-client keys and verifies with the client-to-server
// keys; a client the reverse.
func NewSession(exportedSessionKey []byte, flags uint32, server bool) (*Session, error) {
	if flags&NegotiateExtendedSessionSecurity == 0 {
		return nil, ErrNoESS
	}
	if len(exportedSessionKey) != 16 {
		return nil, errors.New("ntlm: session key must be 16 bytes")
	}
	s := &Session{flags: flags}
	s.out = newDirection(exportedSessionKey, flags, !server)
	s.in = newDirection(exportedSessionKey, flags, server)
	return s, nil
}

// mac computes the signature of msg in direction d and advances d.
func (s *Session) mac(d *direction, msg []byte) [SignatureSize]byte {
	var seq [4]byte
	binary.LittleEndian.PutUint32(seq[:], d.seq)
	sum := hmacMD5(d.signKey, seq[:], msg)
	var sig [SignatureSize]byte
	binary.LittleEndian.PutUint32(sig[0:], 1)
	copy(sig[4:12], sum[:8])
	if s.flags&NegotiateKeyExch != 0 {
		d.seal.XORKeyStream(sig[4:12], sig[4:12])
	}
	copy(sig[12:], seq[:])
	d.seq++
	return sig
}

// Sign returns the signature of an outgoing message (GSS_GetMIC).
func (s *Session) Sign(msg []byte) [SignatureSize]byte { return s.mac(&s.out, msg) }

// Verify checks, in constant time, the signature of an incoming message (GSS_VerifyMIC).
// The expected sequence number advances whether or not the signature verifies.
func (s *Session) Verify(msg, sig []byte) error {
	want := s.mac(&s.in, msg)
	if subtle.ConstantTimeCompare(want[:], sig) != 1 {
		return ErrBadSignature
	}
	return nil
}

// Seal encrypts an outgoing message in place and returns its signature (GSS_WrapEx with
// confidentiality: the message is encrypted with the sealing handle, then its signature is
// computed over the plaintext with the same handle continuing).
func (s *Session) Seal(msg []byte) [SignatureSize]byte {
	var seq [4]byte
	binary.LittleEndian.PutUint32(seq[:], s.out.seq)
	sum := hmacMD5(s.out.signKey, seq[:], msg)
	s.out.seal.XORKeyStream(msg, msg)
	var sig [SignatureSize]byte
	binary.LittleEndian.PutUint32(sig[0:], 1)
	copy(sig[4:12], sum[:8])
	if s.flags&NegotiateKeyExch != 0 {
		s.out.seal.XORKeyStream(sig[4:12], sig[4:12])
	}
	copy(sig[12:], seq[:])
	s.out.seq++
	return sig
}

// Unseal decrypts an incoming message in place and checks its signature (GSS_UnwrapEx). On
// a bad signature the decrypted bytes are zeroed.
func (s *Session) Unseal(msg, sig []byte) error {
	s.in.seal.XORKeyStream(msg, msg)
	want := s.mac(&s.in, msg)
	if subtle.ConstantTimeCompare(want[:], sig) != 1 {
		clear(msg)
		return ErrBadSignature
	}
	return nil
}
