package server

import (
	"context"
	"encoding/binary"
	"net"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/protocol/crypto/smb3"
	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server/ntfs"
)

// maxAsyncPerConn bounds the requests of a connection that wait asynchronously.
const maxAsyncPerConn = 512

// lockWait is how long a blocking LOCK may take before the server answers STATUS_PENDING.
const lockWait = 10 * time.Millisecond

// asyncOp is a request that may complete later (MS-SMB2 3.3.4.2): it runs in a goroutine
// with its own copy of the request; the loop answers STATUS_PENDING with AsyncId when it
// does not finish within its wait, and the goroutine sends the final response.
type asyncOp struct {
	c         *conn
	id        uint64
	hdr       smb2.Header
	sess      *session
	tree      *tree
	encSess   *session
	signWith  *session
	msg       []byte // copy of the request, its header at 0
	r         ntfs.Req
	ctx       context.Context
	cancel    context.CancelFunc
	cancelled atomic.Bool // by CANCEL: the request completes with STATUS_CANCELLED
	cleanup   atomic.Bool // its tree, session or connection went away
	done      chan struct{}
	status    ntstatus.Status
	body      smb2.Body
}

// goAsync runs fn in a goroutine. When it completes within wait the result is the
// request's response; otherwise the request goes asynchronous.
func (c *conn) goAsync(wait time.Duration, fn func(a *asyncOp) (ntstatus.Status, smb2.Body)) ntstatus.Status {
	c.mu.Lock()
	n := len(c.asyncs)
	c.mu.Unlock()
	if n >= maxAsyncPerConn {
		// Each interim response returns the request's credits, so pending requests need
		// their own bound.
		return ntstatus.StatusInsufficientResources
	}
	a := &asyncOp{
		c:        c,
		hdr:      c.hdr,
		sess:     c.cur.sess,
		tree:     c.cur.tree,
		signWith: c.cur.signWith,
		msg:      append([]byte(nil), c.cur.msg...),
		done:     make(chan struct{}),
	}
	if c.cur.encrypted {
		a.encSess = c.cur.sess
	}
	a.ctx, a.cancel = context.WithCancel(c.ctx)
	a.r = c.cur.r
	a.r.Ctx = a.ctx
	a.r.Buf = nil
	c.mu.Lock()
	c.asyncSeq++
	a.id = c.asyncSeq
	c.asyncs[a.id] = a
	c.mu.Unlock()
	c.asyncWG.Add(1)
	go func() {
		st, body := fn(a)
		switch {
		case a.cancelled.Load() && smb2.IsErrorResponse(a.hdr.Command, st):
			st = ntstatus.StatusCancelled
		case a.cleanup.Load() && a.hdr.Command == smb2.CommandChangeNotify:
			// The handle was closed under the watch (MS-SMB2 3.3.5.19: STATUS_NOTIFY_CLEANUP).
			st, body = ntstatus.StatusNotifyCleanup, nil
		}
		a.status, a.body = st, body
		close(a.done)
	}()
	finished := false
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-a.done:
			finished = true
		case <-t.C:
		}
		t.Stop()
	} else {
		select {
		case <-a.done:
			finished = true
		default:
		}
	}
	if finished {
		c.forget(a)
		c.asyncWG.Done()
		c.cur.syncBody = a.body
		c.cur.r.ErrorData = a.r.ErrorData
		c.cur.r.BodyOnError = a.r.BodyOnError
		return a.status
	}
	c.cur.async = a
	return ntstatus.StatusPending
}

func (c *conn) forget(a *asyncOp) {
	c.mu.Lock()
	delete(c.asyncs, a.id)
	c.mu.Unlock()
}

// start is called once the interim response has been sent: the goroutine waits for the
// result and sends the final response.
func (a *asyncOp) start() {
	go func() {
		defer a.c.asyncWG.Done()
		<-a.done
		a.c.forget(a)
		if a.c.closing.Load() && a.c.ctx.Err() != nil {
			return
		}
		if err := a.sendFinal(); err != nil {
			a.c.log.Debug("async response", "err", err)
		}
	}()
}

func (a *asyncOp) sendFinal() error {
	c := a.c
	st, body := a.status, a.body
	if body != nil && smb2.IsErrorResponse(a.hdr.Command, st) && !a.r.BodyOnError {
		body = nil
	}
	b := make([]byte, outHeadroom, outHeadroom+256)
	start := len(b)
	rh := smb2.Header{
		CreditCharge: a.hdr.CreditCharge,
		Status:       st,
		Command:      a.hdr.Command,
		Flags:        smb2.FlagsServerToRedir | smb2.FlagsAsyncCommand,
		MessageId:    a.hdr.MessageId,
		AsyncId:      a.id,
		SessionId:    a.sess.id,
	}
	b, _ = rh.Append(b)
	var err error
	if body != nil {
		if b, err = body.Append(b, start); err != nil {
			return err
		}
	} else {
		b = appendErrorBody(b, start, c.dialect, a.r.ErrorData)
	}
	if a.encSess != nil {
		b = append(b, make([]byte, smb3.TransformSlack)...)[:len(b)]
		if err := a.encSess.enc.Seal(b[4:], a.encSess.id); err != nil {
			return err
		}
		return c.writeFrame(b)
	}
	if a.signWith != nil && a.signWith.signer != nil {
		if err := a.signWith.signer.Sign(b[start:]); err != nil {
			return err
		}
	}
	return c.writeFrame(b[start-4:])
}

// Cancel handles SMB2 CANCEL (MS-SMB2 3.3.5.16): no response; the cancelled request
// completes with STATUS_CANCELLED.
func (c *conn) Cancel(call *smb2.Call, req *smb2.CancelRequest) ntstatus.Status {
	h := call.Header
	c.cur.noResponse = true
	c.mu.Lock()
	var target *asyncOp
	if h.Flags.Has(smb2.FlagsAsyncCommand) {
		target = c.asyncs[h.AsyncId]
	} else {
		for _, a := range c.asyncs {
			if a.hdr.MessageId == h.MessageId {
				target = a
				break
			}
		}
	}
	c.mu.Unlock()
	if target != nil && (target.sess == nil || target.sess.id == h.SessionId || h.SessionId == 0) {
		target.cancelled.Store(true)
		target.cancel()
	}
	return ntstatus.StatusSuccess
}

// cleanupAsync ends the asynchronous operations match selects because their tree or
// session is going away.
func (c *conn) cleanupAsync(match func(a *asyncOp) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.asyncs {
		if match(a) {
			a.cleanup.Store(true)
			a.cancel()
		}
	}
}

// localInterfaceInfo builds one NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5) for addr.
func localInterfaceInfo(addr net.Addr) ([]byte, ntstatus.Status) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil, ntstatus.StatusNotSupported
	}
	b := make([]byte, 152)
	binary.LittleEndian.PutUint32(b[4:], 1)               // IfIndex
	binary.LittleEndian.PutUint64(b[16:], 10_000_000_000) // LinkSpeed: 10 Gb/s
	sa := b[24:]
	if ip4 := ta.IP.To4(); ip4 != nil {
		binary.LittleEndian.PutUint16(sa, 0x0002)
		copy(sa[4:], ip4)
	} else {
		binary.LittleEndian.PutUint16(sa, 0x0017)
		copy(sa[8:], ta.IP.To16())
	}
	return b, 0
}
