package server

import (
	"testing"

	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
)

// FSCTL_PIPE_WAIT is sent on the IPC$ tree with the all-0xFF FileId outside any compound: it
// reaches the pipe tree instead of being refused as a closed file.
func TestPipeWaitAnyFileID(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := signedIn(t, addr, smb2.Dialect311, 0)
	if st := c.treeConnect("IPC$"); st != 0 {
		t.Fatal(st)
	}
	for _, tc := range []struct {
		pipe string
		want ntstatus.Status
	}{{"srvsvc", 0}, {"wkssvc", 0}, {"nosuch", ntstatus.StatusObjectNameNotFound}} {
		w := fscc.FsctlPipeWaitRequest{Name: utf16.FromString(tc.pipe)}
		in, _ := w.Append(nil)
		req := &smb2.IoctlRequest{CtlCode: fscc.FsctlPipeWait, FileId: anyFileID, Flags: 1, Input: in}
		r, err := c.do(smb2.CommandIoctl, req)
		if err != nil {
			t.Fatal(err)
		}
		if r.hdr.Status != tc.want {
			t.Errorf("PIPE_WAIT %s: %v, want %v", tc.pipe, r.hdr.Status, tc.want)
		}
	}
	// Other FSCTLs still need an open: all 0xFF outside a compound is a closed file.
	r, err := c.do(smb2.CommandIoctl, &smb2.IoctlRequest{CtlCode: fscc.FsctlPipeTransceive, FileId: anyFileID, Flags: 1, MaxOutputResponse: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if r.hdr.Status != ntstatus.StatusFileClosed {
		t.Errorf("PIPE_TRANSCEIVE on no open: %v, want FILE_CLOSED", r.hdr.Status)
	}
}
