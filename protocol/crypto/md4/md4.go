// Package md4 implements the MD4 message digest of RFC 1320.
//
// MD4 is cryptographically broken. It exists here only because NTLM defines the NT hash
// (NTOWFv1, MS-NLMP 3.3.1) as MD4 of the UTF-16LE password, and the server stores its users
// as such hashes. Do not use it for anything else.
//
// The package is written from RFC 1320 so that the module does not need golang.org/x/crypto
// (whose md4 package is deprecated) for one small function.
package md4

import (
	"encoding/binary"
	"hash"
	"math/bits"
)

// Size is the size of an MD4 digest in bytes.
const Size = 16

// BlockSize is the block size of MD4 in bytes.
const BlockSize = 64

const (
	init0 = 0x67452301
	init1 = 0xefcdab89
	init2 = 0x98badcfe
	init3 = 0x10325476
)

// digest is the running state: the chaining value, a partial block and the total length.
type digest struct {
	s   [4]uint32
	x   [BlockSize]byte
	nx  int
	len uint64
}

// New returns a new hash.Hash computing the MD4 digest.
func New() hash.Hash {
	d := new(digest)
	d.Reset()
	return d
}

// Sum returns the MD4 digest of data.
func Sum(data []byte) [Size]byte {
	var d digest
	d.Reset()
	d.Write(data)
	return d.checkSum()
}

func (d *digest) Reset() {
	d.s = [4]uint32{init0, init1, init2, init3}
	d.nx = 0
	d.len = 0
}

func (d *digest) Size() int      { return Size }
func (d *digest) BlockSize() int { return BlockSize }

func (d *digest) Write(p []byte) (int, error) {
	n := len(p)
	d.len += uint64(n)
	if d.nx > 0 {
		c := copy(d.x[d.nx:], p)
		d.nx += c
		p = p[c:]
		if d.nx == BlockSize {
			block(&d.s, d.x[:])
			d.nx = 0
		}
	}
	for len(p) >= BlockSize {
		block(&d.s, p[:BlockSize])
		p = p[BlockSize:]
	}
	if len(p) > 0 {
		d.nx = copy(d.x[:], p)
	}
	return n, nil
}

func (d *digest) Sum(in []byte) []byte {
	c := *d // Sum must not change the running state
	sum := c.checkSum()
	return append(in, sum[:]...)
}

// checkSum pads the message (RFC 1320 3.1, 3.2) and returns the digest (3.5).
func (d *digest) checkSum() [Size]byte {
	bitLen := d.len << 3
	var pad [BlockSize + 8]byte
	pad[0] = 0x80
	// Pad to 56 mod 64, then append the 64-bit little-endian bit length.
	n := 56 - int(d.len%BlockSize)
	if n <= 0 {
		n += BlockSize
	}
	binary.LittleEndian.PutUint64(pad[n:], bitLen)
	d.Write(pad[:n+8])
	if d.nx != 0 {
		panic("md4: padding did not end on a block boundary")
	}
	var out [Size]byte
	for i, v := range d.s {
		binary.LittleEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// Per-round shift amounts and the message word order of rounds 2 and 3 (RFC 1320 3.4).
var (
	shift1 = [4]int{3, 7, 11, 19}
	shift2 = [4]int{3, 5, 9, 13}
	shift3 = [4]int{3, 9, 11, 15}
	order2 = [16]int{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}
	order3 = [16]int{0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15}
)

// block processes one 64-byte block (RFC 1320 3.4).
func block(s *[4]uint32, p []byte) {
	var x [16]uint32
	for i := range x {
		x[i] = binary.LittleEndian.Uint32(p[4*i:])
	}
	a, b, c, d := s[0], s[1], s[2], s[3]

	// Round 1: F(X,Y,Z) = XY v not(X) Z.
	for i := 0; i < 16; i++ {
		f := (b & c) | (^b & d)
		a = bits.RotateLeft32(a+f+x[i], shift1[i%4])
		a, b, c, d = d, a, b, c
	}
	// Round 2: G(X,Y,Z) = XY v XZ v YZ, constant 0x5A827999 (sqrt 2).
	for i := 0; i < 16; i++ {
		g := (b & c) | (b & d) | (c & d)
		a = bits.RotateLeft32(a+g+x[order2[i]]+0x5a827999, shift2[i%4])
		a, b, c, d = d, a, b, c
	}
	// Round 3: H(X,Y,Z) = X xor Y xor Z, constant 0x6ED9EBA1 (sqrt 3).
	for i := 0; i < 16; i++ {
		h := b ^ c ^ d
		a = bits.RotateLeft32(a+h+x[order3[i]]+0x6ed9eba1, shift3[i%4])
		a, b, c, d = d, a, b, c
	}

	s[0] += a
	s[1] += b
	s[2] += c
	s[3] += d
}
