package ipc

import (
	"testing"

	"github.com/smbvfs/smbvfs/protocol/dcerpc"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// FuzzPipe writes arbitrary bytes to a srvsvc pipe (bound or not) and reads what it
// answers: never a panic, and every answer is a whole PDU.
func FuzzPipe(f *testing.F) {
	var e dcerpc.Encoder
	(&dcerpc.NetrShareEnumRequest{Level: 1, PreferedMaximumLength: dcerpc.MaxPreferredLength}).Encode(&e)
	f.Add(true, requestPDU(2, 0, dcerpc.OpNetrShareEnum, e.Bytes()))
	f.Add(true, requestPDU(2, 0, dcerpc.OpNetrShareGetInfo, []byte{0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 'a', 0, 0, 0, 0xf6, 1, 0, 0}))
	f.Add(false, bindPDU(1, ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR, dcerpc.NDR64)))
	f.Fuzz(func(t *testing.T, bound bool, in []byte) {
		tr, _ := NewShare(testConfig).Connect(t.Context(), ntfs.Identity{})
		var cr smb2.CreateResponse
		tr.Create(&ntfs.Req{}, &smb2.CreateRequest{Name: []byte("s\x00r\x00v\x00s\x00v\x00c\x00")}, &cr)
		w := func(b []byte) {
			tr.Write(&ntfs.Req{}, &smb2.WriteRequest{FileId: cr.FileId, Data: b}, &smb2.WriteResponse{})
		}
		if bound {
			w(bindPDU(1, ctxElem(0, dcerpc.SrvsvcSyntax, dcerpc.NDR)))
		}
		w(in)
		for {
			var rr smb2.ReadResponse
			st := tr.Read(&ntfs.Req{}, &smb2.ReadRequest{FileId: cr.FileId, Length: 1 << 16}, &rr)
			if st != 0 {
				break
			}
			if _, err := dcerpc.DecodePDU(rr.Data); err != nil {
				t.Fatalf("answer is not a PDU: %v (%x)", err, rr.Data)
			}
		}
	})
}
