// Package roundtrip checks the generated codecs against captured traffic: every SMB2
// message of a capture must decode and re-encode byte for byte. Encrypted messages whose keys
// are unknown are checked as transform headers only; SMB1 multi-protocol NEGOTIATE requests
// are checked too, other SMB1 messages are only counted.
package roundtrip

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/smbvfs/smbvfs/pcaps/capture"
	"github.com/smbvfs/smbvfs/pcaps/sessions"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// Failure is one message that did not round-trip.
type Failure struct {
	Capture    string
	Frame      int
	Stream     int
	FromClient bool
	Index      int    // position of the message in its compound chain
	What       string // "SMB2 CREATE response", "TRANSFORM", ...
	Err        string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s frame %d (stream %d, message %d): %s: %s", f.Capture, f.Frame, f.Stream, f.Index, f.What, f.Err)
}

// Result is what one capture gave.
type Result struct {
	Capture       string
	SMB2          int // SMB2 messages that round-tripped
	Lists         int // chained lists inside them (contexts, ...) that re-encoded element by element
	Payloads      int // payloads inside them (information classes, FSCTL buffers, context bodies) that round-tripped
	Transform     int // transform headers that round-tripped
	Decrypted     int // transform messages opened with a known key (their SMB2 messages count in SMB2)
	Undecrypted   int // transform messages whose session key is not known
	Compression   int // compression transform headers that round-tripped
	SMB1Negotiate int // SMB1 NEGOTIATE requests that round-tripped
	SMB1Other     int // other SMB1 messages (not checked)
	Problems      []capture.Problem
	Failures      []Failure
}

// Checker holds the reusable decode state.
type Checker struct {
	h    smb2.Header
	msgs smb2.Messages
	er   smb2.ErrorResponse
	buf  []byte
	// pending maps requests to what they asked for, to interpret their responses
	pending map[reqKey]pending
	// breakEncoding, in tests, alters a decoded message before it is re-encoded, as a bug in
	// one field's encoder would
	breakEncoding func(smb2.Message)
	// Ring holds known session keys and passwords: transform messages of sessions with a known
	// key are decrypted and their messages round-tripped as well.
	Ring    *sessions.Ring
	tracker *sessions.Tracker
}

// File checks every message of the capture at path.
func (c *Checker) File(path string) (Result, error) {
	r := Result{Capture: filepath.Base(path)}
	c.pending = map[reqKey]pending{}
	c.tracker = sessions.NewTracker(c.Ring)
	_, problems, err := capture.ReadFile(path, capture.Options{}, func(u *capture.Unit) error {
		c.unit(&r, u)
		return nil
	})
	r.Problems = problems
	return r, err
}

func (c *Checker) fail(r *Result, u *capture.Unit, index int, what string, format string, args ...any) {
	r.Failures = append(r.Failures, Failure{
		Capture: u.Capture, Frame: u.Frame, Stream: u.Stream, FromClient: u.FromClient,
		Index: index, What: what, Err: fmt.Sprintf(format, args...),
	})
}

func (c *Checker) unit(r *Result, u *capture.Unit) {
	d := u.Data
	if len(d) < 4 {
		c.fail(r, u, 0, "unit", "%d bytes, no protocol id", len(d))
		return
	}
	switch string(d[:4]) {
	case smb2.ProtocolSMB2:
		c.compound(r, u)
		c.tracker.Observe(u.Stream, u.FromClient, d)
	case smb2.ProtocolTransform:
		if !c.fixedHeader(r, u, "TRANSFORM", new(smb2.TransformHeader)) {
			return
		}
		r.Transform++
		plain, err := c.tracker.Decrypt(u.FromClient, d)
		if err != nil {
			if err == sessions.ErrNoKey {
				r.Undecrypted++
				return
			}
			c.fail(r, u, 0, "TRANSFORM", "decrypt: %v", err)
			return
		}
		r.Decrypted++
		inner := *u
		inner.Data = plain
		if len(plain) >= 4 && string(plain[:4]) == smb2.ProtocolSMB2 {
			c.compound(r, &inner)
			c.tracker.Observe(u.Stream, u.FromClient, plain)
		} else {
			c.unit(r, &inner)
		}
	case smb2.ProtocolCompression:
		if !c.fixedHeader(r, u, "COMPRESSION_TRANSFORM", new(smb2.CompressionTransformHeader)) {
			return
		}
		r.Compression++
	case smb2.ProtocolSMB1:
		// SMB1 NEGOTIATE (0x72) request (no reply flag 0x80 in Flags)
		if len(d) >= 32 && d[4] == 0x72 && d[9]&0x80 == 0 {
			var n smb2.Smb1NegotiateRequest
			if err := n.Decode(d); err != nil {
				c.fail(r, u, 0, "SMB1 NEGOTIATE", "decode: %v", err)
				return
			}
			enc, err := n.Append(c.buf[:0])
			c.buf = enc
			if err != nil {
				c.fail(r, u, 0, "SMB1 NEGOTIATE", "encode: %v", err)
				return
			}
			if msg := compare(d, enc, func(off int) string { return "Smb1NegotiateRequest." + n.FieldAt(off) }); msg != "" {
				c.fail(r, u, 0, "SMB1 NEGOTIATE", "%s", msg)
				return
			}
			r.SMB1Negotiate++
			return
		}
		r.SMB1Other++
	default:
		c.fail(r, u, 0, "unit", "unknown protocol id %x", d[:4])
	}
}

// fixedHeader round-trips the header that starts a unit (the payload after it is opaque) and
// reports whether it re-encoded identically.
func (c *Checker) fixedHeader(r *Result, u *capture.Unit, what string, h structure) bool {
	if err := h.Decode(u.Data); err != nil {
		c.fail(r, u, 0, what, "decode: %v", err)
		return false
	}
	enc, err := h.Append(c.buf[:0])
	c.buf = enc
	if err != nil || !bytes.Equal(enc, u.Data[:len(enc)]) {
		c.fail(r, u, 0, what, "re-encoding differs (%v)", err)
		return false
	}
	return true
}

func (c *Checker) compound(r *Result, u *capture.Unit) {
	cp := smb2.Compound{Frame: u.Data}
	i := 0
	for cp.Next() {
		pdu, hdr := cp.PDU(), cp.Hdr()
		what := "SMB2"
		if len(pdu) >= hdr+64 {
			cmd := smb2.Command(binary.LittleEndian.Uint16(pdu[hdr+12:]))
			dir := "request"
			if binary.LittleEndian.Uint32(pdu[hdr+16:])&1 != 0 {
				dir = "response"
			}
			what = "SMB2 " + cmd.String() + " " + dir
		}
		m, err := smb2.DecodeMessage(pdu, hdr, &c.h, &c.msgs, &c.er)
		if err != nil {
			c.fail(r, u, i, what, "decode: %v", err)
			i++
			continue
		}
		if c.breakEncoding != nil {
			c.breakEncoding(m)
		}
		enc, err := c.h.Append(c.buf[:0])
		if err == nil {
			enc, err = m.Append(enc, 0)
		}
		c.buf = enc
		if err != nil {
			c.fail(r, u, i, what, "encode: %v", err)
			i++
			continue
		}
		if msg := compare(pdu[hdr:], enc, func(off int) string {
			if off < smb2.HeaderSize {
				return "Header." + c.h.FieldAt(off)
			}
			return fieldPath(m, off-smb2.HeaderSize)
		}); msg != "" {
			c.fail(r, u, i, what, "%s", msg)
			i++
			continue
		}
		if n, msg := c.lists(m); msg != "" {
			c.fail(r, u, i, what, "%s", msg)
		} else if pn, pmsg := c.payloads(u.Stream, &c.h, m); pmsg != "" {
			c.fail(r, u, i, what, "%s", pmsg)
		} else {
			r.Lists += n
			r.Payloads += pn
			r.SMB2++
		}
		i++
	}
	if err := cp.Err(); err != nil {
		c.fail(r, u, i, "SMB2 compound", "%v", err)
	}
}

// compare checks that enc reproduces orig: enc must equal orig's prefix. What orig has beyond
// enc is framing, not message: the padding of a compound element to 8 bytes and the one-byte
// Buffer of an odd StructureSize with nothing in it. Its content is not specified (senders
// leave stale bytes there) and is not compared, but it must be at most 8 bytes. field names
// the field at an offset, for the report.
func compare(orig, enc []byte, field func(off int) string) string {
	if len(enc) > len(orig) {
		return fmt.Sprintf("re-encoding is %d bytes longer than the original (%d)", len(enc)-len(orig), len(orig))
	}
	for i := range enc {
		if enc[i] != orig[i] {
			return fmt.Sprintf("re-encoding differs at byte %d, in %s: got %#02x, captured %#02x (%s)", i, field(i), enc[i], orig[i], window(orig, enc, i))
		}
	}
	if rest := orig[len(enc):]; len(rest) > 8 {
		return fmt.Sprintf("%d captured bytes after the message's last field", len(rest))
	}
	return ""
}

// fieldPath names the field of a decoded body at offset off of the body.
func fieldPath(m smb2.Message, off int) string {
	name := strings.TrimPrefix(fmt.Sprintf("%T", m), "*smb2.")
	if f, ok := m.(interface{ FieldAt(int) string }); ok {
		return name + "." + f.FieldAt(off)
	}
	return name
}

func window(orig, enc []byte, i int) string {
	lo, hi := max(0, i-8), min(len(enc), i+8)
	return fmt.Sprintf("captured %x, encoded %x around byte %d", orig[lo:min(len(orig), hi)], enc[lo:hi], i)
}

// lists re-encodes the chained lists inside a message element by element: each element is
// decoded from the captured list and appended to a new list, which must equal the captured
// bytes. It returns the number of lists checked.
func (c *Checker) lists(m smb2.Message) (int, string) {
	n := 0
	check := func(name string, orig, rebuilt []byte, err error) string {
		n++
		if err != nil {
			return fmt.Sprintf("%s: element re-encoding: %v", name, err)
		}
		if !bytes.Equal(orig, rebuilt) {
			// a length-delimited region may end with padding after its last element
			if len(rebuilt) < len(orig) && bytes.Equal(orig[:len(rebuilt)], rebuilt) && len(orig)-len(rebuilt) < 8 {
				return ""
			}
			i := 0
			for i < len(orig) && i < len(rebuilt) && orig[i] == rebuilt[i] {
				i++
			}
			return fmt.Sprintf("%s: rebuilt from its elements it differs at byte %d (%d vs %d bytes)", name, i, len(rebuilt), len(orig))
		}
		return ""
	}
	negotiate := func(l smb2.NegotiateContextList) string {
		var out smb2.NegotiateContextList
		var err error
		it := l.Iter()
		for it.Next() {
			if err = out.Add(it.Value()); err != nil {
				break
			}
		}
		if err == nil {
			err = it.Err()
		}
		return check("NegotiateContexts", l.Bytes(), out.Bytes(), err)
	}
	create := func(l smb2.CreateContextList) string {
		var out smb2.CreateContextList
		var err error
		it := l.Iter()
		for it.Next() {
			if err = out.Add(it.Value()); err != nil {
				break
			}
		}
		if err == nil {
			err = it.Err()
		}
		return check("CreateContexts", l.Bytes(), out.Bytes(), err)
	}
	var msg string
	switch x := m.(type) {
	case *smb2.NegotiateRequest:
		msg = negotiate(x.NegotiateContexts)
	case *smb2.NegotiateResponse:
		msg = negotiate(x.NegotiateContexts)
	case *smb2.CreateRequest:
		msg = create(x.CreateContexts)
	case *smb2.CreateResponse:
		msg = create(x.CreateContexts)
	}
	return n, msg
}
