package smb3

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync/atomic"

	"github.com/smbvfs/smbvfs/protocol/crypto/ccm"
)

// TRANSFORM_HEADER layout (MS-SMB2 2.2.41). The AEAD's associated data is the header from
// Nonce to its end (32 bytes); the AEAD's tag is the Signature field; the nonce is the first
// 11 (CCM) or 12 (GCM) bytes of the Nonce field, the rest of which is zero.
const (
	TransformHeaderSize = 52
	offTSignature       = 4
	offTNonce           = 20
	offTOrigSize        = 36
	offTFlags           = 42
	offTSessionID       = 44

	// TransformSlack is the spare capacity (beyond len) that a PDU buffer needs for GCM to
	// seal or open it in place without allocating.
	TransformSlack = 16

	// transformEncrypted is Flags = Encrypted (3.1.1) and, with the same value,
	// EncryptionAlgorithm = SMB2_ENCRYPTION_AES128_CCM (3.0, 3.0.2).
	transformEncrypted = 0x0001
)

// Errors of encryption and decryption.
var (
	ErrCipherKey       = errors.New("smb3: encryption key has the wrong size for the cipher")
	ErrShortTransform  = errors.New("smb3: message shorter than a transform header")
	ErrNotTransform    = errors.New("smb3: message does not start with the transform protocol id")
	ErrTransformSize   = errors.New("smb3: OriginalMessageSize does not match the message")
	ErrTransformFlags  = errors.New("smb3: transform header Flags/EncryptionAlgorithm is not 0x0001")
	ErrDecrypt         = errors.New("smb3: message failed authentication")
	ErrNonceExhausted  = errors.New("smb3: nonce counter exhausted; the session must be re-keyed")
	ErrMessageTooLarge = errors.New("smb3: message too large to encrypt")
)

// aead is the cipher behind an Encrypter or Decrypter: CCM (tag detached, no slack needed) or
// GCM (the standard library's, tag appended).
type aead struct {
	cipher Cipher
	ccm    *ccm.CCM
	gcm    cipher.AEAD
}

func newAEAD(c Cipher, key []byte) (aead, error) {
	if c.KeySize() == 0 {
		return aead{}, ErrCipher
	}
	if len(key) != c.KeySize() {
		return aead{}, ErrCipherKey
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return aead{}, err
	}
	a := aead{cipher: c}
	if c.NonceSize() == 11 {
		a.ccm, err = ccm.NewSMB(b)
	} else {
		a.gcm, err = cipher.NewGCM(b)
	}
	return a, err
}

// Encrypter encrypts the messages the server sends in one session (MS-SMB2 3.1.4.3). It is
// safe for concurrent use.
//
// Nonces: AES-CCM and AES-GCM lose all security when a nonce repeats under one key, so the
// Encrypter makes each nonce from a 64-bit counter (first 8 bytes, little-endian, starting
// at 1) followed by a random salt chosen when the Encrypter is created (3 bytes for CCM, 4
// for GCM). The counter never repeats within an Encrypter; Seal fails with
// ErrNonceExhausted rather than wrap. The salt only lowers the odds of a collision if the
// same key were ever given to two Encrypters, which callers must not do: keep one Encrypter
// per session and share it between all the session's channels (they all use the session's
// EncryptionKey).
type Encrypter struct {
	a       aead
	salt    [4]byte
	counter atomic.Uint64
}

// NewEncrypter returns an Encrypter for cipher c with key (Keys.Encryption).
func NewEncrypter(c Cipher, key []byte) (*Encrypter, error) {
	a, err := newAEAD(c, key)
	if err != nil {
		return nil, err
	}
	e := &Encrypter{a: a}
	if _, err := rand.Read(e.salt[:]); err != nil {
		return nil, err
	}
	return e, nil
}

// Cipher returns the cipher.
func (e *Encrypter) Cipher() Cipher { return e.a.cipher }

// Seal encrypts a message in place into a transform PDU. pdu holds TransformHeaderSize bytes
// of room for the header followed by the plaintext: one SMB2 message or a whole compound
// chain. Seal writes the header (ProtocolId, Signature = tag, Nonce, OriginalMessageSize,
// Flags = 0x0001, SessionId) and replaces the plaintext with the ciphertext. It does not
// allocate for CCM, nor for GCM when cap(pdu) >= len(pdu)+TransformSlack.
func (e *Encrypter) Seal(pdu []byte, sessionID uint64) error {
	if len(pdu) <= TransformHeaderSize {
		return ErrShortTransform
	}
	n := e.counter.Add(1)
	if n == 0 {
		e.counter.Store(^uint64(0)) // stay exhausted
		return ErrNonceExhausted
	}
	var nonce [16]byte
	binary.LittleEndian.PutUint64(nonce[:8], n)
	ns := e.a.cipher.NonceSize()
	copy(nonce[8:ns], e.salt[:])
	return e.a.seal(pdu, nonce, sessionID)
}

// seal writes the header with the given nonce field and encrypts; the tests use it with the
// nonces of published vectors.
func (a *aead) seal(pdu []byte, nonce [16]byte, sessionID uint64) error {
	msg := pdu[TransformHeaderSize:]
	if len(msg) == 0 {
		return ErrShortTransform
	}
	if uint64(len(msg)) > 0xFFFFFFFF {
		return ErrMessageTooLarge
	}
	h := pdu[:TransformHeaderSize]
	copy(h[0:4], "\xfdSMB")
	copy(h[offTNonce:offTNonce+16], nonce[:])
	binary.LittleEndian.PutUint32(h[offTOrigSize:], uint32(len(msg)))
	binary.LittleEndian.PutUint16(h[offTOrigSize+4:], 0) // Reserved
	binary.LittleEndian.PutUint16(h[offTFlags:], transformEncrypted)
	binary.LittleEndian.PutUint64(h[offTSessionID:], sessionID)
	ad := h[offTNonce:]
	nc := h[offTNonce : offTNonce+a.cipher.NonceSize()]
	tag := h[offTSignature : offTSignature+16]
	if a.ccm != nil {
		a.ccm.SealDetached(msg, tag, nc, msg, ad)
		return nil
	}
	out := a.gcm.Seal(msg[:0], nc, msg, ad)
	if &out[0] != &pdu[TransformHeaderSize] {
		// Not enough capacity: GCM sealed into a new buffer.
		copy(msg, out[:len(msg)])
	}
	copy(tag, out[len(msg):])
	return nil
}

// Decrypter decrypts the transform messages a client sends in one session. It is safe for
// concurrent use.
type Decrypter struct {
	a aead
}

// NewDecrypter returns a Decrypter for cipher c with key (Keys.Decryption).
func NewDecrypter(c Cipher, key []byte) (*Decrypter, error) {
	a, err := newAEAD(c, key)
	if err != nil {
		return nil, err
	}
	return &Decrypter{a: a}, nil
}

// Cipher returns the cipher.
func (d *Decrypter) Cipher() Cipher { return d.a.cipher }

// TransformSessionID checks the framing of a transform PDU (protocol id, OriginalMessageSize
// equal to the bytes that follow the header, Flags 0x0001) and returns its SessionId, which
// names the session whose Decrypter must open it.
func TransformSessionID(pdu []byte) (uint64, error) {
	if len(pdu) < TransformHeaderSize {
		return 0, ErrShortTransform
	}
	if string(pdu[:4]) != "\xfdSMB" {
		return 0, ErrNotTransform
	}
	if size := binary.LittleEndian.Uint32(pdu[offTOrigSize:]); uint64(size) != uint64(len(pdu)-TransformHeaderSize) || size == 0 {
		return 0, ErrTransformSize
	}
	if binary.LittleEndian.Uint16(pdu[offTFlags:]) != transformEncrypted {
		return 0, ErrTransformFlags
	}
	return binary.LittleEndian.Uint64(pdu[offTSessionID:]), nil
}

// Open authenticates and decrypts a transform PDU in place and returns the plaintext, which
// is pdu[TransformHeaderSize:]. The header is checked as by TransformSessionID (the caller
// has used the SessionId to pick this Decrypter; it is authenticated as part of the
// associated data). On failure the plaintext area is zeroed and ErrDecrypt returned. It
// does not allocate for CCM, nor for GCM when cap(pdu) >= len(pdu)+TransformSlack.
func (d *Decrypter) Open(pdu []byte) ([]byte, error) {
	if _, err := TransformSessionID(pdu); err != nil {
		return nil, err
	}
	a := &d.a
	h, msg := pdu[:TransformHeaderSize], pdu[TransformHeaderSize:]
	ad := h[offTNonce:]
	nc := h[offTNonce : offTNonce+a.cipher.NonceSize()]
	tag := h[offTSignature : offTSignature+16]
	if a.ccm != nil {
		if err := a.ccm.OpenDetached(msg, nc, msg, tag, ad); err != nil {
			return nil, ErrDecrypt
		}
		return msg, nil
	}
	// GCM wants ciphertext||tag: put the tag in the slack after the message when there is
	// room, else build the sealed form in a temporary buffer.
	var sealed []byte
	if cap(pdu)-len(pdu) >= TransformSlack {
		sealed = pdu[TransformHeaderSize : len(pdu)+TransformSlack]
		copy(sealed[len(msg):], tag)
	} else {
		sealed = make([]byte, len(msg)+TransformSlack)
		copy(sealed, msg)
		copy(sealed[len(msg):], tag)
	}
	out, err := a.gcm.Open(msg[:0], nc, sealed, ad)
	if err != nil {
		clear(msg)
		return nil, ErrDecrypt
	}
	if len(out) > 0 && &out[0] != &msg[0] {
		copy(msg, out)
	}
	return msg, nil
}
