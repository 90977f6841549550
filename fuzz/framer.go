package fuzz

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/smbvfs/smbvfs/pcaps/capture"
)

// CaptureStream puts data on the wire of a synthesized capture — one TCP connection to port
// 445, the first half of data sent by the client and the second by the server, cut into
// segments whose size the first byte picks — and reads it back with pcaps/capture: its TCP
// reassembly and Direct-TCP framer. Invariants: no panic, no error for a well-formed capture,
// and per direction the units delivered (with their 4-byte headers) and the bytes reported
// skipped never exceed the bytes sent.
func CaptureStream(data []byte) int {
	if len(data) < 2 {
		return 0
	}
	seg := 1 + int(data[0])*6 // 1 .. 1531 bytes
	payload := data[1:]
	half := len(payload) / 2
	cli, srv := payload[:half], payload[half:]

	var pcap bytes.Buffer
	w := pcapgo.NewWriter(&pcap)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		panic(err)
	}
	ts := time.Unix(1700000000, 0)
	cseq, sseq := uint32(1000), uint32(5000)
	packet := func(fromClient bool, flags string, body []byte) {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
		tcp := &layers.TCP{SrcPort: 50000, DstPort: 445, Seq: cseq, Ack: sseq, Window: 65535, ACK: true}
		if !fromClient {
			eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
			ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
			tcp.SrcPort, tcp.DstPort = 445, 50000
			tcp.Seq, tcp.Ack = sseq, cseq
		}
		switch flags {
		case "S":
			tcp.SYN, tcp.ACK = true, false
			tcp.Ack = 0
		case "SA":
			tcp.SYN = true
		}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(body)); err != nil {
			panic(err)
		}
		ts = ts.Add(time.Millisecond)
		b := buf.Bytes()
		w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b)
		adv := uint32(len(body))
		if flags != "" {
			adv = 1
		}
		if fromClient {
			cseq += adv
		} else {
			sseq += adv
		}
	}
	packet(true, "S", nil)
	packet(false, "SA", nil)
	packet(true, "", nil)
	for len(cli) > 0 || len(srv) > 0 {
		if len(cli) > 0 {
			n := min(seg, len(cli))
			packet(true, "", cli[:n])
			cli = cli[n:]
		}
		if len(srv) > 0 {
			n := min(seg, len(srv))
			packet(false, "", srv[:n])
			srv = srv[n:]
		}
	}
	sent := map[bool]int{true: half, false: len(payload) - half}
	got := map[bool]int{}
	units := 0
	_, problems, err := capture.Read(bytes.NewReader(pcap.Bytes()), "fuzz.pcap", capture.Options{}, func(u *capture.Unit) error {
		got[u.FromClient] += 4 + len(u.Data)
		units++
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("a well-formed capture: %v", err))
	}
	for _, p := range problems {
		if p.Stream >= 0 {
			got[p.FromClient] += p.Skipped
		}
	}
	for _, dir := range []bool{true, false} {
		if got[dir] > sent[dir] {
			panic(fmt.Sprintf("client=%v: %d bytes delivered or skipped, %d sent (%v)", dir, got[dir], sent[dir], problems))
		}
	}
	if units > 0 {
		return 1
	}
	return 0
}
