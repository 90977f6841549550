package dcerpc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/smbvfs/smbvfs/pcaps/capture"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// pcapDir holds the shared capture corpus (see its SOURCES.md).
const pcapDir = "../../../shared/pcaps"

// capturedPDU is one DCE/RPC PDU found in a capture.
type capturedPDU struct {
	key        pipeKey
	capture    string
	frame      int
	fromClient bool
	data       []byte
}

type pipeKey struct {
	stream     int
	fid        smb2.FileId
	fromClient bool
}

// walkCapture calls fn with every DCE/RPC PDU carried by SMB2 WRITE requests, READ
// responses and FSCTL_PIPE_TRANSCEIVE requests and responses of a capture, reassembled per
// open and direction (a PDU may span several READs).
func walkCapture(t testing.TB, path string, fn func(p capturedPDU)) (notRPC int) {
	type msgKey struct {
		stream int
		id     uint64
	}
	readFid := map[msgKey]smb2.FileId{}
	bufs := map[pipeKey][]byte{}
	var (
		h    smb2.Header
		msgs smb2.Messages
		er   smb2.ErrorResponse
	)
	feed := func(u *capture.Unit, key pipeKey, data []byte) {
		buf := bufs[key]
		if len(buf) == 0 {
			if _, err := PeekHeader(data); err != nil {
				notRPC++
				return
			}
		}
		buf = append(buf, data...)
		n, err := SplitPDUs(buf, func(pdu []byte) error {
			fn(capturedPDU{key: key, capture: u.Capture, frame: u.Frame, fromClient: u.FromClient, data: bytes.Clone(pdu)})
			return nil
		})
		if err != nil {
			notRPC++
			delete(bufs, key)
			return
		}
		bufs[key] = append(buf[:0:0], buf[n:]...)
	}
	_, _, err := capture.ReadFile(path, capture.Options{}, func(u *capture.Unit) error {
		if len(u.Data) < 4 || string(u.Data[:4]) != smb2.ProtocolSMB2 {
			return nil
		}
		cp := smb2.Compound{Frame: u.Data}
		for cp.Next() {
			m, err := smb2.DecodeMessage(cp.PDU(), cp.Hdr(), &h, &msgs, &er)
			if err != nil {
				continue
			}
			switch x := m.(type) {
			case *smb2.WriteRequest:
				feed(u, pipeKey{u.Stream, x.FileId, true}, x.Data)
			case *smb2.ReadRequest:
				readFid[msgKey{u.Stream, h.MessageId}] = x.FileId
			case *smb2.ReadResponse:
				if fid, ok := readFid[msgKey{u.Stream, h.MessageId}]; ok && h.Status != 0x103 {
					feed(u, pipeKey{u.Stream, fid, false}, x.Data)
				}
			case *smb2.IoctlRequest:
				if x.CtlCode == fscc.FsctlPipeTransceive {
					feed(u, pipeKey{u.Stream, x.FileId, true}, x.Input)
				}
			case *smb2.IoctlResponse:
				if x.CtlCode == fscc.FsctlPipeTransceive {
					feed(u, pipeKey{u.Stream, x.FileId, false}, x.Output)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return notRPC
}

// unencrypted lists the captures whose SMB2 traffic is readable without keys.
func unencrypted(t testing.TB) []string {
	all, _ := filepath.Glob(filepath.Join(pcapDir, "*.pcap*"))
	all2, _ := filepath.Glob(filepath.Join(pcapDir, "*.cap"))
	all = append(all, all2...)
	if len(all) == 0 {
		t.Skip("no captures in " + pcapDir)
	}
	var out []string
	for _, p := range all {
		if strings.Contains(filepath.Base(p), "encrypted") || strings.Contains(filepath.Base(p), "smb300enc") {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// TestCapturesRoundTrip decodes every DCE/RPC PDU of the unencrypted captures with the
// generated codecs and re-encodes it: the bytes must be identical.
func TestCapturesRoundTrip(t *testing.T) {
	total := 0
	byType := map[PType]int{}
	for _, path := range unencrypted(t) {
		n := 0
		walkCapture(t, path, func(p capturedPDU) {
			n++
			pdu, err := DecodePDU(p.data)
			if err != nil {
				t.Errorf("%s frame %d: decode: %v (%x)", p.capture, p.frame, err, p.data[:min(len(p.data), 64)])
				return
			}
			enc, err := pdu.Append(nil)
			if err != nil {
				t.Errorf("%s frame %d: encode: %v", p.capture, p.frame, err)
				return
			}
			if !bytes.Equal(enc, p.data) {
				i := 0
				for i < len(enc) && i < len(p.data) && enc[i] == p.data[i] {
					i++
				}
				t.Errorf("%s frame %d: %T re-encodes differently at byte %d (%s): %d vs %d bytes", p.capture, p.frame, pdu, i, pdu.FieldAt(i), len(enc), len(p.data))
				return
			}
			var ptype PType = PType(p.data[2])
			byType[ptype]++
			// the nested parts the PDU keeps as bytes
			switch x := pdu.(type) {
			case *BindAck:
				checkResultList(t, p, x.ResultList)
			case *AlterContextResp:
				checkResultList(t, p, x.ResultList)
			}
		})
		if n > 0 {
			t.Logf("%s: %d PDUs", filepath.Base(path), n)
		}
		total += n
	}
	var types []string
	for k, v := range byType {
		types = append(types, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(types)
	t.Logf("%d DCE/RPC PDUs round-tripped: %s", total, strings.Join(types, " "))
	if total == 0 {
		t.Fatal("no DCE/RPC PDU found")
	}
}

func checkResultList(t *testing.T, p capturedPDU, b []byte) {
	var rl PResultList
	if err := rl.Decode(b); err != nil {
		t.Errorf("%s frame %d: p_result_list: %v", p.capture, p.frame, err)
		return
	}
	enc, err := rl.Append(nil)
	if err != nil || !bytes.Equal(enc, b) {
		t.Errorf("%s frame %d: p_result_list re-encodes differently (%v)", p.capture, p.frame, err)
	}
}

// TestDumpStubs prints the stubs of the captured srvsvc/wkssvc calls (go test -run
// DumpStubs -v with DCERPC_DUMP=1), to build test vectors.
func TestDumpStubs(t *testing.T) {
	if os.Getenv("DCERPC_DUMP") == "" {
		t.Skip("DCERPC_DUMP not set")
	}
	for _, path := range unencrypted(t) {
		walkCapture(t, path, func(p capturedPDU) {
			pdu, err := DecodePDU(p.data)
			if err != nil {
				return
			}
			switch x := pdu.(type) {
			case *Request:
				_, stub, _ := x.RequestStub()
				fmt.Printf("%s %d REQ call=%d ctx=%d op=%d flags=%v %x\n", p.capture, p.frame, x.CallId, x.PContId, x.Opnum, x.PfcFlags, stub)
			case *Response:
				stub, _ := x.ResponseStub()
				fmt.Printf("%s %d RSP call=%d ctx=%d flags=%v %x\n", p.capture, p.frame, x.CallId, x.PContId, x.PfcFlags, stub)
			case *Bind, *BindAck, *AlterContext, *AlterContextResp:
				fmt.Printf("%s %d %T %x\n", p.capture, p.frame, x, p.data)
			}
			_ = binary.LittleEndian
		})
	}
}
