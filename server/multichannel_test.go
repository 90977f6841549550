package server

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/fscc"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// The server announces SMB2_GLOBAL_CAP_MULTI_CHANNEL for 3.x and answers
// FSCTL_QUERY_NETWORK_INTERFACE_INFO, but refuses to bind a session to a second
// connection: the client gets a clean error and its first channel keeps working.
func TestMultiChannelBindingRefused(t *testing.T) {
	for _, d := range []smb2.Dialect{smb2.Dialect300, smb2.Dialect302, smb2.Dialect311} {
		t.Run(d.String(), func(t *testing.T) {
			_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
			c := signedIn(t, addr, d, smb2.CipherAES128GCM)
			if st := c.treeConnect("test"); st != 0 {
				t.Fatalf("tree connect: %v", st)
			}
			r := c.must(smb2.CommandIoctl, &smb2.IoctlRequest{CtlCode: fscc.FsctlQueryNetworkInterfaceInfo,
				FileId: anyFileID, MaxOutputResponse: 65536, Flags: smb2.IoctlIsFsctl}, 0)
			var ir smb2.IoctlResponse
			if err := ir.Decode(r.msg, 0); err != nil {
				t.Fatal(err)
			}
			if len(ir.Output) < 152 || binary.LittleEndian.Uint16(ir.Output[24:]) != 2 ||
				!net.IP(ir.Output[28:32]).Equal(net.IPv4(127, 0, 0, 1)) {
				t.Fatalf("interface info % x", ir.Output)
			}

			c2 := dial(t, addr)
			c2.negotiate(d, smb2.CipherAES128GCM)
			c2.sid, c2.signer, c2.sign = c.sid, c.signer, true
			req := smb2.SessionSetupRequest{Flags: smb2.SessionSetupFlagBinding,
				SecurityMode: smb2.SessionSetupSecurityModeSigningEnabled, SecurityBuffer: ntlmNegotiate()}
			r2, err := c2.do(smb2.CommandSessionSetup, &req)
			if err != nil {
				t.Fatal(err)
			}
			if r2.hdr.Status != ntstatus.StatusRequestNotAccepted {
				t.Errorf("binding: %v, want STATUS_REQUEST_NOT_ACCEPTED", r2.hdr.Status)
			}
			c2.sign = false
			c2.must(smb2.CommandEcho, &smb2.EchoRequest{}, 0)

			r = c.must(smb2.CommandCreate, createReq("a.txt"), 0)
			var cr smb2.CreateResponse
			if err := cr.Decode(r.msg, 0); err != nil {
				t.Fatal(err)
			}
			c.must(smb2.CommandClose, &smb2.CloseRequest{FileId: cr.FileId}, 0)
			c.must(smb2.CommandLogoff, &smb2.LogoffRequest{}, 0)
		})
	}
}
