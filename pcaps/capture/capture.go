// Package capture extracts SMB message units from packet capture files.
//
// It reads pcap, pcapng and snoop files (optionally gzip-compressed; the
// format is detected from the magic number, never from the file name),
// decodes Ethernet (with 802.1Q tags), Linux cooked (SLL and SLL2),
// BSD loopback/null, raw IPv4/IPv6 link layers, reassembles every TCP
// connection in both directions and splits the byte streams on the
// Direct-TCP / NetBIOS session service framing (RFC 1002 / MS-SMB2 2.1):
//
//	+------+----------------------+----------------------------------+
//	| 0x00 | 24-bit length (BE)   | payload: SMB2/SMB3/SMB1 message  |
//	+------+----------------------+----------------------------------+
//
// Each framed payload is reported as one Unit. A unit holds an SMB2
// message or compound chain (0xFE 'SMB'), an SMB2 TRANSFORM header followed
// by ciphertext (0xFD 'SMB'), an SMB2 COMPRESSION_TRANSFORM (0xFC 'SMB') or
// an SMB1 message (0xFF 'SMB'). The package does not decode SMB itself;
// see Compound for a helper that walks the SMB2 headers of a compound chain.
//
// NetBIOS session control messages (session request 0x81, positive and
// negative response 0x82/0x83, retarget 0x84, keepalive 0x85) and empty
// session messages are consumed silently: they carry no SMB.
//
// SMB connections are those with port 445 or 139 (or one of Options.Ports)
// on one side; that side is the server. A connection on other ports is
// taken for SMB when the first bytes it carries (in either direction) are a
// frame header followed by an SMB magic, or a NetBIOS session request; its
// server is then the side that sends SMB2 messages with the
// SMB2_FLAGS_SERVER_TO_REDIR flag (or SMB1 replies), else the side that
// received the SYN, else the side that did not speak first. Such a
// connection whose start was not captured is only recognised if the capture
// begins on a frame boundary; give its port in Options.Ports otherwise.
//
// Whatever cannot be turned into units is reported as a Problem: bytes
// missing from the capture (lost segments, frames cut by the snap length),
// data skipped at the start of a connection that was already running when
// the capture began, data skipped while looking for the next frame header
// after a loss, and units cut by the end of the capture. No byte of an SMB
// connection is dropped without a Problem describing it.
//
// The TCP reassembly is done here rather than with gopacket/reassembly (the
// packet decoding uses gopacket/layers and the file readers gopacket/pcapgo)
// because the reader needs control that package does not give: giving up a
// hole once the receiver has acknowledged bytes beyond it (the capture lost
// them; they will never be sent again) instead of holding all later data
// until a timed flush, explicit holes for frames cut by the snap length,
// byte-accurate accounting of what is skipped, and connection numbering that
// matches tshark's tcp.stream (gopacket/reassembly ignores a SYN on a
// 4-tuple that one side closed with a RST).
package capture

import (
	"fmt"
	"sort"
)

// Unit is one framed payload from a Direct-TCP/NetBIOS session stream.
//
// The Unit passed to the callback and its Data are reused by the reader: both
// are only valid until the callback returns. Copy what must be kept.
type Unit struct {
	Capture    string // base name of the capture file
	Stream     int    // TCP connection index in order of first appearance, 0-based (as tshark's tcp.stream)
	FromClient bool   // true when sent by the SMB client, false when sent by the server
	// Frame is the 1-based number (as tshark/Wireshark number frames) of the
	// frame by which the unit was complete: the highest frame number among
	// the frames that carried its bytes or earlier bytes of the same stream
	// direction (bytes lost in holes do not count). For data captured in
	// order this is the frame carrying the last byte of the unit, where
	// tshark shows the reassembled PDU; for segments captured out of order it
	// is the frame that filled the last hole before the end of the unit
	// (where tshark shows it with tcp.reassemble_out_of_order enabled).
	Frame int
	// FirstFrame is the frame carrying the first byte of the unit (the first
	// byte of its 4-byte length prefix).
	FirstFrame int
	// PDUIndex is the number of SMB2 headers (0xFE 'SMB', counted through
	// compound chains with Compound) in the units that were completed in the
	// same Frame before this one. The i-th SMB2 header of this unit is the
	// (PDUIndex+i)-th SMB2 PDU that tshark lists for Frame (for example the
	// (PDUIndex+i)-th value of smb2.cmd in Tshark's output), as long as
	// tshark sees the same units (no encrypted units that tshark decrypts).
	PDUIndex int
	// Data is the framed payload without the 4-byte length prefix.
	Data []byte
}

// Problem describes bytes of an SMB connection that could not be delivered
// as units, or a frame that could not be used.
type Problem struct {
	Capture    string
	Stream     int  // TCP connection index (-1 when the frame could not be attributed to a connection)
	FromClient bool // direction of the affected byte stream
	// Frame is the frame where the problem was noticed: the first frame after
	// a hole, the frame cut by the snap length, the frame where a plausible
	// header was found again, or the last frame of a stream that ended
	// inside a unit.
	Frame int
	// Kind is one of
	//	"gap"        bytes missing from the stream (segment never captured)
	//	"truncated"  bytes missing because the frame was cut by the snap length
	//	"midstream"  data before the first frame header found, skipped (capture
	//	             started inside the connection)
	//	"resync"     data skipped while looking for a frame header after a
	//	             gap, or after a header that did not make sense
	//	"incomplete" the stream ended (end of capture) inside a unit
	//	"frame"      a frame that could not be decoded (TCP header cut off)
	//	"file"       the capture file ended in the middle of a record
	Kind    string
	Missing int    // bytes of the stream absent from the capture
	Skipped int    // captured bytes that were discarded (not delivered in any unit)
	Detail  string // human readable: frame numbers, byte counts
}

func (p Problem) String() string {
	if p.Stream < 0 {
		return fmt.Sprintf("%s frame %d: %s: %s", p.Capture, p.Frame, p.Kind, p.Detail)
	}
	dir := "server->client"
	if p.FromClient {
		dir = "client->server"
	}
	return fmt.Sprintf("%s stream %d %s frame %d: %s: %s", p.Capture, p.Stream, dir, p.Frame, p.Kind, p.Detail)
}

// Stats summarises a read.
type Stats struct {
	Frames   int // frames in the capture
	Streams  int // TCP connections that carried SMB data
	Units    int // units delivered to the callback
	Problems int // problems reported
	// ServerPorts lists, in increasing order, the TCP ports on which an SMB
	// server was found, including 445 and 139. Ports other than 445 and 139
	// have to be given to Tshark so that tshark dissects them as SMB.
	ServerPorts []int
}

// Options tunes a read. The zero value is ready to use.
type Options struct {
	// Ports are TCP ports on which an SMB server listens, in addition to
	// 445 and 139. Connections on other ports are still recognised when
	// their first payload bytes look like a frame header followed by an SMB
	// magic (or a NetBIOS session request), see the package documentation.
	Ports []int
	// NoHeuristics disables recognising SMB on ports other than 445, 139 and
	// Ports.
	NoHeuristics bool
}

func sortedPorts(m map[int]bool) []int {
	if len(m) == 0 {
		return nil
	}
	out := make([]int, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}
