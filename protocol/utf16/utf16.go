// Package utf16 handles the UTF-16LE strings of SMB2 (file names, share paths) without
// converting them on the hot path: a Text aliases the PDU and is compared or converted only
// when needed.
package utf16

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// Text is UTF-16LE bytes, usually aliasing a PDU.
type Text []byte

// String decodes the text (unpaired surrogates become U+FFFD).
func (t Text) String() string {
	buf := make([]byte, 0, len(t)/2)
	for i := 0; i+1 < len(t); i += 2 {
		c := rune(binary.LittleEndian.Uint16(t[i:]))
		if utf16.IsSurrogate(c) && i+3 < len(t) {
			c2 := rune(binary.LittleEndian.Uint16(t[i+2:]))
			if r := utf16.DecodeRune(c, c2); r != utf8.RuneError {
				buf = utf8.AppendRune(buf, r)
				i += 2
				continue
			}
		}
		if utf16.IsSurrogate(c) {
			c = utf8.RuneError
		}
		buf = utf8.AppendRune(buf, c)
	}
	return string(buf)
}

// Len returns the number of UTF-16 code units.
func (t Text) Len() int { return len(t) / 2 }

// Append appends s encoded as UTF-16LE to b.
func Append(b []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = binary.LittleEndian.AppendUint16(b, uint16(r1))
			b = binary.LittleEndian.AppendUint16(b, uint16(r2))
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

// FromString encodes s as a new Text.
func FromString(s string) Text { return Append(make([]byte, 0, 2*len(s)), s) }

// Equal reports whether t holds exactly s, without allocating.
func (t Text) Equal(s string) bool {
	i := 0
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			if i+3 >= len(t) || rune(binary.LittleEndian.Uint16(t[i:])) != r1 || rune(binary.LittleEndian.Uint16(t[i+2:])) != r2 {
				return false
			}
			i += 4
			continue
		}
		if i+1 >= len(t) || rune(binary.LittleEndian.Uint16(t[i:])) != r {
			return false
		}
		i += 2
	}
	return i == len(t)
}
