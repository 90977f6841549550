package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// smb2Msg builds an SMB2 header (64 bytes) followed by body bytes.
func smb2Msg(cmd uint16, response bool, msgID uint64, body int) []byte {
	b := make([]byte, 64+body)
	copy(b, MagicSMB2)
	binary.LittleEndian.PutUint16(b[4:], 64)
	binary.LittleEndian.PutUint16(b[12:], cmd)
	if response {
		binary.LittleEndian.PutUint32(b[16:], smb2FlagsResponse)
	}
	binary.LittleEndian.PutUint64(b[24:], msgID)
	for i := 64; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

// chain builds a compound chain from messages (NextCommand padded to 8).
func chain(msgs ...[]byte) []byte {
	var out []byte
	for i, m := range msgs {
		m = append([]byte(nil), m...)
		if i < len(msgs)-1 {
			for len(m)%8 != 0 {
				m = append(m, 0)
			}
			binary.LittleEndian.PutUint32(m[20:], uint32(len(m)))
		}
		out = append(out, m...)
	}
	return out
}

// framed prefixes a payload with the Direct-TCP header.
func framed(p []byte) []byte {
	h := []byte{0, byte(len(p) >> 16), byte(len(p) >> 8), byte(len(p))}
	return append(h, p...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// synth writes a capture of TCP connections between a client and a server.
type synth struct {
	t        *testing.T
	buf      bytes.Buffer
	w        *pcapgo.Writer
	link     layers.LinkType
	v6       bool
	cli, srv net.IP
	cport    uint16
	sport    uint16
	frames   int
	ts       time.Time
}

func newSynth(t *testing.T, link layers.LinkType, v6 bool) *synth {
	s := &synth{t: t, link: link, v6: v6, cport: 50000, sport: 445, ts: time.Unix(1700000000, 0)}
	if v6 {
		s.cli, s.srv = net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
	} else {
		s.cli, s.srv = net.IPv4(10, 0, 0, 1).To4(), net.IPv4(10, 0, 0, 2).To4()
	}
	s.w = pcapgo.NewWriter(&s.buf)
	if err := s.w.WriteFileHeader(65536, link); err != nil {
		t.Fatal(err)
	}
	return s
}

type pktOpt struct {
	syn, ack, fin, rst bool
	ackNum             uint32
	snap               int // captured length of the frame (0: all)
}

// pkt writes one frame; fromClient selects the direction.
func (s *synth) pkt(fromClient bool, seq uint32, payload []byte, o pktOpt) int {
	src, dst, sp, dp := s.cli, s.srv, s.cport, s.sport
	if !fromClient {
		src, dst, sp, dp = s.srv, s.cli, s.sport, s.cport
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: seq, Ack: o.ackNum,
		SYN: o.syn, ACK: o.ack || o.ackNum != 0, FIN: o.fin, RST: o.rst, Window: 65535}
	var netl gopacket.NetworkLayer
	var ls []gopacket.SerializableLayer
	if s.v6 {
		ip := &layers.IPv6{Version: 6, SrcIP: src, DstIP: dst, NextHeader: layers.IPProtocolTCP, HopLimit: 64}
		netl = ip
		ls = append(ls, ip)
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: src, DstIP: dst, Protocol: layers.IPProtocolTCP}
		netl = ip
		ls = append(ls, ip)
	}
	if err := tcp.SetNetworkLayerForChecksum(netl); err != nil {
		s.t.Fatal(err)
	}
	ls = append(ls, tcp, gopacket.Payload(payload))
	sb := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		s.t.Fatal(err)
	}
	ipb := sb.Bytes()
	var frame []byte
	switch s.link {
	case layers.LinkTypeEthernet:
		et := []byte{0x08, 0x00}
		if s.v6 {
			et = []byte{0x86, 0xdd}
		}
		frame = cat([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}, et, ipb)
	case layers.LinkTypeLinuxSLL:
		et := []byte{0x08, 0x00}
		if s.v6 {
			et = []byte{0x86, 0xdd}
		}
		frame = cat([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, et, ipb)
	case layers.LinkTypeNull:
		fam := []byte{2, 0, 0, 0}
		if s.v6 {
			fam = []byte{30, 0, 0, 0}
		}
		frame = cat(fam, ipb)
	case layers.LinkTypeRaw:
		frame = ipb
	default:
		s.t.Fatalf("link type %v", s.link)
	}
	ci := gopacket.CaptureInfo{Timestamp: s.ts.Add(time.Duration(s.frames) * time.Millisecond), Length: len(frame), CaptureLength: len(frame)}
	if o.snap > 0 && o.snap < len(frame) {
		frame = frame[:o.snap]
		ci.CaptureLength = o.snap
	}
	if err := s.w.WritePacket(ci, frame); err != nil {
		s.t.Fatal(err)
	}
	s.frames++
	return s.frames
}

// handshake writes SYN, SYN/ACK, ACK with ISNs ci and si; data then starts
// at ci+1 and si+1.
func (s *synth) handshake(ci, si uint32) {
	s.pkt(true, ci, nil, pktOpt{syn: true})
	s.pkt(false, si, nil, pktOpt{syn: true, ackNum: ci + 1})
	s.pkt(true, ci+1, nil, pktOpt{ackNum: si + 1})
}

type result struct {
	units    []Unit
	problems []Problem
	stats    Stats
}

func (r result) String() string {
	var b strings.Builder
	for _, u := range r.units {
		fmt.Fprintf(&b, "unit stream=%d client=%v frames=%d-%d pdu=%d len=%d\n", u.Stream, u.FromClient, u.FirstFrame, u.Frame, u.PDUIndex, len(u.Data))
	}
	for _, p := range r.problems {
		fmt.Fprintf(&b, "problem %s missing=%d skipped=%d\n", p, p.Missing, p.Skipped)
	}
	return b.String()
}

func (s *synth) read(opt Options) result {
	s.t.Helper()
	s.dump()
	var r result
	st, probs, err := Read(bytes.NewReader(s.buf.Bytes()), "synth", opt, func(u *Unit) error {
		c := *u
		c.Data = append([]byte(nil), u.Data...)
		r.units = append(r.units, c)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	r.stats, r.problems = st, probs
	return r
}

func wantUnits(t *testing.T, r result, want ...[]byte) {
	t.Helper()
	if len(r.units) != len(want) {
		t.Fatalf("got %d units, want %d\n%s", len(r.units), len(want), r)
	}
	for i, w := range want {
		if !bytes.Equal(r.units[i].Data, w) {
			t.Fatalf("unit %d: got %d bytes %x..., want %d bytes %x...\n%s", i, len(r.units[i].Data), head(r.units[i].Data), len(w), head(w), r)
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func wantProblems(t *testing.T, r result, kinds ...string) {
	t.Helper()
	var got []string
	for _, p := range r.problems {
		got = append(got, p.Kind)
	}
	if strings.Join(got, ",") != strings.Join(kinds, ",") {
		t.Fatalf("problems %v, want %v\n%s", got, kinds, r)
	}
}

func wantFrames(t *testing.T, u Unit, first, last int) {
	t.Helper()
	if u.FirstFrame != first || u.Frame != last {
		t.Fatalf("unit frames %d-%d, want %d-%d", u.FirstFrame, u.Frame, first, last)
	}
}

func TestSynthInOrderAllLinkTypes(t *testing.T) {
	for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeNull, layers.LinkTypeRaw} {
		for _, v6 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/v6=%v", lt, v6), func(t *testing.T) {
				s := newSynth(t, lt, v6)
				s.handshake(1000, 5000)
				req := smb2Msg(0, false, 0, 36)
				resp := smb2Msg(0, true, 0, 100)
				f1 := s.pkt(true, 1001, framed(req), pktOpt{ackNum: 5001})
				f2 := s.pkt(false, 5001, framed(resp), pktOpt{ackNum: 1001 + uint32(len(req)+4)})
				r := s.read(Options{})
				wantUnits(t, r, req, resp)
				wantProblems(t, r)
				wantFrames(t, r.units[0], f1, f1)
				wantFrames(t, r.units[1], f2, f2)
				if !r.units[0].FromClient || r.units[1].FromClient {
					t.Fatalf("directions wrong\n%s", r)
				}
				if r.stats.Frames != 5 || r.stats.Units != 2 || r.stats.Streams != 1 {
					t.Fatalf("stats %+v", r.stats)
				}
			})
		}
	}
}

func TestSynthSplitAcrossThreeSegments(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	m := framed(smb2Msg(8, true, 7, 3000))
	f1 := s.pkt(false, 5001, m[:1000], pktOpt{ackNum: 1001})
	s.pkt(false, 6001, m[1000:2000], pktOpt{ackNum: 1001})
	f3 := s.pkt(false, 7001, m[2000:], pktOpt{ackNum: 1001})
	r := s.read(Options{})
	wantUnits(t, r, m[4:])
	wantProblems(t, r)
	wantFrames(t, r.units[0], f1, f3)
}

func TestSynthHeaderSplit(t *testing.T) {
	// The 4-byte length prefix alone in a segment, and split in two.
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	a, b := smb2Msg(5, false, 1, 10), smb2Msg(6, false, 2, 20)
	data := cat(framed(a), framed(b))
	f1 := s.pkt(true, 1001, data[:4], pktOpt{ackNum: 5001})
	f2 := s.pkt(true, 1005, data[4:4+len(a)+2], pktOpt{ackNum: 5001})
	f3 := s.pkt(true, 1005+uint32(len(a)+2), data[4+len(a)+2:], pktOpt{ackNum: 5001})
	r := s.read(Options{})
	wantUnits(t, r, a, b)
	wantProblems(t, r)
	wantFrames(t, r.units[0], f1, f2)
	wantFrames(t, r.units[1], f2, f3)
}

func TestSynthTwoUnitsOneSegment(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	a := chain(smb2Msg(5, false, 1, 57), smb2Msg(6, false, 2, 24))
	b := smb2Msg(16, false, 3, 41)
	f := s.pkt(true, 1001, cat(framed(a), framed(b)), pktOpt{ackNum: 5001})
	r := s.read(Options{})
	wantUnits(t, r, a, b)
	wantProblems(t, r)
	wantFrames(t, r.units[0], f, f)
	wantFrames(t, r.units[1], f, f)
	if r.units[0].PDUIndex != 0 || r.units[1].PDUIndex != 2 {
		t.Fatalf("PDUIndex %d %d, want 0 2", r.units[0].PDUIndex, r.units[1].PDUIndex)
	}
}

func TestSynthOutOfOrder(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	m1 := framed(smb2Msg(8, true, 1, 2000))
	m2 := framed(smb2Msg(8, true, 2, 10))
	data := cat(m1, m2)
	// Second half first, then first half.
	f1 := s.pkt(false, 5001+1000, data[1000:], pktOpt{ackNum: 1001})
	f2 := s.pkt(false, 5001, data[:1000], pktOpt{ackNum: 1001})
	r := s.read(Options{})
	wantUnits(t, r, m1[4:], m2[4:])
	wantProblems(t, r)
	// Both units are complete only once frame f2 arrived.
	wantFrames(t, r.units[0], f2, f2)
	wantFrames(t, r.units[1], f1, f2)
}

func TestSynthRetransmissionOverlap(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	m := framed(smb2Msg(9, false, 4, 600))
	f1 := s.pkt(true, 1001, m[:300], pktOpt{ackNum: 5001})
	s.pkt(true, 1001, m[:300], pktOpt{ackNum: 5001}) // full retransmission
	// Overlapping retransmission carrying new data too.
	f3 := s.pkt(true, 1001+200, m[200:500], pktOpt{ackNum: 5001})
	s.pkt(true, 1001+499, []byte{m[499]}, pktOpt{ackNum: 5001}) // keep-alive style 1-byte overlap
	f5 := s.pkt(true, 1001+500, m[500:], pktOpt{ackNum: 5001})
	s.pkt(true, 1001+100, m[100:], pktOpt{ackNum: 5001}) // late duplicate of everything
	_ = f3
	r := s.read(Options{})
	wantUnits(t, r, m[4:])
	wantProblems(t, r)
	wantFrames(t, r.units[0], f1, f5)
}

// TestSynthGapInsideUnit: a segment in the middle of a unit is lost; the
// receiver acknowledges it. The unit is lost, the next is found through
// the length of the lost one.
func TestSynthGapInsideUnit(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	a := framed(smb2Msg(8, true, 1, 100))
	b := framed(smb2Msg(8, true, 2, 3000))
	c := framed(smb2Msg(8, true, 3, 50))
	data := cat(a, b, c)
	base := uint32(5001)
	s.pkt(false, base, data[:len(a)+1000], pktOpt{ackNum: 1001})
	// [len(a)+1000, len(a)+2000) lost
	s.pkt(true, 1001, nil, pktOpt{ackNum: base + uint32(len(a)+2000)})
	fAfter := s.pkt(false, base+uint32(len(a)+2000), data[len(a)+2000:], pktOpt{ackNum: 1001})
	r := s.read(Options{})
	wantUnits(t, r, a[4:], c[4:])
	wantProblems(t, r, "gap")
	p := r.problems[0]
	if p.Missing != 1000 || p.Frame != fAfter || p.FromClient || p.Skipped != len(b)-1000 {
		t.Fatalf("problem %+v", p)
	}
}

// TestSynthGapAcrossBoundary: the hole covers the end of one unit and the
// start of the next: resynchronise on the next plausible header, and
// report the bytes skipped to get there.
func TestSynthGapAcrossBoundary(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	a := framed(smb2Msg(8, true, 1, 500))
	b := framed(smb2Msg(8, true, 2, 500))
	c := framed(smb2Msg(8, true, 3, 50))
	d := framed(smb2Msg(8, true, 4, 70))
	data := cat(a, b, c, d)
	base := uint32(5001)
	s.pkt(false, base, data[:400], pktOpt{ackNum: 1001})
	// hole [400, len(a)+100)
	s.pkt(true, 1001, nil, pktOpt{ackNum: base + uint32(len(a)+100)})
	s.pkt(false, base+uint32(len(a)+100), data[len(a)+100:], pktOpt{ackNum: 1001})
	r := s.read(Options{})
	wantUnits(t, r, c[4:], d[4:])
	wantProblems(t, r, "gap", "resync")
	if r.problems[0].Missing != len(a)+100-400 || r.problems[0].Skipped != 400 {
		t.Fatalf("gap %+v", r.problems[0])
	}
	if r.problems[1].Skipped != len(b)-100 {
		t.Fatalf("resync %+v", r.problems[1])
	}
}

// TestSynthGapNeverAcked: a hole nobody acknowledges is only given up at the
// end of the capture; the units behind it are delivered then.
func TestSynthGapNeverAcked(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	a := framed(smb2Msg(5, false, 1, 100))
	b := framed(smb2Msg(5, false, 2, 100))
	c := framed(smb2Msg(5, false, 3, 100))
	s.pkt(true, 1001, a, pktOpt{ackNum: 5001})
	fc := s.pkt(true, 1001+uint32(len(a)+len(b)), c, pktOpt{ackNum: 5001})
	r := s.read(Options{})
	wantUnits(t, r, a[4:], c[4:])
	wantProblems(t, r, "gap")
	wantFrames(t, r.units[1], fc, fc)
}

func TestSynthMidstream(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	a := framed(smb2Msg(8, true, 1, 300))
	b := framed(smb2Msg(8, true, 2, 30))
	// No handshake; the capture starts 123 bytes before the end of a.
	tail := a[len(a)-123:]
	s.pkt(false, 777, cat(tail, b), pktOpt{ackNum: 1})
	r := s.read(Options{})
	wantUnits(t, r, b[4:])
	wantProblems(t, r, "midstream")
	if r.problems[0].Skipped != 123 {
		t.Fatalf("%+v", r.problems[0])
	}
	// Out of order at the start: the bytes before the first ones seen are
	// reported too.
	s = newSynth(t, layers.LinkTypeEthernet, false)
	data := cat(tail, b, b)
	s.pkt(false, 777+uint32(len(tail)), data[len(tail):], pktOpt{ackNum: 1})
	s.pkt(false, 777, data[:len(tail)+10], pktOpt{ackNum: 1})
	r = s.read(Options{})
	wantUnits(t, r, b[4:], b[4:])
	wantProblems(t, r, "midstream")
	if r.problems[0].Skipped != 123 {
		t.Fatalf("%+v", r.problems[0])
	}
	// Starting exactly on a boundary is not a problem.
	s = newSynth(t, layers.LinkTypeEthernet, false)
	s.pkt(false, 777, cat(b, b), pktOpt{ackNum: 1})
	r = s.read(Options{})
	wantUnits(t, r, b[4:], b[4:])
	wantProblems(t, r)
}

func TestSynthTruncatedFrame(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	a := framed(smb2Msg(8, true, 1, 1000))
	b := framed(smb2Msg(8, true, 2, 10))
	// Frame with a and b, cut 200 bytes into a's body: 14 eth + 20 ip + 20 tcp.
	ft := s.pkt(false, 5001, cat(a, b), pktOpt{ackNum: 1001, snap: 54 + 200})
	c := framed(smb2Msg(8, true, 3, 10))
	s.pkt(false, 5001+uint32(len(a)+len(b)), c, pktOpt{ackNum: 1001})
	r := s.read(Options{})
	wantUnits(t, r, c[4:])
	wantProblems(t, r, "truncated")
	p := r.problems[0]
	if p.Frame != ft || p.Missing != len(a)+len(b)-200 || p.Skipped != 200 {
		t.Fatalf("%+v", p)
	}
	// Cut exactly at the end of a unit: the next one is found.
	s = newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	s.pkt(false, 5001, cat(a, b, c), pktOpt{ackNum: 1001, snap: 54 + len(a) + len(b)})
	s.pkt(false, 5001+uint32(len(a)+len(b)+len(c)), b, pktOpt{ackNum: 1001})
	r = s.read(Options{})
	wantUnits(t, r, a[4:], b[4:], b[4:])
	wantProblems(t, r, "truncated")
}

func TestSynthNetBIOS139(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.sport = 139
	s.handshake(1000, 5000)
	sessReq := cat([]byte{0x81, 0, 0, 68}, bytes.Repeat([]byte{0x20}, 68))
	s.pkt(true, 1001, sessReq, pktOpt{ackNum: 5001})
	s.pkt(false, 5001, []byte{0x82, 0, 0, 0}, pktOpt{ackNum: 1001 + 72})
	smb1 := append([]byte(MagicSMB1), make([]byte, 40)...)
	smb1[4] = 0x72
	neg := framed(smb2Msg(0, false, 0, 36))
	s.pkt(true, 1001+72, cat([]byte{0x85, 0, 0, 0}, framed(smb1), neg), pktOpt{ackNum: 5005})
	r := s.read(Options{})
	wantUnits(t, r, smb1, neg[4:])
	wantProblems(t, r)
	if r.stats.ServerPorts[0] != 139 || !r.units[0].FromClient {
		t.Fatalf("%+v\n%s", r.stats, r)
	}
}

func TestSynthHeuristicPort(t *testing.T) {
	for _, syn := range []bool{true, false} {
		s := newSynth(t, layers.LinkTypeEthernet, false)
		s.sport = 4445
		if syn {
			s.handshake(1000, 5000)
		}
		req := smb2Msg(0, false, 0, 36)
		resp := smb2Msg(0, true, 0, 100)
		// The server speaks first in this capture (the request was missed):
		// direction must come from the flags, not from who spoke first.
		s.pkt(false, 5001, framed(resp), pktOpt{ackNum: 1001})
		s.pkt(true, 1001, framed(req), pktOpt{ackNum: 5001 + uint32(len(resp)+4)})
		r := s.read(Options{})
		wantUnits(t, r, resp, req)
		wantProblems(t, r)
		if r.units[0].FromClient || !r.units[1].FromClient {
			t.Fatalf("directions\n%s", r)
		}
		if fmt.Sprint(r.stats.ServerPorts) != "[4445]" {
			t.Fatalf("ports %v", r.stats.ServerPorts)
		}
		r = s.read(Options{NoHeuristics: true})
		wantUnits(t, r)
		r = s.read(Options{Ports: []int{4445}})
		wantUnits(t, r, resp, req)
	}
	// Not SMB: ignored without problems.
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.sport = 80
	s.handshake(1000, 5000)
	s.pkt(true, 1001, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), pktOpt{ackNum: 5001})
	s.pkt(false, 5001, []byte("HTTP/1.1 200 OK\r\n\r\n"), pktOpt{ackNum: 1001})
	// Holes and unseen acknowledged bytes in connections that are not
	// known to be SMB are nobody's business.
	s.cport++
	s.handshake(1000, 5000)
	s.pkt(true, 1101, []byte("rest of a request whose start was not captured"), pktOpt{ackNum: 5001})
	s.pkt(false, 5001, nil, pktOpt{ackNum: 1101 + 46})
	s.pkt(true, 1001+400, nil, pktOpt{ackNum: 5301})
	r := s.read(Options{})
	wantUnits(t, r)
	wantProblems(t, r)
	if r.stats.Streams != 0 {
		t.Fatalf("%+v", r.stats)
	}
}

func TestSynthPortReuse(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	m := smb2Msg(0, false, 0, 36)
	s.handshake(1000, 5000)
	s.pkt(true, 1001, framed(m), pktOpt{ackNum: 5001})
	s.pkt(true, 1001+uint32(len(m)+4), nil, pktOpt{rst: true})
	s.pkt(true, 1000, nil, pktOpt{syn: true}) // same ISN, but after a RST
	s.handshake(90000, 70000)
	s.pkt(true, 90001, framed(m), pktOpt{ackNum: 70001})
	r := s.read(Options{})
	wantUnits(t, r, m, m)
	// As tshark's tcp.stream (checked with tshark 4.0): the SYN repeating
	// the old ISN after the RST is a retransmission on stream 0, the SYN
	// with a new ISN starts stream 1.
	if r.units[0].Stream != 0 || r.units[1].Stream != 1 {
		t.Fatalf("streams\n%s", r)
	}
}

func TestSynthSeqWrap(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(0xffffff00, 5000)
	m := framed(smb2Msg(9, false, 1, 1000))
	s.pkt(true, 0xffffff01, m[:600], pktOpt{ackNum: 5001})
	s.pkt(true, 0xffffff01+600-(1<<32), m[600:], pktOpt{ackNum: 5001})
	r := s.read(Options{})
	wantUnits(t, r, m[4:])
	wantProblems(t, r)
}

func TestSynthCallbackError(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	m := framed(smb2Msg(9, false, 1, 10))
	s.pkt(true, 1001, cat(m, m, m), pktOpt{ackNum: 5001})
	stop := errors.New("stop")
	n := 0
	_, _, err := Read(bytes.NewReader(s.buf.Bytes()), "x", Options{}, func(*Unit) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("err %v after %d units", err, n)
	}
}

func TestSynthCutFileAndGarbage(t *testing.T) {
	s := newSynth(t, layers.LinkTypeEthernet, false)
	s.handshake(1000, 5000)
	b := s.buf.Bytes()
	_, probs, err := Read(bytes.NewReader(b[:len(b)-10]), "x", Options{}, func(*Unit) error { return nil })
	if err != nil || len(probs) != 1 || probs[0].Kind != "file" {
		t.Fatalf("%v %v", err, probs)
	}
	if _, _, err := Read(strings.NewReader("hello world, not a capture"), "x", Options{}, nil); err == nil {
		t.Fatal("no error for garbage")
	}
}

func TestCompound(t *testing.T) {
	c := chain(smb2Msg(5, false, 1, 57), smb2Msg(17, false, 2, 33), smb2Msg(6, false, 3, 24))
	var cmds []uint16
	n, ok := Compound(c, func(i int, pdu []byte) { cmds = append(cmds, binary.LittleEndian.Uint16(pdu[12:])) })
	if n != 3 || !ok || fmt.Sprint(cmds) != "[5 17 6]" {
		t.Fatalf("%d %v %v", n, ok, cmds)
	}
	// NextCommand beyond the data.
	bad := append([]byte(nil), c[:100]...)
	if n, ok := Compound(bad, nil); n != 1 || ok {
		t.Fatalf("%d %v", n, ok)
	}
	if n, ok := Compound([]byte(MagicTransform+"xxxxxxxxxxxx"), nil); n != 0 || !ok {
		t.Fatalf("%d %v", n, ok)
	}
}

// dump writes the synthetic capture to $SYNTH_DUMP/<test name>.pcap, to look
// at it with tshark.
func (s *synth) dump() {
	if dir := os.Getenv("SYNTH_DUMP"); dir != "" {
		name := strings.ReplaceAll(s.t.Name(), "/", "_")
		_ = os.WriteFile(filepath.Join(dir, name+".pcap"), s.buf.Bytes(), 0o644)
	}
}

// TestSynthRandomised cuts random unit streams into random segments, swaps,
// duplicates and drops segments, and checks the invariants: without loss
// every unit comes out, in order, with no problem; with loss, the units that
// come out are an in-order subsequence of the originals and the holes are
// reported.
func TestSynthRandomised(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 1000; iter++ {
		lossy := iter%2 == 1
		var units [][]byte
		var stream []byte
		for i := 0; i < 2+rng.IntN(12); i++ {
			var u []byte
			switch rng.IntN(6) {
			case 0:
				u = append([]byte(MagicTransform), make([]byte, 48+rng.IntN(3000))...)
				binary.LittleEndian.PutUint16(u[42:], 1)
			case 1:
				u = append([]byte(MagicSMB1), make([]byte, 28+rng.IntN(200))...)
			default:
				u = smb2Msg(uint16(rng.IntN(19)), true, uint64(i), rng.IntN(4000))
			}
			for j := 64; j < len(u); j++ {
				u[j] = byte(rng.Uint32())
			}
			units = append(units, u)
			stream = append(stream, framed(u)...)
		}
		type seg struct{ off, end int }
		var segs []seg
		for off := 0; off < len(stream); {
			n := min(len(stream)-off, 1+rng.IntN(3000))
			segs = append(segs, seg{off, off + n})
			off += n
		}
		// Local reordering and duplicates.
		for i := 0; i+1 < len(segs); i++ {
			if rng.IntN(5) == 0 {
				segs[i], segs[i+1] = segs[i+1], segs[i]
				i++
			}
		}
		s := newSynth(t, layers.LinkTypeEthernet, false)
		s.handshake(1000, 5000)
		// The client receives every segment (dropped ones are lost by the
		// capture only) and acknowledges the contiguous prefix it has.
		recv := make([]bool, len(stream)+1)
		ack := 0
		send := func(sg seg, captured bool) {
			if captured {
				s.pkt(false, 5001+uint32(sg.off), stream[sg.off:sg.end], pktOpt{ackNum: 1001})
			}
			for i := sg.off; i < sg.end; i++ {
				recv[i] = true
			}
			for recv[ack] {
				ack++
			}
			s.pkt(true, 1001, nil, pktOpt{ackNum: 5001 + uint32(ack)})
		}
		dropped := 0
		for i, sg := range segs {
			if lossy && i > 0 && rng.IntN(6) == 0 {
				dropped += sg.end - sg.off
				send(sg, false)
				continue
			}
			send(sg, true)
			if !lossy && rng.IntN(8) == 0 {
				a := rng.IntN(sg.end)
				send(seg{a, a + 1 + rng.IntN(sg.end-a)}, true)
			}
		}
		r := s.read(Options{})
		if !lossy {
			wantUnits(t, r, units...)
			wantProblems(t, r)
			continue
		}
		// In-order subsequence of the originals.
		k := 0
		for _, u := range r.units {
			for k < len(units) && !bytes.Equal(units[k], u.Data) {
				k++
			}
			if k == len(units) {
				t.Fatalf("iteration %d: unit not in order or not an original\n%s", iter, r)
			}
			k++
		}
		missing := 0
		for _, p := range r.problems {
			missing += p.Missing
		}
		if dropped > 0 && len(r.problems) == 0 || missing > dropped {
			t.Fatalf("iteration %d: %d bytes dropped, %d reported missing\n%s", iter, dropped, missing, r)
		}
		if dropped == 0 && len(r.units) != len(units) {
			t.Fatalf("iteration %d: nothing dropped but units lost\n%s", iter, r)
		}
		// No byte disappears without a problem. (Skipped can count some
		// bytes twice: the rest of a unit cut by a hole, announced as
		// skipped, may itself fall in a later hole.)
		delivered, skipped := 0, 0
		for _, u := range r.units {
			delivered += 4 + len(u.Data)
		}
		for _, p := range r.problems {
			skipped += p.Skipped
		}
		if delivered+skipped+missing < len(stream) || delivered+missing > len(stream) {
			t.Fatalf("iteration %d: stream %d bytes, delivered %d, skipped %d, missing %d\n%s", iter, len(stream), delivered, skipped, missing, r)
		}
	}
}
