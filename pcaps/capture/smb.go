package capture

import "encoding/binary"

// Magic numbers at the start of a unit.
const (
	MagicSMB2        = "\xfeSMB" // SMB2/3 header, possibly the first of a compound chain
	MagicTransform   = "\xfdSMB" // SMB2 TRANSFORM_HEADER followed by ciphertext
	MagicCompression = "\xfcSMB" // SMB2 COMPRESSION_TRANSFORM_HEADER
	MagicSMB1        = "\xffSMB" // SMB1 header
)

const (
	smb2HeaderSize    = 64
	smb2FlagsResponse = 0x00000001 // SMB2_FLAGS_SERVER_TO_REDIR
)

// Magic returns the first four bytes of b as a string if they are one of
// the four SMB magics, or "" otherwise.
func Magic(b []byte) string {
	if len(b) < 4 || b[1] != 'S' || b[2] != 'M' || b[3] != 'B' {
		return ""
	}
	switch b[0] {
	case 0xfe:
		return MagicSMB2
	case 0xfd:
		return MagicTransform
	case 0xfc:
		return MagicCompression
	case 0xff:
		return MagicSMB1
	}
	return ""
}

func isSMBMagic(b []byte) bool { return Magic(b) != "" }

// Compound walks the SMB2 headers of a unit that starts with 0xFE 'SMB':
// it calls fn (if not nil) with the index and the bytes of each PDU of the
// compound chain, from its 64-byte header to the start of the next PDU
// (NextCommand, uint32 LE at offset 20) or the end of data. It stops at the
// first NextCommand that is zero, points before the end of the current
// header or beyond data, or leads to bytes that are not an SMB2 header.
// It returns the number of PDUs found and whether the chain was well
// formed (the last PDU has NextCommand 0). A unit that does not start with
// an SMB2 header has no PDUs and is reported well formed.
func Compound(data []byte, fn func(i int, pdu []byte)) (n int, ok bool) {
	if Magic(data) != MagicSMB2 {
		return 0, true
	}
	off := 0
	for {
		rest := data[off:]
		if len(rest) < smb2HeaderSize || Magic(rest) != MagicSMB2 {
			return n, false
		}
		next := int(binary.LittleEndian.Uint32(rest[20:24]))
		end := len(rest)
		if next != 0 {
			if next < smb2HeaderSize || next >= len(rest) {
				if fn != nil {
					fn(n, rest)
				}
				return n + 1, false
			}
			end = next
		}
		if fn != nil {
			fn(n, rest[:end])
		}
		n++
		if next == 0 {
			return n, true
		}
		off += next
	}
}

// CountSMB2 returns the number of SMB2 headers in a unit (see Compound).
func CountSMB2(data []byte) int {
	n, _ := Compound(data, nil)
	return n
}

// sentByServer tells from the header of a unit whether it was sent by the
// server; known is false when the unit does not say (transforms).
func sentByServer(data []byte) (fromServer, known bool) {
	switch Magic(data) {
	case MagicSMB2:
		if len(data) >= smb2HeaderSize {
			return binary.LittleEndian.Uint32(data[16:20])&smb2FlagsResponse != 0, true
		}
	case MagicSMB1:
		if len(data) >= 32 {
			return data[9]&0x80 != 0, true // SMB_FLAGS_REPLY
		}
	}
	return false, false
}

// verdict of a plausibility check on possibly incomplete data.
type verdict int8

const (
	vNo verdict = iota
	vYes
	vMore // not enough bytes to tell
)

// plausible checks whether b starts with a Direct-TCP frame header (type
// 0x00, 24-bit length) followed by the start of an SMB message that agrees
// with the length. It is used wherever the stream position of the next
// header is not known for sure: at the start of a capture that begins inside
// a connection, and after a hole.
func plausible(b []byte) verdict {
	if len(b) == 0 {
		return vMore
	}
	if b[0] != 0 {
		return vNo
	}
	if len(b) < 8 {
		if len(b) >= 4 && frameLen(b) < 16 {
			return vNo
		}
		return vMore
	}
	l := frameLen(b)
	m := b[4:]
	switch Magic(m) {
	case MagicSMB2:
		// StructureSize 64, command below 0x13.
		if l < smb2HeaderSize {
			return vNo
		}
		if len(m) < 14 {
			return vMore
		}
		if binary.LittleEndian.Uint16(m[4:6]) != 64 || binary.LittleEndian.Uint16(m[12:14]) > 0x12 {
			return vNo
		}
		return vYes
	case MagicTransform:
		// 52-byte header; Flags / EncryptionAlgorithm at offset 42 is 1.
		if l < 52 {
			return vNo
		}
		if len(m) < 44 {
			return vMore
		}
		if binary.LittleEndian.Uint16(m[42:44]) != 1 {
			return vNo
		}
		return vYes
	case MagicCompression:
		// 16-byte header (or 8-byte chained header); algorithm 0..4.
		if l < 16 {
			return vNo
		}
		if len(m) < 10 {
			return vMore
		}
		if binary.LittleEndian.Uint16(m[8:10]) > 4 {
			return vNo
		}
		return vYes
	case MagicSMB1:
		if l < 32 {
			return vNo
		}
		return vYes
	}
	return vNo
}

// frameLen returns the 24-bit length of the frame header at b[0:4].
func frameLen(b []byte) int { return int(b[1])<<16 | int(b[2])<<8 | int(b[3]) }

// classify decides, from the first bytes a connection on a port that is
// not known to be SMB carries, whether it is SMB: a frame header with an
// SMB magic, or a NetBIOS session request.
func classify(b []byte) verdict {
	if len(b) > 0 && b[0] == nbssSessionRequest {
		if len(b) < 4 {
			return vMore
		}
		if b[1] == 0 && frameLen(b) >= 2 && frameLen(b) <= 256 {
			return vYes
		}
		return vNo
	}
	return plausible(b)
}
