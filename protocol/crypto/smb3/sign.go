package smb3

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/smbvfs/smbvfs/protocol/crypto/cmac"
)

// SigningAlgorithm is a signing algorithm id of SMB2_SIGNING_CAPABILITIES (MS-SMB2
// 2.2.3.1.7). 2.0.2 and 2.1 always use HMACSHA256, 3.0 and 3.0.2 AESCMAC, and 3.1.1 AESCMAC
// unless the connection negotiated another one.
type SigningAlgorithm uint16

// The signing algorithms.
const (
	HMACSHA256 SigningAlgorithm = 0x0000
	AESCMAC    SigningAlgorithm = 0x0001
	AESGMAC    SigningAlgorithm = 0x0002
)

func (a SigningAlgorithm) String() string {
	switch a {
	case HMACSHA256:
		return "HMAC-SHA256"
	case AESCMAC:
		return "AES-128-CMAC"
	case AESGMAC:
		return "AES-128-GMAC"
	}
	return fmt.Sprintf("SigningAlgorithm(%#04x)", uint16(a))
}

// SMB2 header layout (MS-SMB2 2.2.1): the fields signing reads or writes.
const (
	HeaderSize      = 64
	offCommand      = 12
	offFlags        = 16
	offMessageID    = 24
	offSignature    = 48
	SignatureSize   = 16
	flagServerToRed = 0x00000001 // SMB2_FLAGS_SERVER_TO_REDIR
	flagSigned      = 0x00000008 // SMB2_FLAGS_SIGNED
	commandCancel   = 0x000C
)

// Errors of signing.
var (
	ErrShortMessage = errors.New("smb3: message shorter than an SMB2 header")
	ErrNotSMB2      = errors.New("smb3: message does not start with the SMB2 protocol id")
	ErrSignature    = errors.New("smb3: bad message signature")
	ErrSigningKey   = errors.New("smb3: signing key must be 16 bytes")
	ErrAlgorithm    = errors.New("smb3: unknown signing algorithm")
)

// Signer signs and verifies SMB2 messages with one key. It is safe for concurrent use.
type Signer struct {
	alg  SigningAlgorithm
	key  []byte       // HMAC-SHA256
	blk  cipher.Block // AES-CMAC
	gcm  cipher.AEAD  // AES-GMAC
	pool sync.Pool    // *signScratch
}

type signScratch struct {
	mac   hash.Hash // HMAC-SHA256 or *cmac.MAC, keyed
	sum   [sha256.Size]byte
	nonce [12]byte
	saved [SignatureSize]byte
}

// NewSigner returns a Signer for alg keyed with key (16 bytes: Session.SessionKey for
// HMACSHA256, a derived signing key otherwise).
func NewSigner(alg SigningAlgorithm, key []byte) (*Signer, error) {
	if len(key) != 16 {
		return nil, ErrSigningKey
	}
	s := &Signer{alg: alg}
	switch alg {
	case HMACSHA256:
		s.key = append([]byte(nil), key...)
		s.pool.New = func() any { return &signScratch{mac: hmac.New(sha256.New, s.key)} }
	case AESCMAC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		s.blk = b
		s.pool.New = func() any {
			m, _ := cmac.New(s.blk)
			return &signScratch{mac: m}
		}
	case AESGMAC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if s.gcm, err = cipher.NewGCM(b); err != nil {
			return nil, err
		}
		s.pool.New = func() any { return new(signScratch) }
	default:
		return nil, ErrAlgorithm
	}
	return s, nil
}

// Algorithm returns the signing algorithm.
func (s *Signer) Algorithm() SigningAlgorithm { return s.alg }

// Sign signs one SMB2 message in place: it sets SMB2_FLAGS_SIGNED in the header (the flag is
// covered by the signature), zeroes the Signature field, computes the signature over the
// whole of msg and writes it into the Signature field (MS-SMB2 3.1.4.1).
//
// msg is one message of a compound, from its SMB2 header to the start of the next message,
// including the padding that aligns the next one (the padding is signed).
func (s *Signer) Sign(msg []byte) error {
	if err := checkHeader(msg); err != nil {
		return err
	}
	flags := binary.LittleEndian.Uint32(msg[offFlags:])
	binary.LittleEndian.PutUint32(msg[offFlags:], flags|flagSigned)
	sig := msg[offSignature : offSignature+SignatureSize]
	clear(sig)
	sc := s.pool.Get().(*signScratch)
	s.compute(sc, msg)
	copy(sig, sc.sum[:SignatureSize])
	s.release(sc)
	return nil
}

// Verify checks the signature of one SMB2 message (MS-SMB2 3.1.5.1) in constant time and
// returns ErrSignature when it does not match. msg is left as it was: the Signature field is
// zeroed only while the signature is computed, then restored. Verify does not look at
// SMB2_FLAGS_SIGNED; deciding whether a message had to be signed is the caller's business.
func (s *Signer) Verify(msg []byte) error {
	if err := checkHeader(msg); err != nil {
		return err
	}
	sig := msg[offSignature : offSignature+SignatureSize]
	sc := s.pool.Get().(*signScratch)
	copy(sc.saved[:], sig)
	clear(sig)
	s.compute(sc, msg)
	copy(sig, sc.saved[:])
	ok := subtle.ConstantTimeCompare(sc.sum[:SignatureSize], sc.saved[:]) == 1
	s.release(sc)
	if !ok {
		return ErrSignature
	}
	return nil
}

// compute leaves the signature of msg (whose Signature field is zero) in sc.sum[:16].
func (s *Signer) compute(sc *signScratch, msg []byte) {
	switch s.alg {
	case HMACSHA256, AESCMAC:
		// HMAC-SHA256 truncated to 16 bytes (2.0.2, 2.1), or AES-128-CMAC (3.x).
		sc.mac.Reset()
		sc.mac.Write(msg)
		sc.mac.Sum(sc.sum[:0])
	case AESGMAC:
		// AES-GMAC is AES-GCM with the message as associated data and no plaintext; the
		// nonce is MessageId followed by 32 bits whose bit 0 is set when the server sends
		// and bit 1 when the message is a CANCEL request (3.1.4.1).
		copy(sc.nonce[:8], msg[offMessageID:offMessageID+8])
		flags := binary.LittleEndian.Uint32(msg[offFlags:])
		var role uint32
		if flags&flagServerToRed != 0 {
			role = 1
		} else if binary.LittleEndian.Uint16(msg[offCommand:]) == commandCancel {
			role = 2
		}
		binary.LittleEndian.PutUint32(sc.nonce[8:], role)
		s.gcm.Seal(sc.sum[:0], sc.nonce[:], nil, msg)
	}
}

func (s *Signer) release(sc *signScratch) {
	sc.sum = [sha256.Size]byte{}
	sc.saved = [SignatureSize]byte{}
	s.pool.Put(sc)
}

func checkHeader(msg []byte) error {
	if len(msg) < HeaderSize {
		return ErrShortMessage
	}
	if string(msg[:4]) != "\xfeSMB" {
		return ErrNotSMB2
	}
	return nil
}
