package server

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/wire"
)

// testClient is a minimal SMB2 client for the engine's tests: it speaks raw NTLMSSP,
// signs with the smb3 package and can encrypt.
type testClient struct {
	t       *testing.T
	nc      net.Conn
	mid     uint64
	dialect smb2.Dialect
	sid     uint64
	tid     uint32
	signer  *smb3.Signer
	enc     *smb3.Encrypter // client to server: the server's decryption key
	dec     *smb3.Decrypter
	sign    bool
	encrypt bool
	preauth smb3.PreauthHash
	cipher  smb2.CipherId
	keys    *smb3.Keys // of the last login with a password
}

type testResp struct {
	hdr  smb2.Header
	msg  []byte // header + body
	body []byte
}

// startServer runs srv on a loopback listener and returns its address.
func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return srv, l.Addr().String()
}

func testUsers() *Users {
	u := NewUsers()
	u.SetPassword("alice", "Secret123")
	return u
}

func testShares() []Share {
	return []Share{
		{Name: "test", FS: memfs.New(memfs.Options{})},
		{Name: "secret", FS: memfs.New(memfs.Options{}), Encrypt: true},
	}
}

// signedIn dials addr, negotiates dialect d (and cipher, 0: none), logs alice on and signs
// from then on.
func signedIn(t *testing.T, addr string, d smb2.Dialect, cipher smb2.CipherId) *testClient {
	t.Helper()
	c := dial(t, addr)
	c.negotiate(d, cipher)
	if st := c.login("alice", "Secret123"); st != 0 {
		t.Fatalf("login: %v", st)
	}
	c.sign = true
	return c
}

func dial(t *testing.T, addr string) *testClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &testClient{t: t, nc: nc}
}

// sendRaw sends a frame.
func (c *testClient) sendRaw(frame []byte) error {
	b := make([]byte, 4, 4+len(frame))
	binary.BigEndian.PutUint32(b, uint32(len(frame)))
	_, err := c.nc.Write(append(b, frame...))
	return err
}

// recvRaw reads a frame.
func (c *testClient) recvRaw() ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.nc, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:]) & 0xffffff
	b := make([]byte, n, n+smb3.TransformSlack)
	_, err := io.ReadFull(c.nc, b)
	return b, err
}

// build encodes one request.
func (c *testClient) build(cmd smb2.Command, body smb2.Body, mid uint64, charge uint16) []byte {
	h := smb2.Header{Command: cmd, MessageId: mid, SessionId: c.sid, TreeId: c.tid, Credits: 32, CreditCharge: charge}
	b, _ := h.Append(nil)
	b, err := body.Append(b, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	if len(b) == smb2.HeaderSize+8 || len(b) < smb2.HeaderSize+2 {
		// keep as is
	}
	return b
}

// do sends one request with the next message id and returns the response.
func (c *testClient) do(cmd smb2.Command, body smb2.Body) (*testResp, error) {
	msg := c.build(cmd, body, c.mid, 1)
	c.mid++
	if err := c.send(msg); err != nil {
		return nil, err
	}
	return c.recv()
}

func (c *testClient) send(msg []byte) error {
	if c.encrypt && c.enc != nil {
		pdu := make([]byte, smb3.TransformHeaderSize, smb3.TransformHeaderSize+len(msg)+smb3.TransformSlack)
		pdu = append(pdu, msg...)
		if err := c.enc.Seal(pdu, c.sid); err != nil {
			return err
		}
		return c.sendRaw(pdu)
	}
	if c.sign && c.signer != nil {
		if err := c.signer.Sign(msg); err != nil {
			return err
		}
	}
	return c.sendRaw(msg)
}

func (c *testClient) recv() (*testResp, error) {
	for {
		b, err := c.recvRaw()
		if err != nil {
			return nil, err
		}
		if string(b[:4]) == smb2.ProtocolTransform {
			if c.dec == nil {
				return nil, errors.New("encrypted response without a key")
			}
			if b, err = c.dec.Open(b); err != nil {
				return nil, err
			}
		}
		r := &testResp{msg: b}
		if err := r.hdr.Decode(b); err != nil {
			return nil, err
		}
		r.body = b[smb2.HeaderSize:]
		if r.hdr.Status == ntstatus.StatusPending && r.hdr.Flags.Has(smb2.FlagsAsyncCommand) {
			continue
		}
		return r, nil
	}
}

func (c *testClient) must(cmd smb2.Command, body smb2.Body, want ntstatus.Status) *testResp {
	c.t.Helper()
	r, err := c.do(cmd, body)
	if err != nil {
		c.t.Fatalf("%v: %v", cmd, err)
	}
	if r.hdr.Status != want {
		c.t.Fatalf("%v: status %v, want %v", cmd, r.hdr.Status, want)
	}
	return r
}

// negotiate negotiates d (with 3.1.1 contexts for 3.1.1).
func (c *testClient) negotiate(d smb2.Dialect, cipher smb2.CipherId) {
	c.t.Helper()
	req := smb2.NegotiateRequest{
		SecurityMode: smb2.SecurityModeSigningEnabled,
		Capabilities: smb2.CapLargeMtu | smb2.CapEncryption,
		Dialects:     wire.AppendUint16s(nil, uint16(d)),
	}
	rand.Read(req.ClientGuid[:])
	if d == smb2.Dialect311 {
		salt := make([]byte, 32)
		p := smb2.PreauthIntegrityCapabilities{HashAlgorithms: wire.AppendUint16s(nil, 1), Salt: salt}
		data, _ := p.Append(nil)
		req.NegotiateContexts.Reset(nil)
		req.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextPreauthIntegrityCapabilities, Data: data})
		if cipher != 0 {
			e := smb2.EncryptionCapabilities{Ciphers: wire.AppendUint16s(nil, uint16(cipher))}
			data, _ := e.Append(nil)
			req.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextEncryptionCapabilities, Data: data})
		}
	}
	msg := c.build(smb2.CommandNegotiate, &req, c.mid, 0)
	c.mid++
	if err := c.sendRaw(msg); err != nil {
		c.t.Fatal(err)
	}
	r, err := c.recv()
	if err != nil || r.hdr.Status != 0 {
		c.t.Fatalf("negotiate: %v %v", err, r)
	}
	var resp smb2.NegotiateResponse
	if err := resp.Decode(r.msg, 0); err != nil {
		c.t.Fatal(err)
	}
	c.dialect = resp.DialectRevision
	if d == smb2.Dialect311 {
		c.preauth.Update(msg)
		c.preauth.Update(r.msg)
		c.cipher = cipher
	} else if d >= smb2.Dialect300 {
		c.cipher = smb2.CipherAES128CCM
	}
}

// ntlmNegotiate is a NEGOTIATE_MESSAGE without key exchange.
func ntlmNegotiate() []byte {
	b := make([]byte, 32)
	copy(b, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(b[8:], 1)
	flags := ntlm.NegotiateUnicode | ntlm.RequestTarget | ntlm.NegotiateNTLM | ntlm.NegotiateAlwaysSign |
		ntlm.NegotiateExtendedSessionSecurity | ntlm.NegotiateTargetInfo | ntlm.Negotiate128 | ntlm.NegotiateSign
	binary.LittleEndian.PutUint32(b[12:], flags)
	return b
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

// ntlmAuthenticate answers a CHALLENGE_MESSAGE with NTLMv2; it returns the message and the
// session key. An empty user makes an anonymous AUTHENTICATE_MESSAGE.
func ntlmAuthenticate(challenge []byte, user, password string) ([]byte, []byte, error) {
	ch, err := ntlm.ParseChallenge(challenge)
	if err != nil {
		return nil, nil, err
	}
	var lm, nt, key []byte
	if user != "" {
		respKey := ntlm.NTOWFv2(ntlm.NTHash(password), user, "")
		var cc [8]byte
		rand.Read(cc[:])
		temp := []byte{1, 1, 0, 0, 0, 0, 0, 0}
		temp = binary.LittleEndian.AppendUint64(temp, uint64(time.Now().UnixNano()/100+116444736000000000))
		temp = append(temp, cc[:]...)
		temp = append(temp, 0, 0, 0, 0)
		temp = append(temp, ch.TargetInfo...)
		temp = append(temp, 0, 0, 0, 0)
		m := hmac.New(md5.New, respKey[:])
		m.Write(ch.ServerChallenge[:])
		m.Write(temp)
		proof := m.Sum(nil)
		nt = append(proof, temp...)
		lm = make([]byte, 24)
		m = hmac.New(md5.New, respKey[:])
		m.Write(proof)
		key = m.Sum(nil)
	}
	u := utf16le(user)
	fields := [][]byte{lm, nt, nil, u, nil, nil}
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
	flags := binary.LittleEndian.Uint32(challenge[20:])
	if user == "" {
		flags |= ntlm.NegotiateAnonymous
	}
	binary.LittleEndian.PutUint32(b[60:], flags)
	for _, f := range fields {
		b = append(b, f...)
	}
	return b, key, nil
}

// login runs SESSION_SETUP with raw NTLMSSP and derives the keys; an empty user logs on
// anonymously.
func (c *testClient) login(user, password string) ntstatus.Status {
	c.t.Helper()
	req := smb2.SessionSetupRequest{SecurityMode: smb2.SessionSetupSecurityModeSigningEnabled, SecurityBuffer: ntlmNegotiate()}
	msg := c.build(smb2.CommandSessionSetup, &req, c.mid, 1)
	c.mid++
	if c.dialect == smb2.Dialect311 {
		c.preauth.Update(msg)
	}
	if err := c.sendRaw(msg); err != nil {
		c.t.Fatal(err)
	}
	r, err := c.recv()
	if err != nil {
		c.t.Fatal(err)
	}
	if r.hdr.Status != ntstatus.StatusMoreProcessingRequired {
		return r.hdr.Status
	}
	if c.dialect == smb2.Dialect311 {
		c.preauth.Update(r.msg)
	}
	c.sid = r.hdr.SessionId
	var resp smb2.SessionSetupResponse
	if err := resp.Decode(r.msg, 0); err != nil {
		c.t.Fatal(err)
	}
	auth, key, err := ntlmAuthenticate(resp.SecurityBuffer, user, password)
	if err != nil {
		c.t.Fatal(err)
	}
	req.SecurityBuffer = auth
	msg = c.build(smb2.CommandSessionSetup, &req, c.mid, 1)
	c.mid++
	if c.dialect == smb2.Dialect311 {
		c.preauth.Update(msg)
	}
	if err := c.sendRaw(msg); err != nil {
		c.t.Fatal(err)
	}
	r, err = c.recv()
	if err != nil {
		c.t.Fatal(err)
	}
	if r.hdr.Status != 0 || key == nil {
		return r.hdr.Status
	}
	keys, err := smb3.DeriveKeys(smb3.Dialect(c.dialect), smb3.Cipher(c.cipher), key, c.preauth[:])
	if err != nil {
		c.t.Fatal(err)
	}
	c.keys = keys
	alg := smb3.SigningAlgorithm(smb2.SigningHMACSHA256)
	if c.dialect >= smb2.Dialect300 {
		alg = smb3.SigningAlgorithm(smb2.SigningAESCMAC)
	}
	if c.signer, err = smb3.NewSigner(alg, keys.Signing); err != nil {
		c.t.Fatal(err)
	}
	if c.dialect >= smb2.Dialect300 {
		if err := c.signer.Verify(r.msg); err != nil {
			c.t.Fatalf("final SESSION_SETUP response: %v", err)
		}
	}
	if keys.Encryption != nil {
		c.enc, _ = smb3.NewEncrypter(smb3.Cipher(c.cipher), keys.Decryption)
		c.dec, _ = smb3.NewDecrypter(smb3.Cipher(c.cipher), keys.Encryption)
	}
	return 0
}

func (c *testClient) treeConnect(share string) ntstatus.Status {
	c.t.Helper()
	r, err := c.do(smb2.CommandTreeConnect, &smb2.TreeConnectRequest{Path: utf16le(`\\127.0.0.1\` + share)})
	if err != nil {
		c.t.Fatal(err)
	}
	if r.hdr.Status == 0 {
		c.tid = r.hdr.TreeId
	}
	return r.hdr.Status
}

func createReq(name string) *smb2.CreateRequest {
	return &smb2.CreateRequest{
		Name:               utf16le(name),
		DesiredAccess:      0x0012019F,
		ShareAccess:        smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete,
		CreateDisposition:  smb2.FileOpenIf,
		ImpersonationLevel: smb2.ImpersonationLevelImpersonation,
	}
}
