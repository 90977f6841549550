package ipc

import (
	"context"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/dcerpc"
	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

var testConfig = Config{
	ServerName: "TESTSRV",
	Domain:     "WORKGROUP",
	Comment:    "test server",
	Shares: []ShareEntry{
		{Name: "public", Comment: "Public files"},
		{Name: "hidden$", Comment: "Hidden share"},
		{Name: "docs", Comment: "Documents"},
	},
}

// testPipe opens a pipe on a fresh tree.
func testPipe(t *testing.T, name string) (*Tree, smb2.FileId) {
	t.Helper()
	tr, _ := NewShare(testConfig).Connect(context.Background(), ntfs.Identity{Guest: true})
	var resp smb2.CreateResponse
	st := tr.Create(&ntfs.Req{}, &smb2.CreateRequest{Name: utf16.FromString(name)}, &resp)
	if st != ntstatus.StatusSuccess {
		t.Fatalf("create %s: %v", name, st)
	}
	return tr, resp.FileId
}

// transceive sends a PDU with FSCTL_PIPE_TRANSCEIVE and returns the answer, joining
// BUFFER_OVERFLOW parts with READs of max bytes.
func transceive(t *testing.T, tr *Tree, fid smb2.FileId, in []byte, max int) []byte {
	t.Helper()
	var resp smb2.IoctlResponse
	st := tr.Ioctl(&ntfs.Req{}, &smb2.IoctlRequest{CtlCode: fscc.FsctlPipeTransceive, FileId: fid, Input: in, MaxOutputResponse: uint32(max)}, &resp)
	out := append([]byte(nil), resp.Output...)
	for st == ntstatus.StatusBufferOverflow {
		var rr smb2.ReadResponse
		st = tr.Read(&ntfs.Req{}, &smb2.ReadRequest{FileId: fid, Length: uint32(max)}, &rr)
		out = append(out, rr.Data...)
	}
	if st != ntstatus.StatusSuccess {
		t.Fatalf("transceive: %v", st)
	}
	return out
}

func bindPDU(call uint32, ctxs ...dcerpc.ContextElem) []byte {
	b := dcerpc.Bind{PfcFlags: dcerpc.PfcFirstFrag | dcerpc.PfcLastFrag, Drep: dcerpc.DrepLE, CallId: call, MaxXmitFrag: 4280, MaxRecvFrag: 4280}
	for i := range ctxs {
		b.ContextElems.Add(&ctxs[i])
	}
	out, err := b.Append(nil)
	if err != nil {
		panic(err)
	}
	return out
}

func ctxElem(id uint16, abstract dcerpc.SyntaxId, ts ...dcerpc.SyntaxId) dcerpc.ContextElem {
	c := dcerpc.ContextElem{ContextId: id, AbstractSyntax: abstract}
	for i := range ts {
		c.TransferSyntaxes.Add(&ts[i])
	}
	return c
}

func requestPDU(call uint32, ctx, opnum uint16, stub []byte) []byte {
	r := dcerpc.Request{PfcFlags: dcerpc.PfcFirstFrag | dcerpc.PfcLastFrag, Drep: dcerpc.DrepLE, CallId: call, AllocHint: uint32(len(stub)), PContId: ctx, Opnum: opnum, Body: stub}
	out, _ := r.Append(nil)
	return out
}

func results(t *testing.T, pdu []byte) []dcerpc.Result {
	t.Helper()
	var ack dcerpc.BindAck
	if err := ack.Decode(pdu); err != nil {
		t.Fatalf("bind_ack: %v (%x)", err, pdu)
	}
	var rl dcerpc.PResultList
	if err := rl.Decode(ack.ResultList); err != nil {
		t.Fatal(err)
	}
	var out []dcerpc.Result
	for it := rl.Results.Iter(); it.Next(); {
		out = append(out, *it.Value())
	}
	return out
}

func TestBindWindowsStyle(t *testing.T) {
	tr, fid := testPipe(t, "srvsvc")
	in := bindPDU(2,
		ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR),
		ctxElem(1, dcerpc.SrvsvcSyntax, dcerpc.NDR64),
		ctxElem(2, dcerpc.SrvsvcSyntax, dcerpc.BindTimeFeatureSyntaxFor(3)))
	out := transceive(t, tr, fid, in, 4280)
	var ack dcerpc.BindAck
	if err := ack.Decode(out); err != nil {
		t.Fatal(err)
	}
	if string(ack.SecAddr) != "\\PIPE\\srvsvc\x00" || ack.MaxXmitFrag != 4280 || ack.CallId != 2 || ack.AssocGroupId == 0 {
		t.Fatalf("bind_ack %+v", ack)
	}
	rs := results(t, out)
	want := []dcerpc.Result{
		{Result: dcerpc.Acceptance, TransferSyntax: dcerpc.NDR},
		{Result: dcerpc.ProviderRejection, Reason: uint16(dcerpc.TransferSyntaxesNotSupported)},
		{Result: dcerpc.NegotiateAck, Reason: 3},
	}
	if len(rs) != 3 {
		t.Fatalf("%d results", len(rs))
	}
	for i := range want {
		if rs[i].Result != want[i].Result || rs[i].Reason != want[i].Reason || rs[i].TransferSyntax != want[i].TransferSyntax {
			t.Errorf("result %d: %+v, want %+v", i, rs[i], want[i])
		}
	}
}

func TestUnknownInterfaceAndOpnum(t *testing.T) {
	tr, fid := testPipe(t, "srvsvc")
	out := transceive(t, tr, fid, bindPDU(1, ctxElem(0, dcerpc.WkssvcSyntax, dcerpc.NDR)), 4280)
	rs := results(t, out)
	if len(rs) != 1 || rs[0].Result != dcerpc.ProviderRejection || rs[0].Reason != uint16(dcerpc.AbstractSyntaxNotSupported) {
		t.Fatalf("%+v", rs)
	}
	tr, fid = testPipe(t, "srvsvc")
	transceive(t, tr, fid, bindPDU(1, ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR)), 4280)
	out = transceive(t, tr, fid, requestPDU(2, 0, 99, nil), 4280)
	var f dcerpc.Fault
	if err := f.Decode(out); err != nil || f.Status != dcerpc.NcaOpRngError || f.CallId != 2 {
		t.Fatalf("fault %+v %v", f, err)
	}
	out = transceive(t, tr, fid, requestPDU(3, 0, dcerpc.OpNetrShareGetInfo, []byte{1, 2, 3}), 4280)
	if err := f.Decode(out); err != nil || f.Status != dcerpc.NcaFaultNdr {
		t.Fatalf("fault %+v %v", f, err)
	}
	if st := tr.Create(&ntfs.Req{}, &smb2.CreateRequest{Name: utf16.FromString("lsarpc")}, &smb2.CreateResponse{}); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("lsarpc: %v", st)
	}
}

func call(t *testing.T, tr *Tree, fid smb2.FileId, callID uint32, opnum uint16, stub []byte, max int) []byte {
	t.Helper()
	out := transceive(t, tr, fid, requestPDU(callID, 0, opnum, stub), max)
	// join response fragments
	var full []byte
	for len(out) > 0 {
		var r dcerpc.Response
		if err := r.Decode(out); err != nil {
			t.Fatalf("response: %v (%x)", err, out[:min(len(out), 64)])
		}
		s, _ := r.ResponseStub()
		full = append(full, s...)
		out = out[r.Len():]
		if r.PfcFlags&dcerpc.PfcLastFrag == 0 && len(out) == 0 {
			var rr smb2.ReadResponse
			st := tr.Read(&ntfs.Req{}, &smb2.ReadRequest{FileId: fid, Length: uint32(max)}, &rr)
			if st != 0 && st != ntstatus.StatusBufferOverflow {
				t.Fatalf("read next fragment: %v", st)
			}
			out = append(out, rr.Data...)
			for st == ntstatus.StatusBufferOverflow {
				st = tr.Read(&ntfs.Req{}, &smb2.ReadRequest{FileId: fid, Length: uint32(max)}, &rr)
				out = append(out, rr.Data...)
			}
		}
	}
	return full
}

func TestShareEnumTree(t *testing.T) {
	tr, fid := testPipe(t, "srvsvc")
	transceive(t, tr, fid, bindPDU(1, ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR)), 4280)
	for _, level := range []uint32{0, 1, 2} {
		var e dcerpc.Encoder
		srv := `\\TESTSRV`
		h := uint32(0)
		(&dcerpc.NetrShareEnumRequest{ServerName: &srv, Level: level, PreferedMaximumLength: dcerpc.MaxPreferredLength, ResumeHandle: &h}).Encode(&e)
		stub := call(t, tr, fid, 2, dcerpc.OpNetrShareEnum, e.Bytes(), 4280)
		var resp dcerpc.NetrShareEnumResponse
		if err := resp.Decode(stub); err != nil {
			t.Fatal(err)
		}
		if resp.Result != 0 || resp.TotalEntries != 4 || len(resp.Shares) != 4 {
			t.Fatalf("level %d: %+v", level, resp)
		}
		if resp.Shares[1].Name != "hidden$" {
			t.Fatalf("level %d: %+v", level, resp.Shares)
		}
		if level > 0 && (resp.Shares[1].Type != dcerpc.STypeSpecial || resp.Shares[3].Type != dcerpc.STypeIPC|dcerpc.STypeSpecial || resp.Shares[0].Remark != "Public files") {
			t.Fatalf("level %d: %+v", level, resp.Shares)
		}
	}
}

func TestShareEnumResume(t *testing.T) {
	tr, fid := testPipe(t, "srvsvc")
	transceive(t, tr, fid, bindPDU(1, ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR)), 4280)
	var names []string
	h := uint32(0)
	for i := 0; i < 10; i++ {
		var e dcerpc.Encoder
		(&dcerpc.NetrShareEnumRequest{Level: 1, PreferedMaximumLength: 40, ResumeHandle: &h}).Encode(&e)
		var resp dcerpc.NetrShareEnumResponse
		if err := resp.Decode(call(t, tr, fid, uint32(2+i), dcerpc.OpNetrShareEnum, e.Bytes(), 4280)); err != nil {
			t.Fatal(err)
		}
		for _, s := range resp.Shares {
			names = append(names, s.Name)
		}
		if resp.Result != dcerpc.ErrorMoreData {
			break
		}
		h = *resp.ResumeHandle
	}
	if len(names) != 4 || names[0] != "public" || names[3] != "IPC$" {
		t.Fatalf("%v", names)
	}
}

func TestLargeResponseFragments(t *testing.T) {
	cfg := testConfig
	cfg.Shares = nil
	for i := 0; i < 300; i++ {
		cfg.Shares = append(cfg.Shares, ShareEntry{Name: "share" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Comment: "a rather long comment to make the response span several fragments"})
	}
	tr, _ := NewShare(cfg).Connect(context.Background(), ntfs.Identity{})
	var cr smb2.CreateResponse
	tr.Create(&ntfs.Req{}, &smb2.CreateRequest{Name: utf16.FromString("srvsvc")}, &cr)
	transceive(t, tr, cr.FileId, bindPDU(1, ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR)), 1024)
	var e dcerpc.Encoder
	(&dcerpc.NetrShareEnumRequest{Level: 1, PreferedMaximumLength: dcerpc.MaxPreferredLength}).Encode(&e)
	var resp dcerpc.NetrShareEnumResponse
	if err := resp.Decode(call(t, tr, cr.FileId, 2, dcerpc.OpNetrShareEnum, e.Bytes(), 1024)); err != nil {
		t.Fatal(err)
	}
	if len(resp.Shares) != 301 {
		t.Fatalf("%d shares", len(resp.Shares))
	}
}

func TestPipeFileOps(t *testing.T) {
	tr, fid := testPipe(t, "wkssvc")
	r := &ntfs.Req{}
	// READ with nothing pending does not block
	if st := tr.Read(r, &smb2.ReadRequest{FileId: fid, Length: 100}, &smb2.ReadResponse{}); st != ntstatus.StatusPipeEmpty {
		t.Fatalf("empty read: %v", st)
	}
	// WRITE a bind, then READ the answer in small pieces: BUFFER_OVERFLOW until its end
	var wr smb2.WriteResponse
	in := bindPDU(1, ctxElem(0, dcerpc.WkssvcSyntax, dcerpc.NDR))
	if st := tr.Write(r, &smb2.WriteRequest{FileId: fid, Data: in}, &wr); st != 0 || wr.Count != uint32(len(in)) {
		t.Fatalf("write: %v %d", st, wr.Count)
	}
	var qi smb2.QueryInfoResponse
	if st := tr.QueryInfo(r, &smb2.QueryInfoRequest{InfoType: smb2.InfoFile, FileInfoClass: uint8(fscc.ClassFilePipeLocalInformation), FileId: fid, OutputBufferLength: 100}, &qi); st != 0 {
		t.Fatalf("pipe local info: %v", st)
	}
	var pl fscc.FilePipeLocalInformation
	if err := pl.Decode(qi.OutputBuffer); err != nil || pl.NamedPipeType != fscc.PipeTypeMessage || pl.ReadDataAvailable == 0 || pl.NamedPipeState != fscc.PipeStateConnected {
		t.Fatalf("%+v %v", pl, err)
	}
	var peek smb2.IoctlResponse
	if st := tr.Ioctl(r, &smb2.IoctlRequest{CtlCode: fscc.FsctlPipePeek, FileId: fid, MaxOutputResponse: 16}, &peek); st != ntstatus.StatusBufferOverflow || len(peek.Output) != 16 {
		t.Fatalf("peek: %v %x", st, peek.Output)
	}
	var got []byte
	for {
		var rr smb2.ReadResponse
		st := tr.Read(r, &smb2.ReadRequest{FileId: fid, Length: 10}, &rr)
		got = append(got, rr.Data...)
		if st == ntstatus.StatusSuccess {
			break
		}
		if st != ntstatus.StatusBufferOverflow || len(rr.Data) != 10 {
			t.Fatalf("partial read: %v %d", st, len(rr.Data))
		}
	}
	if rs := results(t, got); len(rs) != 1 || rs[0].Result != dcerpc.Acceptance {
		t.Fatalf("%+v", rs)
	}
	// standard information as Windows gives it for a pipe
	if st := tr.QueryInfo(r, &smb2.QueryInfoRequest{InfoType: smb2.InfoFile, FileInfoClass: uint8(fscc.ClassFileStandardInformation), FileId: fid, OutputBufferLength: 100}, &qi); st != 0 {
		t.Fatalf("standard info: %v", st)
	}
	var si fscc.FileStandardInformation
	if si.Decode(qi.OutputBuffer); si.NumberOfLinks != 1 || si.DeletePending != 1 || si.AllocationSize != 4096 {
		t.Fatalf("%+v", si)
	}
	// WKSTA_INFO_100
	var e dcerpc.Encoder
	(&dcerpc.NetrWkstaGetInfoRequest{Level: 100}).Encode(&e)
	var wi dcerpc.NetrWkstaGetInfoResponse
	if err := wi.Decode(call(t, tr, fid, 2, dcerpc.OpNetrWkstaGetInfo, e.Bytes(), 4280)); err != nil || wi.Info == nil || wi.Info.ComputerName != "TESTSRV" || wi.Info.LanGroup != "WORKGROUP" {
		t.Fatalf("%+v %v", wi, err)
	}
	// PIPE_WAIT names a pipe
	wait := fscc.FsctlPipeWaitRequest{Name: utf16.FromString("srvsvc")}
	wb, _ := wait.Append(nil)
	if st := tr.Ioctl(r, &smb2.IoctlRequest{CtlCode: fscc.FsctlPipeWait, Input: wb}, &smb2.IoctlResponse{}); st != 0 {
		t.Fatalf("pipe wait: %v", st)
	}
	wait.Name = utf16.FromString("nosuch")
	wb, _ = wait.Append(nil)
	if st := tr.Ioctl(r, &smb2.IoctlRequest{CtlCode: fscc.FsctlPipeWait, Input: wb}, &smb2.IoctlResponse{}); st != ntstatus.StatusObjectNameNotFound {
		t.Fatalf("pipe wait nosuch: %v", st)
	}
	if st := tr.Close(r, &smb2.CloseRequest{FileId: fid}, &smb2.CloseResponse{}); st != 0 {
		t.Fatalf("close: %v", st)
	}
	if st := tr.Read(r, &smb2.ReadRequest{FileId: fid, Length: 10}, &smb2.ReadResponse{}); st != ntstatus.StatusFileClosed {
		t.Fatalf("read after close: %v", st)
	}
}

func TestFragmentedRequestAndAlterContext(t *testing.T) {
	tr, fid := testPipe(t, "srvsvc")
	transceive(t, tr, fid, bindPDU(1, ctxElem(0, dcerpc.WkssvcSyntax, dcerpc.NDR)), 4280)
	// alter_context adds srvsvc as context 1
	ac := dcerpc.AlterContext{PfcFlags: dcerpc.PfcFirstFrag | dcerpc.PfcLastFrag, Drep: dcerpc.DrepLE, CallId: 2, MaxXmitFrag: 4280, MaxRecvFrag: 4280}
	c := ctxElem(1, dcerpc.SrvsvcSyntax, dcerpc.NDR64, dcerpc.NDR)
	ac.ContextElems.Add(&c)
	in, _ := ac.Append(nil)
	out := transceive(t, tr, fid, in, 4280)
	var acr dcerpc.AlterContextResp
	if err := acr.Decode(out); err != nil || len(acr.SecAddr) != 0 {
		t.Fatalf("alter_context_resp: %v %+v", err, acr)
	}
	var rl dcerpc.PResultList
	rl.Decode(acr.ResultList)
	it := rl.Results.Iter()
	if !it.Next() || it.Value().Result != dcerpc.Acceptance || !it.Value().TransferSyntax.Same(dcerpc.NDR) {
		t.Fatalf("alter_context result")
	}
	// a NetrShareGetInfo request in three fragments, written separately
	var e dcerpc.Encoder
	(&dcerpc.NetrShareGetInfoRequest{NetName: "DOCS", Level: 501}).Encode(&e)
	stub := e.Bytes()
	parts := [][]byte{stub[:8], stub[8:16], stub[16:]}
	for i, p := range parts {
		flags := dcerpc.PfcFlags(0)
		if i == 0 {
			flags |= dcerpc.PfcFirstFrag
		}
		if i == len(parts)-1 {
			flags |= dcerpc.PfcLastFrag
		}
		r := dcerpc.Request{PfcFlags: flags, Drep: dcerpc.DrepLE, CallId: 3, PContId: 1, Opnum: dcerpc.OpNetrShareGetInfo, Body: p}
		b, _ := r.Append(nil)
		if st := tr.Write(&ntfs.Req{}, &smb2.WriteRequest{FileId: fid, Data: b}, &smb2.WriteResponse{}); st != 0 {
			t.Fatal(st)
		}
	}
	var rr smb2.ReadResponse
	if st := tr.Read(&ntfs.Req{}, &smb2.ReadRequest{FileId: fid, Length: 4280}, &rr); st != 0 {
		t.Fatal(st)
	}
	var resp dcerpc.Response
	if err := resp.Decode(rr.Data); err != nil {
		t.Fatal(err)
	}
	var gi dcerpc.NetrShareGetInfoResponse
	s, _ := resp.ResponseStub()
	if err := gi.Decode(s); err != nil || gi.Share == nil || gi.Share.Name != "docs" || gi.Share.Remark != "Documents" {
		t.Fatalf("%+v %v", gi, err)
	}
	// an authenticated bind on a new pipe is refused with bind_nak
	tr, fid = testPipe(t, "srvsvc")
	b := dcerpc.Bind{PfcFlags: dcerpc.PfcFirstFrag | dcerpc.PfcLastFrag, Drep: dcerpc.DrepLE, CallId: 1, MaxXmitFrag: 4280, MaxRecvFrag: 4280, AuthLength: 8,
		AuthVerifier: []byte{10, 2, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}}
	c = ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR)
	b.ContextElems.Add(&c)
	in, _ = b.Append(nil)
	out = transceive(t, tr, fid, in, 4280)
	var nak dcerpc.BindNak
	if err := nak.Decode(out); err != nil || nak.ProviderRejectReason != dcerpc.RejectAuthenticationTypeNotRecognized {
		t.Fatalf("bind_nak: %v %+v", err, nak)
	}
}
