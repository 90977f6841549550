// Package replay sends the client side of captured SMB2/3 sessions to a live server and
// compares each response with the captured one.
//
// Per TCP connection of the capture, the client's messages are sent in order on a new
// connection. Message ids, session ids, tree ids and file ids are rewritten as the live server
// assigns them. Authentication is redone: a guest or anonymous SESSION_SETUP is sent as
// captured; an NTLM one is run again with a known password (the captured AUTHENTICATE blob
// answers another challenge and would be refused). Messages captured signed are signed and
// those captured encrypted are encrypted with the live session's keys; encrypted captures
// are read with the keys of a sessions.Ring.
//
// Each response is compared with the captured one: the status, then the fields of the
// decoded body (and of the information classes, directory entries and FSCTL outputs inside)
// after normalising what differs from run to run: times, file ids, GUIDs, security buffers,
// the preauthentication salt. The report counts, per command, the responses that match and
// those that differ, and lists the differences by field.
package replay

import (
	"bytes"
	"encoding/binary"
	"path/filepath"

	"github.com/smbvfs/smbvfs/pcaps/capture"
	"github.com/smbvfs/smbvfs/pcaps/sessions"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// clientUnit is one Direct-TCP payload the client sent, in plaintext.
type clientUnit struct {
	frame     int
	data      []byte
	encrypted bool
	smb1      bool
}

// stream is what one TCP connection of the capture holds.
type stream struct {
	id        int
	client    []clientUnit
	responses map[uint64][]byte // final response (header and body) by MessageId
	smb1Resp  []byte            // the response to an SMB1 NEGOTIATE
	undecrypt int               // transform units without a key
}

// load reads a capture into its streams.
func load(path string, ring *sessions.Ring) ([]*stream, *sessions.Tracker, error) {
	tr := sessions.NewTracker(ring)
	byID := map[int]*stream{}
	var order []*stream
	_, _, err := capture.ReadFile(path, capture.Options{}, func(u *capture.Unit) error {
		s := byID[u.Stream]
		if s == nil {
			s = &stream{id: u.Stream, responses: map[uint64][]byte{}}
			byID[u.Stream] = s
			order = append(order, s)
		}
		data := u.Data
		enc := false
		switch capture.Magic(data) {
		case capture.MagicTransform:
			plain, err := tr.Decrypt(u.FromClient, data)
			if err != nil {
				s.undecrypt++
				return nil
			}
			data, enc = plain, true
		case capture.MagicSMB1:
			if u.FromClient {
				s.client = append(s.client, clientUnit{frame: u.Frame, data: bytes.Clone(data), smb1: true})
			}
			return nil
		case capture.MagicSMB2:
		default:
			return nil
		}
		if capture.Magic(data) != capture.MagicSMB2 {
			return nil
		}
		tr.Observe(u.Stream, u.FromClient, data)
		if u.FromClient {
			s.client = append(s.client, clientUnit{frame: u.Frame, data: bytes.Clone(data), encrypted: enc})
			return nil
		}
		cp := smb2.Compound{Frame: data}
		for cp.Next() {
			pdu := cp.PDU()[cp.Hdr():]
			if len(pdu) < smb2.HeaderSize {
				continue
			}
			mid := binary.LittleEndian.Uint64(pdu[24:])
			status := ntstatus.Status(binary.LittleEndian.Uint32(pdu[8:]))
			flags := smb2.HeaderFlags(binary.LittleEndian.Uint32(pdu[16:]))
			if status == ntstatus.StatusPending && flags.Has(smb2.FlagsAsyncCommand) {
				continue // interim response
			}
			if mid == 0 && len(s.client) > 0 && s.client[len(s.client)-1].smb1 && s.smb1Resp == nil {
				s.smb1Resp = bytes.Clone(pdu)
				continue
			}
			s.responses[mid] = bytes.Clone(pdu)
		}
		return nil
	})
	return order, tr, err
}

func base(p string) string { return filepath.Base(p) }
