package fuzz

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"time"

	"github.com/smbvfs/smbvfs/backends/memfs"
	"github.com/smbvfs/smbvfs/backends/passthrough"
	"github.com/smbvfs/smbvfs/protocol/ntlm"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/protocol/utf16"
	"github.com/smbvfs/smbvfs/protocol/wire"
	"github.com/smbvfs/smbvfs/server"
)

// The whole-server target. An input is a control byte followed by records, each a flags
// byte, a little-endian 16-bit length and that many bytes: one Direct-TCP payload to send.
// Before the records the harness negotiates SMB 3.1.1, logs on as guest and connects to a
// share (control bit 0: the memfs share, else the passthrough one). Flags of a record ask the
// harness to fix up every SMB2 header of the payload so that the fuzzer reaches deep states:
//
//	bit 0  MessageId: the next free one      bit 2  TreeId: the tree connected
//	bit 1  SessionId: the guest session      bit 3  FileIds (not 0xFF...): the last CREATE's
//	bit 4  raw: the bytes go to the socket as they are, without the Direct-TCP header (fuzzes
//	       the server's framer: lengths, NetBIOS keep-alives, other message types)
//
// Invariants (a panic reports the breach):
//   - the server does not panic (an unrecovered panic kills the process);
//   - every request of a record whose ids were fixed is answered (interim or final) within
//     a timeout, or the connection is closed;
//   - after Shutdown, no goroutine of the server is left;
//   - nothing outside the passthrough share's directory changes: a sentinel file beside it
//     keeps its content and time, and no file appears beside it.

const (
	fixMid = 1 << iota
	fixSession
	fixTree
	fixFileID
	rawBytes
)

// oneConnListener hands out one connection, then blocks until closed.
type oneConnListener struct {
	c      chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newOneConnListener(nc net.Conn) *oneConnListener {
	l := &oneConnListener{c: make(chan net.Conn, 1), closed: make(chan struct{})}
	l.c <- nc
	return l
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	select {
	case nc := <-l.c:
		return nc, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 445} }

// serverClient is the harness' end of the pipe.
type serverClient struct {
	nc      net.Conn
	frames  chan []byte
	closed  chan struct{}
	mid     uint64
	sid     uint64
	tid     uint32
	fid     smb2.FileId
	timeout time.Duration
}

func (c *serverClient) readLoop() {
	defer close(c.closed)
	for {
		var h [4]byte
		if _, err := io.ReadFull(c.nc, h[:]); err != nil {
			return
		}
		b := make([]byte, binary.BigEndian.Uint32(h[:])&0xffffff)
		if _, err := io.ReadFull(c.nc, b); err != nil {
			return
		}
		select {
		case c.frames <- b:
		default: // nobody waits for it: drop (the fuzzer's unanswered junk)
		}
	}
}

func (c *serverClient) send(b []byte) error {
	f := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(f, uint32(len(b)))
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write(append(f, b...))
	return err
}

var errClosed = errors.New("connection closed")

// recv waits for the next frame.
func (c *serverClient) recv() ([]byte, error) {
	select {
	case b := <-c.frames:
		return b, nil
	case <-c.closed:
		select {
		case b := <-c.frames:
			return b, nil
		default:
		}
		return nil, errClosed
	case <-time.After(c.timeout):
		return nil, errors.New("timeout")
	}
}

func (c *serverClient) request(cmd smb2.Command, body smb2.Body) (*smb2.Header, []byte, error) {
	h := smb2.Header{Command: cmd, MessageId: c.mid, SessionId: c.sid, TreeId: c.tid, Credits: 64, CreditCharge: 1}
	c.mid++
	b, _ := h.Append(nil)
	b, err := body.Append(b, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := c.send(b); err != nil {
		return nil, nil, err
	}
	r, err := c.recv()
	if err != nil {
		return nil, nil, err
	}
	var rh smb2.Header
	if err := rh.Decode(r); err != nil {
		return nil, nil, err
	}
	return &rh, r, nil
}

// handshake negotiates 3.1.1, logs on as guest and connects to share.
func (c *serverClient) handshake(share string) error {
	neg := smb2.NegotiateRequest{SecurityMode: smb2.SecurityModeSigningEnabled, Capabilities: smb2.CapLargeMtu,
		Dialects: wire.AppendUint16s(nil, uint16(smb2.Dialect311))}
	rand.Read(neg.ClientGuid[:])
	p := smb2.PreauthIntegrityCapabilities{HashAlgorithms: wire.AppendUint16s(nil, 1), Salt: make([]byte, 32)}
	data, _ := p.Append(nil)
	neg.NegotiateContexts.Reset(nil)
	neg.NegotiateContexts.Add(&smb2.NegotiateContext{ContextType: smb2.NegotiateContextPreauthIntegrityCapabilities, Data: data})
	if h, _, err := c.request(smb2.CommandNegotiate, &neg); err != nil || h.Status != 0 {
		return fmt.Errorf("negotiate: %v %v", err, h)
	}
	nc := &ntlm.Client{User: "fuzzguest", Password: "x", NoMIC: true}
	h, r, err := c.request(smb2.CommandSessionSetup, &smb2.SessionSetupRequest{SecurityBuffer: nc.Negotiate()})
	if err != nil || h.Status != ntstatus.StatusMoreProcessingRequired {
		return fmt.Errorf("session setup 1: %v %v", err, h)
	}
	c.sid = h.SessionId
	var resp smb2.SessionSetupResponse
	if err := resp.Decode(r, 0); err != nil {
		return err
	}
	auth, err := nc.Authenticate(resp.SecurityBuffer)
	if err != nil {
		return err
	}
	if h, _, err = c.request(smb2.CommandSessionSetup, &smb2.SessionSetupRequest{SecurityBuffer: auth}); err != nil || h.Status != 0 {
		return fmt.Errorf("session setup 2: %v %v", err, h)
	}
	h, _, err = c.request(smb2.CommandTreeConnect, &smb2.TreeConnectRequest{Path: utf16.FromString(`\\fuzz\` + share)})
	if err != nil || h.Status != 0 {
		return fmt.Errorf("tree connect: %v %v", err, h)
	}
	c.tid = h.TreeId
	return nil
}

// fixup rewrites the headers (and FileIds) of a payload as flags ask; it returns the message
// ids that must be answered (nil when the payload is not a well-formed SMB2 chain with fixed
// message ids).
func (c *serverClient) fixup(flags byte, b []byte) ([]byte, []uint64) {
	var out []byte
	var mids []uint64
	answerable := flags&fixMid != 0
	cp := smb2.Compound{Frame: b}
	var starts []int
	for cp.Next() {
		pdu := bytes.Clone(cp.PDU()[cp.Hdr():])
		if len(pdu) < smb2.HeaderSize {
			return b, nil
		}
		fl := smb2.HeaderFlags(binary.LittleEndian.Uint32(pdu[16:]))
		cmd := smb2.Command(binary.LittleEndian.Uint16(pdu[12:]))
		if fl.Has(smb2.FlagsServerToRedir) || cmd > smb2.CommandOplockBreak || cmd == smb2.CommandCancel {
			answerable = false
		}
		if flags&fixFileID != 0 {
			var h smb2.Header
			var msgs smb2.Messages
			var er smb2.ErrorResponse
			if m, err := smb2.DecodeMessage(pdu, 0, &h, &msgs, &er); err == nil {
				v := reflect.ValueOf(m).Elem()
				changed := false
				for i := 0; i < v.NumField(); i++ {
					if !v.Field(i).CanSet() {
						continue
					}
					if id, ok := v.Field(i).Interface().(smb2.FileId); ok && id != (smb2.FileId{Persistent: ^uint64(0), Volatile: ^uint64(0)}) {
						v.Field(i).Set(reflect.ValueOf(c.fid))
						changed = true
					}
				}
				if changed {
					if enc, err := m.Append(append([]byte(nil), pdu[:smb2.HeaderSize]...), 0); err == nil {
						pdu = enc
					}
				}
			}
		}
		if flags&fixMid != 0 {
			binary.LittleEndian.PutUint64(pdu[24:], c.mid)
			mids = append(mids, c.mid)
			c.mid += uint64(max(1, binary.LittleEndian.Uint16(pdu[6:])))
		}
		if flags&fixSession != 0 && binary.LittleEndian.Uint64(pdu[40:]) != ^uint64(0) {
			binary.LittleEndian.PutUint64(pdu[40:], c.sid)
		}
		if flags&fixTree != 0 && !fl.Has(smb2.FlagsAsyncCommand) && binary.LittleEndian.Uint32(pdu[36:]) != ^uint32(0) {
			binary.LittleEndian.PutUint32(pdu[36:], c.tid)
		}
		if len(starts) > 0 {
			for len(out)%8 != 0 {
				out = append(out, 0)
			}
			prev := starts[len(starts)-1]
			binary.LittleEndian.PutUint32(out[prev+20:], uint32(len(out)-prev))
		}
		starts = append(starts, len(out))
		binary.LittleEndian.PutUint32(pdu[20:], 0)
		out = append(out, pdu...)
	}
	if cp.Err() != nil || len(starts) == 0 {
		return b, nil
	}
	if !answerable {
		return out, nil
	}
	return out, mids
}

// await reads responses until every mid got one (interim or final), noting the FileId of a
// successful CREATE. It returns an error when the server neither answers nor closes.
func (c *serverClient) await(mids []uint64) error {
	want := map[uint64]bool{}
	for _, m := range mids {
		want[m] = true
	}
	for len(want) > 0 {
		r, err := c.recv()
		if err == errClosed {
			return nil
		}
		if err != nil {
			return fmt.Errorf("requests %v: no response and the connection is open (%v)", mids, err)
		}
		cp := smb2.Compound{Frame: r}
		for cp.Next() {
			pdu := cp.PDU()[cp.Hdr():]
			var h smb2.Header
			if h.Decode(pdu) != nil {
				continue
			}
			delete(want, h.MessageId)
			if h.Command == smb2.CommandCreate && h.Status == 0 {
				var cr smb2.CreateResponse
				if cr.Decode(pdu, 0) == nil {
					c.fid = cr.FileId
				}
			}
		}
	}
	return nil
}

var serverMu sync.Mutex // one server at a time: the goroutine count is process-wide

// Server runs one input against a fresh in-process server; see the invariants above.
func Server(data []byte) int {
	if len(data) < 1 {
		return 0
	}
	serverMu.Lock()
	defer serverMu.Unlock()
	base := runtime.NumGoroutine()

	root, err := os.MkdirTemp("", "smbvfs-fuzz-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	shareDir := filepath.Join(root, "share")
	sentinel := filepath.Join(root, "sentinel")
	if err := os.Mkdir(shareDir, 0o755); err != nil {
		panic(err)
	}
	os.WriteFile(filepath.Join(shareDir, "a.txt"), []byte("hello"), 0o644)
	os.Mkdir(filepath.Join(shareDir, "dir"), 0o755)
	if err := os.WriteFile(sentinel, []byte("sentinel"), 0o644); err != nil {
		panic(err)
	}
	sentinelInfo, _ := os.Stat(sentinel)

	pt, err := passthrough.New(shareDir, passthrough.Options{CaseInsensitive: true})
	if err != nil {
		panic(err)
	}
	srv, err := server.New(server.Options{
		Shares: []server.Share{
			{Name: "disk", FS: pt},
			{Name: "mem", FS: memfs.New(memfs.Options{})},
		},
		Guest: true, MapUnknownToGuest: true, Anonymous: true,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		IdleTimeout: 5 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	cside, sside := net.Pipe()
	l := newOneConnListener(sside)
	served := make(chan struct{})
	go func() { srv.Serve(l); close(served) }()
	c := &serverClient{nc: cside, frames: make(chan []byte, 64), closed: make(chan struct{}), timeout: 3 * time.Second}
	go c.readLoop()

	share := "disk"
	if data[0]&1 != 0 {
		share = "mem"
	}
	if err := c.handshake(share); err != nil {
		panic("handshake: " + err.Error())
	}
	rest := data[1:]
	records := 0
	for len(rest) >= 3 && records < 64 {
		flags := rest[0]
		n := int(binary.LittleEndian.Uint16(rest[1:]))
		rest = rest[3:]
		if n > len(rest) {
			n = len(rest)
		}
		rec := rest[:n]
		rest = rest[n:]
		records++
		if flags&rawBytes != 0 {
			c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
			if _, err := c.nc.Write(rec); err != nil {
				break
			}
			continue
		}
		msg, mids := c.fixup(flags, rec)
		if len(msg) == 0 {
			continue
		}
		if err := c.send(msg); err != nil {
			break // the server closed the connection
		}
		if err := c.await(mids); err != nil {
			panic(err.Error())
		}
	}

	cside.Close()
	down := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		srv.Shutdown(ctx)
		cancel()
		l.Close()
		<-served
		<-c.closed
		close(down)
	}()
	select {
	case <-down:
	case <-time.After(10 * time.Second):
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("Shutdown does not return 10 s after the client left (its context ended after 3 s)\n%s", buf[:runtime.Stack(buf, true)]))
	}
	pt.Close()

	// no goroutine left behind (allow the runtime's and the test framework's own some slack)
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			panic(fmt.Sprintf("goroutine leak: %d before, %d after\n%s", base, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)]))
		}
		time.Sleep(5 * time.Millisecond)
	}

	// nothing outside the share
	entries, _ := os.ReadDir(root)
	if len(entries) != 2 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		panic(fmt.Sprintf("files appeared beside the share: %v", names))
	}
	if b, err := os.ReadFile(sentinel); err != nil || string(b) != "sentinel" {
		panic(fmt.Sprintf("the sentinel beside the share changed: %q %v", b, err))
	}
	if st, err := os.Stat(sentinel); err != nil || !st.ModTime().Equal(sentinelInfo.ModTime()) || st.Mode() != sentinelInfo.Mode() {
		panic("the sentinel beside the share was touched")
	}
	return 1
}
