package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/wire"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// countingShare wraps the file engine and counts the CREATEs that reach it.
type countingShare struct {
	inner   fileShare
	creates *atomic.Int32
}

type countingTree struct {
	fileTree
	creates *atomic.Int32
}

func (s countingShare) Connect(ctx context.Context, id ntfs.Identity) (fileTree, error) {
	t, err := s.inner.Connect(ctx, id)
	if err != nil {
		return nil, err
	}
	return countingTree{t, s.creates}, nil
}

func (t countingTree) Create(r *ntfs.Req, req *smb2.CreateRequest, resp *smb2.CreateResponse) ntstatus.Status {
	t.creates.Add(1)
	return t.fileTree.Create(r, req, resp)
}

// withCounting makes the shares of servers built in f count their CREATEs.
func withCounting(t *testing.T) *atomic.Int32 {
	var n atomic.Int32
	orig := newFileShare
	newFileShare = func(sh Share) fileShare { return countingShare{orig(sh), &n} }
	t.Cleanup(func() { newFileShare = orig })
	return &n
}

func TestSessionAndTree(t *testing.T) {
	for _, d := range []smb2.Dialect{smb2.Dialect202, smb2.Dialect210, smb2.Dialect300, smb2.Dialect302, smb2.Dialect311} {
		t.Run(d.String(), func(t *testing.T) {
			_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
			c := signedIn(t, addr, d, smb2.CipherAES128GCM)
			if st := c.treeConnect("nosuch"); st != ntstatus.StatusBadNetworkName {
				t.Fatalf("unknown share: %v", st)
			}
			if st := c.treeConnect("IPC$"); st != 0 {
				t.Fatalf("IPC$: %v", st)
			}
			if st := c.treeConnect("test"); st != 0 {
				t.Fatalf("tree connect: %v", st)
			}
			r := c.must(smb2.CommandCreate, createReq("a.txt"), 0)
			var cr smb2.CreateResponse
			if err := cr.Decode(r.msg, 0); err != nil {
				t.Fatal(err)
			}
			c.must(smb2.CommandClose, &smb2.CloseRequest{FileId: cr.FileId}, 0)
			c.must(smb2.CommandEcho, &smb2.EchoRequest{}, 0)
			c.must(smb2.CommandTreeDisconnect, &smb2.TreeDisconnectRequest{}, 0)
			c.must(smb2.CommandLogoff, &smb2.LogoffRequest{}, 0)
		})
	}
}

func TestWrongPassword(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := dial(t, addr)
	c.negotiate(smb2.Dialect311, 0)
	if st := c.login("alice", "wrong"); st != ntstatus.StatusLogonFailure {
		t.Fatalf("wrong password: %v", st)
	}
	c2 := dial(t, addr)
	c2.negotiate(smb2.Dialect302, 0)
	if st := c2.login("", ""); st != ntstatus.StatusLogonFailure {
		t.Fatalf("anonymous without guest: %v", st)
	}
}

func TestGuestSession(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Guest: true})
	c := dial(t, addr)
	c.negotiate(smb2.Dialect311, 0)
	if st := c.login("", ""); st != 0 {
		t.Fatalf("anonymous: %v", st)
	}
	if st := c.treeConnect("test"); st != 0 {
		t.Fatalf("tree connect: %v", st)
	}
	c.must(smb2.CommandCreate, createReq("g.txt"), 0)
}

// A request whose signature was tampered with is refused and never reaches the engine.
func TestTamperedSignature(t *testing.T) {
	creates := withCounting(t)
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers(), Signing: Required})
	for _, d := range []smb2.Dialect{smb2.Dialect210, smb2.Dialect302, smb2.Dialect311} {
		t.Run(d.String(), func(t *testing.T) {
			c := signedIn(t, addr, d, 0)
			if st := c.treeConnect("test"); st != 0 {
				t.Fatalf("tree connect: %v", st)
			}
			before := creates.Load()
			msg := c.build(smb2.CommandCreate, createReq("t.txt"), c.mid, 1)
			c.mid++
			c.signer.Sign(msg)
			msg[48] ^= 0x01 // the signature
			c.sendRaw(msg)
			r, err := c.recv()
			if err != nil {
				t.Fatal(err)
			}
			if r.hdr.Status != ntstatus.StatusAccessDenied {
				t.Fatalf("tampered signature: %v", r.hdr.Status)
			}
			// A tampered body, signature intact.
			msg = c.build(smb2.CommandCreate, createReq("t.txt"), c.mid, 1)
			c.mid++
			c.signer.Sign(msg)
			msg[len(msg)-2] ^= 0x20
			c.sendRaw(msg)
			if r, err = c.recv(); err != nil || r.hdr.Status != ntstatus.StatusAccessDenied {
				t.Fatalf("tampered body: %v %v", err, r)
			}
			// Unsigned on a session that requires signing.
			c.sign = false
			if r, err = c.do(smb2.CommandCreate, createReq("t.txt")); err != nil || r.hdr.Status != ntstatus.StatusAccessDenied {
				t.Fatalf("unsigned: %v %v", err, r)
			}
			if n := creates.Load() - before; n != 0 {
				t.Fatalf("%d CREATEs reached the engine", n)
			}
			c.sign = true
			r = c.must(smb2.CommandCreate, createReq("t.txt"), 0)
			if err := c.signer.Verify(r.msg); err != nil || !r.hdr.Flags.Has(smb2.FlagsSigned) {
				t.Fatalf("response signature: %v", err)
			}
			if creates.Load()-before != 1 {
				t.Fatal("the good CREATE did not run")
			}
		})
	}
}

// A message id used twice, or outside the window, drops the connection.
func TestReplayedMessageID(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := dial(t, addr)
	c.negotiate(smb2.Dialect302, 0)
	if st := c.login("alice", "Secret123"); st != 0 {
		t.Fatal(st)
	}
	c.must(smb2.CommandEcho, &smb2.EchoRequest{}, 0)
	c.mid-- // replay the ECHO's id
	if r, err := c.do(smb2.CommandEcho, &smb2.EchoRequest{}); err == nil {
		t.Fatalf("replayed message id answered: %v", r.hdr.Status)
	}

	c = dial(t, addr)
	c.negotiate(smb2.Dialect302, 0)
	c.mid += 100000 // far outside the window
	if r, err := c.do(smb2.CommandEcho, &smb2.EchoRequest{}); err == nil {
		t.Fatalf("out-of-window message id answered: %v", r.hdr.Status)
	}
}

func TestUnknownSessionAndTree(t *testing.T) {
	creates := withCounting(t)
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := signedIn(t, addr, smb2.Dialect311, 0)
	if st := c.treeConnect("test"); st != 0 {
		t.Fatal(st)
	}
	sid, tid := c.sid, c.tid
	c.tid = tid + 100
	c.must(smb2.CommandCreate, createReq("x"), ntstatus.StatusNetworkNameDeleted)
	c.sid, c.tid, c.sign = sid+12345, tid, false
	c.must(smb2.CommandCreate, createReq("x"), ntstatus.StatusUserSessionDeleted)
	c.must(smb2.CommandTreeConnect, &smb2.TreeConnectRequest{Path: utf16le(`\\h\test`)}, ntstatus.StatusUserSessionDeleted)
	if creates.Load() != 0 {
		t.Fatal("a CREATE reached the engine")
	}
	c.sid, c.sign = sid, true
	c.must(smb2.CommandCreate, createReq("x"), 0)
}

// An unencrypted request to a share that requires encryption is refused; encrypted it works.
func TestEncryptedShare(t *testing.T) {
	for _, tc := range []struct {
		d      smb2.Dialect
		cipher smb2.CipherId
	}{{smb2.Dialect300, 0}, {smb2.Dialect302, 0}, {smb2.Dialect311, smb2.CipherAES128CCM},
		{smb2.Dialect311, smb2.CipherAES128GCM}, {smb2.Dialect311, smb2.CipherAES256CCM}, {smb2.Dialect311, smb2.CipherAES256GCM}} {
		t.Run(fmt.Sprint(tc.d, tc.cipher), func(t *testing.T) {
			creates := withCounting(t)
			_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
			c := signedIn(t, addr, tc.d, tc.cipher)
			if st := c.treeConnect("secret"); st != 0 {
				t.Fatal(st)
			}
			c.must(smb2.CommandCreate, createReq("s.txt"), ntstatus.StatusAccessDenied)
			if creates.Load() != 0 {
				t.Fatal("unencrypted CREATE reached the engine")
			}
			c.encrypt = true
			c.must(smb2.CommandCreate, createReq("s.txt"), 0)
			c.must(smb2.CommandEcho, &smb2.EchoRequest{}, 0)
		})
	}
	// A 2.1 session can not connect to it.
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := signedIn(t, addr, smb2.Dialect210, 0)
	if st := c.treeConnect("secret"); st != ntstatus.StatusAccessDenied {
		t.Fatalf("2.1 on an encrypted share: %v", st)
	}
}

func TestEncryptionRequired(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers(), Encryption: Required})
	c := dial(t, addr)
	c.negotiate(smb2.Dialect311, smb2.CipherAES256GCM)
	if st := c.login("alice", "Secret123"); st != 0 {
		t.Fatal(st)
	}
	c.must(smb2.CommandTreeConnect, &smb2.TreeConnectRequest{Path: utf16le(`\\h\test`)}, ntstatus.StatusAccessDenied)
	c.encrypt = true
	if st := c.treeConnect("test"); st != 0 {
		t.Fatal(st)
	}
}

func TestCreditWindow(t *testing.T) {
	w := newCreditWindow(8)
	if !w.consume(0, 1) || w.consume(0, 1) {
		t.Fatal("id 0")
	}
	if g := w.grant(100); g != 8 || w.available() != 8 {
		t.Fatalf("granted %d, available %d", g, w.available())
	}
	// Out of order, skipping one id.
	if !w.consume(3, 2) || !w.consume(1, 1) || w.consume(4, 1) || w.consume(9, 1) {
		t.Fatal("out of order")
	}
	if w.available() != 5 || w.lo != 2 {
		t.Fatalf("available %d lo %d", w.available(), w.lo)
	}
	if !w.consume(2, 1) || w.lo != 5 {
		t.Fatalf("lo %d", w.lo)
	}
	// Never starved: a client left with no credit gets one.
	for id := uint64(5); id < w.hi; id++ {
		w.consume(id, 1)
	}
	if w.available() != 0 || w.grant(0) != 1 {
		t.Fatal("starved")
	}
}

func BenchmarkSigning(b *testing.B) {
	msg := make([]byte, 1<<20)
	copy(msg, smb2.ProtocolSMB2)
	msg[4] = 64
	key := make([]byte, 16)
	rand.Read(key)
	for _, alg := range []smb2.SigningAlgorithm{smb2.SigningHMACSHA256, smb2.SigningAESCMAC, smb2.SigningAESGMAC} {
		b.Run(alg.String(), func(b *testing.B) {
			s, err := smb3.NewSigner(smb3.SigningAlgorithm(alg), key)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				s.Sign(msg)
			}
		})
	}
}

func BenchmarkEncryption(b *testing.B) {
	for _, c := range []smb2.CipherId{smb2.CipherAES128CCM, smb2.CipherAES128GCM, smb2.CipherAES256CCM, smb2.CipherAES256GCM} {
		b.Run(c.String(), func(b *testing.B) {
			key := make([]byte, smb3.Cipher(c).KeySize())
			rand.Read(key)
			enc, err := smb3.NewEncrypter(smb3.Cipher(c), key)
			if err != nil {
				b.Fatal(err)
			}
			dec, _ := smb3.NewDecrypter(smb3.Cipher(c), key)
			pdu := make([]byte, smb3.TransformHeaderSize+1<<20, smb3.TransformHeaderSize+1<<20+smb3.TransformSlack)
			b.SetBytes(1 << 20)
			b.Run("seal", func(b *testing.B) {
				b.SetBytes(1 << 20)
				for b.Loop() {
					enc.Seal(pdu, 1)
				}
			})
			enc.Seal(pdu, 1)
			sealed := append([]byte(nil), pdu...)
			b.Run("open", func(b *testing.B) {
				b.SetBytes(1 << 20)
				for b.Loop() {
					copy(pdu, sealed)
					if _, err := dec.Open(pdu); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func smb1Negotiate(dialects ...string) []byte {
	b := []byte("\xffSMB\x72")
	b = append(b, make([]byte, 27)...)
	b = append(b, 0) // WordCount
	var d []byte
	for _, s := range dialects {
		d = append(d, 2)
		d = append(d, s...)
		d = append(d, 0)
	}
	b = append(b, byte(len(d)), byte(len(d)>>8))
	return append(b, d...)
}

// A multi-protocol SMB1 NEGOTIATE is answered with the SMB2 wildcard revision, then the SMB2
// NEGOTIATE follows with message id 1.
func TestSMB1Negotiate(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := dial(t, addr)
	c.sendRaw(smb1Negotiate("NT LM 0.12", "SMB 2.002", "SMB 2.???"))
	r, err := c.recv()
	if err != nil {
		t.Fatal(err)
	}
	var resp smb2.NegotiateResponse
	if err := resp.Decode(r.msg, 0); err != nil || resp.DialectRevision != smb2.DialectWildcard || r.hdr.MessageId != 0 || r.hdr.Credits < 1 {
		t.Fatalf("SMB1 negotiate: %v %v mid %d credits %d", err, resp.DialectRevision, r.hdr.MessageId, r.hdr.Credits)
	}
	c.mid = 1
	c.negotiate(smb2.Dialect311, 0)
	if st := c.login("alice", "Secret123"); st != 0 {
		t.Fatal(st)
	}

	// Only SMB 2.002: answered with 2.0.2 directly.
	c = dial(t, addr)
	c.sendRaw(smb1Negotiate("NT LM 0.12", "SMB 2.002"))
	if r, err = c.recv(); err != nil {
		t.Fatal(err)
	}
	if err := resp.Decode(r.msg, 0); err != nil || resp.DialectRevision != smb2.Dialect202 {
		t.Fatalf("SMB 2.002 only: %v", resp.DialectRevision)
	}
	c.mid, c.dialect = 1, smb2.Dialect202
	if st := c.login("alice", "Secret123"); st != 0 {
		t.Fatal(st)
	}

	// SMB1 only: the connection is dropped.
	c = dial(t, addr)
	c.sendRaw(smb1Negotiate("NT LM 0.12"))
	if _, err := c.recv(); err == nil {
		t.Fatal("SMB1-only negotiate answered")
	}
}

// blockingShare makes CHANGE_NOTIFY wait until it is cancelled.
type blockingShare struct{ inner fileShare }
type blockingTree struct{ fileTree }

func (s blockingShare) Connect(ctx context.Context, id ntfs.Identity) (fileTree, error) {
	t, err := s.inner.Connect(ctx, id)
	if err != nil {
		return nil, err
	}
	return blockingTree{t}, nil
}

func (t blockingTree) ChangeNotify(r *ntfs.Req, req *smb2.ChangeNotifyRequest, resp *smb2.ChangeNotifyResponse) ntstatus.Status {
	<-r.Ctx.Done()
	return ntstatus.StatusCancelled
}

// A blocking request goes asynchronous (STATUS_PENDING with an AsyncId) and CANCEL ends it
// with STATUS_CANCELLED, by AsyncId or by MessageId; the responses are signed.
func TestAsyncCancel(t *testing.T) {
	orig := newFileShare
	newFileShare = func(sh Share) fileShare { return blockingShare{orig(sh)} }
	t.Cleanup(func() { newFileShare = orig })
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers(), Signing: Required})
	c := signedIn(t, addr, smb2.Dialect311, 0)
	if st := c.treeConnect("test"); st != 0 {
		t.Fatal(st)
	}
	cr := createReq("")
	cr.CreateOptions = smb2.FileDirectoryFile
	r := c.must(smb2.CommandCreate, cr, 0)
	var created smb2.CreateResponse
	created.Decode(r.msg, 0)
	for _, byAsyncID := range []bool{true, false} {
		mid := c.mid
		msg := c.build(smb2.CommandChangeNotify, &smb2.ChangeNotifyRequest{FileId: created.FileId, OutputBufferLength: 4096, CompletionFilter: 0x17}, mid, 1)
		c.mid++
		c.send(msg)
		b, err := c.recvRaw()
		if err != nil {
			t.Fatal(err)
		}
		var h smb2.Header
		h.Decode(b)
		if h.Status != ntstatus.StatusPending || !h.Flags.Has(smb2.FlagsAsyncCommand) || h.AsyncId == 0 || h.MessageId != mid {
			t.Fatalf("interim: %v flags %v async id %d", h.Status, h.Flags, h.AsyncId)
		}
		if err := c.signer.Verify(b); err != nil {
			t.Fatalf("interim signature: %v", err)
		}
		cancel := smb2.Header{Command: smb2.CommandCancel, MessageId: mid, SessionId: c.sid, TreeId: c.tid}
		if byAsyncID {
			cancel.Flags |= smb2.FlagsAsyncCommand
			cancel.AsyncId = h.AsyncId
		}
		cm, _ := cancel.Append(nil)
		cm, _ = (&smb2.CancelRequest{}).Append(cm, 0)
		c.send(cm)
		fin, err := c.recv()
		if err != nil {
			t.Fatal(err)
		}
		if fin.hdr.Status != ntstatus.StatusCancelled || fin.hdr.MessageId != mid || fin.hdr.AsyncId != h.AsyncId {
			t.Fatalf("final: %v mid %d async id %d", fin.hdr.Status, fin.hdr.MessageId, fin.hdr.AsyncId)
		}
		if err := c.signer.Verify(fin.msg); err != nil {
			t.Fatalf("final signature: %v", err)
		}
	}
	// Still in business, and the credits were not consumed by CANCEL.
	c.must(smb2.CommandEcho, &smb2.EchoRequest{}, 0)

	// A watch whose tree is disconnected ends with STATUS_NOTIFY_CLEANUP.
	c.send(c.build(smb2.CommandChangeNotify, &smb2.ChangeNotifyRequest{FileId: created.FileId, OutputBufferLength: 4096, CompletionFilter: 0x17}, c.mid, 1))
	notifyMid := c.mid
	c.mid++
	if b, err := c.recvRaw(); err != nil || h0(b).Status != ntstatus.StatusPending {
		t.Fatalf("interim: %v", err)
	}
	c.send(c.build(smb2.CommandTreeDisconnect, &smb2.TreeDisconnectRequest{}, c.mid, 1))
	c.mid++
	got := map[uint64]ntstatus.Status{}
	for len(got) < 2 {
		r, err := c.recv()
		if err != nil {
			t.Fatal(err)
		}
		got[r.hdr.MessageId] = r.hdr.Status
	}
	if got[notifyMid] != ntstatus.StatusNotifyCleanup || got[notifyMid+1] != 0 {
		t.Fatalf("tree disconnect under a watch: %v", got)
	}
}

func h0(b []byte) smb2.Header {
	var h smb2.Header
	h.Decode(b)
	return h
}

// A related compound CREATE + WRITE + CLOSE: the all-0xFF FileId names the CREATE's, the
// responses are 8-byte aligned and each one is signed.
func TestRelatedCompound(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := signedIn(t, addr, smb2.Dialect311, 0)
	if st := c.treeConnect("test"); st != 0 {
		t.Fatal(st)
	}
	parts := [][]byte{
		c.build(smb2.CommandCreate, createReq("comp.txt"), c.mid, 1),
		c.build(smb2.CommandWrite, &smb2.WriteRequest{FileId: anyFileID, Data: []byte("hello")}, c.mid+1, 1),
		c.build(smb2.CommandClose, &smb2.CloseRequest{FileId: anyFileID}, c.mid+2, 1),
	}
	c.mid += 3
	var frame []byte
	for i, p := range parts {
		if i > 0 {
			binary.LittleEndian.PutUint32(p[16:], uint32(smb2.FlagsRelatedOperations))
		}
		for len(p)%8 != 0 && i < len(parts)-1 {
			p = append(p, 0)
		}
		if i < len(parts)-1 {
			binary.LittleEndian.PutUint32(p[20:], uint32(len(p)))
		}
		c.signer.Sign(p)
		frame = append(frame, p...)
	}
	c.sendRaw(frame)
	b, err := c.recvRaw()
	if err != nil {
		t.Fatal(err)
	}
	cmp := smb2.Compound{Frame: b}
	var statuses []ntstatus.Status
	for cmp.Next() {
		var h smb2.Header
		h.Decode(b[cmp.Hdr():])
		statuses = append(statuses, h.Status)
		msg := cmp.PDU()[cmp.Hdr():]
		if len(msg)%8 != 0 {
			t.Errorf("response %d is %d bytes", len(statuses), len(msg))
		}
		if err := c.signer.Verify(msg); err != nil {
			t.Errorf("response %d: %v", len(statuses), err)
		}
	}
	if fmt.Sprint(statuses) != fmt.Sprint([]ntstatus.Status{0, 0, 0}) {
		t.Fatalf("statuses %v", statuses)
	}
}

// Shutdown closes the opens of every connection through the file engine.
func TestShutdown(t *testing.T) {
	srv, addr := startServer(t, Options{Shares: testShares(), Users: testUsers()})
	c := signedIn(t, addr, smb2.Dialect302, 0)
	if st := c.treeConnect("test"); st != 0 {
		t.Fatal(st)
	}
	c.must(smb2.CommandCreate, createReq("open.txt"), 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.do(smb2.CommandEcho, &smb2.EchoRequest{}); err == nil {
		t.Fatal("connection still open after Shutdown")
	}
	for _, sh := range srv.shares {
		if ns, ok := sh.fs.(ntfsShare); ok && ns.s.OpenCount() != 0 {
			t.Fatalf("share %s has %d opens", sh.name, ns.s.OpenCount())
		}
	}
}

func TestNegotiateContexts(t *testing.T) {
	_, addr := startServer(t, Options{Shares: testShares(), Users: testUsers(),
		Ciphers: []smb2.CipherId{smb2.CipherAES256GCM, smb2.CipherAES128CCM}})
	// 3.1.1 without a preauth integrity context is invalid.
	c := dial(t, addr)
	req := smb2.NegotiateRequest{Dialects: wire.AppendUint16s(nil, uint16(smb2.Dialect311))}
	req.NegotiateContexts.Reset(nil)
	c.sendRaw(c.build(smb2.CommandNegotiate, &req, 0, 0))
	if r, err := c.recv(); err != nil || r.hdr.Status != ntstatus.StatusInvalidParameter {
		t.Fatalf("no preauth context: %v %v", err, r)
	}
	// The server's order of preference picks the cipher; the signing algorithm defaults to
	// AES-CMAC without a signing context.
	c = dial(t, addr)
	req = smb2.NegotiateRequest{Dialects: wire.AppendUint16s(nil, 0x0202, 0x0311)}
	req.NegotiateContexts.Reset(nil)
	p := smb2.PreauthIntegrityCapabilities{HashAlgorithms: wire.AppendUint16s(nil, 1), Salt: make([]byte, 32)}
	data, _ := p.Append(nil)
	req.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextPreauthIntegrityCapabilities, Data: data})
	e := smb2.EncryptionCapabilities{Ciphers: wire.AppendUint16s(nil, uint16(smb2.CipherAES128CCM), uint16(smb2.CipherAES256GCM))}
	data, _ = e.Append(nil)
	req.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextEncryptionCapabilities, Data: data})
	cc := smb2.CompressionCapabilities{CompressionAlgorithms: wire.AppendUint16s(nil, uint16(smb2.CompressionLZ77))}
	data, _ = cc.Append(nil)
	req.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextCompressionCapabilities, Data: data})
	c.sendRaw(c.build(smb2.CommandNegotiate, &req, 0, 0))
	r, err := c.recv()
	if err != nil || r.hdr.Status != 0 {
		t.Fatalf("negotiate: %v %v", err, r)
	}
	var resp smb2.NegotiateResponse
	if err := resp.Decode(r.msg, 0); err != nil {
		t.Fatal(err)
	}
	if resp.DialectRevision != smb2.Dialect311 || resp.Capabilities&(smb2.CapLargeMtu|smb2.CapMultiChannel) != smb2.CapLargeMtu|smb2.CapMultiChannel ||
		resp.Capabilities&(smb2.CapLeasing|smb2.CapPersistentHandles) != 0 {
		t.Fatalf("dialect %v caps %v", resp.DialectRevision, resp.Capabilities)
	}
	if resp.MaxReadSize != 8<<20 || len(resp.SecurityBuffer) == 0 {
		t.Fatalf("max read %d, security buffer %d bytes", resp.MaxReadSize, len(resp.SecurityBuffer))
	}
	var kinds []smb2.NegotiateContextType
	for it := resp.NegotiateContexts.Iter(); it.Next(); {
		ctx := it.Value()
		kinds = append(kinds, ctx.ContextType)
		if ctx.ContextType == smb2.NegotiateContextEncryptionCapabilities {
			var got smb2.EncryptionCapabilities
			got.Decode(ctx.Data)
			if got.Ciphers.Len() != 1 || smb2.CipherId(got.Ciphers.At(0)) != smb2.CipherAES256GCM {
				t.Errorf("cipher %x", got.Ciphers)
			}
		}
	}
	if fmt.Sprint(kinds) != fmt.Sprint([]smb2.NegotiateContextType{smb2.NegotiateContextPreauthIntegrityCapabilities, smb2.NegotiateContextEncryptionCapabilities}) {
		t.Errorf("response contexts %v (compression must not be advertised)", kinds)
	}
	// A second NEGOTIATE drops the connection.
	c.sendRaw(c.build(smb2.CommandNegotiate, &req, 1, 0))
	if _, err := c.recv(); err == nil {
		t.Fatal("second NEGOTIATE answered")
	}
	// Encryption required: a 2.1 connection negotiates but can not set up a session.
	_, addr = startServer(t, Options{Shares: testShares(), Users: testUsers(), Encryption: Required})
	c = dial(t, addr)
	c.negotiate(smb2.Dialect210, 0)
	if st := c.login("alice", "Secret123"); st != ntstatus.StatusAccessDenied {
		t.Fatalf("2.1 with encryption required: %v", st)
	}
}
