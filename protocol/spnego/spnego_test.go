package spnego

import (
	"bufio"
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type blob struct {
	capture string
	frame   int
	c2s     bool
	data    []byte
}

// readBlobs reads testdata/blobs.txt: the security buffers of the NEGOTIATE and
// SESSION_SETUP messages of sv_smb311_samba-smbclient_to_win10_ipc.pcap (Samba smbclient ->
// Windows 10 2004) and arkime_smb311_win10_to_win10_share_browse.pcap (Windows 10 1511 ->
// Windows 10 1511), extracted by testdata/gen.sh with tshark -e smb2.security_blob.
func readBlobs(t *testing.T) []blob {
	f, err := os.Open(filepath.Join("testdata", "blobs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []blob
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var b blob
		var dir, hx string
		if _, err := fmt.Sscan(sc.Text(), &b.capture, &b.frame, &dir, &hx); err != nil {
			t.Fatal(err)
		}
		b.c2s = dir == "c2s"
		b.data = unhex(t, hx)
		out = append(out, b)
	}
	return out
}

func oids(list ...asn1.ObjectIdentifier) []asn1.ObjectIdentifier { return list }

func equalOIDs(a, b []asn1.ObjectIdentifier) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// Every captured token decodes, re-encodes to the same bytes (Windows and Samba write
// canonical DER), and has the shape its place in the exchange calls for.
func TestCaptureBlobs(t *testing.T) {
	blobs := readBlobs(t)
	if len(blobs) < 30 {
		t.Fatalf("%d blobs", len(blobs))
	}
	kinds := map[string]int{}
	for _, b := range blobs {
		name := fmt.Sprintf("%s frame %d", b.capture, b.frame)
		switch b.data[0] {
		case tagApplication0:
			init, err := DecodeInit(b.data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := init.Marshal(); !bytes.Equal(got, b.data) {
				t.Errorf("%s: re-encoded\n got %x\nwant %x", name, got, b.data)
			}
			if !bytes.Equal(init.RawMechTypes, EncodeMechTypes(init.MechTypes...)) {
				t.Errorf("%s: RawMechTypes", name)
			}
			switch {
			case b.c2s: // client's first token: NTLMSSP with an optimistic NEGOTIATE_MESSAGE
				if !equalOIDs(init.MechTypes, oids(OIDNTLMSSP)) || !bytes.HasPrefix(init.MechToken, []byte("NTLMSSP\x00\x01")) {
					t.Errorf("%s: %+v", name, init)
				}
				kinds["client init"]++
			case init.NegHints != nil: // Windows 10 2004's NegTokenInit2
				want := oids(OIDNegoEx, OIDMSKerberos5, OIDKerberos5, OIDKerberos5U2U, OIDNTLMSSP)
				if !equalOIDs(init.MechTypes, want) || init.NegHints.HintName == nil || *init.NegHints.HintName != HintName {
					t.Errorf("%s: %+v", name, init)
				}
				if got := NegotiateHint(want...); !bytes.Equal(got, b.data) {
					t.Errorf("%s: NegotiateHint\n got %x\nwant %x", name, got, b.data)
				}
				kinds["negTokenInit2"]++
			default: // Windows 10 1511's NEGOTIATE hint: NEGOEX and NTLMSSP, a NEGOEX token
				if !equalOIDs(init.MechTypes, oids(OIDNegoEx, OIDNTLMSSP)) || !bytes.HasPrefix(init.MechToken, []byte("NEGOEXTS")) {
					t.Errorf("%s: %+v", name, init)
				}
				kinds["negoex init"]++
			}
		case tagContext(1):
			resp, err := DecodeResp(b.data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := resp.Marshal(); !bytes.Equal(got, b.data) {
				t.Errorf("%s: re-encoded\n got %x\nwant %x", name, got, b.data)
			}
			switch {
			case !b.c2s && resp.ResponseToken != nil: // CHALLENGE
				if resp.NegState != NegStateAcceptIncomplete || !resp.SupportedMech.Equal(OIDNTLMSSP) ||
					!bytes.HasPrefix(resp.ResponseToken, []byte("NTLMSSP\x00\x02")) {
					t.Errorf("%s: %+v", name, resp)
				}
				kinds["challenge"]++
			case b.c2s: // AUTHENTICATE with mechListMIC
				if !bytes.HasPrefix(resp.ResponseToken, []byte("NTLMSSP\x00\x03")) || len(resp.MechListMIC) != 16 ||
					resp.SupportedMech != nil {
					t.Errorf("%s: %+v", name, resp)
				}
				kinds["authenticate"]++
			default: // accept-completed with the server's mechListMIC
				if resp.NegState != NegStateAcceptCompleted || len(resp.MechListMIC) != 16 || resp.ResponseToken != nil {
					t.Errorf("%s: %+v", name, resp)
				}
				kinds["accept-completed"]++
			}
		default:
			t.Errorf("%s: unexpected token %x", name, b.data[:4])
		}
	}
	for _, k := range []string{"client init", "negTokenInit2", "negoex init", "challenge", "authenticate", "accept-completed"} {
		if kinds[k] == 0 {
			t.Errorf("no %s token seen", k)
		}
	}
}

// NegotiateHint with the default mechanism list, decoded back.
func TestNegotiateHint(t *testing.T) {
	h := NegotiateHint()
	init, err := DecodeInit(h)
	if err != nil {
		t.Fatal(err)
	}
	if !init.Framed || !equalOIDs(init.MechTypes, oids(OIDNTLMSSP)) || *init.NegHints.HintName != HintName || init.MechListMIC != nil {
		t.Errorf("%+v", init)
	}
	if !bytes.Equal(init.Marshal(), h) {
		t.Error("NegotiateHint does not round-trip")
	}
}

// Tokens built field by field decode to the same fields, including the RFC 4178 form of
// NegTokenInit (mechListMIC at [3]) and NegTokenInit2 with a mechListMIC at [4].
func TestRoundTrip(t *testing.T) {
	name := "host$@REALM"
	for _, in := range []*NegTokenInit{
		{MechTypes: oids(OIDKerberos5, OIDNTLMSSP), ReqFlags: []byte{1, 0x80}, MechToken: []byte("tok"), MechListMIC: []byte("mic")},
		{MechTypes: oids(OIDNTLMSSP), NegHints: &NegHints{HintName: &name, HintAddress: []byte{1, 2}}, MechListMIC: []byte("m")},
		{MechTypes: []asn1.ObjectIdentifier{}, MechToken: []byte{}},
		{MechTypes: oids(OIDNTLMSSP), MechToken: bytes.Repeat([]byte{0xaa}, 70000)},
	} {
		b := in.Marshal()
		out, err := DecodeInit(b)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		if !equalOIDs(out.MechTypes, in.MechTypes) || !bytes.Equal(out.ReqFlags, in.ReqFlags) ||
			!bytes.Equal(out.MechToken, in.MechToken) || (out.MechToken == nil) != (in.MechToken == nil) ||
			!bytes.Equal(out.MechListMIC, in.MechListMIC) || (out.NegHints == nil) != (in.NegHints == nil) {
			t.Errorf("round trip %+v -> %+v", in, out)
		}
		if in.NegHints != nil && (*out.NegHints.HintName != name || !bytes.Equal(out.NegHints.HintAddress, []byte{1, 2})) {
			t.Errorf("hints %+v", out.NegHints)
		}
		if !bytes.Equal(out.Marshal(), b) {
			t.Error("re-encoding differs")
		}
	}
	for _, in := range []*NegTokenResp{
		{NegState: NegStateAbsent},
		{NegState: NegStateRequestMIC, SupportedMech: OIDNTLMSSP},
		{NegState: NegStateAcceptIncomplete, SupportedMech: OIDNTLMSSP, ResponseToken: []byte("x"), MechListMIC: []byte("y")},
		{NegState: NegStateReject, ResponseToken: []byte{}},
	} {
		b := in.Marshal()
		out, err := DecodeResp(b)
		if err != nil {
			t.Fatal(err)
		}
		if out.NegState != in.NegState || !out.SupportedMech.Equal(in.SupportedMech) || !bytes.Equal(out.ResponseToken, in.ResponseToken) ||
			(out.ResponseToken == nil) != (in.ResponseToken == nil) || !bytes.Equal(out.MechListMIC, in.MechListMIC) {
			t.Errorf("round trip %+v -> %+v", in, out)
		}
	}
	if got := hex.EncodeToString(AcceptCompleted()); got != "a1073005a0030a0100" {
		t.Errorf("AcceptCompleted %s", got)
	}
	if got := hex.EncodeToString(Reject()); got != "a1073005a0030a0102" {
		t.Errorf("Reject %s", got)
	}
}

func TestMalformed(t *testing.T) {
	good := (&NegTokenInit{MechTypes: oids(OIDNTLMSSP), MechToken: []byte("x")}).Marshal()
	for _, b := range [][]byte{
		nil, {0x60}, {0x60, 0x80, 0, 0}, // indefinite length
		{0x60, 0x85, 1, 2, 3, 4, 5},                            // 5-byte length
		append(bytes.Clone(good), 0),                           // trailing byte
		good[:len(good)-1],                                     // truncated
		{0x60, 0x08, 0x06, 0x06, 0x2b, 6, 1, 5, 5, 3, 0xa0, 0}, // wrong OID
		{0xa1, 0x03, 0x30, 0x01, 0x00},                         // a NegTokenResp
		{0x7f, 0x81, 0x01, 0x00},                               // multi-byte tag
	} {
		if _, err := DecodeInit(b); err == nil {
			t.Errorf("DecodeInit(%x) accepted", b)
		}
	}
	for _, b := range [][]byte{
		nil, {0xa1, 0x00}, {0xa1, 0x02, 0x30, 0x00, 0x00},
		{0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x04},                   // negState 4
		{0xa1, 0x0a, 0x30, 0x08, 0xa2, 0x02, 0x04, 0x00, 0xa0, 0x02, 0x0a, 0x00}, // out of order
		{0xa1, 0x06, 0x30, 0x04, 0xa2, 0x02, 0x05, 0x00},                         // token not an OCTET STRING
	} {
		if _, err := DecodeResp(b); err == nil {
			t.Errorf("DecodeResp(%x) accepted", b)
		}
	}
}

// The Acceptor against the ntlm package's test client, through SPNEGO, with and without an
// optimistic token, with Kerberos preferred (request-mic), and in raw NTLMSSP.
func TestAcceptorRoundTrip(t *testing.T) {
	srv := &ntlm.Server{Users: ntlm.Users{"alice": ntlm.NTHash("pw")}, Domain: "WG", Computer: "SRV"}
	for _, mode := range []string{"optimistic", "deferred", "kerberos first", "raw"} {
		t.Run(mode, func(t *testing.T) {
			c := &ntlm.Client{User: "alice", Password: "pw"}
			a := NewAcceptor(srv)
			mechs := oids(OIDNTLMSSP)
			if mode == "kerberos first" {
				mechs = oids(OIDMSKerberos5, OIDNTLMSSP)
			}
			init := &NegTokenInit{MechTypes: mechs}
			var challenge []byte
			switch mode {
			case "raw":
				out, done, err := a.Step(c.Negotiate())
				if err != nil || done || !bytes.HasPrefix(out, []byte("NTLMSSP\x00\x02")) {
					t.Fatalf("raw negotiate: %x %v %v", out, done, err)
				}
				auth, _ := c.Authenticate(out)
				out, done, err = a.Step(auth)
				if err != nil || !done || out != nil || !bytes.Equal(a.Result().SessionKey, c.SessionKey) {
					t.Fatalf("raw authenticate: %x %v %v", out, done, err)
				}
				return
			case "optimistic":
				init.MechToken = c.Negotiate()
			case "kerberos first":
				init.MechToken = []byte("a Kerberos AP-REQ")
			}
			out, done, err := a.Step(init.Marshal())
			if err != nil || done {
				t.Fatal(err)
			}
			resp, err := DecodeResp(out)
			if err != nil {
				t.Fatal(err)
			}
			if mode != "optimistic" {
				wantState := NegStateAcceptIncomplete
				if mode == "kerberos first" {
					wantState = NegStateRequestMIC
				}
				if resp.NegState != wantState || !resp.SupportedMech.Equal(OIDNTLMSSP) || resp.ResponseToken != nil {
					t.Fatalf("selection: %+v", resp)
				}
				out, _, err = a.Step((&NegTokenResp{NegState: NegStateAcceptIncomplete, ResponseToken: c.Negotiate()}).Marshal())
				if err != nil {
					t.Fatal(err)
				}
				if resp, err = DecodeResp(out); err != nil {
					t.Fatal(err)
				}
			}
			if resp.NegState != NegStateAcceptIncomplete || !resp.SupportedMech.Equal(OIDNTLMSSP) {
				t.Fatalf("challenge: %+v", resp)
			}
			challenge = resp.ResponseToken
			auth, err := c.Authenticate(challenge)
			if err != nil {
				t.Fatal(err)
			}
			// The client's mechListMIC over the MechTypeList it sent.
			cs, _ := ntlm.NewSession(c.SessionKey, c.NegotiatedFlags, false)
			mic := cs.Sign(EncodeMechTypes(mechs...))
			out, done, err = a.Step((&NegTokenResp{NegState: NegStateAcceptIncomplete, ResponseToken: auth, MechListMIC: mic[:]}).Marshal())
			if err != nil || !done {
				t.Fatalf("authenticate: %v", err)
			}
			final, err := DecodeResp(out)
			if err != nil || final.NegState != NegStateAcceptCompleted {
				t.Fatalf("final: %+v %v", final, err)
			}
			if err := cs.Verify(EncodeMechTypes(mechs...), final.MechListMIC); err != nil {
				t.Errorf("server mechListMIC: %v", err)
			}
			if res := a.Result(); res.User != "alice" || !bytes.Equal(res.SessionKey, c.SessionKey) {
				t.Errorf("result %+v", res)
			}
			if _, _, err := a.Step(out); err != ErrUnexpectedToken {
				t.Errorf("step after done: %v", err)
			}
		})
	}
}

func TestAcceptorFailures(t *testing.T) {
	srv := &ntlm.Server{Users: ntlm.Users{"alice": ntlm.NTHash("pw")}, Domain: "WG", Computer: "SRV"}
	exchange := func(c *ntlm.Client, mechs []asn1.ObjectIdentifier, mic func(key []byte, flags uint32) []byte) (*Acceptor, []byte, error) {
		a := NewAcceptor(srv)
		init := &NegTokenInit{MechTypes: mechs, MechToken: c.Negotiate()}
		if !mechs[0].Equal(OIDNTLMSSP) {
			init.MechToken = nil
		}
		out, _, err := a.Step(init.Marshal())
		if err != nil {
			return a, out, err
		}
		resp, _ := DecodeResp(out)
		if resp.ResponseToken == nil {
			out, _, _ = a.Step((&NegTokenResp{ResponseToken: c.Negotiate()}).Marshal())
			resp, _ = DecodeResp(out)
		}
		auth, _ := c.Authenticate(resp.ResponseToken)
		var m []byte
		if mic != nil {
			m = mic(c.SessionKey, c.NegotiatedFlags)
		}
		out, _, err = a.Step((&NegTokenResp{ResponseToken: auth, MechListMIC: m}).Marshal())
		return a, out, err
	}
	good := func(mechs []asn1.ObjectIdentifier) func([]byte, uint32) []byte {
		return func(key []byte, flags uint32) []byte {
			s, _ := ntlm.NewSession(key, flags, false)
			sig := s.Sign(EncodeMechTypes(mechs...))
			return sig[:]
		}
	}
	ntlmOnly := oids(OIDNTLMSSP)
	krbFirst := oids(OIDKerberos5, OIDNTLMSSP)

	if _, _, err := exchange(&ntlm.Client{User: "alice", Password: "bad"}, ntlmOnly, good(ntlmOnly)); err != ntlm.ErrLogonFailure {
		t.Errorf("wrong password: %v", err)
	}
	a, _, err := exchange(&ntlm.Client{User: "bob", Password: "pw"}, ntlmOnly, good(ntlmOnly))
	if err != ntlm.ErrUnknownUser || a.Result() == nil || a.Result().User != "bob" {
		t.Errorf("unknown user: %v", err)
	}
	// A mechListMIC over another list (the client saw a different list: a downgrade).
	if _, out, err := exchange(&ntlm.Client{User: "alice", Password: "pw"}, krbFirst, good(ntlmOnly)); err != ErrMechListMIC || !bytes.Equal(out, Reject()) {
		t.Errorf("MIC over another list: %v", err)
	}
	// NTLM not first and no mechListMIC: required, refused.
	if _, _, err := exchange(&ntlm.Client{User: "alice", Password: "pw"}, krbFirst, nil); err != ErrMechListMIC {
		t.Errorf("missing required MIC: %v", err)
	}
	// NTLM first and no mechListMIC: accepted, and the server sends none.
	_, out, err := exchange(&ntlm.Client{User: "alice", Password: "pw"}, ntlmOnly, nil)
	if err != nil {
		t.Fatalf("no MIC, NTLM first: %v", err)
	}
	if final, _ := DecodeResp(out); final.MechListMIC != nil {
		t.Error("server sent a mechListMIC the client did not ask for")
	}
	// Anonymous.
	a, out, err = exchange(&ntlm.Client{Anonymous: true}, ntlmOnly, nil)
	if err != nil || !a.Result().Anonymous || !bytes.Equal(out, AcceptCompleted()) {
		t.Errorf("anonymous: %v", err)
	}
	// No NTLMSSP offered.
	a = NewAcceptor(srv)
	if out, _, err := a.Step((&NegTokenInit{MechTypes: oids(OIDKerberos5)}).Marshal()); err != ErrNoCommonMech || !bytes.Equal(out, Reject()) {
		t.Errorf("no common mech: %v", err)
	}
}

func FuzzDecodeInit(f *testing.F) {
	f.Add(NegotiateHint())
	f.Add((&NegTokenInit{MechTypes: oids(OIDKerberos5, OIDNTLMSSP), ReqFlags: []byte{0}, MechToken: []byte("t"), MechListMIC: []byte("m")}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		init, err := DecodeInit(b)
		if err != nil {
			return
		}
		// What decodes re-encodes into something that decodes to the same fields.
		again, err := DecodeInit(init.Marshal())
		if err != nil || !equalOIDs(again.MechTypes, init.MechTypes) || !bytes.Equal(again.MechToken, init.MechToken) ||
			!bytes.Equal(again.MechListMIC, init.MechListMIC) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeResp(f *testing.F) {
	f.Add(AcceptCompleted())
	f.Add((&NegTokenResp{NegState: NegStateAcceptIncomplete, SupportedMech: OIDNTLMSSP, ResponseToken: []byte("x"), MechListMIC: []byte("y")}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := DecodeResp(b)
		if err != nil {
			return
		}
		again, err := DecodeResp(resp.Marshal())
		if err != nil || again.NegState != resp.NegState || !bytes.Equal(again.ResponseToken, resp.ResponseToken) ||
			!bytes.Equal(again.MechListMIC, resp.MechListMIC) || !again.SupportedMech.Equal(resp.SupportedMech) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// FuzzAcceptor: arbitrary token sequences never panic the Acceptor nor authenticate anyone.
func FuzzAcceptor(f *testing.F) {
	c := &ntlm.Client{User: "alice", Password: "pw"}
	f.Add((&NegTokenInit{MechTypes: oids(OIDNTLMSSP), MechToken: c.Negotiate()}).Marshal(), []byte{0xa1, 0x00})
	f.Add(c.Negotiate(), []byte("NTLMSSP\x00\x03\x00\x00\x00"))
	srv := &ntlm.Server{Users: ntlm.Users{"alice": ntlm.NTHash("pw")}}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		a := NewAcceptor(srv)
		a.Step(first)
		_, done, err := a.Step(second)
		if err == nil && done && !a.Result().Anonymous {
			t.Fatalf("authenticated %q", a.Result().User)
		}
	})
}
