// Package cmac implements the AES-CMAC message authentication code of RFC 4493 (NIST SP
// 800-38B with a 128-bit block cipher), the SMB 3.x signing algorithm (MS-SMB2 3.1.4.1).
//
// A MAC is a hash.Hash: write the message, then Sum. After New, computing a tag does not
// allocate: Write only processes whole blocks in place and Sum appends to the caller's
// slice (pass a slice with 16 bytes of spare capacity). A MAC holds running state and is not
// safe for concurrent use; Reset it to reuse it for the next message.
//
// Compare tags with crypto/subtle.ConstantTimeCompare (or Verify), never with bytes.Equal.
package cmac

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
)

// Size is the size of a CMAC tag in bytes.
const Size = 16

// BlockSize is the block size of the underlying cipher, the only one CMAC here supports.
const BlockSize = 16

// rb is the constant R_128 of RFC 4493 2.3 (the low byte of x^128 reduced).
const rb = 0x87

// ErrBlockSize is returned by New for a cipher whose block is not 128 bits.
var ErrBlockSize = errors.New("cmac: cipher block size is not 128 bits")

// MAC computes AES-CMAC tags; it implements hash.Hash.
type MAC struct {
	b      cipher.Block
	k1, k2 [BlockSize]byte // subkeys (RFC 4493 2.3)
	x      [BlockSize]byte // CBC chaining value over the blocks processed so far
	last   [BlockSize]byte // the pending (possibly final) block, not yet processed
	n      int             // bytes held in last
	t      [BlockSize]byte // scratch for Sum, kept here so it does not escape per call
}

var _ hash.Hash = (*MAC)(nil)

// New returns a MAC using b, which must have a 16-byte block (AES).
func New(b cipher.Block) (*MAC, error) {
	if b.BlockSize() != BlockSize {
		return nil, ErrBlockSize
	}
	m := &MAC{b: b}
	// L = AES-128(K, const_Zero); K1 = L<<1 (xor Rb if msb(L)); K2 = K1<<1 likewise.
	var l [BlockSize]byte
	b.Encrypt(l[:], l[:])
	dbl(&m.k1, &l)
	dbl(&m.k2, &m.k1)
	return m, nil
}

// NewAES returns a MAC keyed with an AES key of 16, 24 or 32 bytes.
func NewAES(key []byte) (*MAC, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Sum returns the AES-CMAC of msg under key (16, 24 or 32 bytes). It allocates the cipher
// for every call; to sign many messages keep a MAC and Reset it.
func Sum(key, msg []byte) ([Size]byte, error) {
	var out [Size]byte
	m, err := NewAES(key)
	if err != nil {
		return out, err
	}
	m.Write(msg)
	m.Sum(out[:0])
	return out, nil
}

// Verify reports, in constant time, whether tag is the AES-CMAC of msg under key.
func Verify(key, msg, tag []byte) (bool, error) {
	want, err := Sum(key, msg)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want[:], tag) == 1, nil
}

// dbl sets dst to the doubling of src in GF(2^128) (RFC 4493 2.3 steps 2, 3).
func dbl(dst, src *[BlockSize]byte) {
	hi := binary.BigEndian.Uint64(src[:8])
	lo := binary.BigEndian.Uint64(src[8:])
	msb := hi >> 63
	hi = hi<<1 | lo>>63
	lo = lo<<1 ^ (rb & -msb) // constant time: no branch on the secret bit
	binary.BigEndian.PutUint64(dst[:8], hi)
	binary.BigEndian.PutUint64(dst[8:], lo)
}

// xorBlock sets dst ^= src for one 16-byte block.
func xorBlock(dst *[BlockSize]byte, src []byte) {
	_ = src[BlockSize-1]
	a := binary.LittleEndian.Uint64(dst[:8]) ^ binary.LittleEndian.Uint64(src[:8])
	b := binary.LittleEndian.Uint64(dst[8:]) ^ binary.LittleEndian.Uint64(src[8:])
	binary.LittleEndian.PutUint64(dst[:8], a)
	binary.LittleEndian.PutUint64(dst[8:], b)
}

// Reset clears the running state; the key and subkeys are kept.
func (m *MAC) Reset() {
	m.x = [BlockSize]byte{}
	m.n = 0
}

// Size returns the tag size, 16.
func (m *MAC) Size() int { return Size }

// BlockSize returns the cipher block size, 16.
func (m *MAC) BlockSize() int { return BlockSize }

// Write adds p to the message. It never returns an error.
//
// The final block is treated differently from the others (it is masked with a subkey), so
// Write always keeps the last 1..16 bytes seen in m.last and only processes a block once it
// knows more data follows.
func (m *MAC) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) == 0 {
		return 0, nil
	}
	if m.n > 0 {
		c := copy(m.last[m.n:], p)
		m.n += c
		p = p[c:]
		if len(p) == 0 {
			return n, nil
		}
		// m.last is full and more data follows: it is not the final block.
		xorBlock(&m.x, m.last[:])
		m.b.Encrypt(m.x[:], m.x[:])
		m.n = 0
	}
	// Process every block except the last one directly from p.
	for len(p) > BlockSize {
		xorBlock(&m.x, p[:BlockSize])
		m.b.Encrypt(m.x[:], m.x[:])
		p = p[BlockSize:]
	}
	m.n = copy(m.last[:], p)
	return n, nil
}

// Sum appends the tag of the message written so far to in and returns the result. The
// running state is not changed, so more data may be written afterwards.
func (m *MAC) Sum(in []byte) []byte {
	// M_last = M_n xor K1 for a complete final block, else padding(M_n) xor K2 (RFC 4493
	// 2.4 step 4); an empty message is one incomplete block.
	m.t = m.x
	if m.n == BlockSize {
		xorBlock(&m.t, m.last[:])
		xorBlock(&m.t, m.k1[:])
	} else {
		var pad [BlockSize]byte
		copy(pad[:], m.last[:m.n])
		pad[m.n] = 0x80
		xorBlock(&m.t, pad[:])
		xorBlock(&m.t, m.k2[:])
	}
	m.b.Encrypt(m.t[:], m.t[:])
	return append(in, m.t[:]...)
}
