package server

import (
	"encoding/binary"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

// noPasswordAuthenticate is the AUTHENTICATE_MESSAGE smbclient and rpcclient -N send for a
// user name without a password: LM response one zero byte, no NT response.
func noPasswordAuthenticate(challenge []byte, user string) []byte {
	fields := [][]byte{{0}, nil, nil, utf16le(user), nil, nil}
	b := make([]byte, 64)
	copy(b, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(b[8:], 3)
	off := 64
	for i, f := range fields {
		p := 12 + 8*i
		binary.LittleEndian.PutUint16(b[p:], uint16(len(f)))
		binary.LittleEndian.PutUint16(b[p+2:], uint16(len(f)))
		binary.LittleEndian.PutUint32(b[p+4:], uint32(off))
		off += len(f)
	}
	binary.LittleEndian.PutUint32(b[60:], binary.LittleEndian.Uint32(challenge[20:]))
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

// guestLogin runs SESSION_SETUP (raw NTLMSSP) with the client requiring signing, and returns
// the final response. noPassword sends no NT response at all.
func (c *testClient) guestLogin(user, password string, noPassword bool) *testResp {
	c.t.Helper()
	req := smb2.SessionSetupRequest{SecurityMode: smb2.SessionSetupSecurityModeSigningRequired, SecurityBuffer: ntlmNegotiate()}
	r := c.must(smb2.CommandSessionSetup, &req, ntstatus.StatusMoreProcessingRequired)
	c.sid = r.hdr.SessionId
	var resp smb2.SessionSetupResponse
	if err := resp.Decode(r.msg, 0); err != nil {
		c.t.Fatal(err)
	}
	if noPassword {
		req.SecurityBuffer = noPasswordAuthenticate(resp.SecurityBuffer, user)
	} else {
		auth, _, err := ntlmAuthenticate(resp.SecurityBuffer, user, password)
		if err != nil {
			c.t.Fatal(err)
		}
		req.SecurityBuffer = auth
	}
	r, err := c.do(smb2.CommandSessionSetup, &req)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

func sessionFlagsOf(t *testing.T, r *testResp) smb2.SessionFlags {
	t.Helper()
	var resp smb2.SessionSetupResponse
	if err := resp.Decode(r.msg, 0); err != nil {
		t.Fatal(err)
	}
	return resp.SessionFlags
}

func unsigned(t *testing.T, what string, r *testResp) {
	t.Helper()
	if r.hdr.Flags.Has(smb2.FlagsSigned) {
		t.Errorf("%s: response signed", what)
	}
	for _, b := range r.msg[48:64] {
		if b != 0 {
			t.Errorf("%s: signature field not zero: % x", what, r.msg[48:64])
			break
		}
	}
}

// A guest or anonymous session has no session key: neither the final SESSION_SETUP response
// nor any later response is signed, even when the client asks for signing (MS-SMB2 3.3.5.5.3
// step 12, as Samba and Windows), and unsigned requests are accepted.
func TestGuestSessionsDoNotSign(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers(), Guest: true, Anonymous: true, MapUnknownToGuest: true})
	for _, d := range []smb2.Dialect{smb2.Dialect210, smb2.Dialect300, smb2.Dialect311} {
		for _, tc := range []struct {
			name, user, password string
			noPassword           bool
			want                 smb2.SessionFlags
		}{
			{"guest", "guest", "", false, smb2.SessionFlagIsGuest},
			{"unknown user", "nobody", "whatever", false, smb2.SessionFlagIsGuest},
			{"no password", "root", "", true, smb2.SessionFlagIsGuest},
			{"anonymous", "", "", false, smb2.SessionFlagIsNull},
		} {
			t.Run(d.String()+" "+tc.name, func(t *testing.T) {
				c := dial(t, addr)
				c.negotiate(d, smb2.CipherAES128GCM)
				r := c.guestLogin(tc.user, tc.password, tc.noPassword)
				if r.hdr.Status != 0 {
					t.Fatalf("session setup: %v", r.hdr.Status)
				}
				if f := sessionFlagsOf(t, r); f != tc.want {
					t.Errorf("session flags %#x, want %#x", f, tc.want)
				}
				unsigned(t, "SESSION_SETUP", r)
				r = c.must(smb2.CommandTreeConnect, &smb2.TreeConnectRequest{Path: utf16le(`\\127.0.0.1\test`)}, 0)
				unsigned(t, "TREE_CONNECT", r)
				c.tid = r.hdr.TreeId
				r = c.must(smb2.CommandCreate, createReq("g.txt"), 0)
				unsigned(t, "CREATE", r)
			})
		}
	}
}

// A user name the server does not know, with no password (smbclient or rpcclient -N with the
// local user name), becomes a guest session when guests are allowed, an anonymous one when
// only anonymous logons are, and fails otherwise; a known user without a password fails.
func TestNoPasswordUnknownUser(t *testing.T) {
	for _, tc := range []struct {
		name             string
		guest, anonymous bool
		user             string
		status           ntstatus.Status
		flags            smb2.SessionFlags
	}{
		{"guest allowed", true, false, "root", 0, smb2.SessionFlagIsGuest},
		{"anonymous only", false, true, "root", 0, smb2.SessionFlagIsNull},
		{"neither", false, false, "root", ntstatus.StatusLogonFailure, 0},
		{"known user", true, true, "alice", ntstatus.StatusLogonFailure, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers(), Guest: tc.guest, Anonymous: tc.anonymous})
			c := dial(t, addr)
			c.negotiate(smb2.Dialect311, 0)
			r := c.guestLogin(tc.user, "", true)
			if r.hdr.Status != tc.status {
				t.Fatalf("status %v, want %v", r.hdr.Status, tc.status)
			}
			if tc.status == 0 {
				if f := sessionFlagsOf(t, r); f != tc.flags {
					t.Errorf("session flags %#x, want %#x", f, tc.flags)
				}
				if st := c.treeConnect("test"); st != 0 {
					t.Errorf("tree connect: %v", st)
				}
			}
		})
	}
}
