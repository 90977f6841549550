package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ReadFile reads the capture at path and calls fn for every unit, in the
// order in which units are completed while reading the capture. Units
// behind a hole that is only skipped later (see the package documentation)
// are delivered when the hole is skipped, so Unit.Frame is not always
// increasing from one call to the next.
//
// If fn returns an error, reading stops and ReadFile returns that error.
// Problems are returned (in the order they were found) rather than treated
// as errors; a capture file cut in the middle of a record is a Problem of
// kind "file". The error is non-nil only when the file cannot be opened, is
// not a capture file, or fn failed.
func ReadFile(path string, opt Options, fn func(u *Unit) error) (Stats, []Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, nil, err
	}
	defer f.Close()
	return Read(f, filepath.Base(path), opt, fn)
}

// Read is ReadFile for a capture held in r; name is used as Unit.Capture.
func Read(r io.Reader, name string, opt Options, fn func(u *Unit) error) (Stats, []Problem, error) {
	src, err := openSource(r)
	if err != nil {
		return Stats{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	rd := newReader(name, opt, fn)
	return rd.run(src)
}

// packetSource is what the pcapgo readers have in common.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

type source struct {
	ps packetSource
	// linkType returns the link type of the packet just read.
	linkType func(ci gopacket.CaptureInfo) layers.LinkType
}

var (
	magicPcapngSHB = []byte{0x0a, 0x0d, 0x0d, 0x0a}
	magicSnoop     = []byte("snoop\x00\x00\x00")
	magicGzip      = []byte{0x1f, 0x8b}
)

func isPcapMagic(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch string(b[:4]) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", // microsecond, LE / BE
		"\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d": // nanosecond, LE / BE
		return true
	}
	return false
}

// errNotCapture is returned for input that is none of the known formats.
var errNotCapture = errors.New("not a pcap, pcapng or snoop capture")

func openSource(r io.Reader) (*source, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(8)
	if bytes.HasPrefix(head, magicGzip) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReaderSize(zr, 1<<16)
		head, _ = br.Peek(8)
	}
	switch {
	case isPcapMagic(head):
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, err
		}
		lt := pr.LinkType()
		return &source{ps: pr, linkType: func(gopacket.CaptureInfo) layers.LinkType { return lt }}, nil
	case bytes.HasPrefix(head, magicPcapngSHB):
		nr, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{
			// Keep packets of every interface: dropping those whose link
			// type differs from the first interface would shift frame
			// numbers relative to tshark's.
			WantMixedLinkType:  true,
			SkipUnknownVersion: true,
		})
		if err != nil {
			return nil, err
		}
		return &source{ps: nr, linkType: func(ci gopacket.CaptureInfo) layers.LinkType {
			if len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					return lt
				}
			}
			return nr.LinkType()
		}}, nil
	case bytes.HasPrefix(head, magicSnoop):
		sr, err := pcapgo.NewSnoopReader(br)
		if err != nil {
			return nil, err
		}
		ltp, err := sr.LinkType()
		if err != nil {
			return nil, err
		}
		lt := *ltp
		return &source{ps: sr, linkType: func(gopacket.CaptureInfo) layers.LinkType { return lt }}, nil
	}
	return nil, errNotCapture
}

// ipv6Ext skips IPv6 routing and destination-options extension headers
// (hop-by-hop is handled by layers.IPv6 itself). Fragment headers are
// deliberately not skipped: the payload of a fragment is not a TCP segment.
type ipv6Ext struct{ layers.IPv6ExtensionSkipper }

var ipv6ExtClass = gopacket.NewLayerClass([]gopacket.LayerType{
	layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination,
})

func (e *ipv6Ext) CanDecode() gopacket.LayerClass { return ipv6ExtClass }

// decoder holds the reusable gopacket layers for every supported link type.
type decoder struct {
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	lo    layers.Loopback
	ip4   layers.IPv4
	ip6   layers.IPv6
	ext   ipv6Ext
	tcp   layers.TCP

	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	return &decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}, decoded: make([]gopacket.LayerType, 0, 8)}
}

func (d *decoder) parser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	p := d.parsers[first]
	if p == nil {
		p = gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo, &d.ip4, &d.ip6, &d.ext, &d.tcp)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	return p
}

// segment is a decoded TCP segment.
type segment struct {
	src     [16]byte // IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d)
	dst     [16]byte
	srcPort uint16
	dstPort uint16
	tcp     *layers.TCP
	payload []byte
	missing int // payload bytes announced by the IP header but not captured
}

// firstLayer maps a link type to the first layer to decode; data may be
// consulted for link types that carry IPv4 or IPv6 without telling which.
func firstLayer(lt layers.LinkType, data []byte) gopacket.LayerType {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.LinkTypeRaw, 12, 14: // DLT_RAW has value 12 or 14 on some BSDs
		if len(data) > 0 {
			switch data[0] >> 4 {
			case 4:
				return layers.LayerTypeIPv4
			case 6:
				return layers.LayerTypeIPv6
			}
		}
	}
	return gopacket.LayerTypeZero
}

// decode extracts the TCP segment of a frame. ok is false for frames that
// are not TCP over IPv4/IPv6 (or are IP fragments). tcpCut is true for a TCP
// frame whose TCP header was cut off by the snap length.
func (d *decoder) decode(lt layers.LinkType, data []byte, ci *gopacket.CaptureInfo, seg *segment) (ok, tcpCut bool) {
	first := firstLayer(lt, data)
	if first == gopacket.LayerTypeZero {
		return false, false
	}
	p := d.parser(first)
	_ = p.DecodeLayers(data, &d.decoded) // errors leave the decoded list short
	var ipStart []byte
	var ipEnd int // offset, from ipStart, of the end of the IP packet as announced
	haveTCP := false
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				return false, false
			}
			ipStart = d.ip4.Contents
			ipEnd = int(d.ip4.Length)
			copy(seg.src[:], ip4in6Prefix)
			copy(seg.src[12:], d.ip4.SrcIP.To4())
			copy(seg.dst[:], ip4in6Prefix)
			copy(seg.dst[12:], d.ip4.DstIP.To4())
		case layers.LayerTypeIPv6:
			ipStart = d.ip6.Contents
			ipEnd = 40 + int(d.ip6.Length)
			copy(seg.src[:], d.ip6.SrcIP.To16())
			copy(seg.dst[:], d.ip6.DstIP.To16())
		case layers.LayerTypeTCP:
			haveTCP = ipStart != nil
		}
	}
	if !haveTCP {
		// A TCP header cut off by the snap length: the IP layer says TCP but
		// the TCP layer did not decode.
		if ipStart != nil && ci.CaptureLength < ci.Length {
			if (len(d.decoded) > 0 && d.decoded[len(d.decoded)-1] == layers.LayerTypeIPv4 && d.ip4.Protocol == layers.IPProtocolTCP) ||
				(len(d.decoded) > 0 && d.decoded[len(d.decoded)-1] == layers.LayerTypeIPv6 && d.ip6.NextHeader == layers.IPProtocolTCP) {
				return false, true
			}
		}
		return false, false
	}
	t := &d.tcp
	seg.tcp = t
	seg.srcPort = uint16(t.SrcPort)
	seg.dstPort = uint16(t.DstPort)
	seg.payload = t.Payload
	seg.missing = 0
	if ci.CaptureLength < ci.Length || p.Truncated {
		// Offsets computed from capacities: all layers are sub-slices of the
		// same frame buffer, so cap(a)-cap(b) is the offset of b within a.
		tcpStart := cap(ipStart) - cap(t.Contents)
		announced := ipEnd - tcpStart - len(t.Contents)
		if m := announced - len(t.Payload); m > 0 {
			seg.missing = m
		}
	}
	return true, false
}

var ip4in6Prefix = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}
