// Package wire holds the small runtime that generated codecs share: the decode/encode error
// type, views over little-endian integer arrays, and alignment helpers.
//
// Decoded values alias the bytes they were decoded from: a decoded structure is valid only as
// long as its input is not modified or reused.
package wire

import (
	"encoding/binary"
	"strconv"
)

// Kind classifies a decode or encode failure.
type Kind uint8

const (
	Short     Kind = iota + 1 // the input ends before the structure's fixed part or a field
	BadConst                  // a constant field (StructureSize, protocol id) has another value
	BadOffset                 // an offset points into the fixed part or outside the input
	BadLength                 // a length or count runs past the end of the input
	BadChain                  // a chained list does not step forward inside its region
	Overflow                  // encode: a value does not fit its field
	Layout                    // encode: an explicit offset would move backwards
	BadSize                   // a total-size field is smaller than the fixed part or too large
)

var kindNames = [...]string{"", "short input", "bad constant", "bad offset", "bad length", "bad chain", "value overflows its field", "offset moves backwards", "bad size"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k > 0 {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is a decode or encode failure, naming the structure and field from the spec.
type Error struct {
	Struct string
	Field  string
	Kind   Kind
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Struct + ": " + e.Kind.String()
	}
	return e.Struct + "." + e.Field + ": " + e.Kind.String()
}

// Is makes errors.Is(err, &Error{Kind: k}) match any error of that kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t.Kind == 0 || t.Kind == e.Kind) && (t.Struct == "" || t.Struct == e.Struct) && (t.Field == "" || t.Field == e.Field)
}

// Errorf returns an *Error (allocating: errors are off the hot path).
func Errorf(structName, field string, k Kind) error {
	return &Error{Struct: structName, Field: field, Kind: k}
}

// AlignUp rounds n up to a multiple of a (a >= 1).
func AlignUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

var zeros [64]byte

// Pad appends n zero bytes.
func Pad(b []byte, n int) []byte {
	for n > len(zeros) {
		b = append(b, zeros[:]...)
		n -= len(zeros)
	}
	return append(b, zeros[:n]...)
}

// Uint16s is a view over a little-endian array of 16-bit integers.
type Uint16s []byte

// Len returns the number of elements.
func (a Uint16s) Len() int { return len(a) / 2 }

// At returns element i.
func (a Uint16s) At(i int) uint16 { return binary.LittleEndian.Uint16(a[2*i:]) }

// Contains reports whether v is an element.
func (a Uint16s) Contains(v uint16) bool {
	for i := 0; i+1 < len(a); i += 2 {
		if binary.LittleEndian.Uint16(a[i:]) == v {
			return true
		}
	}
	return false
}

// AppendUint16s appends elements to the array.
func AppendUint16s(a Uint16s, v ...uint16) Uint16s {
	for _, x := range v {
		a = binary.LittleEndian.AppendUint16(a, x)
	}
	return a
}

// Uint32s is a view over a little-endian array of 32-bit integers.
type Uint32s []byte

// Len returns the number of elements.
func (a Uint32s) Len() int { return len(a) / 4 }

// At returns element i.
func (a Uint32s) At(i int) uint32 { return binary.LittleEndian.Uint32(a[4*i:]) }

// Contains reports whether v is an element.
func (a Uint32s) Contains(v uint32) bool {
	for i := 0; i+3 < len(a); i += 4 {
		if binary.LittleEndian.Uint32(a[i:]) == v {
			return true
		}
	}
	return false
}

// AppendUint32s appends elements to the array.
func AppendUint32s(a Uint32s, v ...uint32) Uint32s {
	for _, x := range v {
		a = binary.LittleEndian.AppendUint32(a, x)
	}
	return a
}

// Uint64s is a view over a little-endian array of 64-bit integers.
type Uint64s []byte

// Len returns the number of elements.
func (a Uint64s) Len() int { return len(a) / 8 }

// At returns element i.
func (a Uint64s) At(i int) uint64 { return binary.LittleEndian.Uint64(a[8*i:]) }

// Contains reports whether v is an element.
func (a Uint64s) Contains(v uint64) bool {
	for i := 0; i+7 < len(a); i += 8 {
		if binary.LittleEndian.Uint64(a[i:]) == v {
			return true
		}
	}
	return false
}

// AppendUint64s appends elements to the array.
func AppendUint64s(a Uint64s, v ...uint64) Uint64s {
	for _, x := range v {
		a = binary.LittleEndian.AppendUint64(a, x)
	}
	return a
}

// PadFrom pads an encoding that started at b[start] up to relative position to. The padding
// bytes are taken from raw, the input the structure was decoded from, where raw covers them,
// so that re-encoding a decoded structure reproduces the padding it had (senders often leave
// stale bytes between buffers); elsewhere they are zero.
func PadFrom(b []byte, start, to int, raw []byte) []byte {
	from := len(b) - start
	if from >= to {
		return b
	}
	if from >= 0 && to <= len(raw) {
		return append(b, raw[from:to]...)
	}
	return Pad(b, to-from)
}

// AppendBytes appends p to b, as append(b, p...) does, except when p already stands
// exactly where it would be copied to — the caller filled b's spare capacity in place, as the
// server does when a backend reads a READ response's data straight into the outgoing frame:
// then b is only extended, and megabytes are not copied onto themselves.
func AppendBytes(b, p []byte) []byte {
	if n := len(p); n > 0 && cap(b)-len(b) >= n && &b[len(b):cap(b)][0] == &p[0] {
		return b[:len(b)+n]
	}
	return append(b, p...)
}

// String formats the elements in hex.
func (a Uint16s) String() string {
	return formatArray(a.Len(), func(i int) uint64 { return uint64(a.At(i)) }, 4)
}

// String formats the elements in hex.
func (a Uint32s) String() string {
	return formatArray(a.Len(), func(i int) uint64 { return uint64(a.At(i)) }, 8)
}

// String formats the elements in hex.
func (a Uint64s) String() string {
	return formatArray(a.Len(), func(i int) uint64 { return a.At(i) }, 16)
}

func formatArray(n int, at func(int) uint64, digits int) string {
	b := []byte{'['}
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, "0x"...)
		h := strconv.FormatUint(at(i), 16)
		for j := len(h); j < digits; j++ {
			b = append(b, '0')
		}
		b = append(b, h...)
	}
	return string(append(b, ']'))
}
