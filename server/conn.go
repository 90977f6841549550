package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/protocol/smb2"
)

func errorf(format string, args ...any) error { return fmt.Errorf("server: "+format, args...) }

// errDisconnect asks the loop to drop the connection (protocol violations).
type errDisconnect struct{ why string }

func (e errDisconnect) Error() string { return "disconnect: " + e.why }

func disconnect(format string, args ...any) error {
	return errDisconnect{fmt.Sprintf(format, args...)}
}

// conn is one client connection. Its loop goroutine reads, processes and answers the
// requests in order; asynchronous operations run in goroutines of their own and write
// their final responses under wmu.
type conn struct {
	srv    *Server
	nc     net.Conn
	br     *bufio.Reader
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	// Negotiated state (written by the loop before any goroutine reads it).
	negotiated     bool
	wildcard       bool // answered a multi-protocol negotiate with 2.???
	dialect        smb2.Dialect
	clientGuid     dtyp.GUID
	clientCaps     smb2.Capabilities
	clientSecMode  smb2.SecurityMode
	clientDialects []smb2.Dialect
	serverSecMode  smb2.SecurityMode
	serverCaps     smb2.Capabilities
	cipher         smb2.CipherId // 0: none negotiated
	signAlg        smb2.SigningAlgorithm
	preauth        smb3.PreauthHash // Connection.PreauthIntegrityHashValue (3.1.1)
	maxRead        int
	maxWrite       int
	maxTransact    int

	credits creditWindow

	mu       sync.Mutex // sessions, asyncs
	sessions map[uint64]*session
	asyncs   map[uint64]*asyncOp // by AsyncId
	asyncSeq uint64
	asyncWG  sync.WaitGroup

	wmu     sync.Mutex // writes to nc
	closing atomic.Bool
	lastRx  atomic.Int64

	// Loop-only state.
	rbuf    []byte
	wbuf    []byte
	scratch []byte
	msgs    smb2.Messages
	call    smb2.Call
	hdr     smb2.Header
	errResp smb2.ErrorResponse
	cur     reqState
	cmp     compoundState
	started []*asyncOp // went asynchronous in the frame being answered
}

const (
	smallBuf  = 64 << 10 // buffers up to this size stay with the connection
	frameSlop = 4096
)

var bigBufs sync.Pool // *[]byte of at least smallBuf

func getBig(n int) []byte {
	if p, ok := bigBufs.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n, n+smb3.TransformSlack+smb3.TransformHeaderSize)
}

func putBig(b []byte) {
	if cap(b) > smallBuf {
		b = b[:0]
		bigBufs.Put(&b)
	}
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv:      s,
		nc:       nc,
		ctx:      ctx,
		cancel:   cancel,
		log:      s.log.With("remote", nc.RemoteAddr().String()),
		credits:  newCreditWindow(s.opts.MaxCredits),
		sessions: make(map[uint64]*session),
		asyncs:   make(map[uint64]*asyncOp),
	}
	c.br = bufio.NewReaderSize(nc, 4096)
	return c
}

// stopReading makes the loop stop after the request it is processing.
func (c *conn) stopReading() {
	c.closing.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// abort closes the socket at once.
func (c *conn) abort() {
	c.closing.Store(true)
	c.cancel()
	c.nc.Close()
}

func (c *conn) serve() {
	c.log.Info("connection")
	started := time.Now()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic", "panic", r)
		}
		c.teardown()
		c.log.Info("connection closed", "dialect", c.dialect, "duration", time.Since(started).Round(time.Millisecond))
	}()
	for {
		frame, err := c.readFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !c.closing.Load() {
				c.log.Debug("read", "err", err)
			}
			return
		}
		c.srv.stats.Requests.Add(1)
		err = c.handleFrame(frame)
		if cap(frame) > smallBuf {
			putBig(frame)
		}
		if err != nil {
			c.log.Debug("dropping connection", "err", err)
			return
		}
		if c.closing.Load() {
			return
		}
		if cap(c.wbuf) > smallBuf {
			putBig(c.wbuf)
			c.wbuf = nil
		}
		if cap(c.scratch) > smallBuf {
			putBig(c.scratch)
			c.scratch = nil
		}
	}
}

// teardown cancels the asynchronous operations, waits for them, and closes every session.
func (c *conn) teardown() {
	c.closing.Store(true)
	c.cancel()
	c.asyncWG.Wait()
	c.mu.Lock()
	sessions := make([]*session, 0, len(c.sessions))
	for _, s := range c.sessions {
		sessions = append(sessions, s)
	}
	c.sessions = map[uint64]*session{}
	c.mu.Unlock()
	for _, s := range sessions {
		s.destroy(true) // the durable opens survive the connection
	}
	c.nc.Close()
}

// readFrame reads one Direct-TCP message (MS-SMB2 2.1): a zero byte, a 24-bit big-endian
// length, the message. The result aliases c.rbuf or a pooled buffer.
func (c *conn) readFrame() ([]byte, error) {
	var h [4]byte
	for {
		deadline := time.Time{}
		if c.idleLimited() {
			deadline = time.Now().Add(c.srv.opts.IdleTimeout)
		}
		c.nc.SetReadDeadline(deadline)
		if c.closing.Load() {
			c.nc.SetReadDeadline(time.Now()) // Shutdown raced with the line above
		}
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !c.closing.Load() {
				return nil, errors.New("idle timeout")
			}
			return nil, err
		}
		if h[0] == 0x85 { // NetBIOS keep-alive
			continue
		}
		if h[0] != 0 {
			return nil, fmt.Errorf("not a Direct-TCP message (type %#x)", h[0])
		}
		break
	}
	n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	if n < 4 || n > c.srv.opts.MaxMessageSize {
		return nil, fmt.Errorf("message of %d bytes", n)
	}
	var b []byte
	if n+smb3.TransformSlack <= smallBuf {
		if cap(c.rbuf) < n+smb3.TransformSlack {
			size := 4096
			for size < n+smb3.TransformSlack {
				size *= 2
			}
			c.rbuf = make([]byte, size)
		}
		b = c.rbuf[:n]
	} else {
		b = getBig(n + smb3.TransformSlack)[:n]
	}
	c.nc.SetReadDeadline(time.Now().Add(60 * time.Second)) // the rest of a started message
	if _, err := io.ReadFull(c.br, b); err != nil {
		return nil, err
	}
	c.lastRx.Store(time.Now().UnixNano())
	return b, nil
}

// idleLimited reports whether the connection has no session and so may be closed when idle.
func (c *conn) idleLimited() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions) == 0
}

// writeFrame sends msg, which starts with 4 bytes of room for the Direct-TCP header.
func (c *conn) writeFrame(msg []byte) error {
	n := len(msg) - 4
	if n > 1<<24-1 {
		return errors.New("response too large")
	}
	binary.BigEndian.PutUint32(msg, uint32(n))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(60 * time.Second))
	_, err := c.nc.Write(msg)
	if err != nil {
		c.nc.Close()
	}
	return err
}
