package capture

import (
	"bytes"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// connKey identifies a TCP connection independently of direction: endpoint
// a is the one that sorts first.
type connKey struct {
	a, b   [16]byte
	pa, pb uint16
}

// makeKey returns the key of the connection of seg and the index (0 for
// key.a, 1 for key.b) of the endpoint that sent seg.
func makeKey(seg *segment) (connKey, int) {
	c := bytes.Compare(seg.src[:], seg.dst[:])
	if c < 0 || (c == 0 && seg.srcPort <= seg.dstPort) {
		return connKey{a: seg.src, b: seg.dst, pa: seg.srcPort, pb: seg.dstPort}, 0
	}
	return connKey{a: seg.dst, b: seg.src, pa: seg.dstPort, pb: seg.srcPort}, 1
}

// seqDiff returns a-b as a signed distance in sequence space.
func seqDiff(a, b uint32) int32 { return int32(a - b) }

// min32 returns the earlier of two sequence numbers.
func min32(a, b uint32) uint32 {
	if seqDiff(a, b) < 0 {
		return a
	}
	return b
}

// reader is the state of one ReadFile call.
type reader struct {
	name  string
	opt   Options
	fn    func(*Unit) error
	ports map[uint16]bool // server ports: 445, 139 and Options.Ports

	dec   *decoder
	conns map[connKey]*conn
	all   []*conn // every connection, in stream order

	frame       int
	stats       Stats
	problems    []Problem
	unit        Unit
	pduCount    map[int]int // SMB2 headers delivered so far per frame
	serverPorts map[int]bool
	err         error // first callback error: stops the read
}

func newReader(name string, opt Options, fn func(*Unit) error) *reader {
	r := &reader{
		name:        name,
		opt:         opt,
		fn:          fn,
		ports:       map[uint16]bool{445: true, 139: true},
		dec:         newDecoder(),
		conns:       map[connKey]*conn{},
		pduCount:    map[int]int{},
		serverPorts: map[int]bool{},
	}
	for _, p := range opt.Ports {
		if p > 0 && p < 65536 {
			r.ports[uint16(p)] = true
		}
	}
	return r
}

func (r *reader) run(src *source) (Stats, []Problem, error) {
	for r.err == nil {
		data, ci, err := src.ps.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.problem(nil, 0, Problem{Frame: r.frame + 1, Kind: "file",
				Detail: fmt.Sprintf("cannot read frame %d: %v", r.frame+1, err)})
			break
		}
		r.frame++
		r.packet(src.linkType(ci), data, &ci)
	}
	if r.err == nil {
		for _, c := range r.all {
			c.finish()
			if r.err != nil {
				break
			}
		}
	}
	r.stats.Frames = r.frame
	r.stats.Problems = len(r.problems)
	r.stats.ServerPorts = sortedPorts(r.serverPorts)
	return r.stats, r.problems, r.err
}

func (r *reader) packet(lt layers.LinkType, data []byte, ci *gopacket.CaptureInfo) {
	var seg segment
	ok, cut := r.dec.decode(lt, data, ci, &seg)
	if cut {
		r.problem(nil, 0, Problem{Frame: r.frame, Kind: "frame",
			Detail: fmt.Sprintf("frame %d: TCP header cut off by the snap length (%d of %d bytes captured)", r.frame, ci.CaptureLength, ci.Length)})
		return
	}
	if !ok {
		return
	}
	key, d := makeKey(&seg)
	t := seg.tcp
	c := r.conns[key]
	if c != nil && t.SYN && !t.ACK && c.reusedBy(d, t.Seq) {
		// A new connection on the same 4-tuple (tshark starts a new
		// tcp.stream too): flush the old one.
		c.finish()
		c = nil
	}
	if c == nil {
		c = r.newConn(key)
		r.conns[key] = c
	}
	c.segment(d, &seg)
}

func (r *reader) newConn(key connKey) *conn {
	c := &conn{r: r, stream: len(r.all), ports: [2]uint16{key.pa, key.pb}, server: -1, synFrom: -1}
	for i := range c.half {
		c.half[i].c = c
		c.half[i].dir = i
		c.half[i].f.h = &c.half[i]
	}
	known0, known1 := r.ports[key.pa], r.ports[key.pb]
	switch {
	case known0 && !known1:
		c.smb, c.server = 1, 0
	case known1 && !known0:
		c.smb, c.server = 1, 1
	case known0 && known1:
		c.smb = 1 // server side decided from the traffic
	case r.opt.NoHeuristics:
		c.smb = -1
	}
	r.all = append(r.all, c)
	return c
}

// problem records p for direction d of c (c may be nil).
func (r *reader) problem(c *conn, d int, p Problem) {
	p.Capture = r.name
	p.Stream = -1
	if c != nil {
		p.Stream = c.stream
		p.FromClient = d != c.serverSide(d, nil)
		c.touch()
	}
	r.problems = append(r.problems, p)
}

// emit delivers one unit sent by direction d of c.
func (r *reader) emit(c *conn, d int, data []byte, first, last int) {
	if r.err != nil {
		return
	}
	server := c.serverSide(d, data)
	if c.units == 0 {
		r.serverPorts[int(c.ports[server])] = true
	}
	c.units++
	c.touch()
	u := &r.unit
	u.Capture = r.name
	u.Stream = c.stream
	u.FromClient = d != server
	u.Frame = last
	u.FirstFrame = first
	n := r.pduCount[last]
	u.PDUIndex = n
	if k := CountSMB2(data); k > 0 {
		r.pduCount[last] = n + k
	}
	u.Data = data
	r.stats.Units++
	r.err = r.fn(u)
	u.Data = nil
}

// conn is one TCP connection.
type conn struct {
	r       *reader
	stream  int
	ports   [2]uint16 // port of endpoint 0 and 1
	half    [2]half   // half[i] carries the bytes sent by endpoint i
	server  int       // endpoint of the SMB server, -1 while unknown
	smb     int8      // 1: SMB connection, -1: not SMB, 0: not decided yet
	synFrom int       // endpoint that sent the first SYN, -1 if none seen
	closed  bool      // FIN or RST seen
	done    bool      // finish called
	counted bool      // counted in Stats.Streams
	units   int
}

func (c *conn) touch() {
	if !c.counted {
		c.counted = true
		c.r.stats.Streams++
	}
}

// serverSide returns the server endpoint, deciding it if still unknown from
// data (a unit sent by endpoint d, may be nil), the SYN, or who spoke first.
func (c *conn) serverSide(d int, data []byte) int {
	if c.server >= 0 {
		return c.server
	}
	if fromServer, known := sentByServer(data); known {
		if fromServer {
			c.server = d
		} else {
			c.server = 1 - d
		}
		return c.server
	}
	if c.synFrom >= 0 {
		c.server = 1 - c.synFrom
		return c.server
	}
	// The client speaks first in SMB.
	if data != nil {
		c.server = 1 - d
		return c.server
	}
	return 1 - d // provisional, not remembered
}

// reusedBy reports whether a SYN (without ACK) with sequence number seq sent
// by endpoint d starts a new connection on this 4-tuple.
func (c *conn) reusedBy(d int, seq uint32) bool {
	h := &c.half[d]
	if h.synSeen {
		return seq != h.isn
	}
	return h.started || c.closed
}

func (c *conn) segment(d int, seg *segment) {
	t := seg.tcp
	h, peer := &c.half[d], &c.half[1-d]
	if t.SYN {
		if !t.ACK && c.synFrom < 0 {
			c.synFrom = d
		}
		if !h.synSeen {
			h.synSeen, h.isn = true, t.Seq
		}
	}
	if t.FIN || t.RST {
		c.closed = true
	}
	if c.smb < 0 {
		return
	}
	if t.ACK && !t.RST {
		peer.acked(t.Ack)
	}
	if t.RST {
		// Some stacks put diagnostic text in a RST: it is not stream data.
		return
	}
	if t.FIN && !h.fin {
		h.fin = true
		h.finSeq = t.Seq + uint32(len(seg.payload)+seg.missing)
		if t.SYN {
			h.finSeq++
		}
	}
	h.data(t.Seq, t.SYN, seg.payload, seg.missing)
}

// reject marks c as not SMB and drops what was buffered.
func (c *conn) reject() {
	c.smb = -1
	for i := range c.half {
		c.half[i].pending = nil
		c.half[i].f.buf = nil
		c.half[i].f.marks = nil
	}
}

func (c *conn) finish() {
	if c.done {
		return
	}
	c.done = true
	if c.smb < 0 {
		return
	}
	for i := range c.half {
		c.half[i].finish()
	}
}

// half is one direction of a connection.
type half struct {
	c   *conn
	dir int

	synSeen   bool
	isn       uint32
	started   bool
	midstream bool   // the first bytes seen were not preceded by a SYN
	base      uint32 // midstream: sequence number of the first byte seen
	next      uint32 // sequence number of the next byte expected

	pending []pendingSeg // out-of-order data, sorted by seq

	ackValid bool
	ack      uint32 // highest acknowledgement from the peer

	fin    bool   // FIN seen
	finSeq uint32 // sequence number of the FIN

	lastFrame int // frame of the last byte delivered (or skipped)
	f         framer
}

type pendingSeg struct {
	seq     uint32
	data    []byte // owned copy
	missing int    // bytes after data announced by IP but not captured
	frame   int
}

func (h *half) data(seq uint32, syn bool, payload []byte, missing int) {
	frame := h.c.r.frame
	if syn {
		if !h.started {
			h.started = true
			h.next = seq + 1
			h.f.state = stSync
		}
		seq++
	}
	if len(payload) == 0 && missing == 0 {
		return
	}
	if !h.started {
		// First data of a connection whose start was not captured.
		h.started = true
		h.midstream = true
		h.next, h.base = seq, seq
		h.f.state = stHunt
		h.f.huntKind = "midstream"
		h.f.huntWhy = "connection already open when the capture started"
	}
	end := seq + uint32(len(payload)+missing)
	if h.midstream && seqDiff(seq, h.base) < 0 {
		// Bytes before the first one captured in this direction (captured
		// after later bytes): the stream was started after them.
		n := int(seqDiff(min32(end, h.base), seq))
		if n > 0 && h.c.smb > 0 {
			h.c.r.problem(h.c, h.dir, Problem{Frame: frame, Kind: "midstream", Skipped: n,
				Detail: fmt.Sprintf("%d bytes in frame %d precede the first byte captured for this direction (frame captured after later data), skipped", n, frame)})
		}
	}
	if seqDiff(end, h.next) <= 0 {
		return // retransmission of delivered data, keep-alive
	}
	if seqDiff(seq, h.next) > 0 {
		h.queue(seq, payload, missing, frame)
		h.checkAcked()
		return
	}
	h.deliver(seq, payload, missing, frame)
	h.drain()
	h.checkAcked()
}

// deliver hands [h.next, seq+len(payload)+missing) to the framer; seq must
// not be after h.next.
func (h *half) deliver(seq uint32, payload []byte, missing int, frame int) {
	off := int(h.next - seq)
	if off < len(payload) {
		b := payload[off:]
		h.next += uint32(len(b))
		h.lastFrame = frame
		h.f.feed(b, frame)
		off = 0
	} else {
		off -= len(payload)
	}
	if m := missing - off; m > 0 {
		h.next += uint32(m)
		h.lastFrame = frame
		h.f.gap(m, frame, frame, "truncated")
	}
}

func (h *half) queue(seq uint32, payload []byte, missing int, frame int) {
	p := pendingSeg{seq: seq, data: append([]byte(nil), payload...), missing: missing, frame: frame}
	i := len(h.pending)
	for i > 0 && seqDiff(h.pending[i-1].seq, seq) > 0 {
		i--
	}
	h.pending = append(h.pending, pendingSeg{})
	copy(h.pending[i+1:], h.pending[i:])
	h.pending[i] = p
}

// drain delivers queued segments that have become contiguous.
func (h *half) drain() {
	for len(h.pending) > 0 && h.c.smb >= 0 {
		p := &h.pending[0]
		if seqDiff(p.seq, h.next) > 0 {
			return
		}
		seg := *p
		h.pending[0] = pendingSeg{}
		h.pending = h.pending[1:]
		if seqDiff(seg.seq+uint32(len(seg.data)+seg.missing), h.next) > 0 {
			h.deliver(seg.seq, seg.data, seg.missing, seg.frame)
		}
	}
	if len(h.pending) == 0 {
		h.pending = nil
	}
}

// skipHole gives up on the bytes between h.next and the first queued segment.
func (h *half) skipHole() {
	h.skipTo(h.pending[0].seq, h.pending[0].frame)
}

// skipTo gives up on the bytes between h.next and seq; after is the frame
// carrying the byte at seq, if known, else the current frame.
func (h *half) skipTo(seq uint32, after int) {
	n := int(seq - h.next)
	h.f.gap(n, h.lastFrame, after, "gap")
	h.next = seq
	h.drain()
}

// acked records an acknowledgement from the peer for this direction.
func (h *half) acked(ack uint32) {
	if !h.ackValid || seqDiff(ack, h.ack) > 0 {
		h.ackValid, h.ack = true, ack
	}
}

// checkAcked skips holes the receiver has acknowledged data beyond: the
// receiver got bytes the capture did not see, they will not be sent again.
// It is called when data arrives, not when the acknowledgement does:
// captures taken on a sending host with segmentation offload sometimes
// record the peer's ACK just before the segment it acknowledges, so a hole
// is only given up once more data has come after that ACK without filling
// it.
//
// Only the acknowledged part of a hole is given up: bytes after the
// acknowledgement may still be captured (segments reordered on the way to
// the capture point).
func (h *half) checkAcked() {
	for h.started && h.ackValid && len(h.pending) > 0 && seqDiff(h.ack, h.next) > 0 && h.c.smb >= 0 {
		if p := &h.pending[0]; seqDiff(h.ack, p.seq) >= 0 {
			h.skipHole()
		} else {
			h.skipTo(h.ack, h.c.r.frame)
		}
	}
}

func (h *half) finish() {
	for len(h.pending) > 0 && h.c.smb >= 0 {
		h.skipHole()
	}
	if h.c.smb < 0 {
		return
	}
	// Bytes at the end of the stream that the receiver acknowledged but
	// the capture did not see.
	if h.c.smb >= 0 && h.started && h.ackValid {
		end := h.ack
		if h.fin && seqDiff(end, h.finSeq) > 0 {
			end = h.finSeq
		}
		if seqDiff(end, h.next) > 0 {
			h.skipTo(end, 0)
		}
	}
	if h.c.smb > 0 {
		h.f.finish()
	}
}
