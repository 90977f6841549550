// Package smb3 holds the message security of SMB 2 and 3: the key schedule (MS-SMB2
// 3.3.5.5.3, 3.1.4.2), message signing and verification (3.1.4.1, 3.1.5.1), encryption and
// decryption of TRANSFORM_HEADER messages (2.2.41, 3.1.4.3, 3.3.5.2.1.1), and the SHA-512
// preauthentication integrity hash of 3.1.1 (3.3.5.4, 3.3.5.5).
//
// Everything here works on raw message bytes at fixed offsets of the SMB2 header and of the
// transform header, so it does not depend on the PDU codec.
//
// # Keys
//
// DeriveKeys turns the key of the GSS authentication (for NTLM the exported session key) into
// the session's keys, from the server's point of view: Decryption decrypts what the client
// sends (3.0: context "ServerIn ", 3.1.1: label "SMBC2SCipherKey"), Encryption encrypts what
// the server sends ("ServerOut", "SMBS2CCipherKey"). Session.SessionKey is the first 16 bytes
// of the GSS key (right-padded with zeros if shorter); the AES-256 ciphers derive their keys
// from the full GSS key (Session.FullSessionKey) with L = 256, everything else from the 16
// byte SessionKey with L = 128.
//
// # Per-message operations
//
// Signer, Encrypter and Decrypter are built once per key and are safe for concurrent use;
// signing, verifying, sealing and opening do not allocate (their per-call scratch comes from
// a sync.Pool, because scratch handed to a cipher.Block or cipher.AEAD interface would
// otherwise escape to the heap on every call). For the GCM ciphers, in-place sealing and
// opening need TransformSlack (16) bytes of spare capacity after the PDU, where the standard
// library's GCM wants its tag; without it they fall back to a temporary buffer.
package smb3

import (
	"errors"
	"fmt"

	"github.com/smbvfs/smbvfs/protocol/crypto/kdf"
)

// Dialect is an SMB2 dialect revision number (MS-SMB2 2.2.3).
type Dialect uint16

// The dialects this package knows.
const (
	Dialect202 Dialect = 0x0202
	Dialect210 Dialect = 0x0210
	Dialect300 Dialect = 0x0300
	Dialect302 Dialect = 0x0302
	Dialect311 Dialect = 0x0311
)

// Is3x reports whether d belongs to the SMB 3.x dialect family.
func (d Dialect) Is3x() bool { return d == Dialect300 || d == Dialect302 || d == Dialect311 }

// Cipher is an encryption algorithm id of SMB2_ENCRYPTION_CAPABILITIES (MS-SMB2 2.2.3.1.2).
type Cipher uint16

// The ciphers of SMB 3.x. 3.0 and 3.0.2 always use AES128CCM.
const (
	AES128CCM Cipher = 0x0001
	AES128GCM Cipher = 0x0002
	AES256CCM Cipher = 0x0003
	AES256GCM Cipher = 0x0004
)

// KeySize returns the key size of c in bytes, or 0 for an unknown cipher.
func (c Cipher) KeySize() int {
	switch c {
	case AES128CCM, AES128GCM:
		return 16
	case AES256CCM, AES256GCM:
		return 32
	}
	return 0
}

// NonceSize returns the number of Nonce bytes of the transform header that c uses: 11 for
// CCM, 12 for GCM, 0 for an unknown cipher.
func (c Cipher) NonceSize() int {
	switch c {
	case AES128CCM, AES256CCM:
		return 11
	case AES128GCM, AES256GCM:
		return 12
	}
	return 0
}

func (c Cipher) String() string {
	switch c {
	case AES128CCM:
		return "AES-128-CCM"
	case AES128GCM:
		return "AES-128-GCM"
	case AES256CCM:
		return "AES-256-CCM"
	case AES256GCM:
		return "AES-256-GCM"
	}
	return fmt.Sprintf("Cipher(%#04x)", uint16(c))
}

// The labels and contexts of MS-SMB2 3.3.5.5.3 with their terminating NUL, as kdf.SMB3KDF
// takes them.
const (
	LabelSigning30     = "SMB2AESCMAC\x00"
	ContextSigning30   = "SmbSign\x00"
	LabelCipher30      = "SMB2AESCCM\x00"
	ContextServerIn30  = "ServerIn \x00" // client to server (note the space)
	ContextServerOut30 = "ServerOut\x00" // server to client
	LabelApp30         = "SMB2APP\x00"
	ContextApp30       = "SmbRpc\x00"

	LabelSigning311 = "SMBSigningKey\x00"
	LabelC2S311     = "SMBC2SCipherKey\x00" // client to server
	LabelS2C311     = "SMBS2CCipherKey\x00" // server to client
	LabelApp311     = "SMBAppKey\x00"
)

// PreauthHashSize is the size of the 3.1.1 preauthentication integrity hash (SHA-512).
const PreauthHashSize = 64

// Keys are the keys of one session, from the server's side.
type Keys struct {
	// SessionKey is Session.SessionKey: the first 16 bytes of the GSS key.
	SessionKey []byte
	// Signing signs the session's messages: the SessionKey itself for 2.0.2 and 2.1, a
	// derived 16-byte key for 3.x.
	Signing []byte
	// Encryption encrypts what the server sends; Decryption decrypts what the client sends.
	// 16 bytes for the AES-128 ciphers, 32 for AES-256; nil for 2.x and when no cipher was
	// negotiated in 3.1.1.
	Encryption, Decryption []byte
	// Application is the key handed to applications above SMB (for example RPC over named
	// pipes); nil for 2.x.
	Application []byte
}

// Errors of DeriveKeys.
var (
	ErrDialect     = errors.New("smb3: unknown dialect")
	ErrCipher      = errors.New("smb3: cipher not valid for the dialect")
	ErrPreauthHash = errors.New("smb3: 3.1.1 key derivation needs the 64-byte preauthentication hash")
	ErrNoKey       = errors.New("smb3: empty session key")
)

// DeriveKeys computes the session keys of MS-SMB2 3.3.5.5.3 from gssKey, the cryptographic
// key of the authentication (NTLM: the exported session key; Kerberos: the subkey).
//
// cipher is the negotiated Connection.CipherId: for 3.0 and 3.0.2 it must be AES128CCM or 0
// (both mean AES-128-CCM); for 3.1.1 it may be 0 when no encryption was negotiated, and then
// no cipher keys are derived. preauthHash is Session.PreauthIntegrityHashValue, required for
// 3.1.1 and ignored otherwise.
func DeriveKeys(d Dialect, cipher Cipher, gssKey, preauthHash []byte) (*Keys, error) {
	if len(gssKey) == 0 {
		return nil, ErrNoKey
	}
	sessionKey := make([]byte, 16)
	copy(sessionKey, gssKey)
	k := &Keys{SessionKey: sessionKey}
	switch d {
	case Dialect202, Dialect210:
		k.Signing = sessionKey
		return k, nil
	case Dialect300, Dialect302:
		if cipher != 0 && cipher != AES128CCM {
			return nil, ErrCipher
		}
		k.Signing = kdf.SMB3KDF(sessionKey, []byte(LabelSigning30), []byte(ContextSigning30), 128)
		k.Application = kdf.SMB3KDF(sessionKey, []byte(LabelApp30), []byte(ContextApp30), 128)
		k.Decryption = kdf.SMB3KDF(sessionKey, []byte(LabelCipher30), []byte(ContextServerIn30), 128)
		k.Encryption = kdf.SMB3KDF(sessionKey, []byte(LabelCipher30), []byte(ContextServerOut30), 128)
		return k, nil
	case Dialect311:
		if len(preauthHash) != PreauthHashSize {
			return nil, ErrPreauthHash
		}
		k.Signing = kdf.SMB3KDF(sessionKey, []byte(LabelSigning311), preauthHash, 128)
		k.Application = kdf.SMB3KDF(sessionKey, []byte(LabelApp311), preauthHash, 128)
		switch cipher {
		case 0:
		case AES128CCM, AES128GCM:
			k.Decryption = kdf.SMB3KDF(sessionKey, []byte(LabelC2S311), preauthHash, 128)
			k.Encryption = kdf.SMB3KDF(sessionKey, []byte(LabelS2C311), preauthHash, 128)
		case AES256CCM, AES256GCM:
			// Session.FullSessionKey: the whole GSS key (16 bytes for NTLM, 32 for a
			// Kerberos AES-256 subkey), and L = 256.
			k.Decryption = kdf.SMB3KDF(gssKey, []byte(LabelC2S311), preauthHash, 256)
			k.Encryption = kdf.SMB3KDF(gssKey, []byte(LabelS2C311), preauthHash, 256)
		default:
			return nil, ErrCipher
		}
		return k, nil
	}
	return nil, ErrDialect
}

// DeriveChannelSigningKey computes Channel.SigningKey for a session binding (multichannel,
// MS-SMB2 3.3.5.5.3): the signing key derived from the key of the binding authentication.
// The cipher keys of a bound channel are the session's, so only this key is new.
func DeriveChannelSigningKey(d Dialect, gssKey, preauthHash []byte) ([]byte, error) {
	if !d.Is3x() {
		return nil, ErrDialect
	}
	k, err := DeriveKeys(d, 0, gssKey, preauthHash)
	if err != nil {
		return nil, err
	}
	return k.Signing, nil
}
