package dcerpc

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/smb2"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Stubs captured in the corpus (TestDumpStubs prints them).
var (
	// macOS to Samba (zeek_smb311_macos_to_samba_many_open_files_lock.pcap, frames 59/61):
	// NetrShareEnum level 1.
	macShareEnumReq   = unhex("010000000d000000000000000d0000003100390032002e003100360038002e0032002e0036003900000000000100000001000000010000000000000000000000ffffffff0100000000000000")
	sambaShareEnumRsp = unhex("01000000010000000c0002000200000010000200020000001400020000000000180002001c0002000300008020000200070000000000000007000000530068006100720065006400000000000e000000000000000e000000530068006100720065006400200046006f006c0064006500720000000500000000000000050000004900500043002400000000003200000000000000320000004900500043002000530065007200760069006300650020002800360035006100320064003000660030006100380036003600200073006500720076006500720020002800530061006d00620061002c00200041006c00700069006e00650029002900000002000000240002000000000000000000")
	// Windows to Windows (zeek_smb210_kerberos_auth.pcap, frames 30/31): NetrShareGetInfo
	// level 1 of "lustre".
	winShareGetInfoReq = unhex("000002000d000000000000000d0000007000680078006c0061006200620061006c00380032003100000000000700000000000000070000006c00750073007400720065000000000001000000")
	winShareGetInfoRsp = unhex("010000000400020008000200000000000c0002000700000000000000070000006c0075007300740072006500000000000700000000000000070000006c00750073007400720065000000000000000000")
)

func TestCapturedShareEnum(t *testing.T) {
	var req NetrShareEnumRequest
	if err := req.Decode(macShareEnumReq); err != nil {
		t.Fatal(err)
	}
	if req.ServerName == nil || *req.ServerName != "192.168.2.69" || req.Level != 1 || req.PreferedMaximumLength != MaxPreferredLength || req.ResumeHandle == nil || *req.ResumeHandle != 0 {
		t.Fatalf("%+v", req)
	}
	var resp NetrShareEnumResponse
	if err := resp.Decode(sambaShareEnumRsp); err != nil {
		t.Fatal(err)
	}
	if resp.Level != 1 || resp.TotalEntries != 2 || len(resp.Shares) != 2 || resp.Result != 0 {
		t.Fatalf("%+v", resp)
	}
	if s := resp.Shares[0]; s.Name != "Shared" || s.Type != STypeDisktree || s.Remark != "Shared Folder" {
		t.Fatalf("%+v", s)
	}
	if s := resp.Shares[1]; s.Name != "IPC$" || s.Type != STypeIPC|STypeSpecial || s.Remark != "IPC Service (65a2d0f0a866 server (Samba, Alpine))" {
		t.Fatalf("%+v", s)
	}
	// Our encoding of the same answer differs only in referent ids: decode it back.
	var e Encoder
	resp.Encode(&e)
	var again NetrShareEnumResponse
	if err := again.Decode(e.Bytes()); err != nil || len(again.Shares) != 2 || again.Shares[1].Name != resp.Shares[1].Name || again.Shares[1].Remark != resp.Shares[1].Remark {
		t.Fatalf("%v %+v", err, again)
	}
	if len(e.Bytes()) != len(sambaShareEnumRsp) {
		t.Fatalf("encoded %d bytes, Samba %d", len(e.Bytes()), len(sambaShareEnumRsp))
	}
}

func TestCapturedShareGetInfo(t *testing.T) {
	var req NetrShareGetInfoRequest
	if err := req.Decode(winShareGetInfoReq); err != nil {
		t.Fatal(err)
	}
	if req.ServerName == nil || *req.ServerName != "phxlabbal821" || req.NetName != "lustre" || req.Level != 1 {
		t.Fatalf("%+v", req)
	}
	// a client's encoding of it is Windows' byte for byte
	var e Encoder
	req.Encode(&e)
	if !bytes.Equal(e.Bytes(), winShareGetInfoReq) {
		t.Fatalf("request:\n%x\n%x", e.Bytes(), winShareGetInfoReq)
	}
	var resp NetrShareGetInfoResponse
	if err := resp.Decode(winShareGetInfoRsp); err != nil {
		t.Fatal(err)
	}
	if resp.Share == nil || resp.Share.Name != "lustre" || resp.Share.Remark != "lustre" || resp.Share.Type != 0 || resp.Result != 0 {
		t.Fatalf("%+v %+v", resp, resp.Share)
	}
}

// TestCapturedSrvsvcCalls decodes every srvsvc call of the captures that was made with
// the NDR transfer syntax (Windows-to-Windows associations negotiate NDR64).
func TestCapturedSrvsvcCalls(t *testing.T) {
	type pipeState struct {
		srvsvc map[uint16]bool // contexts accepted for srvsvc with NDR
		offer  map[uint16]SyntaxId
		calls  map[uint32]uint16 // call id to opnum
	}
	n := 0
	for _, path := range unencrypted(t) {
		state := map[smb2.FileId]*pipeState{}
		walkCapture(t, path, func(p capturedPDU) {
			st := state[p.key.fid]
			if st == nil {
				st = &pipeState{srvsvc: map[uint16]bool{}, offer: map[uint16]SyntaxId{}, calls: map[uint32]uint16{}}
				state[p.key.fid] = st
			}
			pdu, err := DecodePDU(p.data)
			if err != nil {
				return
			}
			switch x := pdu.(type) {
			case *Bind:
				for it := x.ContextElems.Iter(); it.Next(); {
					c := it.Value()
					st.offer[c.ContextId] = c.AbstractSyntax
				}
			case *BindAck:
				var rl PResultList
				rl.Decode(x.ResultList)
				i := 0
				for it := rl.Results.Iter(); it.Next(); i++ {
					r := it.Value()
					// contexts are answered in order of the offer: ids 0.. in practice
					if r.Result == Acceptance && r.TransferSyntax.Same(NDR) && st.offer[uint16(i)].UUID == SrvsvcSyntax.UUID {
						st.srvsvc[uint16(i)] = true
					}
				}
			case *Request:
				if !st.srvsvc[x.PContId] || x.PfcFlags&(PfcFirstFrag|PfcLastFrag) != PfcFirstFrag|PfcLastFrag {
					return
				}
				_, stub, _ := x.RequestStub()
				st.calls[x.CallId] = x.Opnum
				var err error
				switch x.Opnum {
				case OpNetrShareEnum:
					err = new(NetrShareEnumRequest).Decode(stub)
				case OpNetrShareGetInfo:
					err = new(NetrShareGetInfoRequest).Decode(stub)
				case OpNetrServerGetInfo:
					err = new(NetrServerGetInfoRequest).Decode(stub)
				default:
					return
				}
				n++
				if err != nil {
					t.Errorf("%s frame %d: opnum %d request: %v", p.capture, p.frame, x.Opnum, err)
				}
			case *Response:
				op, ok := st.calls[x.CallId]
				if !ok || !st.srvsvc[x.PContId] || x.PfcFlags&(PfcFirstFrag|PfcLastFrag) != PfcFirstFrag|PfcLastFrag {
					return
				}
				stub, _ := x.ResponseStub()
				var err error
				switch op {
				case OpNetrShareEnum:
					err = new(NetrShareEnumResponse).Decode(stub)
				case OpNetrShareGetInfo:
					err = new(NetrShareGetInfoResponse).Decode(stub)
				case OpNetrServerGetInfo:
					err = new(NetrServerGetInfoResponse).Decode(stub)
				default:
					return
				}
				n++
				if err != nil {
					t.Errorf("%s frame %d: opnum %d response: %v", p.capture, p.frame, op, err)
				}
			}
		})
	}
	t.Logf("%d srvsvc stubs decoded", n)
	if n == 0 {
		t.Fatal("no srvsvc call found")
	}
}
