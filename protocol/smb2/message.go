package smb2

import (
	"encoding/binary"

	"github.com/smbvfs/smbvfs/protocol/wire"
)

// Magic numbers of the four SMB protocol headers, as the first four bytes of a message.
const (
	ProtocolSMB2        = "\xfeSMB"
	ProtocolTransform   = "\xfdSMB"
	ProtocolCompression = "\xfcSMB"
	ProtocolSMB1        = "\xffSMB"
)

// HeaderSize is the size of the SMB2 header.
const HeaderSize = 64

// Compound walks the SMB2 messages of a compound chain in frame (one Direct-TCP payload). Each
// step yields the message's header offset and the message, limited to its NextCommand
// region (the last one runs to the end of frame).
//
//	c := smb2.Compound{Frame: frame}
//	for c.Next() { hdr, pdu := c.Hdr(), c.PDU() ... }
//	if c.Err() != nil { ... }
type Compound struct {
	Frame []byte
	hdr   int
	next  int
	done  bool
	err   error
}

// Next advances to the next message.
func (c *Compound) Next() bool {
	if c.done || c.err != nil {
		return false
	}
	c.hdr = c.next
	if c.hdr > len(c.Frame)-HeaderSize || string(c.Frame[c.hdr:c.hdr+4]) != ProtocolSMB2 {
		c.err = wire.Errorf("Compound", "NextCommand", wire.BadOffset)
		return false
	}
	n := int(binary.LittleEndian.Uint32(c.Frame[c.hdr+20:]))
	if n == 0 {
		c.done = true
		return true
	}
	if n < HeaderSize || n > len(c.Frame)-c.hdr || n%8 != 0 {
		c.err = wire.Errorf("Compound", "NextCommand", wire.BadOffset)
		return false
	}
	c.next = c.hdr + n
	return true
}

// Hdr returns the offset of the current message's header in Frame.
func (c *Compound) Hdr() int { return c.hdr }

// PDU returns Frame limited to the end of the current message; its header is at Hdr.
func (c *Compound) PDU() []byte {
	if c.done {
		return c.Frame
	}
	return c.Frame[:c.next]
}

// Err returns the error that stopped the walk.
func (c *Compound) Err() error { return c.err }

// DecodeMessage decodes the SMB2 message whose header is at pdu[hdr:] (pdu ends where the
// message ends): the header into h, the body into the matching structure of msgs — the
// request or the response of h.Command, or e for an ERROR response — and returns the body.
func DecodeMessage(pdu []byte, hdr int, h *Header, msgs *Messages, e *ErrorResponse) (Message, error) {
	if hdr < 0 || hdr > len(pdu) {
		return nil, wire.Errorf("Header", "", wire.Short)
	}
	if err := h.Decode(pdu[hdr:]); err != nil {
		return nil, err
	}
	var m Message
	if !h.Flags.Has(FlagsServerToRedir) {
		m = msgs.Request(h.Command)
	} else if IsErrorResponse(h.Command, h.Status) || isErrorBody(pdu, hdr, h.Command) {
		m = e
	} else {
		m = msgs.Response(h.Command)
	}
	if m == nil {
		return nil, wire.Errorf("Header", "Command", wire.BadConst)
	}
	return m, m.Decode(pdu, hdr)
}

// isErrorBody recognises an ERROR body (StructureSize 9) sent with a status that normally has
// the command's own body, where the command's response has another StructureSize.
func isErrorBody(pdu []byte, hdr int, cmd Command) bool {
	if len(pdu) < hdr+HeaderSize+2 || binary.LittleEndian.Uint16(pdu[hdr+HeaderSize:]) != 9 {
		return false
	}
	switch cmd {
	case CommandSessionSetup, CommandQueryDirectory, CommandChangeNotify, CommandQueryInfo:
		return false // their responses have StructureSize 9 too
	}
	return true
}
