package dcerpc

import (
	"encoding/binary"
	"errors"
	"unicode/utf16"
)

// NDR 2.0 (C706 chapter 14) in little-endian byte order, the only representation the
// server writes: primitive types aligned to their size from the start of the stub, unique
// pointers as a non-zero referent id (their pointees deferred to the end of the enclosing
// construct), conformant varying strings as max count, offset, actual count and elements.

// Encoder marshals an NDR stub. The zero value is ready; Bytes returns the stub.
type Encoder struct {
	b   []byte
	ref uint32
}

// Reset empties the encoder, keeping its storage.
func (e *Encoder) Reset() { e.b, e.ref = e.b[:0], 0 }

// Bytes returns the stub encoded so far.
func (e *Encoder) Bytes() []byte { return e.b }

// Len returns the size of the stub encoded so far.
func (e *Encoder) Len() int { return len(e.b) }

// Align pads with zeros to a multiple of n.
func (e *Encoder) Align(n int) {
	for len(e.b)%n != 0 {
		e.b = append(e.b, 0)
	}
}

// Uint8 appends a byte.
func (e *Encoder) Uint8(v uint8) { e.b = append(e.b, v) }

// Uint16 appends an aligned 16-bit integer.
func (e *Encoder) Uint16(v uint16) { e.Align(2); e.b = binary.LittleEndian.AppendUint16(e.b, v) }

// Uint32 appends an aligned 32-bit integer.
func (e *Encoder) Uint32(v uint32) { e.Align(4); e.b = binary.LittleEndian.AppendUint32(e.b, v) }

// Uint64 appends an aligned 64-bit integer (hyper).
func (e *Encoder) Uint64(v uint64) { e.Align(8); e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// Pointer appends the representation of a unique or full pointer: 0 when null, else a new
// referent id (0x00020000, 0x00020004, ..., as Windows numbers them).
func (e *Encoder) Pointer(nonNull bool) {
	if !nonNull {
		e.Uint32(0)
		return
	}
	e.Uint32(0x00020000 + 4*e.ref)
	e.ref++
}

// String appends a conformant varying string of UTF-16 code units with its terminating
// NUL ([string] wchar_t*): max count, offset 0, actual count, the units.
func (e *Encoder) String(s string) {
	u := utf16.Encode([]rune(s))
	n := uint32(len(u) + 1)
	e.Uint32(n)
	e.Uint32(0)
	e.Uint32(n)
	for _, c := range u {
		e.b = binary.LittleEndian.AppendUint16(e.b, c)
	}
	e.b = append(e.b, 0, 0)
}

// UniqueString appends a [string, unique] wchar_t*: a pointer, then (not deferred: a
// top-level parameter) the string. A nil s is a null pointer.
func (e *Encoder) UniqueString(s *string) {
	e.Pointer(s != nil)
	if s != nil {
		e.String(*s)
	}
}

// Decoder unmarshals an NDR stub; every read checks bounds and records the first error.
type Decoder struct {
	b   []byte
	p   int
	err error
}

// ErrNDR is the error of a malformed stub.
var ErrNDR = errors.New("dcerpc: malformed NDR stub")

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err returns the first error met.
func (d *Decoder) Err() error { return d.err }

// Pos returns the offset of the next byte.
func (d *Decoder) Pos() int { return d.p }

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.b) - d.p }

func (d *Decoder) fail() {
	if d.err == nil {
		d.err = ErrNDR
	}
	d.p = len(d.b)
}

// Align skips to a multiple of n.
func (d *Decoder) Align(n int) {
	p := (d.p + n - 1) / n * n
	if p > len(d.b) {
		d.fail()
		return
	}
	d.p = p
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b)-d.p {
		d.fail()
		return nil
	}
	s := d.b[d.p : d.p+n]
	d.p += n
	return s
}

// Uint8 reads a byte.
func (d *Decoder) Uint8() uint8 {
	if s := d.take(1); s != nil {
		return s[0]
	}
	return 0
}

// Uint16 reads an aligned 16-bit integer.
func (d *Decoder) Uint16() uint16 {
	d.Align(2)
	if s := d.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

// Uint32 reads an aligned 32-bit integer.
func (d *Decoder) Uint32() uint32 {
	d.Align(4)
	if s := d.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

// Uint64 reads an aligned 64-bit integer.
func (d *Decoder) Uint64() uint64 {
	d.Align(8)
	if s := d.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

// Pointer reads a unique pointer's referent id and reports whether it is non-null.
func (d *Decoder) Pointer() bool { return d.Uint32() != 0 }

// maxStringUnits bounds a decoded string (64 Ki code units).
const maxStringUnits = 1 << 16

// String reads a conformant varying string of UTF-16 code units and returns it without its
// terminating NUL (and without anything after a NUL inside it). The counts must be
// consistent: offset + actual count <= max count.
func (d *Decoder) String() string {
	max := d.Uint32()
	off := d.Uint32()
	n := d.Uint32()
	if d.err != nil {
		return ""
	}
	if uint64(off)+uint64(n) > uint64(max) || n > maxStringUnits {
		d.fail()
		return ""
	}
	raw := d.take(2 * int(n))
	if raw == nil {
		return ""
	}
	u := make([]uint16, 0, n)
	for i := 0; i+1 < len(raw); i += 2 {
		c := binary.LittleEndian.Uint16(raw[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// UniqueString reads a [string, unique] wchar_t*: nil when the pointer is null.
func (d *Decoder) UniqueString() *string {
	if !d.Pointer() || d.err != nil {
		return nil
	}
	s := d.String()
	return &s
}
