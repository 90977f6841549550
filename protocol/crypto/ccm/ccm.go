// Package ccm implements AES-CCM, Counter with CBC-MAC (NIST SP 800-38C, RFC 3610), as a
// cipher.AEAD.
//
// SMB 3.x uses CCM with an 11-byte nonce (so L = 4: a message may be up to 2^32-1 bytes) and
// a 16-byte tag (MS-SMB2 2.2.41, 3.1.4.3); NewSMB returns exactly that. New accepts every
// parameter set of SP 800-38C (nonces of 7 to 13 bytes, tags of 4 to 16 even bytes) so the
// published vectors of RFC 3610 and SP 800-38C can be run.
//
// Besides the cipher.AEAD methods, SealDetached and OpenDetached keep the tag apart from the
// ciphertext, which is how the SMB2 TRANSFORM_HEADER carries it (in its Signature field).
//
// With an 11-byte nonce (L = 4) the counter blocks of CCM are flags||nonce followed by a
// 32-bit big-endian block counter, exactly the counter blocks AES-GCM runs its CTR mode over
// (a 12-byte GCM nonce followed by inc32 from 2). For messages of 32 bytes and more the
// package therefore produces the CCM keystream with the standard library's GCM (whose
// CTR is pipelined assembly), computing the first block and the last 16 bytes itself and
// ignoring GCM's own tag. The CBC-MAC stays block-serial: it is the cost of CCM.
//
// A CCM is safe for concurrent use. Its per-message scratch (the CBC-MAC state and the
// counter blocks, which must live on the heap because cipher.Block is an interface) comes
// from a sync.Pool, so sealing and opening do not allocate in the steady state.
//
// The tag is compared in constant time; when the tag does not match, Open writes zeros over
// the plaintext it produced so that unauthenticated data never reaches the caller.
package ccm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"unsafe"
)

const blockSize = 16

// SMB3 parameters: an 11-byte nonce and a 16-byte tag.
const (
	SMBNonceSize = 11
	SMBTagSize   = 16
)

var (
	// ErrOpen is returned when a ciphertext does not authenticate.
	ErrOpen = errors.New("ccm: message authentication failed")
	// ErrParams is returned by New for a nonce or tag size SP 800-38C does not allow, or a
	// block cipher whose block is not 128 bits.
	ErrParams = errors.New("ccm: invalid parameters")
)

// CCM is an AES-CCM AEAD with fixed nonce and tag sizes.
type CCM struct {
	b         cipher.Block
	ctr       cipher.AEAD // GCM over b, used only as a CTR engine; nil unless L = 4
	nonceSize int
	tagSize   int
	maxLen    uint64 // the largest payload the L-byte length field can hold
	pool      sync.Pool
}

// scratch is the per-message working state.
type scratch struct {
	x   [blockSize]byte // CBC-MAC chaining value
	ctr [blockSize]byte // counter block A_i
	ks  [blockSize]byte // keystream block S_i
	gn  [12]byte        // GCM nonce (flags||nonce) for the fast CTR path
	end [blockSize]byte // the last 16 input bytes, saved before GCM writes its tag there
	tag [blockSize]byte // S_0, then the computed tag
	got [blockSize]byte // a copy of the received tag (Open)
	pos int             // bytes absorbed into the current CBC-MAC block
}

var _ cipher.AEAD = (*CCM)(nil)

// New returns a CCM AEAD over b (which must have a 16-byte block) with the given nonce size
// (7..13 bytes; the length field then has L = 15-nonceSize bytes) and tag size (4, 6, 8, 10,
// 12, 14 or 16 bytes).
func New(b cipher.Block, nonceSize, tagSize int) (*CCM, error) {
	if b.BlockSize() != blockSize || nonceSize < 7 || nonceSize > 13 ||
		tagSize < 4 || tagSize > 16 || tagSize%2 != 0 {
		return nil, ErrParams
	}
	l := 15 - nonceSize
	c := &CCM{b: b, nonceSize: nonceSize, tagSize: tagSize, maxLen: math.MaxUint64}
	if l < 8 {
		c.maxLen = 1<<(8*uint(l)) - 1
	}
	c.pool.New = func() any { return new(scratch) }
	if l == 4 {
		g, err := cipher.NewGCM(b)
		if err != nil {
			return nil, err
		}
		c.ctr = g
	}
	return c, nil
}

// fastMin is the shortest payload for which the GCM-driven CTR is used (it needs a first
// block and a 16-byte tail around a non-empty middle).
const fastMin = 48

// NewSMB returns the CCM of SMB 3.x: 11-byte nonce, 16-byte tag.
func NewSMB(b cipher.Block) (*CCM, error) { return New(b, SMBNonceSize, SMBTagSize) }

// NewAES is NewSMB over AES with a 16- or 32-byte key (AES-128-CCM, AES-256-CCM).
func NewAES(key []byte) (*CCM, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return NewSMB(b)
}

// NonceSize returns the nonce size in bytes.
func (c *CCM) NonceSize() int { return c.nonceSize }

// Overhead returns the tag size in bytes.
func (c *CCM) Overhead() int { return c.tagSize }

// Seal encrypts and authenticates plaintext, authenticates additionalData, and appends the
// ciphertext and then the tag to dst. To encrypt in place use plaintext[:0] as dst; otherwise
// dst's spare capacity must not overlap plaintext. It panics if the nonce has the wrong size
// or the plaintext is too long for the nonce size (the cipher.AEAD convention).
func (c *CCM) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	ret, out := sliceForAppend(dst, len(plaintext)+c.tagSize)
	if inexactOverlap(out[:len(plaintext)], plaintext) {
		panic("ccm: invalid buffer overlap")
	}
	c.SealDetached(out[:len(plaintext)], out[len(plaintext):], nonce, plaintext, additionalData)
	return ret
}

// Open authenticates ciphertext (which ends with the tag) and additionalData, and appends the
// decrypted plaintext to dst. To decrypt in place use ciphertext[:0] as dst. When
// authentication fails it returns ErrOpen, and the bytes it wrote into dst's capacity are
// zeroed.
func (c *CCM) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != c.nonceSize {
		panic("ccm: incorrect nonce length")
	}
	if len(ciphertext) < c.tagSize {
		return nil, ErrOpen
	}
	n := len(ciphertext) - c.tagSize
	if uint64(n) > c.maxLen {
		return nil, ErrOpen
	}
	ret, out := sliceForAppend(dst, n)
	if inexactOverlap(out, ciphertext[:n]) {
		panic("ccm: invalid buffer overlap")
	}
	if err := c.OpenDetached(out, nonce, ciphertext[:n], ciphertext[n:], additionalData); err != nil {
		return nil, err
	}
	return ret, nil
}

// SealDetached encrypts plaintext into out (len(out) must equal len(plaintext); out may be
// plaintext itself) and writes the tag into tag (len(tag) must be Overhead()).
func (c *CCM) SealDetached(out, tag, nonce, plaintext, additionalData []byte) {
	if len(nonce) != c.nonceSize {
		panic("ccm: incorrect nonce length")
	}
	if len(out) != len(plaintext) || len(tag) != c.tagSize {
		panic("ccm: output has the wrong size")
	}
	if uint64(len(plaintext)) > c.maxLen {
		panic("ccm: plaintext too long for the nonce size")
	}
	if inexactOverlap(out, plaintext) {
		panic("ccm: invalid buffer overlap")
	}
	s := c.pool.Get().(*scratch)
	c.macHeader(s, nonce, len(plaintext), additionalData)
	c.initCounter(s, nonce)

	if c.ctr != nil && len(plaintext) >= fastMin {
		// Two passes: the CBC-MAC must see the plaintext before out (maybe the same memory)
		// is overwritten.
		c.macPayload(s, plaintext)
		c.xorKeystream(s, out, plaintext)
	} else {
		// One pass: absorb a plaintext block into the CBC-MAC before its ciphertext is
		// written.
		p, o := plaintext, out
		for len(p) >= blockSize {
			xor16(s.x[:], p)
			c.b.Encrypt(s.x[:], s.x[:])
			c.nextKeystream(s)
			xor16to(o, p, s.ks[:])
			p, o = p[blockSize:], o[blockSize:]
		}
		if len(p) > 0 {
			subtle.XORBytes(s.x[:len(p)], s.x[:len(p)], p) // zero padding of the last block
			c.b.Encrypt(s.x[:], s.x[:])
			c.nextKeystream(s)
			subtle.XORBytes(o, p, s.ks[:len(p)])
		}
	}
	c.finishTag(s)
	copy(tag, s.tag[:c.tagSize])
	c.release(s)
}

// OpenDetached decrypts ciphertext into out (len(out) must equal len(ciphertext); out may be
// ciphertext itself) and checks tag in constant time. On failure out is zeroed and ErrOpen
// returned.
func (c *CCM) OpenDetached(out, nonce, ciphertext, tag, additionalData []byte) error {
	if len(nonce) != c.nonceSize {
		panic("ccm: incorrect nonce length")
	}
	if len(out) != len(ciphertext) {
		panic("ccm: output has the wrong size")
	}
	if inexactOverlap(out, ciphertext) {
		panic("ccm: invalid buffer overlap")
	}
	if len(tag) != c.tagSize || uint64(len(ciphertext)) > c.maxLen {
		return ErrOpen
	}
	s := c.pool.Get().(*scratch)
	copy(s.got[:], tag) // tag may share memory with out's neighbourhood; keep it safe
	c.macHeader(s, nonce, len(ciphertext), additionalData)
	c.initCounter(s, nonce)

	if c.ctr != nil && len(ciphertext) >= fastMin {
		c.xorKeystream(s, out, ciphertext)
		c.macPayload(s, out)
	} else {
		ct, o := ciphertext, out
		for len(ct) >= blockSize {
			c.nextKeystream(s)
			xor16to(o, ct, s.ks[:])
			xor16(s.x[:], o)
			c.b.Encrypt(s.x[:], s.x[:])
			ct, o = ct[blockSize:], o[blockSize:]
		}
		if len(ct) > 0 {
			c.nextKeystream(s)
			subtle.XORBytes(o, ct, s.ks[:len(ct)])
			subtle.XORBytes(s.x[:len(o)], s.x[:len(o)], o)
			c.b.Encrypt(s.x[:], s.x[:])
		}
	}
	c.finishTag(s)
	ok := subtle.ConstantTimeCompare(s.tag[:c.tagSize], s.got[:c.tagSize]) == 1
	c.release(s)
	if !ok {
		clear(out)
		return ErrOpen
	}
	return nil
}

// macHeader starts the CBC-MAC: B_0, then the encoded length of the associated data and the
// data itself, zero-padded to a block boundary (SP 800-38C A.2.1, A.2.2).
func (c *CCM) macHeader(s *scratch, nonce []byte, msgLen int, ad []byte) {
	l := 15 - c.nonceSize
	var b0 [blockSize]byte
	flags := byte((c.tagSize-2)/2)<<3 | byte(l-1)
	if len(ad) > 0 {
		flags |= 0x40
	}
	b0[0] = flags
	copy(b0[1:], nonce)
	putLen(b0[1+c.nonceSize:], uint64(msgLen))
	s.x = b0
	c.b.Encrypt(s.x[:], s.x[:])
	s.pos = 0
	if len(ad) == 0 {
		return
	}
	var enc [10]byte
	var n int
	switch a := uint64(len(ad)); {
	case a < 1<<16-1<<8:
		binary.BigEndian.PutUint16(enc[:], uint16(a))
		n = 2
	case a <= math.MaxUint32:
		enc[0], enc[1] = 0xff, 0xfe
		binary.BigEndian.PutUint32(enc[2:], uint32(a))
		n = 6
	default:
		enc[0], enc[1] = 0xff, 0xff
		binary.BigEndian.PutUint64(enc[2:], a)
		n = 10
	}
	c.absorb(s, enc[:n])
	c.absorb(s, ad)
	if s.pos > 0 {
		c.b.Encrypt(s.x[:], s.x[:])
		s.pos = 0
	}
}

// absorb XORs p into the CBC-MAC state, encrypting after every complete block.
func (c *CCM) absorb(s *scratch, p []byte) {
	if s.pos > 0 {
		n := subtle.XORBytes(s.x[s.pos:], s.x[s.pos:], p)
		s.pos += n
		p = p[n:]
		if s.pos < blockSize {
			return
		}
		c.b.Encrypt(s.x[:], s.x[:])
		s.pos = 0
	}
	for len(p) >= blockSize {
		xor16(s.x[:], p)
		c.b.Encrypt(s.x[:], s.x[:])
		p = p[blockSize:]
	}
	if len(p) > 0 {
		s.pos = subtle.XORBytes(s.x[:len(p)], s.x[:len(p)], p)
	}
}

// initCounter sets A_0 = flags(L-1) || N || 0 and computes S_0 = E(A_0) into s.tag, which
// later masks the CBC-MAC (SP 800-38C A.3).
func (c *CCM) initCounter(s *scratch, nonce []byte) {
	s.ctr = [blockSize]byte{}
	s.ctr[0] = byte(14 - c.nonceSize) // L-1
	copy(s.ctr[1:], nonce)
	c.b.Encrypt(s.tag[:], s.ctr[:])
}

// nextKeystream increments the L-byte counter of A_i and sets s.ks = E(A_i).
func (c *CCM) nextKeystream(s *scratch) {
	for i := blockSize - 1; i > c.nonceSize; i-- {
		s.ctr[i]++
		if s.ctr[i] != 0 {
			break
		}
	}
	c.b.Encrypt(s.ks[:], s.ctr[:])
}

// macPayload absorbs the payload p into the CBC-MAC, zero-padding its last block.
func (c *CCM) macPayload(s *scratch, p []byte) {
	for len(p) >= blockSize {
		xor16(s.x[:], p)
		c.b.Encrypt(s.x[:], s.x[:])
		p = p[blockSize:]
	}
	if len(p) > 0 {
		subtle.XORBytes(s.x[:len(p)], s.x[:len(p)], p)
		c.b.Encrypt(s.x[:], s.x[:])
	}
}

// keystreamBlock sets s.ks = E(A_i), the keystream of payload block i-1.
func (c *CCM) keystreamBlock(s *scratch, i uint64) {
	putLen(s.ctr[1+c.nonceSize:], i)
	c.b.Encrypt(s.ks[:], s.ctr[:])
}

// xorKeystream sets out = in xor S_1 || S_2 || ... for L = 4 and len(in) >= fastMin, with out
// and in the same memory or disjoint. Payload block k is masked with S_(k+1) = E(A_(k+1)).
// GCM with nonce flags||N encrypts its plaintext block j with E(flags||N||[j+2]_32), so
// sealing in[16:] with GCM applies S_2, S_3, ... to payload blocks 1, 2, ...; block 0 is done
// here. GCM appends its 16-byte tag after its output, so it is given in[16:len-16] and the
// tag lands on out[len-16:], which this function then overwrites with the real last 16 bytes
// (their plaintext saved beforehand, since out may be in).
func (c *CCM) xorKeystream(s *scratch, out, in []byte) {
	n := len(in)
	tail := n - blockSize
	copy(s.end[:], in[tail:])

	c.keystreamBlock(s, 1)
	xor16to(out, in, s.ks[:])

	s.gn[0] = s.ctr[0]
	copy(s.gn[1:], s.ctr[1:1+c.nonceSize])
	c.ctr.Seal(out[blockSize:blockSize], s.gn[:], in[blockSize:tail], nil)

	// The last 16 bytes start at offset tail and cover one or two payload blocks.
	k := uint64(tail / blockSize)
	off := tail % blockSize
	c.keystreamBlock(s, k+1)
	first := subtle.XORBytes(out[tail:], s.end[:blockSize-off], s.ks[off:])
	if first < blockSize {
		c.keystreamBlock(s, k+2)
		subtle.XORBytes(out[tail+first:], s.end[first:], s.ks[:])
	}
}

// finishTag sets s.tag = MSB_Tlen(CBC-MAC) xor MSB_Tlen(S_0); s.tag holds S_0 on entry.
func (c *CCM) finishTag(s *scratch) {
	xor16(s.tag[:], s.x[:])
}

func (c *CCM) release(s *scratch) {
	*s = scratch{} // do not leave keystream or MAC state in the pool
	c.pool.Put(s)
}

// putLen writes v big-endian into the whole of b (the L-byte length field Q of B_0).
func putLen(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// xor16 sets dst[:16] ^= src[:16].
func xor16(dst, src []byte) {
	_, _ = dst[15], src[15]
	a := binary.LittleEndian.Uint64(dst) ^ binary.LittleEndian.Uint64(src)
	b := binary.LittleEndian.Uint64(dst[8:]) ^ binary.LittleEndian.Uint64(src[8:])
	binary.LittleEndian.PutUint64(dst, a)
	binary.LittleEndian.PutUint64(dst[8:], b)
}

// xor16to sets dst[:16] = a[:16] ^ b[:16]; dst may be a.
func xor16to(dst, a, b []byte) {
	_, _, _ = dst[15], a[15], b[15]
	x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b)
	y := binary.LittleEndian.Uint64(a[8:]) ^ binary.LittleEndian.Uint64(b[8:])
	binary.LittleEndian.PutUint64(dst, x)
	binary.LittleEndian.PutUint64(dst[8:], y)
}

// sliceForAppend extends in by n bytes, reusing its capacity when it can, and returns the
// whole slice and the new tail.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}

// inexactOverlap reports whether x and y share memory without starting at the same address,
// the one aliasing that would let an in-place pass read bytes it already overwrote.
func inexactOverlap(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 || &x[0] == &y[0] {
		return false
	}
	x0, x1 := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&x[len(x)-1]))
	y0, y1 := uintptr(unsafe.Pointer(&y[0])), uintptr(unsafe.Pointer(&y[len(y)-1]))
	return x0 <= y1 && y0 <= x1
}
